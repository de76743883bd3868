//! The HTTP client: chain info, signed transaction push, table and scope reads.

mod account;
mod finality;
mod http;
pub mod paging;
mod push;
mod rejection;
mod rows;
mod scopes;
mod tables;
pub mod time;
pub mod view;
mod vocab;

use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

pub use account::permission_keys;
pub use finality::Finality;
pub use push::PushReceipt;
pub use rejection::rejection_from_body;
pub use rows::{DepartureRow, Edge, GlobalRow, MetagraphRow, ResidualRow, StatRow};
pub use view::{MetagraphView, Refresh};
pub use vocab::VocabRow;

/// Default per-request timeout.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// One chain reached through one or more nodeos HTTP API endpoints: a request that cannot
/// reach the current endpoint is sent to the next (failover). Cheap to clone (the
/// connection pool and the current endpoint are shared).
#[derive(Clone, Debug)]
pub struct Client {
    http: reqwest::Client,
    urls: Arc<Vec<String>>,
    /// Index into `urls` of the endpoint requests go to first.
    current: Arc<AtomicUsize>,
    /// Per-client push counter, folded into expirations so that identical actions pushed
    /// within one block are distinct transactions rather than refused duplicates.
    pushes: Arc<AtomicU32>,
    /// Response body bytes received from nodeos (what reads cost the API node to serve).
    received: Arc<AtomicU64>,
}

/// The parts of `/v1/chain/get_info` needed to build transactions and watch progress.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct ChainInfo {
    /// Hex chain id, part of every signing digest.
    pub chain_id: String,
    /// Current head block number.
    pub head_block_num: u32,
    /// Current head block id (hex).
    pub head_block_id: String,
    /// Last irreversible block number.
    pub last_irreversible_block_num: u32,
    /// Last irreversible block id (hex): the TaPoS reference of pushed transactions.
    pub last_irreversible_block_id: String,
    /// Head block timestamp (`YYYY-MM-DDTHH:MM:SS.mmm`, UTC).
    pub head_block_time: String,
    /// Last irreversible block's timestamp (Leap 3 and later list it).
    #[serde(default)]
    pub last_irreversible_block_time: Option<String>,
}

impl Client {
    /// A client for the node at `url` (e.g. `http://127.0.0.1:8888`) with a 10 s timeout.
    pub fn new(url: &str) -> Client {
        Client::with_timeout(url, DEFAULT_TIMEOUT)
    }

    /// A client with an explicit per-request timeout.
    pub fn with_timeout(url: &str, timeout: Duration) -> Client {
        Client::with_endpoints(&[url.to_string()], timeout)
    }

    /// A client for several endpoints of one chain (e.g. every producer's API node), in
    /// order of preference; an empty list behaves as one unreachable endpoint.
    pub fn with_endpoints(urls: &[String], timeout: Duration) -> Client {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(3)))
            .build()
            .unwrap_or_default();
        let mut urls: Vec<String> = urls
            .iter()
            .map(|u| u.trim_end_matches('/').to_string())
            .collect();
        if urls.is_empty() {
            urls.push(String::new());
        }
        Client {
            http,
            urls: Arc::new(urls),
            current: Arc::new(AtomicUsize::new(0)),
            pushes: Arc::new(AtomicU32::new(0)),
            received: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The base URL requests go to first (the last one that answered).
    pub fn url(&self) -> &str {
        &self.urls[self.current.load(Ordering::Relaxed) % self.urls.len()]
    }

    /// Response body bytes this client (and its clones) received so far: the measure of
    /// what a read costs.
    pub fn bytes_received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }

    /// Every endpoint, in order of preference.
    pub fn urls(&self) -> &[String] {
        &self.urls
    }

    /// `/v1/chain/get_info`.
    pub async fn get_info(&self) -> Result<ChainInfo, crate::ChainError> {
        self.post_json("/v1/chain/get_info", &serde_json::json!({}))
            .await
    }
}
