//! Word2vec hyper-parameters. Their defaults are gensim's `Word2Vec` defaults with `sg=1`
//! (skip-gram), except the subsampling threshold and the starting rate, chosen on data:
//! `sample` 1e-4 and `alpha` 0.075 scored best on `wiki.txt` and the first half of GCIDE
//! and beat gensim's 1e-3 and 0.025 on its second half (docs/embeddings.md, "Defaults").

use crate::model::ModelError;

/// Hyper-parameters of a word2vec training run (see [`W2vParams::default`]).
#[derive(Debug, Clone, PartialEq)]
pub struct W2vParams {
    /// Embedding dimension.
    pub dim: usize,
    /// Largest distance between a word and a context word (shrunk at random per position).
    pub window: usize,
    /// Negative samples per (word, context) pair.
    pub negatives: usize,
    /// Words seen fewer times than this are dropped from the vocabulary.
    pub min_count: u64,
    /// Frequent-word subsampling threshold (0 = off).
    pub sample: f64,
    /// Learning rate at the start ...
    pub alpha: f64,
    /// ... decaying linearly to this at the end of the last epoch.
    pub min_alpha: f64,
    /// Passes over the corpus.
    pub epochs: usize,
    /// Exponent of the negative-sampling distribution (unigram^0.75).
    pub ns_exponent: f64,
    /// Seed of initialisation, window shrink, subsampling and negatives.
    pub seed: u64,
}

impl Default for W2vParams {
    fn default() -> Self {
        W2vParams {
            dim: 100,
            window: 5,
            negatives: 5,
            min_count: 5,
            sample: 1e-4,
            alpha: 0.075,
            min_alpha: 0.0001,
            epochs: 5,
            ns_exponent: 0.75,
            seed: 1,
        }
    }
}

impl W2vParams {
    /// Refuses values that cannot train, with a message naming the field.
    pub fn validate(&self) -> Result<(), ModelError> {
        let bad = |m: &str| Err(ModelError::Config(m.to_string()));
        if self.dim == 0 || self.dim > 4096 {
            return bad("dim must be between 1 and 4096");
        }
        if self.window == 0 || self.window > 100 {
            return bad("window must be between 1 and 100");
        }
        if self.negatives == 0 || self.negatives > 100 {
            return bad("negatives must be between 1 and 100");
        }
        if self.epochs == 0 {
            return bad("epochs must be at least 1");
        }
        let finite = |v: f64| v.is_finite() && v >= 0.0;
        if !finite(self.sample) || !finite(self.ns_exponent) {
            return bad("sample and ns_exponent must be finite and non-negative");
        }
        if !(self.alpha.is_finite() && self.alpha > 0.0 && self.alpha < 10.0) {
            return bad("alpha must be in (0, 10)");
        }
        if !(finite(self.min_alpha) && self.min_alpha <= self.alpha) {
            return bad("min_alpha must be in [0, alpha]");
        }
        Ok(())
    }

    /// The learning rate after `progress` (0 to 1) of all epochs' words.
    pub fn alpha_at(&self, progress: f64) -> f32 {
        let p = progress.clamp(0.0, 1.0);
        (self.alpha - (self.alpha - self.min_alpha) * p).max(self.min_alpha) as f32
    }
}
