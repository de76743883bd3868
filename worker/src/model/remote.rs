//! Learning from downstream: a peer that used this node's served embeddings sends back the
//! gradient of its loss with respect to them; this node backpropagates it through its own
//! serving path (hidden layer and local embeddings) and takes a clipped SGD step.

use tch::Tensor;

use super::{validate, Model, ModelError};

/// Largest global L2 norm of a remote-gradient update (before `lr * scale`): one misbehaving
/// downstream peer cannot blow up this node's parameters.
pub const MAX_REMOTE_GRAD_NORM: f64 = 1.0;

impl Model {
    /// Applies a downstream gradient `grad` (`[n, out_dim]`, on the embeddings `serve(words)`
    /// returned) with an SGD step of rate `cfg.lr * scale`, after clipping its norm.
    pub fn apply_remote_grad(
        &mut self,
        words: &[i64],
        grad: &Tensor,
        scale: f64,
    ) -> Result<(), ModelError> {
        validate::ids(words, self.cfg.vocab)?;
        validate::tensor(
            grad,
            "remote gradient",
            &[words.len() as i64, self.cfg.out_dim],
        )?;
        if !(scale.is_finite() && scale >= 0.0) {
            return Err(ModelError::NotFinite {
                what: format!("remote gradient scale {scale}"),
            });
        }
        if scale == 0.0 {
            return Ok(());
        }
        let ids = Tensor::from_slice(words);
        let (local, peers) = {
            let _guard = tch::no_grad_guard();
            (self.emb.f_index_select(0, &ids)?, self.cached_peers(&ids)?)
        };
        let local = local.f_set_requires_grad(true)?;
        let hidden = self.hidden(&local, &peers)?;
        let surrogate = hidden.f_mul(grad)?.f_sum(None)?;
        let grads = Tensor::f_run_backward(
            &[&surrogate],
            &[&self.weight, &self.bias, &local],
            false,
            false,
        )?;
        let [g_weight, g_bias, g_local]: [Tensor; 3] = grads
            .try_into()
            .map_err(|_| ModelError::Tch("missing gradient".into()))?;

        let _guard = tch::no_grad_guard();
        let mut norm_sq = 0.0;
        for g in [&g_weight, &g_bias, &g_local] {
            norm_sq += g.f_square()?.f_sum(None)?.f_double_value(&[])?;
        }
        let norm = norm_sq.sqrt();
        if !norm.is_finite() {
            return Err(ModelError::NotFinite {
                what: "remote gradient update".into(),
            });
        }
        let clip = if norm > MAX_REMOTE_GRAD_NORM {
            MAX_REMOTE_GRAD_NORM / norm
        } else {
            1.0
        };
        let rate = self.cfg.lr * scale * clip;
        let _ = self.weight.f_sub_(&g_weight.f_mul_scalar(rate)?)?;
        let _ = self.bias.f_sub_(&g_bias.f_mul_scalar(rate)?)?;
        let _ = self
            .emb
            .f_index_add_(0, &ids, &g_local.f_mul_scalar(-rate)?)?;
        Ok(())
    }
}
