//! The peer-aware model: word2vec's core whose input vector of a word is its own row plus its
//! k upstream peers' served vectors of that word, each gated per dimension:
//! `h(w) = syn0[w] + Σ_j gate_j ⊙ peer_j(w)`. `h(w)` is also what this node serves, with the
//! last vectors each peer sent for `w` (so what it serves carries its peers' knowledge).
//!
//! Each centre word's `h` predicts its (randomly shrunk) window of context words against
//! unigram^0.75 negatives; the step on `h` is accumulated over the window and applied once:
//! to `syn0[w]`, to the gates, and, as the loss gradient `-gate_j ⊙ step / alpha`, returned
//! per peer for the words it served (features forward, gradients backward).

use super::hogwild::HogwildRows;
use super::math::{self, SigmoidTable};
use super::plain::init_rows;
use super::sampling::{Lcg, NegativeTable};
use super::simd::{dispatch, Isa, Job, Kernel};
use super::W2vParams;
use crate::model::ModelError;

/// Largest L2 norm of one row of a remote gradient (larger rows are scaled down), so one
/// misbehaving downstream peer cannot blow up this node's vectors.
pub const MAX_REMOTE_ROW_NORM: f32 = 1.0;
/// With k peers, gates stay in `[-GATE_SUM / k, GATE_SUM / k]`: served vectors feed back
/// through peers that serve them again (A serves B's vectors, B serves A's), and a total gain
/// below 1 makes that loop a convergent series instead of a growing one.
const GATE_SUM: f32 = 0.9;
/// Gates learn at this fraction of the word rate: they are shared by every word.
const GATE_RATE: f32 = 0.05;
/// Initial total gate: peers' vectors count from the first step.
const GATE_INIT_SUM: f32 = 0.5;

/// One chunk of subsampled text and the distinct words it asks peers for.
#[derive(Debug, Clone, PartialEq)]
pub struct ChunkPlan {
    /// The subsampled word ids, in text order.
    pub sentence: Vec<u32>,
    /// Distinct ids of `sentence`, sorted: what peers are asked to serve.
    pub distinct: Vec<u32>,
    /// For each position of `sentence`, its index in `distinct`.
    slot: Vec<u32>,
}

impl ChunkPlan {
    /// The plan of a subsampled sentence.
    pub fn new(sentence: Vec<u32>) -> ChunkPlan {
        let mut distinct = sentence.clone();
        distinct.sort_unstable();
        distinct.dedup();
        let slot = sentence
            .iter()
            .map(|w| distinct.binary_search(w).unwrap_or(0) as u32)
            .collect();
        ChunkPlan {
            sentence,
            distinct,
            slot,
        }
    }

    /// Distinct ids as `i64` (the wire's id type).
    pub fn ids(&self) -> Vec<i64> {
        self.distinct.iter().map(|&w| w as i64).collect()
    }
}

/// What one chunk of training produced.
#[derive(Debug, Clone, PartialEq)]
pub struct ChunkOutput {
    /// (centre, context) pairs trained.
    pub pairs: u64,
    /// Summed negative-sampling loss of those pairs.
    pub loss: f64,
    /// Per peer: d loss / d served vector, `[distinct * dim]` rows in `plan.distinct` order
    /// (None for a peer that sent nothing).
    pub peer_grads: Vec<Option<Vec<f32>>>,
    /// Fisher importance per input, self first then the k peers: the mean over centre words
    /// of `(x · dL/dx)^2` (the squared first-order loss change if the input were removed).
    pub importance: Vec<f64>,
}

/// Word2vec with k gated peer inputs (see the module docs).
#[derive(Clone)]
pub struct PeerW2v {
    /// Vocabulary size.
    pub vocab: usize,
    /// Dimension of every vector (own, served, and peers').
    pub dim: usize,
    /// Upstream peer slots k.
    pub peers: usize,
    /// Own input rows `[vocab * dim]`.
    pub syn0: Vec<f32>,
    /// Context rows `[vocab * dim]`.
    pub syn1neg: Vec<f32>,
    /// Per-peer gates `[k * dim]`.
    pub gates: Vec<f32>,
    /// Last vectors each peer served per word `[k * vocab * dim]` (zero until seen).
    pub cache: Vec<f32>,
    negatives: usize,
    window: usize,
    gate_limit: f32,
    threads: usize,
    table: NegativeTable,
    sigmoid: SigmoidTable,
}

impl PeerW2v {
    /// A fresh model with `peers` upstream slots for a vocabulary with these counts.
    pub fn new(counts: &[u64], params: &W2vParams, peers: usize) -> Result<PeerW2v, ModelError> {
        params.validate()?;
        if counts.len() < 2 {
            return Err(ModelError::Config(
                "the vocabulary has no words beside <unk>".into(),
            ));
        }
        if peers > 64 {
            return Err(ModelError::Config("peers must be at most 64".into()));
        }
        let (vocab, dim) = (counts.len(), params.dim);
        let mut rng = Lcg::new(params.seed);
        Ok(PeerW2v {
            vocab,
            dim,
            peers,
            syn0: init_rows(vocab, dim, &mut rng),
            syn1neg: vec![0.0; vocab * dim],
            gates: vec![GATE_INIT_SUM / peers.max(1) as f32; peers * dim],
            cache: vec![0.0; peers * vocab * dim],
            negatives: params.negatives,
            window: params.window,
            gate_limit: GATE_SUM / peers.max(1) as f32,
            threads: 1,
            table: NegativeTable::new(counts, params.ns_exponent),
            sigmoid: SigmoidTable::default(),
        })
    }

    /// Trains each chunk on `threads` threads (at least 1; 1, the default, is deterministic
    /// for a seed): the chunk's positions are split between them, the tables shared without
    /// locks, each thread's gate steps and peer gradients summed at the end of the chunk.
    pub fn with_threads(mut self, threads: usize) -> PeerW2v {
        self.threads = threads.max(1);
        self
    }

    /// The threads a chunk trains on.
    pub fn threads(&self) -> usize {
        self.threads
    }

    fn check_ids(&self, ids: &[i64]) -> Result<(), ModelError> {
        match ids.iter().find(|&&id| id < 0 || id as usize >= self.vocab) {
            Some(&id) => Err(ModelError::OutOfVocab {
                id,
                vocab: self.vocab as i64,
            }),
            None => Ok(()),
        }
    }

    /// What downstream peers receive for `ids`: `h(w)` with the cached peer vectors,
    /// `[ids * dim]` row-major.
    pub fn serve(&self, ids: &[i64]) -> Result<Vec<f32>, ModelError> {
        self.check_ids(ids)?;
        let d = self.dim;
        let mut out = Vec::with_capacity(ids.len() * d);
        for &id in ids {
            let w = id as usize;
            let start = out.len();
            out.extend_from_slice(&self.syn0[w * d..(w + 1) * d]);
            for j in 0..self.peers {
                let c = (j * self.vocab + w) * d;
                let gate = &self.gates[j * d..(j + 1) * d];
                let row = &mut out[start..start + d];
                for ((o, g), p) in row.iter_mut().zip(gate).zip(&self.cache[c..c + d]) {
                    *o += g * p;
                }
            }
        }
        Ok(out)
    }

    /// Every word's served vector `[vocab * dim]`, for export and evaluation.
    pub fn served_table(&self) -> Vec<f32> {
        let ids: Vec<i64> = (0..self.vocab as i64).collect();
        self.serve(&ids).unwrap_or_default()
    }

    /// Forgets what slot `j`'s peer served and resets its gate: a new peer in the slot
    /// starts from nothing (an evicted peer's vectors are not served on).
    pub fn reset_slot(&mut self, j: usize) {
        if j >= self.peers {
            return;
        }
        let (v, d) = (self.vocab, self.dim);
        self.cache[j * v * d..(j + 1) * v * d].fill(0.0);
        self.gates[j * d..(j + 1) * d].fill(GATE_INIT_SUM / self.peers as f32);
    }

    /// Applies a downstream peer's loss gradient on what `serve(ids)` returned: each row is
    /// clipped to [`MAX_REMOTE_ROW_NORM`] and `syn0[w] -= rate * row`. Bad input is refused.
    pub fn apply_remote_grad(
        &mut self,
        ids: &[i64],
        grad: &[f32],
        rate: f32,
    ) -> Result<(), ModelError> {
        self.check_ids(ids)?;
        let d = self.dim;
        if grad.len() != ids.len() * d {
            return Err(ModelError::Shape {
                what: "remote gradient".into(),
                expected: vec![ids.len() as i64, d as i64],
                got: vec![grad.len() as i64],
            });
        }
        if !(rate.is_finite() && rate >= 0.0) || grad.iter().any(|g| !g.is_finite()) {
            return Err(ModelError::NotFinite {
                what: "remote gradient".into(),
            });
        }
        for (&id, row) in ids.iter().zip(grad.chunks_exact(d)) {
            let norm = math::dot(row, row).sqrt();
            let clip = if norm > MAX_REMOTE_ROW_NORM {
                MAX_REMOTE_ROW_NORM / norm
            } else {
                1.0
            };
            let w = id as usize;
            math::axpy(-rate * clip, row, &mut self.syn0[w * d..(w + 1) * d]);
        }
        Ok(())
    }

    fn check_peers(&self, plan: &ChunkPlan, peers: &[Option<&[f32]>]) -> Result<(), ModelError> {
        if peers.len() != self.peers {
            return Err(ModelError::PeerCount {
                expected: self.peers,
                got: peers.len(),
            });
        }
        let want = plan.distinct.len() * self.dim;
        for (j, p) in peers.iter().enumerate() {
            let Some(p) = p else { continue };
            if p.len() != want {
                return Err(ModelError::Shape {
                    what: format!("peer input {j}"),
                    expected: vec![plan.distinct.len() as i64, self.dim as i64],
                    got: vec![p.len() as i64],
                });
            }
            if p.iter().any(|x| !x.is_finite()) {
                return Err(ModelError::NotFinite {
                    what: format!("peer input {j}"),
                });
            }
        }
        if plan.distinct.iter().any(|&w| w as usize >= self.vocab) {
            return Err(ModelError::OutOfVocab {
                id: plan.distinct.iter().copied().max().unwrap_or(0) as i64,
                vocab: self.vocab as i64,
            });
        }
        Ok(())
    }

    /// Trains on one chunk with the peers' vectors of `plan.distinct` (None for a missing
    /// peer, treated as zeros and sent no gradient) at rate `alpha`.
    pub fn train_chunk(
        &mut self,
        plan: &ChunkPlan,
        peers: &[Option<&[f32]>],
        alpha: f32,
        rng: &mut Lcg,
    ) -> Result<ChunkOutput, ModelError> {
        Self::run_chunk(self, plan, peers, alpha, rng, true)
    }

    /// The chunk's loss with these peer vectors, without changing anything (same random
    /// draws as `train_chunk` with an equal generator): lets a test check gradients.
    pub fn chunk_loss(
        &mut self,
        plan: &ChunkPlan,
        peers: &[Option<&[f32]>],
        rng: &mut Lcg,
    ) -> Result<f64, ModelError> {
        Ok(Self::run_chunk(self, plan, peers, 0.0, rng, false)?.loss)
    }

    /// The chunk loop on `this.threads` threads with the best kernels of this processor.
    fn run_chunk(
        this: &mut PeerW2v,
        plan: &ChunkPlan,
        peers: &[Option<&[f32]>],
        alpha: f32,
        rng: &mut Lcg,
        learn: bool,
    ) -> Result<ChunkOutput, ModelError> {
        this.check_peers(plan, peers)?;
        let n = plan.sentence.len();
        let threads = this.threads.min(n / MIN_POSITIONS_PER_THREAD).max(1);
        // Threads past the first get generators drawn from the chunk's (none with one thread).
        let mut rngs: Vec<Lcg> = (1..threads).map(|_| Lcg::new(rng.next_u64())).collect();
        let isa = Isa::best();
        let d = this.dim;
        let tables = Tables {
            syn0: HogwildRows::new(&mut this.syn0, d),
            syn1neg: HogwildRows::new(&mut this.syn1neg, d),
            gates: &this.gates,
            table: &this.table,
            sigmoid: &this.sigmoid,
            window: this.window,
            negatives: this.negatives,
            gate_limit: this.gate_limit,
            peers: this.peers,
        };
        let job = |range: std::ops::Range<usize>, rng: &mut Lcg| {
            dispatch(
                isa,
                PartJob {
                    t: &tables,
                    plan,
                    peers,
                    range,
                    alpha,
                    rng,
                    learn,
                },
            )
        };
        let bounds: Vec<usize> = (0..=threads).map(|i| i * n / threads).collect();
        let parts: Vec<Part> = if threads == 1 {
            vec![job(0..n, rng)]
        } else {
            std::thread::scope(|s| {
                let job = &job;
                let handles: Vec<_> = rngs
                    .iter_mut()
                    .enumerate()
                    .map(|(i, r)| {
                        let range = bounds[i + 1]..bounds[i + 2];
                        s.spawn(move || job(range, r))
                    })
                    .collect();
                let mut parts = vec![job(bounds[0]..bounds[1], rng)];
                parts.extend(
                    handles
                        .into_iter()
                        .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))),
                );
                parts
            })
        };
        let out = this.merge(parts, n, learn);
        if learn {
            this.remember(plan, peers);
        }
        Ok(out)
    }

    /// Sums the threads' results: pairs, loss, importance (a mean over the chunk's centre
    /// words), peer gradients; each thread's gate steps added to the gates, within bounds.
    fn merge(&mut self, mut parts: Vec<Part>, n: usize, learn: bool) -> ChunkOutput {
        let centres = n.max(1) as f64;
        let first = parts.remove(0);
        let mut out = ChunkOutput {
            pairs: first.pairs,
            loss: first.loss,
            peer_grads: first.grads,
            importance: first.importance,
        };
        let gates_before = std::mem::replace(&mut self.gates, first.gates);
        for p in parts {
            out.pairs += p.pairs;
            out.loss += p.loss;
            for (a, b) in out.importance.iter_mut().zip(&p.importance) {
                *a += b;
            }
            for (a, b) in out.peer_grads.iter_mut().zip(&p.grads) {
                if let (Some(a), Some(b)) = (a, b) {
                    a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
                }
            }
            if learn {
                let limit = self.gate_limit;
                for ((g, t), before) in self.gates.iter_mut().zip(&p.gates).zip(&gates_before) {
                    *g = (*g + (t - before)).clamp(-limit, limit);
                }
            }
        }
        out.importance.iter_mut().for_each(|x| *x /= centres);
        out
    }

    /// Stores each answering peer's vectors of the chunk's words, for `serve`.
    fn remember(&mut self, plan: &ChunkPlan, peers: &[Option<&[f32]>]) {
        let d = self.dim;
        for (j, p) in peers.iter().enumerate() {
            let Some(p) = p else { continue };
            for (slot, &w) in plan.distinct.iter().enumerate() {
                let c = (j * self.vocab + w as usize) * d;
                self.cache[c..c + d].copy_from_slice(&p[slot * d..(slot + 1) * d]);
            }
        }
    }
}

/// Fewer positions than this per thread are not worth a thread.
const MIN_POSITIONS_PER_THREAD: usize = 256;

/// The model's tables as the threads of one chunk share them.
struct Tables<'a> {
    syn0: HogwildRows<'a>,
    syn1neg: HogwildRows<'a>,
    /// The gates at the start of the chunk (each thread steps its own copy).
    gates: &'a [f32],
    table: &'a NegativeTable,
    sigmoid: &'a SigmoidTable,
    window: usize,
    negatives: usize,
    gate_limit: f32,
    peers: usize,
}

/// What one thread's part of a chunk produced.
struct Part {
    pairs: u64,
    loss: f64,
    grads: Vec<Option<Vec<f32>>>,
    /// Summed (not yet averaged) importance per input.
    importance: Vec<f64>,
    /// This thread's copy of the gates after its steps.
    gates: Vec<f32>,
}

/// One thread's positions of a chunk, run by [`dispatch`] with the chosen kernels.
struct PartJob<'j, 'a> {
    t: &'j Tables<'a>,
    plan: &'j ChunkPlan,
    peers: &'j [Option<&'j [f32]>],
    range: std::ops::Range<usize>,
    alpha: f32,
    rng: &'j mut Lcg,
    learn: bool,
}

impl Job for PartJob<'_, '_> {
    type Out = Part;

    #[inline(always)]
    fn run<K: Kernel>(self, k: K) -> Part {
        part_loop(k, self)
    }
}

/// One output row against `h`: the row moves by `rate * g * h`, the input's step `neu1e` by
/// `rate * g * row`; returns the loss of the logit.
#[inline(always)]
fn score<K: Kernel>(
    k: K,
    t: &Tables<'_>,
    target: usize,
    label: f32,
    rate: f32,
    h: &[f32],
    neu1e: &mut [f32],
) -> f64 {
    let (g, l) = math::logistic(t.sigmoid, t.syn1neg.dot(k, target, h), label);
    let g = g * rate;
    t.syn1neg.add_to(k, target, g, neu1e);
    t.syn1neg.axpy(k, target, g, h);
    l as f64
}

/// Each centre word's `h` predicts its window's context words; one set of negatives is drawn
/// for the window (Ji et al. 2016): `h · negative` is the same for every context word, so each
/// negative is scored once and its step counted once per context word (the same expected
/// gradient as fresh negatives per pair, with a window's worth fewer dot products).
#[inline(always)]
fn part_loop<K: Kernel>(k: K, job: PartJob<'_, '_>) -> Part {
    let PartJob {
        t,
        plan,
        peers,
        range,
        alpha,
        rng,
        learn,
    } = job;
    let (d, kp) = (t.syn0.dim(), t.peers);
    let mut grads: Vec<Option<Vec<f32>>> = peers
        .iter()
        .map(|p| p.map(|_| vec![0f32; plan.distinct.len() * d]))
        .collect();
    let mut gates = t.gates.to_vec();
    let mut importance = vec![0f64; kp + 1];
    let mut h = vec![0f32; d];
    let mut neu1e = vec![0f32; d];
    let mut gated = vec![0f32; kp * d];
    let mut window: Vec<usize> = Vec::with_capacity(2 * t.window);
    let (mut pairs, mut loss) = (0u64, 0f64);
    // Gradients are reported per unit rate, whatever alpha is.
    let inv_alpha = if alpha > 0.0 { 1.0 / alpha } else { 0.0 };
    let step = if learn { alpha } else { 0.0 };
    let sentence = &plan.sentence;
    let n = sentence.len();
    for pos in range {
        let w = sentence[pos] as usize;
        let slot = plan.slot[pos] as usize;
        h.fill(0.0);
        t.syn0.add_to(k, w, 1.0, &mut h);
        for (j, p) in peers.iter().enumerate() {
            let gj = &mut gated[j * d..(j + 1) * d];
            match p {
                Some(p) => {
                    let row = &p[slot * d..(slot + 1) * d];
                    for ((o, g), x) in gj.iter_mut().zip(&gates[j * d..(j + 1) * d]).zip(row) {
                        *o = g * x;
                    }
                }
                None => gj.iter_mut().for_each(|x| *x = 0.0),
            }
            k.axpy(1.0, gj, &mut h);
        }
        neu1e.fill(0.0);
        let reach = t.window - rng.below(t.window);
        let lo = pos.saturating_sub(reach);
        let hi = (pos + reach).min(n - 1);
        window.clear();
        window.extend(
            (lo..=hi)
                .filter(|&c| c != pos)
                .map(|c| sentence[c] as usize),
        );
        if window.is_empty() {
            continue;
        }
        for &ctx in &window {
            loss += score(k, t, ctx, 1.0, step, &h, &mut neu1e);
        }
        // Each negative stands for the window's m pairs.
        let m = window.len() as f32;
        for _ in 0..t.negatives {
            let neg = t.table.draw(rng) as usize;
            if neg == w || window.contains(&neg) {
                continue;
            }
            loss += score(k, t, neg, 0.0, step * m, &h, &mut neu1e) * m as f64;
        }
        pairs += window.len() as u64;
        if !learn {
            continue;
        }
        // Importance and the peers' gradients, before this step changes anything.
        let own = t.syn0.dot(k, w, &neu1e) * inv_alpha;
        importance[0] += (own * own) as f64;
        for j in 0..kp {
            let gj = &gated[j * d..(j + 1) * d];
            let x = k.dot(gj, &neu1e) * inv_alpha;
            importance[j + 1] += (x * x) as f64;
            if let (Some(grad), Some(p)) = (grads[j].as_mut(), peers[j]) {
                let gate = &mut gates[j * d..(j + 1) * d];
                let out = &mut grad[slot * d..(slot + 1) * d];
                for ((o, g), e) in out.iter_mut().zip(gate.iter()).zip(&neu1e) {
                    *o -= g * e * inv_alpha;
                }
                let x = &p[slot * d..(slot + 1) * d];
                let limit = t.gate_limit;
                for ((g, e), xi) in gate.iter_mut().zip(&neu1e).zip(x) {
                    *g = (*g + GATE_RATE * e * xi).clamp(-limit, limit);
                }
            }
        }
        t.syn0.axpy(k, w, 1.0, &neu1e);
    }
    Part {
        pairs,
        loss,
        grads,
        importance,
        gates,
    }
}
