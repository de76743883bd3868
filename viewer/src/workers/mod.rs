//! Workers' `GET /status`: fetched over h2c for every subscribed node at once, after the
//! address policy allowed the dial ([`client`], [`fetch`]), parsed strictly as the protocol
//! crate's `WorkerStatus`; an unreachable or refused worker is shown as down, never an
//! error of the poll.

pub mod client;
pub mod fetch;

pub use client::StatusClient;
pub use fetch::{fetch_all, WorkerReport};

/// A valid status of worker `identity` at `step` with loss tail `tail` and no peer slots.
#[cfg(test)]
pub(crate) fn status_for_tests(
    identity: &str,
    step: u64,
    tail: &[f64],
) -> bittensor_protocol::status::WorkerStatus {
    bittensor_protocol::status::WorkerStatus {
        identity: identity.into(),
        listen: "127.0.0.1:7001".into(),
        uptime_secs: 1.0,
        step,
        examples: step * 10,
        examples_per_sec: 10.0,
        failed_steps: 0,
        first_loss: tail.first().copied(),
        start_held_out_loss: None,
        held_out_loss: None,
        loss: tail.last().copied(),
        loss_tail: tail.to_vec(),
        self_attribution: 1.0,
        attribution_half_life_secs: 2.0,
        peers: Vec::new(),
        banned_peers: Vec::new(),
        refused_peers: Vec::new(),
        vocab: String::new(),
        peer_deadline_ms: 25.0,
        peer_failures: 0,
        emits_pushed: 0,
        emits_failed: 0,
        emits_confirmed: 0,
        emits_dropped: 0,
        emits_repushed: 0,
        last_emit_error: None,
        last_edges: Vec::new(),
        last_emit_interval: None,
        stake: None,
        stopping: false,
        training_done: false,
        exchange: Default::default(),
        server: Default::default(),
    }
}
