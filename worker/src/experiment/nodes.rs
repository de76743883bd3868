//! The experiment's worker processes: `bittensor-worker run --config NODE.toml`, each leading
//! its own process group (stopped, TERM then KILL, when the [`Network`] drops: on success, on
//! error, on a panic; on SIGINT, SIGTERM or SIGHUP the process-group guard stops them and
//! exits as the signal would). Progress (each node's step and epoch from its `/status`) goes
//! to stderr; training is over when every node says so.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::Context;
use localnet::ProcessGroup;
use serde_json::Value;

use super::setup::NodeFiles;
use crate::config::{Config, KEY_ENV};
use crate::model::vectors::{load_word2vec_text, Vectors};
use crate::node::export_request::{node_base, request_export};
use crate::peer::client::PeerClient;
use crate::peer::Limits;

/// Longest wait for a node to listen.
const READY_TIMEOUT: Duration = Duration::from_secs(120);
/// Longest time no node makes a step before the run is declared stuck.
const STALL_TIMEOUT: Duration = Duration::from_secs(300);
/// Status poll and progress line period.
const POLL: Duration = Duration::from_millis(500);
/// Progress lines at most this often.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);
/// Lines of a node's log quoted in an error.
const LOG_TAIL: usize = 20;

/// One running node.
struct Running {
    files: NodeFiles,
    group: ProcessGroup,
    base: Option<String>,
    /// Tokens of its shard (the epoch it reports is computed from steps when its status
    /// does not carry one).
    shard_tokens: usize,
}

/// The N worker processes of one seed.
pub struct Network {
    nodes: Vec<Running>,
    chunk_words: usize,
    epochs: usize,
}

/// Where a node stands, from its `/status`.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// Training steps done.
    pub step: u64,
    /// Epochs done (fractional).
    pub epoch: f64,
    /// Latest loss.
    pub loss: Option<f64>,
    /// Whether its training schedule is over.
    pub done: bool,
    /// Its exchange with its peers: rounds, peer updates applied, refused, copies, missed
    /// (a peer's history had moved past what it had fetched), row deltas clipped.
    pub exchange: [u64; 6],
}

/// Reads a node's progress from its status. A node that reports whether its schedule is
/// over (`training_done`) and its epoch is taken at its word; otherwise the schedule is
/// taken to be `epochs` passes of `shard_tokens` in steps of `chunk_words` tokens.
pub fn progress(
    status: &Value,
    shard_tokens: usize,
    chunk_words: usize,
    epochs: usize,
) -> Progress {
    let step = status["step"].as_u64().unwrap_or(0);
    let per_epoch = shard_tokens.div_ceil(chunk_words.max(1)).max(1) as f64;
    let epoch = status["epoch"].as_f64().unwrap_or(step as f64 / per_epoch);
    let done = status["training_done"]
        .as_bool()
        .unwrap_or(epoch >= epochs as f64);
    let x = &status["exchange"];
    let count = |k: &str| x[k].as_u64().unwrap_or(0);
    Progress {
        step,
        epoch,
        loss: status["loss"].as_f64(),
        done,
        exchange: [
            count("rounds"),
            count("applied"),
            count("refused"),
            count("copied"),
            count("missed"),
            count("clipped"),
        ],
    }
}

/// The last lines of a log, for an error message.
pub fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(LOG_TAIL)..].join("\n")
}

impl Network {
    /// Starts one `run` process per node (each its own process group); the key comes from
    /// each node's key file only, never from this process's environment.
    pub fn start(
        worker: &Path,
        nodes: &[NodeFiles],
        shard_tokens: &[usize],
        chunk_words: usize,
        epochs: usize,
    ) -> anyhow::Result<Network> {
        let mut running = Vec::new();
        for (files, &tokens) in nodes.iter().zip(shard_tokens) {
            let mut cmd = Command::new(worker);
            cmd.args(["run", "--config"])
                .arg(&files.config)
                .env_remove(KEY_ENV);
            // Even a SIGKILL to the experiment (which its signal guard cannot see) stops them.
            crate::node::parent::stop_with_this_process(&mut cmd);
            let group = ProcessGroup::spawn(&files.account, cmd, &files.log)
                .with_context(|| format!("starting node {}", files.account))?;
            running.push(Running {
                files: files.clone(),
                group,
                base: None,
                shard_tokens: tokens,
            });
        }
        Ok(Network {
            nodes: running,
            chunk_words,
            epochs,
        })
    }

    /// The process groups (for checks from outside).
    pub fn groups(&self) -> Vec<u32> {
        self.nodes.iter().map(|n| n.group.pgid()).collect()
    }

    /// Fails with the node's log tail if it has exited.
    fn check_alive(n: &mut Running) -> anyhow::Result<()> {
        if let Some(status) = n.group.exited() {
            anyhow::bail!(
                "node {} exited ({status}) before the experiment was done; its log ({}) ends:\n{}",
                n.files.account,
                n.files.log.display(),
                log_tail(&n.files.log)
            );
        }
        Ok(())
    }

    /// Waits until every node listens (its ready file names its address).
    pub fn wait_ready(&mut self) -> anyhow::Result<()> {
        let deadline = Instant::now() + READY_TIMEOUT;
        while self.nodes.iter().any(|n| n.base.is_none()) {
            for n in &mut self.nodes {
                Self::check_alive(n)?;
                if n.base.is_some() {
                    continue;
                }
                let doc = std::fs::read_to_string(&n.files.ready)
                    .ok()
                    .and_then(|t| serde_json::from_str::<Value>(&t).ok());
                if let Some(listen) = doc.as_ref().and_then(|d| d["listen"].as_str()) {
                    n.base = Some(node_base(listen));
                }
            }
            if Instant::now() > deadline {
                anyhow::bail!("the nodes did not all listen within {READY_TIMEOUT:?}");
            }
            std::thread::sleep(POLL);
        }
        Ok(())
    }

    /// Polls every node's status until all say training is done, printing progress lines
    /// on stderr; fails when a node exits or no node advances for [`STALL_TIMEOUT`].
    pub async fn wait_done(&mut self, label: &str) -> anyhow::Result<Vec<Progress>> {
        let client = PeerClient::new(Duration::from_secs(10), Limits::default());
        let mut last_line = Instant::now() - PROGRESS_EVERY;
        let mut last_advance = Instant::now();
        let mut last_steps: Vec<u64> = vec![0; self.nodes.len()];
        loop {
            let mut all = Vec::new();
            for n in &mut self.nodes {
                Self::check_alive(n)?;
                let base = n.base.clone().context("node not ready")?;
                let p = match client.status(&base).await {
                    Ok(s) => progress(&s, n.shard_tokens, self.chunk_words, self.epochs),
                    Err(e) => {
                        tracing::debug!(node = %n.files.account, error = %e, "status not read");
                        Progress {
                            step: 0,
                            epoch: 0.0,
                            loss: None,
                            done: false,
                            exchange: [0; 6],
                        }
                    }
                };
                all.push(p);
            }
            let steps: Vec<u64> = all.iter().map(|p| p.step).collect();
            if steps.iter().zip(&last_steps).any(|(a, b)| a > b) {
                last_advance = Instant::now();
                last_steps = steps;
            }
            let done = all.iter().all(|p| p.done);
            if done || last_line.elapsed() >= PROGRESS_EVERY {
                last_line = Instant::now();
                let cells: Vec<String> = self
                    .nodes
                    .iter()
                    .zip(&all)
                    .map(|(n, p)| {
                        format!(
                            "{} step {} epoch {:.2}/{}{}{}",
                            n.files.account,
                            p.step,
                            p.epoch,
                            self.epochs,
                            p.loss.map(|l| format!(" loss {l:.3}")).unwrap_or_default(),
                            if p.done { " done" } else { "" }
                        )
                    })
                    .collect();
                // A closed stderr must not stop the run (its cleanup included).
                let _ = writeln!(
                    std::io::stderr(),
                    "[experiment] {label}: {}",
                    cells.join(" | ")
                );
            }
            if done {
                return Ok(all);
            }
            if last_advance.elapsed() > STALL_TIMEOUT {
                anyhow::bail!(
                    "no node advanced for {STALL_TIMEOUT:?}; the last lines of {}:\n{}",
                    self.nodes[0].files.log.display(),
                    log_tail(&self.nodes[0].files.log)
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Asks every node, over a session as its own account, to export what it serves, and
    /// loads those vectors.
    pub async fn export_served(&self) -> anyhow::Result<Vec<Vectors>> {
        let mut out = Vec::new();
        for n in &self.nodes {
            let base = n.base.clone().context("node not ready")?;
            let cfg = Config::load(&n.files.config)?;
            let files = request_export(&base, &cfg).await?;
            let served: PathBuf = files
                .iter()
                .find(|f| f.ends_with(".served.txt"))
                .map(PathBuf::from)
                .with_context(|| {
                    format!("{} exported no served vectors: {files:?}", n.files.account)
                })?;
            out.push(
                load_word2vec_text(&served)
                    .with_context(|| format!("loading {}", served.display()))?,
            );
        }
        Ok(out)
    }

    /// Stops every node (SIGTERM to all groups at once, then each is waited for).
    pub fn stop(self) {
        for n in &self.nodes {
            n.group.terminate();
        }
        // Dropping each group waits for it (and kills it after the grace period).
        drop(self);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_takes_the_nodes_word_and_otherwise_counts_steps() {
        let s = serde_json::json!({"step": 30, "loss": 2.5});
        let p = progress(&s, 1000, 100, 3);
        assert_eq!(p.epoch, 3.0);
        assert!(p.done);
        assert_eq!(p.loss, Some(2.5));
        let s = serde_json::json!({"step": 29});
        assert!(!progress(&s, 1000, 100, 3).done);
        let s = serde_json::json!({"step": 5, "epoch": 0.5, "training_done": true,
            "exchange": {"rounds": 7, "applied": 12, "refused": 1, "copied": 2, "missed": 3,
                "clipped": 4}});
        let p = progress(&s, 1000, 100, 3);
        assert!(p.done);
        assert_eq!(p.exchange, [7, 12, 1, 2, 3, 4]);
        assert_eq!(p.epoch, 0.5);
        let s = serde_json::json!({"step": 500, "training_done": false});
        assert!(!progress(&s, 1000, 100, 3).done);
    }
}
