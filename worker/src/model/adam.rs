//! A small Adam optimiser over explicit tensors, written against the fallible tch API so a
//! training step never panics (tch's `nn::Optimizer` unwraps internally).
//!
//! Embedding tables get "lazy" row updates: only the rows a batch touched move (their moments
//! too), so a step costs O(batch) rather than O(vocabulary) — what makes text8-sized vocabularies
//! affordable.

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

/// Rows touched by a batch: sorted distinct ids, and for each original id its position in them.
pub struct Rows {
    /// Distinct row ids, ascending.
    pub ids: Tensor,
    /// Position of each original id within `ids`.
    pub inverse: Tensor,
    /// Number of distinct rows.
    pub count: i64,
}

impl Rows {
    /// Distinct ids of `ids` with the inverse mapping (computed in Rust: deterministic).
    pub fn of(ids: &[i64]) -> Rows {
        let mut unique = ids.to_vec();
        unique.sort_unstable();
        unique.dedup();
        let inverse: Vec<i64> = ids
            .iter()
            .map(|x| unique.binary_search(x).unwrap_or(0) as i64)
            .collect();
        Rows {
            count: unique.len() as i64,
            ids: Tensor::from_slice(&unique),
            inverse: Tensor::from_slice(&inverse),
        }
    }

    /// Sums per-id gradient rows `[ids.len(), dim]` into per-distinct-row gradients `[count, dim]`.
    pub fn sum(&self, grad: &Tensor) -> Result<Tensor, ModelError> {
        let dim = grad.size().get(1).copied().unwrap_or(1);
        let zeros = Tensor::f_zeros([self.count, dim], (grad.f_kind()?, grad.device()))?;
        Ok(zeros.f_index_add(0, &self.inverse, grad)?)
    }
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

    /// Starts an optimisation step (advances the bias-correction clock); returns the
    /// bias-corrected rate factors.
    pub fn begin(&mut self) -> (f64, f64) {
        self.t = self.t.saturating_add(1);
        (1.0 - BETA1.powi(self.t), 1.0 - BETA2.powi(self.t))
    }

    /// Adam update of `param` (number `i` of the list given to `new`) by a dense gradient.
    pub fn dense(
        &mut self,
        i: usize,
        param: &mut Tensor,
        grad: &Tensor,
        lr: f64,
        (bc1, bc2): (f64, f64),
    ) -> Result<(), ModelError> {
        let _guard = tch::no_grad_guard();
        let (m, v) = (&mut self.m[i], &mut self.v[i]);
        let _ = m.f_mul_scalar_(BETA1)?;
        let _ = m.f_add_(&grad.f_mul_scalar(1.0 - BETA1)?)?;
        let _ = v.f_mul_scalar_(BETA2)?;
        let _ = v.f_add_(&grad.f_square()?.f_mul_scalar(1.0 - BETA2)?)?;
        let denom = v.f_div_scalar(bc2)?.f_sqrt()?.f_add_scalar(EPS)?;
        let _ = param.f_sub_(&m.f_div(&denom)?.f_mul_scalar(lr / bc1)?)?;
        Ok(())
    }

    /// Lazy Adam update of the `rows` of table `param` by their gradients `[rows.count, dim]`.
    pub fn rows(
        &mut self,
        i: usize,
        param: &mut Tensor,
        rows: &Rows,
        grad: &Tensor,
        lr: f64,
        (bc1, bc2): (f64, f64),
    ) -> Result<(), ModelError> {
        let _guard = tch::no_grad_guard();
        let (m, v) = (&mut self.m[i], &mut self.v[i]);
        let m_rows = m
            .f_index_select(0, &rows.ids)?
            .f_mul_scalar(BETA1)?
            .f_add(&grad.f_mul_scalar(1.0 - BETA1)?)?;
        let v_rows = v
            .f_index_select(0, &rows.ids)?
            .f_mul_scalar(BETA2)?
            .f_add(&grad.f_square()?.f_mul_scalar(1.0 - BETA2)?)?;
        let denom = v_rows.f_div_scalar(bc2)?.f_sqrt()?.f_add_scalar(EPS)?;
        let update = m_rows.f_div(&denom)?.f_mul_scalar(-lr / bc1)?;
        let _ = m.f_index_copy_(0, &rows.ids, &m_rows)?;
        let _ = v.f_index_copy_(0, &rows.ids, &v_rows)?;
        let _ = param.f_index_add_(0, &rows.ids, &update)?;
        Ok(())
    }
}
