//! One training step on a batch of (word, target) pairs with the peers' embeddings as inputs:
//! loss, Adam update, gradients to send back upstream, and per-input importance.

use tch::Tensor;

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
        let targets = Tensor::from_slice(&batch.targets);

        // Leaf copies of the inputs, so their gradients (for importance and upstream) are exposed.
        let local = {
            let _guard = tch::no_grad_guard();
            self.emb.f_index_select(0, &words)?
        }
        .f_set_requires_grad(true)?;
        let peer_in = peers
            .iter()
            .map(|p| p.f_detach()?.f_set_requires_grad(true))
            .collect::<Result<Vec<_>, _>>()?;

        let hidden = self.hidden(&local, &peer_in)?;
        let negs = loss::sample_negatives(
            &mut self.rng,
            batch.len(),
            self.cfg.negatives,
            self.cfg.vocab,
        );
        let loss =
            loss::skipgram_loss(&hidden, &self.context, &targets, &negs, self.cfg.negatives)?;
        let loss_value = loss.f_double_value(&[])?;
        if !loss_value.is_finite() {
            return Err(ModelError::NotFinite {
                what: "training loss".into(),
            });
        }

        let mut inputs: Vec<&Tensor> = vec![&self.weight, &self.bias, &self.context, &local];
        inputs.extend(peer_in.iter());
        let mut grads = Tensor::f_run_backward(&[&loss], &inputs, false, false)?.into_iter();
        let mut next = || {
            grads
                .next()
                .ok_or_else(|| ModelError::Tch("missing gradient".into()))
        };
        let (g_weight, g_bias, g_context, g_local) = (next()?, next()?, next()?, next()?);
        let peer_grads: Vec<Tensor> = (0..peers.len()).map(|_| next()).collect::<Result<_, _>>()?;

        let mut importance = vec![importance::fisher(&local, &g_local)?];
        for (x, g) in peer_in.iter().zip(&peer_grads) {
            importance.push(importance::fisher(x, g)?);
        }

        let g_emb = {
            let _guard = tch::no_grad_guard();
            self.emb.f_zeros_like()?.f_index_add(0, &words, &g_local)?
        };
        self.adam.step(
            &mut [
                &mut self.emb,
                &mut self.weight,
                &mut self.bias,
                &mut self.context,
            ],
            &[g_emb, g_weight, g_bias, g_context],
            self.cfg.lr,
        )?;
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
