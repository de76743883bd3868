//! Command-line options of `bittensor-viewer`.

use std::net::SocketAddr;

use bittensor_protocol::policy::AddressPolicy;
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
    /// Also dial workers whose chain row gives a loopback address (a testnet on this host).
    /// By default only public unicast addresses are dialled.
    #[arg(long)]
    pub allow_loopback: bool,
    /// Also dial workers whose chain row gives a private-range address (a private testnet).
    #[arg(long)]
    pub allow_private: bool,
    /// Also dial workers whose chain row gives a link-local address (a testnet of network
    /// namespaces on this host's bridge).
    #[arg(long)]
    pub allow_link_local: bool,
}

impl Args {
    /// Which chain-row addresses the viewer may dial.
    pub fn policy(&self) -> AddressPolicy {
        AddressPolicy {
            allow_loopback: self.allow_loopback,
            allow_private: self.allow_private,
            allow_link_local: self.allow_link_local,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_is_public_only_unless_flagged() {
        let args = |extra: &[&str]| {
            let mut argv = vec!["bittensor-viewer", "--chain-url", "http://127.0.0.1:8888"];
            argv.extend_from_slice(extra);
            Args::parse_from(argv).policy()
        };
        assert_eq!(args(&[]), AddressPolicy::PUBLIC_ONLY);
        let local = args(&["--allow-loopback"]);
        assert!(local.allow_loopback && !local.allow_private);
        assert_eq!(
            args(&["--allow-loopback", "--allow-private", "--allow-link-local"]),
            AddressPolicy::LOCAL_TESTNET
        );
    }
}
