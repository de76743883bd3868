//! The scenario file loader: every kind of bad input is a typed error, never a panic.

use emission::fixed::MAX_EDGES;
use emission::seed::{self, Variant};
use emission::EdgeError;
use simulator::file::{load, parse, FileError};

/// A two-node scenario whose node `a` has the given edge list (JSON array text).
fn with_edges(edges: &str) -> String {
    format!(
        r#"{{ "nodes": [
            {{ "name": "a", "stake": 1.0, "edges": {edges} }},
            {{ "name": "b", "stake": 2.0, "edges": [ {{ "to": "b", "weight": 1.0 }} ] }}
        ] }}"#
    )
}

/// The edge error node `a` gets for the given edge list.
fn edge_error(edges: &str) -> EdgeError {
    match parse(&with_edges(edges)) {
        Err(FileError::Edge { node, error }) => {
            assert_eq!(node, "a");
            error
        }
        other => panic!("expected an edge error, got {other:?}"),
    }
}

#[test]
fn a_valid_file_loads_with_its_parameters() {
    let s = parse(&with_edges(
        r#"[{"to":"a","weight":0.75},{"to":"b","weight":0.25}]"#,
    ))
    .unwrap();
    assert_eq!(s.graph.len(), 2);
    assert_eq!(s.graph.edges(0)[1].weight, 250_000);
    assert_eq!(s.stake, vec![1.0, 2.0]);
    assert_eq!(s.rate, 100.0);
}

#[test]
fn the_shipped_seed_scenario_is_the_seed_graph() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/seed-run2.json");
    let s = load(std::path::Path::new(path)).unwrap();
    assert_eq!(s.graph, seed::graph(Variant::BLinksA).unwrap());
    assert_eq!(s.blocks, seed::STEPS);
    assert_eq!(s.rate, seed::RATE);
}

#[test]
fn edge_set_not_starting_with_self() {
    let e = edge_error(r#"[{"to":"b","weight":0.5},{"to":"a","weight":0.5}]"#);
    assert_eq!(e, EdgeError::SelfNotFirst);
}

#[test]
fn negative_weight() {
    let e = edge_error(r#"[{"to":"a","weight":1.5},{"to":"b","weight":-0.5}]"#);
    assert_eq!(e, EdgeError::NegativeWeight { index: 1 });
}

#[test]
fn weights_summing_off_one_beyond_tolerance() {
    let e = edge_error(r#"[{"to":"a","weight":0.5},{"to":"b","weight":0.6}]"#);
    assert!(matches!(e, EdgeError::SumOff { sum } if (sum - 1.1).abs() < 1e-12));
    // Within the default tolerance (0.001) the set is accepted and made exact.
    assert!(parse(&with_edges(
        r#"[{"to":"a","weight":0.5004},{"to":"b","weight":0.5}]"#
    ))
    .is_ok());
}

#[test]
fn empty_edge_set_and_duplicates_and_tiny_self_weight() {
    assert_eq!(edge_error("[]"), EdgeError::Empty);
    assert_eq!(
        edge_error(
            r#"[{"to":"a","weight":0.5},{"to":"b","weight":0.25},{"to":"b","weight":0.25}]"#
        ),
        EdgeError::Duplicate { index: 2 }
    );
    assert!(matches!(
        edge_error(r#"[{"to":"a","weight":0.001},{"to":"b","weight":0.999}]"#),
        EdgeError::SelfWeightTooSmall { .. }
    ));
}

#[test]
fn unknown_node() {
    match parse(&with_edges(
        r#"[{"to":"a","weight":0.5},{"to":"zz","weight":0.5}]"#,
    )) {
        Err(FileError::UnknownNode {
            node,
            index,
            target,
        }) => {
            assert_eq!((node.as_str(), index, target.as_str()), ("a", 1, "zz"));
        }
        other => panic!("expected UnknownNode, got {other:?}"),
    }
}

#[test]
fn too_many_edges() {
    let names: Vec<String> = (0..=MAX_EDGES).map(|i| format!("n{i}")).collect();
    let nodes: Vec<String> = names
        .iter()
        .map(|n| {
            let edges = if n == "n0" {
                names
                    .iter()
                    .map(|t| format!(r#"{{"to":"{t}","weight":{}}}"#, 1.0 / names.len() as f64))
                    .collect::<Vec<_>>()
                    .join(",")
            } else {
                format!(r#"{{"to":"{n}","weight":1.0}}"#)
            };
            format!(r#"{{"name":"{n}","stake":1.0,"edges":[{edges}]}}"#)
        })
        .collect();
    let text = format!(r#"{{"nodes":[{}]}}"#, nodes.join(","));
    match parse(&text) {
        Err(FileError::Edge { node, error }) => {
            assert_eq!(node, "n0");
            assert_eq!(
                error,
                EdgeError::TooMany {
                    count: MAX_EDGES + 1,
                    max: MAX_EDGES
                }
            );
        }
        other => panic!("expected TooMany, got {other:?}"),
    }
}

#[test]
fn non_finite_numbers_cannot_be_written_in_json() {
    // JSON has no NaN; an overflowing literal is rejected by the parser, not turned into inf.
    assert!(matches!(
        parse(&with_edges(r#"[{"to":"a","weight":NaN}]"#)),
        Err(FileError::Json(_))
    ));
    assert!(matches!(
        parse(&with_edges(r#"[{"to":"a","weight":1e999}]"#)),
        Err(FileError::Json(_))
    ));
}

#[test]
fn malformed_files_and_parameters() {
    assert!(matches!(parse("{"), Err(FileError::Json(_))));
    assert!(matches!(
        parse(r#"{"nodes":[], "extra":1}"#),
        Err(FileError::Json(_))
    ));
    assert!(matches!(parse(r#"{"nodes":[]}"#), Err(FileError::NoNodes)));
    let dup = r#"{"nodes":[{"name":"a","stake":1,"edges":[{"to":"a","weight":1}]},
                           {"name":"a","stake":1,"edges":[{"to":"a","weight":1}]}]}"#;
    assert!(matches!(parse(dup), Err(FileError::DuplicateName(n)) if n == "a"));
    let neg = r#"{"nodes":[{"name":"a","stake":-1,"edges":[{"to":"a","weight":1}]}]}"#;
    assert!(matches!(parse(neg), Err(FileError::BadStake(n)) if n == "a"));
    let p = r#"{"nodes":[{"name":"a","stake":1,"edges":[{"to":"a","weight":1}]}],"emit_probability":2}"#;
    assert!(matches!(
        parse(p),
        Err(FileError::BadParameter {
            name: "emit_probability",
            ..
        })
    ));
    let missing = std::path::Path::new("/nonexistent/scenario.json");
    assert!(matches!(load(missing), Err(FileError::Io { .. })));
}
