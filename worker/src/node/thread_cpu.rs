//! CPU time of a set of threads, read from `/proc/self/task/<tid>/stat` (Linux).
//!
//! The bench runs its upstream peers in the node's process, on a runtime of their own; in a
//! real network they are other machines. Their threads' CPU is read here so the node's own
//! CPU (the process's minus theirs) can be reported beside the process figure.

use std::sync::{Arc, Mutex};

/// Clock ticks per second of `/proc` times (`USER_HZ`, 100 on every Linux ABI).
const TICKS_PER_SEC: f64 = 100.0;

/// The threads registered so far (their kernel thread ids), and the ticks of those that
/// have exited.
#[derive(Debug, Clone, Default)]
pub struct ThreadSet(Arc<Mutex<(Vec<String>, u64)>>);

impl ThreadSet {
    /// Registers the calling thread (call it from the thread, e.g. a runtime's start hook).
    pub fn register_current(&self) {
        if let Ok(link) = std::fs::read_link("/proc/thread-self") {
            if let Some(tid) = link.file_name().and_then(|n| n.to_str()) {
                self.0
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .0
                    .push(tid.to_string());
            }
        }
    }

    /// Keeps the calling thread's CPU as it exits (call it from the thread, e.g. a runtime's
    /// stop hook): an exited thread's `/proc` entry is gone, its time is not.
    pub fn record_exit_current(&self) {
        let Ok(link) = std::fs::read_link("/proc/thread-self") else {
            return;
        };
        let Some(tid) = link
            .file_name()
            .and_then(|n| n.to_str())
            .map(str::to_string)
        else {
            return;
        };
        let ticks = std::fs::read_to_string("/proc/thread-self/stat")
            .ok()
            .and_then(|stat| parse_ticks(&stat));
        let mut set = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(t) = ticks {
            set.1 += t;
        }
        set.0.retain(|t| *t != tid);
    }

    /// CPU seconds (user and system) the registered threads have used; `None` where `/proc`
    /// cannot tell (another OS), so callers report the process figure alone.
    pub fn cpu_seconds(&self) -> Option<f64> {
        let (tids, mut ticks) = self.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if tids.is_empty() && ticks == 0 {
            return None;
        }
        for tid in tids {
            // A thread that exited without the stop hook has no entry any more.
            let Ok(stat) = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")) else {
                continue;
            };
            ticks += parse_ticks(&stat)?;
        }
        Some(ticks as f64 / TICKS_PER_SEC)
    }
}

/// `utime + stime` of one `stat` line; the command name in parentheses may hold spaces.
fn parse_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state is field 3, utime field 14 and stime field 15 of the line.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_ticks_of_a_stat_line() {
        let line = "4242 (tokio runtime) S 1 2 3 4 5 6 7 8 9 10 250 31 0 0 20 0 4 0 0";
        assert_eq!(parse_ticks(line), Some(281));
        assert_eq!(parse_ticks("garbage"), None);
    }

    #[test]
    fn a_busy_registered_thread_shows_its_cpu() {
        let set = ThreadSet::default();
        let s = set.clone();
        // Spin until the set shows the spinning (or give up after 30 s of wall time).
        let seen = std::thread::spawn(move || {
            s.register_current();
            let start = std::time::Instant::now();
            let mut x = 0u64;
            loop {
                for _ in 0..1_000_000 {
                    x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
                }
                std::hint::black_box(x);
                let cpu = s.cpu_seconds().unwrap_or(0.0);
                if cpu >= 0.05 || start.elapsed() > std::time::Duration::from_secs(30) {
                    return cpu;
                }
            }
        })
        .join()
        .unwrap();
        assert!(seen >= 0.05, "{seen}");
        assert_eq!(ThreadSet::default().cpu_seconds(), None);
    }
}
