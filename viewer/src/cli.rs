//! Command-line options of `bittensor-viewer`.

use std::net::SocketAddr;

use clap::Parser;

/// Serves a live view of a BitTensor network read from the chain and the workers.
#[derive(Debug, Clone, Parser)]
#[command(name = "bittensor-viewer", version, about)]
pub struct Args {
    /// The nodeos HTTP endpoint, e.g. http://127.0.0.1:8888.
    #[arg(long)]
    pub chain_url: String,
    /// The account the BitTensor contract is deployed on.
    #[arg(long, default_value = "bittensor")]
    pub contract: String,
    /// Address to serve the page on (loopback recommended), e.g. 127.0.0.1:8080.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Seconds between polls of the chain and the workers.
    #[arg(long, default_value_t = 2.0)]
    pub poll_secs: f64,
    /// Points kept per history series.
    #[arg(long, default_value_t = 600)]
    pub history: usize,
    /// Seconds before a chain or worker request is given up.
    #[arg(long, default_value_t = 2.0)]
    pub timeout_secs: f64,
}
