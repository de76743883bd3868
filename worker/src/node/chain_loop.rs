//! The chain loop: reads the metagraph periodically to (re)assign upstream peers, and
//! pushes the latest attribution as an `emit` every interval. Failures are logged and
//! counted; a failed emit is retried sooner, always with the attribution current then, except
//! when the account ran out of CPU or NET (a growing back-off past the interval) or RAM
//! (emits stop, with the reason in the log and `/status`): `chain::pacing`.
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
use crate::chain::lifecycle::emit_latest;
use crate::chain::pacing::{EmitPacer, Next};
use crate::chain::{ChainApi, ChainFailure};

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
    emit_once(shared, chain).await.ok()
}

/// One emit attempt and what `pacer` makes of it: pushed emits are followed; the delay to
/// the next attempt, or `None` once emits stopped (the reason is in `last_emit_error`).
pub async fn emit_step(
    shared: &Arc<Shared>,
    chain: &dyn ChainApi,
    pacer: &mut EmitPacer,
    followed: &mut Followed,
) -> Option<Duration> {
    let result = emit_once(shared, chain).await;
    let next = pacer.after(result.as_ref().err());
    if let Ok(receipt) = result {
        followed.push(shared, receipt);
    }
    match next {
        Next::After(delay) => Some(delay),
        Next::Stop(reason) => {
            lock(&shared.stats).last_emit_error = Some(reason);
            None
        }
    }
}

/// Pushes one emit with the current attribution and records the outcome.
async fn emit_once(
    shared: &Arc<Shared>,
    chain: &dyn ChainApi,
) -> Result<PushReceipt, ChainFailure> {
    let taken = std::time::Instant::now();
    let attribution = lock(&shared.attribution).clone();
    let names = lock(&shared.peers).slots.names();
    match emit_latest(
        chain,
        &shared.identity,
        &attribution,
        &names,
        shared.hooks.edges.as_ref(),
    )
    .await
    {
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
            Ok(receipt)
        }
        Err(e) => {
            if e.exhausted.is_none() {
                tracing::warn!(error = %e, transient = e.transient, "emit failed; will retry with the latest attribution");
            }
            let mut s = lock(&shared.stats);
            s.emits_failed += 1;
            s.last_emit_error = Some(e.message.clone());
            Err(e)
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
    let mut pacer = EmitPacer::new(settings.emit_interval);
    let mut followed = Followed::default();
    let start = Instant::now();
    let mut next_refresh = start;
    // None once emits stopped (the account is out of RAM).
    let mut next_emit = Some(start + settings.emit_interval);
    loop {
        let wake = next_emit.map_or(next_refresh, |e| e.min(next_refresh));
        tokio::select! {
            _ = tokio::time::sleep_until(wake) => {}
            _ = shutdown.changed() => {}
        }
        if *shutdown.borrow() {
            return;
        }
        // A stop does not wait for a slow chain: the node's last emit follows in the runner.
        let work = async {
            let now = Instant::now();
            if now >= next_refresh {
                match chain.metagraph().await {
                    Ok(rows) => shared.refresh_peers(&rows),
                    Err(e) => tracing::warn!(error = %e, "metagraph read failed"),
                }
                if followed.check(&shared, chain.as_ref()).await && next_emit.is_some() {
                    next_emit = Some(now);
                }
                next_refresh = Instant::now() + settings.refresh_interval;
            }
            if next_emit.is_some_and(|e| now >= e) {
                next_emit = emit_step(&shared, chain.as_ref(), &mut pacer, &mut followed)
                    .await
                    .map(|delay| Instant::now() + delay);
            }
        };
        tokio::select! {
            () = work => {}
            _ = shutdown.wait_for(|stopping| *stopping) => return,
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

    #[tokio::test]
    async fn exhaustion_backs_off_without_spinning_and_ram_stops_emits() {
        use chain_client::Resource;
        let (shared, chain) = subscribed().await;
        let interval = Duration::from_secs(10);
        let mut pacer = EmitPacer::new(interval);
        let mut followed = Followed::default();
        chain.exhaust_next(2, Resource::Cpu);
        chain.exhaust_next(1, Resource::Net);
        let mut delays = Vec::new();
        for _ in 0..4 {
            delays.push(emit_step(&shared, &chain, &mut pacer, &mut followed).await);
        }
        let secs = |s| Some(Duration::from_secs(s));
        assert_eq!(
            delays,
            [secs(10), secs(20), secs(40), secs(10)],
            "CPU, CPU, NET: each wait longer than the interval and growing; then a success"
        );
        assert_eq!(
            chain.emit_calls(),
            4,
            "one chain call per step: no spinning"
        );
        assert_eq!(chain.emits().len(), 1);
        let last = lock(&shared.stats)
            .last_emit_error
            .clone()
            .unwrap_or_default();
        assert!(last.contains("NET exhausted"), "{last}");

        chain.exhaust_next(1, Resource::Ram);
        assert_eq!(
            emit_step(&shared, &chain, &mut pacer, &mut followed).await,
            None
        );
        let stopped = lock(&shared.stats)
            .last_emit_error
            .clone()
            .unwrap_or_default();
        assert!(
            stopped.contains("emits stopped") && stopped.contains("RAM"),
            "{stopped}"
        );
        assert_eq!(lock(&shared.stats).emits_failed, 4);
        // /status carries the reason.
        let status = shared.status();
        assert_eq!(status.last_emit_error.as_deref(), Some(stopped.as_str()));
        assert_eq!(chain.emit_calls(), 5);
    }
}
