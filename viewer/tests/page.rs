//! The live view of a real network: a local nodeos with the real contract, three funded
//! accounts and three real `bittensor-worker` processes training together on loopback (the
//! worker crate's process harness), and the real viewer reading the chain and the workers'
//! `/status` over the HTTP/2 they serve (loopback allowed by `--allow-loopback`).
//!
//! Checks that every worker panel shows a live loss series and attributions naming both of
//! its peers, and that they follow the running workers; renders the page in headless Chromium
//! and saves `target/artefacts/viewer.png`. Then tries two attacks on the view: an account
//! whose chain row advertises another node's address (shown down, "answers as"), and, with
//! the workers killed and the tables quiet, checks the snapshot against the chain's own
//! tables and the `emission` matrix model.
//!
//! Waits have generous deadlines only so that a broken run fails instead of hanging.

#[path = "../../worker/tests/support/mod.rs"]
mod support;

mod common;

use std::time::Duration;

use bittensor_tests::{deployed, funded};
use common::browser::{assert_dom_shows, dump_dom, require_chromium, save_screenshot};
use common::expected::{as_u64, assert_predictions};
use common::viewer::Viewer;
use serde_json::{json, Value};
use support::{spawn, wait_within, StatusReader, WorkerOpts, WorkerProc};

const USERS: [&str; 3] = ["alice", "bob", "carol"];
/// An account that subscribes with alice's worker address as its own.
const IMPOSTOR: &str = "dave";
/// 100.0000 BIT each; workers stake 10.0000 BIT.
const FUNDS: u64 = 1_000_000;
const DEADLINE: Duration = Duration::from_secs(120);

fn workers_of(state: &Value) -> Vec<Value> {
    state["workers"].as_array().cloned().unwrap_or_default()
}

fn worker<'a>(state: &'a Value, name: &str) -> &'a Value {
    state["workers"]
        .as_array()
        .and_then(|ws| ws.iter().find(|w| w["name"] == name))
        .unwrap_or(&Value::Null)
}

/// The accounts a worker panel attributes, with their values.
fn attributions(w: &Value) -> Vec<(String, f64)> {
    w["attributions"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|a| Some((a["peer"].as_str()?.to_string(), a["value"].as_f64()?)))
                .collect()
        })
        .unwrap_or_default()
}

/// The last x (training step) of a worker's loss series.
fn last_step(w: &Value) -> f64 {
    w["loss_series"]
        .as_array()
        .and_then(|s| s.last())
        .and_then(|p| p[0].as_f64())
        .unwrap_or(-1.0)
}

/// Every worker up, with a loss series over several steps and a positive attribution to each
/// of its two peers, and an on-chain edge from every worker to a peer.
fn live(state: &Value) -> bool {
    let workers = workers_of(state);
    let panels_live = workers.len() == USERS.len()
        && workers.iter().all(|w| {
            let series = w["loss_series"].as_array().map_or(0, Vec::len);
            let attributed = attributions(w);
            let me = w["name"].as_str().unwrap_or_default();
            w["up"] == true
                && series >= 20
                && USERS
                    .iter()
                    .filter(|u| **u != me)
                    .all(|u| attributed.iter().any(|(p, v)| p == u && *v > 0.0))
        });
    let edges = state["edges"].as_array().cloned().unwrap_or_default();
    let every_worker_emitted_a_peer_edge =
        USERS.iter().all(|u| edges.iter().any(|e| e["from"] == *u));
    panels_live && every_worker_emitted_a_peer_edge && !state["conservation"].is_null()
}

#[test]
fn page_shows_live_loss_and_attributions_of_three_real_workers() {
    require_chromium();
    let (net, contract) = deployed().expect("local chain with the contract");
    let mut accounts = USERS.to_vec();
    accounts.push(IMPOSTOR);
    funded(&net, &contract, &accounts, FUNDS).expect("funded accounts");
    // Started first, the viewer records every worker's loss from its first steps.
    let viewer = Viewer::start(
        &net.url,
        &contract,
        "0.5",
        &["--allow-loopback", "--timeout-secs", "5"],
    );
    let dir = tempfile::tempdir().expect("test directory");
    let mut workers: Vec<WorkerProc> = USERS
        .iter()
        .enumerate()
        .map(|(i, user)| {
            let mut opts = WorkerOpts::new(user, &net.url, &contract);
            opts.peers = 2;
            opts.seed = i as u64 + 1;
            spawn(dir.path(), &opts, 0)
        })
        .collect();
    let all: Vec<&WorkerProc> = workers.iter().collect();

    let first = wait_within(DEADLINE, "live worker panels", &all, || {
        let state = viewer.state();
        live(&state).then_some(state)
    });
    assert!(first["error"].is_null(), "poll error: {}", first["error"]);
    let reader = StatusReader::new();
    for (w, proc) in workers_of(&first).iter().zip(&workers) {
        let name = w["name"].as_str().unwrap();
        assert_eq!(name, proc.name);
        // What the panel shows is what this worker process serves, a moment earlier.
        let own = reader.status(proc).expect("the worker answers /status");
        assert_eq!(own["identity"], name);
        assert_eq!(w["identity"], name);
        assert!(w["step"].as_u64().unwrap() <= own["step"].as_u64().unwrap());
        assert_eq!(w["url"], format!("{}/status", proc.base));
        let series = w["loss_series"].as_array().unwrap();
        let steps: Vec<f64> = series.iter().map(|p| p[0].as_f64().unwrap()).collect();
        assert!(steps.windows(2).all(|s| s[0] < s[1]), "{name}: {steps:?}");
        assert!(
            series
                .iter()
                .all(|p| p[1].as_f64().is_some_and(|l| l.is_finite() && l > 0.0)),
            "{name}: {series:?}"
        );
        // The interval the last posted edge set covers, as the worker reports it.
        let interval = &w["last_emit_interval"];
        assert!(interval["steps"].as_u64() > Some(0), "{name}: {interval}");
        assert!(interval["secs"].as_f64() > Some(0.0), "{name}: {interval}");
        let weight = interval["weight_in_posted"].as_f64().unwrap();
        assert!(weight > 0.0 && weight <= 1.0, "{name}: {interval}");
        let attributed = attributions(w);
        assert_eq!(attributed[0].0, name, "self first");
        let total: f64 = attributed.iter().map(|(_, v)| v).sum();
        assert!(
            attributed.iter().all(|(_, v)| (0.0..=1.0).contains(v)) && total <= 1.0 + 1e-9,
            "{name}: {attributed:?}"
        );
        println!(
            "{name}: step {} loss {:.4} ({} points), attributions {attributed:?}",
            w["step"],
            w["loss"].as_f64().unwrap(),
            series.len()
        );
    }

    // Live: the panels follow the running workers.
    let later = wait_within(DEADLINE, "the panels to advance", &all, || {
        let state = viewer.state();
        USERS
            .iter()
            .all(|u| {
                let (now, then) = (worker(&state, u), worker(&first, u));
                now["up"] == true
                    && now["step"].as_u64() > then["step"].as_u64()
                    && last_step(now) > last_step(then)
            })
            .then_some(state)
    });
    assert!(later["history"].as_array().map_or(0, Vec::len) >= 2);
    // Attribution received sits beside the emission credited: a node another node points
    // at receives a positive stake-weighted attribution, one nobody points at receives none.
    for n in later["nodes"].as_array().unwrap() {
        let name = n["name"].as_str().unwrap();
        let pointed_at = later["edges"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["to"] == name && e["weight"].as_f64().unwrap_or(0.0) > 0.0);
        let received = n["received"].as_f64().unwrap();
        assert_eq!(received > 0.0, pointed_at, "{name}: received {received}");
        assert!(received <= 1.0, "{name}: received {received}");
    }

    let mut needles: Vec<String> = USERS
        .iter()
        .flat_map(|a| {
            USERS
                .iter()
                .filter(move |b| *b != a)
                .map(move |b| format!("data-attribution=\"{a}:{b}\""))
        })
        .collect();
    needles.extend(
        later["edges"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["weight"].as_f64().unwrap_or(0.0) >= 0.01)
            .map(|e| {
                format!(
                    "data-edge=\"{}:{}\"",
                    e["from"].as_str().unwrap(),
                    e["to"].as_str().unwrap()
                )
            }),
    );
    needles.push("holds".into());
    needles.push("class=\"received\"".into());
    let needles: Vec<&str> = needles.iter().map(String::as_str).collect();
    // The page is live: a worker slow to answer one poll shows as down in that render, so
    // the rendered page gets three tries to show every panel.
    let mut tries = 0;
    let dom = loop {
        tries += 1;
        let dom = dump_dom(&viewer.url());
        if tries == 3 || !dom.contains("unreachable") {
            break dom;
        }
    };
    assert_dom_shows(
        &dom,
        &USERS,
        &["data-node", "data-row", "data-worker", "data-loss"],
        &needles,
    );
    save_screenshot(&viewer.url(), "viewer.png");

    // An account advertising alice's address is shown down, not credited with her status.
    let alice = worker(&later, "alice")["url"].as_str().unwrap().to_string();
    let port: u16 = alice
        .trim_end_matches("/status")
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("alice's status port");
    net.push_action(
        &contract,
        "subscribe",
        &json!({"user": IMPOSTOR, "address": "127.0.0.1", "port": port, "stake": "10.0000 BIT"})
            .to_string(),
        IMPOSTOR,
    )
    .expect("dave subscribes with alice's address");
    let impostor = wait_within(DEADLINE, "the impostor's panel", &all, || {
        let state = viewer.state();
        let w = worker(&state, IMPOSTOR).clone();
        (!w.is_null() && w["error"].is_string()).then_some(w)
    });
    assert_eq!(impostor["up"], false);
    let error = impostor["error"].as_str().unwrap();
    assert!(error.contains("answers as `alice`"), "{error}");
    assert!(attributions(&impostor).is_empty());

    // Workers killed: nothing changes the tables any more. The snapshot against them.
    for w in &mut workers {
        let _ = w.child.kill();
        let _ = w.child.wait();
    }
    let quiet_from = net.get_info().expect("get_info")["head_block_num"]
        .as_u64()
        .unwrap();
    let state = wait_within(DEADLINE, "a poll after the workers stopped", &[], || {
        let state = viewer.state();
        (state["head_block"].as_u64() > Some(quiet_from + 1)
            && workers_of(&state).iter().all(|w| w["up"] == false))
        .then_some(state)
    });
    let mut rows = net
        .table(&contract, &contract, "metagraph")
        .expect("metagraph");
    rows.sort_by(|a, b| a["user"].as_str().cmp(&b["user"].as_str()));
    let nodes = state["nodes"].as_array().unwrap();
    let names: Vec<&str> = nodes.iter().map(|n| n["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["alice", "bob", "carol", IMPOSTOR]);
    for (node, row) in nodes.iter().zip(&rows) {
        assert_eq!(node["stake"].as_u64().unwrap(), as_u64(&row["stake"]));
    }
    assert_predictions(nodes, &rows);
    let residuals = net
        .table(&contract, &contract, "residuals")
        .expect("residuals");
    for node in nodes {
        let on_chain = residuals
            .iter()
            .find(|r| r["user"] == node["name"])
            .map_or(0, |r| as_u64(&r["residual"]));
        assert_eq!(node["residual"].as_u64(), Some(on_chain), "{node}");
    }
    let c = &state["conservation"];
    assert_eq!(c["supply_holds"], true, "{c}");
    assert_eq!(c["sums_hold"], true, "{c}");
}
