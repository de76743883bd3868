//! The plain model: word2vec.c's skip-gram with negative sampling. For each position, the
//! window is shrunk by a random `b`; each context word's input vector predicts the centre
//! word against `negatives` draws from the unigram^0.75 table.
//!
//! Two updates of one position are kept: [`Update::SharedNegatives`] (the default) draws one
//! set of negatives for the whole window, as Ji et al. 2016 ("Parallelizing Word2Vec in
//! Shared and Distributed Memory") do, so the window's context rows against the centre and
//! the negatives form a small matrix product: every output row is loaded once per window
//! instead of once per pair, and its step is the sum over the window. [`Update::PerPair`] is
//! word2vec.c's and gensim's order (fresh negatives per pair, each output row updated per
//! pair), kept as the reference the shared update is measured against.

use super::hogwild::HogwildRows;
use super::math::{self, SigmoidTable};
use super::sampling::{Lcg, NegativeTable};
use super::simd::{dispatch, Isa, Job, Kernel};
use super::W2vParams;
use crate::model::ModelError;

/// How one position's window is trained (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Update {
    /// One set of negatives per window; the window's pairs as one small matrix product.
    #[default]
    SharedNegatives,
    /// word2vec.c's per-pair update with fresh negatives per pair.
    PerPair,
}

/// Input vectors (`syn0`, what is exported) and context vectors (`syn1neg`), row-major.
#[derive(Clone)]
pub struct Word2Vec {
    /// Vocabulary size (rows), `<unk>` included.
    pub vocab: usize,
    /// Dimension (columns).
    pub dim: usize,
    /// Input (word) vectors `[vocab * dim]`.
    pub syn0: Vec<f32>,
    /// Context vectors `[vocab * dim]`.
    pub syn1neg: Vec<f32>,
    pub(super) negatives: usize,
    pub(super) window: usize,
    pub(super) table: NegativeTable,
    pub(super) sigmoid: SigmoidTable,
}

/// word2vec.c's initialisation: input rows uniform in `[-0.5/dim, 0.5/dim)`, context zero.
pub(super) fn init_rows(vocab: usize, dim: usize, rng: &mut Lcg) -> Vec<f32> {
    (0..vocab * dim)
        .map(|_| (rng.unit() - 0.5) / dim as f32)
        .collect()
}

impl Word2Vec {
    /// A fresh model for a vocabulary with these per-id counts (`counts[0]` is `<unk>`).
    pub fn new(counts: &[u64], params: &W2vParams) -> Result<Word2Vec, ModelError> {
        params.validate()?;
        if counts.len() < 2 {
            return Err(ModelError::Config(
                "the vocabulary has no words beside <unk>".into(),
            ));
        }
        let (vocab, dim) = (counts.len(), params.dim);
        let mut rng = Lcg::new(params.seed);
        Ok(Word2Vec {
            vocab,
            dim,
            syn0: init_rows(vocab, dim, &mut rng),
            syn1neg: vec![0.0; vocab * dim],
            negatives: params.negatives,
            window: params.window,
            table: NegativeTable::new(counts, params.ns_exponent),
            sigmoid: SigmoidTable::default(),
        })
    }

    /// Row `id` of the input vectors.
    pub fn vector(&self, id: usize) -> &[f32] {
        &self.syn0[id * self.dim..(id + 1) * self.dim]
    }

    /// Trains on one subsampled sentence (ids in `1..vocab`) at rate `alpha` with the default
    /// update and the best kernels of this processor; returns (pairs trained, summed loss).
    pub fn train_sentence(&mut self, sentence: &[u32], alpha: f32, rng: &mut Lcg) -> (u64, f64) {
        let shared = self.shared();
        let mut scratch = Scratch::new(shared.window, shared.syn0.dim());
        shared.train(
            Isa::best(),
            Update::default(),
            sentence,
            alpha,
            rng,
            &mut scratch,
        )
    }

    /// The model's tables as the training threads share them (borrowed for the run).
    pub(super) fn shared(&mut self) -> Shared<'_> {
        let dim = self.dim;
        Shared {
            syn0: HogwildRows::new(&mut self.syn0, dim),
            syn1neg: HogwildRows::new(&mut self.syn1neg, dim),
            table: &self.table,
            sigmoid: &self.sigmoid,
            window: self.window,
            negatives: self.negatives,
        }
    }
}

/// A model's tables borrowed for a training run, shared by its threads.
pub(super) struct Shared<'a> {
    syn0: HogwildRows<'a>,
    syn1neg: HogwildRows<'a>,
    table: &'a NegativeTable,
    sigmoid: &'a SigmoidTable,
    window: usize,
    negatives: usize,
}

/// One thread's working rows: the window's input steps and the window itself.
pub(super) struct Scratch {
    neu1e: Vec<f32>,
    ctx: Vec<usize>,
    targets: Vec<usize>,
    g: Vec<f32>,
}

impl Scratch {
    /// Room for a full window of `window` each side at dimension `dim`.
    pub(super) fn new(window: usize, dim: usize) -> Scratch {
        Scratch {
            neu1e: vec![0.0; 2 * window * dim],
            ctx: Vec::with_capacity(2 * window),
            targets: Vec::with_capacity(64),
            g: vec![0.0; 2 * window],
        }
    }
}

impl Shared<'_> {
    /// Trains one subsampled sentence with the kernels of `isa`; returns (pairs, loss).
    pub(super) fn train(
        &self,
        isa: Isa,
        update: Update,
        sentence: &[u32],
        alpha: f32,
        rng: &mut Lcg,
        scratch: &mut Scratch,
    ) -> (u64, f64) {
        dispatch(
            isa,
            Sentence {
                tables: self,
                update,
                sentence,
                alpha,
                rng,
                scratch,
            },
        )
    }
}

/// One sentence of training, run by [`dispatch`] with the chosen kernels.
struct Sentence<'j, 'a> {
    tables: &'j Shared<'a>,
    update: Update,
    sentence: &'j [u32],
    alpha: f32,
    rng: &'j mut Lcg,
    scratch: &'j mut Scratch,
}

impl Job for Sentence<'_, '_> {
    type Out = (u64, f64);

    #[inline(always)]
    fn run<K: Kernel>(self, k: K) -> (u64, f64) {
        match self.update {
            Update::SharedNegatives => shared_negatives(
                k,
                self.tables,
                self.sentence,
                self.alpha,
                self.rng,
                self.scratch,
            ),
            Update::PerPair => per_pair(
                k,
                self.tables,
                self.sentence,
                self.alpha,
                self.rng,
                self.scratch,
            ),
        }
    }
}

/// The window of `pos` (shrunk by a random `b`) as the context ids in `ctx`.
#[inline(always)]
fn window(t: &Shared<'_>, sentence: &[u32], pos: usize, rng: &mut Lcg, ctx: &mut Vec<usize>) {
    let reach = t.window - rng.below(t.window);
    let lo = pos.saturating_sub(reach);
    let hi = (pos + reach).min(sentence.len() - 1);
    ctx.clear();
    ctx.extend(
        (lo..=hi)
            .filter(|&c| c != pos)
            .map(|c| sentence[c] as usize),
    );
}

/// Ji et al.'s update: one set of negatives for the window; for each output row (the centre,
/// then each negative), its logits against all context rows, their steps accumulated into
/// the contexts' `neu1e` from the row as it was, then the row's own step from the context
/// rows as they were; the context rows move last.
#[inline(always)]
fn shared_negatives<K: Kernel>(
    k: K,
    t: &Shared<'_>,
    sentence: &[u32],
    alpha: f32,
    rng: &mut Lcg,
    s: &mut Scratch,
) -> (u64, f64) {
    let dim = t.syn0.dim();
    let (mut pairs, mut loss) = (0u64, 0f64);
    for pos in 0..sentence.len() {
        let word = sentence[pos] as usize;
        window(t, sentence, pos, rng, &mut s.ctx);
        let m = s.ctx.len();
        if m == 0 {
            continue;
        }
        s.targets.clear();
        s.targets.push(word);
        for _ in 0..t.negatives {
            let n = t.table.draw(rng) as usize;
            if n != word {
                s.targets.push(n);
            }
        }
        let neu1e = &mut s.neu1e[..m * dim];
        neu1e.fill(0.0);
        for (ti, &target) in s.targets.iter().enumerate() {
            let label = if ti == 0 { 1.0 } else { 0.0 };
            for ((&c, g), e) in s.ctx.iter().zip(&mut s.g).zip(neu1e.chunks_exact_mut(dim)) {
                let f = t.syn0.dot_rows(k, c, &t.syn1neg, target);
                let (step, l) = math::logistic(t.sigmoid, f, label);
                loss += l as f64;
                *g = step * alpha;
                t.syn1neg.add_to(k, target, *g, e);
            }
            for (&c, &g) in s.ctx.iter().zip(&s.g) {
                t.syn1neg.axpy_row(k, target, g, &t.syn0, c);
            }
        }
        for (&c, e) in s.ctx.iter().zip(neu1e.chunks_exact(dim)) {
            t.syn0.axpy(k, c, 1.0, e);
        }
        pairs += m as u64;
    }
    (pairs, loss)
}

/// word2vec.c's update: per (context, centre) pair, fresh negatives; each output row moves
/// as soon as its pair is done, the context row once per pair.
#[inline(always)]
fn per_pair<K: Kernel>(
    k: K,
    t: &Shared<'_>,
    sentence: &[u32],
    alpha: f32,
    rng: &mut Lcg,
    s: &mut Scratch,
) -> (u64, f64) {
    let dim = t.syn0.dim();
    let (mut pairs, mut loss) = (0u64, 0f64);
    for pos in 0..sentence.len() {
        let word = sentence[pos] as usize;
        window(t, sentence, pos, rng, &mut s.ctx);
        for &c in &s.ctx {
            let neu1e = &mut s.neu1e[..dim];
            neu1e.fill(0.0);
            for d in 0..=t.negatives {
                let (target, label) = if d == 0 {
                    (word, 1.0)
                } else {
                    let n = t.table.draw(rng) as usize;
                    if n == word {
                        continue;
                    }
                    (n, 0.0)
                };
                let f = t.syn0.dot_rows(k, c, &t.syn1neg, target);
                let (step, l) = math::logistic(t.sigmoid, f, label);
                loss += l as f64;
                let g = step * alpha;
                t.syn1neg.add_to(k, target, g, neu1e);
                t.syn1neg.axpy_row(k, target, g, &t.syn0, c);
            }
            t.syn0.axpy(k, c, 1.0, neu1e);
            pairs += 1;
        }
    }
    (pairs, loss)
}
