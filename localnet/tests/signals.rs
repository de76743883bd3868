//! A process that owns a chain (`localnet-testnet` here; a test or `load-run` alike) and is
//! stopped by a signal stops its nodeos and keosd process groups too: they lead groups of
//! their own, so without the guard the signal kills the owner, its `Drop` never runs, and
//! 4 processes per node keep running with their ports and data. Signalled in the middle of
//! the boot, the hardest moment; checked from outside within 30 s, once for each signal.

use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::processes_naming;

mod support;

const STOP_LIMIT: Duration = Duration::from_secs(30);

fn signalled_owner_leaves_no_node(signal: &str, number: i32) {
    let tmp = tempfile::Builder::new()
        .prefix("localnet-signal-test-")
        .tempdir()
        .expect("temp dir");
    let mark = tmp.path().display().to_string();
    let mut owner = Command::new(env!("CARGO_BIN_EXE_localnet-testnet"))
        .args(["--producers", "2", "--workers", "1", "--out"])
        .arg(tmp.path().join("chain.json"))
        .env("TMPDIR", tmp.path())
        .stdin(Stdio::piped()) // held open: without a signal the chain would keep running
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("localnet-testnet");
    // Both producers started (their nodeos name the temporary directory): the boot is on.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let nodes = processes_naming(std::slice::from_ref(&mark))
            .iter()
            .filter(|(_, c)| c.contains("nodeos") && c.contains("-p prodb"))
            .count();
        if nodes > 0 {
            break;
        }
        assert!(
            owner.try_wait().expect("try_wait").is_none(),
            "localnet-testnet exited before its second producer started"
        );
        assert!(
            Instant::now() < deadline,
            "the second producer never started"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let before = processes_naming(std::slice::from_ref(&mark)).len();
    let sent = Instant::now();
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(owner.id().to_string())
        .status()
        .expect("kill");
    assert!(status.success());
    let mut left = processes_naming(std::slice::from_ref(&mark));
    while !left.is_empty() && sent.elapsed() < STOP_LIMIT {
        std::thread::sleep(Duration::from_millis(250));
        left = processes_naming(std::slice::from_ref(&mark));
    }
    let took = sent.elapsed();
    for (pid, _) in &left {
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
    }
    assert!(
        left.is_empty(),
        "SIG{signal}: left {took:?} after the signal: {left:#?}"
    );
    let exit = owner.wait().expect("wait");
    assert_eq!(
        exit.code(),
        Some(128 + number),
        "exits as the signal's default action would ({exit:?}, signal {:?})",
        exit.signal()
    );
    eprintln!("SIG{signal}: {before} chain processes, all gone {took:?} after the signal");
}

#[test]
fn a_signalled_owner_stops_its_chain() {
    signalled_owner_leaves_no_node("TERM", 15);
    signalled_owner_leaves_no_node("INT", 2);
}
