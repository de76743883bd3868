//! Checks on everything that enters the model from outside (batches, peer tensors, remote
//! gradients), turning bad data into [`ModelError`]s before any tensor op could panic.

use tch::{Kind, Tensor};

use super::ModelError;
use crate::corpus::Batch;

/// Every id must index the embedding table.
pub fn ids(ids: &[i64], vocab: i64) -> Result<(), ModelError> {
    if ids.is_empty() {
        return Err(ModelError::Batch("no words".into()));
    }
    match ids.iter().find(|&&id| id < 0 || id >= vocab) {
        Some(&id) => Err(ModelError::OutOfVocab { id, vocab }),
        None => Ok(()),
    }
}

/// Words and targets must be non-empty, of equal length, and in the vocabulary.
pub fn batch(batch: &Batch, vocab: i64) -> Result<(), ModelError> {
    if batch.words.len() != batch.targets.len() {
        return Err(ModelError::Batch(format!(
            "{} words but {} targets",
            batch.words.len(),
            batch.targets.len()
        )));
    }
    ids(&batch.words, vocab)?;
    ids(&batch.targets, vocab)
}

/// A tensor must be f32 of exactly `expected` shape with only finite values.
pub fn tensor(t: &Tensor, what: &str, expected: &[i64]) -> Result<(), ModelError> {
    if !t.defined() {
        return Err(ModelError::Tch(format!("{what}: undefined tensor")));
    }
    let got = t.size();
    if got != expected {
        return Err(ModelError::Shape {
            what: what.to_string(),
            expected: expected.to_vec(),
            got,
        });
    }
    let kind = t.f_kind()?;
    if kind != Kind::Float {
        return Err(ModelError::Kind {
            what: what.to_string(),
            got: format!("{kind:?}"),
        });
    }
    let finite = t.f_isfinite()?.f_all()?.f_int64_value(&[])? != 0;
    if !finite {
        return Err(ModelError::NotFinite {
            what: what.to_string(),
        });
    }
    Ok(())
}

/// Exactly `k` peer inputs, each an f32 `[n, out_dim]` finite tensor.
pub fn peers(peers: &[Tensor], k: usize, n: i64, out_dim: i64) -> Result<(), ModelError> {
    if peers.len() != k {
        return Err(ModelError::PeerCount {
            expected: k,
            got: peers.len(),
        });
    }
    for (j, p) in peers.iter().enumerate() {
        tensor(p, &format!("peer input {j}"), &[n, out_dim])?;
    }
    Ok(())
}
