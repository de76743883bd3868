//! Word vectors as users take them out of a node: a word list with one `f32` row each, saved
//! in word2vec text format (what gensim's `KeyedVectors.load_word2vec_format` reads) or in
//! finalfusion format, and evaluated as gensim evaluates them.

mod analogy;
mod bootstrap;
mod export;
mod intervals;
mod scores;
mod similarity;
mod table;

#[cfg(test)]
mod tests;

use std::collections::HashMap;

pub use analogy::{evaluate_word_analogies, AnalogyReport};
pub use bootstrap::{covered, paired_bootstrap, Estimate, RowCosines, RESAMPLES};
pub use export::{load_word2vec_text, save_finalfusion, save_word2vec_text, Format};
pub use intervals::{bootstrap, Interval, ScoredIntervals};
pub use scores::Scores;
pub use similarity::{
    evaluate_word_pairs, pair_cosines, read_pairs, spearman, GoldPair, PairsReport,
};
pub use table::{PairCounts, ScoreTable, TableDiff, TableRow};

use super::ModelError;

/// Words (most frequent first, as trained) and their vectors, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Vectors {
    words: Vec<String>,
    dim: usize,
    data: Vec<f32>,
}

impl Vectors {
    /// Vectors of `words` from a row-major table of `words.len() * dim` values.
    pub fn new(words: Vec<String>, dim: usize, data: Vec<f32>) -> Result<Vectors, ModelError> {
        if dim == 0 || data.len() != words.len() * dim {
            return Err(ModelError::Shape {
                what: "vector table".into(),
                expected: vec![words.len() as i64, dim as i64],
                got: vec![data.len() as i64],
            });
        }
        if data.iter().any(|x| !x.is_finite()) {
            return Err(ModelError::NotFinite {
                what: "vector table".into(),
            });
        }
        Ok(Vectors { words, dim, data })
    }

    /// The vectors of a vocabulary's words from a `[vocab * dim]` table, leaving out the
    /// `<unk>` row (id 0), which is not a word.
    pub fn from_vocab(
        vocab_words: &[String],
        dim: usize,
        table: &[f32],
    ) -> Result<Vectors, ModelError> {
        if table.len() != vocab_words.len() * dim || vocab_words.is_empty() {
            return Err(ModelError::Shape {
                what: "vector table".into(),
                expected: vec![vocab_words.len() as i64, dim as i64],
                got: vec![table.len() as i64],
            });
        }
        Vectors::new(vocab_words[1..].to_vec(), dim, table[dim..].to_vec())
    }

    /// The vectors of the vocabulary's words that have a count in `counts` (a node's own
    /// counts): words it never saw are left out, so evaluation reports them out of
    /// vocabulary instead of scoring their random rows.
    pub fn from_vocab_seen(
        vocab_words: &[String],
        dim: usize,
        table: &[f32],
        counts: &[u64],
    ) -> Result<Vectors, ModelError> {
        let all = Vectors::from_vocab(vocab_words, dim, table)?;
        let keep: Vec<usize> = (0..all.words.len())
            .filter(|&i| counts.get(i + 1).is_some_and(|&c| c > 0))
            .collect();
        let words = keep.iter().map(|&i| all.words[i].clone()).collect();
        let data = keep.iter().flat_map(|&i| all.row(i).to_vec()).collect();
        Vectors::new(words, dim, data)
    }

    /// The words, in row order.
    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// Vector dimension.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Row `i`.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }

    /// Rows scaled to unit length (zero rows stay zero), for cosine similarity.
    pub fn unit_rows(&self) -> Vec<f32> {
        let mut out = self.data.clone();
        for row in out.chunks_exact_mut(self.dim) {
            let norm = row
                .iter()
                .map(|x| (*x as f64) * (*x as f64))
                .sum::<f64>()
                .sqrt();
            if norm > 0.0 {
                row.iter_mut().for_each(|x| *x = (*x as f64 / norm) as f32);
            }
        }
        out
    }

    /// Case-insensitive index over the first `restrict` words, as gensim builds it: upper-cased
    /// keys, the most frequent spelling winning.
    pub(crate) fn upper_index(&self, restrict: usize) -> HashMap<String, usize> {
        let mut index = HashMap::new();
        for (i, w) in self.words.iter().enumerate().take(restrict).rev() {
            index.insert(w.to_uppercase(), i);
        }
        index
    }
}

/// gensim's `restrict_vocab` default: only the 300 000 most frequent words take part.
pub const RESTRICT_VOCAB: usize = 300_000;

/// Cosine of two rows (0 for a zero row).
pub(crate) fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let (mut ab, mut aa, mut bb) = (0f64, 0f64, 0f64);
    for (x, y) in a.iter().zip(b) {
        let (x, y) = (*x as f64, *y as f64);
        ab += x * y;
        aa += x * x;
        bb += y * y;
    }
    if aa == 0.0 || bb == 0.0 {
        0.0
    } else {
        ab / (aa.sqrt() * bb.sqrt())
    }
}
