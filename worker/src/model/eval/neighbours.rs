//! Embedding quality on a corpus with known classes: how often a word's nearest neighbours
//! (by cosine) belong to its own class. Chance level is about (words per class - 1) / (words - 1).

use tch::{Kind, Tensor};

use crate::corpus::NO_CLASS;
use crate::model::ModelError;

/// Fraction of each classed word's `k` nearest neighbours (cosine, self excluded, among classed
/// words) sharing its class; `NaN` when the inputs are unusable (see [`try_neighbour_score`]).
pub fn neighbour_score(emb: &Tensor, classes: &[usize], k: usize) -> f64 {
    try_neighbour_score(emb, classes, k).unwrap_or(f64::NAN)
}

/// [`neighbour_score`] with the reason when it cannot be computed: `emb` must be 2-D with one
/// row per class entry, and there must be more than `k >= 1` classed words.
pub fn try_neighbour_score(emb: &Tensor, classes: &[usize], k: usize) -> Result<f64, ModelError> {
    let size = emb.size();
    if size.len() != 2 || size[0] != classes.len() as i64 {
        return Err(ModelError::Shape {
            what: "embedding matrix for neighbour score".into(),
            expected: vec![classes.len() as i64, -1],
            got: size,
        });
    }
    let keep: Vec<i64> = (0..classes.len() as i64)
        .filter(|&i| classes[i as usize] != NO_CLASS)
        .collect();
    if k == 0 || keep.len() <= k {
        return Err(ModelError::Config(format!(
            "need more than k = {k} >= 1 classed words, have {}",
            keep.len()
        )));
    }
    let _guard = tch::no_grad_guard();
    let x = emb
        .f_to_kind(Kind::Double)?
        .f_index_select(0, &Tensor::from_slice(&keep))?;
    let norms = x
        .f_norm_scalaropt_dim(2.0, [1i64].as_slice(), true)?
        .f_clamp_min(1e-12)?;
    let unit = x.f_div(&norms)?;
    let n = keep.len() as i64;
    let sim = unit
        .f_matmul(&unit.f_transpose(0, 1)?)?
        .f_sub(&Tensor::f_eye(n, (Kind::Double, tch::Device::Cpu))?.f_mul_scalar(1e9)?)?;
    let (_, top) = sim.f_topk(k as i64, 1, true, true)?;
    let top: Vec<i64> = Vec::<i64>::try_from(top.f_flatten(0, 1)?)?;
    let mut same = 0usize;
    for (row, chunk) in top.chunks(k).enumerate() {
        let c = classes[keep[row] as usize];
        same += chunk
            .iter()
            .filter(|&&j| classes[keep[j as usize] as usize] == c)
            .count();
    }
    Ok(same as f64 / (keep.len() * k) as f64)
}
