//! The plain core against gensim and fastText on one text, every row from one run: ours
//! (and, with the reference rows, ours with the defaults when the settings differ from them), the reference trainers
//! with our settings, and the reference trainers with their own defaults, scored together with paired bootstrap intervals. This is how the defaults in
//! [`W2vParams`](crate::model::w2v::W2vParams) are chosen on one part of a corpus and
//! confirmed on another (`--part I/N` takes the I-th of N contiguous parts, by tokens).

use std::path::{Path, PathBuf};

use anyhow::Context;

use super::rows;
use crate::corpus::{write_shards, Corpus};
use crate::model::vectors::{ScoreTable, Vectors};
use crate::model::w2v::W2vParams;

/// What [`compare`] runs.
#[derive(Debug, Clone)]
pub struct CompareSettings {
    /// The corpus file.
    pub corpus: PathBuf,
    /// Its part `(index, count)`: contiguous, by tokens, lines kept; `(0, 1)` = all.
    pub part: (usize, usize),
    /// Train on this many tokens of the part (its prefix); None = all.
    pub max_tokens: Option<usize>,
    /// Our settings.
    pub params: W2vParams,
    /// WordSim-353 file.
    pub wordsim: PathBuf,
    /// SimLex-999 file.
    pub simlex: PathBuf,
    /// Python with gensim (None = our row only).
    pub python: Option<PathBuf>,
}

/// The differences a comparison reports.
const DIFFS: [(&str, &str); 3] = [
    ("ours", "ours_defaults"),
    ("ours", "gensim"),
    ("ours", "fasttext"),
];

/// Parses `I/N` (1-based index, as people count parts) into `(I - 1, N)`.
pub fn parse_part(text: &str) -> anyhow::Result<(usize, usize)> {
    let (i, n) = text
        .split_once('/')
        .and_then(|(i, n)| Some((i.parse::<usize>().ok()?, n.parse::<usize>().ok()?)))
        .filter(|&(i, n)| n >= 1 && (1..=n).contains(&i))
        .with_context(|| format!("--part {text:?} is not I/N with 1 <= I <= N"))?;
    Ok((i - 1, n))
}

/// The text a comparison trains on, written into `dir`: the part, then its prefix.
fn cut(s: &CompareSettings, dir: &Path) -> anyhow::Result<PathBuf> {
    let (index, count) = s.part;
    let part = if count > 1 {
        let (_, parts) = write_shards(&s.corpus, None, count, &dir.join("parts"))?;
        parts[index].clone()
    } else {
        s.corpus.clone()
    };
    let (prefix, _) = write_shards(&part, s.max_tokens, 1, &dir.join("prefix"))?;
    Ok(prefix)
}

/// Trains and scores the rows (see the module docs); returns the text's size and the table.
pub fn compare(s: &CompareSettings) -> anyhow::Result<(usize, ScoreTable)> {
    s.params.validate().map_err(anyhow::Error::msg)?;
    let dir = std::env::temp_dir().join(format!("bittensor-compare-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let result = compare_in(s, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn compare_in(s: &CompareSettings, dir: &Path) -> anyhow::Result<(usize, ScoreTable)> {
    let text = cut(s, dir)?;
    let corpus = Corpus::load_with(&text, s.params.min_count, usize::MAX)?;
    tracing::info!(tokens = corpus.ids.len(), vocab = corpus.vocab.len() - 1, params = ?s.params, "training ours");
    let mut table: Vec<(String, Vec<Vectors>)> =
        vec![("ours".into(), vec![rows::centralised(&corpus, &s.params)?])];
    let defaults = W2vParams {
        seed: s.params.seed,
        ..W2vParams::default()
    };
    if s.python.is_some() && defaults != s.params {
        tracing::info!(params = ?defaults, "training ours with the defaults");
        table.push((
            "ours_defaults".into(),
            vec![rows::centralised(&corpus, &defaults)?],
        ));
    }
    if let Some(python) = &s.python {
        tracing::info!("training gensim and fastText, ours and their own settings");
        for (name, v) in rows::baselines(python, &text, &s.params, dir)? {
            table.push((name.to_string(), vec![v]));
        }
    }
    let diffs: Vec<(&str, &str)> = DIFFS
        .iter()
        .copied()
        .filter(|(_, b)| table.iter().any(|r| r.0 == *b))
        .collect();
    let scored = ScoreTable::score(&table, &diffs, &s.wordsim, &s.simlex, s.params.seed)?;
    Ok((corpus.ids.len(), scored))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_one_based_and_checked() {
        assert_eq!(parse_part("1/2").unwrap(), (0, 2));
        assert_eq!(parse_part("2/2").unwrap(), (1, 2));
        for bad in ["0/2", "3/2", "1/0", "x", "1-2"] {
            assert!(parse_part(bad).is_err(), "{bad}");
        }
    }
}
