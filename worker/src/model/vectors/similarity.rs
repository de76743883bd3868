//! Word-pair similarity benchmarks (WordSim-353, SimLex-999) scored as gensim's
//! `KeyedVectors.evaluate_word_pairs` does: tab-separated `word word score` lines (`#` lines
//! skipped), case-insensitive lookup in the 300 000 most frequent words, pairs with an
//! unknown word left out and counted in the OOV rate, Spearman and Pearson correlation of
//! the cosine similarities with the human scores.

use std::path::Path;

use super::{cosine, Vectors, RESTRICT_VOCAB};
use crate::model::ModelError;

/// Result of [`evaluate_word_pairs`].
#[derive(Debug, Clone, PartialEq)]
pub struct PairsReport {
    /// Spearman rank correlation (ties get their average rank).
    pub spearman: f64,
    /// Pearson correlation.
    pub pearson: f64,
    /// Pairs scored.
    pub pairs: usize,
    /// Percentage of pairs left out for an unknown word.
    pub oov_percent: f64,
}

fn pearson(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    if x.len() < 2 {
        return f64::NAN;
    }
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    sxy / (sxx.sqrt() * syy.sqrt())
}

/// Ranks from 1, ties sharing their average rank (scipy's `rankdata`).
fn ranks(x: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..x.len()).collect();
    order.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let mut out = vec![0.0; x.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && x[order[j + 1]] == x[order[i]] {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            out[k] = rank;
        }
        i = j + 1;
    }
    out
}

/// Spearman rank correlation of two equally long series.
pub fn spearman(x: &[f64], y: &[f64]) -> f64 {
    pearson(&ranks(x), &ranks(y))
}

/// One line of a word-pair file: two words and the human similarity score.
#[derive(Debug, Clone, PartialEq)]
pub struct GoldPair {
    /// First word, upper-cased as gensim looks it up.
    pub a: String,
    /// Second word, upper-cased.
    pub b: String,
    /// Human similarity.
    pub score: f64,
}

/// Reads a word-pair file (see the module docs); invalid lines are skipped.
pub fn read_pairs(path: &Path) -> Result<Vec<GoldPair>, ModelError> {
    let text = std::fs::read_to_string(path).map_err(|source| ModelError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut out = Vec::new();
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let parts: Vec<&str> = line.split('\t').collect();
        let parsed = (parts.len() >= 3)
            .then(|| parts[2].trim().parse::<f64>().ok())
            .flatten();
        let Some(score) = parsed else {
            tracing::debug!(line, "skipping invalid line");
            continue;
        };
        out.push(GoldPair {
            a: parts[0].to_uppercase(),
            b: parts[1].to_uppercase(),
            score,
        });
    }
    Ok(out)
}

/// The cosine of each pair's two vectors; `None` when either word is out of vocabulary.
pub fn pair_cosines(vectors: &Vectors, pairs: &[GoldPair]) -> Vec<Option<f64>> {
    let index = vectors.upper_index(RESTRICT_VOCAB);
    pairs
        .iter()
        .map(|p| match (index.get(&p.a), index.get(&p.b)) {
            (Some(&i), Some(&j)) => Some(cosine(vectors.row(i), vectors.row(j))),
            _ => None,
        })
        .collect()
}

/// Scores `vectors` on a word-pair file (see the module docs).
pub fn evaluate_word_pairs(vectors: &Vectors, path: &Path) -> Result<PairsReport, ModelError> {
    let (gold, model, oov) = scored_pairs(vectors, path)?;
    let total = gold.len() + oov;
    Ok(PairsReport {
        spearman: spearman(&gold, &model),
        pearson: pearson(&gold, &model),
        pairs: gold.len(),
        oov_percent: if total == 0 {
            0.0
        } else {
            100.0 * oov as f64 / total as f64
        },
    })
}

/// The known pairs of a word-pair file: human scores, cosines, and the unknown pairs' count.
pub(crate) fn scored_pairs(
    vectors: &Vectors,
    path: &Path,
) -> Result<(Vec<f64>, Vec<f64>, usize), ModelError> {
    let pairs = read_pairs(path)?;
    let (mut gold, mut model, mut oov) = (Vec::new(), Vec::new(), 0usize);
    for (p, c) in pairs.iter().zip(pair_cosines(vectors, &pairs)) {
        match c {
            Some(c) => {
                gold.push(p.score);
                model.push(c);
            }
            None => oov += 1,
        }
    }
    Ok((gold, model, oov))
}
