//! nodeos stopped under two running workers and restarted on the same data directory and
//! port. While it is down the workers keep training, count failed emits and retry (with
//! backoff); none crashes. Once it is back the next emit goes through carrying the
//! worker's current edge set, and it accrues the whole interval since the last successful
//! emit, outage included: no attribution and no emission is lost. Conservation holds.
//! A worker stopped while the chain hangs (frozen: it takes connections and never answers)
//! leaves within its budget instead of waiting out every request's timeout.

mod support;

use bittensor_tests::{conservation, deployed, funded, Localnet};
use serde_json::Value;
use std::time::{Duration, Instant};
use support::{
    assert_alive, log_tail, num, spawn, stop, terminate, wait_for, StatusReader, WorkerOpts,
};

const USERS: [&str; 2] = ["alice", "bob"];

fn rows(net: &Localnet, contract: &str) -> Vec<Value> {
    net.table(contract, contract, "metagraph")
        .expect("metagraph")
}

fn row<'a>(rows: &'a [Value], user: &str) -> &'a Value {
    rows.iter()
        .find(|r| r["user"] == user)
        .unwrap_or_else(|| panic!("{user} not subscribed: {rows:?}"))
}

fn u64_of(v: &Value) -> u64 {
    conservation::json_u64(v).expect("u64")
}

fn edges(v: &Value) -> Vec<(String, u64)> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|e| {
                    let pair = e.as_array();
                    match pair {
                        // `/status` last_edges: [name, weight]
                        Some(p) => (
                            p[0].as_str().unwrap_or_default().to_string(),
                            p[1].as_u64().unwrap_or(0),
                        ),
                        // table edges: {to, weight}
                        None => (
                            e["to"].as_str().unwrap_or_default().to_string(),
                            e["weight"].as_u64().unwrap_or(0),
                        ),
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn workers_ride_out_a_chain_restart_without_losing_attribution() {
    let (mut net, contract) = deployed().expect("chain with the contract");
    funded(&net, &contract, &USERS, 1_000_000).expect("funded");
    let dir = tempfile::tempdir().expect("temp dir");
    let reader = StatusReader::new();
    let mut workers: Vec<_> = USERS
        .iter()
        .enumerate()
        .map(|(i, user)| {
            let mut opts = WorkerOpts::new(user, &net.url, &contract);
            opts.seed = i as u64 + 1;
            spawn(dir.path(), &opts, 0)
        })
        .collect();
    for w in &workers {
        wait_for("emits with a peer edge", &[w], || {
            let doc = reader.status(w)?;
            (num(&doc, "emits_pushed") >= 2 && edges(&doc["last_edges"]).len() == 2).then_some(())
        });
    }
    let before_rows = rows(&net, &contract);
    let before: Vec<Value> = workers
        .iter()
        .map(|w| reader.status(w).expect("status"))
        .collect();

    // Outage: training goes on, emits fail and are counted, nobody crashes.
    net.stop_node();
    let during: Vec<Value> = workers
        .iter()
        .zip(&before)
        .map(|(w, b)| {
            wait_for("failed emits while the chain is down", &[w], || {
                let doc = reader.status(w)?;
                (num(&doc, "emits_failed") >= num(b, "emits_failed") + 3
                    && num(&doc, "step") >= num(b, "step") + 100)
                    .then_some(doc)
            })
        })
        .collect();
    for w in workers.iter_mut() {
        assert_alive(w);
    }
    net.restart_node().expect("nodeos restarts on its data dir");

    // Recovery: the next emits go through with the current edge sets.
    let after: Vec<Value> = workers
        .iter()
        .zip(&during)
        .map(|(w, d)| {
            wait_for("emits after the restart", &[w], || {
                let doc = reader.status(w)?;
                (num(&doc, "emits_pushed") >= num(d, "emits_pushed") + 2).then_some(doc)
            })
        })
        .collect();
    let after_rows = rows(&net, &contract);
    conservation::check(&net, &contract, "chain restart").expect("conserved");
    for ((user, (b, d)), a) in USERS.iter().zip(before.iter().zip(&during)).zip(&after) {
        let (r0, r1) = (row(&before_rows, user), row(&after_rows, user));
        println!(
            "{user}: emits pushed {} -> {} -> {}, failed {} -> {} -> {}, steps {} -> {} -> {}, last error during outage: {}",
            b["emits_pushed"], d["emits_pushed"], a["emits_pushed"],
            b["emits_failed"], d["emits_failed"], a["emits_failed"],
            b["step"], d["step"], a["step"], d["last_emit_error"]
        );
        // Emission accrued over the outage too: the stake grew and the clock moved on.
        assert!(
            u64_of(&r1["stake"]) > u64_of(&r0["stake"]),
            "{user} stake grew"
        );
        assert!(
            u64_of(&r1["last_emit"]) > u64_of(&r0["last_emit"]),
            "{user} clock moved"
        );
        assert_eq!(edges(&r1["edges"]).len(), 2, "{user}: peer edge on chain");
    }

    // The chain's edge set is the worker's latest: stop the workers (their last emit
    // carries the attribution of that moment), then compare.
    for w in workers.iter_mut() {
        let doc = reader.status(w).expect("status");
        let pushed = num(&doc, "emits_pushed");
        let settled = wait_for("one more emit", &[w], || {
            let doc = reader.status(w)?;
            (num(&doc, "emits_pushed") > pushed).then_some(doc)
        });
        let chain_edges = edges(&row(&rows(&net, &contract), &w.name)["edges"]);
        let latest = edges(&reader.status(w).expect("status")["last_edges"]);
        // Another emit may land between the two reads: then compare with the newer one.
        assert!(
            chain_edges == latest || chain_edges == edges(&settled["last_edges"]),
            "{}: chain {chain_edges:?}, worker {latest:?}",
            w.name
        );
    }
    for w in workers.iter_mut() {
        let exit = stop(w);
        assert!(exit.success(), "{} exit {exit}", w.name);
    }
    let end = conservation::check(&net, &contract, "workers stopped").expect("conserved");
    assert_eq!(end.nodes, 0, "both unsubscribed");
}

/// What a stopping worker gives a chain that does not answer (the runner's `LEAVE_BUDGET`,
/// 8 s), plus the trainer's last round and the process exit.
const STOP_WHILE_HUNG: Duration = Duration::from_secs(14);

#[test]
fn a_worker_stopped_while_the_chain_hangs_leaves_within_its_budget() {
    let (net, contract) = deployed().expect("chain with the contract");
    funded(&net, &contract, &["carol"], 1_000_000).expect("funded");
    let dir = tempfile::tempdir().expect("temp dir");
    let reader = StatusReader::new();
    let mut w = spawn(
        dir.path(),
        &WorkerOpts::new("carol", &net.url, &contract),
        0,
    );
    wait_for("an emit", &[&w], || {
        let doc = reader.status(&w)?;
        (num(&doc, "emits_pushed") >= 1).then_some(())
    });
    // Each of the worker's chain requests now waits its whole timeout (10 s): the last emit
    // (4 tries) and the unsubscribe (5) would keep it running for minutes.
    net.freeze_node(true);
    let sent = Instant::now();
    terminate(&w);
    let exited = loop {
        if let Ok(Some(status)) = w.child.try_wait() {
            break Some(status);
        }
        if sent.elapsed() > STOP_WHILE_HUNG + Duration::from_secs(30) {
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let took = sent.elapsed();
    net.freeze_node(false);
    let log = log_tail(&w);
    if exited.is_none() {
        let _ = w.child.kill();
        let _ = w.child.wait();
    }
    println!("carol stopped {took:?} after SIGTERM with the chain frozen: {exited:?}");
    let status = exited.unwrap_or_else(|| panic!("still running {took:?} after SIGTERM\n{log}"));
    assert!(status.success(), "exit {status}\n{log}");
    assert!(
        took < STOP_WHILE_HUNG,
        "stopped only {took:?} after SIGTERM (budget {STOP_WHILE_HUNG:?})\n{log}"
    );
    assert!(
        log.contains("stopping without them"),
        "the log says what was left undone:\n{log}"
    );
}
