//! The node's strategy hooks as the worker library will expose them
//! (`bittensor_worker::node::hooks::Hooks`, `bittensor_worker::node::run_with_hooks`), for
//! builds of the library that do not have them yet: the same types, and a `run_with_hooks`
//! that refuses to run (the node is never imitated here). Remove this module and import
//! the library's items once they are there.

use std::sync::Arc;

use bittensor_worker::chain::ChainApi;
use bittensor_worker::config::Config;
use bittensor_worker::model::w2v::SparseUpdate;

/// Rewrites what the node publishes: (own delta, updates received this round) -> published.
pub type PublishHook = Box<dyn Fn(&SparseUpdate, &[SparseUpdate]) -> SparseUpdate + Send + Sync>;
/// Rewrites the edge set before it is posted.
pub type EdgesHook =
    Box<dyn Fn(Vec<emission::Edge<String>>) -> Vec<emission::Edge<String>> + Send + Sync>;

/// How a node departs from the honest loop.
pub struct Hooks {
    /// Rewrites what this node publishes for a round.
    pub publish: Option<PublishHook>,
    /// false: the node never trains (serves its initialisation).
    pub train: bool,
    /// Rewrites the edge set before it is posted.
    pub edges: Option<EdgesHook>,
}

/// Refuses: this build of the worker library has no strategy hooks.
pub async fn run_with_hooks(
    _cfg: Config,
    _key: chain_client::PrivateKey,
    _chain: Arc<dyn ChainApi>,
    _hooks: Hooks,
) -> anyhow::Result<()> {
    anyhow::bail!(
        "this build of the worker library has no strategy hooks (node::run_with_hooks): \
         rebuild against a worker that has them"
    )
}
