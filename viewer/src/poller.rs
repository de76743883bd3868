//! The background task: every `interval`, read the chain and the workers, rebuild the
//! snapshot, and publish it; a failed poll keeps the last data and shows the error.

use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tracing::{info, warn};

use crate::chain::ChainSource;
use crate::state::{build_snapshot, History, Snapshot};
use crate::workers::{fetch_all, StatusClient};

/// The latest snapshot, shared between the poller (writer) and the HTTP routes (readers).
pub type SharedSnapshot = Arc<RwLock<Snapshot>>;

/// Reads the shared snapshot even if a writer panicked while holding the lock.
pub fn read(shared: &SharedSnapshot) -> Snapshot {
    match shared.read() {
        Ok(guard) => guard.clone(),
        Err(poisoned) => poisoned.into_inner().clone(),
    }
}

fn write(shared: &SharedSnapshot, update: impl FnOnce(&mut Snapshot)) {
    match shared.write() {
        Ok(mut guard) => update(&mut guard),
        Err(poisoned) => update(&mut poisoned.into_inner()),
    }
}

/// Everything one poll needs.
pub struct Poller {
    /// Where the tables come from.
    pub source: ChainSource,
    /// Client for the workers' `/status` (with the address policy).
    pub client: StatusClient,
    /// The chain URL, shown on the page.
    pub chain_url: String,
    /// History kept across polls.
    pub history: History,
}

impl Poller {
    /// Polls once and publishes the result into `shared`.
    pub async fn poll_once(&mut self, shared: &SharedSnapshot) {
        let polls = read(shared).polls + 1;
        match self.source.read_tables().await {
            Ok(tables) => {
                let workers: Vec<(String, String, u16)> = tables
                    .metagraph
                    .iter()
                    .map(|n| (n.user.to_string(), n.address.clone(), n.port))
                    .collect();
                let reports = fetch_all(&self.client, &workers).await;
                let up = reports.iter().filter(|r| r.up).count();
                let mut snapshot = build_snapshot(&tables, reports, &mut self.history, now_ms());
                snapshot.contract = self.source.contract().to_string();
                snapshot.chain_url = self.chain_url.clone();
                snapshot.polls = polls;
                if polls == 1 || polls.is_multiple_of(30) {
                    info!(
                        block = tables.head_block,
                        nodes = snapshot.nodes.len(),
                        workers_up = up,
                        "poll"
                    );
                }
                write(shared, |s| *s = snapshot);
            }
            Err(e) => {
                warn!("poll failed: {e}");
                write(shared, |s| {
                    s.polls = polls;
                    s.contract = self.source.contract().to_string();
                    s.chain_url = self.chain_url.clone();
                    s.error = Some(e.to_string());
                });
            }
        }
    }

    /// Polls forever every `interval` (a slow poll delays the next one rather than piling up).
    pub async fn run(mut self, shared: SharedSnapshot, interval: Duration) {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            self.poll_once(&shared).await;
        }
    }
}

/// Milliseconds since the Unix epoch (0 if the clock is before it).
fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chain_client::{Client, Name};

    #[tokio::test]
    async fn an_unreachable_chain_is_reported_in_the_snapshot() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("http://127.0.0.1:{port}");
        let chain = Client::with_timeout(&url, Duration::from_secs(2));
        let mut poller = Poller {
            source: ChainSource::new(chain, Name::constant("bittensor")),
            client: StatusClient::new(Duration::from_secs(2), Default::default()),
            chain_url: url.clone(),
            history: History::new(4),
        };
        let shared: SharedSnapshot = Arc::new(RwLock::new(Snapshot::default()));
        poller.poll_once(&shared).await;
        poller.poll_once(&shared).await;
        let s = read(&shared);
        assert_eq!(s.polls, 2);
        assert_eq!(s.chain_url, url);
        let error = s.error.unwrap_or_default();
        assert!(
            error.contains("get_info") && error.contains("failed"),
            "{error}"
        );
        assert!(s.nodes.is_empty() && s.head_block.is_none());
    }
}
