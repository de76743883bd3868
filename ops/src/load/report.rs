//! The load run's figures: per-worker counters read from the final `node stopped` log line
//! (steps, emits pushed and failed, peer failures) and the count of `emit failed` lines,
//! the on-chain conservation figures, and the summary table printed and saved.

use std::fmt::Write as _;
use std::path::Path;

use bittensor_tests::conservation::Conservation;

/// One worker's counters at the end of the run.
#[derive(Debug, Clone, Default)]
pub struct WorkerFigures {
    /// Account name.
    pub name: String,
    /// Training steps (None when the final log line is missing).
    pub steps: Option<u64>,
    /// Emits the chain accepted.
    pub emits_pushed: Option<u64>,
    /// Emits that failed (counter).
    pub emits_failed: Option<u64>,
    /// `emit failed` lines in the log (cross-check of the counter).
    pub emit_failed_lines: u64,
    /// Failed forward calls to upstream peers.
    pub peer_failures: Option<u64>,
    /// Whether it unsubscribed at the end (log line).
    pub unsubscribed: bool,
    /// How the process ended: `clean`, `exit ...` or `killed`.
    pub exit: String,
    /// `/status` emits_pushed just before the stop (the final emit comes after).
    pub live_emits_pushed: Option<u64>,
    /// `/status` emits_failed just before the stop.
    pub live_emits_failed: Option<u64>,
}

/// Removes ANSI colour sequences (in case the logger coloured its output).
fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The `key=value` number on a log line.
fn field(line: &str, key: &str) -> Option<u64> {
    line.split_whitespace()
        .find_map(|t| t.strip_prefix(key)?.strip_prefix('=')?.parse().ok())
}

impl WorkerFigures {
    /// Reads a worker's counters from its log text.
    pub fn from_log_text(name: &str, text: &str, exit: String) -> Self {
        let mut f = WorkerFigures {
            name: name.to_string(),
            exit,
            ..WorkerFigures::default()
        };
        for line in text.lines().map(strip_ansi) {
            if line.contains("emit failed") {
                f.emit_failed_lines += 1;
            }
            if line.contains(" unsubscribed") {
                f.unsubscribed = true;
            }
            if line.contains("node stopped") {
                f.steps = field(&line, "steps");
                f.emits_pushed = field(&line, "emits_pushed");
                f.emits_failed = field(&line, "emits_failed");
                f.peer_failures = field(&line, "peer_failures");
            }
        }
        f
    }

    /// Reads a worker's counters from its log file.
    pub fn from_log(name: &str, path: &Path, exit: String) -> Self {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        Self::from_log_text(name, &text, exit)
    }
}

/// Everything the load run measured.
#[derive(Debug, Clone)]
pub struct LoadReport {
    /// Workers started.
    pub workers: usize,
    /// Seconds of the training phase (until the stop began).
    pub seconds: f64,
    /// Seconds of the whole run (chain start to last exit).
    pub total_seconds: f64,
    /// Per-worker counters.
    pub figures: Vec<WorkerFigures>,
    /// Conservation figures just before the stop.
    pub before_stop: Conservation,
    /// Conservation figures after every worker stopped.
    pub end: Conservation,
    /// Whether the end figures satisfy the invariant.
    pub end_ok: Result<(), String>,
}

fn opt(v: Option<u64>) -> String {
    v.map_or_else(|| "?".to_string(), |v| v.to_string())
}

impl LoadReport {
    /// Sum of a counter over the workers that reported it.
    fn total(&self, get: impl Fn(&WorkerFigures) -> Option<u64>) -> u64 {
        self.figures.iter().filter_map(get).sum()
    }

    /// Whether every worker stopped cleanly, unsubscribed, and the chain balances.
    pub fn healthy(&self) -> bool {
        self.end_ok.is_ok()
            && self.end.nodes == 0
            && self
                .figures
                .iter()
                .all(|f| f.exit == "clean" && f.unsubscribed)
    }

    /// The summary table.
    pub fn table(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "load run: {} workers, {:.0} s training ({:.0} s in all)",
            self.workers, self.seconds, self.total_seconds
        );
        let _ = writeln!(
            s,
            "{:<10} {:>8} {:>12} {:>12} {:>13} {:>16} {:>14} {:>12} {:>8}",
            "worker",
            "steps",
            "emits_pushed",
            "emits_failed",
            "failed_lines",
            "status_push/fail",
            "peer_failures",
            "unsubscribed",
            "exit"
        );
        for f in &self.figures {
            let _ = writeln!(
                s,
                "{:<10} {:>8} {:>12} {:>12} {:>13} {:>16} {:>14} {:>12} {:>8}",
                f.name,
                opt(f.steps),
                opt(f.emits_pushed),
                opt(f.emits_failed),
                f.emit_failed_lines,
                format!("{}/{}", opt(f.live_emits_pushed), opt(f.live_emits_failed)),
                opt(f.peer_failures),
                f.unsubscribed,
                f.exit
            );
        }
        let _ = writeln!(
            s,
            "{:<10} {:>8} {:>12} {:>12} {:>13} {:>16} {:>14}",
            "TOTAL",
            self.total(|f| f.steps),
            self.total(|f| f.emits_pushed),
            self.total(|f| f.emits_failed),
            self.figures
                .iter()
                .map(|f| f.emit_failed_lines)
                .sum::<u64>(),
            format!(
                "{}/{}",
                self.total(|f| f.live_emits_pushed),
                self.total(|f| f.live_emits_failed)
            ),
            self.total(|f| f.peer_failures),
        );
        let b = &self.before_stop;
        let _ = writeln!(
            s,
            "on chain before stop: nodes {}, supply {}, balances {}, total_stake {}, outstanding {}, minted {}: conserved",
            b.nodes, b.supply, b.balances, b.total_stake, b.outstanding, b.minted
        );
        let e = &self.end;
        let _ = writeln!(
            s,
            "on chain at the end:  nodes {}, supply {}, balances {}, total_stake {}, outstanding {}, minted {}: {}",
            e.nodes,
            e.supply,
            e.balances,
            e.total_stake,
            e.outstanding,
            e.minted,
            match &self.end_ok {
                Ok(()) => "conserved (supply == balances + total_stake + outstanding, sums match)".to_string(),
                Err(m) => format!("BROKEN: {m}"),
            }
        );
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_read_from_the_final_log_line() {
        let log = "\u{1b}[2m2026\u{1b}[0m \u{1b}[33m WARN\u{1b}[0m x: emit failed; will retry error=down\n\
                   2026 INFO x: unsubscribed\n\
                   2026 INFO x: node stopped steps=812 emits_pushed=9 emits_failed=1 peer_failures=3\n";
        let f = WorkerFigures::from_log_text("lw1", log, "clean".into());
        assert_eq!(f.steps, Some(812));
        assert_eq!(f.emits_pushed, Some(9));
        assert_eq!(f.emits_failed, Some(1));
        assert_eq!(f.peer_failures, Some(3));
        assert_eq!(f.emit_failed_lines, 1);
        assert!(f.unsubscribed);
        let none = WorkerFigures::from_log_text("lw2", "", "killed".into());
        assert_eq!(none.steps, None);
        assert!(!none.unsubscribed);
    }
}
