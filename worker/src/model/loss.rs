//! Negative-sampling skip-gram loss (word2vec's objective), shared by the peer-aware model and
//! the plain baseline so their throughput comparison measures only the architecture difference.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use tch::Tensor;

use super::ModelError;

/// `n * negatives` ids drawn uniformly from the real words (never `<unk>` = 0 when possible).
fn sample_negatives(rng: &mut ChaCha8Rng, n: usize, negatives: i64, vocab: i64) -> Vec<i64> {
    let lo = if vocab > 1 { 1 } else { 0 };
    (0..n * negatives as usize)
        .map(|_| rng.gen_range(lo..vocab))
        .collect()
}

/// The context-table rows a batch reads: its targets, then its negatives.
fn context_ids(targets: &[i64], negatives: &[i64]) -> Vec<i64> {
    let mut ids = Vec::with_capacity(targets.len() + negatives.len());
    ids.extend_from_slice(targets);
    ids.extend_from_slice(negatives);
    ids
}

/// Draws the batch's negatives and gathers the context rows it reads (targets, then
/// negatives) as a gradient leaf; the ids come back with the rows for the sparse update.
pub fn sampled_context(
    rng: &mut ChaCha8Rng,
    context: &Tensor,
    targets: &[i64],
    negatives: i64,
    vocab: i64,
) -> Result<(Vec<i64>, Tensor), ModelError> {
    let negs = sample_negatives(rng, targets.len(), negatives, vocab);
    let ids = context_ids(targets, &negs);
    let rows = leaf_rows(context, &Tensor::from_slice(&ids))?;
    Ok((ids, rows))
}

/// The loss as a number, refusing a non-finite one (it would poison every later step).
pub fn finite_value(loss: &Tensor) -> Result<f64, ModelError> {
    let value = loss.f_double_value(&[])?;
    if !value.is_finite() {
        return Err(ModelError::NotFinite {
            what: "training loss".into(),
        });
    }
    Ok(value)
}

/// Mean over the batch of `-log σ(h·c_t) - Σ log σ(-h·c_neg)`.
///
/// `hidden` is `[n, e]`; `context_rows` is `[n + n * negatives, e]`: the targets' context
/// vectors, then the negatives' (as laid out by [`context_ids`]).
pub fn skipgram_loss(
    hidden: &Tensor,
    context_rows: &Tensor,
    negatives: i64,
) -> Result<Tensor, ModelError> {
    let n = hidden.size()[0];
    let e = hidden.size()[1];
    let pos = context_rows.f_narrow(0, 0, n)?;
    let neg = context_rows
        .f_narrow(0, n, n * negatives)?
        .f_view([n, negatives, e])?;
    let pos_logit = hidden.f_mul(&pos)?.f_sum_dim_intlist(1, false, None)?;
    let neg_logit = neg.f_bmm(&hidden.f_unsqueeze(2)?)?.f_squeeze_dim(2)?;
    let pos_term = pos_logit.f_log_sigmoid()?;
    let neg_term = neg_logit
        .f_neg()?
        .f_log_sigmoid()?
        .f_sum_dim_intlist(1, false, None)?;
    Ok(pos_term.f_add(&neg_term)?.f_mean(None)?.f_neg()?)
}

/// A detached copy of `table`'s `ids` rows that records its own gradient (a leaf), so a step
/// can update just those rows.
pub fn leaf_rows(table: &Tensor, ids: &Tensor) -> Result<Tensor, ModelError> {
    let _guard = tch::no_grad_guard();
    Ok(table.f_index_select(0, ids)?.f_set_requires_grad(true)?)
}
