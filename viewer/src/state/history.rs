//! Bounded history kept across polls: stake fractions over blocks, and each worker's loss
//! series, longer than the tail a worker reports.

use std::collections::{BTreeMap, VecDeque};

use super::snapshot::{HistoryPoint, NodeView};
use crate::workers::WorkerReport;

/// One recorded block: the fractions shown, and what each node holds (stake + residual),
/// from which the share of emission credited over the window is measured.
#[derive(Debug, Clone)]
struct Point {
    shown: HistoryPoint,
    held: BTreeMap<String, u64>,
}

/// The history, each series capped at `capacity` points (oldest dropped first).
#[derive(Debug, Clone)]
pub struct History {
    capacity: usize,
    fractions: VecDeque<Point>,
    losses: BTreeMap<String, VecDeque<(f64, f64)>>,
}

impl History {
    /// An empty history keeping at most `capacity` points per series (at least 1).
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            fractions: VecDeque::new(),
            losses: BTreeMap::new(),
        }
    }

    /// Records the fractions at `block`; a second reading of the same block replaces the first.
    pub fn record_fractions(&mut self, block: u64, nodes: &[NodeView]) {
        let point = Point {
            shown: HistoryPoint {
                block,
                fractions: nodes.iter().map(|n| (n.name.clone(), n.fraction)).collect(),
            },
            held: nodes
                .iter()
                .map(|n| (n.name.clone(), n.stake.saturating_add(n.residual)))
                .collect(),
        };
        match self.fractions.back_mut() {
            Some(last) if last.shown.block == block => *last = point,
            Some(last) if last.shown.block > block => {
                // The chain restarted: an older block means a new run, start over.
                self.fractions.clear();
                self.fractions.push_back(point);
            }
            _ => self.fractions.push_back(point),
        }
        while self.fractions.len() > self.capacity {
            self.fractions.pop_front();
        }
    }

    /// The fraction series recorded so far.
    pub fn fractions(&self) -> Vec<HistoryPoint> {
        self.fractions.iter().map(|p| p.shown.clone()).collect()
    }

    /// Each node's share of what was credited (stake + residual growth) between the oldest
    /// and newest recorded blocks: the on-chain counterpart of the matrix model's emission
    /// share. A node that joined inside the window counts from its first recorded block (its
    /// subscription stake is not a credit); nodes gone at the newest block are left out.
    /// Empty when nothing was credited yet.
    pub fn credited_shares(&self) -> BTreeMap<String, f64> {
        let Some(last) = self.fractions.back() else {
            return BTreeMap::new();
        };
        let mut base: BTreeMap<&String, u64> = BTreeMap::new();
        for point in &self.fractions {
            for (name, held) in &point.held {
                base.entry(name).or_insert(*held);
            }
        }
        let gains: BTreeMap<&String, u64> = last
            .held
            .iter()
            .filter_map(|(name, now)| Some((name, now.saturating_sub(*base.get(name)?))))
            .collect();
        let total: u128 = gains.values().map(|g| *g as u128).sum();
        if total == 0 {
            return BTreeMap::new();
        }
        gains
            .into_iter()
            .map(|(name, g)| (name.clone(), g as f64 / total as f64))
            .collect()
    }

    /// The loss series to draw for a worker, recorded across polls (last `capacity` points):
    /// the points of its reported loss tail newer than those recorded. A tail that goes back
    /// in steps means the worker restarted: the recording starts over from it. A worker that
    /// is down keeps the series recorded so far.
    pub fn loss_series(&mut self, report: &WorkerReport) -> Vec<(f64, f64)> {
        let own: Vec<(f64, f64)> = report
            .status
            .as_ref()
            .map(|s| {
                s.loss_points()
                    .into_iter()
                    .map(|(step, loss)| (step as f64, loss))
                    .collect()
            })
            .unwrap_or_default();
        let series = self.losses.entry(report.name.clone()).or_default();
        if let (Some(theirs), Some(ours)) = (own.last(), series.back()) {
            if theirs.0 < ours.0 {
                series.clear();
            }
        }
        let newest = series.back().map(|p| p.0);
        series.extend(own.iter().filter(|p| newest.is_none_or(|x| p.0 > x)));
        while series.len() > self.capacity {
            series.pop_front();
        }
        series.iter().copied().collect()
    }

    /// Drops recorded losses of workers not in `names`.
    pub fn retain_workers(&mut self, names: &[&str]) {
        self.losses.retain(|k, _| names.contains(&k.as_str()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workers::status_for_tests;

    fn view(name: &str, fraction: f64) -> NodeView {
        held(name, fraction, 0)
    }

    fn held(name: &str, fraction: f64, stake: u64) -> NodeView {
        NodeView {
            name: name.into(),
            address: String::new(),
            port: 0,
            stake,
            fraction,
            predicted: None,
            credited: None,
            received: 0.0,
            residual: 0,
            last_emit: 0,
            self_weight: 1.0,
            up: false,
        }
    }

    #[test]
    fn fraction_history_is_bounded_and_deduplicated_by_block() {
        let mut h = History::new(3);
        for block in [1, 2, 2, 3, 4] {
            h.record_fractions(block, &[view("a", block as f64 / 10.0)]);
        }
        let blocks: Vec<u64> = h.fractions().iter().map(|p| p.block).collect();
        assert_eq!(blocks, vec![2, 3, 4]);
        h.record_fractions(1, &[view("a", 0.5)]);
        assert_eq!(
            h.fractions().len(),
            1,
            "an older block restarts the history"
        );
    }

    #[test]
    fn credited_shares_measure_growth_over_the_window() {
        let mut h = History::new(3);
        assert!(h.credited_shares().is_empty());
        h.record_fractions(1, &[held("a", 0.5, 100), held("b", 0.5, 100)]);
        assert!(h.credited_shares().is_empty(), "nothing credited yet");
        h.record_fractions(
            2,
            &[held("a", 0.5, 130), held("b", 0.5, 110), held("c", 0.0, 9)],
        );
        let shares = h.credited_shares();
        assert_eq!(
            shares["c"], 0.0,
            "c's subscription stake is not a credit: {shares:?}"
        );
        assert!((shares["a"] - 0.75).abs() < 1e-12 && (shares["b"] - 0.25).abs() < 1e-12);
        // Later gains of c count from its first block.
        h.record_fractions(
            3,
            &[held("a", 0.5, 130), held("b", 0.5, 110), held("c", 0.0, 49)],
        );
        let shares = h.credited_shares();
        assert!((shares["c"] - 0.5).abs() < 1e-12, "{shares:?}");
    }

    /// Worker `a`, up, at `step` with loss tail `tail`.
    fn worker_a(step: u64, tail: &[f64]) -> WorkerReport {
        WorkerReport {
            name: "a".into(),
            url: String::new(),
            up: true,
            error: None,
            status: Some(status_for_tests("a", step, tail)),
        }
    }

    #[test]
    fn loss_series_records_the_tails_across_polls() {
        let mut h = History::new(4);
        assert_eq!(
            h.loss_series(&worker_a(2, &[3.0, 2.5])),
            vec![(1.0, 3.0), (2.0, 2.5)]
        );
        // Overlapping tails are merged; the window keeps the newest points.
        assert_eq!(
            h.loss_series(&worker_a(4, &[2.5, 2.2, 2.0])),
            vec![(1.0, 3.0), (2.0, 2.5), (3.0, 2.2), (4.0, 2.0)]
        );
        assert_eq!(
            h.loss_series(&worker_a(5, &[1.9])),
            vec![(2.0, 2.5), (3.0, 2.2), (4.0, 2.0), (5.0, 1.9)]
        );
        // Down: the recorded series stays.
        let mut down = worker_a(0, &[]);
        down.up = false;
        down.status = None;
        assert_eq!(h.loss_series(&down).len(), 4);
        // A tail ending before the recorded steps: the worker restarted.
        assert_eq!(
            h.loss_series(&worker_a(2, &[9.0, 8.0])),
            vec![(1.0, 9.0), (2.0, 8.0)]
        );
    }
}
