//! `adversary`: the production node with one strategic behaviour of the catalogue
//! (`bittensor_ops::strategies::behaviour`): `noise`, `lazy`, `copier`, `selfish` or `ring`.
//! Everything else (config, key, chain, training, valuation, peers) is the worker's own.
//!
//! `adversary --behaviour noise --config NODE.toml` (`ring` also takes `--partner ACCOUNT`).

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;

use bittensor_ops::strategies::behaviour::Behaviour;
use bittensor_worker::chain::eos::EosChain;
use bittensor_worker::config::Config;
use bittensor_worker::node::run_with_hooks;

/// A worker node with one strategic behaviour (for the strategy catalogue only).
#[derive(Parser)]
struct Args {
    /// noise, lazy, copier, selfish or ring.
    #[arg(long)]
    behaviour: String,
    /// The worker's TOML configuration (as `bittensor-worker run --config`).
    #[arg(long)]
    config: PathBuf,
    /// The ring's other account (ring only).
    #[arg(long)]
    partner: Option<String>,
}

async fn run(args: Args) -> anyhow::Result<()> {
    let behaviour =
        Behaviour::parse(&args.behaviour, args.partner.as_deref()).map_err(anyhow::Error::msg)?;
    let cfg = Config::load(&args.config)?;
    cfg.validate()?;
    let key = cfg.signing_key()?;
    let chain = EosChain::new(
        &cfg.chain.url,
        &cfg.chain.contract,
        &cfg.node.account,
        key.clone(),
    )
    .map_err(anyhow::Error::msg)?;
    tracing::warn!(account = %cfg.node.account, ?behaviour, "strategic node (strategy catalogue)");
    // Noise of the network's bound: the largest row change a peer applies.
    let hooks = behaviour.hooks(cfg.model.max_row_norm, cfg.node.seed);
    run_with_hooks(cfg, key, Arc::new(chain), hooks).await
}

fn main() -> std::process::ExitCode {
    bittensor_logging::init();
    let args = Args::parse();
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting tokio")
        .and_then(|rt| rt.block_on(run(args)));
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
