//! The experiment behind the project's claim: a node whose inputs include the embeddings served
//! by peers trained on other shards learns better embeddings than the same node alone.
//!
//! Setup (in-process, no network): a synthetic corpus is split into `shards` equal shards.
//! One model per other shard is trained alone; then two models of identical size, seed and
//! batches train on shard 0: (a) with its k peer inputs fed zeros (dead peers), (b) fed the
//! served embeddings of the k peer models. Both are scored by [`neighbour_score`] on the
//! output embedding of every word (for (b) computed with the peers' embeddings as inputs).

use std::fmt;

use tch::{Kind, Tensor};

use super::neighbour_score;
use crate::corpus::{Corpus, SyntheticSpec, NO_CLASS};
use crate::model::{Model, ModelConfig, ModelError};

/// Settings of [`quality_experiment`].
#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentConfig {
    /// Seed of the corpus, initialisation and batch order.
    pub seed: u64,
    /// Tokens of the generated corpus, split into `shards` equal shards.
    pub corpus_tokens: usize,
    /// Shards: one for the node under test and one per peer (so k = shards - 1).
    pub shards: usize,
    /// Training steps for every model.
    pub steps: usize,
    /// Pairs per batch.
    pub batch: usize,
    /// Skip-gram window (targets are the next `window` words).
    pub window: usize,
    /// Local embedding size.
    pub embed_dim: i64,
    /// Output (served) embedding size.
    pub out_dim: i64,
    /// Negative samples per pair.
    pub negatives: i64,
    /// Adam learning rate.
    pub lr: f64,
    /// Neighbours per word in the score.
    pub neighbours: usize,
}

impl Default for ExperimentConfig {
    fn default() -> Self {
        let m = ModelConfig::default();
        ExperimentConfig {
            seed: 7,
            corpus_tokens: 40_000,
            shards: 4,
            steps: 400,
            batch: crate::model::DEFAULT_BATCH,
            window: crate::model::DEFAULT_WINDOW,
            embed_dim: m.embed_dim,
            out_dim: m.out_dim,
            negatives: m.negatives,
            lr: m.lr,
            neighbours: 5,
        }
    }
}

/// Scores of the experiment (fractions of same-class neighbours; higher is better).
#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentReport {
    /// The settings used.
    pub config: ExperimentConfig,
    /// Tokens in each shard.
    pub shard_tokens: usize,
    /// Score expected from random embeddings.
    pub chance: f64,
    /// The node trained alone (peer inputs zero).
    pub alone: f64,
    /// The same node trained with its peers' served embeddings as inputs.
    pub with_peers: f64,
    /// Each peer's own score (trained alone on its shard).
    pub peers: Vec<f64>,
    /// Mean loss over the last tenth of training, alone and with peers.
    pub final_loss: (f64, f64),
    /// Mean importance (self first, then each peer) over the last tenth of the with-peers run:
    /// the attributions this node would post for its peers.
    pub importance: Vec<f64>,
}

impl ExperimentReport {
    /// True when the peers improved the node's embeddings.
    pub fn peers_help(&self) -> bool {
        self.with_peers > self.alone
    }
}

impl fmt::Display for ExperimentReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.config;
        writeln!(
            f,
            "quality experiment: {} shards of {} tokens, {} steps x {} pairs, seed {}",
            c.shards, self.shard_tokens, c.steps, c.batch, c.seed
        )?;
        writeln!(
            f,
            "neighbour score (same-class fraction of {} nearest, chance {:.3}):",
            c.neighbours, self.chance
        )?;
        writeln!(
            f,
            "  alone (peer inputs zero): {:.3}  final loss {:.3}",
            self.alone, self.final_loss.0
        )?;
        writeln!(
            f,
            "  with {} peers:            {:.3}  final loss {:.3}",
            self.peers.len(),
            self.with_peers,
            self.final_loss.1
        )?;
        let peers: Vec<String> = self.peers.iter().map(|s| format!("{s:.3}")).collect();
        writeln!(f, "  peers alone on their shards: {}", peers.join(", "))?;
        let imp: Vec<String> = self.importance.iter().map(|s| format!("{s:.4}")).collect();
        writeln!(
            f,
            "  importance with peers (self, peers...): {}",
            imp.join(", ")
        )?;
        write!(
            f,
            "  with peers / alone = {:.2}x ({})",
            self.with_peers / self.alone.max(1e-12),
            if self.peers_help() {
                "peers help"
            } else {
                "peers do NOT help"
            }
        )
    }
}

/// Peer inputs for a batch's words.
type PeerInputs<'a> = dyn Fn(&[i64]) -> Result<Vec<Tensor>, ModelError> + 'a;

/// Mean loss and mean per-input importance over the last tenth of a training run.
struct Tail {
    loss: f64,
    importance: Vec<f64>,
}

/// Trains `model` for `steps` batches of `shard` (cycling epochs), feeding `inputs(words)` as
/// peer inputs; returns the loss and importance averaged over the last tenth of the steps.
fn train(
    model: &mut Model,
    shard: &Corpus,
    cfg: &ExperimentConfig,
    inputs: &PeerInputs<'_>,
) -> Result<Tail, ModelError> {
    let tail = (cfg.steps / 10).max(1).min(cfg.steps);
    let (mut done, mut epoch) = (0usize, 0u64);
    let mut sum = Tail {
        loss: 0.0,
        importance: vec![0.0; model.config().peers + 1],
    };
    while done < cfg.steps {
        let before = done;
        for batch in shard.batches(cfg.batch, cfg.window, cfg.seed.wrapping_add(epoch)) {
            if done == cfg.steps {
                break;
            }
            let out = model.train_step(&batch, &inputs(&batch.words)?)?;
            if done + tail >= cfg.steps {
                sum.loss += out.loss;
                for (s, x) in sum.importance.iter_mut().zip(&out.importance) {
                    *s += x;
                }
            }
            done += 1;
        }
        if done == before {
            return Err(ModelError::Batch(
                "the shard yields no training pairs".into(),
            ));
        }
        epoch += 1;
    }
    let n = tail.max(1) as f64;
    Ok(Tail {
        loss: sum.loss / n,
        importance: sum.importance.iter().map(|x| x / n).collect(),
    })
}

/// Expected neighbour score of random embeddings: the mean, over classed words, of the share
/// of the other classed words that are in the same class.
pub fn chance_score(classes: &[usize]) -> f64 {
    let mut sizes = std::collections::HashMap::new();
    for &c in classes.iter().filter(|&&c| c != NO_CLASS) {
        *sizes.entry(c).or_insert(0usize) += 1;
    }
    let total: usize = sizes.values().sum();
    if total < 2 {
        return 0.0;
    }
    let same: usize = sizes.values().map(|&s| s * (s - 1)).sum();
    same as f64 / (total * (total - 1)) as f64
}

/// Runs the experiment (see the module docs) and reports both scores.
pub fn quality_experiment(cfg: &ExperimentConfig) -> Result<ExperimentReport, ModelError> {
    if cfg.shards < 2 || cfg.steps == 0 || cfg.batch == 0 {
        return Err(ModelError::Config(
            "need shards >= 2, steps >= 1, batch >= 1".into(),
        ));
    }
    let spec = SyntheticSpec::default();
    let corpus = Corpus::generate_with(&spec, cfg.seed, cfg.corpus_tokens);
    let classes = corpus
        .word_classes()
        .ok_or_else(|| ModelError::Config("generated corpus lost its classes".into()))?
        .to_vec();
    let vocab = corpus.vocab.len() as i64;
    let k = cfg.shards - 1;
    let model_cfg = |peers: usize, seed: u64| ModelConfig {
        vocab,
        embed_dim: cfg.embed_dim,
        out_dim: cfg.out_dim,
        peers,
        negatives: cfg.negatives,
        lr: cfg.lr,
        seed,
    };
    let all: Vec<i64> = (0..vocab).collect();
    let none = |_: &[i64]| -> Result<Vec<Tensor>, ModelError> { Ok(Vec::new()) };

    let mut served = Vec::with_capacity(k);
    let mut peer_scores = Vec::with_capacity(k);
    for i in 1..cfg.shards {
        let mut peer = Model::new(&model_cfg(0, cfg.seed.wrapping_add(1000 + i as u64)))?;
        train(&mut peer, &corpus.shard(i, cfg.shards), cfg, &none)?;
        let emb = peer.serve(&all)?;
        peer_scores.push(neighbour_score(&emb, &classes, cfg.neighbours));
        tracing::info!(
            peer = i,
            score = peer_scores[i - 1],
            "peer trained on its shard"
        );
        served.push(emb);
    }

    let shard = corpus.shard(0, cfg.shards);
    let zeros = |words: &[i64]| -> Result<Vec<Tensor>, ModelError> {
        let z = Tensor::f_zeros(
            [words.len() as i64, cfg.out_dim],
            (Kind::Float, tch::Device::Cpu),
        )?;
        Ok((0..k).map(|_| z.shallow_clone()).collect())
    };
    let from_peers = |words: &[i64]| -> Result<Vec<Tensor>, ModelError> {
        let ids = Tensor::from_slice(words);
        served
            .iter()
            .map(|s| Ok(s.f_index_select(0, &ids)?))
            .collect()
    };
    let mut alone = Model::new(&model_cfg(k, cfg.seed))?;
    let alone_run = train(&mut alone, &shard, cfg, &zeros)?;
    tracing::info!(loss = alone_run.loss, "node trained alone");
    let mut helped = Model::new(&model_cfg(k, cfg.seed))?;
    let helped_run = train(&mut helped, &shard, cfg, &from_peers)?;
    tracing::info!(loss = helped_run.loss, "node trained with peers");

    let alone_emb = alone.embed_with(&all, &zeros(&all)?)?;
    let helped_emb = helped.embed_with(&all, &from_peers(&all)?)?;
    Ok(ExperimentReport {
        config: cfg.clone(),
        shard_tokens: shard.ids.len(),
        chance: chance_score(&classes),
        alone: neighbour_score(&alone_emb, &classes, cfg.neighbours),
        with_peers: neighbour_score(&helped_emb, &classes, cfg.neighbours),
        peers: peer_scores,
        final_loss: (alone_run.loss, helped_run.loss),
        importance: helped_run.importance,
    })
}
