//! The plain model: word2vec.c's skip-gram with negative sampling. For each position, the
//! window is shrunk by a random `b`; each context word's input vector predicts the centre
//! word against `negatives` draws from the unigram^0.75 table; the context table is updated
//! per pair and the input vector once per pair, as word2vec.c and gensim do.

use super::math::{self, SigmoidTable};
use super::sampling::{Lcg, NegativeTable};
use super::W2vParams;
use crate::model::ModelError;

/// Input vectors (`syn0`, what is exported) and context vectors (`syn1neg`), row-major.
#[derive(Clone)]
pub struct Word2Vec {
    /// Vocabulary size (rows), `<unk>` included.
    pub vocab: usize,
    /// Dimension (columns).
    pub dim: usize,
    /// Input (word) vectors `[vocab * dim]`.
    pub syn0: Vec<f32>,
    /// Context vectors `[vocab * dim]`.
    pub syn1neg: Vec<f32>,
    pub(super) negatives: usize,
    pub(super) window: usize,
    pub(super) table: NegativeTable,
    pub(super) sigmoid: SigmoidTable,
    pub(super) neu1e: Vec<f32>,
}

/// word2vec.c's initialisation: input rows uniform in `[-0.5/dim, 0.5/dim)`, context zero.
pub(super) fn init_rows(vocab: usize, dim: usize, rng: &mut Lcg) -> Vec<f32> {
    (0..vocab * dim)
        .map(|_| (rng.unit() - 0.5) / dim as f32)
        .collect()
}

impl Word2Vec {
    /// A fresh model for a vocabulary with these per-id counts (`counts[0]` is `<unk>`).
    pub fn new(counts: &[u64], params: &W2vParams) -> Result<Word2Vec, ModelError> {
        params.validate()?;
        if counts.len() < 2 {
            return Err(ModelError::Config(
                "the vocabulary has no words beside <unk>".into(),
            ));
        }
        let (vocab, dim) = (counts.len(), params.dim);
        let mut rng = Lcg::new(params.seed);
        Ok(Word2Vec {
            vocab,
            dim,
            syn0: init_rows(vocab, dim, &mut rng),
            syn1neg: vec![0.0; vocab * dim],
            negatives: params.negatives,
            window: params.window,
            table: NegativeTable::new(counts, params.ns_exponent),
            sigmoid: SigmoidTable::default(),
            neu1e: vec![0.0; dim],
        })
    }

    /// Row `id` of the input vectors.
    pub fn vector(&self, id: usize) -> &[f32] {
        &self.syn0[id * self.dim..(id + 1) * self.dim]
    }

    /// Trains on one subsampled sentence (ids in `1..vocab`) at rate `alpha`; returns
    /// (pairs trained, summed loss).
    pub fn train_sentence(&mut self, sentence: &[u32], alpha: f32, rng: &mut Lcg) -> (u64, f64) {
        let mut job = Job {
            syn0: &mut self.syn0,
            syn1neg: &mut self.syn1neg,
            neu1e: &mut self.neu1e,
            table: &self.table,
            sigmoid: &self.sigmoid,
            dim: self.dim,
            window: self.window,
            negatives: self.negatives,
        };
        skipgram_sentence(&mut job, sentence, alpha, rng)
    }
}

/// The state one sentence of training touches, borrowed from the model.
struct Job<'a> {
    syn0: &'a mut [f32],
    syn1neg: &'a mut [f32],
    neu1e: &'a mut [f32],
    table: &'a NegativeTable,
    sigmoid: &'a SigmoidTable,
    dim: usize,
    window: usize,
    negatives: usize,
}

/// word2vec.c's skip-gram loop over one sentence, compiled for AVX as well as the baseline
/// and picked at run time by the processor's features.
#[multiversion::multiversion(targets("x86_64+avx", "x86_64+sse4.1"))]
fn skipgram_sentence(job: &mut Job<'_>, sentence: &[u32], alpha: f32, rng: &mut Lcg) -> (u64, f64) {
    let dim = job.dim;
    let (mut pairs, mut loss) = (0u64, 0f64);
    let n = sentence.len();
    for pos in 0..n {
        let word = sentence[pos] as usize;
        let b = rng.below(job.window);
        let reach = job.window - b;
        let lo = pos.saturating_sub(reach);
        let hi = (pos + reach).min(n - 1);
        for (c, &ctx_word) in sentence.iter().enumerate().take(hi + 1).skip(lo) {
            if c == pos {
                continue;
            }
            let l1 = ctx_word as usize * dim;
            job.neu1e.iter_mut().for_each(|x| *x = 0.0);
            let h = &job.syn0[l1..l1 + dim];
            for d in 0..=job.negatives {
                let (target, label) = if d == 0 {
                    (word, 1.0)
                } else {
                    let t = job.table.draw(rng) as usize;
                    if t == word {
                        continue;
                    }
                    (t, 0.0)
                };
                let l2 = target * dim;
                let ctx = &mut job.syn1neg[l2..l2 + dim];
                loss += math::pair(job.sigmoid, h, ctx, job.neu1e, label, alpha) as f64;
            }
            math::axpy(1.0, job.neu1e, &mut job.syn0[l1..l1 + dim]);
            pairs += 1;
        }
    }
    (pairs, loss)
}
