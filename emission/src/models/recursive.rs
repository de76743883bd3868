//! The original contract's recursive distributed model (floats, off-chain only).
//!
//! When node `i` emits, `delta_blocks * rate * stake_i / total_stake` is pushed through a
//! stack: pop `(node, amount)`, credit `amount * N_node` to the node's stake, and push
//! `(target, amount * w)` for each out-edge whose share exceeds the threshold
//! (`MIN_INCREMENT`); smaller shares are dropped. Work therefore grows with
//! `log(emission / threshold)` and the graph's branching, unlike residual push.

use alloc::vec;
use alloc::vec::Vec;

use super::{Distributed, Work};
use crate::fixed::weight_to_f64;
use crate::graph::Graph;

/// The original contract's default threshold: shares below 1e-5 of a unit are dropped.
pub const DEFAULT_MIN_INCREMENT: f64 = 1e-5;

/// The recursive model's state over one graph.
#[derive(Debug, Clone)]
pub struct RecursiveModel<'g> {
    graph: &'g Graph,
    stake: Vec<f64>,
    total_stake: f64,
    last_emit: Vec<u64>,
    rate: f64,
    threshold: f64,
    /// All emission ever started (units).
    pub minted: f64,
    /// Emission lost to the threshold (units).
    pub dropped: f64,
}

impl<'g> RecursiveModel<'g> {
    /// A model with `stake` per node (clock at block 0), `rate` units per block and `threshold`.
    pub fn new(graph: &'g Graph, stake: Vec<f64>, rate: f64, threshold: f64) -> Self {
        let total_stake = stake.iter().sum();
        RecursiveModel {
            graph,
            last_emit: vec![0; stake.len()],
            stake,
            total_stake,
            rate,
            threshold,
            minted: 0.0,
            dropped: 0.0,
        }
    }

    /// Pushes `amount` from `node` through the graph until shares fall below the threshold.
    pub fn distribute(&mut self, node: usize, amount: f64) -> Work {
        let mut work = Work::default();
        let mut stack = vec![(node, amount)];
        work.queue_pushes = 1;
        work.max_queue = 1;
        while let Some((at, value)) = stack.pop() {
            let edges = self.graph.edges(at);
            work.edge_visits += edges.len() as u64;
            let kept = value * weight_to_f64(edges[0].weight);
            self.stake[at] += kept;
            self.total_stake += kept;
            for edge in &edges[1..] {
                let share = value * weight_to_f64(edge.weight);
                if share > self.threshold {
                    stack.push((edge.to, share));
                    work.queue_pushes += 1;
                } else {
                    self.dropped += share;
                }
            }
            work.max_queue = work.max_queue.max(stack.len() as u64);
        }
        work
    }
}

impl Distributed for RecursiveModel<'_> {
    fn emit(&mut self, node: usize, block: u64) -> Work {
        let delta = block.saturating_sub(self.last_emit[node]);
        self.last_emit[node] = self.last_emit[node].max(block);
        if self.total_stake <= 0.0 {
            return Work::default();
        }
        let amount = delta as f64 * self.rate * self.stake[node] / self.total_stake;
        self.minted += amount;
        self.distribute(node, amount)
    }

    fn stakes(&self) -> Vec<f64> {
        self.stake.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::matrix::{propagate, Method};

    #[test]
    fn one_emit_matches_the_series_up_to_the_dropped_mass() {
        let g =
            Graph::from_float(&[vec![(0, 0.5), (1, 0.5)], vec![(1, 0.5), (0, 0.5)]], 1e-9).unwrap();
        let mut m = RecursiveModel::new(&g, vec![0.0, 0.0], 1.0, 1e-6);
        let work = m.distribute(0, 1.0);
        let expected = propagate(&g, &[1.0, 0.0], Method::Solve).unwrap();
        let err = crate::models::l1(&m.stakes(), &expected);
        assert!(err <= m.dropped + 1e-12, "{err} > {}", m.dropped);
        assert!(m.dropped < 1e-5);
        // A 2-cycle halving each hop: about log2(1e6) = 20 pushes.
        assert_eq!(work.queue_pushes, 20);
    }
}
