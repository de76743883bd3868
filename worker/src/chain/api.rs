//! The chain operations the node uses, as an object-safe trait so the node logic can be
//! unit-tested against an in-process fake while the binary talks to a real nodeos.

use std::future::Future;
use std::pin::Pin;

use chain_client::client::{Finality, PushReceipt};
use chain_client::{PublicKey, Resource};
use emission::Edge;

/// A boxed future returned by [`ChainApi`] methods (object safe, `Send` for tokio tasks).
pub type ChainFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, ChainFailure>> + Send + 'a>>;

/// One subscribed user as the node needs it for choosing upstream peers.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PeerRow {
    /// Account name of the subscribed user.
    pub user: String,
    /// Host or IP address its peer server listens on.
    pub address: String,
    /// Port its peer server listens on.
    pub port: u16,
    /// Its stake in base units.
    pub stake: u64,
    /// Its current on-chain edge set (target, weight ppm), self first.
    pub edges: Vec<(String, u32)>,
}

/// A failed chain operation: whether retrying may help, and what went wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ChainFailure {
    /// True for network errors, timeouts and similar; false when the chain rejected the action.
    pub transient: bool,
    /// Human-readable cause (the chain's assertion message when it rejected the action).
    pub message: String,
    /// The metered resource the account ran out of, if that was the cause: CPU and NET
    /// come back with time (back off), RAM only when the operator buys more (stop).
    pub exhausted: Option<Resource>,
}

impl ChainFailure {
    /// A failure that is not a resource exhaustion.
    pub fn new(transient: bool, message: impl Into<String>) -> Self {
        ChainFailure {
            transient,
            message: message.into(),
            exhausted: None,
        }
    }
}

/// What the node does on chain, always as its own account.
pub trait ChainApi: Send + Sync {
    /// Registers (or updates) this node's address/port and moves `stake` base units in.
    fn subscribe(&self, address: String, port: u16, stake: u64) -> ChainFuture<'_, ()>;
    /// Removes this node from the metagraph, settling its emission and returning its stake.
    fn unsubscribe(&self) -> ChainFuture<'_, ()>;
    /// Posts this node's attribution edge set (self first, sum `WEIGHT_ONE`); the receipt
    /// lets the node follow the emit until it is irreversible.
    fn emit(&self, edges: Vec<Edge<String>>) -> ChainFuture<'_, PushReceipt>;
    /// Where a pushed emit stands: irreversible, still pending, or dropped (push again).
    fn finality(&self, emit: PushReceipt) -> ChainFuture<'_, Finality>;
    /// The subscribed users: a full paged read at first, then only the rows changed since
    /// the last read (the contract's change sequence), applied to the node's copy.
    fn metagraph(&self) -> ChainFuture<'_, Vec<PeerRow>>;
    /// The keys of `account`'s active permission (what its peer requests must be signed with).
    fn account_keys<'a>(&'a self, account: &'a str) -> ChainFuture<'a, Vec<PublicKey>>;
    /// The contract's `max_self_weight` (parts per million) as of the last metagraph read,
    /// so the edge set the node posts is one the contract accepts.
    fn max_self_weight(&self) -> ChainFuture<'_, u32>;
    /// The contract's `max_idle` and any announced parameter change (`None`: a contract
    /// without them), checked against the emit interval before the node subscribes.
    fn params(&self) -> ChainFuture<'_, Option<super::params::ChainParams>> {
        Box::pin(async { Ok(None) })
    }
    /// The chain's id (peer sessions are bound to it); a chain without one reports zeros.
    fn chain_id(&self) -> ChainFuture<'_, [u8; 32]> {
        Box::pin(async { Ok([0; 32]) })
    }
    /// The vocabulary the contract pins (`setvocab`): its file's SHA-256 (hex) and word
    /// count, `None` when none is pinned.
    fn pinned_vocab(&self) -> ChainFuture<'_, Option<(String, u32)>>;
}
