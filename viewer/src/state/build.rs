//! One poll's chain tables and worker reports turned into the snapshot the page draws.

use std::collections::HashMap;

use emission::fixed::weight_to_f64;

use super::conservation::check;
use super::history::History;
use super::snapshot::{EdgeView, NodeView, Snapshot, WorkerView};
use crate::chain::ChainTables;
use crate::model::predict_shares;
use crate::workers::WorkerReport;
use chain_client::Name;

/// Builds the snapshot of one successful poll and records it in `history`.
///
/// `reports` may be in any order; nodes and workers come out sorted by name. `now_ms` is the
/// poll's Unix time.
pub fn build_snapshot(
    tables: &ChainTables,
    reports: Vec<WorkerReport>,
    history: &mut History,
    now_ms: u64,
) -> Snapshot {
    // Name order is the names' text order (EOSIO's encoding preserves it).
    let mut sorted = tables.metagraph.clone();
    sorted.sort_by_key(|n| n.user);
    let total: u128 = sorted.iter().map(|n| n.stake as u128).sum();
    let residuals: HashMap<Name, u64> = tables
        .residuals
        .iter()
        .map(|r| (r.user, r.residual))
        .collect();
    let up: HashMap<&str, bool> = reports.iter().map(|r| (r.name.as_str(), r.up)).collect();
    let (predicted, prediction_error) = match predict_shares(&sorted) {
        Ok(p) => (p.into_iter().map(Some).collect(), None),
        Err(e) => (vec![None; sorted.len()], Some(e)),
    };
    let received = received_attribution(&sorted, total);
    let mut nodes: Vec<NodeView> = sorted
        .iter()
        .zip(predicted)
        .map(|(n, predicted)| NodeView {
            name: n.user.to_string(),
            address: n.address.clone(),
            port: n.port,
            stake: n.stake,
            fraction: if total == 0 {
                0.0
            } else {
                n.stake as f64 / total as f64
            },
            predicted,
            credited: None,
            received: received.get(&n.user).copied().unwrap_or(0.0),
            residual: residuals.get(&n.user).copied().unwrap_or(0),
            last_emit: n.last_emit,
            self_weight: n
                .edges
                .first()
                .filter(|e| e.to == n.user)
                .map_or(0.0, |e| weight_to_f64(e.weight)),
            up: up
                .get(n.user.to_string().as_str())
                .copied()
                .unwrap_or(false),
        })
        .collect();
    let edges = sorted
        .iter()
        .flat_map(|n| {
            n.edges
                .iter()
                .filter(move |e| e.to != n.user)
                .map(move |e| EdgeView {
                    from: n.user.to_string(),
                    to: e.to.to_string(),
                    weight: weight_to_f64(e.weight),
                })
        })
        .collect();
    history.record_fractions(tables.head_block, &nodes);
    let credited = history.credited_shares();
    for node in &mut nodes {
        node.credited = credited.get(&node.name).copied();
    }
    let mut reports = reports;
    reports.sort_by(|a, b| a.name.cmp(&b.name));
    let names: Vec<&str> = reports.iter().map(|r| r.name.as_str()).collect();
    history.retain_workers(&names);
    let workers = reports
        .into_iter()
        .map(|report| {
            let series = history.loss_series(&report);
            WorkerView::new(report, series)
        })
        .collect();
    Snapshot {
        updated_unix_ms: Some(now_ms),
        head_block: Some(tables.head_block),
        prediction_error,
        global: Some(tables.global.clone()),
        nodes,
        edges,
        history: history.fractions(),
        workers,
        conservation: check(tables),
        ..Snapshot::default()
    }
}

/// Each node's attribution from the others, `sum over i != j of fraction_i * w_ij`: the value
/// its peers credit it with, before the chain turns attributions into emission.
fn received_attribution(sorted: &[crate::chain::MetagraphRow], total: u128) -> HashMap<Name, f64> {
    let mut received: HashMap<Name, f64> = sorted.iter().map(|n| (n.user, 0.0)).collect();
    if total == 0 {
        return received;
    }
    for n in sorted {
        let fraction = n.stake as f64 / total as f64;
        for e in n.edges.iter().filter(|e| e.to != n.user) {
            if let Some(r) = received.get_mut(&e.to) {
                *r += fraction * weight_to_f64(e.weight);
            }
        }
    }
    received
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::{MetagraphRow, ResidualRow};
    use crate::workers::status_for_tests;
    use serde_json::{json, Value};

    fn tables(metagraph: Value, residuals: Value, supply: &str, balances: u64) -> ChainTables {
        let metagraph: Vec<MetagraphRow> = serde_json::from_value(metagraph).unwrap();
        let residuals: Vec<ResidualRow> = serde_json::from_value(residuals).unwrap();
        let total_stake: u64 = metagraph.iter().map(|n| n.stake).sum();
        let outstanding: u64 = residuals.iter().map(|r| r.residual).sum();
        ChainTables {
            head_block: 42,
            metagraph,
            residuals,
            global: serde_json::from_value(
                json!({"total_stake": total_stake, "outstanding": outstanding,
                "minted": 0, "emission_rate": 10000, "min_stake": 1, "symbol": "4,BIT"}),
            )
            .unwrap(),
            stat: Some(
                serde_json::from_value(json!({"supply": supply, "max_supply": "1000000.0000 BIT",
                                    "issuer": "bittensor"}))
                .unwrap(),
            ),
            balances: Some(balances),
        }
    }

    fn graph_json() -> (Value, Value) {
        (
            json!([
                {"user": "carol", "address": "127.0.0.1", "port": 9003, "stake": "30000",
                 "last_emit": 40, "edges": [{"to": "carol", "weight": 1000000}]},
                {"user": "alice", "address": "127.0.0.1", "port": 9001, "stake": 10000,
                 "last_emit": 41, "edges": [{"to": "alice", "weight": 600000},
                                            {"to": "bob", "weight": 400000}]},
                {"user": "bob", "address": "127.0.0.1", "port": 9002, "stake": 10000,
                 "last_emit": 39, "edges": [{"to": "bob", "weight": 1000000}]}
            ]),
            json!([{"user": "bob", "residual": 700}]),
        )
    }

    fn report(name: &str, up: bool) -> WorkerReport {
        WorkerReport {
            name: name.into(),
            url: format!("http://127.0.0.1/{name}"),
            up,
            error: (!up).then(|| "refused".to_string()),
            status: up.then(|| status_for_tests(name, 7, &[2.5])),
        }
    }

    #[test]
    fn builds_nodes_edges_history_and_conservation_from_table_json() {
        let (m, r) = graph_json();
        // supply = balances 1000 + stakes 50000 + outstanding 700
        let t = tables(m, r, "5.1700 BIT", 1_000);
        let mut h = History::new(10);
        let s = build_snapshot(
            &t,
            vec![report("bob", true), report("alice", false)],
            &mut h,
            5,
        );
        let names: Vec<&str> = s.nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["alice", "bob", "carol"]);
        let fractions: Vec<f64> = s.nodes.iter().map(|n| n.fraction).collect();
        let stakes: Vec<f64> = t.metagraph.iter().map(|n| n.stake as f64).collect();
        let total: f64 = stakes.iter().sum();
        assert!((fractions[0] - 10_000.0 / total).abs() < 1e-12);
        assert!((fractions.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert_eq!(s.nodes[1].residual, 700);
        assert_eq!(s.nodes[0].residual, 0);
        assert!((s.nodes[0].self_weight - 0.6).abs() < 1e-12);
        assert_eq!(
            (s.nodes[0].up, s.nodes[1].up, s.nodes[2].up),
            (false, true, false)
        );
        assert_eq!(s.edges.len(), 1);
        assert_eq!(
            (s.edges[0].from.as_str(), s.edges[0].to.as_str()),
            ("alice", "bob")
        );
        assert!((s.edges[0].weight - 0.4).abs() < 1e-12);
        // bob receives alice's 40 % at alice's stake fraction; nobody points at alice or carol.
        assert!((s.nodes[1].received - 0.4 * fractions[0]).abs() < 1e-12);
        assert_eq!((s.nodes[0].received, s.nodes[2].received), (0.0, 0.0));
        // The prediction is the emission crate's, aligned with the sorted nodes.
        let sorted: Vec<_> = {
            let mut v = t.metagraph.clone();
            v.sort_by_key(|n| n.user);
            v
        };
        let expected = predict_shares(&sorted).unwrap();
        for (n, p) in s.nodes.iter().zip(&expected) {
            assert_eq!(n.predicted, Some(*p));
        }
        assert!(
            s.nodes[1].predicted.unwrap() > s.nodes[1].fraction,
            "bob gains alice's edge"
        );
        let c = s.conservation.clone().unwrap();
        assert!(c.supply_holds && c.sums_hold, "{c:?}");
        assert_eq!(s.history.len(), 1);
        assert_eq!(s.history[0].block, 42);
        assert_eq!(s.workers[1].loss_series, vec![(7.0, 2.5)]);
        assert_eq!(s.workers[0].error.as_deref(), Some("refused"));
        // The JSON the page reads carries the names the page keys on.
        let text = serde_json::to_string(&s).unwrap();
        for key in [
            "\"nodes\"",
            "\"predicted\"",
            "\"fraction\"",
            "\"received\"",
            "\"loss_series\"",
            "\"conservation\"",
        ] {
            assert!(text.contains(key), "{key} missing");
        }
    }

    #[test]
    fn a_broken_invariant_is_reported_and_a_missing_supply_omits_the_check() {
        let (m, r) = graph_json();
        let mut t = tables(m, r, "5.1701 BIT", 1_000);
        let s = build_snapshot(&t, vec![], &mut History::new(4), 0);
        assert!(!s.conservation.unwrap().supply_holds);
        t.stat = None;
        let s = build_snapshot(&t, vec![], &mut History::new(4), 0);
        assert!(s.conservation.is_none());
        assert!(!serde_json::to_string(&s).unwrap().contains("conservation"));
    }

    #[test]
    fn an_invalid_stored_edge_set_keeps_the_view_and_explains_the_prediction() {
        let (mut m, r) = graph_json();
        m[1]["edges"] = json!([{"to": "alice", "weight": 5}]);
        let t = tables(m, r, "5.1700 BIT", 1_000);
        let s = build_snapshot(&t, vec![], &mut History::new(4), 0);
        assert_eq!(s.nodes.len(), 3);
        assert!(s.nodes.iter().all(|n| n.predicted.is_none()));
        let err = s.prediction_error.unwrap();
        assert!(err.contains("`alice`"), "{err}");
    }
}
