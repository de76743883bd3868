//! The training loop of the word2vec core: the shard is cut into chunks (one step each, see
//! [`Planner`]); for each chunk the upstream peers are asked for their served vectors of the
//! chunk's distinct words, and that request goes out while the previous chunk trains
//! (prefetch, one step ahead). A step trains the peer-aware model on the blocking pool,
//! republishes what this node serves, folds the step's importance into the attribution,
//! and sends each answering peer the gradient of the loss with respect to what it served.

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::state::{lock, Shared};
use crate::corpus::Corpus;
use crate::model::w2v::{ChunkOutput, ChunkPlan, Lcg, Planned, Planner, W2vParams};
use crate::peer::client::PeerClient;
use crate::peer::range::EVICT_AFTER_OUT_OF_RANGE;
use crate::peer::upstream::{fetch_all, send_backward, Fetched, Target};
use crate::peer::WireTensor;

/// Steps over which the reported examples/s is measured.
const RATE_WINDOW_STEPS: u64 = 20;

/// Training loop settings.
#[derive(Debug, Clone)]
pub struct TrainSettings {
    /// word2vec parameters (the seed seeds subsampling and negatives).
    pub params: W2vParams,
    /// Tokens per step.
    pub chunk_words: usize,
    /// Steps to run in total, counting a resumed node's earlier steps (0 = until shutdown).
    pub steps: u64,
    /// Progress log period.
    pub log_every: u64,
}

/// One slot's features for a chunk: the served rows, or None (absent, backing off, failed).
type Features = Vec<Option<Vec<f32>>>;
/// Peer features for one chunk and which slots answered.
type Gathered = (Features, Vec<Option<Target>>);

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
                forward: None,
            })
        })
        .collect()
}

/// Asks the upstream peers for the served vectors of `ids` within the step's deadline;
/// records health and evicts peers that are disqualified or keep sending out-of-range
/// values; returns each slot's rows (None where missing) and which slots answered.
async fn gather(shared: Arc<Shared>, client: PeerClient, ids: Vec<i64>) -> Gathered {
    let k = lock(&shared.peers).health.len();
    if ids.is_empty() {
        return (vec![None; k], vec![None; k]);
    }
    let targets = targets(&shared, Instant::now());
    let deadline = shared.peer_deadline();
    let fetched = fetch_all(&client, &targets, &ids, shared.dim, deadline).await;
    let mut features = Vec::with_capacity(fetched.len());
    let mut answered = Vec::with_capacity(fetched.len());
    let mut failures = 0;
    let mut evict = Vec::new();
    {
        let mut table = lock(&shared.peers);
        for (i, (f, target)) in fetched.into_iter().zip(&targets).enumerate() {
            match f {
                Fetched::Ok(served) => {
                    table.health[i].record_success();
                    features.push(Some(served.tensor.data));
                    answered.push(target.clone().map(|t| Target {
                        forward: Some(served.reference),
                        ..t
                    }));
                }
                Fetched::Skipped => {
                    features.push(None);
                    answered.push(None);
                }
                Fetched::Failed(e) => {
                    failures += 1;
                    let delay = table.health[i].record_failure(Instant::now(), &e);
                    let user = target
                        .as_ref()
                        .map(|t| t.account.clone())
                        .unwrap_or_default();
                    tracing::warn!(slot = i, peer = %user, error = %e, retry_in = ?delay, "upstream peer failed; training without it this step");
                    if e.disqualifies() {
                        evict.push((i, e.to_string()));
                    } else if table.health[i].out_of_range >= EVICT_AFTER_OUT_OF_RANGE {
                        evict.push((
                            i,
                            format!(
                                "{} out-of-range answers, last: {e}",
                                table.health[i].out_of_range
                            ),
                        ));
                    }
                    features.push(None);
                    answered.push(None);
                }
            }
        }
    }
    for (i, why) in evict {
        shared.ban(i, &why);
    }
    if failures > 0 {
        lock(&shared.stats).peer_failures += failures;
    }
    (features, answered)
}

/// Sends each answering peer its gradient in the background, counting failures.
fn scatter(
    shared: &Arc<Shared>,
    client: &PeerClient,
    ids: &[i64],
    answered: Vec<Option<Target>>,
    grads: Vec<Option<Vec<f32>>>,
) {
    for (slot, (target, grad)) in answered.into_iter().zip(grads).enumerate() {
        let (Some(target), Some(grad)) = (target, grad) else {
            continue;
        };
        let grad = WireTensor {
            shape: vec![ids.len(), shared.dim],
            data: grad,
        };
        let handle = send_backward(client, target, grad);
        let shared = shared.clone();
        tokio::spawn(async move {
            if let Ok(Err(e)) = handle.await {
                tracing::debug!(slot, error = %e, "backward to upstream peer failed");
                lock(&shared.stats).backward_failures += 1;
                if let Some(h) = lock(&shared.peers).health.get_mut(slot) {
                    h.backward_failures += 1;
                }
            }
        });
    }
}

/// A chunk ready to train: its plan and the request for its peers' vectors, in flight.
struct Next {
    chunk: Planned,
    plan: ChunkPlan,
    features: JoinHandle<Gathered>,
}

/// Plans the next chunk and starts fetching its peers' vectors in the background, so the
/// round trip overlaps the current step.
fn prefetch(shared: &Arc<Shared>, client: &PeerClient, planner: &mut Planner) -> Option<Next> {
    let chunk = planner.next_chunk()?;
    let plan = ChunkPlan::new(chunk.sentence.clone());
    let features = tokio::spawn(gather(shared.clone(), client.clone(), plan.ids()));
    Some(Next {
        chunk,
        plan,
        features,
    })
}

/// Trains one chunk on the blocking pool: forgets the slots whose peer changed, takes the
/// step, republishes what the node serves.
async fn model_step(
    shared: &Arc<Shared>,
    plan: ChunkPlan,
    features: Features,
    alpha: f32,
    mut rng: Lcg,
) -> Result<(ChunkOutput, Lcg, ChunkPlan), String> {
    let shared = shared.clone();
    tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let views: Vec<Option<&[f32]>> = features.iter().map(|f| f.as_deref()).collect();
        let mut model = lock(&shared.model);
        let resets: Vec<usize> = std::mem::take(&mut *lock(&shared.slot_resets));
        for j in resets {
            model.reset_slot(j);
        }
        let out = model
            .train_chunk(&plan, &views, alpha, &mut rng)
            .map_err(|e| e.to_string())?;
        shared.publish(&model);
        drop(model);
        *lock(&shared.alpha) = alpha;
        shared.record_step_time(started.elapsed());
        Ok((out, rng, plan))
    })
    .await
    .map_err(|e| format!("model task: {e}"))?
}

/// Trains until `settings.steps` steps are done or `shutdown` turns true.
pub async fn train(
    shared: Arc<Shared>,
    corpus: Corpus,
    settings: TrainSettings,
    client: PeerClient,
    shutdown: watch::Receiver<bool>,
) {
    let counts = corpus.vocab.counts().to_vec();
    let mut planner =
        match Planner::new(&corpus.ids, &counts, &settings.params, settings.chunk_words) {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "cannot plan training; training stops");
                return;
            }
        };
    if planner.chunks_per_epoch() == 0 {
        tracing::error!("corpus shard is empty; training stops");
        return;
    }
    let first = lock(&shared.stats).step;
    planner.skip_to(first);
    let mut rng = Lcg::new(settings.params.seed.wrapping_add(2).wrapping_add(first));
    let mut window_start = Instant::now();
    let mut window_examples = 0u64;
    let mut next = prefetch(&shared, &client, &mut planner);
    while let Some(Next {
        chunk,
        plan,
        features,
    }) = next.take()
    {
        let step = lock(&shared.stats).step;
        if *shutdown.borrow() || (settings.steps > 0 && step >= settings.steps) {
            features.abort();
            return;
        }
        let (features, answered) = match features.await {
            Ok(g) => g,
            Err(e) => {
                tracing::warn!(error = %e, "peer fetch task failed; training without peers");
                let k = lock(&shared.peers).health.len();
                (vec![None; k], vec![None; k])
            }
        };
        if settings.steps == 0 || step + 1 < settings.steps {
            next = prefetch(&shared, &client, &mut planner);
        }
        match model_step(&shared, plan, features, chunk.alpha, rng.clone()).await {
            Ok((out, used, plan)) => {
                rng = used;
                lock(&shared.attribution).update(&out.importance);
                scatter(&shared, &client, &plan.ids(), answered, out.peer_grads);
                let loss = (out.pairs > 0).then(|| out.loss / out.pairs as f64);
                shared.record_step(loss, out.pairs);
                window_examples += out.pairs;
                let step = step + 1;
                if step.is_multiple_of(RATE_WINDOW_STEPS) {
                    let rate =
                        window_examples as f64 / window_start.elapsed().as_secs_f64().max(1e-9);
                    window_start = Instant::now();
                    window_examples = 0;
                    lock(&shared.stats).examples_per_sec = rate;
                }
                if settings.log_every > 0 && step.is_multiple_of(settings.log_every) {
                    let rate = lock(&shared.stats).examples_per_sec;
                    let attr = lock(&shared.attribution).values().to_vec();
                    tracing::info!(
                        step,
                        epoch = chunk.epoch + 1,
                        alpha = format!("{:.5}", chunk.alpha),
                        loss = format!("{:.4}", loss.unwrap_or(f64::NAN)),
                        pairs_per_sec = format!("{rate:.0}"),
                        attribution = ?attr.iter().map(|a| format!("{a:.3}")).collect::<Vec<_>>(),
                        "training"
                    );
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "training step failed; skipping chunk");
                lock(&shared.stats).failed_steps += 1;
                // The step still counts, so a chunk that keeps failing cannot stall the run.
                lock(&shared.stats).step += 1;
            }
        }
    }
}
