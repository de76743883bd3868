//! Training throughput (pairs per second) of the peer-aware model with and without peer inputs,
//! against a plain local skip-gram, measured in-process on random batches.

use std::fmt;
use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tch::{Kind, Tensor};

use crate::corpus::Batch;
use crate::model::{Model, ModelConfig, ModelError, PlainSkipGram};

const WARMUP_STEPS: usize = 3;

fn random_batch(rng: &mut ChaCha8Rng, vocab: i64, n: usize) -> Batch {
    let lo = if vocab > 1 { 1 } else { 0 };
    Batch {
        words: (0..n).map(|_| rng.gen_range(lo..vocab)).collect(),
        targets: (0..n).map(|_| rng.gen_range(lo..vocab)).collect(),
    }
}

fn check(steps: usize, batch: usize) -> Result<(), ModelError> {
    if steps == 0 || batch == 0 {
        return Err(ModelError::Config(
            "steps and batch must be positive".into(),
        ));
    }
    Ok(())
}

/// Pairs per second of `Model::train_step` with `with_peers` peer inputs (random tanh-range
/// tensors standing in for peers' embeddings), over `steps` steps of `batch` pairs.
pub fn throughput(
    cfg: &ModelConfig,
    with_peers: usize,
    steps: usize,
    batch: usize,
) -> Result<f64, ModelError> {
    check(steps, batch)?;
    let cfg = ModelConfig {
        peers: with_peers,
        ..cfg.clone()
    };
    let mut model = Model::new(&cfg)?;
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let peers: Vec<Tensor> = (0..with_peers)
        .map(|_| {
            Ok(
                Tensor::f_randn([batch as i64, cfg.out_dim], (Kind::Float, tch::Device::Cpu))?
                    .f_tanh()?,
            )
        })
        .collect::<Result<_, ModelError>>()?;
    let batches: Vec<Batch> = (0..steps + WARMUP_STEPS)
        .map(|_| random_batch(&mut rng, cfg.vocab, batch))
        .collect();
    for b in &batches[..WARMUP_STEPS] {
        model.train_step(b, &peers)?;
    }
    let start = Instant::now();
    for b in &batches[WARMUP_STEPS..] {
        model.train_step(b, &peers)?;
    }
    Ok((steps * batch) as f64 / start.elapsed().as_secs_f64().max(1e-9))
}

/// Pairs per second of the plain local skip-gram baseline ([`PlainSkipGram`]).
pub fn throughput_plain(cfg: &ModelConfig, steps: usize, batch: usize) -> Result<f64, ModelError> {
    check(steps, batch)?;
    let mut model = PlainSkipGram::new(cfg)?;
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let batches: Vec<Batch> = (0..steps + WARMUP_STEPS)
        .map(|_| random_batch(&mut rng, cfg.vocab, batch))
        .collect();
    for b in &batches[..WARMUP_STEPS] {
        model.train_step(b)?;
    }
    let start = Instant::now();
    for b in &batches[WARMUP_STEPS..] {
        model.train_step(b)?;
    }
    Ok((steps * batch) as f64 / start.elapsed().as_secs_f64().max(1e-9))
}

/// The three throughputs side by side (pairs per second).
#[derive(Debug, Clone, PartialEq)]
pub struct ThroughputReport {
    /// Model configuration measured (its `peers` is overridden per row).
    pub config: ModelConfig,
    /// Steps timed per row.
    pub steps: usize,
    /// Pairs per batch.
    pub batch: usize,
    /// Plain local skip-gram.
    pub plain: f64,
    /// Peer-aware model with no peer slots.
    pub alone: f64,
    /// Peer-aware model with `config.peers` peer inputs.
    pub with_peers: f64,
}

impl fmt::Display for ThroughputReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.config;
        writeln!(
            f,
            "train_step throughput (vocab {}, embed {}, out {}, {} negatives, batch {}, {} steps):",
            c.vocab, c.embed_dim, c.out_dim, c.negatives, self.batch, self.steps
        )?;
        writeln!(
            f,
            "  plain skip-gram:      {:>10.0} pairs/s  (1.00x)",
            self.plain
        )?;
        writeln!(
            f,
            "  model, no peers:      {:>10.0} pairs/s  ({:.2}x plain)",
            self.alone,
            self.alone / self.plain.max(1e-9)
        )?;
        write!(
            f,
            "  model, {} peers:       {:>10.0} pairs/s  ({:.2}x plain, {:.2}x no peers)",
            c.peers,
            self.with_peers,
            self.with_peers / self.plain.max(1e-9),
            self.with_peers / self.alone.max(1e-9)
        )
    }
}

/// Measures the plain baseline, the model without peers and with `cfg.peers` peers.
pub fn throughput_report(
    cfg: &ModelConfig,
    steps: usize,
    batch: usize,
) -> Result<ThroughputReport, ModelError> {
    Ok(ThroughputReport {
        config: cfg.clone(),
        steps,
        batch,
        plain: throughput_plain(cfg, steps, batch)?,
        alone: throughput(cfg, 0, steps, batch)?,
        with_peers: throughput(cfg, cfg.peers, steps, batch)?,
    })
}
