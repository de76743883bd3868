//! `strategies-live`: the strategy catalogue on live worker processes and a real chain, once
//! per `max_self_weight` (each on a fresh chain); one JSON line per cap on stdout
//! `{"max_self_weight": w, "honest": s, "noise": s, "lazy": s, "copier": s, "copied": s,
//! "selfish": s, "ring": s}`, logs on stderr, the who-credits-whom tables in `--out`.
//! See `bittensor_ops::strategies::live` and `scripts/strategies-live`.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Parser;

use bittensor_ops::strategies::live::{run, LiveOptions};

/// The strategy catalogue on a real chain with real workers.
#[derive(Parser)]
struct Args {
    /// Caps to run, in order (fractions, e.g. 1.0,0.2: the recommended one last).
    #[arg(long, value_delimiter = ',', default_value = "1.0,0.2")]
    caps: Vec<f64>,
    /// Seconds measured per cap (at most 480).
    #[arg(long, default_value_t = 210)]
    seconds: u64,
    /// Honest nodes (at least 3).
    #[arg(long, default_value_t = 3)]
    honest: usize,
    /// The real text the shards are cut from.
    #[arg(long, default_value = ".data/wiki.txt")]
    corpus: PathBuf,
    /// Tokens of the corpus used (cut into one shard per training node).
    #[arg(long, default_value_t = 400_000)]
    max_tokens: usize,
    /// Vector dimension.
    #[arg(long, default_value_t = 32)]
    dim: usize,
    /// Seconds between each node's emits.
    #[arg(long, default_value_t = 5.0)]
    emit_interval: f64,
    /// Directory for shards, configs and logs.
    #[arg(long, default_value = "target/artefacts/strategies-live")]
    dir: PathBuf,
    /// Where the who-credits-whom tables go.
    #[arg(long, default_value = "target/artefacts/strategies-live.md")]
    out: PathBuf,
}

fn main() -> Result<()> {
    bittensor_logging::init();
    let args = Args::parse();
    if args.seconds > 480 {
        anyhow::bail!("--seconds is at most 480 (8 minutes per cap)");
    }
    let caps = args
        .caps
        .iter()
        .map(|&c| {
            if (0.01..=1.0).contains(&c) {
                Ok((c * 1e6).round() as u32)
            } else {
                anyhow::bail!("cap {c} outside [0.01, 1]")
            }
        })
        .collect::<Result<Vec<u32>>>()?;
    let bin_dir = std::env::current_exe()?
        .parent()
        .context("executable directory")?
        .to_path_buf();
    let opts = LiveOptions {
        honest: args.honest,
        seconds: args.seconds,
        caps,
        worker_bin: bin_dir.join("bittensor-worker"),
        adversary_bin: bin_dir.join("adversary"),
        corpus: args.corpus,
        max_tokens: args.max_tokens,
        dim: args.dim,
        emit_interval: args.emit_interval,
        dir: args.dir,
    };
    let mut tables = String::new();
    let mut print = |r: &bittensor_ops::strategies::live::CapResult| -> Result<()> {
        eprintln!(
            "max_self_weight {}: {} base units minted in {:.0} s\n{}",
            r.max_self_weight, r.minted, r.seconds, r.table
        );
        tables.push_str(&r.table);
        tables.push('\n');
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", r.line).context("writing the result line")?;
        out.flush().context("writing the result line")?;
        Ok(())
    };
    run(&opts, &mut print).inspect_err(|_| localnet::yield_to_signal_guard())?;
    if let Some(dir) = args.out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&args.out, tables).with_context(|| format!("writing {}", args.out.display()))?;
    Ok(())
}
