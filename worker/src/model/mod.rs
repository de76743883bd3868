//! The node's neural network (tch, CPU, f32): a skip-gram word-embedding model whose hidden
//! layer also takes the embeddings served by k upstream peers, reports the importance of each
//! input (for attributions), returns gradients for its peers and learns from its downstream
//! peers' gradients. [`eval`] measures embedding quality and training throughput.

mod adam;
pub mod baseline;
mod config;
mod error;
pub mod eval;
mod importance;
mod loss;
mod network;
mod persist;
mod plain;
mod remote;
mod train;
mod validate;
pub mod vectors;
pub mod w2v;

#[cfg(test)]
mod tests;

pub use config::{ModelConfig, DEFAULT_BATCH, DEFAULT_WINDOW};
pub use error::ModelError;
pub use eval::{neighbour_score, quality_experiment, ExperimentConfig, ExperimentReport};
pub use network::Model;
pub use plain::PlainSkipGram;
pub use remote::MAX_REMOTE_GRAD_NORM;
pub use train::StepOutput;
