//! The load run: a local chain with the contract, N funded accounts, N `bittensor-worker`
//! processes with small models training together for a bounded time, then a clean stop
//! (SIGTERM: last emit and unsubscribe) and a report of each worker's counters (from its
//! final log line and its failed-emit log lines) and the on-chain conservation check.
//!
//! - [`workers`]: names, configs, spawning and stopping the worker processes.
//! - [`report`]: parsing the logs and printing the summary table.
//! - [`status`]: the workers' live `/status` counters, read just before the stop.

pub mod report;
pub mod status;
pub mod workers;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use bittensor_tests::{conservation, deployed, funded, Localnet};
use report::{LoadReport, WorkerFigures};
use workers::{account_name, Fleet};

/// 100.0000 BIT per worker account (each stakes 10.0000 BIT).
const FUNDS: u64 = 1_000_000;

/// What to run.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Number of workers.
    pub workers: usize,
    /// Seconds of training after every worker is ready.
    pub seconds: u64,
    /// The `bittensor-worker` executable.
    pub worker_bin: PathBuf,
    /// Seconds between each worker's emits.
    pub emit_interval: f64,
    /// Upstream peer slots per worker.
    pub peers: usize,
    /// Where to keep the workers' configs and logs (None = a temporary directory).
    pub log_dir: Option<PathBuf>,
}

/// Runs the whole load run and returns its report (the chain is gone afterwards).
pub fn run(opts: &LoadOptions) -> Result<LoadReport> {
    let started = Instant::now();
    tracing::info!(
        workers = opts.workers,
        "starting chain and deploying the contract"
    );
    let (net, contract) = deployed()?;
    let names: Vec<String> = (0..opts.workers).map(account_name).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    funded(&net, &contract, &refs, FUNDS).context("funding worker accounts")?;
    let temp = tempfile::Builder::new()
        .prefix("load-run-")
        .tempdir()
        .context("temp dir")?;
    let dir = match &opts.log_dir {
        Some(d) => {
            std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
            d.clone()
        }
        None => temp.path().to_path_buf(),
    };
    let result = drive(opts, &net, &contract, &names, &dir, started);
    keep_nodeos_log(&net, &dir);
    result
}

/// Copies nodeos' log next to the workers' logs (the chain's directory is removed on drop).
fn keep_nodeos_log(net: &Localnet, dir: &Path) {
    let Ok(entries) = std::fs::read_dir(net.dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let log = entry.path().join("nodeos.log");
        if log.is_file() {
            if let Err(e) = std::fs::copy(&log, dir.join("nodeos.log")) {
                tracing::warn!(error = %e, "cannot keep the nodeos log");
            }
        }
    }
}

/// Starts the workers, lets them run, stops them and gathers the figures.
fn drive(
    opts: &LoadOptions,
    net: &Localnet,
    contract: &str,
    names: &[String],
    dir: &Path,
    started: Instant,
) -> Result<LoadReport> {
    let mut fleet = Fleet::start(dir, opts, &net.url, contract, names)?;
    tracing::info!(workers = opts.workers, "all workers ready; training");
    let run_start = Instant::now();
    let deadline = run_start + Duration::from_secs(opts.seconds);
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_secs(1).min(deadline - Instant::now()));
        let alive = fleet.alive();
        match conservation::read(net, contract) {
            Ok(mid) => tracing::info!(
                elapsed_s = run_start.elapsed().as_secs(),
                alive,
                nodes = mid.nodes,
                minted = mid.minted as u64,
                "running"
            ),
            Err(e) => tracing::warn!(alive, error = %e, "chain read failed"),
        }
    }
    let mid = conservation::check(net, contract, "the run (before stopping)")?;
    let live = status::statuses(fleet.bases());
    tracing::info!("stopping workers (SIGTERM)");
    let exits = fleet.stop_all(Duration::from_secs(120));
    let end = conservation::read(net, contract)?;
    let figures: Vec<WorkerFigures> = names
        .iter()
        .zip(exits)
        .zip(&live)
        .map(|((name, exit), doc)| {
            let mut f = WorkerFigures::from_log(name, &fleet.log_path(name), exit);
            f.live_emits_pushed = status::counter(doc, "emits_pushed");
            f.live_emits_failed = status::counter(doc, "emits_failed");
            f
        })
        .collect();
    Ok(LoadReport {
        workers: opts.workers,
        seconds: run_start.elapsed().as_secs_f64(),
        total_seconds: started.elapsed().as_secs_f64(),
        figures,
        before_stop: mid,
        end,
        end_ok: end.verify().map_err(|e| e.to_string()),
    })
}
