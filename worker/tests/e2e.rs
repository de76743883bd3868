//! The whole system on one machine: a local nodeos with the contract, three funded
//! accounts, and three `bittensor-worker` processes on loopback training together on a
//! generated corpus. Checks that every worker's loss falls, that attributions reach the
//! chain (emits pushed, edge sets naming peers, stakes growing), that the others keep
//! training when one worker is killed (and count the dead peer), and that a clean stop
//! unsubscribes and returns the stake; a running node exports its embeddings on request and
//! gensim loads them.
//!
//! Waits use generous deadlines only to fail instead of hanging; nothing is timed.

mod support;

use std::path::Path;
use std::time::Duration;

use bittensor_tests::{deployed, funded};
use chain_client::client::{Client, MetagraphRow};
use chain_client::Name;
use serde_json::Value;
use support::{log_tail, num, spawn_with, stop, wait_within, StatusReader, WorkerProc};

const USERS: [&str; 3] = ["alice", "bob", "carol"];
/// 100.0000 BIT funded to each user; 10.0000 BIT staked at subscribe.
const FUNDS: u64 = 1_000_000;
const STAKE: u64 = 100_000;
const DEADLINE: Duration = Duration::from_secs(120);

fn config(ready: &Path, i: usize, url: &str, contract: &str) -> String {
    format!(
        r#"
[node]
account = "{user}"
key_file = "{key_file}"
listen = "127.0.0.1:0"
seed = {seed}
log_every = 25
loss_tail = 100000
ready_file = "{ready}"
export_dir = "{export}"

[chain]
url = "{url}"
contract = "{contract}"
stake = "10.0000 BIT"
emit_interval_secs = 1.0
refresh_interval_secs = 1.0

[model]
corpus_seed = 11
corpus_tokens = 24000
shard = {i}
shards = 3
dim = 16
peers = 2
negatives = 4
window = 2
chunk_words = 64
epochs = 100000                      # longer than the test (200 epochs of this shard take under a second): the nodes train until stopped
alpha = 0.1

[peer]
timeout_ms = 500
backoff_initial_ms = 200
backoff_max_ms = 2000
allow_loopback = true
"#,
        user = USERS[i],
        key_file = support::write_key_file(ready).display(),
        seed = i + 1,
        ready = ready.display(),
        export = ready.with_file_name("export").display(),
    )
}

/// Waits for `check` within this test's [`DEADLINE`], failing with the workers' logs.
fn wait_for<T>(what: &str, workers: &[&WorkerProc], check: impl FnMut() -> Option<T>) -> T {
    wait_within(DEADLINE, what, workers, check)
}

struct Net {
    rt: tokio::runtime::Runtime,
    peers: StatusReader,
    chain: Client,
    contract: Name,
}

impl Net {
    fn status(&self, w: &WorkerProc) -> Option<Value> {
        self.peers.status(w)
    }

    fn metagraph(&self) -> Vec<MetagraphRow> {
        self.rt
            .block_on(self.chain.metagraph(self.contract))
            .unwrap()
    }

    fn balance(&self, user: &str) -> u64 {
        self.rt
            .block_on(self.chain.balance(self.contract, user.parse().unwrap()))
            .unwrap()
    }
}

fn losses(doc: &Value) -> Vec<f64> {
    doc["loss_tail"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_f64).collect())
        .unwrap_or_default()
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len().max(1) as f64
}

/// gensim's `KeyedVectors.load_word2vec_format` reads `file` with the words and vectors this
/// crate's own reader finds in it.
fn gensim_loads(file: &Path) {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python");
    let script = "import json, sys\n\
from gensim.models import KeyedVectors\n\
kv = KeyedVectors.load_word2vec_format(sys.argv[1])\n\
w = kv.index_to_key[len(kv) // 2]\n\
print(json.dumps({'words': len(kv), 'dim': kv.vector_size, 'word': w, 'vector': kv[w].tolist()}))";
    let out = std::process::Command::new(&python)
        .args(["-c", script])
        .arg(file)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "gensim could not load {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let g: Value = serde_json::from_slice(&out.stdout).expect("gensim prints JSON");
    let ours = bittensor_worker::model::vectors::load_word2vec_text(file).unwrap();
    assert_eq!(g["words"].as_u64(), Some(ours.words().len() as u64));
    assert_eq!(g["dim"].as_u64(), Some(ours.dim() as u64));
    let word = g["word"].as_str().unwrap();
    let row = ours.row(ours.words().iter().position(|w| w == word).unwrap());
    let theirs: Vec<f64> = g["vector"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_f64)
        .collect();
    assert_eq!(theirs.len(), row.len());
    for (a, b) in row.iter().zip(&theirs) {
        assert!((*a as f64 - b).abs() < 1e-6, "{word}: ours {a}, gensim {b}");
    }
    println!(
        "gensim loaded {}: {} words of dim {}",
        file.display(),
        ours.words().len(),
        ours.dim()
    );
}

#[test]
fn three_workers_train_attribute_and_survive_a_dead_peer() {
    let (net, contract) = deployed().expect("local chain with the contract");
    funded(&net, &contract, &USERS, FUNDS).expect("funded accounts");
    let dir = tempfile::tempdir().unwrap();
    let env = Net {
        rt: tokio::runtime::Runtime::new().unwrap(),
        peers: StatusReader::new(),
        chain: Client::new(&net.url),
        contract: contract.parse().unwrap(),
    };

    let mut workers: Vec<WorkerProc> = (0..3)
        .map(|i| {
            spawn_with(dir.path(), USERS[i], USERS[i], |ready| {
                config(ready, i, &net.url, &contract)
            })
        })
        .collect();
    let all: Vec<&WorkerProc> = workers.iter().collect();

    // Everyone trains with both peers answering, and emits with peer edges.
    let docs: Vec<Value> = workers
        .iter()
        .map(|w| {
            wait_for("training with peers and emits", &all, || {
                let doc = env.status(w)?;
                let peers_ok = doc["peers"]
                    .as_array()?
                    .iter()
                    .all(|p| p["successes"].as_u64().unwrap_or(0) > 0);
                let edges = doc["last_edges"].as_array()?.len();
                // Emits are followed to irreversibility on the real chain.
                (num(&doc, "step") >= 300
                    && num(&doc, "emits_pushed") >= 3
                    && num(&doc, "emits_confirmed") >= 1
                    && num(&doc, "emits_dropped") == 0
                    && peers_ok
                    && edges == 3)
                    .then_some(doc)
            })
        })
        .collect();
    for (w, doc) in workers.iter().zip(&docs) {
        let l = losses(doc);
        let (first, last) = (mean(&l[..20]), mean(&l[l.len() - 20..]));
        println!(
            "{}: steps {} loss {first:.4} -> {last:.4}, {:.0} examples/s, emits {}, edges {}",
            w.name,
            doc["step"],
            doc["examples_per_sec"].as_f64().unwrap_or(0.0),
            doc["emits_pushed"],
            doc["last_edges"]
        );
        assert!(
            last < first,
            "{}: loss did not fall: {first} -> {last}",
            w.name
        );
        assert_eq!(num(doc, "failed_steps"), 0, "{}", w.name);
    }

    // On chain: every worker subscribed with its address, edge sets name the peers, stakes grew.
    let rows = env.metagraph();
    assert_eq!(rows.len(), 3);
    for row in &rows {
        assert_eq!(row.address, "127.0.0.1");
        assert!(
            row.edges.len() > 1,
            "{} edges still initial: {:?}",
            row.user,
            row.edges
        );
        assert_eq!(row.edges[0].to, row.user);
        assert_eq!(
            row.edges.iter().map(|e| e.weight as u64).sum::<u64>(),
            1_000_000
        );
        assert!(
            row.stake > STAKE,
            "{} stake did not grow: {}",
            row.user,
            row.stake
        );
        let edges: Vec<String> = row
            .edges
            .iter()
            .map(|e| format!("{}:{}", e.to, e.weight))
            .collect();
        println!(
            "on chain: {} stake {} edges {}",
            row.user,
            row.stake,
            edges.join(" ")
        );
    }

    // Export on request: `bittensor-worker export --node` asks alice's running node (a session
    // with alice's own key, from her configuration), which
    // writes its served and input embeddings; gensim loads what it wrote.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_bittensor-worker"))
        .args(["export", "--node", &workers[0].base, "--config"])
        .arg(dir.path().join("alice.toml"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let served = dir.path().join("export/alice.served.txt");
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(listed.contains(&served.display().to_string()), "{listed}");
    for file in [served.clone(), dir.path().join("export/alice.input.txt")] {
        gensim_loads(&file);
    }
    // SIGUSR1 asks for the same export.
    let bob_served = dir.path().join("export/bob.served.txt");
    assert!(!bob_served.exists());
    let usr1 = std::process::Command::new("kill")
        .args(["-USR1", &workers[1].child.id().to_string()])
        .status()
        .unwrap();
    assert!(usr1.success());
    wait_for("bob's export on SIGUSR1", &all, || {
        let v = bittensor_worker::model::vectors::load_word2vec_text(&bob_served).ok()?;
        (!v.words().is_empty()).then_some(())
    });

    // Kill carol without a chance to unsubscribe: the others keep training and count her.
    let before: Vec<Value> = workers[..2]
        .iter()
        .map(|w| env.status(w).unwrap())
        .collect();
    workers[2].child.kill().unwrap();
    workers[2].child.wait().unwrap();
    let live: Vec<&WorkerProc> = workers[..2].iter().collect();
    for (w, b) in workers[..2].iter().zip(&before) {
        let doc = wait_for("training on after a peer died", &live, || {
            let doc = env.status(w)?;
            (num(&doc, "step") >= num(b, "step") + 150
                && num(&doc, "peer_failures") > num(b, "peer_failures")
                && num(&doc, "emits_pushed") > num(b, "emits_pushed"))
            .then_some(doc)
        });
        let dead = doc["peers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["user"] == "carol")
            .expect("carol still in a slot (still subscribed)")
            .clone();
        assert!(num(&dead, "failures") > 0, "{}: {dead}", w.name);
        println!(
            "{} after carol died: steps {} -> {}, peer failures {}, carol slot {}",
            w.name, b["step"], doc["step"], doc["peer_failures"], dead
        );
    }

    // Clean stop: SIGTERM makes alice and bob emit a last time and unsubscribe.
    for w in workers[..2].iter_mut() {
        let exit = stop(w);
        assert!(
            exit.success(),
            "{} exited with {exit}\n{}",
            w.name,
            log_tail(w)
        );
    }
    let rows = env.metagraph();
    let users: Vec<String> = rows.iter().map(|r| r.user.to_string()).collect();
    assert_eq!(users, vec!["carol".to_string()]);
    for user in ["alice", "bob"] {
        let balance = env.balance(user);
        println!("{user} balance after unsubscribe: {balance}");
        assert!(
            balance > FUNDS,
            "{user} got back less than it had: {balance}"
        );
    }
}
