//! The training loop: for each batch, ask the upstream peers for their embeddings of the
//! batch's words (zeros for an absent, backing-off or failing peer), take a model step on
//! the blocking pool, fold the step's importance into the attribution, and send each
//! answering peer the gradient of the loss with respect to what it served.

use std::sync::Arc;
use std::time::Instant;

use crate::peer::range::EVICT_AFTER_OUT_OF_RANGE;

use tokio::sync::watch;

use super::state::{lock, Shared};
use super::tensors::{from_tch, to_tch};
use crate::corpus::{Batch, Corpus};
use crate::peer::client::PeerClient;
use crate::peer::codec::BackwardRequest;
use crate::peer::upstream::{fetch_all, send_backward, zeros, Fetched, Target};
use crate::peer::WireTensor;

/// Steps over which the reported examples/s is measured.
const RATE_WINDOW_STEPS: u64 = 20;

/// Training loop settings.
#[derive(Debug, Clone)]
pub struct TrainSettings {
    /// Pairs per batch.
    pub batch: usize,
    /// Context window.
    pub window: usize,
    /// Seed of the batch order (epoch e uses `seed + e`).
    pub seed: u64,
    /// Steps to run (0 = until shutdown).
    pub steps: u64,
    /// Progress log period.
    pub log_every: u64,
}

/// Result of one model step, moved back from the blocking pool.
struct StepResult {
    loss: f64,
    importance: Vec<f64>,
    grads: Vec<WireTensor>,
}

/// Runs the model step with the peers' features on the blocking pool.
async fn model_step(
    shared: &Arc<Shared>,
    batch: Batch,
    features: Vec<WireTensor>,
) -> Result<StepResult, String> {
    let shared = shared.clone();
    tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let peers = features
            .iter()
            .map(to_tch)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
        let out = lock(&shared.model)
            .train_step(&batch, &peers)
            .map_err(|e| e.to_string())?;
        shared.record_step_time(started.elapsed());
        let grads = out
            .peer_grads
            .iter()
            .map(from_tch)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
        Ok(StepResult {
            loss: out.loss,
            importance: out.importance,
            grads,
        })
    })
    .await
    .map_err(|e| format!("model task: {e}"))?
}

/// Peer features for one batch (zeros where missing) and which slots answered.
type Gathered = (Vec<WireTensor>, Vec<Option<Target>>);

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

/// Asks the upstream peers for the batch's features within the step's deadline; records
/// health and evicts peers that are disqualified or keep sending out-of-range values;
/// returns the features (zeros where missing) and which slots answered.
async fn gather(shared: Arc<Shared>, client: PeerClient, words: Vec<i64>) -> Gathered {
    let words = words.as_slice();
    let targets = targets(&shared, Instant::now());
    let deadline = shared.peer_deadline();
    let fetched = fetch_all(&client, &targets, words, shared.out_dim, deadline).await;
    let mut features = Vec::with_capacity(fetched.len());
    let mut answered = Vec::with_capacity(fetched.len());
    let mut failures = 0;
    let mut evict = Vec::new();
    {
        let mut table = lock(&shared.peers);
        for (i, (f, target)) in fetched.into_iter().zip(&targets).enumerate() {
            match f {
                Fetched::Ok(t) => {
                    table.health[i].record_success();
                    features.push(t);
                    answered.push(target.clone());
                }
                Fetched::Skipped => {
                    features.push(zeros(words.len(), shared.out_dim));
                    answered.push(None);
                }
                Fetched::Failed(e) => {
                    failures += 1;
                    let delay = table.health[i].record_failure(Instant::now(), &e);
                    let user = target
                        .as_ref()
                        .map(|t| t.account.clone())
                        .unwrap_or_default();
                    tracing::warn!(slot = i, peer = %user, error = %e, retry_in = ?delay, "upstream peer failed; using zeros");
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
                    features.push(zeros(words.len(), shared.out_dim));
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
    words: &[i64],
    answered: Vec<Option<Target>>,
    grads: Vec<WireTensor>,
) {
    for (slot, (target, grad)) in answered.into_iter().zip(grads).enumerate() {
        let Some(target) = target else { continue };
        let req = BackwardRequest {
            ids: words.to_vec(),
            grad,
        };
        let handle = send_backward(client, target, req);
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

/// Starts fetching the peers' features for `batch` in the background, so the network
/// round trip overlaps the previous model step.
fn prefetch(
    shared: &Arc<Shared>,
    client: &PeerClient,
    batch: Option<&Batch>,
) -> Option<tokio::task::JoinHandle<Gathered>> {
    batch.map(|b| tokio::spawn(gather(shared.clone(), client.clone(), b.words.clone())))
}

/// Trains until `settings.steps` steps are done or `shutdown` turns true.
pub async fn train(
    shared: Arc<Shared>,
    corpus: Corpus,
    settings: TrainSettings,
    client: PeerClient,
    shutdown: watch::Receiver<bool>,
) {
    let epoch_batches = |epoch: u64| {
        corpus.batches(
            settings.batch,
            settings.window,
            settings.seed.wrapping_add(epoch),
        )
    };
    if epoch_batches(0).next().is_none() {
        tracing::error!("corpus shard yields no training pairs; training stops");
        return;
    }
    let mut stream = (0u64..).flat_map(epoch_batches);
    let mut window_start = Instant::now();
    let mut window_examples = 0u64;
    let mut next = stream.next();
    let mut pending = prefetch(&shared, &client, next.as_ref());
    while let (Some(batch), Some(features)) = (next.take(), pending.take()) {
        let step = lock(&shared.stats).step;
        if *shutdown.borrow() || (settings.steps > 0 && step >= settings.steps) {
            features.abort();
            return;
        }
        let (features, answered) = match features.await {
            Ok(g) => g,
            Err(e) => {
                tracing::warn!(error = %e, "peer fetch task failed; using zeros");
                let n = batch.len();
                let k = lock(&shared.peers).health.len();
                (
                    (0..k).map(|_| zeros(n, shared.out_dim)).collect(),
                    vec![None; k],
                )
            }
        };
        next = stream.next();
        pending = prefetch(&shared, &client, next.as_ref());
        let words = batch.words.clone();
        let n = batch.len();
        match model_step(&shared, batch, features).await {
            Ok(out) => {
                lock(&shared.attribution).update(&out.importance);
                scatter(&shared, &client, &words, answered, out.grads);
                shared.record_step(out.loss, n);
                window_examples += n as u64;
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
                        loss = format!("{:.4}", out.loss),
                        examples_per_sec = format!("{rate:.0}"),
                        attribution = ?attr.iter().map(|a| format!("{a:.3}")).collect::<Vec<_>>(),
                        "training"
                    );
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "training step failed; skipping batch");
                lock(&shared.stats).failed_steps += 1;
            }
        }
    }
}
