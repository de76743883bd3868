//! The whole system on one machine: a local nodeos with the contract, three funded
//! accounts, and three `bittensor-worker` processes on loopback training together on a
//! generated corpus. Checks that every worker's loss falls, that attributions reach the
//! chain (emits pushed, edge sets naming peers, stakes growing), that the others keep
//! training when one worker is killed (and count the dead peer), and that a clean stop
//! unsubscribes and returns the stake.
//!
//! Waits use generous deadlines only to fail instead of hanging; nothing is timed.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bittensor_tests::{deployed, funded};
use bittensor_worker::peer::client::PeerClient;
use bittensor_worker::peer::Limits;
use chain_client::client::{Client, MetagraphRow};
use chain_client::Name;
use serde_json::Value;

const USERS: [&str; 3] = ["alice", "bob", "carol"];
/// 100.0000 BIT funded to each user; 10.0000 BIT staked at subscribe.
const FUNDS: u64 = 1_000_000;
const STAKE: u64 = 100_000;
const DEADLINE: Duration = Duration::from_secs(120);

struct Worker {
    name: &'static str,
    child: Child,
    ready: PathBuf,
    log: PathBuf,
    base: Option<String>,
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn config(dir: &Path, i: usize, url: &str, contract: &str) -> String {
    format!(
        r#"
[node]
account = "{user}"
key = "{key}"
listen = "127.0.0.1:0"
seed = {seed}
log_every = 25
loss_tail = 100000
ready_file = "{ready}"

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
embed_dim = 16
out_dim = 8
peers = 2
negatives = 4
lr = 0.01
batch = 64
window = 2

[peer]
timeout_ms = 500
backoff_initial_ms = 200
backoff_max_ms = 2000
"#,
        user = USERS[i],
        key = localnet::DEV_PRIVATE_KEY,
        seed = i + 1,
        ready = dir.join(format!("{}.ready", USERS[i])).display(),
    )
}

fn spawn(dir: &Path, i: usize, url: &str, contract: &str) -> Worker {
    let cfg = dir.join(format!("{}.toml", USERS[i]));
    fs::write(&cfg, config(dir, i, url, contract)).unwrap();
    let log = dir.join(format!("{}.log", USERS[i]));
    let child = Command::new(env!("CARGO_BIN_EXE_bittensor-worker"))
        .args(["run", "--config"])
        .arg(&cfg)
        .env("RUST_LOG", "info")
        .env("OMP_NUM_THREADS", "1")
        .stdout(Stdio::null())
        .stderr(fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    Worker {
        name: USERS[i],
        child,
        ready: dir.join(format!("{}.ready", USERS[i])),
        log,
        base: None,
    }
}

fn log_tail(w: &Worker) -> String {
    let text = fs::read_to_string(&w.log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

/// Polls `check` until it returns Some, failing with the workers' logs at the deadline.
fn wait_for<T>(what: &str, workers: &[&Worker], mut check: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = check() {
            return v;
        }
        if start.elapsed() > DEADLINE {
            let logs: Vec<String> = workers
                .iter()
                .map(|w| format!("--- {} ---\n{}", w.name, log_tail(w)))
                .collect();
            panic!("timed out waiting for {what}\n{}", logs.join("\n"));
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

struct Net {
    rt: tokio::runtime::Runtime,
    peers: PeerClient,
    chain: Client,
    contract: Name,
}

impl Net {
    fn status(&self, w: &Worker) -> Option<Value> {
        let base = w.base.as_ref()?;
        self.rt.block_on(self.peers.status(base)).ok()
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

fn u(doc: &Value, key: &str) -> u64 {
    doc[key].as_u64().unwrap_or(0)
}

#[test]
fn three_workers_train_attribute_and_survive_a_dead_peer() {
    let (net, contract) = deployed().expect("local chain with the contract");
    funded(&net, &contract, &USERS, FUNDS).expect("funded accounts");
    let dir = tempfile::tempdir().unwrap();
    let env = Net {
        rt: tokio::runtime::Runtime::new().unwrap(),
        peers: PeerClient::new(Duration::from_secs(5), Limits::default()),
        chain: Client::new(&net.url),
        contract: contract.parse().unwrap(),
    };

    let mut workers: Vec<Worker> = (0..3)
        .map(|i| spawn(dir.path(), i, &net.url, &contract))
        .collect();
    for w in workers.iter_mut() {
        let ready = w.ready.clone();
        let doc: Value = wait_for("ready file", &[], || {
            serde_json::from_str(&fs::read_to_string(&ready).ok()?).ok()
        });
        w.base = Some(format!("http://{}", doc["listen"].as_str().unwrap()));
    }
    let all: Vec<&Worker> = workers.iter().collect();

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
                (u(&doc, "step") >= 300 && u(&doc, "emits_pushed") >= 3 && peers_ok && edges == 3)
                    .then_some(doc)
            })
        })
        .collect();
    for (w, doc) in workers.iter().zip(&docs) {
        let l = losses(doc);
        let (first, last) = (mean(&l[..20]), mean(&l[l.len() - 20..]));
        println!(
            "{}: steps {} loss {first:.4} -> {last:.4}, {:.0} examples/s, emits {}, attributions {}",
            w.name,
            doc["step"],
            doc["examples_per_sec"].as_f64().unwrap_or(0.0),
            doc["emits_pushed"],
            doc["attributions"]
        );
        assert!(
            last < first,
            "{}: loss did not fall: {first} -> {last}",
            w.name
        );
        assert_eq!(u(doc, "failed_steps"), 0, "{}", w.name);
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

    // Kill carol without a chance to unsubscribe: the others keep training and count her.
    let before: Vec<Value> = workers[..2]
        .iter()
        .map(|w| env.status(w).unwrap())
        .collect();
    workers[2].child.kill().unwrap();
    workers[2].child.wait().unwrap();
    let live: Vec<&Worker> = workers[..2].iter().collect();
    for (w, b) in workers[..2].iter().zip(&before) {
        let doc = wait_for("training on after a peer died", &live, || {
            let doc = env.status(w)?;
            (u(&doc, "step") >= u(b, "step") + 150
                && u(&doc, "peer_failures") > u(b, "peer_failures")
                && u(&doc, "emits_pushed") > u(b, "emits_pushed"))
            .then_some(doc)
        });
        let dead = doc["peers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["user"] == "carol")
            .expect("carol still in a slot (still subscribed)")
            .clone();
        assert!(u(&dead, "failures") > 0, "{}: {dead}", w.name);
        println!(
            "{} after carol died: steps {} -> {}, peer failures {}, carol slot {}",
            w.name, b["step"], doc["step"], doc["peer_failures"], dead
        );
    }

    // Clean stop: SIGTERM makes alice and bob emit a last time and unsubscribe.
    for w in workers[..2].iter_mut() {
        let status = Command::new("kill")
            .args(["-TERM", &w.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let exit = w.child.wait().unwrap();
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
