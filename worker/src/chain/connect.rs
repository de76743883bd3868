//! The one place a node's configuration picks its chain: the real nodeos at `chain.url`,
//! or, only when `chain.local_experiment` names it, the local experiment chain.

use std::sync::Arc;

use chain_client::PrivateKey;

use super::api::ChainApi;
use super::eos::EosChain;
use super::local_file::LocalFileChain;
use crate::config::Config;

/// The chain `cfg` names, acting as its account with `key`.
pub fn connect(cfg: &Config, key: PrivateKey) -> anyhow::Result<Arc<dyn ChainApi>> {
    if let Some(dir) = &cfg.chain.local_experiment {
        tracing::warn!(
            dir = %dir.display(),
            "using the local experiment chain (loopback peers only, no stake, no emission), not a real chain"
        );
        let chain = LocalFileChain::open(dir, &cfg.node.account).map_err(anyhow::Error::msg)?;
        return Ok(Arc::new(chain));
    }
    let chain = EosChain::new(&cfg.chain.url, &cfg.chain.contract, &cfg.node.account, key)
        .map_err(anyhow::Error::msg)?;
    Ok(Arc::new(chain))
}
