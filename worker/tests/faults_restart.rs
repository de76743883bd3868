//! A worker killed mid-training (SIGKILL: no last emit, no unsubscribe) and restarted on
//! the same data directory: it resumes from its checkpoint (step count carried on, and its
//! loss on its held-out text when training starts — the same pairs, given the seed — is
//! lower than the fresh model's), stays subscribed with its stake (the restart moves no
//! second stake in: the balance is unchanged, one metagraph row, new port recorded), keeps
//! emitting, and finally stops cleanly with conservation holding on chain.

mod support;

use bittensor_tests::{conservation, deployed, funded, Localnet};
use serde_json::Value;
use support::{num, spawn, stop, wait_for, StatusReader, WorkerOpts};

const USER: &str = "alice";
/// 100.0000 BIT funded; the worker stakes 10.0000 BIT.
const FUNDS: u64 = 1_000_000;
const STAKE: u64 = 100_000;

fn node_row(net: &Localnet, contract: &str) -> Option<Value> {
    net.table(contract, contract, "metagraph")
        .expect("metagraph")
        .into_iter()
        .find(|r| r["user"] == USER)
}

fn balance(net: &Localnet, contract: &str) -> u128 {
    net.table(contract, USER, "accounts")
        .expect("accounts")
        .iter()
        .filter_map(|r| r["balance"].as_str())
        .map(|b| conservation::asset_units(b).expect("asset"))
        .sum()
}

fn u64_of(v: &Value) -> u64 {
    conservation::json_u64(v).expect("u64")
}

#[test]
fn a_killed_worker_resumes_from_its_checkpoint_and_keeps_its_stake() {
    let (net, contract) = deployed().expect("chain with the contract");
    funded(&net, &contract, &[USER], FUNDS).expect("funded");
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let mut opts = WorkerOpts::new(USER, &net.url, &contract);
    // A shard large enough that the second or two before the kill is a few passes over it
    // (on the small one a fast machine trains hundreds of passes and overfits).
    opts.corpus_tokens = 400_000;
    opts.epochs = 200;
    opts.node_extra = format!("data_dir = \"{}\"\ncheckpoint_secs = 0.5", data.display());
    let reader = StatusReader::new();

    // Run 0: train, emit, checkpoint; then SIGKILL.
    let mut w0 = spawn(dir.path(), &opts, 0);
    let step_file = data.join(format!("{USER}.step"));
    let saved_step = wait_for("a checkpoint after 300 steps and an emit", &[&w0], || {
        let doc = reader.status(&w0)?;
        let saved: u64 = std::fs::read_to_string(&step_file)
            .ok()?
            .trim()
            .parse()
            .ok()?;
        (saved >= 300 && num(&doc, "emits_pushed") >= 1).then_some(saved)
    });
    let doc0 = reader.status(&w0).expect("status");
    w0.child.kill().expect("SIGKILL");
    w0.child.wait().expect("wait");
    let saved_step = std::fs::read_to_string(&step_file)
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or(saved_step);
    let row_killed = node_row(&net, &contract).expect("still subscribed after SIGKILL");
    let balance_killed = balance(&net, &contract);
    assert_eq!(
        balance_killed,
        (FUNDS - STAKE) as u128,
        "one stake moved in"
    );
    let stake_killed = u64_of(&row_killed["stake"]);
    assert!(stake_killed >= STAKE);

    // Run 1: same data dir.
    let mut w1 = spawn(dir.path(), &opts, 1);
    let doc1 = wait_for("training and emitting after the restart", &[&w1], || {
        let doc = reader.status(&w1)?;
        (num(&doc, "step") >= saved_step + 50 && num(&doc, "emits_pushed") >= 1).then_some(doc)
    });
    let log1 = std::fs::read_to_string(&w1.log).unwrap_or_default();
    assert!(log1.contains("resumed from checkpoint"), "{log1}");
    assert!(log1.contains("already subscribed"), "{log1}");
    let start = |doc: &Value| doc["start_held_out_loss"].as_f64().expect("held-out loss");
    let (fresh, resumed) = (start(&doc0), start(&doc1));
    println!(
        "run 0: steps {}, held-out loss at start {fresh:.4}, loss {}; killed at saved step {saved_step}; run 1: steps {}, held-out loss at start {resumed:.4}",
        doc0["step"], doc0["loss"], doc1["step"]
    );
    // The same held-out pairs both times: the restored model, not a fresh one, is scored.
    assert!(
        resumed < fresh - 0.01,
        "the restarted model starts better than a fresh one: {resumed} vs {fresh}"
    );

    // On chain: still one row, no second stake, new port, stake not lost (it grows).
    let rows = net
        .table(&contract, &contract, "metagraph")
        .expect("metagraph");
    assert_eq!(rows.len(), 1, "{rows:?}");
    let row1 = node_row(&net, &contract).expect("subscribed");
    assert_eq!(
        balance(&net, &contract),
        balance_killed,
        "restart moved no stake in"
    );
    assert!(u64_of(&row1["stake"]) >= stake_killed, "stake kept");
    let port1 = w1.base.rsplit(':').next().expect("port");
    assert_eq!(
        row1["port"].to_string(),
        port1,
        "address updated to the new listener"
    );
    println!(
        "stake at kill {stake_killed}, after restart {}, balance {balance_killed}",
        row1["stake"]
    );

    // Clean stop: last emit, unsubscribe, stake and emission back; tokens conserved.
    let exit = stop(&mut w1);
    assert!(exit.success(), "{exit}\n{}", support::log_tail(&w1));
    assert!(node_row(&net, &contract).is_none(), "unsubscribed");
    assert!(
        balance(&net, &contract) > FUNDS as u128,
        "stake and emission returned"
    );
    conservation::check(&net, &contract, "restart run").expect("conserved");
}
