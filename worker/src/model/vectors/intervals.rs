//! The three benchmark scores with 95 % intervals: a percentile bootstrap over the
//! evaluation items (word pairs, analogy questions), so two vector sets can be told apart
//! from noise.

use std::path::Path;

use super::analogy::analogy_outcomes;
use super::similarity::{scored_pairs, spearman};
use super::Vectors;
use crate::model::w2v::Lcg;
use crate::model::ModelError;

use super::bootstrap::{percentiles, RESAMPLES};

/// A score and its 95 % bootstrap interval.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Interval {
    /// The score on all items.
    pub value: f64,
    /// 2.5th percentile of the resampled scores.
    pub lo: f64,
    /// 97.5th percentile.
    pub hi: f64,
}

impl Interval {
    /// Whether the two intervals share a point (a difference inside the noise).
    pub fn overlaps(&self, other: &Interval) -> bool {
        self.lo <= other.hi && other.lo <= self.hi
    }
}

impl std::fmt::Display for Interval {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.3} [{:.3}, {:.3}]", self.value, self.lo, self.hi)
    }
}

/// `stat` over `n` items and its percentile bootstrap (`RESAMPLES` draws of `n` items with
/// replacement, seeded: the same inputs give the same interval).
pub fn bootstrap(n: usize, seed: u64, stat: impl Fn(&[usize]) -> f64) -> Interval {
    let all: Vec<usize> = (0..n).collect();
    let value = stat(&all);
    if n == 0 {
        return Interval {
            value,
            lo: value,
            hi: value,
        };
    }
    let mut rng = Lcg::new(seed);
    let mut pick = vec![0usize; n];
    let draws: Vec<f64> = (0..RESAMPLES)
        .map(|_| {
            pick.iter_mut().for_each(|p| *p = rng.below(n));
            stat(&pick)
        })
        .collect();
    match percentiles(draws) {
        [lo, hi] if lo.is_finite() => Interval { value, lo, hi },
        _ => Interval {
            value,
            lo: value,
            hi: value,
        },
    }
}

/// WordSim-353 and SimLex-999 Spearman and Google-analogy accuracy, each with its interval.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ScoredIntervals {
    /// WordSim-353 Spearman.
    pub wordsim: Interval,
    /// SimLex-999 Spearman.
    pub simlex: Interval,
    /// Google analogy accuracy (3CosAdd).
    pub analogy: Interval,
}

impl ScoredIntervals {
    /// Scores `v` on the three files.
    pub fn of(
        v: &Vectors,
        wordsim: &Path,
        simlex: &Path,
        analogies: &Path,
    ) -> Result<ScoredIntervals, ModelError> {
        let pairs = |path: &Path, seed: u64| -> Result<Interval, ModelError> {
            let (gold, model, _) = scored_pairs(v, path)?;
            Ok(bootstrap(gold.len(), seed, |idx| {
                let g: Vec<f64> = idx.iter().map(|&i| gold[i]).collect();
                let m: Vec<f64> = idx.iter().map(|&i| model[i]).collect();
                spearman(&g, &m)
            }))
        };
        let (outcomes, _) = analogy_outcomes(v, analogies)?;
        let analogy = bootstrap(outcomes.len(), 3, |idx| {
            idx.iter().filter(|&&i| outcomes[i]).count() as f64 / idx.len().max(1) as f64
        });
        Ok(ScoredIntervals {
            wordsim: pairs(wordsim, 1)?,
            simlex: pairs(simlex, 2)?,
            analogy,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_interval_holds_the_score_and_narrows_with_more_items() {
        fn mean(xs: &[f64]) -> impl Fn(&[usize]) -> f64 + '_ {
            move |idx| idx.iter().map(|&i| xs[i]).sum::<f64>() / idx.len() as f64
        }
        let few: Vec<f64> = (0..20).map(|i| (i % 2) as f64).collect();
        let many: Vec<f64> = (0..2000).map(|i| (i % 2) as f64).collect();
        let a = bootstrap(few.len(), 1, mean(&few));
        let b = bootstrap(many.len(), 1, mean(&many));
        assert!(a.lo <= a.value && a.value <= a.hi, "{a}");
        assert!(b.lo <= b.value && b.value <= b.hi, "{b}");
        assert!((a.value - 0.5).abs() < 1e-12 && (b.value - 0.5).abs() < 1e-12);
        assert!(b.hi - b.lo < (a.hi - a.lo) / 3.0, "{a} vs {b}");
        assert!(a.hi - a.lo > 0.1, "20 coin flips are noisy: {a}");
        assert!(a.overlaps(&b));
        let far = Interval {
            value: 0.9,
            lo: 0.85,
            hi: 0.95,
        };
        assert!(!b.overlaps(&far));
        assert_eq!(bootstrap(few.len(), 1, mean(&few)), a, "seeded");
    }
}
