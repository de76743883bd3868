//! `load-run`: N workers on a fresh local chain for a bounded time, then a clean stop and
//! a summary (per-worker steps, emits pushed/failed, peer failures; on-chain conservation),
//! printed and written to `target/artefacts/load-run.txt`.
//!
//! `cargo build --release -p bittensor-worker -p bittensor-ops`, then
//! `target/release/load-run --workers 20 --seconds 60` (or `scripts/load-run 20 60`).

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use bittensor_ops::load::{run, LoadOptions};

/// Command-line values with their defaults.
struct Args {
    workers: usize,
    seconds: u64,
    worker_bin: Option<PathBuf>,
    out: Option<PathBuf>,
}

fn parse_args() -> Result<Args> {
    let mut args = Args {
        workers: 20,
        seconds: 60,
        worker_bin: None,
        out: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--workers" => args.workers = value()?.parse().context("--workers")?,
            "--seconds" => args.seconds = value()?.parse().context("--seconds")?,
            "--worker-bin" => args.worker_bin = Some(value()?.into()),
            "--out" => args.out = Some(value()?.into()),
            "-h" | "--help" => {
                println!(
                    "load-run [--workers N=20] [--seconds S=60] [--worker-bin PATH] [--out FILE]"
                );
                std::process::exit(0);
            }
            other => bail!("unknown argument {other:?} (try --help)"),
        }
    }
    if args.workers == 0 {
        bail!("--workers must be at least 1");
    }
    Ok(args)
}

fn main() -> Result<()> {
    bittensor_logging::init();
    let args = parse_args()?;
    let worker_bin = match args.worker_bin {
        Some(p) => p,
        None => std::env::current_exe()?
            .parent()
            .context("executable directory")?
            .join("bittensor-worker"),
    };
    let opts = LoadOptions {
        workers: args.workers,
        seconds: args.seconds,
        worker_bin,
        emit_interval: 5.0,
        peers: 3,
        log_dir: Some(localnet::repo_root().join("target/artefacts/load-run-logs")),
    };
    let report = run(&opts).inspect_err(|_| localnet::yield_to_signal_guard())?;
    let table = report.table();
    print!("{table}");
    let out = args
        .out
        .unwrap_or_else(|| localnet::repo_root().join("target/artefacts/load-run.txt"));
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&out, &table).with_context(|| format!("writing {}", out.display()))?;
    eprintln!("summary written to {}", out.display());
    if !report.healthy() {
        bail!("the load run was not clean (see the table)");
    }
    Ok(())
}
