//! A table of models scored together on WordSim-353 and SimLex-999 with paired bootstrap
//! 95 % intervals (see [`super::bootstrap`]): every row and every difference from the same
//! resamples of the same pairs; printed for people and as one JSON line for scripts.

use std::fmt;
use std::path::Path;

use super::{pair_cosines, paired_bootstrap, read_pairs, Estimate, RowCosines, Vectors, RESAMPLES};
use crate::model::ModelError;

/// Pairs scored per benchmark.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct PairCounts {
    /// WordSim-353 pairs.
    pub wordsim: usize,
    /// SimLex-999 pairs.
    pub simlex: usize,
}

/// One model's scores (the mean over its members, e.g. the nodes of a network).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TableRow {
    /// Row name.
    pub model: String,
    /// WordSim-353 Spearman.
    pub wordsim: f64,
    /// Its 95 % interval.
    pub wordsim_ci: [f64; 2],
    /// SimLex-999 Spearman.
    pub simlex: f64,
    /// Its 95 % interval.
    pub simlex_ci: [f64; 2],
    /// Pairs scored (those every member covers).
    pub pairs: PairCounts,
}

/// The difference `a - b` of two rows on the pairs both cover.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TableDiff {
    /// Minuend row.
    pub a: String,
    /// Subtrahend row.
    pub b: String,
    /// WordSim-353 difference.
    pub wordsim: f64,
    /// Its 95 % interval.
    pub wordsim_ci: [f64; 2],
    /// SimLex-999 difference.
    pub simlex: f64,
    /// Its 95 % interval.
    pub simlex_ci: [f64; 2],
    /// Pairs both rows cover.
    pub pairs: PairCounts,
}

/// Rows and differences of one run.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ScoreTable {
    /// One per model.
    pub rows: Vec<TableRow>,
    /// The requested differences.
    pub diffs: Vec<TableDiff>,
}

impl ScoreTable {
    /// Scores `rows` (name, members) and the differences named in `diffs`; deterministic per
    /// `seed`. Unknown names in `diffs` are refused.
    pub fn score(
        rows: &[(String, Vec<Vectors>)],
        diffs: &[(&str, &str)],
        wordsim: &Path,
        simlex: &Path,
        seed: u64,
    ) -> Result<ScoreTable, ModelError> {
        let find = |name: &str| {
            rows.iter()
                .position(|(n, _)| n == name)
                .ok_or_else(|| ModelError::Config(format!("no row named {name}")))
        };
        let pairs_idx: Vec<(usize, usize)> = diffs
            .iter()
            .map(|(a, b)| Ok((find(a)?, find(b)?)))
            .collect::<Result<_, ModelError>>()?;
        let mut per_set = Vec::new();
        for path in [wordsim, simlex] {
            let gold_pairs = read_pairs(path)?;
            let gold: Vec<f64> = gold_pairs.iter().map(|p| p.score).collect();
            let cos: Vec<RowCosines> = rows
                .iter()
                .map(|(_, members)| {
                    members
                        .iter()
                        .map(|v| pair_cosines(v, &gold_pairs))
                        .collect()
                })
                .collect();
            per_set.push(paired_bootstrap(&gold, &cos, &pairs_idx, RESAMPLES, seed));
        }
        let (ws, sl) = (&per_set[0], &per_set[1]);
        let counts = |a: &Estimate, b: &Estimate| PairCounts {
            wordsim: a.pairs,
            simlex: b.pairs,
        };
        Ok(ScoreTable {
            rows: rows
                .iter()
                .enumerate()
                .map(|(r, (name, _))| TableRow {
                    model: name.clone(),
                    wordsim: ws.0[r].value,
                    wordsim_ci: ws.0[r].ci,
                    simlex: sl.0[r].value,
                    simlex_ci: sl.0[r].ci,
                    pairs: counts(&ws.0[r], &sl.0[r]),
                })
                .collect(),
            diffs: diffs
                .iter()
                .enumerate()
                .map(|(d, (a, b))| TableDiff {
                    a: a.to_string(),
                    b: b.to_string(),
                    wordsim: ws.1[d].value,
                    wordsim_ci: ws.1[d].ci,
                    simlex: sl.1[d].value,
                    simlex_ci: sl.1[d].ci,
                    pairs: counts(&ws.1[d], &sl.1[d]),
                })
                .collect(),
        })
    }

    /// The one JSON line scripts read.
    pub fn json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }
}

fn cell(v: f64, ci: [f64; 2]) -> String {
    format!("{v:+.3} [{:+.3}, {:+.3}]", ci[0], ci[1])
}

impl fmt::Display for ScoreTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "| {:<14} | {:^24} | {:^24} | {:>11} |",
            "model", "WordSim-353 (95% CI)", "SimLex-999 (95% CI)", "pairs ws/sl"
        )?;
        writeln!(f, "|{:-<16}|{:-<26}|{:-<26}|{:-<13}|", "", "", "", "")?;
        for r in &self.rows {
            writeln!(
                f,
                "| {:<14} | {:^24} | {:^24} | {:>5}/{:<5} |",
                r.model,
                cell(r.wordsim, r.wordsim_ci),
                cell(r.simlex, r.simlex_ci),
                r.pairs.wordsim,
                r.pairs.simlex
            )?;
        }
        for d in &self.diffs {
            let noise = |ci: [f64; 2]| {
                if ci[0] <= 0.0 && ci[1] >= 0.0 {
                    " (noise)"
                } else {
                    ""
                }
            };
            writeln!(
                f,
                "{} - {}: WordSim {}{}, SimLex {}{} (on {}/{} common pairs)",
                d.a,
                d.b,
                cell(d.wordsim, d.wordsim_ci),
                noise(d.wordsim_ci),
                cell(d.simlex, d.simlex_ci),
                noise(d.simlex_ci),
                d.pairs.wordsim,
                d.pairs.simlex
            )?;
        }
        Ok(())
    }
}
