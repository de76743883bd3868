//! Drives the three models over one scenario, block by block, on the same emit schedule.

use emission::ledger::LedgerError;
use emission::models::matrix::{MatrixModel, SolveError};
use emission::models::recursive::RecursiveModel;
use emission::models::residual::LedgerNetwork;
use emission::models::{l1, normalise, Distributed, Work};
use emission::schedule::Schedule;
use thiserror::Error;

use crate::scenario::Scenario;

/// The models, in report order.
pub const MODELS: [&str; 3] = ["matrix", "recursive", "residual"];

/// Why a run stopped.
#[derive(Debug, Error)]
pub enum RunError {
    /// The ledger refused an operation (only overflow is possible on a valid graph).
    #[error("residual-push ledger: {0}")]
    Ledger(LedgerError),
    /// The matrix model's closed form failed.
    #[error("matrix model: {0:?}")]
    Solve(SolveError),
}

/// Stake fractions of the three models at one block.
#[derive(Debug, Clone)]
pub struct Sample {
    /// Block number.
    pub block: u64,
    /// Per model (in [`MODELS`] order), the fractions of the plotted nodes.
    pub fractions: [Vec<f64>; 3],
}

/// Everything a run measured.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Final stake fractions per model, in [`MODELS`] order.
    pub fractions: [Vec<f64>; 3],
    /// The matrix model's L1-normalised attribution of the last block: the line the original
    /// notebook prints (empty when the run has no block).
    pub matrix_attribution: Vec<f64>,
    /// Total work of the recursive model's emits.
    pub recursive_work: Work,
    /// Total work of the residual-push emits.
    pub residual_work: Work,
    /// Number of emits each distributed model performed.
    pub emits: u64,
    /// Residual still pending on the ledger, in units (bounds its lag behind the series).
    pub outstanding: f64,
    /// Emission the recursive model dropped below its threshold, in units.
    pub dropped: f64,
    /// Fraction history for plots (at most ~500 samples).
    pub history: Vec<Sample>,
}

impl Outcome {
    /// L1 distance between two models' final fractions.
    pub fn distance(&self, a: usize, b: usize) -> f64 {
        l1(&self.fractions[a], &self.fractions[b])
    }
}

/// Runs all three models; `plotted` is how many nodes the history keeps.
pub fn run(scenario: &Scenario, plotted: usize) -> Result<Outcome, RunError> {
    let graph = &scenario.graph;
    let n = graph.len();
    let mut matrix = MatrixModel::new(scenario.stake.clone(), scenario.method);
    let mut recursive = RecursiveModel::new(
        graph,
        scenario.stake.clone(),
        scenario.rate,
        scenario.threshold,
    );
    let mut residual = LedgerNetwork::new(
        graph,
        &scenario.stake,
        scenario.rate,
        scenario.ledger_scale(),
    )
    .map_err(RunError::Ledger)?;
    let mut schedule = Schedule::new(scenario.seed, scenario.emit_probability);
    let plotted = plotted.min(n);
    let stride = (scenario.blocks / 500).max(1);
    let mut history = Vec::new();
    let snapshot = |block: u64, m: &MatrixModel, r: &RecursiveModel, l: &LedgerNetwork| Sample {
        block,
        fractions: [
            normalise(&m.stake)[..plotted].to_vec(),
            normalise(&r.stakes())[..plotted].to_vec(),
            normalise(&l.stakes())[..plotted].to_vec(),
        ],
    };
    history.push(snapshot(0, &matrix, &recursive, &residual));
    let mut recursive_work = Work::default();
    let mut residual_work = Work::default();
    let mut emits = 0u64;
    let progress = (scenario.blocks / 10).max(1);
    for block in 1..=scenario.blocks {
        for node in schedule.next_block(n) {
            recursive_work.add(recursive.emit(node, block));
            residual_work.add(residual.try_emit(node, block).map_err(RunError::Ledger)?);
            emits += 1;
        }
        matrix.step(graph, scenario.rate).map_err(RunError::Solve)?;
        if block % stride == 0 || block == scenario.blocks {
            history.push(snapshot(block, &matrix, &recursive, &residual));
        }
        if block % progress == 0 {
            tracing::info!(block, blocks = scenario.blocks, emits, "simulating");
        }
    }
    let outstanding = residual.ledger().outstanding() as f64 / residual.scale();
    Ok(Outcome {
        fractions: [
            normalise(&matrix.stake),
            normalise(&recursive.stakes()),
            normalise(&residual.stakes()),
        ],
        matrix_attribution: matrix.last_attribution,
        recursive_work,
        residual_work,
        emits,
        outstanding,
        dropped: recursive.dropped,
        history,
    })
}
