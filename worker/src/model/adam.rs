//! A small Adam optimiser over explicit tensors, written against the fallible tch API so a
//! training step never panics (tch's `nn::Optimizer` unwraps internally).

use tch::Tensor;

use super::ModelError;

const BETA1: f64 = 0.9;
const BETA2: f64 = 0.999;
const EPS: f64 = 1e-8;

/// First and second moment estimates for each parameter.
pub struct Adam {
    m: Vec<Tensor>,
    v: Vec<Tensor>,
    t: i32,
}

impl Adam {
    /// Zeroed moments shaped like `params`.
    pub fn new(params: &[&Tensor]) -> Result<Adam, ModelError> {
        let zeros = |p: &&Tensor| p.f_zeros_like();
        Ok(Adam {
            m: params.iter().map(zeros).collect::<Result<_, _>>()?,
            v: params.iter().map(zeros).collect::<Result<_, _>>()?,
            t: 0,
        })
    }

    /// One bias-corrected Adam update of each parameter by its gradient.
    pub fn step(
        &mut self,
        params: &mut [&mut Tensor],
        grads: &[Tensor],
        lr: f64,
    ) -> Result<(), ModelError> {
        let _guard = tch::no_grad_guard();
        self.t = self.t.saturating_add(1);
        let bc1 = 1.0 - BETA1.powi(self.t);
        let bc2 = 1.0 - BETA2.powi(self.t);
        for (i, (p, g)) in params.iter_mut().zip(grads).enumerate() {
            let m = &mut self.m[i];
            let v = &mut self.v[i];
            let _ = m.f_mul_scalar_(BETA1)?;
            let _ = m.f_add_(&g.f_mul_scalar(1.0 - BETA1)?)?;
            let _ = v.f_mul_scalar_(BETA2)?;
            let _ = v.f_add_(&g.f_square()?.f_mul_scalar(1.0 - BETA2)?)?;
            let denom = v.f_div_scalar(bc2)?.f_sqrt()?.f_add_scalar(EPS)?;
            let update = m.f_div(&denom)?.f_mul_scalar(lr / bc1)?;
            let _ = p.f_sub_(&update)?;
        }
        Ok(())
    }
}
