//! `scripts/run-testnet --producers P` stopped from outside in each way a user stops it:
//! SIGTERM to its process group, SIGTERM to its pid alone, SIGINT to a pipeline
//! `run-testnet ... 2>&1 | tee log` (Ctrl-C in a terminal), SIGHUP to its process group (a
//! closed terminal), and SIGTERM to its pid while the chain is still booting. After each, checked from outside within 30 s: no process of the run is
//! left (nodeos, keosd, localnet-testnet, workers, viewer: every process whose command line
//! names the run's directories), no network namespace or bridge of the run, no listening
//! socket on the chain's or the view's ports. The runs share one testnet directory, so each
//! run after the first is a second run after a killed one: it must start clean (nothing left
//! to stop, no leftover warning). One run has 4 producers, the others 2, to keep the suite
//! short. The workers and viewer are the debug builds `cargo test --workspace` makes.

use std::fs;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::processes_naming;

mod support;

/// The issue's bound: everything gone this long after the signal.
const STOP_LIMIT: Duration = Duration::from_secs(30);
/// Longest wait for a run to boot its chain and start its workers.
const BOOT_LIMIT: Duration = Duration::from_secs(420);

/// How the run is stopped.
#[derive(Debug, Clone, Copy)]
enum Stop {
    /// `kill -TERM -PGID`.
    TermGroup,
    /// `kill -TERM PID` (the script only).
    TermPid,
    /// `kill -INT -PGID` on `run-testnet ... 2>&1 | tee log`: Ctrl-C on a pipeline.
    IntPipeline,
    /// `kill -HUP -PGID`: the terminal closed.
    HupGroup,
    /// `kill -TERM PID` while the chain is still booting.
    TermPidDuringBoot,
}

/// The directories, names and ports that identify this test's runs.
struct Env {
    tmp: tempfile::TempDir,
    tag: u32,
    view_port: u16,
}

impl Env {
    fn new() -> Env {
        let tmp = tempfile::Builder::new()
            .prefix("run-testnet-test-")
            .tempdir()
            .expect("temp dir");
        let view_port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        Env {
            tmp,
            tag: std::process::id() % 1000,
            view_port,
        }
    }

    fn testnet_dir(&self) -> PathBuf {
        self.tmp.path().join("testnet")
    }

    /// `TMPDIR` of the runs: the chain's data directories are created under it.
    fn chain_tmp(&self) -> PathBuf {
        self.tmp.path().join("tmp")
    }

    fn netns_prefix(&self) -> String {
        format!("btr{}-", self.tag)
    }

    fn bridge(&self) -> String {
        format!("btr{}br", self.tag)
    }

    fn vars(&self) -> Vec<(String, String)> {
        let bin_dir = bin_dir();
        vec![
            (
                "BITTENSOR_TESTNET_DIR".into(),
                self.testnet_dir().display().to_string(),
            ),
            ("TMPDIR".into(), self.chain_tmp().display().to_string()),
            ("BITTENSOR_VIEW_PORT".into(), self.view_port.to_string()),
            ("BITTENSOR_BIN_DIR".into(), bin_dir.display().to_string()),
            ("BITTENSOR_NET_BRIDGE".into(), self.bridge()),
            ("BITTENSOR_NETNS_PREFIX".into(), self.netns_prefix()),
            ("BITTENSOR_NET_VETH".into(), format!("btr{}v", self.tag)),
            // Link-local, and never run-testnet's 169.254.77 nor the netns test's 100..199.
            (
                "BITTENSOR_NET_PREFIX".into(),
                format!("169.254.{}", 200 + self.tag % 50),
            ),
        ]
    }
}

/// The directory holding `localnet-testnet`, `bittensor-worker` and `bittensor-viewer`.
fn bin_dir() -> PathBuf {
    let localnet = PathBuf::from(env!("CARGO_BIN_EXE_localnet-testnet"));
    let dir = localnet.parent().expect("bin dir").to_path_buf();
    for exe in ["bittensor-worker", "bittensor-viewer"] {
        assert!(
            dir.join(exe).is_file(),
            "{} missing: build it with `cargo build -p bittensor-worker -p bittensor-viewer` \
             (or run `cargo test --workspace`)",
            dir.join(exe).display()
        );
    }
    dir
}

/// Starts one run in a process group of its own; returns it and the file its output goes to.
fn start(env: &Env, producers: usize, stop: Stop, run: usize) -> (Child, PathBuf) {
    let root = localnet::repo_root();
    let log = env.tmp.path().join(format!("run{run}.log"));
    fs::create_dir_all(env.chain_tmp()).expect("tmp dir");
    let args = format!("2 --producers {producers} --corpus synthetic --every 1");
    let mut cmd = match stop {
        Stop::IntPipeline => {
            let mut c = Command::new("bash");
            c.arg("-c").arg(format!(
                "scripts/run-testnet {args} 2>&1 | tee {}",
                log.display()
            ));
            c.stdout(Stdio::null()).stderr(Stdio::null());
            c
        }
        _ => {
            let mut c = Command::new(root.join("scripts/run-testnet"));
            c.args(args.split_whitespace());
            let out = fs::File::create(&log).expect("log");
            c.stdout(out.try_clone().expect("log")).stderr(out);
            c
        }
    };
    cmd.current_dir(&root)
        .envs(env.vars())
        .stdin(Stdio::null())
        .process_group(0);
    (cmd.spawn().expect("spawning scripts/run-testnet"), log)
}

/// Waits until `reached()` holds (`what`), failing with the log's tail if the run exits or
/// [`BOOT_LIMIT`] passes first.
fn wait_run(child: &mut Child, log: &Path, what: &str, mut reached: impl FnMut() -> bool) {
    let deadline = Instant::now() + BOOT_LIMIT;
    while !reached() {
        let text = fs::read_to_string(log).unwrap_or_default();
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "run-testnet exited ({status}) before {what}:\n{}",
                tail(&text)
            );
        }
        assert!(
            Instant::now() < deadline,
            "not {what} after {BOOT_LIMIT:?}:\n{}",
            tail(&text)
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Waits until the run prints that the testnet is running (the workers are up).
fn wait_running(child: &mut Child, log: &Path) {
    wait_run(child, log, "running", || {
        fs::read_to_string(log)
            .unwrap_or_default()
            .contains("testnet running")
    });
}

/// Waits until the run's first producer is up (the chain is booting, no worker yet).
fn wait_booting(child: &mut Child, env: &Env, log: &Path) {
    let mark = [env.chain_tmp().display().to_string()];
    wait_run(child, log, "booting", || {
        processes_naming(&mark)
            .iter()
            .any(|(_, c)| c.contains("nodeos"))
    });
}

fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

fn signal(target: String, sig: &str) {
    let status = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg("--")
        .arg(&target)
        .status()
        .expect("kill");
    assert!(status.success(), "kill -{sig} {target} failed");
}

/// Ports in `ports` with a listening TCP socket in this network namespace.
fn listening(ports: &[u16]) -> Vec<u16> {
    let mut found = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let text = fs::read_to_string(table).unwrap_or_default();
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() < 4 || fields[3] != "0A" {
                continue;
            }
            let port = fields[1]
                .rsplit_once(':')
                .and_then(|(_, p)| u16::from_str_radix(p, 16).ok());
            if let Some(p) = port.filter(|p| ports.contains(p)) {
                found.push(p);
            }
        }
    }
    found
}

/// The run's namespaces and links that still exist.
fn net_leftovers(env: &Env) -> Vec<String> {
    let mut left = Vec::new();
    let netns = Command::new("ip").args(["netns", "list"]).output();
    if let Ok(out) = netns {
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let name = line.split_whitespace().next().unwrap_or("");
            if name.starts_with(&env.netns_prefix()) {
                left.push(format!("netns {name}"));
            }
        }
    }
    let links = Command::new("ip").args(["-o", "link", "show"]).output();
    if let Ok(out) = links {
        let veth = format!("btr{}v", env.tag);
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let name = line.split(": ").nth(1).unwrap_or("");
            let name = name.split('@').next().unwrap_or("");
            if name == env.bridge() || name.starts_with(&veth) {
                left.push(format!("link {name}"));
            }
        }
    }
    left
}

/// The chain's HTTP ports, from the run's `chain.json`.
fn chain_ports(env: &Env) -> Vec<u16> {
    let text = fs::read_to_string(env.testnet_dir().join("chain.json")).expect("chain.json");
    let doc: Value = serde_json::from_str(&text).expect("chain.json is JSON");
    doc["producers"]
        .as_array()
        .expect("producers")
        .iter()
        .filter_map(|p| p["url"].as_str()?.rsplit_once(':')?.1.parse().ok())
        .collect()
}

/// What is left of a run, as lines; empty when nothing is.
fn leftovers(env: &Env, ports: &[u16]) -> Vec<String> {
    let needles = vec![
        env.chain_tmp().display().to_string(),
        env.testnet_dir().display().to_string(),
    ];
    let mut left: Vec<String> = processes_naming(&needles)
        .into_iter()
        .map(|(pid, cmd)| format!("process {pid}: {cmd}"))
        .collect();
    left.extend(net_leftovers(env));
    left.extend(
        listening(ports)
            .into_iter()
            .map(|p| format!("port {p} listening")),
    );
    left
}

/// One run, stopped by `stop`; returns how long the stop took.
fn run_and_stop(env: &Env, producers: usize, stop: Stop, run: usize) -> Duration {
    let (mut child, log) = start(env, producers, stop, run);
    let pid = child.id();
    let ports = if let Stop::TermPidDuringBoot = stop {
        wait_booting(&mut child, env, &log);
        vec![env.view_port]
    } else {
        wait_running(&mut child, &log);
        let mut p = chain_ports(env);
        p.push(env.view_port);
        p
    };
    let text = fs::read_to_string(&log).unwrap_or_default();
    assert!(
        !text.contains("left by an earlier run") && !text.contains("left behind"),
        "run {run} did not start clean:\n{}",
        tail(&text)
    );
    let running = processes_naming(&[env.chain_tmp().display().to_string()]);
    let nodes = running.iter().filter(|(_, c)| c.contains("nodeos")).count();
    let wallets = running.iter().filter(|(_, c)| c.contains("keosd")).count();
    let booting = matches!(stop, Stop::TermPidDuringBoot);
    assert!(
        (nodes >= producers || booting) && nodes >= 1 && wallets >= 1,
        "run {run}: expected the chain's nodeos and keosd processes before the stop, found {running:?}"
    );
    eprintln!(
        "run {run} ({producers} producers, {stop:?}): {nodes} nodeos and {wallets} keosd processes running; stopping"
    );
    let sent = Instant::now();
    match stop {
        Stop::TermGroup => signal(format!("-{pid}"), "TERM"),
        Stop::TermPid | Stop::TermPidDuringBoot => signal(pid.to_string(), "TERM"),
        Stop::IntPipeline => signal(format!("-{pid}"), "INT"),
        Stop::HupGroup => signal(format!("-{pid}"), "HUP"),
    }
    let mut left = leftovers(env, &ports);
    while !left.is_empty() && sent.elapsed() < STOP_LIMIT {
        std::thread::sleep(Duration::from_millis(250));
        left = leftovers(env, &ports);
    }
    let took = sent.elapsed();
    if !left.is_empty() {
        // Clean up for the next test before failing.
        let needles = [
            env.chain_tmp().display().to_string(),
            env.testnet_dir().display().to_string(),
        ];
        for (p, _) in processes_naming(&needles) {
            let _ = Command::new("kill")
                .args(["-KILL", &p.to_string()])
                .status();
        }
        for item in net_leftovers(env) {
            let (kind, name) = item.split_once(' ').unwrap_or(("", ""));
            let args: &[&str] = if kind == "netns" {
                &["netns", "del", name]
            } else {
                &["link", "del", name]
            };
            let _ = Command::new("ip").args(args).status();
        }
    }
    let text = fs::read_to_string(&log).unwrap_or_default();
    // The script's own record of its stop (its output may have gone into a dead pipe).
    let said = fs::read_to_string(env.testnet_dir().join("run-testnet.log")).unwrap_or_default();
    assert!(
        left.is_empty(),
        "run {run} ({stop:?}): left {took:?} after the signal: {left:#?}\n{}\nthe script's log:\n{}",
        tail(&text),
        tail(&said)
    );
    let status = child.wait().expect("wait");
    eprintln!("run {run}: everything stopped {took:?} after the signal (exit {status})");
    took
}

#[test]
fn run_testnet_leaves_nothing_behind_however_it_is_stopped() {
    let env = Env::new();
    // 2 producers keep the suite short; BITTENSOR_STOP_TEST_PRODUCERS=4 runs every stop on 4.
    let small = std::env::var("BITTENSOR_STOP_TEST_PRODUCERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2);
    let plan = [
        (4, Stop::TermGroup),
        (small, Stop::TermPid),
        (small, Stop::IntPipeline),
        (small, Stop::HupGroup),
        (small, Stop::TermPidDuringBoot),
    ];
    for (run, (producers, stop)) in plan.into_iter().enumerate() {
        run_and_stop(&env, producers, stop, run + 1);
    }
}
