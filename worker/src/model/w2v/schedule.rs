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

/// The epoch loop both trainers share: the linear learning-rate schedule over all epochs,
/// subsampling, chunking and the per-epoch log; `step` trains one subsampled chunk at the
/// given rate and returns its `(pairs, loss)`.
fn run_epochs(
    ids: &[i64],
    counts: &[u64],
    params: &W2vParams,
    mut step: impl FnMut(&[u32], f32, &mut Lcg) -> Result<(u64, f64), ModelError>,
) -> Result<FitReport, ModelError> {
    params.validate()?;
    let sub = Subsampler::new(counts, params.sample);
    let mut rng = Lcg::new(params.seed.wrapping_add(1));
    let total = (ids.len() * params.epochs).max(1) as f64;
    let (mut words, mut pairs, mut last_loss, mut last_pairs) = (0u64, 0u64, 0f64, 0u64);
    let mut sentence = Vec::with_capacity(CHUNK_WORDS);
    let start = Instant::now();
    let cpu = cpu_time::ProcessTime::now();
    for epoch in 0..params.epochs {
        let (mut loss, mut epoch_pairs) = (0f64, 0u64);
        for chunk in chunks(ids) {
            let alpha = params.alpha_at(words as f64 / total);
            sub.filter(chunk, &mut rng, &mut sentence);
            let (p, l) = step(&sentence, alpha, &mut rng)?;
            epoch_pairs += p;
            loss += l;
            words += chunk.len() as u64;
        }
        pairs += epoch_pairs;
        (last_loss, last_pairs) = (loss, epoch_pairs);
        log_epoch(epoch, params.epochs, loss, epoch_pairs, start, words);
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
/// per-id `counts` for subsampling.
pub fn fit(
    model: &mut Word2Vec,
    ids: &[i64],
    counts: &[u64],
    params: &W2vParams,
) -> Result<FitReport, ModelError> {
    run_epochs(ids, counts, params, |sentence, alpha, rng| {
        Ok(model.train_sentence(sentence, alpha, rng))
    })
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
