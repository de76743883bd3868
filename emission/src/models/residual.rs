//! The contract's residual-push model, replayed over node indices on the exact [`Ledger`].
//!
//! Units are converted to base units with a fixed `scale` (base units per unit), so the same
//! graph and schedule can be compared with the float models; every state transition is the
//! contract's own integer one.

use alloc::vec::Vec;

use super::{Distributed, Work};
use crate::graph::Graph;
use crate::ledger::{Ledger, LedgerError};

/// A network of `graph.len()` nodes subscribed on a [`Ledger`] at block 0.
#[derive(Debug, Clone)]
pub struct LedgerNetwork<'g> {
    graph: &'g Graph,
    ledger: Ledger<usize>,
    scale: f64,
}

impl<'g> LedgerNetwork<'g> {
    /// Subscribes node `i` with `stake[i]` units (`* scale` base units) and stores its edge
    /// set at block 0; mints
    /// `rate` units per block. Fails on overflow of the ledger's counters.
    pub fn new(
        graph: &'g Graph,
        stake: &[f64],
        rate: f64,
        scale: f64,
    ) -> Result<Self, LedgerError> {
        let mut ledger = Ledger::new(to_base(rate, scale), 0);
        for (i, s) in stake.iter().enumerate() {
            ledger.subscribe(i, to_base(*s, scale), 0)?;
        }
        // Store every node's edge set at block 0 (accrues nothing): the emission of block 1
        // on is pushed along the graph's edges, the set in force.
        for i in 0..graph.len() {
            ledger.emit(&i, graph.edges(i), 0)?;
        }
        Ok(LedgerNetwork {
            graph,
            ledger,
            scale,
        })
    }

    /// Node `node` emits its graph edge set at `block` on the ledger.
    pub fn try_emit(&mut self, node: usize, block: u64) -> Result<Work, LedgerError> {
        let report = self.ledger.emit(&node, self.graph.edges(node), block)?;
        Ok(Work {
            edge_visits: report.edge_visits as u64,
            queue_pushes: 0,
            max_queue: 0,
        })
    }

    /// The underlying ledger (stakes, residuals and counters in base units).
    pub fn ledger(&self) -> &Ledger<usize> {
        &self.ledger
    }

    /// Base units per unit.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// Every node's pending residual in units.
    pub fn residuals(&self) -> Vec<f64> {
        (0..self.graph.len())
            .map(|i| self.ledger.residual(&i).unwrap_or(0) as f64 / self.scale)
            .collect()
    }
}

impl Distributed for LedgerNetwork<'_> {
    /// Emits; an emit the ledger refuses (only overflow can happen on a valid graph) does nothing.
    fn emit(&mut self, node: usize, block: u64) -> Work {
        self.try_emit(node, block).unwrap_or_default()
    }

    fn stakes(&self) -> Vec<f64> {
        (0..self.graph.len())
            .map(|i| self.ledger.stake(&i).unwrap_or(0) as f64 / self.scale)
            .collect()
    }
}

/// Units to base units, rounded down, saturating (negative and NaN give 0).
fn to_base(units: f64, scale: f64) -> u64 {
    let v = units * scale;
    if v >= u64::MAX as f64 {
        u64::MAX
    } else if v > 0.0 {
        v as u64
    } else {
        0
    }
}
