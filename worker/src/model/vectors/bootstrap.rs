//! Paired bootstrap intervals for word-pair scores, so a table says which differences are
//! inside the noise: every row of a table is scored on the same resamples of the evaluation
//! pairs; a row scores only the pairs it covers (pairs with an out-of-vocabulary word are left
//! out, never scored at random), and a difference of two rows is computed on the pairs both
//! cover. A row may have several members (the nodes of a network): its score is the mean of
//! the members' Spearman correlations on the pairs every member covers.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::similarity::spearman;

/// Resamples drawn by default: enough for stable 2.5 % and 97.5 % percentiles.
pub const RESAMPLES: usize = 1000;

/// A score with its percentile-bootstrap 95 % interval.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Estimate {
    /// The score on all the pairs taken into account.
    pub value: f64,
    /// 2.5 % and 97.5 % percentiles over the resamples.
    pub ci: [f64; 2],
    /// Pairs taken into account.
    pub pairs: usize,
}

impl Estimate {
    /// True when the interval holds 0: the difference is inside the noise.
    pub fn holds_zero(&self) -> bool {
        self.ci[0] <= 0.0 && self.ci[1] >= 0.0
    }
}

/// The cosines of one row's members (one `Vec` per member, `None` = out of vocabulary).
pub type RowCosines = Vec<Vec<Option<f64>>>;

/// Pairs every member of a row covers.
pub fn covered(row: &RowCosines) -> Vec<bool> {
    let n = row.first().map_or(0, Vec::len);
    (0..n)
        .map(|i| !row.is_empty() && row.iter().all(|m| m[i].is_some()))
        .collect()
}

/// Mean over members of the Spearman correlation on the pairs `idx` (repeats allowed).
fn score(row: &RowCosines, gold: &[f64], idx: &[usize]) -> f64 {
    if idx.len() < 2 || row.is_empty() {
        return f64::NAN;
    }
    let g: Vec<f64> = idx.iter().map(|&i| gold[i]).collect();
    let total: f64 = row
        .iter()
        .map(|m| {
            let c: Vec<f64> = idx.iter().map(|&i| m[i].unwrap_or(0.0)).collect();
            spearman(&g, &c)
        })
        .sum();
    total / row.len() as f64
}

/// The 2.5 % and 97.5 % percentiles of the finite draws (NaN when none is finite): the one
/// percentile rule of every bootstrap here.
pub(super) fn percentiles(mut v: Vec<f64>) -> [f64; 2] {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return [f64::NAN, f64::NAN];
    }
    v.sort_by(f64::total_cmp);
    let at = |q: f64| v[((q * (v.len() - 1) as f64).round() as usize).min(v.len() - 1)];
    [at(0.025), at(0.975)]
}

/// Scores every row and every difference `rows[a] - rows[b]` with paired bootstrap 95 %
/// intervals (see the module docs); deterministic per `seed`.
pub fn paired_bootstrap(
    gold: &[f64],
    rows: &[RowCosines],
    diffs: &[(usize, usize)],
    resamples: usize,
    seed: u64,
) -> (Vec<Estimate>, Vec<Estimate>) {
    let n = gold.len();
    let cover: Vec<Vec<bool>> = rows.iter().map(covered).collect();
    let both: Vec<Vec<bool>> = diffs
        .iter()
        .map(|&(a, b)| (0..n).map(|i| cover[a][i] && cover[b][i]).collect())
        .collect();
    let pick = |mask: &[bool], idx: &[usize]| -> Vec<usize> {
        idx.iter().copied().filter(|&i| mask[i]).collect()
    };
    let all: Vec<usize> = (0..n).collect();
    let mut row_draws = vec![Vec::with_capacity(resamples); rows.len()];
    let mut diff_draws = vec![Vec::with_capacity(resamples); diffs.len()];
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for _ in 0..resamples {
        let idx: Vec<usize> = (0..n).map(|_| rng.gen_range(0..n.max(1))).collect();
        for (r, row) in rows.iter().enumerate() {
            row_draws[r].push(score(row, gold, &pick(&cover[r], &idx)));
        }
        for (d, &(a, b)) in diffs.iter().enumerate() {
            let on = pick(&both[d], &idx);
            diff_draws[d].push(score(&rows[a], gold, &on) - score(&rows[b], gold, &on));
        }
    }
    let row_est = rows
        .iter()
        .enumerate()
        .map(|(r, row)| {
            let on = pick(&cover[r], &all);
            Estimate {
                value: score(row, gold, &on),
                ci: percentiles(std::mem::take(&mut row_draws[r])),
                pairs: on.len(),
            }
        })
        .collect();
    let diff_est = diffs
        .iter()
        .enumerate()
        .map(|(d, &(a, b))| {
            let on = pick(&both[d], &all);
            Estimate {
                value: score(&rows[a], gold, &on) - score(&rows[b], gold, &on),
                ci: percentiles(std::mem::take(&mut diff_draws[d])),
                pairs: on.len(),
            }
        })
        .collect();
    (row_est, diff_est)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noisy(gold: &[f64], noise: f64, seed: u64) -> Vec<Option<f64>> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        gold.iter()
            .map(|g| Some(g + noise * rng.gen_range(-1.0..1.0)))
            .collect()
    }

    #[test]
    fn intervals_hold_the_score_and_separate_a_clear_difference() {
        let gold: Vec<f64> = (0..300).map(|i| (i % 97) as f64).collect();
        let good = vec![noisy(&gold, 10.0, 1)];
        let bad = vec![noisy(&gold, 200.0, 2)];
        let (rows, diffs) = paired_bootstrap(&gold, &[good, bad], &[(0, 1)], 300, 7);
        for r in &rows {
            assert!(r.ci[0] <= r.value && r.value <= r.ci[1], "{r:?}");
            assert_eq!(r.pairs, 300);
        }
        assert!(rows[0].value > 0.9 && rows[1].value < 0.6, "{rows:?}");
        assert!(diffs[0].ci[0] > 0.0, "{diffs:?}");
        assert!(!diffs[0].holds_zero());
    }

    #[test]
    fn the_same_model_twice_differs_by_exactly_zero() {
        let gold: Vec<f64> = (0..100).map(|i| (i * 7 % 31) as f64).collect();
        let a = vec![noisy(&gold, 20.0, 3)];
        let (_, diffs) = paired_bootstrap(&gold, &[a.clone(), a], &[(0, 1)], 100, 1);
        assert_eq!(diffs[0].value, 0.0);
        assert_eq!(diffs[0].ci, [0.0, 0.0]);
        assert!(diffs[0].holds_zero());
    }

    #[test]
    fn out_of_vocabulary_pairs_are_left_out_and_diffs_use_common_pairs() {
        let gold: Vec<f64> = (0..50).map(|i| i as f64).collect();
        let full: Vec<Option<f64>> = gold.iter().map(|g| Some(*g)).collect();
        let mut half = full.clone();
        for c in half.iter_mut().skip(25) {
            *c = None;
        }
        // A second member missing other pairs: the row covers only what both cover.
        let mut other = full.clone();
        other[0] = None;
        let (rows, diffs) =
            paired_bootstrap(&gold, &[vec![full], vec![half, other]], &[(0, 1)], 50, 1);
        assert_eq!(rows[0].pairs, 50);
        assert_eq!(rows[1].pairs, 24);
        assert_eq!(diffs[0].pairs, 24);
        assert!((rows[1].value - 1.0).abs() < 1e-12);
        assert!(diffs[0].value.abs() < 1e-12);
    }
}
