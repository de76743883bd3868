//! The rows the experiment trains in this process: each node's shard alone, one model on the
//! whole prefix (centralised), and the reference trainers (gensim and fastText with our
//! settings and with their own defaults), all with the plain core or the reference tools.

use std::path::Path;

use crate::corpus::Corpus;
use crate::model::vectors::{load_word2vec_text, Vectors};
use crate::model::w2v::{fit, W2vParams, Word2Vec};
use crate::model::{baseline, ModelError};

/// The seed of node `i`'s model for run seed `seed` (the same rule the node configs use).
pub fn node_seed(seed: u64, i: usize) -> u64 {
    seed.wrapping_mul(1000).wrapping_add(i as u64)
}

/// Each node's shard trained alone; a node's words it never saw are left out (out of
/// vocabulary for that node).
pub fn alone(
    shards: &[Corpus],
    words: &[String],
    params: &W2vParams,
) -> Result<Vec<Vectors>, ModelError> {
    shards
        .iter()
        .enumerate()
        .map(|(i, shard)| {
            let p = W2vParams {
                seed: node_seed(params.seed, i),
                ..params.clone()
            };
            let own = shard.vocab.counts();
            let mut m = Word2Vec::new(own, &p)?;
            fit(&mut m, &shard.ids, own, &p)?;
            Vectors::from_vocab_seen(words, p.dim, &m.syn0, own)
        })
        .collect()
}

/// One model on the whole prefix.
pub fn centralised(whole: &Corpus, params: &W2vParams) -> Result<Vectors, ModelError> {
    let counts = whole.vocab.counts();
    let mut m = Word2Vec::new(counts, params)?;
    fit(&mut m, &whole.ids, counts, params)?;
    Vectors::from_vocab(whole.vocab.words(), params.dim, &m.syn0)
}

/// The reference rows on the whole prefix file: `(name, vectors)` for gensim and fastText
/// with `params`, then with their own defaults (fastText only when it is installed).
pub fn baselines(
    python: &Path,
    whole: &Path,
    params: &W2vParams,
    tmp: &Path,
) -> Result<Vec<(&'static str, Vectors)>, ModelError> {
    let mut out = Vec::new();
    let g = baseline::gensim(python, whole, params, &tmp.join("gensim.txt"))?;
    out.push(("gensim", load_word2vec_text(&g.vectors)?));
    let own = baseline::gensim_defaults(params.seed);
    let g = baseline::gensim(python, whole, &own, &tmp.join("gensim-own.txt"))?;
    out.push(("gensim_own", load_word2vec_text(&g.vectors)?));
    if baseline::fasttext_available() {
        let f = baseline::fasttext(whole, params, 0, &tmp.join("ft"))?;
        out.push(("fasttext", load_word2vec_text(&f.vectors)?));
        let f = baseline::fasttext_own(whole, params.seed, &tmp.join("ft-own"))?;
        out.push(("fasttext_own", load_word2vec_text(&f)?));
    }
    Ok(out)
}
