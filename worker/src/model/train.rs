//! One training step on a batch of (word, target) pairs with the peers' embeddings as inputs:
//! loss, Adam update, gradients to send back upstream, and per-input importance.

use tch::Tensor;

use super::adam::Rows;
use super::{importance, loss, validate, Model, ModelError};
use crate::corpus::Batch;

/// Result of [`Model::train_step`].
#[derive(Debug)]
pub struct StepOutput {
    /// Mean skip-gram negative-sampling loss of the batch (before the update).
    pub loss: f64,
    /// d loss / d peer input, `[n, out_dim]` per peer: sent back upstream as remote gradients.
    pub peer_grads: Vec<Tensor>,
    /// Fisher-information importance per input, self first then the k peers (len k + 1),
    /// non-negative and finite: the raw material of on-chain attributions.
    pub importance: Vec<f64>,
}

impl Model {
    /// Trains on `batch` with `peers` (k tensors `[n, out_dim]`, zeros for a dead peer) as the
    /// upstream inputs; refuses bad shapes or non-finite peer data with a typed error.
    pub fn train_step(
        &mut self,
        batch: &Batch,
        peers: &[Tensor],
    ) -> Result<StepOutput, ModelError> {
        validate::batch(batch, self.cfg.vocab)?;
        let n = batch.words.len() as i64;
        validate::peers(peers, self.cfg.peers, n, self.cfg.out_dim)?;
        let words = Tensor::from_slice(&batch.words);

        // Leaf copies of the rows and inputs used, so their gradients are exposed: for the lazy
        // row updates, the importance estimate and the gradients sent upstream.
        let local = loss::leaf_rows(&self.emb, &words)?;
        let peer_in = peers
            .iter()
            .map(|p| p.f_detach()?.f_set_requires_grad(true))
            .collect::<Result<Vec<_>, _>>()?;
        let (ctx_ids, ctx) = loss::sampled_context(
            &mut self.rng,
            &self.context,
            &batch.targets,
            self.cfg.negatives,
            self.cfg.vocab,
        )?;

        let hidden = self.hidden(&local, &peer_in)?;
        let loss = loss::skipgram_loss(&hidden, &ctx, self.cfg.negatives)?;
        let loss_value = loss::finite_value(&loss)?;

        let mut inputs: Vec<&Tensor> = vec![&self.weight, &self.bias, &ctx, &local];
        inputs.extend(peer_in.iter());
        let mut grads = Tensor::f_run_backward(&[&loss], &inputs, false, false)?.into_iter();
        let mut next = || {
            grads
                .next()
                .ok_or_else(|| ModelError::Tch("missing gradient".into()))
        };
        let (g_weight, g_bias, g_ctx, g_local) = (next()?, next()?, next()?, next()?);
        let peer_grads: Vec<Tensor> = (0..peers.len()).map(|_| next()).collect::<Result<_, _>>()?;

        let mut importance = vec![importance::fisher(&local, &g_local)?];
        for (x, g) in peer_in.iter().zip(&peer_grads) {
            importance.push(importance::fisher(x, g)?);
        }

        let (lr, bc) = (self.cfg.lr, self.adam.begin());
        let word_rows = Rows::of(&batch.words);
        let ctx_rows = Rows::of(&ctx_ids);
        let g_emb = word_rows.sum(&g_local)?;
        let g_context = ctx_rows.sum(&g_ctx)?;
        self.adam
            .rows(0, &mut self.emb, &word_rows, &g_emb, lr, bc)?;
        self.adam.dense(1, &mut self.weight, &g_weight, lr, bc)?;
        self.adam.dense(2, &mut self.bias, &g_bias, lr, bc)?;
        self.adam
            .rows(3, &mut self.context, &ctx_rows, &g_context, lr, bc)?;
        self.remember_peers(&words, &peer_in)?;
        Ok(StepOutput {
            loss: loss_value,
            peer_grads,
            importance,
        })
    }

    /// Stores the peers' inputs for these words, so `serve` reflects the latest peer knowledge.
    fn remember_peers(&mut self, words: &Tensor, peers: &[Tensor]) -> Result<(), ModelError> {
        let _guard = tch::no_grad_guard();
        for (j, p) in peers.iter().enumerate() {
            let mut slot = self.cache.f_select(0, j as i64)?;
            let _ = slot.f_index_copy_(0, words, &p.f_detach()?)?;
        }
        Ok(())
    }
}
