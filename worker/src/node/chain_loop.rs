//! The chain loop: reads the metagraph periodically to (re)assign upstream peers, and
//! pushes the latest attribution as an `emit` every interval. Failures are logged and
//! counted; a failed emit is retried sooner, always with the attribution current then.
//! Every pushed emit is followed until it is irreversible; one that a fork or a lost block
//! dropped is pushed again at once (with the attribution current then), so no emit is lost
//! silently.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use chain_client::client::{Finality, PushReceipt};
use tokio::sync::watch;
use tokio::time::Instant;

use super::state::{lock, Shared};
use crate::chain::lifecycle::{emit_latest, next_emit_delay};
use crate::chain::{Backoff, ChainApi};

/// Pushed emits followed at once; past it the oldest is given up (and logged).
const MAX_FOLLOWED: usize = 64;
/// Finality checks per refresh: each may read a block.
const CHECKS_PER_REFRESH: usize = 8;

/// Chain loop timing.
#[derive(Debug, Clone)]
pub struct ChainSettings {
    /// Period of emits.
    pub emit_interval: Duration,
    /// Period of metagraph reads.
    pub refresh_interval: Duration,
}

/// Pushes one emit with the current attribution and records the outcome; the receipt on
/// success.
pub async fn emit_now(shared: &Arc<Shared>, chain: &dyn ChainApi) -> Option<PushReceipt> {
    let taken = std::time::Instant::now();
    let attribution = lock(&shared.attribution).clone();
    let names = lock(&shared.peers).slots.names();
    match emit_latest(chain, &shared.identity, &attribution, &names).await {
        Ok((rows, edges, receipt)) => {
            let edges: Vec<(String, u32)> = edges.into_iter().map(|e| (e.to, e.weight)).collect();
            tracing::info!(edges = ?edges, block = receipt.block_num, "emit pushed");
            lock(&shared.attribution).emitted(&attribution, taken);
            {
                let mut s = lock(&shared.stats);
                s.emits_pushed += 1;
                s.last_edges = edges;
            }
            shared.refresh_peers(&rows);
            Some(receipt)
        }
        Err(e) => {
            tracing::warn!(error = %e, transient = e.transient, "emit failed; will retry with the latest attribution");
            let mut s = lock(&shared.stats);
            s.emits_failed += 1;
            s.last_emit_error = Some(e.message);
            None
        }
    }
}

/// Pushed emits not yet irreversible, oldest first.
#[derive(Default)]
pub struct Followed {
    pending: VecDeque<PushReceipt>,
    /// A dropped emit is waiting to be pushed again.
    repush_due: bool,
}

impl Followed {
    /// Starts following a pushed emit (counting it as a re-push if one was due).
    pub fn push(&mut self, shared: &Shared, receipt: PushReceipt) {
        if std::mem::take(&mut self.repush_due) {
            lock(&shared.stats).emits_repushed += 1;
        }
        if self.pending.len() == MAX_FOLLOWED {
            if let Some(old) = self.pending.pop_front() {
                tracing::warn!(trx = %old.transaction_id, "too many emits awaiting finality; no longer following the oldest");
            }
        }
        self.pending.push_back(receipt);
    }

    /// Checks the oldest emits' finality; true when one was dropped and must be pushed again.
    pub async fn check(&mut self, shared: &Shared, chain: &dyn ChainApi) -> bool {
        for _ in 0..CHECKS_PER_REFRESH {
            let Some(oldest) = self.pending.front().cloned() else {
                break;
            };
            match chain.finality(oldest).await {
                Ok(Finality::Irreversible { block }) => {
                    tracing::debug!(block, "emit irreversible");
                    lock(&shared.stats).emits_confirmed += 1;
                    self.pending.pop_front();
                }
                Ok(Finality::Dropped) => {
                    let lost = self.pending.pop_front();
                    tracing::warn!(trx = ?lost.map(|r| r.transaction_id), "emit dropped by the chain (fork or lost block); pushing again");
                    lock(&shared.stats).emits_dropped += 1;
                    self.repush_due = true;
                }
                Ok(Finality::Pending) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "emit finality check failed");
                    break;
                }
            }
        }
        self.repush_due
    }

    /// Emits pushed and not yet decided.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Whether every followed emit is decided.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }
}

/// Runs until `shutdown` turns true.
pub async fn run_chain_loop(
    shared: Arc<Shared>,
    chain: Arc<dyn ChainApi>,
    settings: ChainSettings,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut backoff = Backoff::new(
        Duration::from_millis(250).min(settings.emit_interval),
        settings.emit_interval,
    );
    let mut followed = Followed::default();
    let start = Instant::now();
    let mut next_refresh = start;
    let mut next_emit = start + settings.emit_interval;
    loop {
        let wake = next_refresh.min(next_emit);
        tokio::select! {
            _ = tokio::time::sleep_until(wake) => {}
            _ = shutdown.changed() => {}
        }
        if *shutdown.borrow() {
            return;
        }
        let now = Instant::now();
        if now >= next_refresh {
            match chain.metagraph().await {
                Ok(rows) => shared.refresh_peers(&rows),
                Err(e) => tracing::warn!(error = %e, "metagraph read failed"),
            }
            if followed.check(&shared, chain.as_ref()).await {
                next_emit = now;
            }
            next_refresh = Instant::now() + settings.refresh_interval;
        }
        if now >= next_emit {
            let receipt = emit_now(&shared, chain.as_ref()).await;
            let ok = receipt.is_some();
            if let Some(r) = receipt {
                followed.push(&shared, r);
            }
            next_emit = Instant::now() + next_emit_delay(ok, settings.emit_interval, &mut backoff);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::fake::FakeChain;
    use crate::node::state::tests::node;

    /// A node `me` subscribed on an in-process chain.
    async fn subscribed() -> (Arc<Shared>, FakeChain) {
        let chain = FakeChain::new("me");
        chain
            .subscribe("127.0.0.1".into(), 7000, 1)
            .await
            .expect("subscribe");
        (node(0), chain)
    }

    #[tokio::test]
    async fn a_dropped_emit_is_pushed_again_and_followed_to_irreversibility() {
        let (shared, chain) = subscribed().await;
        let mut followed = Followed::default();
        let first = emit_now(&shared, &chain).await.expect("first emit");
        followed.push(&shared, first);
        chain.drop_next(1);
        assert!(
            followed.check(&shared, &chain).await,
            "a dropped emit asks for a re-push"
        );
        assert!(followed.is_empty());
        let again = emit_now(&shared, &chain).await.expect("re-push");
        followed.push(&shared, again);
        assert!(
            !followed.check(&shared, &chain).await,
            "nothing left to re-push"
        );
        assert!(followed.is_empty(), "the re-pushed emit is irreversible");
        let s = lock(&shared.stats).clone();
        assert_eq!(
            (
                s.emits_pushed,
                s.emits_dropped,
                s.emits_repushed,
                s.emits_confirmed
            ),
            (2, 1, 1, 1),
            "pushed / dropped / re-pushed / confirmed"
        );
        assert_eq!(chain.emits().len(), 2, "the chain saw both pushes");
    }

    #[tokio::test]
    async fn a_failed_finality_check_keeps_the_emit_followed() {
        let (shared, chain) = subscribed().await;
        let mut followed = Followed::default();
        followed.push(&shared, emit_now(&shared, &chain).await.expect("emit"));
        chain.fail_next(1, true);
        assert!(!followed.check(&shared, &chain).await);
        assert_eq!(followed.len(), 1, "kept until the chain answers");
        assert!(!followed.check(&shared, &chain).await);
        assert!(followed.is_empty());
        assert_eq!(lock(&shared.stats).emits_confirmed, 1);
    }
}
