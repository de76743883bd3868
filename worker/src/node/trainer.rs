//! The node's one training loop, the network's product: a plain word2vec model trained on
//! the node's private shard (on `threads` threads, lock-free), every node of a network from
//! one initialisation. Every `1/syncs_per_epoch` of an epoch the node ends a round:
//! 1. it publishes its own change not sent yet (the sparse update of both tables,
//!    [`Compressor`]) for its downstreams to fetch;
//! 2. it fetches its upstreams' new updates over their sessions (polling within a bounded
//!    wait; a slow or absent peer is skipped this round, its updates are picked up in a
//!    later one while its history still has them);
//! 3. it values its own update and each peer's on held-out text of its own ([`Valuer`]),
//!    upstreams proven to copy others last ([`Precedence`]) and their updates taken for
//!    copies; copies are not applied, the others are added under the bound
//!    ([`apply_update`]);
//! 4. it folds the round's importances into the attribution the chain loop posts, and
//!    republishes what it serves (`syn0`).
//!
//! When the schedule is done the node says so in `/status` and keeps serving (and
//! answering update fetches) until it is stopped. Every [`HELD_OUT_EVERY`]th chunk of the
//! shard is never trained on: it is the held-out text of the estimator.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::runtime::Handle;
use tokio::sync::watch;

use super::precedence::{Precedence, Seen};
use super::state::{lock, Shared};
use crate::corpus::Corpus;
use crate::model::w2v::value::{CopyOf, HeldOut, Valuer};
use crate::model::w2v::{
    admit, apply_update_known, train_round, Compression, Compressor, Lcg, Planner, SparseUpdate,
    Update, UpdateBound, W2vParams,
};
use crate::peer::client::{PeerClient, PeerError, WireTypes};
use crate::peer::range::EVICT_AFTER_OUT_OF_RANGE;
use crate::peer::upstream::Target;
use crate::peer::wire_updates;

/// Every this many pieces of its shard, a node holds one out of training (its estimator's
/// held-out text).
pub const HELD_OUT_EVERY: usize = 20;
/// Fewest tokens in a held-out piece (a shorter one has few pairs within a window).
pub const HELD_OUT_PIECE_MIN: usize = 50;

/// Tokens of one piece for a shard trained in chunks of `chunk_words`: a twentieth of a
/// chunk (at least [`HELD_OUT_PIECE_MIN`]), so a shard of a single chunk already holds text
/// out. Held out by whole chunks, a shard under 20 chunks (200 000 tokens at the defaults,
/// each of three testnet nodes on `wiki.txt`) had no held-out text and valued no peer.
pub fn held_out_piece(chunk_words: usize) -> usize {
    (chunk_words / HELD_OUT_EVERY).max(HELD_OUT_PIECE_MIN)
}
/// Most evaluation pairs the estimator draws from the held-out text.
pub const HELD_OUT_PAIRS: usize = 20_000;
/// Fewest evaluation pairs (below this one round's values are mostly noise).
pub const HELD_OUT_PAIRS_MIN: usize = 1_000;
/// Training tokens of a round per evaluation pair: valuing a round's updates then costs
/// about a tenth of its training (0.21 CPU s beside 2.16 in `bench --vs-gensim`, own and 3
/// peers' updates; docs/embeddings.md), whatever the round's length.
pub const TOKENS_PER_HELD_OUT_PAIR: usize = 64;

/// Evaluation pairs for rounds of `round_tokens` training tokens.
pub fn held_out_pairs(round_tokens: usize) -> usize {
    (round_tokens / TOKENS_PER_HELD_OUT_PAIR).clamp(HELD_OUT_PAIRS_MIN, HELD_OUT_PAIRS)
}
/// Rounds the estimator remembers to recognise a replayed update.
pub const VALUER_HISTORY_ROUNDS: usize = 4;
/// Pause between two asks to an upstream that lags behind (its answers are not new enough).
const POLL_EVERY: Duration = Duration::from_millis(10);
/// Longest an upstream holds one ask of this node for its next round: the round comes as
/// soon as it is out, and each "nothing new" answer, at most this apart, is a moment the
/// upstream is known to have lacked it ([`Precedence`] proves copiers by them).
pub const HOLD_SLICE: Duration = Duration::from_millis(50);
/// Rounds an upstream may be behind this node before the round waits for it (up to the
/// peer deadline): under CPU contention nodes drift apart, and a node that runs ahead of its
/// peers trains most of its schedule on its own shard alone (bounded staleness).
pub const STALE_ROUNDS: u64 = 2;
/// Most time the node spends waiting for lagging upstreams, as a share of its training time:
/// an upstream that says it is behind (honestly or not) can slow a node by at most this.
pub const LAGGARD_WAIT_SHARE: f64 = 0.5;

/// CPU seconds of the training loop's thread by phase: train, own update, value, apply.
struct PhaseClock {
    seconds: [f64; 4],
    clock: cpu_time::ThreadTime,
}

impl PhaseClock {
    fn start() -> PhaseClock {
        PhaseClock {
            seconds: [0.0; 4],
            clock: cpu_time::ThreadTime::now(),
        }
    }

    /// Counts the CPU time since the last lap to `phase`.
    fn lap(&mut self, phase: usize) {
        self.seconds[phase] += self.clock.elapsed().as_secs_f64();
        self.clock = cpu_time::ThreadTime::now();
    }
}

/// The node's time spent training and waiting for laggards, which bounds the waiting.
#[derive(Debug, Default, Clone, Copy)]
struct LagBudget {
    trained: Duration,
    waited: Duration,
}

impl LagBudget {
    /// Whether this round may wait for lagging upstreams (after `trained` more training).
    fn allows(&mut self, trained: Duration) -> bool {
        self.trained += trained;
        self.waited.as_secs_f64() < LAGGARD_WAIT_SHARE * self.trained.as_secs_f64()
    }

    /// A round that was allowed to wait took `fetch`, of which `wait` was the normal wait.
    fn spent(&mut self, fetch: Duration, wait: Duration) {
        self.waited += fetch.saturating_sub(wait);
    }
}
/// Longest the node's first round waits for an upstream that has published nothing yet:
/// nodes see each other on chain at different moments (a metagraph refresh apart), and one
/// that started first would otherwise run its schedule alone.
pub const START_WAIT: Duration = Duration::from_secs(10);
/// Pause before asking again, in the first round, an upstream that does not list this node
/// yet (below the per-address handshake rate of a peer, `Limits::handshake_rate`).
const NOT_LISTED_RETRY: Duration = Duration::from_millis(300);
/// Shortest wait for upstreams' updates in a round.
const MIN_WAIT: Duration = Duration::from_millis(30);
/// How long a round of a node that does not train lasts.
const IDLE_ROUND: Duration = Duration::from_millis(100);

/// Training loop settings.
#[derive(Debug, Clone)]
pub struct TrainSettings {
    /// word2vec parameters of the node's own sampling (subsampling, negatives).
    pub params: W2vParams,
    /// Tokens per chunk.
    pub chunk_words: usize,
    /// Chunks to train in total, counting a resumed node's earlier ones (0 = the schedule:
    /// `params.epochs` passes over the shard).
    pub steps: u64,
    /// Progress log period, in rounds (0 = never).
    pub log_every: u64,
    /// Exchange rounds per epoch of the shard.
    pub syncs_per_epoch: usize,
    /// Training threads.
    pub threads: usize,
    /// What one peer's update may do to this node.
    pub bound: UpdateBound,
    /// What of its own change the node sends each round (and the precision it asks its
    /// upstreams for).
    pub compression: Compression,
    /// Whether the node stops when its schedule is done (tests) or keeps serving.
    pub exit_when_done: bool,
    /// Upstream slots that must be filled before the first round.
    pub start_with_peers: usize,
}

/// The node's shard as the loop uses it: the tokens it trains on, and every
/// [`HELD_OUT_EVERY`]th piece of [`held_out_piece`] tokens held out (as sentences of word
/// ids, `<unk>` left out).
pub fn split_held_out(ids: &[i64], chunk_words: usize) -> (Vec<i64>, Vec<Vec<u32>>) {
    let mut train = Vec::with_capacity(ids.len());
    let mut held = Vec::new();
    for (i, chunk) in ids.chunks(held_out_piece(chunk_words)).enumerate() {
        if i % HELD_OUT_EVERY == HELD_OUT_EVERY - 1 {
            held.push(
                chunk
                    .iter()
                    .filter(|&&w| w > 0)
                    .map(|&w| w as u32)
                    .collect(),
            );
        } else {
            train.extend_from_slice(chunk);
        }
    }
    (train, held)
}

/// Where each slot's request goes: the policy is checked again right before the dial.
fn targets(shared: &Shared, now: Instant) -> Vec<Option<Target>> {
    let mut table = lock(&shared.peers);
    (0..table.health.len())
        .map(|i| {
            let slot = table.slot(i)?;
            let base = match slot.base_url(&shared.policy) {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(slot = i, peer = %slot.peer.user, error = %e, "peer address refused");
                    return None;
                }
            };
            let usable = slot.health.usable(now);
            if !usable {
                table.health[i].skipped += 1;
            }
            Some(Target {
                base,
                account: slot.peer.user,
                usable,
            })
        })
        .collect()
}

/// One upstream's answer this round.
enum Got {
    Skipped,
    Updates {
        updates: Vec<SparseUpdate>,
        latest: u64,
        gap: bool,
        /// When the last ask answered with nothing new was sent.
        lacked: Option<Instant>,
    },
    Failed(PeerError),
}

/// Asks one upstream for its updates after `after` until it has some or `wait` is over
/// (the first ask may take `first`, the others `wait`); a peer that answered once and is
/// then slow has nothing new this round, a peer that never answers fails. The first ask is
/// answered at once, the next ones are held by the upstream up to [`HOLD_SLICE`] for its
/// next round. An upstream whose latest round is below `need` ([`STALE_ROUNDS`] behind) is
/// waited for up to `first` in all; one that has published nothing yet only if `unstarted`.
async fn poll(
    client: PeerClient,
    t: Target,
    after: u64,
    need: u64,
    unstarted: bool,
    wait: Duration,
    first: Duration,
) -> Got {
    let start = Instant::now();
    let mut end = start + wait;
    let mut answered = None;
    let mut lacked = None;
    loop {
        // The first ask may open the session (a handshake): it gets the longer deadline.
        let deadline = if answered.is_none() { first } else { wait };
        let sent = Instant::now();
        // Held for at most half of what is left, so the answer is in before the wait ends.
        let hold = match answered {
            Some(_) => (end.saturating_duration_since(sent) / 2).min(HOLD_SLICE),
            None => Duration::ZERO,
        };
        match client
            .updates(&t.base, &t.account, after, hold, deadline)
            .await
        {
            Err(PeerError::Timeout(_)) if answered.is_some() => {
                let (latest, gap) = answered.unwrap_or_default();
                return Got::Updates {
                    updates: Vec::new(),
                    latest,
                    gap,
                    lacked,
                };
            }
            // A node that just joined: the upstream's view of the chain is a refresh behind.
            Err(PeerError::NotListed(_))
                if unstarted && Instant::now() + NOT_LISTED_RETRY < start + first =>
            {
                tokio::time::sleep(NOT_LISTED_RETRY).await
            }
            Err(e) => return Got::Failed(e),
            Ok(a) if a.latest < need && (a.latest > 0 || unstarted) && end < start + first => {
                // Lagging behind: give it up to the peer deadline to catch up.
                end = start + first;
                answered = Some((a.latest, a.gap));
                tokio::time::sleep(POLL_EVERY).await
            }
            Ok(a)
                if (!a.updates.is_empty() && a.latest >= need)
                    || Instant::now() + POLL_EVERY >= end =>
            {
                return Got::Updates {
                    updates: a.updates,
                    latest: a.latest,
                    gap: a.gap,
                    lacked,
                }
            }
            Ok(a) => {
                if a.updates.is_empty() {
                    lacked = Some(sent);
                }
                answered = Some((a.latest, a.gap));
                // An upstream holds an ask until it has something new; one that answers
                // sooner with nothing new enough (lagging, restarted, or not holding) is
                // asked again later, not at once.
                tokio::time::sleep_until((sent + hold.max(POLL_EVERY)).into()).await
            }
        }
    }
}

/// Fetches every usable upstream's updates after its cursor (concurrently, within `wait`);
/// records health, evicts impostors; returns `(slot, update)` in the order the answers
/// arrived and, per slot, when this node saw them ([`Seen`]); moves the cursors. Unless
/// `wait_for_laggards`, an upstream more than [`STALE_ROUNDS`] behind is not waited for;
/// in the node's `starting` round, one that has published nothing is waited for up to
/// [`START_WAIT`].
async fn fetch_round(
    shared: &Shared,
    client: &PeerClient,
    cursors: &mut [u64],
    round: u64,
    wait: Duration,
    wait_for_laggards: bool,
    starting: bool,
) -> (Vec<(usize, SparseUpdate)>, Vec<Seen>) {
    let need = if starting {
        1
    } else if wait_for_laggards {
        round.saturating_sub(STALE_ROUNDS)
    } else {
        0
    };
    let targets = targets(shared, Instant::now());
    let first = if starting {
        START_WAIT
    } else {
        shared.deadline.max.max(wait)
    };
    let tasks: Vec<_> = targets
        .iter()
        .zip(cursors.iter())
        .map(|(t, &after)| match t {
            Some(t) if t.usable => {
                let polled = poll(
                    client.clone(),
                    t.clone(),
                    after,
                    need,
                    starting,
                    wait,
                    first,
                );
                Some(tokio::spawn(async move { (polled.await, Instant::now()) }))
            }
            _ => None,
        })
        .collect();
    let mut got = Vec::with_capacity(tasks.len());
    let mut arrived = Vec::with_capacity(tasks.len());
    for task in tasks {
        let (g, at) = match task {
            None => (Got::Skipped, None),
            Some(h) => match h.await {
                Ok((g, at)) => (g, Some(at)),
                Err(e) => (Got::Failed(PeerError::Transport(e.to_string())), None),
            },
        };
        got.push(g);
        arrived.push(at);
    }
    let mut out = Vec::new();
    let mut seen = vec![Seen::default(); arrived.len()];
    let mut evict = Vec::new();
    let mut failures = 0;
    let mut missed = 0;
    {
        let mut table = lock(&shared.peers);
        for (i, g) in got.into_iter().enumerate() {
            let Some(h) = table.health.get_mut(i) else {
                continue;
            };
            let user = targets[i]
                .as_ref()
                .map(|t| t.account.clone())
                .unwrap_or_default();
            match g {
                Got::Skipped => {}
                Got::Failed(e) => {
                    failures += 1;
                    let delay = h.record_failure(Instant::now(), &e);
                    if matches!(e, PeerError::Garbage(_)) {
                        tracing::error!(slot = i, peer = %user, error = %e, "peer update refused: malformed; training goes on without it");
                    } else {
                        tracing::warn!(slot = i, peer = %user, error = %e, retry_in = ?delay, "upstream peer failed; this round goes on without it");
                    }
                    if e.disqualifies() {
                        evict.push((i, e.to_string()));
                    } else if h.out_of_range >= EVICT_AFTER_OUT_OF_RANGE {
                        evict.push((
                            i,
                            format!("{} out-of-range answers, last: {e}", h.out_of_range),
                        ));
                    }
                }
                Got::Updates {
                    updates,
                    latest,
                    gap,
                    lacked,
                } => {
                    seen[i] = Seen {
                        arrived: arrived[i],
                        lacked,
                    };
                    h.record_success();
                    if gap {
                        missed += 1;
                    }
                    let before = cursors[i];
                    if latest < before {
                        // The upstream started over (a restart without its history).
                        cursors[i] = 0;
                    }
                    for u in updates.into_iter().take(super::state::PUBLISHED_ROUNDS) {
                        if u.round <= before && !gap {
                            continue;
                        }
                        cursors[i] = cursors[i].max(u.round);
                        out.push((i, u));
                    }
                }
            }
        }
    }
    for (i, why) in evict {
        shared.ban(i, &why);
    }
    let mut s = lock(&shared.stats);
    s.peer_failures += failures;
    s.updates_missed += missed;
    out.sort_by_key(|(i, _)| arrived[*i]);
    (out, seen)
}

/// The loop's state between rounds (owned by the blocking thread that trains).
struct Round {
    number: u64,
    cursors: Vec<u64>,
    /// What the network knows of the model: the node's own change not sent yet is the rest.
    compressor: Compressor,
}

fn empty_update(round: u64, dim: usize) -> SparseUpdate {
    SparseUpdate {
        round,
        dim,
        rows: vec![],
        input: vec![],
        context: vec![],
    }
}

/// Trains until the schedule (or `settings.steps`) is done, then, unless
/// `settings.exit_when_done`, keeps the node serving until `shutdown` turns true.
pub async fn train(
    shared: Arc<Shared>,
    corpus: Corpus,
    settings: TrainSettings,
    client: PeerClient,
    mut shutdown: watch::Receiver<bool>,
) {
    if !wait_for_peers(&shared, settings.start_with_peers, &mut shutdown).await {
        return;
    }
    let handle = Handle::current();
    let (s2, stop) = (shared.clone(), shutdown.clone());
    let exit = settings.exit_when_done;
    let task = tokio::task::spawn_blocking(move || {
        run_rounds(&s2, &corpus, &settings, &client, &stop, &handle)
    });
    match task.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::error!(error = %e, "training stops"),
        Err(e) => tracing::error!(error = %e, "training task failed"),
    }
    lock(&shared.stats).training_done = true;
    if exit {
        return;
    }
    while !*shutdown.borrow() {
        if shutdown.changed().await.is_err() {
            return;
        }
    }
}

/// Waits until `want` upstream slots (at most all of them) hold a peer; false if the node
/// is stopped first.
async fn wait_for_peers(
    shared: &Shared,
    want: usize,
    shutdown: &mut watch::Receiver<bool>,
) -> bool {
    let filled = || {
        let table = lock(&shared.peers);
        let names = table.slots.names();
        (names.iter().filter(|n| n.is_some()).count(), names.len())
    };
    let (mut have, slots) = filled();
    let want = want.min(slots);
    let mut said: Option<Instant> = None;
    while have < want {
        if said.is_none_or(|t| t.elapsed() >= Duration::from_secs(5)) {
            tracing::info!(
                have,
                want,
                "waiting for upstream peers before the first round"
            );
            said = Some(Instant::now());
        }
        if *shutdown.borrow() {
            return false;
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(100)) => {}
            changed = shutdown.changed() => {
                if changed.is_err() {
                    return false; // the node is gone
                }
            }
        }
        have = filled().0;
    }
    true
}

/// The rounds themselves, on a blocking thread (the fetches run on the runtime).
fn run_rounds(
    shared: &Shared,
    corpus: &Corpus,
    settings: &TrainSettings,
    client: &PeerClient,
    shutdown: &watch::Receiver<bool>,
    handle: &Handle,
) -> Result<(), String> {
    let params = &settings.params;
    let counts = corpus.vocab.counts().to_vec();
    let (train_ids, held) = split_held_out(&corpus.ids, settings.chunk_words);
    let mut planner = Planner::new(&train_ids, &counts, params, settings.chunk_words)
        .map_err(|e| format!("cannot plan training: {e}"))?;
    let per_epoch = planner.chunks_per_epoch();
    if per_epoch == 0 {
        return Err("corpus shard is empty".into());
    }
    let until = match settings.steps {
        0 => planner.scheduled_chunks(),
        n => n,
    };
    let per_round = per_epoch
        .div_ceil(settings.syncs_per_epoch.max(1) as u64)
        .max(1);
    let mut valuer = Valuer::new(
        HeldOut::new(
            &held,
            &counts,
            params,
            held_out_pairs(per_round as usize * settings.chunk_words),
            params.seed,
        ),
        VALUER_HISTORY_ROUNDS,
    );
    let start_loss = valuer.held_out().mean_loss(&lock(&shared.model));
    let first = {
        let mut stats = lock(&shared.stats);
        stats.start_held_out_loss = Some(start_loss).filter(|l| l.is_finite());
        stats.step
    };
    planner.skip_to(first);
    let mut rngs: Vec<Lcg> = (0..settings.threads.max(1) as u64)
        .map(|t| Lcg::new(params.seed.wrapping_add(2 + t).wrapping_add(first)))
        .collect();
    let k = lock(&shared.peers).health.len();
    let mut round = {
        let model = lock(&shared.model);
        Round {
            number: lock(&shared.published).latest(),
            cursors: vec![0; k],
            compressor: Compressor::for_model(
                &model,
                settings.compression,
                settings.bound.max_row_norm,
            ),
        }
    };
    // Ask upstreams for updates in the precision this node sends its own in.
    let client = &client.clone().with_wire(WireTypes {
        updates: settings.compression.precision.into(),
        ..WireTypes::default()
    });
    let hooks = shared.hooks.clone();
    let mut precedence = Precedence::new(k);
    let mut lag_budget = LagBudget::default();
    tracing::info!(
        chunks = until,
        done = first,
        per_round,
        held_out_sentences = held.len(),
        held_out_loss = format!("{start_loss:.4}"),
        threads = rngs.len(),
        "training: one round per {} of an epoch",
        format!("1/{}", settings.syncs_per_epoch)
    );
    let mut window = (Instant::now(), 0u64);
    // This run's first round waits for upstreams that have not started (START_WAIT).
    let starting_round = round.number + 1;
    // CPU seconds of this thread by phase: train, own update, value, apply (the fetches'
    // decoding runs on the runtime's threads).
    let mut phases = PhaseClock::start();
    while planner.position() < until {
        if *shutdown.borrow() {
            return Ok(());
        }
        round.number += 1;
        let started = Instant::now();
        // 1. Train (or, for a node that does not, let a round's time pass).
        let report = if hooks.train {
            let mut model = lock(&shared.model);
            train_round(
                &mut model,
                &mut planner,
                per_round,
                until,
                &mut rngs,
                Update::default(),
            )
        } else {
            std::thread::sleep(IDLE_ROUND);
            planner.skip_to((planner.position() + per_round).min(until));
            Default::default()
        };
        let trained = started.elapsed();
        phases.lap(0);
        let own = if hooks.train {
            let model = lock(&shared.model);
            round
                .compressor
                .compress(&model.syn0, &model.syn1neg, round.number)
        } else {
            empty_update(round.number, shared.dim)
        };
        // 2. Publish (an honest node before it waits for its upstreams) and fetch.
        if hooks.publish.is_none() {
            lock(&shared.published).push(own.clone());
        }
        for i in std::mem::take(&mut *lock(&shared.slot_resets)) {
            if let Some(c) = round.cursors.get_mut(i) {
                *c = 0;
            }
            precedence.reset(i);
        }
        let wait = trained.clamp(MIN_WAIT, shared.deadline.max.max(MIN_WAIT));
        let starting = round.number == starting_round;
        let laggards = lag_budget.allows(trained) && !starting;
        let fetching = Instant::now();
        // A stop does not wait for the fetch (the first round's may take START_WAIT).
        let mut stop = shutdown.clone();
        let fetched = handle.block_on(async {
            tokio::select! {
                got = fetch_round(
                    shared,
                    client,
                    &mut round.cursors,
                    round.number,
                    wait,
                    laggards,
                    starting,
                ) => Some(got),
                // (A node whose stop signal is gone can no longer be stopped: fetch on.)
                _ = async {
                    if stop.wait_for(|stopping| *stopping).await.is_err() {
                        std::future::pending::<()>().await
                    }
                } => None,
            }
        });
        let Some((fetched, seen)) = fetched else {
            return Ok(());
        };
        if laggards {
            lag_budget.spent(fetching.elapsed(), wait);
        }
        // 3. Admit, value, apply.
        // A peer's updates of this fetch are valued and applied as one (its value does not
        // depend on how it cut its training into rounds), in the order its answer arrived.
        let mut slots: Vec<usize> = Vec::with_capacity(fetched.len());
        let mut parts: Vec<Vec<SparseUpdate>> = Vec::with_capacity(fetched.len());
        let mut refused = 0;
        {
            let model = lock(&shared.model);
            for (slot, u) in fetched {
                match admit(&model, &u, &settings.bound) {
                    Ok(()) => match slots.iter().position(|&s| s == slot) {
                        Some(at) => parts[at].push(u),
                        None => {
                            slots.push(slot);
                            parts.push(vec![u]);
                        }
                    },
                    Err(e) => {
                        refused += 1;
                        tracing::error!(slot, round = u.round, error = %e, "peer update refused; training goes on without it");
                    }
                }
            }
        }
        // Proven copiers go last, so a source keeps the credit when both answered at once.
        // Each peer's updates of the fetch are valued as one, and applied one round at a time
        // (each under the bound, as its sender capped it): `rounds[j]` holds them when there
        // are several, `peers[j]` is the one otherwise.
        let (mut peers, mut rounds, mut ordered) = (Vec::new(), Vec::new(), Vec::new());
        for at in precedence.order(&slots) {
            let mut mine = std::mem::take(&mut parts[at]);
            let one = match mine.len() {
                0 => continue,
                1 => mine.pop(),
                _ => SparseUpdate::merged(&mine),
            };
            if let Some(u) = one {
                peers.push(u);
                rounds.push(mine);
                ordered.push(slots[at]);
            }
        }
        let slots = ordered;
        if let Some(publish) = &hooks.publish {
            let mut out = publish(&own, &peers);
            out.round = round.number;
            lock(&shared.published).push(out);
        }
        phases.lap(1);
        let valuation = {
            let proven: Vec<bool> = slots.iter().map(|&s| precedence.marks(s) > 0).collect();
            let model = lock(&shared.model);
            valuer.value_with(&model, &own, &peers, &proven, &settings.bound)
        };
        phases.lap(2);
        let (mut applied, mut copied, mut clipped) = (0u64, 0u64, 0u64);
        // (copier, the upstream it copied) proven this round, told after the model's lock.
        let mut proofs: Vec<(usize, usize)> = Vec::new();
        // Signed: attribution counts a harmful (negative) value as zero.
        let mut importance = vec![0.0; k + 1];
        importance[0] = valuation.own;
        {
            let mut model = lock(&shared.model);
            for (j, u) in peers.iter().enumerate() {
                if let Some(v) = valuation.peers.get(j) {
                    importance[slots[j] + 1] = *v;
                }
                if let Some(Some(c)) = valuation.copy_of.get(j) {
                    if let CopyOf::Peer(i) = c {
                        if let Some(copier) = precedence.record(slots[j], slots[*i], &seen) {
                            let other = if copier == slots[j] {
                                slots[*i]
                            } else {
                                slots[j]
                            };
                            proofs.push((copier, other));
                        }
                    }
                    copied += 1;
                    continue;
                }
                if !hooks.train {
                    continue;
                }
                let mut any = false;
                let each = if rounds[j].is_empty() {
                    std::slice::from_ref(u)
                } else {
                    &rounds[j][..]
                };
                for u in each {
                    match apply_update_known(&mut model, u, &settings.bound, &mut round.compressor)
                    {
                        Ok(a) => {
                            any = true;
                            clipped += a.clipped as u64;
                        }
                        Err(e) => {
                            refused += 1;
                            tracing::error!(slot = slots[j], error = %e, "peer update refused; training goes on without it");
                        }
                    }
                }
                applied += u64::from(any);
            }
            shared.publish(&model);
        }
        phases.lap(3);
        if !proofs.is_empty() {
            let names = lock(&shared.peers).slots.names();
            let name = |s: usize| names.get(s).cloned().flatten().unwrap_or_default();
            for (copier, other) in proofs {
                tracing::info!(
                    round = round.number,
                    slot = copier,
                    copier = %name(copier),
                    copied = %name(other),
                    "upstream proven to copy another (its updates are now worth nothing)"
                );
            }
        }
        // 4. Attribution and counters.
        lock(&shared.attribution).update(&importance);
        shared.record_step_time(started.elapsed());
        let loss = (report.pairs > 0).then(|| report.loss / report.pairs as f64);
        shared.record_round(planner.position(), loss, report.pairs);
        {
            let mut s = lock(&shared.stats);
            s.updates_applied += applied;
            s.updates_refused += refused;
            s.updates_copied += copied;
            s.rows_clipped += clipped;
            s.published_rows += own.rows.len() as u64;
            s.published_bytes +=
                wire_updates::encoded_len(&own, settings.compression.precision.into()) as u64;
            s.cpu_phases = phases.seconds;
        }
        window.1 += report.pairs;
        if settings.log_every > 0 && round.number.is_multiple_of(settings.log_every) {
            let rate = window.1 as f64 / window.0.elapsed().as_secs_f64().max(1e-9);
            window = (Instant::now(), 0);
            let held_out = valuer.held_out().mean_loss(&lock(&shared.model));
            // A pass over the held-out triples, as valuing is: counted there, not as the
            // next round's training.
            phases.lap(2);
            {
                let mut s = lock(&shared.stats);
                s.examples_per_sec = rate;
                s.held_out_loss = Some(held_out).filter(|l| l.is_finite());
            }
            let attr = lock(&shared.attribution).values().to_vec();
            tracing::info!(
                round = round.number,
                chunks = planner.position(),
                of = until,
                loss = format!("{:.4}", loss.unwrap_or(f64::NAN)),
                held_out_loss = format!("{held_out:.4}"),
                pairs_per_sec = format!("{rate:.0}"),
                own_rows = own.rows.len(),
                peer_updates = peers.len(),
                applied,
                attribution = ?attr.iter().map(|a| format!("{a:.3}")).collect::<Vec<_>>(),
                "round"
            );
        }
    }
    let clipped = lock(&shared.stats).rows_clipped;
    let end_loss = valuer.held_out().mean_loss(&lock(&shared.model));
    lock(&shared.stats).held_out_loss = Some(end_loss).filter(|l| l.is_finite());
    tracing::info!(
        rounds = round.number,
        held_out_loss = format!("{end_loss:.4}"),
        start_held_out_loss = format!("{start_loss:.4}"),
        chunks = planner.position(),
        clipped,
        cpu_train = format!("{:.3}", phases.seconds[0]),
        cpu_own_update = format!("{:.3}", phases.seconds[1]),
        cpu_value = format!("{:.3}", phases.seconds[2]),
        cpu_apply = format!("{:.3}", phases.seconds[3]),
        "training done; serving until stopped"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waiting_for_laggards_is_bounded_by_a_share_of_training_time() {
        let ms = Duration::from_millis;
        let mut b = LagBudget::default();
        // A peer that always says it is behind makes every allowed round wait 1 s for 100 ms
        // of training: over 100 rounds the node waits at most about half its training time
        // (plus one round's wait).
        let mut waited = Duration::ZERO;
        for _ in 0..100 {
            if b.allows(ms(100)) {
                b.spent(ms(1030), ms(30));
                waited += ms(1000);
            }
        }
        assert!(waited <= ms(5_000 + 1_000), "{waited:?}");
        assert!(
            waited >= ms(4_000),
            "it still waits when within budget: {waited:?}"
        );
        // A node whose peers keep up never spends its budget.
        let mut quiet = LagBudget::default();
        assert!((0..100).all(|_| {
            let ok = quiet.allows(ms(100));
            quiet.spent(ms(30), ms(30));
            ok
        }));
    }

    #[tokio::test]
    async fn the_first_round_waits_for_the_upstreams_asked_for() {
        use crate::node::state::tests::{node, row};
        let s = node(2);
        let (stop_tx, stop_rx) = watch::channel(false);
        let waiter = {
            let (s, mut rx) = (s.clone(), stop_rx.clone());
            tokio::spawn(async move { wait_for_peers(&s, 5, &mut rx).await })
        };
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!waiter.is_finished(), "no peer yet");
        s.refresh_peers(&[row("me", 7000), row("a", 7001)]);
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!waiter.is_finished(), "one of two slots filled");
        // Five asked for, two slots: both filled is enough.
        s.refresh_peers(&[row("me", 7000), row("a", 7001), row("b", 7002)]);
        let done = tokio::time::timeout(Duration::from_secs(2), waiter).await;
        assert!(matches!(done, Ok(Ok(true))), "{done:?}");
        // A node stopped while it waits does not train.
        let lonely = node(2);
        let mut rx = stop_rx;
        let w = tokio::spawn(async move { wait_for_peers(&lonely, 1, &mut rx).await });
        stop_tx.send(true).unwrap();
        let done = tokio::time::timeout(Duration::from_secs(2), w).await;
        assert!(matches!(done, Ok(Ok(false))), "{done:?}");
        // Nothing asked for: no wait.
        assert!(wait_for_peers(&node(2), 0, &mut watch::channel(false).1).await);
    }

    #[test]
    fn the_estimators_pairs_follow_the_round_within_bounds() {
        assert_eq!(held_out_pairs(0), HELD_OUT_PAIRS_MIN);
        assert_eq!(held_out_pairs(10_000 * TOKENS_PER_HELD_OUT_PAIR), 10_000);
        assert_eq!(held_out_pairs(10_000_000), HELD_OUT_PAIRS);
    }

    #[test]
    fn every_twentieth_piece_is_held_out_and_never_trained() {
        let ids: Vec<i64> = (0..10_000).map(|i| (i % 7) as i64).collect();
        let (train, held) = split_held_out(&ids, 1000);
        assert_eq!(held_out_piece(1000), 50);
        assert_eq!(held.len(), 200 / HELD_OUT_EVERY);
        assert_eq!(train.len(), 10_000 - 50 * held.len());
        assert!(held.iter().flatten().all(|&w| w > 0), "<unk> left out");
        // The 20th piece (tokens 950..1000) is not in the training tokens' order.
        assert_eq!(&train[900..950], &ids[900..950]);
        assert_eq!(&train[950..1000], &ids[1000..1050]);
        // Short chunks still make pieces long enough to hold pairs.
        assert_eq!(held_out_piece(10), HELD_OUT_PIECE_MIN);
    }

    #[test]
    fn a_shard_of_one_chunk_already_holds_out_a_twentieth() {
        use crate::model::w2v::CHUNK_WORDS;
        // Three testnet nodes on wiki.txt: about 151 000 tokens each, 15 chunks of 10 000.
        for tokens in [CHUNK_WORDS, 151_000, 2_000_000] {
            let ids: Vec<i64> = (0..tokens).map(|i| 1 + (i % 97) as i64).collect();
            let (train, held) = split_held_out(&ids, CHUNK_WORDS);
            let out: usize = held.iter().map(Vec::len).sum();
            assert!(!held.is_empty(), "{tokens} tokens: nothing held out");
            assert_eq!(out + train.len(), tokens);
            let share = out as f64 / tokens as f64;
            assert!((share - 0.05).abs() < 0.001, "{tokens} tokens: {share}");
        }
    }
}
