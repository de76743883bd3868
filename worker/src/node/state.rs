//! State shared by the training loop, the chain loop and the peer server (the `/status`
//! document built from it is in `status.rs`). Locks are std mutexes held only for short,
//! await-free sections (model calls run on the blocking pool).

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use bittensor_protocol::policy::AddressPolicy;
use bittensor_protocol::status::WorkerStatus;

use crate::attribution::Attribution;
use crate::chain::{Backoff, PeerRow, PeerSlots};
use crate::model::w2v::{SparseUpdate, Word2Vec};
use crate::model::ModelError;
use crate::peer::codec::{CodecError, Limits};
use crate::peer::identity::Identity;
use crate::peer::upstream::{PeerHealth, Slot};
use crate::peer::wire::Dtype;
use crate::peer::wire_updates;
use crate::peer::{Endpoint, EndpointError, WireTensor};

/// Consecutive failed calls after which a peer's slot goes to an unused candidate, if any.
pub const EVICT_AFTER_FAILURES: u64 = 3;
/// How long an evicted (impostor, out-of-range, other-vocabulary) peer is not picked again.
pub const BAN_DURATION: Duration = Duration::from_secs(600);
/// Answers a peer gives before its usefulness is judged.
pub const USELESS_MIN_ANSWERS: u64 = 200;
/// A peer whose attribution stays below this fraction of an equal share is rotated out
/// when another candidate is free.
pub const USELESS_FRACTION: f64 = 0.25;
/// Rounds of published updates a node keeps for its downstreams (a downstream that falls
/// further behind gets the latest only).
pub const PUBLISHED_ROUNDS: usize = 4;
/// Weight of the newest model-step time in its moving average.
const STEP_TIME_EMA: f64 = 0.1;

pub use crate::sync::lock;

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
    /// Mean held-out loss of the model the training loop started from.
    pub start_held_out_loss: Option<f64>,
    /// Mean held-out loss at the latest progress log or at the end of training.
    pub held_out_loss: Option<f64>,
    /// Pairs per second over the last progress interval.
    pub examples_per_sec: f64,
    /// Steps that failed inside the model (skipped).
    pub failed_steps: u64,
    /// Emits accepted by the chain.
    pub emits_pushed: u64,
    /// Emit attempts that failed.
    pub emits_failed: u64,
    /// Pushed emits seen in an irreversible block.
    pub emits_confirmed: u64,
    /// Pushed emits that a fork or a lost block dropped (each is pushed again).
    pub emits_dropped: u64,
    /// Emits pushed again after a drop, with the attribution current then.
    pub emits_repushed: u64,
    /// Last emit failure.
    pub last_emit_error: Option<String>,
    /// Edge set of the last accepted emit.
    pub last_edges: Vec<(String, u32)>,
    /// Metagraph as last read from the chain.
    pub metagraph: Vec<PeerRow>,
    /// Update fetches from upstream peers that failed (timeouts, errors, garbage).
    pub peer_failures: u64,
    /// Metagraph rows not used as peers at the last refresh, and why (address policy, our own
    /// address, banned).
    pub refused: Vec<(String, String)>,
    /// Whether the node is shutting down.
    pub stopping: bool,
    /// Exchange rounds done.
    pub rounds: u64,
    /// Peer updates applied.
    pub updates_applied: u64,
    /// Peer updates refused (malformed, over the bound, another dimension).
    pub updates_refused: u64,
    /// Peer updates found to be copies (not applied).
    pub updates_copied: u64,
    /// Rounds in which a peer's updates were missed (its history had moved on).
    pub updates_missed: u64,
    /// Row deltas of applied peer updates scaled down to the row bound.
    pub rows_clipped: u64,
    /// Rows of the node's own updates published (after compression).
    pub published_rows: u64,
    /// Bytes of the node's own updates published, as one downstream's answer carries them.
    pub published_bytes: u64,
    /// Whether the training schedule is done (the node keeps serving until stopped).
    pub training_done: bool,
    /// CPU seconds of the training loop's thread by phase (train, own update, value,
    /// apply), so a bench can tell the training from the exchange around it.
    pub cpu_phases: [f64; 4],
}

/// What the node published for its downstreams, newest last, at most [`PUBLISHED_ROUNDS`];
/// each update's encoding is kept once made, so every downstream gets the same bytes
/// without the node encoding them again. The newest sequence number is also watched, so
/// held fetches answer as soon as a round is out.
#[derive(Debug)]
pub struct Published(
    VecDeque<(SparseUpdate, [std::sync::OnceLock<Vec<u8>>; Dtype::COUNT])>,
    tokio::sync::watch::Sender<u64>,
);

impl Default for Published {
    fn default() -> Self {
        Published(VecDeque::new(), tokio::sync::watch::channel(0).0)
    }
}

impl Published {
    /// Keeps `u` (its `round` is its sequence number, increasing), dropping the oldest.
    pub fn push(&mut self, u: SparseUpdate) {
        if self.0.len() >= PUBLISHED_ROUNDS {
            self.0.pop_front();
        }
        let round = u.round;
        self.0.push_back((u, Default::default()));
        self.1.send_replace(round);
    }

    /// The newest sequence number, as it changes.
    pub fn watch(&self) -> tokio::sync::watch::Receiver<u64> {
        self.1.subscribe()
    }

    /// The newest sequence number published (0 = none yet).
    pub fn latest(&self) -> u64 {
        self.0.back().map_or(0, |(u, _)| u.round)
    }

    /// Which updates answer `after`: those after it (or, when some after it were dropped,
    /// the latest only, flagged).
    fn pick(&self, after: u64) -> (bool, Vec<usize>) {
        let latest = self.latest();
        let oldest = self.0.front().map_or(0, |(u, _)| u.round);
        let gap = after < latest && oldest > after + 1;
        let picked = if gap {
            vec![self.0.len() - 1]
        } else {
            (0..self.0.len())
                .filter(|&i| self.0[i].0.round > after)
                .collect()
        };
        (gap, picked)
    }

    /// The answer to a fetch of the updates after `after`, encoded in `dtype`: oldest first,
    /// as many as fit in `limits.max_bytes` (at least one).
    pub fn answer(&self, after: u64, dtype: Dtype, limits: &Limits) -> Result<Vec<u8>, CodecError> {
        let (gap, picked) = self.pick(after);
        let mut parts: Vec<&[u8]> = Vec::with_capacity(picked.len());
        let mut bytes = 11;
        for i in picked {
            let (u, cache) = &self.0[i];
            let slot = &cache[dtype as usize];
            let encoded = match slot.get() {
                Some(e) => e,
                None => {
                    let e = wire_updates::encode_one(u, dtype, limits)?;
                    slot.get_or_init(|| e)
                }
            };
            bytes += encoded.len();
            if bytes > limits.max_bytes && !parts.is_empty() {
                break;
            }
            parts.push(encoded);
        }
        wire_updates::assemble(self.latest(), gap, &parts, limits)
    }
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
    /// Evicted peers: until when, and why.
    pub banned: HashMap<String, (Instant, String)>,
}

impl PeerTable {
    /// `k` empty slots filled in an order given by `seed`.
    pub fn new(k: usize, seed: u64, backoff: Backoff) -> Self {
        PeerTable {
            slots: PeerSlots::new(k, seed),
            health: vec![PeerHealth::new(backoff.clone()); k],
            backoff,
            banned: HashMap::new(),
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

/// How long a step waits for its upstream peers: a multiple of the model-step time
/// (the peers' round trip overlaps the previous step), within bounds.
#[derive(Debug, Clone, Copy)]
pub struct DeadlinePolicy {
    /// Model-step times a peer may take.
    pub steps: f64,
    /// Shortest deadline (loopback round trips and signing need a little).
    pub min: Duration,
    /// Longest deadline, and the deadline before the step time is known.
    pub max: Duration,
}

/// What a node's state is built from.
pub struct NodeParams {
    /// Account, signing key, vocabulary.
    pub identity: Arc<Identity>,
    /// The address the peer server is bound to.
    pub listen: SocketAddr,
    /// The address published on chain, when it is an IP literal.
    pub advertised: Option<SocketAddr>,
    /// The model (every node of a network starts from the same one).
    pub model: Word2Vec,
    /// The vocabulary in id order (for exports and checkpoints).
    pub words: Vec<String>,
    /// Corpus count per id (saved with checkpoints).
    pub counts: Vec<u64>,
    /// Where an export request writes (none: export refused).
    pub export_dir: Option<PathBuf>,
    /// Upstream peer slots.
    pub peers: usize,
    /// Half-life, in seconds, of the attribution EMA.
    pub attribution_half_life_secs: f64,
    /// Seed of the peer draw.
    pub seed: u64,
    /// Retry delays for unhealthy peers.
    pub backoff: Backoff,
    /// Losses kept for `/status`.
    pub loss_tail: usize,
    /// Which peer addresses may be dialled.
    pub policy: AddressPolicy,
    /// How long a step waits for peers.
    pub deadline: DeadlinePolicy,
}

/// Everything the node's tasks share.
pub struct Shared {
    /// The chain account this node acts as.
    pub identity: String,
    /// Account, signing key and vocabulary fingerprint.
    pub me: Arc<Identity>,
    /// The address the peer server is bound to.
    pub listen: SocketAddr,
    /// Our own addresses (bound, advertised): never dialled as a peer.
    pub own: Vec<SocketAddr>,
    /// The model (the training loop holds it for a round).
    pub model: Mutex<Word2Vec>,
    /// What a forward serves: every word's input vector `[vocab * dim]` (`syn0`),
    /// republished after each round, so a forward never waits for training.
    pub served: RwLock<Vec<f32>>,
    /// The updates this node published for its downstreams.
    pub published: Mutex<Published>,
    /// Vector width (own and served).
    pub dim: usize,
    /// Vocabulary size.
    pub vocab: usize,
    /// The vocabulary in id order.
    pub words: Vec<String>,
    /// Corpus count per id.
    pub counts: Vec<u64>,
    /// Slots whose peer changed since the last round: the trainer forgets where they were.
    pub slot_resets: Mutex<Vec<usize>>,
    /// Where an export request writes (none: export refused).
    pub export_dir: Option<PathBuf>,
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
    /// Which peer addresses may be dialled.
    pub policy: AddressPolicy,
    /// How long a step waits for peers.
    pub deadline: DeadlinePolicy,
    /// How this node departs from the honest loop (the default: it does not).
    pub hooks: Arc<super::hooks::Hooks>,
    /// Moving average of the model-step time, seconds.
    step_time: Mutex<Option<f64>>,
}

impl Shared {
    /// An honest node's state.
    pub fn new(p: NodeParams) -> Arc<Shared> {
        Self::with_hooks(p, super::hooks::Hooks::default())
    }

    /// The one constructor of a node's state, with the strategy `hooks` (library only).
    pub fn with_hooks(p: NodeParams, hooks: super::hooks::Hooks) -> Arc<Shared> {
        let k = p.peers;
        let mut own = vec![p.listen];
        own.extend(p.advertised);
        Arc::new(Shared {
            identity: p.identity.account.clone(),
            me: p.identity,
            listen: p.listen,
            own,
            served: RwLock::new(p.model.syn0.clone()),
            published: Mutex::new(Published::default()),
            dim: p.model.dim,
            vocab: p.model.vocab,
            model: Mutex::new(p.model),
            words: p.words,
            counts: p.counts,
            slot_resets: Mutex::new(Vec::new()),
            export_dir: p.export_dir,
            attribution: Mutex::new(Attribution::new(k, p.attribution_half_life_secs)),
            peers: Mutex::new(PeerTable::new(k, p.seed, p.backoff)),
            stats: Mutex::new(Stats::default()),
            loss_tail: p.loss_tail,
            started: Instant::now(),
            policy: p.policy,
            deadline: p.deadline,
            hooks: Arc::new(hooks),
            step_time: Mutex::new(None),
        })
    }

    /// Folds one model step's duration into the moving average.
    pub fn record_step_time(&self, d: Duration) {
        let mut t = lock(&self.step_time);
        let x = d.as_secs_f64();
        *t = Some(t.map_or(x, |avg| avg + STEP_TIME_EMA * (x - avg)));
    }

    /// The deadline of this step's peer requests.
    pub fn peer_deadline(&self) -> Duration {
        let d = self.deadline;
        match *lock(&self.step_time) {
            Some(avg) => Duration::from_secs_f64(avg * d.steps).clamp(d.min, d.max.max(d.min)),
            None => d.max,
        }
    }

    /// Why `row` is not used as a peer, if it is not: banned, refused by the address
    /// policy, or one of our own addresses.
    fn refusal(
        &self,
        row: &PeerRow,
        banned: &HashMap<String, (Instant, String)>,
    ) -> Option<String> {
        if row.user == self.identity {
            return None;
        }
        if let Some((_, why)) = banned.get(&row.user) {
            return Some(format!("evicted: {why}"));
        }
        if row.address.is_empty() || row.port == 0 {
            return Some("no address".into());
        }
        match self.policy.resolve(&row.address, row.port) {
            Err(e) => Some(e.to_string()),
            Ok(addr) if self.own.iter().any(|o| same_endpoint(*o, addr)) => {
                Some(format!("{addr} is this node's own address"))
            }
            Ok(_) => None,
        }
    }

    /// Applies a fresh metagraph read to the peer slots: rows the policy refuses, our own
    /// addresses and banned peers are left out; failing and useless peers give their slot
    /// to a free candidate; slots whose peer changed get a fresh health record and a
    /// forgotten attribution.
    pub fn refresh_peers(&self, rows: &[PeerRow]) {
        let attr = lock(&self.attribution).values().to_vec();
        let mut refused = Vec::new();
        let changed = {
            let mut table = lock(&self.peers);
            let now = Instant::now();
            table.banned.retain(|_, (until, _)| *until > now);
            let usable: Vec<PeerRow> = rows
                .iter()
                .filter(|r| match self.refusal(r, &table.banned) {
                    Some(why) => {
                        refused.push((r.user.clone(), why));
                        false
                    }
                    None => true,
                })
                .cloned()
                .collect();
            let k = table.health.len();
            let equal = 1.0 / (k as f64 + 1.0);
            let share = |i: usize| attr.get(i + 1).copied().unwrap_or(0.0);
            let evict: Vec<usize> = (0..k)
                .filter(|&i| {
                    let h = &table.health[i];
                    h.consecutive_failures >= EVICT_AFTER_FAILURES
                        || (h.successes >= USELESS_MIN_ANSWERS
                            && share(i) < USELESS_FRACTION * equal)
                })
                .collect();
            let before = table.slots.names();
            let changed = table
                .slots
                .refresh_evicting(&self.identity, &usable, &evict);
            for &i in &changed {
                if let Some(Some(user)) = before.get(i) {
                    table.slots.remember(user, share(i), equal);
                }
                table.health[i] = PeerHealth::new(table.backoff.clone());
                match table.slots.slots()[i].as_ref() {
                    Some(p) => {
                        tracing::info!(slot = i, peer = %p.user, address = %p.address, port = p.port, stake = p.stake, "upstream peer assigned")
                    }
                    None => tracing::info!(slot = i, "upstream peer left"),
                }
            }
            changed
        };
        let mut attr = lock(&self.attribution);
        for &i in &changed {
            attr.reset_slot(i);
        }
        drop(attr);
        lock(&self.slot_resets).extend(changed);
        let mut stats = lock(&self.stats);
        stats.metagraph = rows.to_vec();
        stats.refused = refused;
    }

    /// Evicts the peer in slot `i` now and keeps it out for [`BAN_DURATION`].
    pub fn ban(&self, i: usize, reason: &str) {
        {
            let mut table = lock(&self.peers);
            let Some(user) = table.slots.names().get(i).cloned().flatten() else {
                return;
            };
            tracing::warn!(slot = i, peer = %user, reason, "upstream peer evicted");
            table
                .banned
                .insert(user, (Instant::now() + BAN_DURATION, reason.to_string()));
            table.slots.clear(i);
            table.health[i] = PeerHealth::new(table.backoff.clone());
        }
        lock(&self.attribution).reset_slot(i);
        lock(&self.slot_resets).push(i);
    }

    /// Records one round: chunks trained in all (`step`), its mean loss (None for a round
    /// without pairs) and pairs.
    pub fn record_round(&self, step: u64, loss: Option<f64>, examples: u64) {
        let mut s = lock(&self.stats);
        s.step = step;
        s.rounds += 1;
        s.examples += examples;
        if let Some(loss) = loss.filter(|l| l.is_finite()) {
            s.first_loss.get_or_insert(loss);
            s.loss_tail.push_back(loss);
            while s.loss_tail.len() > self.loss_tail.max(1) {
                s.loss_tail.pop_front();
            }
        }
    }

    /// Republishes what a forward serves: the model's input vectors.
    pub fn publish(&self, model: &Word2Vec) {
        let mut table = self.served.write().unwrap_or_else(|p| p.into_inner());
        table.clone_from(&model.syn0);
    }

    /// The served vectors of `ids` `[ids * dim]`; an id outside the vocabulary is refused.
    pub fn served_rows(&self, ids: &[i64]) -> Result<Vec<f32>, ModelError> {
        if let Some(&id) = ids.iter().find(|&&id| id < 0 || id as usize >= self.vocab) {
            return Err(ModelError::OutOfVocab {
                id,
                vocab: self.vocab as i64,
            });
        }
        let table = self.served.read().unwrap_or_else(|p| p.into_inner());
        let d = self.dim;
        let mut out = Vec::with_capacity(ids.len() * d);
        for &id in ids {
            let w = id as usize;
            out.extend_from_slice(&table[w * d..(w + 1) * d]);
        }
        Ok(out)
    }
}

/// Whether `other` is one of our endpoints `own` (IPv4-mapped IPv6 equals its IPv4; a bind
/// to the unspecified address is also reached through loopback on its port). Other local
/// interface addresses are caught by the answer's signature (`OwnServer`).
fn same_endpoint(own: SocketAddr, other: SocketAddr) -> bool {
    let canon = |a: SocketAddr| SocketAddr::new(a.ip().to_canonical(), a.port());
    let (own, other) = (canon(own), canon(other));
    own == other
        || (own.ip().is_unspecified() && other.ip().is_loopback() && own.port() == other.port())
}

fn endpoint_error(e: ModelError) -> EndpointError {
    match e {
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
        let data = self.0.served_rows(ids).map_err(endpoint_error)?;
        Ok(WireTensor {
            shape: vec![ids.len(), self.0.dim],
            data,
        })
    }

    fn updates(&self, after: u64, dtype: Dtype, limits: &Limits) -> Result<Vec<u8>, EndpointError> {
        lock(&self.0.published)
            .answer(after, dtype, limits)
            .map_err(|e| EndpointError::Internal(format!("encoding updates: {e}")))
    }

    fn published_round(&self) -> Option<tokio::sync::watch::Receiver<u64>> {
        Some(lock(&self.0.published).watch())
    }

    fn export(&self) -> Result<Vec<PathBuf>, EndpointError> {
        super::export::export_now(&self.0).map_err(|e| match e {
            super::export::ExportError::NotConfigured => EndpointError::Unavailable(e.to_string()),
            other => EndpointError::Internal(other.to_string()),
        })
    }

    fn is_subscribed(&self, account: &str) -> bool {
        lock(&self.0.stats)
            .metagraph
            .iter()
            .any(|r| r.user == account)
    }

    fn status(&self) -> WorkerStatus {
        self.0.status()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A node `me` with `peers` slots, for unit tests of the node's logic.
    pub(crate) fn node(peers: usize) -> Arc<Shared> {
        let counts: Vec<u64> = (0..20).map(|i| 20 - i).collect();
        let words: Vec<String> = (0..20).map(|i| format!("w{i}")).collect();
        let params = crate::model::w2v::W2vParams {
            dim: 4,
            ..Default::default()
        };
        let key = chain_client::PrivateKey::from_bytes(&[9; 32]).unwrap();
        Shared::new(NodeParams {
            identity: Arc::new(Identity::new("me", key, "v")),
            listen: "127.0.0.1:7000".parse().unwrap(),
            advertised: None,
            model: Word2Vec::new(&counts, &params).unwrap(),
            words,
            counts,
            export_dir: None,
            peers,
            attribution_half_life_secs: 0.5,
            seed: 3,
            backoff: Backoff::new(Duration::from_millis(10), Duration::from_millis(10)),
            loss_tail: 4,
            policy: AddressPolicy::LOCAL_TESTNET,
            deadline: DeadlinePolicy {
                steps: 2.0,
                min: Duration::from_millis(20),
                max: Duration::from_millis(500),
            },
        })
    }

    pub(crate) fn row(user: &str, port: u16) -> PeerRow {
        PeerRow {
            user: user.into(),
            address: "127.0.0.1".into(),
            port,
            stake: 1,
            edges: vec![],
        }
    }

    #[test]
    fn a_useless_peer_is_rotated_out_for_a_free_candidate() {
        let s = node(1);
        let rows = [row("me", 7000), row("a", 7001), row("b", 7002)];
        s.refresh_peers(&rows);
        let first = lock(&s.peers).slots.names()[0].clone().unwrap();
        // Many answers, but the model gives it nothing.
        lock(&s.peers).health[0].successes = USELESS_MIN_ANSWERS;
        // Ten half-lives of steps (the EMA runs over seconds, not over calls).
        let mut t = Instant::now();
        for _ in 0..20 {
            t += Duration::from_millis(250);
            lock(&s.attribution).update_at(&[1.0, 0.0], t);
        }
        s.refresh_peers(&rows);
        let second = lock(&s.peers).slots.names()[0].clone().unwrap();
        assert_ne!(first, second, "the useless peer kept its slot");
        // A useful one stays.
        lock(&s.peers).health[0].successes = USELESS_MIN_ANSWERS;
        for _ in 0..20 {
            t += Duration::from_millis(250);
            lock(&s.attribution).update_at(&[1.0, 1.0], t);
        }
        s.refresh_peers(&rows);
        assert_eq!(
            lock(&s.peers).slots.names()[0].as_deref(),
            Some(second.as_str())
        );
    }

    /// A published update is answered in every element type a caller may ask for, each
    /// within its precision (the eight-bit one rounded by the same rule as the sender's).
    #[test]
    fn published_updates_are_answered_in_every_element_type() {
        let mut p = Published::default();
        let u = SparseUpdate {
            round: 1,
            dim: 3,
            rows: vec![2, 5],
            input: vec![0.1, -0.2, 0.3, 0.0, 0.5, -0.25],
            context: vec![1e-3, 0.0, -1e-3, 0.7, 0.7, 0.7],
        };
        p.push(u.clone());
        let big = Limits::default();
        for dtype in Dtype::ALL {
            let bytes = p.answer(0, dtype, &big).unwrap();
            let got = wire_updates::decode_answer(&bytes, &big).unwrap();
            assert_eq!(got.updates.len(), 1, "{dtype:?}");
            let back = &got.updates[0];
            assert_eq!(back.rows, u.rows);
            for (a, b) in u
                .input
                .iter()
                .chain(&u.context)
                .zip(back.input.iter().chain(&back.context))
            {
                assert!((a - b).abs() <= 2.5e-3, "{dtype:?}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn published_updates_are_kept_a_few_rounds_and_a_late_caller_gets_the_latest() {
        let mut p = Published::default();
        let u = |round| SparseUpdate {
            round,
            dim: 2,
            rows: vec![1],
            input: vec![0.1, 0.2],
            context: vec![0.3, 0.4],
        };
        let big = Limits::default();
        let ask = |p: &Published, after, limits: &Limits| {
            let bytes = p.answer(after, Dtype::F32, limits).unwrap();
            wire_updates::decode_answer(&bytes, &big).unwrap()
        };
        let rounds =
            |a: &wire_updates::UpdatesAnswer| a.updates.iter().map(|u| u.round).collect::<Vec<_>>();
        assert!(ask(&p, 0, &big).updates.is_empty());
        for r in 1..=3 {
            p.push(u(r));
        }
        let a = ask(&p, 1, &big);
        assert_eq!(rounds(&a), [2, 3]);
        assert!(!a.gap && a.latest == 3);
        assert_eq!(a.updates[0], u(2));
        assert!(ask(&p, 3, &big).updates.is_empty());
        // One update fits the byte budget: the oldest first, the rest next time.
        let small = Limits {
            max_bytes: 70,
            ..big
        };
        assert_eq!(rounds(&ask(&p, 0, &small)), [1]);
        for r in 4..=9 {
            p.push(u(r));
        }
        let late = ask(&p, 2, &big);
        assert!(late.gap, "rounds 3..5 are gone");
        assert_eq!(rounds(&late), [9]);
        assert_eq!(rounds(&ask(&p, 5, &big)), [6, 7, 8, 9], "6..9 kept");
    }

    #[test]
    fn the_peer_deadline_follows_the_step_time_within_bounds() {
        let s = node(1);
        assert_eq!(
            s.peer_deadline(),
            Duration::from_millis(500),
            "unknown step time"
        );
        s.record_step_time(Duration::from_millis(50));
        assert_eq!(s.peer_deadline(), Duration::from_millis(100));
        for _ in 0..200 {
            s.record_step_time(Duration::from_millis(1));
        }
        assert_eq!(s.peer_deadline(), Duration::from_millis(20), "floor");
        for _ in 0..200 {
            s.record_step_time(Duration::from_secs(2));
        }
        assert_eq!(s.peer_deadline(), Duration::from_millis(500), "cap");
    }

    #[test]
    fn own_endpoints_are_matched_without_refusing_other_hosts_on_the_same_port() {
        let any: SocketAddr = "0.0.0.0:7001".parse().unwrap();
        let lo: SocketAddr = "127.0.0.1:7001".parse().unwrap();
        assert!(same_endpoint(
            lo,
            "[::ffff:127.0.0.1]:7001".parse().unwrap()
        ));
        assert!(same_endpoint(any, lo));
        assert!(!same_endpoint(any, "8.8.8.8:7001".parse().unwrap()));
        assert!(!same_endpoint(lo, "127.0.0.1:7002".parse().unwrap()));
    }

    #[test]
    fn a_banned_peer_leaves_its_slot_and_is_not_picked_again() {
        let s = node(1);
        let rows = [row("me", 7000), row("a", 7001)];
        s.refresh_peers(&rows);
        assert_eq!(lock(&s.peers).slots.names(), vec![Some("a".to_string())]);
        s.ban(0, "impostor");
        assert_eq!(lock(&s.peers).slots.names(), vec![None]);
        s.refresh_peers(&rows);
        assert_eq!(lock(&s.peers).slots.names(), vec![None]);
        let doc = s.status();
        assert_eq!(doc.banned_peers[0].user, "a");
        assert!(doc
            .refused_peers
            .iter()
            .any(|r| r.user == "a" && r.reason.contains("evicted: impostor")));
    }
}
