//! Where each block's emission should go by the matrix model, `A = N ⊙ Σ_k M^k S`
//! L1-normalised, built from the on-chain stakes and stored edge sets.

use std::collections::HashMap;

use emission::graph::Graph;
use emission::models::matrix::{attribution, Method, MAX_SOLVE_NODES};
use emission::Edge;

use crate::chain::MetagraphRow;
use chain_client::Name;

/// Series terms used when the graph is too large for the dense solve.
const SERIES_TERMS: usize = 2_000;

/// Each node's predicted share of emission, aligned with `nodes`.
///
/// Edges to accounts that are no longer subscribed are folded into the self weight, as the
/// contract keeps such shares with the emitter. A stored edge set the contract could not have
/// accepted is reported with the node's name.
pub fn predict_shares(nodes: &[MetagraphRow]) -> Result<Vec<f64>, String> {
    if nodes.is_empty() {
        return Ok(Vec::new());
    }
    let index: HashMap<Name, usize> = nodes.iter().enumerate().map(|(i, n)| (n.user, i)).collect();
    if index.len() != nodes.len() {
        return Err("metagraph lists a user twice".into());
    }
    let mut sets = Vec::with_capacity(nodes.len());
    for (i, node) in nodes.iter().enumerate() {
        let Some(first) = node.edges.first() else {
            return Err(format!("node `{}` has an empty edge set", node.user));
        };
        if first.to != node.user {
            return Err(format!(
                "node `{}`: edge set must start with the node",
                node.user
            ));
        }
        let mut self_weight = first.weight;
        let mut set = Vec::with_capacity(node.edges.len());
        for edge in &node.edges[1..] {
            match index.get(&edge.to) {
                Some(&to) => set.push(Edge {
                    to,
                    weight: edge.weight,
                }),
                None => self_weight = self_weight.saturating_add(edge.weight),
            }
        }
        set.insert(
            0,
            Edge {
                to: i,
                weight: self_weight,
            },
        );
        sets.push(set);
    }
    let graph = Graph::from_fixed(sets)
        .map_err(|e| format!("node `{}`: {}", nodes[e.node].user, e.error))?;
    let stake: Vec<f64> = nodes.iter().map(|n| n.stake as f64).collect();
    let method = if nodes.len() <= MAX_SOLVE_NODES {
        Method::Solve
    } else {
        Method::Series {
            terms: SERIES_TERMS,
        }
    };
    attribution(&graph, &stake, method).map_err(|e| format!("matrix model failed: {e:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::Edge;

    fn node(user: &str, stake: u64, edges: &[(&str, u32)]) -> MetagraphRow {
        MetagraphRow {
            user: user.parse().unwrap(),
            address: "127.0.0.1".into(),
            port: 1,
            stake,
            last_emit: 0,
            edges: edges
                .iter()
                .map(|(to, weight)| Edge {
                    to: to.parse().unwrap(),
                    weight: *weight,
                })
                .collect(),
            seq: 0,
        }
    }

    /// Independent check: push float residuals around until none is left (the distributed
    /// form), crediting each node its self share of what passes through it.
    fn push_until_settled(nodes: &[MetagraphRow]) -> Vec<f64> {
        let at = |name: Name| nodes.iter().position(|n| n.user == name);
        let mut residual: Vec<f64> = nodes.iter().map(|n| n.stake as f64).collect();
        let mut credit = vec![0.0; nodes.len()];
        for _ in 0..10_000 {
            let mut next = vec![0.0; nodes.len()];
            for (i, n) in nodes.iter().enumerate() {
                let r = residual[i];
                credit[i] += r * n.edges[0].weight as f64 / 1e6;
                for e in &n.edges[1..] {
                    match at(e.to) {
                        Some(j) => next[j] += r * e.weight as f64 / 1e6,
                        None => credit[i] += r * e.weight as f64 / 1e6,
                    }
                }
            }
            residual = next;
        }
        let total: f64 = credit.iter().sum();
        credit.iter().map(|c| c / total).collect()
    }

    #[test]
    fn self_only_graph_predicts_stake_fractions() {
        let nodes = [
            node("a", 1, &[("a", 1_000_000)]),
            node("b", 3, &[("b", 1_000_000)]),
        ];
        let p = predict_shares(&nodes).unwrap();
        assert!((p[0] - 0.25).abs() < 1e-12 && (p[1] - 0.75).abs() < 1e-12);
    }

    #[test]
    fn matches_settled_residual_push_on_a_cyclic_graph() {
        let nodes = [
            node("a", 5, &[("a", 400_000), ("b", 500_000), ("c", 100_000)]),
            node("b", 1, &[("b", 900_000), ("a", 100_000)]),
            node("c", 2, &[("c", 300_000), ("a", 300_000), ("gone", 400_000)]),
        ];
        let p = predict_shares(&nodes).unwrap();
        let q = push_until_settled(&nodes);
        for (x, y) in p.iter().zip(&q) {
            assert!((x - y).abs() < 1e-9, "{p:?} vs {q:?}");
        }
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn impossible_edge_sets_are_named_not_panicked() {
        let err = predict_shares(&[node("a", 1, &[])]).unwrap_err();
        assert!(err.contains("`a`") && err.contains("empty"), "{err}");
        let err = predict_shares(&[
            node("a", 1, &[("b", 1_000_000)]),
            node("b", 1, &[("b", 1_000_000)]),
        ])
        .unwrap_err();
        assert!(err.contains("start with"), "{err}");
        let err = predict_shares(&[node("a", 1, &[("a", 600_000)])]).unwrap_err();
        assert!(err.contains("`a`") && err.contains("sum"), "{err}");
        let twice = [
            node("a", 1, &[("a", 1_000_000)]),
            node("a", 1, &[("a", 1_000_000)]),
        ];
        assert!(predict_shares(&twice).unwrap_err().contains("twice"));
    }
}
