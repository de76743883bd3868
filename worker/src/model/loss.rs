//! Negative-sampling skip-gram loss (word2vec's objective), shared by the peer-aware model and
//! the plain baseline so their throughput comparison measures only the architecture difference.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use tch::Tensor;

use super::ModelError;

/// `n * negatives` ids drawn uniformly from the real words (never `<unk>` = 0 when possible).
pub fn sample_negatives(rng: &mut ChaCha8Rng, n: usize, negatives: i64, vocab: i64) -> Tensor {
    let lo = if vocab > 1 { 1 } else { 0 };
    let ids: Vec<i64> = (0..n * negatives as usize)
        .map(|_| rng.gen_range(lo..vocab))
        .collect();
    Tensor::from_slice(&ids)
}

/// Mean over the batch of `-log σ(h·c_t) - Σ log σ(-h·c_neg)`.
///
/// `hidden` is `[n, e]`, `context` the `[vocab, e]` output table, `targets` `[n]`, `negs`
/// `[n * negatives]`.
pub fn skipgram_loss(
    hidden: &Tensor,
    context: &Tensor,
    targets: &Tensor,
    negs: &Tensor,
    negatives: i64,
) -> Result<Tensor, ModelError> {
    let n = hidden.size()[0];
    let e = hidden.size()[1];
    let pos = context.f_index_select(0, targets)?;
    let neg = context.f_index_select(0, negs)?.f_view([n, negatives, e])?;
    let pos_logit = hidden.f_mul(&pos)?.f_sum_dim_intlist(1, false, None)?;
    let neg_logit = neg.f_bmm(&hidden.f_unsqueeze(2)?)?.f_squeeze_dim(2)?;
    let pos_term = pos_logit.f_log_sigmoid()?;
    let neg_term = neg_logit
        .f_neg()?
        .f_log_sigmoid()?
        .f_sum_dim_intlist(1, false, None)?;
    Ok(pos_term.f_add(&neg_term)?.f_mean(None)?.f_neg()?)
}
