//! A training run: the corpus is cut into chunks of [`CHUNK_WORDS`] tokens (gensim's
//! sentence limit; a window never crosses a chunk), each chunk is subsampled afresh every
//! epoch, and the rate decays linearly with the raw words done over all epochs.

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
    /// CPU seconds of the training threads (all of them): the fair figure on a loaded
    /// machine, whatever else the process runs.
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
/// plain trainer and the running node take their chunks here.
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
