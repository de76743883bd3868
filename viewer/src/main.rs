//! `bittensor-viewer`: serves a live view of a running BitTensor network.
//!
//! Prints `listening on http://ADDR` on stdout once bound (so `--listen 127.0.0.1:0` can be
//! used and the chosen port read back), then polls in the background and serves the page.

use std::io::Write;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use bittensor_viewer::chain::ChainSource;
use bittensor_viewer::cli::Args;
use bittensor_viewer::poller::{Poller, SharedSnapshot};
use bittensor_viewer::server::serve;
use bittensor_viewer::state::{History, Snapshot};
use bittensor_viewer::workers::StatusClient;
use chain_client::{Client, Name};
use clap::Parser;
use tokio::net::TcpListener;
use tracing::{error, info};

/// Turns a seconds option into a duration, refusing zero, negative and non-finite values.
fn seconds(name: &str, value: f64) -> Result<Duration, String> {
    if value.is_finite() && value > 0.0 && value < 1e6 {
        Ok(Duration::from_secs_f64(value))
    } else {
        Err(format!(
            "--{name} must be a positive number of seconds, got {value}"
        ))
    }
}

async fn run(args: Args) -> Result<(), String> {
    let interval = seconds("poll-secs", args.poll_secs)?;
    let timeout = seconds("timeout-secs", args.timeout_secs)?;
    if !args.chain_url.starts_with("http://") {
        return Err(format!(
            "--chain-url must be an http:// URL, got {:?}",
            args.chain_url
        ));
    }
    let listener = TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("cannot read the bound address: {e}"))?;
    println!("listening on http://{addr}");
    let _ = std::io::stdout().flush();
    let policy = args.policy();
    info!(%addr, chain = %args.chain_url, contract = %args.contract,
        allow_loopback = policy.allow_loopback, allow_private = policy.allow_private,
        allow_link_local = policy.allow_link_local,
        "viewer started");

    let contract: Name = args
        .contract
        .parse()
        .map_err(|e| format!("--contract {:?}: {e}", args.contract))?;
    let client = StatusClient::new(timeout, policy);
    let shared: SharedSnapshot = Arc::new(RwLock::new(Snapshot {
        contract: args.contract.clone(),
        chain_url: args.chain_url.clone(),
        ..Snapshot::default()
    }));
    let poller = Poller {
        source: ChainSource::new(Client::with_timeout(&args.chain_url, timeout), contract),
        client,
        chain_url: args.chain_url.clone(),
        history: History::new(args.history),
    };
    tokio::spawn(poller.run(shared.clone(), interval));
    serve(listener, shared)
        .await
        .map_err(|e| format!("server stopped: {e}"))
}

#[tokio::main]
async fn main() {
    bittensor_logging::init();
    let args = Args::parse();
    if let Err(e) = run(args).await {
        error!("{e}");
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
