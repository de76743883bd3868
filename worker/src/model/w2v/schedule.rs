//! A training run: the corpus is cut into chunks of [`CHUNK_WORDS`] tokens (gensim's
//! sentence limit; a window never crosses a chunk), each chunk is subsampled afresh every
//! epoch, and the rate decays linearly with the raw words done over all epochs.

use std::time::Instant;

use super::peered::{ChunkPlan, PeerW2v};
use super::sampling::{Lcg, Subsampler};
use super::{W2vParams, Word2Vec};
use crate::model::ModelError;

/// Tokens per chunk (gensim's `MAX_WORDS_IN_BATCH`).
pub const CHUNK_WORDS: usize = 10_000;

/// The corpus's chunks.
pub fn chunks(ids: &[i64]) -> std::slice::Chunks<'_, i64> {
    ids.chunks(CHUNK_WORDS)
}

/// What a training run did.
#[derive(Debug, Clone, PartialEq)]
pub struct FitReport {
    /// Raw corpus tokens processed (tokens x epochs, before subsampling).
    pub words: u64,
    /// (word, context) pairs trained.
    pub pairs: u64,
    /// Wall-clock seconds of training.
    pub seconds: f64,
    /// CPU seconds of this process during training (all its threads): the fair figure on a
    /// loaded machine.
    pub cpu_seconds: f64,
    /// Mean loss per pair in the last epoch.
    pub last_epoch_loss: f64,
}

impl FitReport {
    /// Raw words per second, the figure gensim and fastText report.
    pub fn words_per_sec(&self) -> f64 {
        self.words as f64 / self.seconds.max(1e-9)
    }

    /// Raw words per CPU second.
    pub fn words_per_cpu_sec(&self) -> f64 {
        self.words as f64 / self.cpu_seconds.max(1e-9)
    }
}

fn log_epoch(epoch: usize, epochs: usize, loss: f64, pairs: u64, start: Instant, words: u64) {
    tracing::info!(
        epoch = epoch + 1,
        epochs,
        loss_per_pair = format!("{:.4}", loss / pairs.max(1) as f64),
        words_per_sec = format!(
            "{:.0}",
            words as f64 / start.elapsed().as_secs_f64().max(1e-9)
        ),
        "epoch done"
    );
}

/// One planned chunk: its subsampled words and the rate to train them at.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    /// The subsampled word ids of the chunk, in text order.
    pub sentence: Vec<u32>,
    /// The learning rate for this chunk (linear decay over all epochs' raw words).
    pub alpha: f32,
    /// Raw tokens of the chunk (before subsampling).
    pub words: u64,
    /// The epoch the chunk belongs to (0-based).
    pub epoch: usize,
    /// Whether this chunk ends an epoch.
    pub ends_epoch: bool,
}

/// The chunk sequence of a run: each epoch cuts the corpus into chunks of `chunk_words`
/// tokens, subsamples each afresh, and gives it the rate at its place in the linear
/// schedule over `params.epochs` epochs. Past the last epoch it keeps cycling at
/// `min_alpha` (a running node trains until stopped). The one place this rule lives: the
/// plain trainer, the peer-aware trainer and the running node all take their chunks here.
pub struct Planner<'a> {
    ids: &'a [i64],
    chunk_words: usize,
    params: W2vParams,
    sub: Subsampler,
    rng: Lcg,
    /// Chunks planned so far.
    done: u64,
    words: u64,
}

impl<'a> Planner<'a> {
    /// A planner over `ids` with per-id `counts` (for subsampling); its own generator is
    /// seeded from `params.seed`.
    pub fn new(
        ids: &'a [i64],
        counts: &[u64],
        params: &W2vParams,
        chunk_words: usize,
    ) -> Result<Planner<'a>, ModelError> {
        params.validate()?;
        if chunk_words == 0 {
            return Err(ModelError::Config("chunk_words must be at least 1".into()));
        }
        Ok(Planner {
            ids,
            chunk_words,
            params: params.clone(),
            sub: Subsampler::new(counts, params.sample),
            rng: Lcg::new(params.seed.wrapping_add(1)),
            done: 0,
            words: 0,
        })
    }

    /// Chunks per epoch.
    pub fn chunks_per_epoch(&self) -> u64 {
        self.ids.len().div_ceil(self.chunk_words) as u64
    }

    /// Chunks in the scheduled epochs (after them the rate stays at `min_alpha`).
    pub fn scheduled_chunks(&self) -> u64 {
        self.chunks_per_epoch() * self.params.epochs as u64
    }

    /// Chunks planned so far.
    pub fn position(&self) -> u64 {
        self.done
    }

    /// Moves to chunk `n` of the sequence without training it (a resumed node continues its
    /// schedule where its checkpoint was).
    pub fn skip_to(&mut self, n: u64) {
        let per = self.chunks_per_epoch().max(1);
        let whole = n / per;
        let rest = (n % per) as usize;
        let partial = self.ids.len().min(rest * self.chunk_words) as u64;
        self.words = whole * self.ids.len() as u64 + partial;
        self.done = n;
    }

    /// The next chunk (None only for an empty corpus).
    pub fn next_chunk(&mut self) -> Option<Planned> {
        let per = self.chunks_per_epoch();
        if per == 0 {
            return None;
        }
        let index = (self.done % per) as usize;
        let epoch = (self.done / per) as usize;
        let start = index * self.chunk_words;
        let chunk = &self.ids[start..(start + self.chunk_words).min(self.ids.len())];
        let total = (self.ids.len() * self.params.epochs).max(1) as f64;
        let alpha = self.params.alpha_at(self.words as f64 / total);
        let mut sentence = Vec::with_capacity(chunk.len());
        self.sub.filter(chunk, &mut self.rng, &mut sentence);
        self.done += 1;
        self.words += chunk.len() as u64;
        Some(Planned {
            sentence,
            alpha,
            words: chunk.len() as u64,
            epoch,
            ends_epoch: index + 1 == per as usize,
        })
    }
}

/// The epoch loop both trainers share: the chunks of a [`Planner`] over the scheduled
/// epochs and the per-epoch log; `step` trains one subsampled chunk at the given rate and
/// returns its `(pairs, loss)`.
fn run_epochs(
    ids: &[i64],
    counts: &[u64],
    params: &W2vParams,
    mut step: impl FnMut(&[u32], f32, &mut Lcg) -> Result<(u64, f64), ModelError>,
) -> Result<FitReport, ModelError> {
    let mut planner = Planner::new(ids, counts, params, CHUNK_WORDS)?;
    let mut rng = Lcg::new(params.seed.wrapping_add(2));
    let (mut words, mut pairs, mut last_loss, mut last_pairs) = (0u64, 0u64, 0f64, 0u64);
    let (mut loss, mut epoch_pairs) = (0f64, 0u64);
    let start = Instant::now();
    let cpu = cpu_time::ProcessTime::now();
    for _ in 0..planner.scheduled_chunks() {
        let Some(chunk) = planner.next_chunk() else {
            break;
        };
        let (p, l) = step(&chunk.sentence, chunk.alpha, &mut rng)?;
        epoch_pairs += p;
        loss += l;
        words += chunk.words;
        if chunk.ends_epoch {
            pairs += epoch_pairs;
            (last_loss, last_pairs) = (loss, epoch_pairs);
            log_epoch(chunk.epoch, params.epochs, loss, epoch_pairs, start, words);
            (loss, epoch_pairs) = (0.0, 0);
        }
    }
    Ok(FitReport {
        words,
        pairs,
        seconds: start.elapsed().as_secs_f64(),
        cpu_seconds: cpu.elapsed().as_secs_f64(),
        last_epoch_loss: last_loss / last_pairs.max(1) as f64,
    })
}

/// Trains the plain model on `ids` (a tokenised corpus; `<unk>` tokens are skipped) with
/// per-id `counts` for subsampling, on one thread (see [`super::fit_with`] for more).
pub fn fit(
    model: &mut Word2Vec,
    ids: &[i64],
    counts: &[u64],
    params: &W2vParams,
) -> Result<FitReport, ModelError> {
    super::fit_with(model, ids, counts, params, super::FitOptions::default())
}

/// Where a peer-aware model gets its upstream peers' vectors and sends their gradients.
pub trait PeerSource {
    /// Peer `slot`'s served vectors of `ids` (`[ids * dim]`), None if it does not answer.
    fn forward(&mut self, slot: usize, ids: &[i64]) -> Option<Vec<f32>>;
    /// Sends peer `slot` the loss gradient on what it served for `ids`, at rate `alpha`.
    fn backward(&mut self, slot: usize, ids: &[i64], grad: &[f32], alpha: f32);
}

/// Trains the peer-aware model on `ids` with its peers from `source` (one forward per peer
/// and chunk, for the chunk's distinct words; one backward per answering peer).
pub fn fit_peered(
    model: &mut PeerW2v,
    ids: &[i64],
    counts: &[u64],
    params: &W2vParams,
    source: &mut dyn PeerSource,
) -> Result<FitReport, ModelError> {
    run_epochs(ids, counts, params, |sentence, alpha, rng| {
        let plan = ChunkPlan::new(sentence.to_vec());
        let wire = plan.ids();
        let fetched: Vec<Option<Vec<f32>>> =
            (0..model.peers).map(|j| source.forward(j, &wire)).collect();
        let views: Vec<Option<&[f32]>> = fetched.iter().map(|f| f.as_deref()).collect();
        let out = model.train_chunk(&plan, &views, alpha, rng)?;
        for (j, g) in out.peer_grads.iter().enumerate() {
            if let Some(g) = g {
                source.backward(j, &wire, g, alpha);
            }
        }
        Ok((out.pairs, out.loss))
    })
}
