//! `simulator bench`: the cost of one emit in each distributed model, by graph size.

use std::time::Instant;

use emission::graph::GraphError;
use emission::ledger::LedgerError;
use emission::models::recursive::{RecursiveModel, DEFAULT_MIN_INCREMENT};
use emission::models::residual::LedgerNetwork;
use emission::models::{Distributed, Work};
use thiserror::Error;

use crate::random::RandomGraph;

/// Why a bench could not run.
#[derive(Debug, Error)]
pub enum BenchError {
    /// The random graph was rejected.
    #[error("graph: {0}")]
    Graph(GraphError),
    /// The ledger refused an operation.
    #[error("ledger: {0}")]
    Ledger(LedgerError),
}

/// One size's measurement.
#[derive(Debug, Clone)]
pub struct BenchRow {
    /// Nodes in the graph.
    pub nodes: usize,
    /// Mean wall time of one recursive emit, ns.
    pub recursive_ns: f64,
    /// Mean wall time of one residual-push emit, ns.
    pub residual_ns: f64,
    /// Mean queue pushes per recursive emit.
    pub recursive_pushes: f64,
    /// Mean edge visits per residual emit.
    pub residual_visits: f64,
}

impl BenchRow {
    /// How many times slower the recursive emit is.
    pub fn ratio(&self) -> f64 {
        self.recursive_ns / self.residual_ns.max(1e-9)
    }
}

/// Emits round-robin (node `k % n` at block `(k / n + 1) * delta`, so each emit accrues
/// `delta` blocks): `min(n, emits)` untimed warm-up emits, then `emits` timed ones.
fn time_emits(model: &mut dyn Distributed, n: usize, emits: u64, delta: u64) -> (f64, Work) {
    let n64 = n as u64;
    let warm = emits.min(n64);
    for k in 0..warm {
        model.emit((k % n64) as usize, (k / n64 + 1) * delta);
    }
    let mut work = Work::default();
    let start = Instant::now();
    for k in warm..warm + emits {
        work.add(model.emit((k % n64) as usize, (k / n64 + 1) * delta));
    }
    (start.elapsed().as_nanos() as f64 / emits as f64, work)
}

/// Measures one size: a random graph with `max_degree`, rate `n` units per block (about
/// `delta` units per emit), threshold 1e-5.
pub fn measure(
    nodes: usize,
    max_degree: usize,
    seed: u64,
    emits: u64,
    delta: u64,
) -> Result<BenchRow, BenchError> {
    let (graph, stake) = RandomGraph {
        nodes,
        max_degree,
        seed,
    }
    .build()
    .map_err(BenchError::Graph)?;
    let rate = nodes as f64;
    let mut recursive = RecursiveModel::new(&graph, stake.clone(), rate, DEFAULT_MIN_INCREMENT);
    let mut residual = LedgerNetwork::new(&graph, &stake, rate, 1e9).map_err(BenchError::Ledger)?;
    let (recursive_ns, rw) = time_emits(&mut recursive, nodes, emits, delta);
    let (residual_ns, pw) = time_emits(&mut residual, nodes, emits, delta);
    Ok(BenchRow {
        nodes,
        recursive_ns,
        residual_ns,
        recursive_pushes: rw.queue_pushes as f64 / emits as f64,
        residual_visits: pw.edge_visits as f64 / emits as f64,
    })
}

/// Formats the bench table.
pub fn render(rows: &[BenchRow]) -> String {
    let mut out = String::from(
        "nodes   recursive ns/emit  residual ns/emit  ratio   recursive pushes/emit  residual edge visits/emit\n",
    );
    for r in rows {
        out.push_str(&format!(
            "{:<7} {:>17.0}  {:>16.0}  {:>6.1}  {:>21.1}  {:>25.1}\n",
            r.nodes,
            r.recursive_ns,
            r.residual_ns,
            r.ratio(),
            r.recursive_pushes,
            r.residual_visits
        ));
    }
    out
}
