//! Unit tests of the model: learning, typed errors, importance, persistence.

use tch::{Kind, Tensor};

use super::*;
use crate::corpus::{Batch, Corpus};

fn cfg(vocab: i64, peers: usize) -> ModelConfig {
    ModelConfig {
        vocab,
        embed_dim: 8,
        out_dim: 8,
        peers,
        negatives: 4,
        lr: 0.02,
        seed: 3,
    }
}

fn zeros(n: usize, e: i64, k: usize) -> Vec<Tensor> {
    (0..k)
        .map(|_| Tensor::zeros([n as i64, e], (Kind::Float, tch::Device::Cpu)))
        .collect()
}

#[test]
fn experiment_prints() {
    let r = quality_experiment(&ExperimentConfig::default()).unwrap();
    println!("{r}");
}
