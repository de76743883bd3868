//! `bittensor-worker experiment` runs real worker processes: on a prefix of the real text
//! (`.data/wiki.txt`, prepared by `scripts/setup`), 2 `bittensor-worker run` processes are
//! seen from outside while it runs, it ends with the JSON line, what the nodes serve beats
//! each shard alone (WordSim-353 with a 95 % interval above 0), and no process is left
//! afterwards. SIGTERM or SIGKILL to the experiment, or its output pipes closed under it,
//! leave nothing running either.

mod support;

use std::collections::BTreeSet;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::worker_bin;

/// Longest an experiment of these tests may take before the test fails.
const DEADLINE: Duration = Duration::from_secs(600);

fn data(name: &str) -> PathBuf {
    localnet::repo_root().join(".data").join(name)
}

/// `experiment` on the first `tokens` tokens of wiki.txt, leading its own process group
/// (sampling and rate as chosen on wiki.txt and GCIDE, docs/embeddings.md, given here so that
/// the test does not move with the defaults).
fn experiment(tokens: usize, epochs: usize, out: Stdio, err: Stdio) -> Child {
    use std::os::unix::process::CommandExt;
    Command::new(worker_bin())
        .args(["experiment", "--nodes", "2", "--no-baselines", "--json"])
        .arg("--corpus")
        .arg(data("wiki.txt"))
        .arg("--wordsim")
        .arg(data("wordsim353.tsv"))
        .arg("--simlex")
        .arg(data("simlex999.txt"))
        .args(["--max-tokens", &tokens.to_string()])
        .args(["--epochs", &epochs.to_string()])
        .args(["--sample", "1e-4", "--alpha", "0.075"])
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0)
        .spawn()
        .expect("start the experiment")
}

/// Processes (pid, pgid) whose command line names the experiment's directory: its nodes.
fn nodes_of(experiment_pid: u32) -> BTreeSet<(u32, u32)> {
    let marker = format!("bittensor-experiment-{experiment_pid}");
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return BTreeSet::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            let cmdline = std::fs::read(e.path().join("cmdline")).ok()?;
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            if !cmdline.contains(&marker) || !cmdline.contains(" run ") {
                return None;
            }
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            let rest = stat.rsplit_once(')')?.1;
            let mut fields = rest.split_whitespace();
            let state = fields.next()?;
            let pgrp: u32 = fields.nth(1)?.parse().ok()?;
            (state != "Z" && state != "X").then_some((pid, pgrp))
        })
        .collect()
}

/// Waits until `count` node processes of the running experiment are seen.
fn nodes_seen(child: &mut Child, count: usize) -> BTreeSet<(u32, u32)> {
    let start = Instant::now();
    let mut seen = BTreeSet::new();
    while seen.len() < count {
        seen.extend(nodes_of(child.id()));
        assert!(
            child.try_wait().unwrap().is_none(),
            "the experiment ended before its nodes were seen"
        );
        assert!(start.elapsed() < DEADLINE, "no nodes seen");
        std::thread::sleep(Duration::from_millis(100));
    }
    seen
}

/// Waits for the experiment, recording every node process seen meanwhile.
fn wait_watching(child: &mut Child) -> (std::process::ExitStatus, BTreeSet<(u32, u32)>) {
    let start = Instant::now();
    let mut seen = BTreeSet::new();
    loop {
        seen.extend(nodes_of(child.id()));
        if let Some(status) = child.try_wait().expect("wait") {
            return (status, seen);
        }
        if start.elapsed() > DEADLINE {
            let _ = Command::new("kill")
                .args(["-TERM", "--", &format!("-{}", child.id())])
                .status();
            panic!("the experiment did not end within {DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Fails unless no node process of the experiment, nor any process of its groups, is left
/// (checked from outside, within the stop grace period).
fn assert_nothing_left(pid: u32, groups: &BTreeSet<u32>) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let left = nodes_of(pid);
        let groups_left: Vec<u32> = groups
            .iter()
            .copied()
            .filter(|&g| localnet::group_alive(g))
            .collect();
        if left.is_empty() && groups_left.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "left running: nodes {left:?}, groups {groups_left:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn row<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["rows"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["model"] == name))
        .unwrap_or_else(|| panic!("no row {name} in {doc}"))
}

#[test]
fn the_experiment_runs_two_worker_processes_and_what_they_serve_beats_each_shard_alone() {
    let log = tempfile::NamedTempFile::new().unwrap();
    // The whole of wiki.txt (453 k tokens): on less, alone and centralised differ by noise.
    let mut child = experiment(
        500_000,
        5,
        Stdio::piped(),
        Stdio::from(log.reopen().unwrap()),
    );
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let (status, seen) = wait_watching(&mut child);
    let out = reader.join().unwrap();
    let err = std::fs::read_to_string(log.path()).unwrap_or_default();
    assert!(status.success(), "experiment failed: {status}\n{err}");
    let groups: BTreeSet<u32> = seen.iter().map(|&(_, g)| g).collect();
    assert_eq!(
        groups.len(),
        2,
        "two node processes, each its own group: {seen:?}"
    );
    assert!(
        groups.iter().all(|&g| g != child.id()),
        "the nodes lead their own groups"
    );
    assert!(
        err.contains("[experiment] seed 1:"),
        "progress on stderr:\n{err}"
    );
    assert_nothing_left(child.id(), &groups);

    let line = out.lines().last().expect("output");
    let doc: Value = serde_json::from_str(line).expect("the last line is the JSON line");
    for name in ["alone", "networked", "centralised"] {
        let r = row(&doc, name);
        assert!(r["wordsim"].is_f64() && r["simlex_ci"].is_array(), "{r}");
    }
    let diff = doc["diffs"]
        .as_array()
        .and_then(|d| {
            d.iter()
                .find(|d| d["a"] == "networked" && d["b"] == "alone")
        })
        .expect("networked - alone")
        .clone();
    // On wiki.txt with 2 nodes the WordSim-353 interval decides (alone 0.31, centralised 0.47);
    // on SimLex-999 alone and centralised lie within each other's noise (0.17 and 0.25 with
    // intervals of +-0.08), so there only the sign is asked. The GCIDE runs of
    // docs/embeddings.md have both intervals above 0.
    let lo = diff["wordsim_ci"][0].as_f64().unwrap();
    assert!(
        lo > 0.0,
        "networked - alone WordSim {lo} not above 0: {diff}\n{out}"
    );
    let simlex = diff["simlex"].as_f64().unwrap();
    assert!(
        simlex > 0.0,
        "networked - alone SimLex {simlex} not above 0: {diff}\n{out}"
    );
}

#[test]
fn sigterm_or_sigkill_to_the_experiment_or_closed_pipes_leave_no_process_running() {
    // SIGTERM to the experiment's own pid (not its group) while its nodes train.
    let mut child = experiment(300_000, 50, Stdio::null(), Stdio::null());
    let mut seen = nodes_seen(&mut child, 2);
    // Let the nodes get going (listening, training) before the signal.
    std::thread::sleep(Duration::from_secs(2));
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let (status, more) = wait_watching(&mut child);
    seen.extend(more);
    assert_eq!(
        status.code(),
        Some(128 + 15),
        "exits as SIGTERM would: {status}"
    );
    let groups: BTreeSet<u32> = seen.iter().map(|&(_, g)| g).collect();
    assert_nothing_left(child.id(), &groups);
    let _ = std::fs::remove_dir_all(
        std::env::temp_dir().join(format!("bittensor-experiment-{}", child.id())),
    );

    // SIGKILL to the experiment (no process can catch it, so its guard never runs): the
    // nodes see that the program that started them is gone and stop by themselves.
    let mut child = experiment(300_000, 50, Stdio::null(), Stdio::null());
    let seen = nodes_seen(&mut child, 2);
    std::thread::sleep(Duration::from_secs(2));
    child.kill().expect("SIGKILL the experiment");
    let status = child.wait().unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9),
        "{status}"
    );
    let groups: BTreeSet<u32> = seen.iter().map(|&(_, g)| g).collect();
    assert_nothing_left(child.id(), &groups);
    let _ = std::fs::remove_dir_all(
        std::env::temp_dir().join(format!("bittensor-experiment-{}", child.id())),
    );

    // Both output pipes closed by the reader while the experiment runs.
    let mut child = experiment(20_000, 1, Stdio::piped(), Stdio::piped());
    drop(child.stdout.take());
    drop(child.stderr.take());
    let (_, seen) = wait_watching(&mut child);
    let groups: BTreeSet<u32> = seen.iter().map(|&(_, g)| g).collect();
    assert_nothing_left(child.id(), &groups);
    let _ = std::fs::remove_dir_all(
        std::env::temp_dir().join(format!("bittensor-experiment-{}", child.id())),
    );
}
