//! Google analogy questions (`a b c d`: a is to b as c is to d) scored as gensim's
//! `KeyedVectors.evaluate_word_analogies` does: 3CosAdd over unit vectors
//! (`argmax cos(x, b - a + c)` with a, b, c excluded), case-insensitive, only among the
//! 300 000 most frequent words; questions with an unknown word are left out and counted in
//! the OOV rate.

use std::path::Path;

use super::{Vectors, RESTRICT_VOCAB};
use crate::model::ModelError;

/// Result of [`evaluate_word_analogies`].
#[derive(Debug, Clone, PartialEq)]
pub struct AnalogyReport {
    /// Fraction of the answered questions whose best candidate is the expected word.
    pub accuracy: f64,
    /// Questions answered (all four words known).
    pub questions: usize,
    /// Percentage of questions left out for an unknown word.
    pub oov_percent: f64,
}

/// Scores `vectors` on an analogy file (see the module docs).
pub fn evaluate_word_analogies(
    vectors: &Vectors,
    path: &Path,
) -> Result<AnalogyReport, ModelError> {
    let (outcomes, oov) = analogy_outcomes(vectors, path)?;
    let (answered, total) = (outcomes.len(), outcomes.len() + oov);
    let correct = outcomes.iter().filter(|&&c| c).count();
    Ok(AnalogyReport {
        accuracy: if answered == 0 {
            0.0
        } else {
            correct as f64 / answered as f64
        },
        questions: answered,
        oov_percent: if total == 0 {
            0.0
        } else {
            100.0 * oov as f64 / total as f64
        },
    })
}

/// Whether each answered question of an analogy file was right, and how many had an
/// unknown word.
pub(crate) fn analogy_outcomes(
    vectors: &Vectors,
    path: &Path,
) -> Result<(Vec<bool>, usize), ModelError> {
    let text = std::fs::read_to_string(path).map_err(|source| ModelError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let restrict = vectors.words().len().min(RESTRICT_VOCAB);
    let index = vectors.upper_index(restrict);
    let unit = vectors.unit_rows();
    let d = vectors.dim();
    let (mut outcomes, mut oov) = (Vec::new(), 0usize);
    let mut query = vec![0f32; d];
    for line in text.lines() {
        if line.starts_with(": ") || line.trim().is_empty() {
            continue;
        }
        let words: Vec<String> = line.split_whitespace().map(str::to_uppercase).collect();
        if words.len() != 4 {
            tracing::debug!(line, "skipping invalid line");
            continue;
        }
        let ids: Option<Vec<usize>> = words.iter().map(|w| index.get(w).copied()).collect();
        let Some(ids) = ids else {
            oov += 1;
            continue;
        };
        let (a, b, c, expected) = (ids[0], ids[1], ids[2], ids[3]);
        for (k, q) in query.iter_mut().enumerate() {
            *q = unit[b * d + k] + unit[c * d + k] - unit[a * d + k];
        }
        let mut best = (f32::NEG_INFINITY, usize::MAX);
        for (i, row) in unit.chunks_exact(d).take(restrict).enumerate() {
            if i == a || i == b || i == c {
                continue;
            }
            let s = crate::model::w2v::dot(row, &query);
            if s > best.0 {
                best = (s, i);
            }
        }
        outcomes.push(best.1 == expected);
    }
    Ok((outcomes, oov))
}
