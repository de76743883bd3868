//! State shared by the training loop, the chain loop and the peer server (the `/status`
//! document built from it is in `status.rs`). Locks are std mutexes held only for short,
//! await-free sections (model calls run on the blocking pool).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use bittensor_protocol::status::WorkerStatus;

use super::tensors::{from_tch, to_tch};
use crate::attribution::Attribution;
use crate::chain::{Backoff, PeerRow, PeerSlots};
use crate::model::{Model, ModelError};
use crate::peer::upstream::{PeerHealth, Slot};
use crate::peer::{Endpoint, EndpointError, WireTensor};

/// Consecutive failed calls after which a peer's slot goes to an unused candidate, if any.
pub const EVICT_AFTER_FAILURES: u64 = 3;

/// Locks a mutex, recovering the data if a thread panicked while holding it.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Training and chain counters reported by `/status`.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    /// Training steps done.
    pub step: u64,
    /// Training pairs seen.
    pub examples: u64,
    /// Most recent losses, oldest first.
    pub loss_tail: VecDeque<f64>,
    /// Loss of the first step.
    pub first_loss: Option<f64>,
    /// Pairs per second over the last progress interval.
    pub examples_per_sec: f64,
    /// Steps that failed inside the model (skipped).
    pub failed_steps: u64,
    /// Emits accepted by the chain.
    pub emits_pushed: u64,
    /// Emit attempts that failed.
    pub emits_failed: u64,
    /// Last emit failure.
    pub last_emit_error: Option<String>,
    /// Edge set of the last accepted emit.
    pub last_edges: Vec<(String, u32)>,
    /// Metagraph as last read from the chain.
    pub metagraph: Vec<PeerRow>,
    /// Forward calls to upstream peers that failed (timeouts, errors, garbage).
    pub peer_failures: u64,
    /// Backward calls to upstream peers that failed.
    pub backward_failures: u64,
    /// Whether the node is shutting down.
    pub stopping: bool,
}

/// Upstream slots and their health, kept together so they change together.
#[derive(Debug, Clone)]
pub struct PeerTable {
    /// Which peer is in which slot.
    pub slots: PeerSlots,
    /// Health per slot (reset when the slot's peer changes).
    pub health: Vec<PeerHealth>,
    /// Backoff policy for new slots.
    pub backoff: Backoff,
}

impl PeerTable {
    /// `k` empty slots filled in an order given by `seed`.
    pub fn new(k: usize, seed: u64, backoff: Backoff) -> Self {
        PeerTable {
            slots: PeerSlots::new(k, seed),
            health: vec![PeerHealth::new(backoff.clone()); k],
            backoff,
        }
    }

    /// The usable view of slot `i`, if it has a peer.
    pub fn slot(&self, i: usize) -> Option<Slot> {
        let peer = self.slots.slots().get(i)?.clone()?;
        Some(Slot {
            peer,
            health: self.health[i].clone(),
        })
    }
}

/// Everything the node's tasks share.
pub struct Shared {
    /// The chain account this node acts as.
    pub identity: String,
    /// The address the peer server is bound to.
    pub listen: SocketAddr,
    /// The model (training loop and server take turns).
    pub model: Mutex<Model>,
    /// Served embedding width.
    pub out_dim: usize,
    /// Scale of remote-gradient steps.
    pub remote_scale: f64,
    /// Attribution EMA.
    pub attribution: Mutex<Attribution>,
    /// Upstream peers.
    pub peers: Mutex<PeerTable>,
    /// Counters.
    pub stats: Mutex<Stats>,
    /// Losses kept in `stats.loss_tail`.
    pub loss_tail: usize,
    /// Start time, for uptime.
    pub started: Instant,
}

impl Shared {
    /// Applies a fresh metagraph read to the peer slots; slots whose peer changed get a
    /// fresh health record and a forgotten attribution.
    pub fn refresh_peers(&self, rows: &[PeerRow]) {
        let changed = {
            let mut table = lock(&self.peers);
            let evict: Vec<usize> = (0..table.health.len())
                .filter(|&i| table.health[i].consecutive_failures >= EVICT_AFTER_FAILURES)
                .collect();
            let changed = table.slots.refresh_evicting(&self.identity, rows, &evict);
            for &i in &changed {
                table.health[i] = PeerHealth::new(table.backoff.clone());
                match table.slots.slots()[i].as_ref() {
                    Some(p) => {
                        tracing::info!(slot = i, peer = %p.user, address = %p.address, port = p.port, "upstream peer assigned")
                    }
                    None => tracing::info!(slot = i, "upstream peer left"),
                }
            }
            changed
        };
        let mut attr = lock(&self.attribution);
        for i in changed {
            attr.reset_slot(i);
        }
        lock(&self.stats).metagraph = rows.to_vec();
    }

    /// Records one training step's loss and examples.
    pub fn record_step(&self, loss: f64, examples: usize) {
        let mut s = lock(&self.stats);
        s.step += 1;
        s.examples += examples as u64;
        s.first_loss.get_or_insert(loss);
        s.loss_tail.push_back(loss);
        while s.loss_tail.len() > self.loss_tail.max(1) {
            s.loss_tail.pop_front();
        }
    }
}

fn endpoint_error(e: ModelError) -> EndpointError {
    match e {
        ModelError::Tch(m) => EndpointError::Internal(m),
        ModelError::Io { .. } | ModelError::Config(_) | ModelError::Incompatible(_) => {
            EndpointError::Internal(e.to_string())
        }
        other => EndpointError::BadInput(other.to_string()),
    }
}

/// The peer server's view of the node.
pub struct NodeEndpoint(pub Arc<Shared>);

impl Endpoint for NodeEndpoint {
    fn forward(&self, ids: &[i64]) -> Result<WireTensor, EndpointError> {
        let out = lock(&self.0.model).serve(ids).map_err(endpoint_error)?;
        from_tch(&out).map_err(|e| EndpointError::Internal(e.to_string()))
    }

    fn backward(&self, ids: &[i64], grad: &WireTensor) -> Result<(), EndpointError> {
        let grad = to_tch(grad).map_err(|e| EndpointError::BadInput(e.to_string()))?;
        lock(&self.0.model)
            .apply_remote_grad(ids, &grad, self.0.remote_scale)
            .map_err(endpoint_error)
    }

    fn status(&self) -> WorkerStatus {
        self.0.status()
    }
}
