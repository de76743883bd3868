//! Asking a running node to export its embeddings: a session as the node's own account (its
//! key, from its configuration), so nobody else can make it write files. Used by
//! `bittensor-worker export --node` and by the experiment, which scores what each node serves.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use crate::chain::connect;
use crate::config::Config;
use crate::peer::client::{PeerClient, Signer};
use crate::peer::identity::Identity;
use crate::peer::keys::{KeyCache, StaticKeys};
use crate::peer::Limits;

/// How long an export may take (the node writes two tables in two formats).
const EXPORT_TIMEOUT: Duration = Duration::from_secs(120);

/// `http://ADDR` for a node address given with or without the scheme.
pub fn node_base(node: &str) -> String {
    if node.starts_with("http://") {
        node.to_string()
    } else {
        format!("http://{node}")
    }
}

/// Asks the node at `node` (its peer server's address), configured by `cfg`, to write its
/// embeddings into its export directory; returns the files it wrote.
pub async fn request_export(node: &str, cfg: &Config) -> anyhow::Result<Vec<String>> {
    let base = node_base(node);
    let key = cfg.signing_key()?;
    let account = cfg.node.account.clone();
    let status = PeerClient::new(EXPORT_TIMEOUT, Limits::default())
        .status(&base)
        .await
        .with_context(|| format!("reading {base}/status"))?;
    let vocab = status["vocab"].as_str().unwrap_or_default().to_string();
    let chain = connect(cfg, key.clone())?;
    let chain_id = chain
        .chain_id()
        .await
        .map_err(|e| anyhow::anyhow!("reading the chain id: {e}"))?;
    let me = Arc::new(Identity::new(&account, key, &vocab).on_chain(chain_id));
    // The node must prove the very key this configuration holds.
    let keys = [(account.clone(), vec![me.public_key()])]
        .into_iter()
        .collect();
    let signer = Signer {
        identity: me,
        keys: Arc::new(KeyCache::new(Arc::new(StaticKeys(keys)))),
    };
    PeerClient::signed(EXPORT_TIMEOUT, Limits::default(), signer)
        .export(&base)
        .await
        .with_context(|| format!("asking {base} to export"))
}
