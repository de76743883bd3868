//! The plain model trained on several threads at once, lock-free in word2vec's way: the
//! threads take the [`Planner`]'s chunks in turn (each chunk's rate is its place in the
//! schedule, as in gensim) and update the shared tables without locks ([`HogwildRows`]).
//! With one thread the run is the sequential one, bit for bit, for a given seed.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use super::plain::{Scratch, Update};
use super::sampling::Lcg;
use super::schedule::{FitReport, Planned, Planner, CHUNK_WORDS};
use super::simd::Isa;
use super::{W2vParams, Word2Vec};
use crate::model::ModelError;

/// How a plain run uses the machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FitOptions {
    /// Training threads (at least 1; 1 is deterministic for a seed).
    pub threads: usize,
    /// The update of one window.
    pub update: Update,
}

impl Default for FitOptions {
    /// One thread, the shared-negatives update.
    fn default() -> Self {
        FitOptions {
            threads: 1,
            update: Update::default(),
        }
    }
}

/// The machine's cores (the `--threads` default), 1 where they cannot be read.
pub fn machine_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// What the threads add up per epoch: loss, pairs, chunks done.
#[derive(Default, Clone, Copy)]
struct EpochSums {
    loss: f64,
    pairs: u64,
    chunks: u64,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Trains the plain model on `ids` with per-id `counts` on `opts.threads` threads.
pub fn fit_with(
    model: &mut Word2Vec,
    ids: &[i64],
    counts: &[u64],
    params: &W2vParams,
    opts: FitOptions,
) -> Result<FitReport, ModelError> {
    let threads = opts.threads.max(1);
    let planner = Planner::new(ids, counts, params, CHUNK_WORDS)?;
    let (total, per_epoch) = (planner.scheduled_chunks(), planner.chunks_per_epoch());
    let planner = Mutex::new(planner);
    let sums = Mutex::new(vec![EpochSums::default(); params.epochs]);
    let words = AtomicU64::new(0);
    let isa = Isa::best();
    let shared = model.shared();
    let (window, dim) = (params.window, params.dim);
    let next = || -> Option<Planned> {
        let mut p = lock(&planner);
        (p.position() < total).then(|| p.next_chunk()).flatten()
    };
    tracing::debug!(threads, isa = isa.name(), "training the plain core");
    let start = Instant::now();
    // The CPU of the training threads themselves (not of the process: a bench may train
    // other models beside this one).
    let cpu_nanos = AtomicU64::new(0);
    std::thread::scope(|s| {
        for t in 0..threads {
            let (shared, next, sums, words) = (&shared, &next, &sums, &words);
            let cpu_nanos = &cpu_nanos;
            s.spawn(move || {
                let cpu = cpu_time::ThreadTime::now();
                // Thread 0's generator is the sequential run's.
                let mut rng = Lcg::new(params.seed.wrapping_add(2 + t as u64));
                let mut scratch = Scratch::new(window, dim);
                while let Some(chunk) = next() {
                    let (p, l) = shared.train(
                        isa,
                        opts.update,
                        &chunk.sentence,
                        chunk.alpha,
                        &mut rng,
                        &mut scratch,
                    );
                    let done = words.fetch_add(chunk.words, Ordering::Relaxed) + chunk.words;
                    let mut sums = lock(sums);
                    let e = &mut sums[chunk.epoch.min(params.epochs - 1)];
                    e.loss += l;
                    e.pairs += p;
                    e.chunks += 1;
                    if e.chunks == per_epoch {
                        tracing::info!(
                            epoch = chunk.epoch + 1,
                            epochs = params.epochs,
                            threads,
                            loss_per_pair = format!("{:.4}", e.loss / e.pairs.max(1) as f64),
                            words_per_sec = format!(
                                "{:.0}",
                                done as f64 / start.elapsed().as_secs_f64().max(1e-9)
                            ),
                            "epoch done"
                        );
                    }
                }
                let spent = cpu.elapsed().as_nanos().min(u64::MAX as u128) as u64;
                cpu_nanos.fetch_add(spent, Ordering::Relaxed);
            });
        }
    });
    let sums = lock(&sums);
    let last = sums.last().copied().unwrap_or_default();
    Ok(FitReport {
        words: words.load(Ordering::Relaxed),
        pairs: sums.iter().map(|e| e.pairs).sum(),
        seconds: start.elapsed().as_secs_f64(),
        cpu_seconds: cpu_nanos.load(Ordering::Relaxed) as f64 * 1e-9,
        last_epoch_loss: last.loss / last.pairs.max(1) as f64,
    })
}

/// What one [`train_round`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RoundReport {
    /// Chunks trained.
    pub chunks: u64,
    /// Raw tokens of those chunks.
    pub words: u64,
    /// Training pairs.
    pub pairs: u64,
    /// Summed loss over those pairs.
    pub loss: f64,
}

/// Trains the next `chunks` chunks of `planner` (never past `until`, its position at which
/// the run ends) on one thread per generator in `rngs`, lock-free as [`fit_with`] does; a
/// node's training between two exchanges. With one generator the round runs on the calling
/// thread and is the sequential run, bit for bit.
pub fn train_round(
    model: &mut Word2Vec,
    planner: &mut Planner<'_>,
    chunks: u64,
    until: u64,
    rngs: &mut [Lcg],
    update: Update,
) -> RoundReport {
    let end = until.min(planner.position().saturating_add(chunks));
    let isa = Isa::best();
    let (window, dim) = (model.window, model.dim);
    let shared = model.shared();
    let planner = Mutex::new(planner);
    let next = || -> Option<Planned> {
        let mut p = lock(&planner);
        (p.position() < end).then(|| p.next_chunk()).flatten()
    };
    let run = |rng: &mut Lcg| -> RoundReport {
        let mut scratch = Scratch::new(window, dim);
        let mut r = RoundReport::default();
        while let Some(chunk) = next() {
            let (p, l) = shared.train(isa, update, &chunk.sentence, chunk.alpha, rng, &mut scratch);
            r.chunks += 1;
            r.words += chunk.words;
            r.pairs += p;
            r.loss += l;
        }
        r
    };
    let parts: Vec<RoundReport> = match rngs {
        [one] => vec![run(one)],
        many => std::thread::scope(|s| {
            let handles: Vec<_> = many
                .iter_mut()
                .map(|rng| {
                    let run = &run;
                    s.spawn(move || run(rng))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_default())
                .collect()
        }),
    };
    parts
        .into_iter()
        .fold(RoundReport::default(), |a, b| RoundReport {
            chunks: a.chunks + b.chunks,
            words: a.words + b.words,
            pairs: a.pairs + b.pairs,
            loss: a.loss + b.loss,
        })
}
