//! The `/status` document: the protocol crate's [`WorkerStatus`], built from the node's shared
//! state (the peer server adds its own request counters).

use std::time::Instant;

use bittensor_protocol::status::{BannedPeer, PeerSlot, RefusedPeer, WorkerStatus};

use super::state::{lock, Shared};

impl Shared {
    /// What `GET /status` reports now; the server's counters are left for the server to fill.
    pub fn status(&self) -> WorkerStatus {
        let stats = lock(&self.stats).clone();
        let (attr, half_life, last_interval) = {
            let a = lock(&self.attribution);
            (
                a.values().to_vec(),
                a.half_life_secs(),
                a.last_interval().cloned(),
            )
        };
        let table = lock(&self.peers).clone();
        let peers = (0..table.health.len())
            .map(|i| {
                let h = &table.health[i];
                let p = table.slots.slots()[i].as_ref();
                PeerSlot {
                    slot: i,
                    user: p.map(|p| p.user.clone()),
                    address: p.map(|p| format!("{}:{}", p.address, p.port)),
                    healthy: h.healthy(),
                    successes: h.successes,
                    failures: h.failures,
                    consecutive_failures: h.consecutive_failures,
                    skipped: h.skipped,
                    out_of_range: h.out_of_range,
                    last_error: h.last_error.clone(),
                    attribution: attr.get(i + 1).copied().unwrap_or(0.0),
                }
            })
            .collect();
        let now = Instant::now();
        let banned_peers = table
            .banned
            .iter()
            .map(|(user, (until, why))| BannedPeer {
                user: user.clone(),
                reason: why.clone(),
                secs_left: until.saturating_duration_since(now).as_secs(),
            })
            .collect();
        let refused_peers = stats
            .refused
            .iter()
            .map(|(user, why)| RefusedPeer {
                user: user.clone(),
                reason: why.clone(),
            })
            .collect();
        let stake = stats
            .metagraph
            .iter()
            .find(|r| r.user == self.identity)
            .map(|r| r.stake);
        WorkerStatus {
            identity: self.identity.clone(),
            listen: self.listen.to_string(),
            uptime_secs: self.started.elapsed().as_secs_f64(),
            step: stats.step,
            examples: stats.examples,
            examples_per_sec: stats.examples_per_sec,
            failed_steps: stats.failed_steps,
            first_loss: stats.first_loss,
            start_held_out_loss: stats.start_held_out_loss,
            held_out_loss: stats.held_out_loss,
            loss: stats.loss_tail.back().copied(),
            // A resumed node's tail starts at its restored step, never before step 0.
            loss_tail: stats
                .loss_tail
                .iter()
                .copied()
                .skip(stats.loss_tail.len().saturating_sub(stats.step as usize))
                .collect(),
            self_attribution: attr.first().copied().unwrap_or(0.0),
            attribution_half_life_secs: half_life,
            peers,
            banned_peers,
            refused_peers,
            vocab: self.me.vocab.clone(),
            peer_deadline_ms: self.peer_deadline().as_secs_f64() * 1e3,
            peer_failures: stats.peer_failures,
            emits_pushed: stats.emits_pushed,
            emits_failed: stats.emits_failed,
            emits_confirmed: stats.emits_confirmed,
            emits_dropped: stats.emits_dropped,
            emits_repushed: stats.emits_repushed,
            last_emit_error: stats.last_emit_error,
            last_edges: stats.last_edges,
            last_emit_interval: last_interval,
            stake,
            stopping: stats.stopping,
            training_done: stats.training_done,
            exchange: bittensor_protocol::status::ExchangeStatus {
                rounds: stats.rounds,
                applied: stats.updates_applied,
                refused: stats.updates_refused,
                copied: stats.updates_copied,
                missed: stats.updates_missed,
                clipped: stats.rows_clipped,
            },
            server: Default::default(),
        }
    }
}
