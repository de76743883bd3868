//! The BitTensor worker: a node that trains word2vec embeddings on its corpus shard, using the
//! embeddings its upstream peers serve as extra inputs, serves its own output embedding to
//! downstream peers, and posts per-peer attributions to the chain as `emit` edge sets.
//!
//! - [`corpus`]: real text, text8 zips and the generated corpus, with the shared vocabulary.
//! - [`model`]: the word2vec core (plain and peer-aware, with per-input importance), vector
//!   export and evaluation, the gensim and fastText baselines.
//! - [`peer`]: the peer channel (sessions, the updates and forward kinds, compact frames).
//! - [`chain`]: subscribe/emit/unsubscribe and metagraph reads through `chain-client`.
//! - [`attribution`]: EMA of per-input importance turned into `emit` edge sets.
//! - [`config`]: the TOML configuration and its defaults.
//! - [`sync`]: the lock helper every module shares.
//! - [`node`]: a running node: training loop, chain loop and peer server together.
//! - [`experiment`]: N node processes on private shards of real text, scored against one
//!   model on all the text and the reference trainers.

pub mod attribution;
pub mod chain;
pub mod config;
pub mod corpus;
pub mod experiment;
pub mod model;
pub mod node;
pub mod peer;
pub mod sync;
