//! A scenario: the graph, initial stakes and schedule every model runs on.

use emission::graph::Graph;
use emission::models::matrix::Method;
use emission::models::recursive::DEFAULT_MIN_INCREMENT;

/// Everything one simulation run needs; all three models read the same values.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Display names, one per node.
    pub names: Vec<String>,
    /// The validated graph (fixed-point weights, self first).
    pub graph: Graph,
    /// Initial stake per node, in units.
    pub stake: Vec<f64>,
    /// Units minted per block.
    pub rate: f64,
    /// Blocks to simulate.
    pub blocks: u64,
    /// Seed of the emit order (and of the emit coin flips).
    pub seed: u64,
    /// Probability that a node emits in a block (1 = every block).
    pub emit_probability: f64,
    /// The recursive model's MIN_INCREMENT, in units.
    pub threshold: f64,
    /// How the matrix model evaluates its series.
    pub method: Method,
}

/// The notebook's series length.
pub const DEFAULT_TERMS: usize = 100;

impl Scenario {
    /// A scenario with the defaults: rate `50 n`, 100 series terms, threshold 1e-5, every node
    /// emitting every block.
    pub fn new(names: Vec<String>, graph: Graph, stake: Vec<f64>) -> Self {
        let rate = 50.0 * graph.len() as f64;
        Scenario {
            names,
            graph,
            stake,
            rate,
            blocks: 100,
            seed: 0,
            emit_probability: 1.0,
            threshold: DEFAULT_MIN_INCREMENT,
            method: Method::Series {
                terms: DEFAULT_TERMS,
            },
        }
    }

    /// Base units per unit for the integer ledger: as fine as possible while the final
    /// supply (stakes + everything minted) stays far below `u64::MAX`.
    pub fn ledger_scale(&self) -> f64 {
        let supply: f64 = self.stake.iter().sum::<f64>() + self.rate * self.blocks as f64;
        let fit = 1e18 / supply.max(1.0);
        if fit < 1e9 {
            fit
        } else {
            1e9
        }
    }
}
