//! Shared harness of the worker process tests (end to end and faults): `bittensor-worker`
//! processes started from a generated TOML config, `/status` polling and log tails.
//! Waits have generous deadlines only so that a broken run fails instead of hanging.

#![allow(dead_code)] // each fault test uses a different subset

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bittensor_worker::peer::client::PeerClient;
use bittensor_worker::peer::Limits;
use serde_json::Value;

/// Longest wait for any condition before the test fails with the workers' logs.
pub const DEADLINE: Duration = Duration::from_secs(150);

/// What differs between the workers of the fault tests.
#[derive(Clone, Debug)]
pub struct WorkerOpts {
    /// Chain account (also names the files under the test directory).
    pub account: String,
    /// nodeos URL.
    pub url: String,
    /// Contract account.
    pub contract: String,
    /// Upstream peer slots.
    pub peers: usize,
    /// Model seed.
    pub seed: u64,
    /// Seconds between emits.
    pub emit_interval: f64,
    /// Per-request peer timeout (ms).
    pub peer_timeout_ms: u64,
    /// Extra `[node]` lines (e.g. checkpoint settings).
    pub node_extra: String,
    /// Whether the worker may dial loopback peers (all test peers are on loopback).
    pub allow_loopback: bool,
    /// Extra `[model]` lines (e.g. the node's shard).
    pub model_extra: String,
    /// Passes over the shard: by default a schedule longer than any test waits (200
    /// epochs of the test shard take well under a second), so the nodes keep training.
    pub epochs: usize,
    /// Vector dimension.
    pub dim: usize,
    /// Extra `[peer]` lines.
    pub peer_extra: String,
    /// Tokens of the generated corpus.
    pub corpus_tokens: usize,
}

impl WorkerOpts {
    /// Defaults for a small, fast model.
    pub fn new(account: &str, url: &str, contract: &str) -> Self {
        WorkerOpts {
            account: account.to_string(),
            url: url.to_string(),
            contract: contract.to_string(),
            peers: 1,
            seed: 1,
            emit_interval: 1.0,
            peer_timeout_ms: 300,
            node_extra: String::new(),
            allow_loopback: true,
            model_extra: String::new(),
            epochs: 100_000,
            dim: 8,
            peer_extra: String::new(),
            corpus_tokens: 12_000,
        }
    }

    fn toml(&self, ready: &Path) -> String {
        format!(
            r#"
[node]
account = "{account}"
key_file = "{key_file}"
listen = "127.0.0.1:0"
seed = {seed}
log_every = 50
loss_tail = 50
ready_file = "{ready}"
{node_extra}

[chain]
url = "{url}"
contract = "{contract}"
stake = "10.0000 BIT"
emit_interval_secs = {emit}
refresh_interval_secs = 1.0
subscribe_attempts = 40

[model]
corpus_seed = 11
corpus_tokens = {corpus_tokens}
dim = {dim}
peers = {peers}
negatives = 2
window = 2
chunk_words = 32
epochs = {epochs}
alpha = 0.25                         # a tiny corpus and dimension: learn visibly within a few hundred steps
{model_extra}

[peer]
timeout_ms = {timeout}
backoff_initial_ms = 100
backoff_max_ms = 500
allow_loopback = {loopback}
{peer_extra}
"#,
            account = self.account,
            key_file = write_key_file(ready).display(),
            loopback = self.allow_loopback,
            seed = self.seed,
            ready = ready.display(),
            node_extra = self.node_extra,
            model_extra = self.model_extra,
            epochs = self.epochs,
            dim = self.dim,
            peer_extra = self.peer_extra,
            corpus_tokens = self.corpus_tokens,
            url = self.url,
            contract = self.contract,
            emit = self.emit_interval,
            peers = self.peers,
            timeout = self.peer_timeout_ms,
        )
    }
}

/// Writes the development key next to `ready` (owner-only), for `node.key_file`.
pub fn write_key_file(ready: &Path) -> PathBuf {
    let path = ready.with_extension("key");
    fs::write(&path, localnet::DEV_PRIVATE_KEY).expect("write key file");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).expect("chmod key file");
    }
    path
}

/// A running `bittensor-worker run` process (killed on drop if still running).
pub struct WorkerProc {
    /// Account it runs as.
    pub name: String,
    /// The process.
    pub child: Child,
    /// Its log (stderr, tracing output).
    pub log: PathBuf,
    /// `http://ADDR` of its peer server once ready.
    pub base: String,
}

impl Drop for WorkerProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts a worker in `dir` and waits for its ready file; `run` distinguishes restarts.
pub fn spawn(dir: &Path, opts: &WorkerOpts, run: usize) -> WorkerProc {
    let stem = format!("{}-{run}", opts.account);
    spawn_with(dir, &opts.account, &stem, |ready| opts.toml(ready))
}

/// Starts a worker named `name` from the config `toml(ready_file)` (files `dir/stem.*`)
/// and waits for its ready file.
pub fn spawn_with(
    dir: &Path,
    name: &str,
    stem: &str,
    toml: impl FnOnce(&Path) -> String,
) -> WorkerProc {
    let ready = dir.join(format!("{stem}.ready"));
    let _ = fs::remove_file(&ready);
    let cfg = dir.join(format!("{stem}.toml"));
    fs::write(&cfg, toml(&ready)).expect("write worker config");
    let log = dir.join(format!("{stem}.log"));
    let child = Command::new(worker_bin())
        .args(["run", "--config"])
        .arg(&cfg)
        .env("RUST_LOG", "info")
        .env("OMP_NUM_THREADS", "1")
        .stdout(Stdio::null())
        .stderr(fs::File::create(&log).expect("worker log"))
        .spawn()
        .expect("spawn bittensor-worker");
    let mut w = WorkerProc {
        name: name.to_string(),
        child,
        log,
        base: String::new(),
    };
    let doc: Value = wait_for("ready file", &[&w], || {
        serde_json::from_str(&fs::read_to_string(&ready).ok()?).ok()
    });
    w.base = format!("http://{}", doc["listen"].as_str().expect("listen address"));
    w
}

/// The `bittensor-worker` executable: cargo's own path in this crate's tests; from another
/// crate's tests (the viewer's page test includes this file), the one built next to the test
/// binary, which `cargo test --workspace` builds (else: `cargo build -p bittensor-worker`).
pub fn worker_bin() -> PathBuf {
    if let Some(path) = option_env!("CARGO_BIN_EXE_bittensor-worker") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/<test> -> target/<profile>/bittensor-worker
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .map(|dir| dir.join("bittensor-worker"))
        .expect("target directory of the test executable");
    assert!(
        bin.is_file(),
        "{} is missing: build it with `cargo build -p bittensor-worker` (or run `cargo test --workspace`)",
        bin.display()
    );
    let built = fs::metadata(&bin).and_then(|m| m.modified()).ok();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let newest = ["worker/src", "protocol/src"]
        .iter()
        .filter_map(|dir| newest_change(&root.join(dir)))
        .max();
    assert!(
        built >= newest,
        "{} is older than the worker's sources: rebuild it with `cargo build -p bittensor-worker`",
        bin.display()
    );
    bin
}

/// The latest modification time of any file under `dir`.
fn newest_change(dir: &Path) -> Option<std::time::SystemTime> {
    fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let path = entry.path();
            if path.is_dir() {
                newest_change(&path)
            } else {
                entry.metadata().and_then(|m| m.modified()).ok()
            }
        })
        .max()
}

/// The last 40 lines of a worker's log.
pub fn log_tail(w: &WorkerProc) -> String {
    let text = fs::read_to_string(&w.log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

/// Polls `check` every 200 ms until it returns Some; fails with the logs at [`DEADLINE`].
pub fn wait_for<T>(what: &str, workers: &[&WorkerProc], check: impl FnMut() -> Option<T>) -> T {
    wait_within(DEADLINE, what, workers, check)
}

/// [`wait_for`] with its own deadline.
pub fn wait_within<T>(
    deadline: Duration,
    what: &str,
    workers: &[&WorkerProc],
    mut check: impl FnMut() -> Option<T>,
) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = check() {
            return v;
        }
        if start.elapsed() > deadline {
            let logs: Vec<String> = workers
                .iter()
                .map(|w| format!("--- {} ---\n{}", w.name, log_tail(w)))
                .collect();
            panic!("timed out waiting for {what}\n{}", logs.join("\n"));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Fetches `/status` documents over the worker's own h2c client.
pub struct StatusReader {
    rt: tokio::runtime::Runtime,
    client: PeerClient,
}

impl StatusReader {
    /// A reader with a 5 s timeout.
    pub fn new() -> Self {
        StatusReader {
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("tokio runtime"),
            client: PeerClient::new(Duration::from_secs(5), Limits::default()),
        }
    }

    /// The worker's `/status`, None while it does not answer.
    pub fn status(&self, w: &WorkerProc) -> Option<Value> {
        self.rt.block_on(self.client.status(&w.base)).ok()
    }
}

/// A counter of a `/status` document (0 when absent).
pub fn num(doc: &Value, key: &str) -> u64 {
    doc[key].as_u64().unwrap_or(0)
}

/// Sends SIGTERM and waits for a clean exit.
pub fn stop(w: &mut WorkerProc) -> std::process::ExitStatus {
    terminate(w);
    w.child.wait().expect("wait worker")
}

/// Sends the worker SIGTERM (its graceful stop) without waiting for it.
pub fn terminate(w: &WorkerProc) {
    let status = Command::new("kill")
        .args(["-TERM", &w.child.id().to_string()])
        .status()
        .expect("kill -TERM");
    assert!(status.success());
}

/// Panics with the log if the worker process has exited.
pub fn assert_alive(w: &mut WorkerProc) {
    if let Ok(Some(status)) = w.child.try_wait() {
        panic!("{} exited with {status}\n{}", w.name, log_tail(w));
    }
}
