//! Two real `bittensor-worker` processes on a local chain, each on its own half of the
//! generated corpus, exchange their sparse updates over real TCP sessions and learn in one
//! space: the served vectors of a node that received its peer's updates are closer to its
//! peer's than those of the same node trained alone (the same shard, seed and chunks, one
//! thread each, so the only difference is the exchange). A worker that joins last, before
//! the others' metagraph refresh lists it, still trains with them, not alone.

mod support;

use std::path::Path;

use bittensor_tests::{deployed, funded};
use bittensor_worker::model::w2v::{SavedW2v, W2vParams};
use support::{num, spawn, wait_for, StatusReader, WorkerOpts};

fn opts(
    name: &str,
    url: &str,
    contract: &str,
    shard: usize,
    peers: usize,
    dir: &Path,
) -> WorkerOpts {
    let mut o = WorkerOpts::new(name, url, contract);
    o.peers = peers;
    o.seed = 7;
    // Training starts once the peer slot is filled, in rounds of a whole epoch of the small
    // shard at dimension 24 (a few milliseconds each, longer than an exchange over
    // loopback), so the two nodes train side by side.
    o.node_extra = format!(
        "data_dir = \"{}\"\nstart_with_peers = {peers}",
        dir.join(name).display()
    );
    o.model_extra = format!("shard = {shard}\nshards = 2\nthreads = 1\nsyncs_per_epoch = 1");
    o.dim = DIM;
    // The small shard's rounds are far more frequent than a real node's: fetches per
    // second above the default limit would be refused and those rounds trained alone.
    o.peer_extra = "updates_rate = 5000.0\nupdates_burst = 5000.0".into();
    o
}

/// A stopped worker's served vectors (its shutdown checkpoint) and its chunk count.
fn served(dir: &Path, name: &str) -> (Vec<f32>, u64) {
    let saved = SavedW2v::load(&dir.join(name).join(format!("{name}.model"))).expect("checkpoint");
    let step = std::fs::read_to_string(dir.join(name).join(format!("{name}.step")))
        .expect("step file")
        .trim()
        .parse()
        .expect("step");
    (
        saved.into_model(&W2vParams::default()).expect("model").syn0,
        step,
    )
}

/// Vector dimension of the test's nodes.
const DIM: usize = 24;

/// Mean L2 distance between the rows of two tables of width [`DIM`].
fn distance(a: &[f32], b: &[f32]) -> f64 {
    let rows = a.len() / DIM;
    a.chunks(DIM)
        .zip(b.chunks(DIM))
        .map(|(x, y)| {
            x.iter()
                .zip(y)
                .map(|(p, q)| ((p - q) as f64).powi(2))
                .sum::<f64>()
                .sqrt()
        })
        .sum::<f64>()
        / rows as f64
}

#[test]
fn two_workers_exchanging_updates_learn_in_one_space() {
    let (net, contract) = deployed().expect("local chain with the contract");
    funded(&net, &contract, &["alice", "bob", "carol"], 1_000_000).expect("funded accounts");
    let dir = tempfile::tempdir().expect("temp dir");
    let reader = StatusReader::new();

    let mut alice = spawn(
        dir.path(),
        &opts("alice", &net.url, &contract, 0, 1, dir.path()),
        0,
    );
    let mut bob = spawn(
        dir.path(),
        &opts("bob", &net.url, &contract, 1, 1, dir.path()),
        0,
    );
    for w in [&alice, &bob] {
        wait_for("updates applied from the peer", &[&alice, &bob], || {
            let doc = reader.status(w)?;
            (num(&doc["exchange"], "applied") >= 100).then_some(())
        });
    }
    let doc = reader.status(&alice).expect("alice's status");
    assert_eq!(num(&doc["exchange"], "refused"), 0, "{doc}");
    assert_eq!(doc["training_done"], false, "{doc}");
    // Both stop together, so neither trains on alone while the other shuts down.
    for w in [&alice, &bob] {
        support::terminate(w);
    }
    for w in [&mut alice, &mut bob] {
        let exit = w.child.wait().expect("wait worker");
        assert!(
            exit.success(),
            "{} exit {exit}\n{}",
            w.name,
            support::log_tail(w)
        );
    }
    let (a, steps) = served(dir.path(), "alice");
    let (b, _) = served(dir.path(), "bob");

    // carol: alice's shard, seed and chunks, alone (her upstream slots stay empty).
    let mut carol_opts = opts("carol", &net.url, &contract, 0, 0, dir.path());
    carol_opts.node_extra += &format!("\nsteps = {steps}");
    let mut carol = spawn(dir.path(), &carol_opts, 0);
    let exit = carol.child.wait().expect("carol runs her steps and stops");
    assert!(
        exit.success(),
        "carol exit {exit}\n{}",
        support::log_tail(&carol)
    );
    let (c, carol_steps) = served(dir.path(), "carol");
    assert_eq!(carol_steps, steps);

    let (with_peer, alone) = (distance(&a, &b), distance(&c, &b));
    // What the exchange changed in alice (a - c) points toward bob (b - c).
    let dot = |x: &[f64], y: &[f64]| x.iter().zip(y).map(|(p, q)| p * q).sum::<f64>();
    let moved: Vec<f64> = a.iter().zip(&c).map(|(x, y)| (x - y) as f64).collect();
    let toward: Vec<f64> = b.iter().zip(&c).map(|(x, y)| (x - y) as f64).collect();
    let cos = dot(&moved, &toward) / (dot(&moved, &moved) * dot(&toward, &toward)).sqrt();
    println!(
        "alice-bob {with_peer:.4}, carol(alone)-bob {alone:.4}, cos(alice-carol, bob-carol) {cos:.3}, after {steps} chunks"
    );
    assert!(
        cos > 0.3,
        "the exchange moved alice elsewhere than toward bob: cos {cos}"
    );
    // Without the exchange alice would be carol exactly (one thread, same seed and chunks):
    // the distances would be equal. (alice trains alone until bob is up, which both share.)
    assert!(
        with_peer < 0.95 * alone,
        "the exchange did not bring alice toward bob: {with_peer} vs alone {alone}"
    );
}

/// A worker that joins a network sees its upstreams on chain at once, but they see it only
/// at their next metagraph refresh and refuse its session until then: its first round waits
/// for them (`START_WAIT`), instead of running its whole schedule alone in the meantime.
#[test]
fn a_worker_that_joins_last_trains_with_the_network_not_alone() {
    let (net, contract) = deployed().expect("local chain with the contract");
    funded(&net, &contract, &["alice", "bob"], 1_000_000).expect("funded accounts");
    let dir = tempfile::tempdir().expect("temp dir");
    let reader = StatusReader::new();

    let mut alice = spawn(
        dir.path(),
        &opts("alice", &net.url, &contract, 0, 1, dir.path()),
        0,
    );
    wait_for("alice up and waiting for her peer", &[&alice], || {
        reader.status(&alice)
    });
    // bob's whole schedule (20 rounds of a few milliseconds) is far shorter than the
    // second until alice's refresh lists him.
    let mut bob_opts = opts("bob", &net.url, &contract, 1, 1, dir.path());
    bob_opts.epochs = 20;
    let mut bob = spawn(dir.path(), &bob_opts, 0);
    let doc = wait_for("bob's schedule done", &[&alice, &bob], || {
        let doc = reader.status(&bob)?;
        (doc["training_done"] == true).then_some(doc)
    });
    let (rounds, applied) = (
        num(&doc["exchange"], "rounds"),
        num(&doc["exchange"], "applied"),
    );
    println!("bob: {applied} of {rounds} rounds applied alice's updates");
    assert!(rounds >= 20, "{doc}");
    assert!(
        2 * applied >= rounds,
        "bob trained alone: alice's updates applied in {applied} of {rounds} rounds\n{}",
        support::log_tail(&bob)
    );
    for w in [&alice, &bob] {
        support::terminate(w);
    }
    for w in [&mut alice, &mut bob] {
        let exit = w.child.wait().expect("wait worker");
        assert!(exit.success(), "{} exit {exit}", w.name);
    }
}
