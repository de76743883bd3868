//! The three emission models compared by the simulator, all over one [`Graph`](crate::graph::Graph).
//!
//! - [`matrix`]: the reference: attribution `A = N ⊙ Σ_k M^k S`, L1-normalised, `S += rate A`.
//! - [`recursive`]: the original contract: each emit pushes its emission through a stack
//!   until increments fall below a threshold (work grows with emission / threshold).
//! - [`residual`]: the current contract, replayed on the exact integer [`Ledger`](crate::ledger::Ledger):
//!   one O(degree) push per emit, pending residual carried between emits.

pub mod matrix;
pub mod recursive;
pub mod residual;

/// Work done by one emit of a distributed model: what the bench and the simulator compare.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Work {
    /// Edges read (each popped entry reads its whole edge set; residual push reads one set).
    pub edge_visits: u64,
    /// Entries pushed onto the queue (recursive model; 0 for residual push).
    pub queue_pushes: u64,
    /// Largest queue length reached during the emit.
    pub max_queue: u64,
}

impl Work {
    /// Adds another emit's work to a running total (max_queue takes the maximum).
    pub fn add(&mut self, other: Work) {
        self.edge_visits += other.edge_visits;
        self.queue_pushes += other.queue_pushes;
        self.max_queue = self.max_queue.max(other.max_queue);
    }
}

/// A distributed model: nodes emit one at a time at a block and stakes change.
pub trait Distributed {
    /// Node `node` emits at `block` (accrues since its last emit and distributes).
    fn emit(&mut self, node: usize, block: u64) -> Work;
    /// Every node's stake in units (what the fractions are computed from).
    fn stakes(&self) -> alloc::vec::Vec<f64>;
}

/// `x / sum(x)`, or `x` unchanged when the sum is zero: stake and attribution fractions.
pub fn normalise(x: &[f64]) -> alloc::vec::Vec<f64> {
    let total: f64 = x.iter().sum();
    if total == 0.0 {
        return x.to_vec();
    }
    x.iter().map(|v| v / total).collect()
}

/// L1 distance `Σ |a_i - b_i|`: how far two models' stake fractions are apart.
pub fn l1(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum()
}
