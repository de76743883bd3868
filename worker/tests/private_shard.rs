//! A node's data stays private: a worker process given its own shard file and the network's
//! vocabulary file (whose hash the contract pins with `setvocab`) trains on a real chain
//! while every file it opens is recorded from outside (`strace -f`): it opens its shard and
//! the vocabulary, never the other shards nor the whole text. A worker whose vocabulary file
//! differs from the pinned one refuses to start with a clear message.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use bittensor_tests::{deployed, funded};
use bittensor_worker::corpus::{write_shards, Corpus, VocabFile};
use support::{num, wait_for, worker_bin, write_key_file, StatusReader, WorkerProc};

const USER: &str = "alice";

fn config(dir: &Path, url: &str, contract: &str, shard: &Path, vocab: &Path) -> PathBuf {
    let ready = dir.join("alice.ready");
    let toml = format!(
        r#"
[node]
account = "{USER}"
key_file = "{key}"
listen = "127.0.0.1:0"
log_every = 50
ready_file = "{ready}"

[chain]
url = "{url}"
contract = "{contract}"
stake = "10.0000 BIT"
emit_interval_secs = 1.0
refresh_interval_secs = 1.0
subscribe_attempts = 40

[model]
corpus = "{shard}"
vocab = "{vocab}"
dim = 8
peers = 1
negatives = 2
window = 2
chunk_words = 32
alpha = 0.25

[peer]
timeout_ms = 300
allow_loopback = true
"#,
        key = write_key_file(&ready).display(),
        ready = ready.display(),
        shard = shard.display(),
        vocab = vocab.display(),
    );
    let path = dir.join(format!(
        "alice-{}.toml",
        vocab.file_stem().unwrap().to_string_lossy()
    ));
    fs::write(&path, toml).unwrap();
    path
}

/// The worker's pid: the one child of the `strace` process.
fn traced_pid(strace: &Child) -> Option<u32> {
    let pid = strace.id();
    let children = fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).ok()?;
    children.split_whitespace().next()?.parse().ok()
}

/// Stops `strace` and the worker it traces (their own process group) on every exit path
/// where they still run.
struct Traced(Child);

impl Drop for Traced {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let pgid = self.0.id();
            let _ = Command::new("kill")
                .args(["-TERM", "--", &format!("-{pgid}")])
                .status();
            let _ = self.0.wait();
        }
    }
}

#[test]
fn a_worker_opens_only_its_own_shard_and_refuses_a_vocabulary_the_chain_does_not_pin() {
    let (net, contract) = deployed().expect("chain with the contract");
    funded(&net, &contract, &[USER], 1_000_000).expect("funded");
    let dir = tempfile::tempdir().unwrap();
    let all = dir.path().join("all.txt");
    Corpus::generate(11, 12_000).write_text(&all).unwrap();
    let (whole, shards) = write_shards(&all, None, 3, &dir.path().join("shards")).unwrap();
    let union = Corpus::load(&whole, usize::MAX).unwrap();
    let vocab = dir.path().join("vocab.txt");
    let hash = VocabFile::write(&union.vocab, &vocab).unwrap();
    let words = union.vocab.len() - 1;
    net.push_action(
        &contract,
        "setvocab",
        &format!(r#"["{hash}", {words}]"#),
        &contract,
    )
    .expect("setvocab");

    // A vocabulary file of other words: refused before the node subscribes.
    let other = dir.path().join("other.txt");
    let mut fewer = VocabFile::text(&union.vocab);
    fewer.truncate(fewer.trim_end().rfind('\n').unwrap() + 1);
    fs::write(&other, fewer).unwrap();
    let out = Command::new(worker_bin())
        .args(["run", "--config"])
        .arg(config(dir.path(), &net.url, &contract, &shards[0], &other))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("vocabulary mismatch"), "{err}");
    assert!(err.contains(&hash), "names the pinned hash: {err}");

    // The right file: it trains, traced from outside.
    let trace = dir.path().join("open.trace");
    let log = dir.path().join("alice.log");
    let cfg = config(dir.path(), &net.url, &contract, &shards[0], &vocab);
    let mut cmd = Command::new("strace");
    cmd.args(["-f", "-qq", "-e", "trace=open,openat,openat2", "-o"])
        .arg(&trace)
        .arg(worker_bin())
        .args(["run", "--config"])
        .arg(&cfg)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(fs::File::create(&log).unwrap());
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let mut traced = Traced(cmd.spawn().expect("strace (scripts/setup installs it)"));
    let ready = dir.path().join("alice.ready");
    // A handle for the harness's waits and /status reads (its logs on timeout); the process
    // it holds is a placeholder, the traced worker is stopped through `traced`.
    let mut probe = WorkerProc {
        name: USER.into(),
        child: Command::new("true").spawn().unwrap(),
        log: log.clone(),
        base: String::new(),
    };
    let doc: serde_json::Value = wait_for("ready file", &[&probe], || {
        serde_json::from_str(&fs::read_to_string(&ready).ok()?).ok()
    });
    probe.base = format!("http://{}", doc["listen"].as_str().unwrap());
    let reader = StatusReader::new();
    wait_for("training steps", &[&probe], || {
        (num(&reader.status(&probe)?, "step") >= 100).then_some(())
    });
    let worker = traced_pid(&traced.0).expect("the traced worker");
    let _ = Command::new("kill")
        .args(["-TERM", &worker.to_string()])
        .status();
    traced.0.wait().unwrap();
    wait_for("the worker to exit", &[&probe], || {
        (!Path::new(&format!("/proc/{worker}")).exists()).then_some(())
    });

    let opened = fs::read_to_string(&trace).unwrap();
    let name = |p: &Path| p.display().to_string();
    assert!(opened.contains(&name(&shards[0])), "opens its shard");
    assert!(opened.contains(&name(&vocab)), "opens the vocabulary");
    for other in shards[1..].iter().chain([&whole, &all]) {
        assert!(
            !opened.contains(&name(other)),
            "opened {} (not its own text)",
            other.display()
        );
    }
}
