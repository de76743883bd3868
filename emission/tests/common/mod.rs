//! Shared strategies for the property tests: random valid graphs and stakes.

#![allow(dead_code)]

use emission::fixed::{MIN_SELF_WEIGHT, WEIGHT_ONE};
use emission::graph::Graph;
use emission::ledger::{EmitReport, Ledger};
use emission::Edge;
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};

/// A proptest config whose failing cases are kept in `emission/proptest-regressions/<file>`;
/// `PROPTEST_CASES` in the environment overrides `cases` (for long runs).
pub fn config(file: &'static str, cases: u32) -> Config {
    Config {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(cases),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(file))),
        ..Config::default()
    }
}

/// One node's edge set in fixed point: self weight >= MIN_SELF_WEIGHT, shares of the rest.
fn edge_set(node: usize, n: usize, max_degree: usize) -> impl Strategy<Value = Vec<Edge<usize>>> {
    let others: Vec<usize> = (0..n).filter(|t| *t != node).collect();
    let degree = max_degree.min(others.len());
    (
        proptest::sample::subsequence(others, 0..=degree),
        MIN_SELF_WEIGHT..=WEIGHT_ONE,
        proptest::collection::vec(1u32..1_000, degree),
    )
        .prop_map(move |(targets, self_weight, raw)| {
            let rest = (WEIGHT_ONE - self_weight) as u64;
            let raw = &raw[..targets.len()];
            let raw_sum: u64 = raw.iter().map(|r| *r as u64).sum::<u64>().max(1);
            let mut set = vec![Edge {
                to: node,
                weight: 0,
            }];
            let mut given = 0u64;
            for (t, r) in targets.iter().zip(raw) {
                let w = if targets.is_empty() {
                    0
                } else {
                    rest * *r as u64 / raw_sum
                };
                given += w;
                set.push(Edge {
                    to: *t,
                    weight: w as u32,
                });
            }
            set[0].weight = WEIGHT_ONE - given as u32;
            set
        })
}

/// A random valid graph of 2..=max_nodes nodes with out-degree at most `max_degree`.
pub fn graph(max_nodes: usize, max_degree: usize) -> impl Strategy<Value = Graph> {
    (2..=max_nodes).prop_flat_map(move |n| {
        let sets: Vec<_> = (0..n).map(|i| edge_set(i, n, max_degree)).collect();
        sets.prop_map(|sets| match Graph::from_fixed(sets) {
            Ok(g) => g,
            Err(e) => panic!("strategy built an invalid graph: {e}"),
        })
    })
}

/// A graph with a stake (base units) per node.
pub fn graph_and_stakes(
    max_nodes: usize,
    max_degree: usize,
) -> impl Strategy<Value = (Graph, Vec<u64>)> {
    graph(max_nodes, max_degree).prop_flat_map(|g| {
        let n = g.len();
        (Just(g), proptest::collection::vec(1_000u64..10_000_000, n))
    })
}

/// A ledger with every node of `graph` subscribed at block 0 with `stakes`, each node's
/// graph edge set stored at block 0 (an emit that accrues nothing), so it is in force from
/// the first block on.
pub fn subscribed(rate: u64, graph: &Graph, stakes: &[u64]) -> Ledger<usize> {
    let mut ledger = Ledger::new(rate, 0);
    for (i, s) in stakes.iter().enumerate() {
        ledger.subscribe(i, *s, 0).unwrap();
    }
    for i in 0..stakes.len() {
        ledger.emit(&i, graph.edges(i), 0).unwrap();
    }
    ledger
}

/// Every node's stake on the ledger as floats.
pub fn stakes_f64(ledger: &Ledger<usize>, n: usize) -> Vec<f64> {
    (0..n).map(|i| ledger.stake(&i).unwrap() as f64).collect()
}

/// Every node's residual on the ledger as floats.
pub fn residuals_f64(ledger: &Ledger<usize>, n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| ledger.residual(&i).unwrap() as f64)
        .collect()
}

/// Adds what one emit injected into the propagation to `injected`: the claim less its
/// compounding at the emitter, and that compounding at the forward targets by weight.
pub fn add_injection(
    injected: &mut [f64],
    report: &EmitReport,
    edges: &[Edge<usize>],
    node: usize,
) {
    injected[node] += (report.accrued - report.compounding) as f64;
    let forward: f64 = edges.iter().skip(1).map(|e| e.weight as f64).sum();
    for e in edges.iter().skip(1) {
        injected[e.to] += report.compounding as f64 * e.weight as f64 / forward;
    }
}
