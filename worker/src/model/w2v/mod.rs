//! Word2vec as word2vec.c and gensim train it, in plain Rust on `f32` slices: skip-gram with
//! negative sampling from the unigram^0.75 table, frequent-word subsampling, a symmetric
//! window shrunk at random per position, a learning rate decaying linearly over all epochs.
//!
//! - [`W2vParams`]: the hyper-parameters and their defaults (defined once, here).
//! - [`Word2Vec`]: the plain model (one set of negatives per window, or word2vec.c's per-pair
//!   update: [`Update`]); [`fit_with`] trains it on several threads, lock-free.
//! - [`Planner`], [`fit`], [`train_round`]: epochs, chunking and the learning-rate schedule
//!   (a node trains round by round between its exchanges).
//! - [`SparseUpdate`], [`apply_update`]: the exchange that keeps every node in one space;
//!   [`Compressor`]: what of its own change a node sends each round (error feedback).
//! - [`value`]: what each round's inputs are worth on held-out text.
//! - [`SavedW2v`]: a model and its vocabulary on disk (checkpoints, export).
//! - [`f16`]: half precision both ways in one pass (what nodes send and receive).
//! - [`simd`]: the vector kernels, picked at run time; [`HogwildRows`]: rows shared by the
//!   training threads without locks.

mod compress;
pub mod f16;
mod hogwild;
pub mod int8;
mod math;
mod params;
mod plain;
mod sampling;
mod saved;
mod schedule;
mod shared_space;
pub mod simd;
mod sparse_update;
mod threads;
pub mod value;

#[cfg(test)]
mod tests;

pub use compress::{Compression, Compressor, Precision, DEFAULT_PRECISION, DEFAULT_TOP_FRACTION};
pub use hogwild::HogwildRows;
pub use math::dot;
pub use params::W2vParams;
pub use plain::{Update, Word2Vec};
pub use sampling::{Lcg, NegativeTable, Subsampler};
pub use saved::SavedW2v;
pub use schedule::{chunks, fit, FitReport, Planned, Planner, CHUNK_WORDS};
pub use shared_space::{
    admit, apply_update, apply_update_known, delta_since, train_exchanging, Applied,
    ExchangeSettings, ExchangeStats, UpdateBound, DEFAULT_MAX_ROW_NORM,
};
pub use sparse_update::SparseUpdate;
pub use threads::{fit_with, machine_threads, train_round, FitOptions, RoundReport};
pub use value::{
    overlap_cosine, taylor, CopyOf, HeldOut, Valuation, Valuer, COPY_COSINE, COPY_OVERLAP, SKETCH,
};
