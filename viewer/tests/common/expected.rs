//! Expected figures computed independently of the viewer, from table rows as nodeos prints
//! them, so the snapshot can be checked against the `emission` crate's matrix model.

use emission::graph::Graph;
use emission::models::matrix::{attribution, Method};
use emission::Edge;
use serde_json::Value;

/// An unsigned integer nodeos printed as a number or as a decimal string.
pub fn as_u64(v: &Value) -> u64 {
    match v {
        Value::String(s) => s.parse().unwrap(),
        v => v.as_u64().unwrap(),
    }
}

/// The matrix model's shares of `metagraph` rows (in the order given), by the `emission` crate.
pub fn expected_shares(rows: &[Value]) -> Vec<f64> {
    let names: Vec<&str> = rows.iter().map(|r| r["user"].as_str().unwrap()).collect();
    let sets = rows
        .iter()
        .map(|r| {
            r["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| Edge {
                    to: names.iter().position(|n| *n == e["to"]).unwrap(),
                    weight: as_u64(&e["weight"]) as u32,
                })
                .collect()
        })
        .collect();
    let graph = Graph::from_fixed(sets).unwrap();
    let stake: Vec<f64> = rows.iter().map(|r| as_u64(&r["stake"]) as f64).collect();
    attribution(&graph, &stake, Method::Solve).unwrap()
}

/// Asserts each snapshot node's `predicted` share is the model's share of its `metagraph` row
/// (nodes and rows in the same order).
pub fn assert_predictions(nodes: &[Value], rows: &[Value]) {
    let expected = expected_shares(rows);
    assert_eq!(nodes.len(), expected.len());
    for (node, want) in nodes.iter().zip(&expected) {
        let got = node["predicted"].as_f64().unwrap();
        assert!(
            (got - want).abs() < 1e-12,
            "{}: {got} vs {want}",
            node["name"]
        );
    }
}
