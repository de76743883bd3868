//! A plain local skip-gram (word2vec-style: input table, context table, negative sampling, no
//! hidden layer, no peer slots): the baseline the peer-aware model's throughput is compared to.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tch::{Kind, Tensor};

use super::adam::{Adam, Rows};
use super::{loss, validate, ModelConfig, ModelError};
use crate::corpus::Batch;

/// Word2vec skip-gram with `out_dim`-wide embeddings, trained with the same loss and optimiser.
pub struct PlainSkipGram {
    cfg: ModelConfig,
    emb: Tensor,
    context: Tensor,
    adam: Adam,
    rng: ChaCha8Rng,
}

impl PlainSkipGram {
    /// A freshly initialised baseline (uses `vocab`, `out_dim`, `negatives`, `lr`, `seed`).
    pub fn new(cfg: &ModelConfig) -> Result<PlainSkipGram, ModelError> {
        cfg.validate()?;
        tch::manual_seed(cfg.seed as i64);
        let opts = (Kind::Float, tch::Device::Cpu);
        let emb = Tensor::f_randn([cfg.vocab, cfg.out_dim], opts)?.f_mul_scalar(0.5)?;
        let context = Tensor::f_randn([cfg.vocab, cfg.out_dim], opts)?.f_mul_scalar(0.1)?;
        let adam = Adam::new(&[&emb, &context])?;
        Ok(PlainSkipGram {
            cfg: cfg.clone(),
            emb,
            context,
            adam,
            rng: ChaCha8Rng::seed_from_u64(cfg.seed ^ 0x9e37_79b9_7f4a_7c15),
        })
    }

    /// One Adam step on the batch's skip-gram loss; returns the loss before the update.
    pub fn train_step(&mut self, batch: &Batch) -> Result<f64, ModelError> {
        validate::batch(batch, self.cfg.vocab)?;
        let words = Tensor::from_slice(&batch.words);
        let hidden = loss::leaf_rows(&self.emb, &words)?;
        let (ctx_ids, ctx) = loss::sampled_context(
            &mut self.rng,
            &self.context,
            &batch.targets,
            self.cfg.negatives,
            self.cfg.vocab,
        )?;
        let loss = loss::skipgram_loss(&hidden, &ctx, self.cfg.negatives)?;
        let value = loss::finite_value(&loss)?;
        let grads = Tensor::f_run_backward(&[&loss], &[&hidden, &ctx], false, false)?;
        let [g_emb, g_ctx]: [Tensor; 2] = grads
            .try_into()
            .map_err(|_| ModelError::Tch("missing gradient".into()))?;
        let (lr, bc) = (self.cfg.lr, self.adam.begin());
        let word_rows = Rows::of(&batch.words);
        let ctx_rows = Rows::of(&ctx_ids);
        let g_emb = word_rows.sum(&g_emb)?;
        let g_ctx = ctx_rows.sum(&g_ctx)?;
        self.adam
            .rows(0, &mut self.emb, &word_rows, &g_emb, lr, bc)?;
        self.adam
            .rows(1, &mut self.context, &ctx_rows, &g_ctx, lr, bc)?;
        Ok(value)
    }

    /// The embedding table `[vocab, out_dim]`, for evaluation.
    pub fn embeddings(&self) -> Tensor {
        self.emb.detach().copy()
    }
}
