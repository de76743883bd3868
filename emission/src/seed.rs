//! The original design's 10-node example graph (nodes `a..j`), used as the reference run.

use alloc::vec;
use alloc::vec::Vec;

use crate::graph::{Graph, GraphError};

/// Node names of the example, in index order.
pub const NAMES: [&str; 10] = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];

/// Steps of the notebook's run.
pub const STEPS: u64 = 1_000;

/// Emission per step of the notebook's run: `50 * n` units.
pub const RATE: f64 = 500.0;

/// Which variant of node `b` the run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// Run 1: `b` holds only its self edge (weight 1); its last-step matrix attribution is
    /// the README's printed "Attributions" line.
    BSelfOnly,
    /// Run 2, the README's printed matrix: `b` self 0.9 and `b -> a` 0.1.
    BLinksA,
}

/// The example graph: `a -> b .1, a -> c .1, a -> d .2, b -> a .1, c -> a .3, c -> d .3,
/// d -> a .2, d -> b .1, d -> c .2, e -> f .5, f -> e .5`, self weights making each set sum to 1.
pub fn graph(variant: Variant) -> Result<Graph, GraphError> {
    let b = match variant {
        Variant::BSelfOnly => vec![(1, 1.0)],
        Variant::BLinksA => vec![(1, 0.9), (0, 0.1)],
    };
    let lists: Vec<Vec<(usize, f64)>> = vec![
        vec![(0, 0.6), (1, 0.1), (2, 0.1), (3, 0.2)],
        b,
        vec![(2, 0.4), (0, 0.3), (3, 0.3)],
        vec![(3, 0.5), (0, 0.2), (1, 0.1), (2, 0.2)],
        vec![(4, 0.5), (5, 0.5)],
        vec![(5, 0.5), (4, 0.5)],
        vec![(6, 1.0)],
        vec![(7, 1.0)],
        vec![(8, 1.0)],
        vec![(9, 1.0)],
    ];
    Graph::from_float(&lists, 1e-9)
}

/// The notebook's initial stake: one unit per node.
pub fn initial_stake() -> Vec<f64> {
    vec![1.0; NAMES.len()]
}
