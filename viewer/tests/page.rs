//! The page against a real local chain: nodeos from `localnet`, the real contract deployed,
//! three of four funded accounts subscribed (alice's worker status served on loopback, bob's
//! and carol's ports closed), and one emit so the graph has an edge. Checks the viewer's
//! snapshot against the chain's own tables and the `emission` matrix model, then renders
//! the page in headless Chromium, checks the DOM and saves `artefacts/viewer.png`.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::browser::{assert_dom_shows, dump_dom, require_chromium, save_screenshot};
use common::expected::{as_u64, assert_predictions};
use common::responder::{closed_port, Responder};
use common::viewer::Viewer;
use localnet::{contract_abi, contract_wasm, Localnet};
use serde_json::{json, Value};

const CONTRACT: &str = "bittensor";

fn push(net: &Localnet, action: &str, args: Value, actor: &str) {
    net.push_action(CONTRACT, action, &args.to_string(), actor)
        .unwrap_or_else(|e| panic!("{action} by {actor} failed: {e}"));
}

#[test]
fn page_shows_the_subscribed_nodes_of_a_real_chain() {
    require_chromium();
    let net = Localnet::start().expect("starting the local chain (run scripts/setup first)");
    for name in [CONTRACT, "alice", "bob", "carol", "dave"] {
        net.create_account(name)
            .unwrap_or_else(|e| panic!("creating {name}: {e}"));
    }
    let wasm = contract_wasm().expect("building the contract");
    net.deploy_contract(CONTRACT, &wasm, &contract_abi())
        .expect("deploying the contract");
    push(
        &net,
        "create",
        json!({"issuer": CONTRACT, "maximum_supply": "1000000.0000 BIT"}),
        CONTRACT,
    );
    push(
        &net,
        "issue",
        json!({"to": CONTRACT, "quantity": "1000.0000 BIT", "memo": ""}),
        CONTRACT,
    );
    for name in ["alice", "bob", "carol", "dave"] {
        push(
            &net,
            "transfer",
            json!({"from": CONTRACT, "to": name, "quantity": "100.0000 BIT", "memo": "fund"}),
            CONTRACT,
        );
    }
    let alice_status = Responder::start(Arc::new(|_: &str, _: &str, _: &str| {
        (200, json!({"identity": "alice", "step": 50, "loss_history": [[0, 6.5], [25, 5.9], [50, 5.2]],
                      "attributions": {"alice": 0.6, "bob": 0.4}, "emits": {"pushed": 1, "failed": 0}})
        .to_string())
    }));
    for (name, port, stake) in [
        ("alice", alice_status.port, "30.0000 BIT"),
        ("bob", closed_port(), "20.0000 BIT"),
        ("carol", closed_port(), "10.0000 BIT"),
    ] {
        push(
            &net,
            "subscribe",
            json!({"user": name, "address": "127.0.0.1", "port": port, "stake": stake}),
            name,
        );
    }
    // Let blocks pass after alice's subscribe so her emit accrues a non-zero emission.
    wait_blocks(&net, 2);
    push(
        &net,
        "emit",
        json!({"user": "alice", "edges": [{"to": "alice", "weight": 600000},
                                          {"to": "bob", "weight": 400000}]}),
        "alice",
    );

    let viewer = Viewer::start(&net.url, CONTRACT, "0.5");
    let state = viewer.wait_for(Duration::from_secs(90), |s| {
        s["nodes"].as_array().map_or(0, Vec::len) == 3 && !s["conservation"].is_null()
    });

    // The snapshot against the chain's own tables (nothing changes them after the emit).
    assert!(state["error"].is_null(), "poll error: {}", state["error"]);
    let mut rows = net
        .table(CONTRACT, CONTRACT, "metagraph")
        .expect("metagraph");
    rows.sort_by(|a, b| a["user"].as_str().cmp(&b["user"].as_str()));
    let nodes = state["nodes"].as_array().unwrap();
    let names: Vec<&str> = nodes.iter().map(|n| n["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["alice", "bob", "carol"]);
    for (node, row) in nodes.iter().zip(&rows) {
        assert_eq!(
            node["stake"].as_u64().unwrap(),
            as_u64(&row["stake"]),
            "{node}"
        );
    }
    assert_predictions(nodes, &rows);
    let residuals = net
        .table(CONTRACT, CONTRACT, "residuals")
        .expect("residuals");
    let bob_residual = residuals
        .iter()
        .find(|r| r["user"] == "bob")
        .map_or(0, |r| as_u64(&r["residual"]));
    assert_eq!(nodes[1]["residual"].as_u64(), Some(bob_residual));
    let c = &state["conservation"];
    assert_eq!(
        c["supply"].as_u64().map(|s| s > 10_000_000),
        Some(true),
        "{c}"
    );
    assert_eq!(c["supply_holds"], true, "{c}");
    assert_eq!(c["sums_hold"], true, "{c}");
    let ups: Vec<bool> = nodes.iter().map(|n| n["up"].as_bool().unwrap()).collect();
    assert_eq!(ups, [true, false, false]);

    // The rendered page.
    let dom = dump_dom(&viewer.url());
    assert_dom_shows(
        &dom,
        &["alice", "bob", "carol"],
        &["data-node", "data-row", "data-worker"],
        &[
            "data-edge=\"alice:bob\"",
            "data-attribution=\"alice:bob\"",
            "holds",
        ],
    );
    assert!(
        !dom.contains("data-node=\"dave\""),
        "dave is funded but not subscribed"
    );

    save_screenshot(&viewer.url(), "viewer.png");
}

/// Blocks until the chain's head has advanced by `count` blocks (bounded by a timeout).
fn wait_blocks(net: &Localnet, count: u64) {
    let head = || {
        net.get_info().expect("get_info")["head_block_num"]
            .as_u64()
            .expect("head_block_num")
    };
    let target = head() + count;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while head() < target {
        assert!(
            std::time::Instant::now() < deadline,
            "the chain stopped producing blocks"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
