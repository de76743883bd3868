//! The chain loop: reads the metagraph periodically to (re)assign upstream peers, and
//! pushes the latest attribution as an `emit` every interval. Failures are logged and
//! counted; a failed emit is retried sooner, always with the attribution current then.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use super::state::{lock, Shared};
use crate::chain::lifecycle::{emit_latest, next_emit_delay};
use crate::chain::{Backoff, ChainApi};

/// Chain loop timing.
#[derive(Debug, Clone)]
pub struct ChainSettings {
    /// Period of emits.
    pub emit_interval: Duration,
    /// Period of metagraph reads.
    pub refresh_interval: Duration,
}

/// Pushes one emit with the current attribution and records the outcome; true on success.
pub async fn emit_now(shared: &Arc<Shared>, chain: &dyn ChainApi) -> bool {
    let taken = std::time::Instant::now();
    let attribution = lock(&shared.attribution).clone();
    let names = lock(&shared.peers).slots.names();
    match emit_latest(chain, &shared.identity, &attribution, &names).await {
        Ok((rows, edges)) => {
            let edges: Vec<(String, u32)> = edges.into_iter().map(|e| (e.to, e.weight)).collect();
            tracing::info!(edges = ?edges, "emit pushed");
            lock(&shared.attribution).emitted(&attribution, taken);
            {
                let mut s = lock(&shared.stats);
                s.emits_pushed += 1;
                s.last_edges = edges;
            }
            shared.refresh_peers(&rows);
            true
        }
        Err(e) => {
            tracing::warn!(error = %e, transient = e.transient, "emit failed; will retry with the latest attribution");
            let mut s = lock(&shared.stats);
            s.emits_failed += 1;
            s.last_emit_error = Some(e.message);
            false
        }
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
            next_refresh = Instant::now() + settings.refresh_interval;
        }
        if now >= next_emit {
            let ok = emit_now(&shared, chain.as_ref()).await;
            next_emit = Instant::now() + next_emit_delay(ok, settings.emit_interval, &mut backoff);
        }
    }
}
