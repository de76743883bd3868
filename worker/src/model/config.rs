//! Model hyper-parameters, shared by the worker's CLI, the experiments and the benchmarks.

use super::ModelError;

/// Training pairs per step of the tch model (node, experiment and benchmarks).
pub const DEFAULT_BATCH: usize = 256;
/// Context window of the tch model's (word, following word) pairs.
pub const DEFAULT_WINDOW: usize = 1;

/// Sizes and training settings of one node's model.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelConfig {
    /// Vocabulary size (embedding table rows), `<unk>` included.
    pub vocab: i64,
    /// Dimension of the node's own local word embedding (d).
    pub embed_dim: i64,
    /// Dimension of the output embedding served to peers and received from them (e).
    pub out_dim: i64,
    /// Number of upstream peer inputs (k); a dead peer is fed zeros.
    pub peers: usize,
    /// Negative samples per (word, target) pair.
    pub negatives: i64,
    /// Adam learning rate of training steps; also the SGD rate of remote-gradient steps.
    pub lr: f64,
    /// Seed of parameter initialisation and negative sampling.
    pub seed: u64,
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            vocab: 501,
            embed_dim: 32,
            out_dim: 32,
            peers: 3,
            negatives: 5,
            lr: 0.05,
            seed: 1,
        }
    }
}

impl ModelConfig {
    /// Checks the sizes are usable, so construction fails with a message instead of a panic.
    pub fn validate(&self) -> Result<(), ModelError> {
        let bad = |m: &str| Err(ModelError::Config(m.to_string()));
        if self.vocab < 2 {
            return bad("vocab must be at least 2");
        }
        if self.embed_dim < 1 || self.out_dim < 1 {
            return bad("embed_dim and out_dim must be positive");
        }
        if self.negatives < 1 {
            return bad("negatives must be at least 1");
        }
        if self.peers > 1024 {
            return bad("peers must be at most 1024");
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return bad("lr must be finite and positive");
        }
        Ok(())
    }

    /// Width of the hidden layer's input: local embedding plus k peer embeddings.
    pub fn input_dim(&self) -> i64 {
        self.embed_dim + self.peers as i64 * self.out_dim
    }
}
