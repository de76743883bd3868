//! Per-input importance, the attribution a node posts for each upstream peer.
//!
//! Estimate: put a scalar gate `a_b` (=1) on each input block `x_b`; the empirical Fisher
//! information of that gate is `E[(dL/da_b)^2] = E[(g_b · x_b)^2]`, with `g_b` the per-example
//! gradient of the loss with respect to `x_b`. It is also the squared first-order estimate of the
//! loss change when the block is removed, so a zero (dead) peer scores exactly 0 and a peer the
//! hidden layer has learnt to ignore scores little.

use tch::Tensor;

use super::ModelError;

/// Fisher estimate for one input block: `mean_i (n * g_i · x_i)^2`, where `grad` is the
/// gradient of the batch-mean loss (hence the factor `n` for per-example gradients).
pub fn fisher(activation: &Tensor, grad: &Tensor) -> Result<f64, ModelError> {
    let n = activation.size()[0] as f64;
    let per_example = grad
        .f_mul(activation)?
        .f_sum_dim_intlist(1, false, None)?
        .f_mul_scalar(n)?;
    let value = per_example.f_square()?.f_mean(None)?.f_double_value(&[])?;
    Ok(if value.is_finite() {
        value.max(0.0)
    } else {
        0.0
    })
}
