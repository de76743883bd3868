//! A validated weighted graph over node indices `0..n`: the one graph every model runs on.
//!
//! Weights are stored in the contract's fixed point so that the matrix model, the recursive
//! model and the residual-push ledger see exactly the same weights.

use alloc::vec::Vec;
use core::fmt;

use crate::edges::{to_fixed, validate_fixed, Edge};
use crate::error::EdgeError;
use crate::fixed::weight_to_f64;

/// A bad edge set in a graph, with the node it belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphError {
    /// Index of the node whose edge set was rejected.
    pub node: usize,
    /// What was wrong with it.
    pub error: EdgeError,
}

impl fmt::Display for GraphError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "node {}: {}", self.node, self.error)
    }
}

/// Each node's fixed-point edge set, self first, every target in `0..n`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Graph {
    edges: Vec<Vec<Edge<usize>>>,
}

impl Graph {
    /// Builds a graph from float edge lists (node `i`'s list must start with `i`), checking
    /// each with the prototype's sum `tolerance` and converting it to exact fixed point.
    pub fn from_float(lists: &[Vec<(usize, f64)>], tolerance: f64) -> Result<Self, GraphError> {
        let n = lists.len();
        let edges = lists
            .iter()
            .enumerate()
            .map(|(node, list)| {
                to_fixed(&node, list, tolerance, |t| *t < n)
                    .map_err(|error| GraphError { node, error })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Graph { edges })
    }

    /// Builds a graph from fixed-point edge sets, validated exactly as the contract does.
    pub fn from_fixed(edges: Vec<Vec<Edge<usize>>>) -> Result<Self, GraphError> {
        let n = edges.len();
        for (node, set) in edges.iter().enumerate() {
            validate_fixed(&node, set, |t| *t < n).map_err(|error| GraphError { node, error })?;
        }
        Ok(Graph { edges })
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.edges.len()
    }

    /// Whether the graph has no node.
    pub fn is_empty(&self) -> bool {
        self.edges.is_empty()
    }

    /// Node `i`'s edge set, self first.
    pub fn edges(&self, i: usize) -> &[Edge<usize>] {
        &self.edges[i]
    }

    /// Node `i`'s self (in-edge) weight `N_i` as a float.
    pub fn self_weight(&self, i: usize) -> f64 {
        weight_to_f64(self.edges[i][0].weight)
    }

    /// The smallest self weight: the geometric decay rate of every series in the models.
    pub fn min_self_weight(&self) -> f64 {
        (0..self.len())
            .map(|i| self.self_weight(i))
            .fold(1.0, |a, b| if b < a { b } else { a })
    }

    /// `M x` where `M[j][i]` is the weight of edge `i -> j` (`i != j`): one hop of forwarding.
    pub fn forward(&self, x: &[f64]) -> Vec<f64> {
        let mut out = alloc::vec![0.0; self.len()];
        for (i, set) in self.edges.iter().enumerate() {
            for edge in &set[1..] {
                out[edge.to] += weight_to_f64(edge.weight) * x[i];
            }
        }
        out
    }

    /// The number of edges (self edges included): the size of the graph's description.
    pub fn edge_count(&self) -> usize {
        self.edges.iter().map(Vec::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn errors_name_the_offending_node() {
        let lists = vec![vec![(0, 1.0)], vec![(1, 0.5), (7, 0.5)]];
        assert_eq!(
            Graph::from_float(&lists, 1e-9),
            Err(GraphError {
                node: 1,
                error: EdgeError::UnknownTarget { index: 1 }
            })
        );
        let fixed = vec![vec![Edge { to: 1, weight: 1 }]];
        assert_eq!(
            Graph::from_fixed(fixed).unwrap_err().error,
            EdgeError::SelfNotFirst
        );
    }

    #[test]
    fn forward_moves_mass_along_out_edges_only() {
        let g = Graph::from_float(&[vec![(0, 0.25), (1, 0.75)], vec![(1, 1.0)]], 1e-9).unwrap();
        assert_eq!(g.forward(&[4.0, 100.0]), vec![0.0, 3.0]);
        assert_eq!(g.self_weight(0), 0.25);
        assert_eq!(g.min_self_weight(), 0.25);
        assert_eq!(g.edge_count(), 3);
    }
}
