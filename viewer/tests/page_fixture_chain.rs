//! The page end to end against canned chain answers: a loopback server answers nodeos'
//! `get_info`, `get_table_rows` (paged) and `get_table_by_scope` with tables that change
//! every poll, and two worker-like `/status` endpoints answer (the third node's is closed).
//! Checks the snapshot against the `emission` matrix model and the conservation identity,
//! then renders the page in headless Chromium and checks the DOM; saves a screenshot.
//!
//! The same page against a real local chain and the real contract is `page.rs`.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::browser::{assert_dom_shows, dump_dom, require_chromium, save_screenshot};
use common::expected::assert_predictions;
use common::responder::{closed_port, Responder};
use common::viewer::Viewer;
use serde_json::{json, Value};

/// The canned chain: poll `k` sees stakes grown by `k` blocks of emission.
struct Chain {
    polls: AtomicU64,
    alice_port: u16,
    bob_port: u16,
    carol_port: u16,
}

impl Chain {
    fn metagraph(&self, k: u64) -> Vec<Value> {
        vec![
            json!({"user": "alice", "address": "127.0.0.1", "port": self.alice_port,
                   "stake": (100_000 + 3_000 * k).to_string(), "last_emit": 10 + k,
                   "edges": [{"to": "alice", "weight": 500000}, {"to": "bob", "weight": 350000},
                             {"to": "carol", "weight": 150000}]}),
            json!({"user": "bob", "address": "127.0.0.1", "port": self.bob_port,
                   "stake": 60_000 + 5_000 * k, "last_emit": 9 + k,
                   "edges": [{"to": "bob", "weight": 800000}, {"to": "alice", "weight": 200000}]}),
            json!({"user": "carol", "address": "127.0.0.1", "port": self.carol_port,
                   "stake": 40_000 + 2_000 * k, "last_emit": 8,
                   "edges": [{"to": "carol", "weight": 1000000}]}),
        ]
    }

    fn residuals(&self, k: u64) -> Vec<Value> {
        vec![json!({"user": "carol", "residual": 500 + k})]
    }

    fn global(&self, k: u64) -> Value {
        let total: u64 = 200_000 + 10_000 * k;
        json!({"total_stake": total, "outstanding": 500 + k, "minted": 10_000 * k + 500 + k,
               "emission_rate": 10000, "min_stake": 10000, "symbol": "4,BIT"})
    }

    /// Balances are fixed; the supply follows stake + outstanding so the identity holds.
    fn supply(&self, k: u64) -> u64 {
        1_000_000 + 200_000 + 10_000 * k + 500 + k
    }

    fn answer(&self, path: &str, body: &str) -> (u16, String) {
        let request: Value = serde_json::from_str(body).unwrap_or(Value::Null);
        let k = self.polls.load(Ordering::SeqCst);
        let rows = |rows: Vec<Value>| json!({"rows": rows, "more": false, "next_key": ""});
        match path {
            "/v1/chain/get_info" => {
                let k = self.polls.fetch_add(1, Ordering::SeqCst) + 1;
                let head = 1_000 + 4 * k;
                let info = json!({"chain_id": "00".repeat(32), "head_block_num": head,
                    "head_block_id": "00".repeat(32), "last_irreversible_block_num": head - 1,
                    "last_irreversible_block_id": "00".repeat(32),
                    "head_block_time": "2026-11-25T16:00:00.000"});
                (200, info.to_string())
            }
            "/v1/chain/get_table_by_scope" => {
                let holders: Vec<Value> = ["alice", "bob", "dave"]
                    .iter()
                    .map(|owner| {
                        json!({"code": "bittensor", "scope": owner, "table": "accounts",
                               "payer": owner, "count": 1})
                    })
                    .collect();
                (200, json!({"rows": holders, "more": ""}).to_string())
            }
            "/v1/chain/get_table_rows" => {
                let table = request["table"].as_str().unwrap_or("");
                let scope = request["scope"].as_str().unwrap_or("");
                let answer = match (table, scope) {
                    // Two rows per page: the viewer must follow `more`/`next_key`.
                    ("metagraph", "bittensor") => {
                        let all = self.metagraph(k);
                        let start = match request["lower_bound"].as_str() {
                            Some("carol") => 2,
                            _ => 0,
                        };
                        let page: Vec<Value> = all[start..].iter().take(2).cloned().collect();
                        let more = start == 0;
                        json!({"rows": page, "more": more, "next_key": if more { "carol" } else { "" }})
                    }
                    ("residuals", "bittensor") => rows(self.residuals(k)),
                    ("global", "bittensor") => rows(vec![self.global(k)]),
                    ("stat", "BIT") => {
                        let supply = self.supply(k);
                        rows(vec![
                            json!({"supply": format!("{}.{:04} BIT", supply / 10_000, supply % 10_000),
                                         "max_supply": "1000000000.0000 BIT", "issuer": "bittensor"}),
                        ])
                    }
                    ("accounts", "alice") => rows(vec![json!({"balance": "60.0000 BIT"})]),
                    ("accounts", "bob") => rows(vec![json!({"balance": "40.0000 BIT"})]),
                    ("accounts", _) => rows(vec![]),
                    _ => return (500, json!({"error": "unknown table"}).to_string()),
                };
                (200, answer.to_string())
            }
            _ => (404, "{}".into()),
        }
    }
}

fn history_first_block(state: &Value) -> u64 {
    state["history"][0]["block"].as_u64().unwrap()
}

#[test]
fn page_draws_fixture_chain_and_workers() {
    require_chromium();
    let bob_polls = Arc::new(AtomicU64::new(0));
    let alice = Responder::start(Arc::new(|_: &str, _: &str, _: &str| {
        (
            200,
            json!({"identity": "alice", "step": 300,
                      "loss_history": [[0, 7.2], [100, 6.1], [200, 5.3], [300, 4.9]],
                      "attributions": {"alice": 0.5, "bob": 0.35, "carol": 0.15},
                      "emits": {"pushed": 4, "failed": 1}, "future_field": [1, 2]})
            .to_string(),
        )
    }));
    let counter = bob_polls.clone();
    // bob answers in the shape `bittensor-worker` serves: a bare loss tail, per-slot peers.
    let bob = Responder::start(Arc::new(move |_: &str, _: &str, _: &str| {
        let k = counter.fetch_add(1, Ordering::SeqCst);
        let step = 10 * (k + 1);
        let tail: Vec<f64> = (0..3)
            .map(|i| 6.0 / (1.0 + (step - 2 + i) as f64 * 0.01))
            .collect();
        (
            200,
            json!({"identity": "bob", "step": step, "loss": tail[2], "loss_tail": tail,
                      "self_attribution": 0.8, "attributions": [0.8, 0.2],
                      "peers": [{"slot": 0, "user": "alice", "attribution": 0.2, "healthy": true}],
                      "emits_pushed": k, "emits_failed": 0})
            .to_string(),
        )
    }));
    // carol's worker: a port nobody listens on.
    let carol_port = closed_port();
    let chain = Arc::new(Chain {
        polls: AtomicU64::new(0),
        alice_port: alice.port,
        bob_port: bob.port,
        carol_port,
    });
    let served = chain.clone();
    let node = Responder::start(Arc::new(move |_: &str, path: &str, body: &str| {
        served.answer(path, body)
    }));

    let viewer = Viewer::start(&node.url(), "bittensor", "0.3");
    let state = viewer.wait_for(Duration::from_secs(60), |s| {
        s["history"].as_array().map_or(0, Vec::len) >= 3
            && s["workers"].as_array().map_or(0, Vec::len) == 3
    });

    // Snapshot against the served tables and the emission crate.
    assert!(state["error"].is_null(), "poll error: {}", state["error"]);
    let block = state["head_block"].as_u64().unwrap();
    let k = (block - 1_000) / 4;
    let rows = chain.metagraph(k);
    let nodes = state["nodes"].as_array().unwrap();
    let names: Vec<&str> = nodes.iter().map(|n| n["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["alice", "bob", "carol"], "all pages read");
    assert_predictions(nodes, &rows);
    let stakes: Vec<u64> = nodes.iter().map(|n| n["stake"].as_u64().unwrap()).collect();
    let total: u64 = stakes.iter().sum();
    assert!(
        (nodes[1]["fraction"].as_f64().unwrap() - stakes[1] as f64 / total as f64).abs() < 1e-12
    );
    assert_eq!(nodes[2]["residual"].as_u64(), Some(500 + k));
    // Credited shares: growth of stake + residual between the first and last recorded block.
    let first_k = (history_first_block(&state) - 1_000) / 4;
    let span = (k - first_k) as f64;
    assert!(span > 0.0);
    let gains = [3_000.0 * span, 5_000.0 * span, 2_001.0 * span];
    let total_gain: f64 = gains.iter().sum();
    for (node, gain) in nodes.iter().zip(gains) {
        let got = node["credited"].as_f64().unwrap();
        assert!(
            (got - gain / total_gain).abs() < 1e-12,
            "{}: {got}",
            node["name"]
        );
    }
    let c = &state["conservation"];
    assert_eq!(
        c["balances"].as_u64(),
        Some(1_000_000),
        "alice + bob balances"
    );
    assert_eq!(c["supply_holds"], true, "{c}");
    assert_eq!(c["sums_hold"], true, "{c}");
    let ups: Vec<bool> = nodes.iter().map(|n| n["up"].as_bool().unwrap()).collect();
    assert_eq!(ups, [true, true, false]);
    let history = state["history"].as_array().unwrap();
    let blocks: Vec<u64> = history
        .iter()
        .map(|h| h["block"].as_u64().unwrap())
        .collect();
    assert!(blocks.windows(2).all(|w| w[0] < w[1]), "{blocks:?}");
    let workers = state["workers"].as_array().unwrap();
    assert_eq!(workers[0]["loss_series"].as_array().unwrap().len(), 4);
    assert!(
        workers[1]["loss_series"].as_array().unwrap().len() >= 2,
        "recorded by the viewer"
    );
    assert!(workers[2]["error"].as_str().is_some());

    // The rendered page.
    let dom = dump_dom(&viewer.url());
    assert_dom_shows(
        &dom,
        &["alice", "bob", "carol"],
        &["data-node", "data-row", "data-worker", "data-series"],
        &[
            "data-edge=\"alice:bob\"",
            "data-edge=\"bob:alice\"",
            "data-attribution=\"alice:bob\"",
            "data-attribution=\"bob:alice\"",
            "data-loss=\"alice\"",
            "holds",
        ],
    );
    assert!(
        !dom.contains("data-node=\"dave\""),
        "dave holds tokens but is not subscribed"
    );
    assert!(!dom.contains("viewer unreachable"));

    save_screenshot(&viewer.url(), "viewer-fixture.png");
}
