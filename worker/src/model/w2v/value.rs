//! What a peer's update is worth to a node: its marginal effect on the node's
//! negative-sampling loss on held-out text (a slice of the node's own text it never trains
//! on), with copies, replays and the node's own update sent back worth nothing.
//!
//! - [`HeldOut`]: fixed evaluation triples (input word, output word, negatives), drawn once
//!   with a seed from the held-out sentences (subsampled as training is), at most
//!   `max_pairs`, with an index from each row to the triples that touch it.
//! - [`Valuer::value`]: per round, from the point all nodes started the round from
//!   (`base = model - own`), `own = L(base) - L(model)` and, per peer `j`,
//!   `gain_j = L(base) - L(base + clip(u_j))` (clipped exactly as [`super::apply_update`]
//!   clips), divided by the number of triples and signed: an update that adds held-out loss
//!   (noise does) has a negative value, which attribution counts as 0 (a node still applies
//!   it under the bound: one round's value is too noisy to refuse honest updates by, see
//!   docs/attribution.md). Every update is valued from the same point, so an
//!   honest peer is not charged for the overshoot of summing updates that overlap with the
//!   node's own; overlap that is a copy is caught below.
//!   Only the triples that touch an update's rows are evaluated (the others do not change),
//!   so one update costs O(pairs touched x (1 + negatives) x dim).
//! - Copies: an update whose rows are mostly (at least [`COPY_OVERLAP`] of them) rows of a
//!   reference update and whose deltas on those common rows have a cosine of at least
//!   [`COPY_COSINE`] with the reference's is worth 0 and marked ([`CopyOf`]). References are
//!   the node's own update, the peers' updates of this round that arrived earlier (earlier in
//!   the slice) and every update (own or peer) of the last `history_rounds` rounds. The
//!   cosine is taken on sketches ([`SKETCH`] random ±1 projections per row of at most
//!   [`SKETCH_ROWS`] rows of the update, made once per update in O(SKETCH_ROWS x dim x
//!   SKETCH)); a comparison costs O(rows_u + rows_v + SKETCH_ROWS x SKETCH), and a round
//!   compares each update with at most `(1 + peers) x (1 + history_rounds)` references.
//!   The history keeps only sketches. An update from an upstream the node has proven to
//!   copy others ([`Valuer::value_with`]) is taken for a copy and is no reference: a copier
//!   that delivers a source's update first leaves the source's own, arriving later, its
//!   value. The sketched rows are the update's rows with the
//!   smallest hashes under a salt of the node's own seed, and the directions come from it
//!   too: a copier cannot tell which rows or directions to disguise.
//! - [`taylor`]: the squared first-order (Fisher/Taylor) score of the peer-aware model
//!   (the retired gated model's attribution), on the same triples, kept only to compare with
//!   (docs/attribution.md).

use std::collections::VecDeque;

use super::math::dot;
use super::sampling::{Lcg, NegativeTable, Subsampler};
use super::shared_space::UpdateBound;
use super::simd::{dispatch, Isa, Job, Kernel, Portable};
use super::sparse_update::{clip_scale, SparseUpdate};
use super::{W2vParams, Word2Vec};

/// Cosine on common rows at or above which an update is a copy of a reference. Honest
/// updates of two nodes on different shards measure far below it (docs/attribution.md).
pub const COPY_COSINE: f64 = 0.9;

/// Fraction of an update's rows that must be rows of a reference for it to count as a copy.
pub const COPY_OVERLAP: f64 = 0.5;

/// Fixed evaluation triples on the node's held-out text, indexed by the rows they touch.
#[derive(Debug, Clone)]
pub struct HeldOut {
    vocab: usize,
    negatives: usize,
    /// Secret of the node's copy sketches (its rows and directions), from the seed.
    salt: u64,
    /// Per triple, `2 + negatives` ids: input row, output row, then the negatives.
    triples: Vec<u32>,
    /// Row `r`'s triples are `touching[offsets[r]..offsets[r + 1]]`.
    offsets: Vec<u32>,
    touching: Vec<u32>,
}

impl HeldOut {
    /// Draws at most `max_pairs` (input, output) pairs uniformly (a reservoir) from the
    /// held-out sentences, subsampled and windowed as training does (`params.sample`,
    /// `params.window` shrunk at random), and `params.negatives` negatives for each from the
    /// unigram^`ns_exponent` table of `counts`; deterministic per `seed`.
    pub fn new(
        sentences: &[Vec<u32>],
        counts: &[u64],
        params: &W2vParams,
        max_pairs: usize,
        seed: u64,
    ) -> HeldOut {
        let vocab = counts.len();
        let negatives = params.negatives;
        let window = params.window.max(1);
        let mut rng = Lcg::new(seed);
        let sub = Subsampler::new(counts, params.sample);
        let mut pairs: Vec<(u32, u32)> = Vec::with_capacity(max_pairs.min(1 << 20));
        let mut seen = 0u64;
        let mut kept = Vec::new();
        for sentence in sentences {
            kept.clear();
            kept.extend(sentence.iter().copied().filter(|&id| {
                id != 0 && (id as usize) < vocab && rng.unit() < sub.keep_probability(id)
            }));
            for pos in 0..kept.len() {
                let reach = window - rng.below(window);
                let lo = pos.saturating_sub(reach);
                let hi = (pos + reach).min(kept.len() - 1);
                for c in (lo..=hi).filter(|&c| c != pos) {
                    seen += 1;
                    let pair = (kept[c], kept[pos]);
                    if pairs.len() < max_pairs {
                        pairs.push(pair);
                    } else if max_pairs > 0 {
                        let j = (rng.next_u64() % seen) as usize;
                        if j < max_pairs {
                            pairs[j] = pair;
                        }
                    }
                }
            }
        }
        let table = NegativeTable::new(counts, params.ns_exponent);
        let mut triples = Vec::with_capacity(pairs.len() * (2 + negatives));
        for &(input, output) in &pairs {
            triples.push(input);
            triples.push(output);
            for _ in 0..negatives {
                let mut n = table.draw(&mut rng);
                for _ in 0..8 {
                    if n != output {
                        break;
                    }
                    n = table.draw(&mut rng);
                }
                triples.push(n);
            }
        }
        let stride = 2 + negatives;
        let mut per_row: Vec<u32> = vec![0; vocab + 1];
        let mut rows = Vec::with_capacity(stride);
        let distinct = |t: &[u32], rows: &mut Vec<u32>| {
            rows.clear();
            rows.extend_from_slice(t);
            rows.sort_unstable();
            rows.dedup();
        };
        for t in triples.chunks_exact(stride) {
            distinct(t, &mut rows);
            for &r in &rows {
                per_row[r as usize + 1] += 1;
            }
        }
        for r in 0..vocab {
            per_row[r + 1] += per_row[r];
        }
        let offsets = per_row.clone();
        let mut fill = per_row;
        let mut touching = vec![0u32; *offsets.last().unwrap_or(&0) as usize];
        for (i, t) in triples.chunks_exact(stride).enumerate() {
            distinct(t, &mut rows);
            for &r in &rows {
                touching[fill[r as usize] as usize] = i as u32;
                fill[r as usize] += 1;
            }
        }
        HeldOut {
            vocab,
            negatives,
            salt: rng.next_u64(),
            triples,
            offsets,
            touching,
        }
    }

    /// Number of evaluation triples.
    pub fn len(&self) -> usize {
        self.triples.len() / (2 + self.negatives)
    }

    /// True when there is nothing to evaluate on.
    pub fn is_empty(&self) -> bool {
        self.triples.is_empty()
    }

    fn triple(&self, i: u32) -> &[u32] {
        let s = 2 + self.negatives;
        &self.triples[i as usize * s..(i as usize + 1) * s]
    }

    fn touching(&self, row: u32) -> &[u32] {
        let r = row as usize;
        if r >= self.vocab {
            return &[];
        }
        &self.touching[self.offsets[r] as usize..self.offsets[r + 1] as usize]
    }

    /// Mean loss of the model over all triples (for reports and tests).
    pub fn mean_loss(&self, model: &Word2Vec) -> f64 {
        let n = self.len();
        if n == 0 {
            return 0.0;
        }
        struct Mean<'a>(&'a HeldOut, &'a Word2Vec);
        impl Job for Mean<'_> {
            type Out = f64;
            #[inline(always)]
            fn run<K: Kernel>(self, k: K) -> f64 {
                let (held, model) = (self.0, self.1);
                let none = Shift {
                    parts: [None, None],
                };
                let mut x = vec![0f32; model.dim];
                let mut y = vec![0f32; model.dim];
                (0..held.len() as u32)
                    .map(|i| triple_loss(k, model, held.triple(i), &none, &mut x, &mut y))
                    .sum::<f64>()
            }
        }
        dispatch(Isa::best(), Mean(self, model)) / n as f64
    }
}

/// Which earlier update a peer's update copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyOf {
    /// The node's own update (this round's or a recent one): sent back.
    Own,
    /// The update of the peer at this index of this round, which arrived earlier.
    Peer(usize),
    /// A peer's update of one of the last `history_rounds` rounds: a replay.
    Earlier,
    /// Sent by an upstream proven to copy others: taken for a copy, worth 0; and its updates
    /// are no reference, so the source it copied is not taken for a replay of it when the
    /// copy came first.
    ProvenCopier,
}

/// One round's values: the node's own, then one per peer in the order given.
#[derive(Debug, Clone, PartialEq)]
pub struct Valuation {
    /// Held-out loss the node's own update removed (per triple; negative if it added loss).
    pub own: f64,
    /// Held-out loss each peer's clipped update removes (per triple; negative if it adds
    /// loss, as noise does).
    pub peers: Vec<f64>,
    /// Per peer, the update it copies (its value is then 0).
    pub copy_of: Vec<Option<CopyOf>>,
}

impl Valuation {
    /// `[own, peers...]`, the order attribution folds.
    pub fn importances(&self) -> Vec<f64> {
        std::iter::once(self.own)
            .chain(self.peers.iter().copied())
            .collect()
    }
}

/// An update kept to detect copies of it (never one of a proven copier).
struct Reference {
    sketch: Sketch,
    own: bool,
}

/// Directions of an update's sketch: the cosine of two sketches on their common rows
/// estimates the cosine of the updates with a standard error of about
/// `1 / sqrt(SKETCH x common rows)` (under 0.01 for the hundreds of rows of a round).
pub const SKETCH: usize = 16;

/// Most rows of an update a sketch projects: the cosine on their common rows then has a
/// standard error of about `1 / sqrt(SKETCH x SKETCH_ROWS)` (about 0.01), whatever the
/// update's size, and sketching costs a bounded share of a round.
pub const SKETCH_ROWS: usize = 512;

/// An update's rows and the projections of a sample of them, all the copy rule needs.
struct Sketch {
    /// All the update's rows (the overlap fraction is exact).
    rows: Vec<u32>,
    /// The sampled rows, ascending.
    sampled: Vec<u32>,
    /// `sampled.len() * SKETCH` values.
    values: Vec<f32>,
}

impl Sketch {
    /// The copy rule of the module docs on the sketches.
    /// The cosine on the samples comes first: it rules an honest update out after
    /// `O(SKETCH_ROWS)` work, where the exact overlap walks every row of both.
    fn copies(&self, reference: &Sketch) -> bool {
        self.sampled_cosine(reference) >= COPY_COSINE && self.overlap(reference) >= COPY_OVERLAP
    }

    /// As [`overlap_cosine`]: the fraction exact, the cosine estimated from the sketches
    /// on their common sampled rows.
    #[cfg(test)]
    fn cosine(&self, reference: &Sketch) -> (f64, f64) {
        (self.sampled_cosine(reference), self.overlap(reference))
    }

    /// The fraction of this update's rows that are rows of `reference`.
    fn overlap(&self, reference: &Sketch) -> f64 {
        let common = common_rows(&self.rows, &reference.rows, |_, _| {});
        common as f64 / self.rows.len().max(1) as f64
    }

    /// The cosine of the two updates estimated on their common sampled rows (0 when none).
    fn sampled_cosine(&self, reference: &Sketch) -> f64 {
        let (u, v) = (self, reference);
        let (mut uv, mut uu, mut vv) = (0f64, 0f64, 0f64);
        common_rows(&u.sampled, &v.sampled, |i, j| {
            let a = &u.values[i * SKETCH..(i + 1) * SKETCH];
            let b = &v.values[j * SKETCH..(j + 1) * SKETCH];
            uv += dot(a, b) as f64;
            uu += dot(a, a) as f64;
            vv += dot(b, b) as f64;
        });
        if uu <= 0.0 || vv <= 0.0 {
            return 0.0;
        }
        uv / (uu.sqrt() * vv.sqrt())
    }
}

/// Calls `f(i, j)` for each row common to the ascending `a` and `b` (`a[i] == b[j]`);
/// returns how many there are.
fn common_rows(a: &[u32], b: &[u32], mut f: impl FnMut(usize, usize)) -> usize {
    let (mut i, mut j, mut common) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                f(i, j);
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    common
}

/// A row's rank key in the sketch sample under `salt` (SplitMix64's finaliser).
fn row_hash(salt: u64, row: u32) -> u64 {
    let mut z = salt ^ (row as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Values each round's updates on a node's held-out triples (see the module docs).
pub struct Valuer {
    held_out: HeldOut,
    history_rounds: usize,
    history: VecDeque<Vec<Reference>>,
    /// Per triple, the pass that last evaluated it (dedupes triples touched by several rows).
    stamp: Vec<u32>,
    pass: u32,
    /// Per row, its index in the update under evaluation (`u32::MAX`: not in it).
    slot: Vec<u32>,
    /// The same for the node's own update.
    own_slot: Vec<u32>,
    /// The sketches' ±1 directions, `SKETCH x 2 dim` (made at the first update seen).
    projection: Vec<f32>,
}

impl Valuer {
    /// A valuer on these triples that remembers `history_rounds` past rounds for replays.
    pub fn new(held_out: HeldOut, history_rounds: usize) -> Valuer {
        Valuer {
            stamp: vec![0; held_out.len()],
            slot: vec![u32::MAX; held_out.vocab],
            own_slot: vec![u32::MAX; held_out.vocab],
            projection: Vec::new(),
            held_out,
            history_rounds,
            history: VecDeque::new(),
            pass: 0,
        }
    }

    /// The triples values are measured on.
    pub fn held_out(&self) -> &HeldOut {
        &self.held_out
    }

    /// Values one round: `model` holds the node's own update (`own`) but none of the
    /// peers'; `peers` in arrival order. Updates `bound` refuses are worth 0 (not copies);
    /// this round's updates then join the history.
    pub fn value(
        &mut self,
        model: &Word2Vec,
        own: &SparseUpdate,
        peers: &[SparseUpdate],
        bound: &UpdateBound,
    ) -> Valuation {
        self.value_with(model, own, peers, &[], bound)
    }

    /// [`Valuer::value`] where `proven[j]` says peer `j`'s upstream was proven to copy others
    /// (missing: not proven): its update is [`CopyOf::ProvenCopier`] and no reference for the
    /// others, this round or later. A copier that delivers a source's update before the
    /// source does would otherwise be credited and leave the source's own update, arriving
    /// later, a replay of it.
    pub fn value_with(
        &mut self,
        model: &Word2Vec,
        own: &SparseUpdate,
        peers: &[SparseUpdate],
        proven: &[bool],
        bound: &UpdateBound,
    ) -> Valuation {
        let proven = |j: usize| proven.get(j).copied().unwrap_or(false);
        let n = self.held_out.len().max(1) as f64;
        let own_ok = admissible(model, own, usize::MAX);
        let own_value = if own_ok {
            let (base, without) = self.losses(model, None, own, -1.0);
            (without - base) / n
        } else {
            0.0
        };
        let mut values = Vec::with_capacity(peers.len());
        let mut copy_of = Vec::with_capacity(peers.len());
        let ok: Vec<bool> = peers
            .iter()
            .map(|u| admissible(model, u, bound.max_rows))
            .collect();
        let own_sketch = own_ok.then(|| self.sketch(own));
        let sketches: Vec<Option<Sketch>> = peers
            .iter()
            .zip(&ok)
            .enumerate()
            .map(|(j, (u, ok))| (*ok && !proven(j)).then(|| self.sketch(u)))
            .collect();
        for (j, u) in peers.iter().enumerate() {
            if ok[j] && proven(j) {
                values.push(0.0);
                copy_of.push(Some(CopyOf::ProvenCopier));
                continue;
            }
            let Some(sketch) = &sketches[j] else {
                values.push(0.0);
                copy_of.push(None);
                continue;
            };
            let copy = self.copy_of(sketch, own_sketch.as_ref(), &sketches[..j]);
            copy_of.push(copy);
            if copy.is_some() || u.rows.is_empty() {
                values.push(0.0);
                continue;
            }
            let clipped = clip(u, bound.max_row_norm);
            let (base, with) = self.losses(model, own_ok.then_some(own), &clipped, 1.0);
            values.push((base - with) / n);
        }
        self.remember(own_sketch, sketches);
        Valuation {
            own: own_value,
            peers: values,
            copy_of,
        }
    }

    /// The first reference `u` copies: own, earlier peers of this round, then the history.
    fn copy_of(
        &self,
        u: &Sketch,
        own: Option<&Sketch>,
        earlier: &[Option<Sketch>],
    ) -> Option<CopyOf> {
        if u.rows.is_empty() {
            return None;
        }
        if own.is_some_and(|o| u.copies(o)) {
            return Some(CopyOf::Own);
        }
        if let Some(k) = earlier
            .iter()
            .position(|e| e.as_ref().is_some_and(|e| u.copies(e)))
        {
            return Some(CopyOf::Peer(k));
        }
        self.history
            .iter()
            .flatten()
            .find(|r| u.copies(&r.sketch))
            .map(|r| if r.own { CopyOf::Own } else { CopyOf::Earlier })
    }

    fn remember(&mut self, own: Option<Sketch>, peers: Vec<Option<Sketch>>) {
        if self.history_rounds == 0 {
            return;
        }
        let round: Vec<Reference> = own
            .map(|sketch| Reference { sketch, own: true })
            .into_iter()
            .chain(
                peers
                    .into_iter()
                    .flatten()
                    .map(|sketch| Reference { sketch, own: false }),
            )
            .filter(|r| !r.sketch.rows.is_empty())
            .collect();
        self.history.push_back(round);
        while self.history.len() > self.history_rounds {
            self.history.pop_front();
        }
    }

    /// At most [`SKETCH_ROWS`] of `u`'s rows (those with the smallest salted hashes), each
    /// (input and context deltas together) projected on [`SKETCH`] random ±1 directions of
    /// the node's own.
    fn sketch(&mut self, u: &SparseUpdate) -> Sketch {
        let width = 2 * u.dim;
        let salt = self.held_out.salt;
        if self.projection.len() != SKETCH * width {
            let mut rng = Lcg::new(salt);
            self.projection = (0..SKETCH * width)
                .map(|_| if rng.next_u64() >> 63 == 0 { 1.0 } else { -1.0 })
                .collect();
        }
        let mut picked: Vec<(u64, usize)> = u
            .rows
            .iter()
            .enumerate()
            .map(|(k, &r)| (row_hash(salt, r), k))
            .collect();
        if picked.len() > SKETCH_ROWS {
            picked.select_nth_unstable(SKETCH_ROWS - 1);
            picked.truncate(SKETCH_ROWS);
        }
        picked.sort_unstable_by_key(|&(_, k)| k);
        struct Project<'a> {
            projection: &'a [f32],
            u: &'a SparseUpdate,
            picked: &'a [(u64, usize)],
        }
        impl Job for Project<'_> {
            type Out = Vec<f32>;
            #[inline(always)]
            fn run<K: Kernel>(self, k: K) -> Vec<f32> {
                let (u, d) = (self.u, self.u.dim);
                let mut values = Vec::with_capacity(self.picked.len() * SKETCH);
                for &(_, i) in self.picked {
                    let (a, b) = (&u.input[i * d..(i + 1) * d], &u.context[i * d..(i + 1) * d]);
                    for p in self.projection.chunks_exact(2 * d) {
                        values.push(k.dot(&p[..d], a) + k.dot(&p[d..], b));
                    }
                }
                values
            }
        }
        let values = dispatch(
            Isa::best(),
            Project {
                projection: &self.projection,
                u,
                picked: &picked,
            },
        );
        Sketch {
            rows: u.rows.clone(),
            sampled: picked.iter().map(|&(_, k)| u.rows[k]).collect(),
            values,
        }
    }

    /// Summed loss of the terms of the triples `u` touches that `u` changes, at the
    /// reference point `model - own` (or `model` when `own` is None) and with `sign * u`
    /// added to it. A term whose rows `u` leaves alone is equal on both sides, so it is not
    /// computed: a triple touched through one negative costs two dot products.
    fn losses(
        &mut self,
        model: &Word2Vec,
        own: Option<&SparseUpdate>,
        u: &SparseUpdate,
        sign: f32,
    ) -> (f64, f64) {
        struct Losses<'a> {
            valuer: &'a mut Valuer,
            model: &'a Word2Vec,
            own: Option<&'a SparseUpdate>,
            u: &'a SparseUpdate,
            sign: f32,
        }
        impl Job for Losses<'_> {
            type Out = (f64, f64);
            #[inline(always)]
            fn run<K: Kernel>(self, k: K) -> (f64, f64) {
                self.valuer
                    .losses_with(k, self.model, self.own, self.u, self.sign)
            }
        }
        dispatch(
            Isa::best(),
            Losses {
                valuer: self,
                model,
                own,
                u,
                sign,
            },
        )
    }

    /// [`Valuer::losses`] on kernels `k`.
    #[inline(always)]
    fn losses_with<K: Kernel>(
        &mut self,
        k: K,
        model: &Word2Vec,
        own: Option<&SparseUpdate>,
        u: &SparseUpdate,
        sign: f32,
    ) -> (f64, f64) {
        let (mut base, mut moved) = (0f64, 0f64);
        let d = model.dim;
        let mut x_at = vec![0f32; d];
        let mut x_sh = vec![0f32; d];
        let mut y = vec![0f32; d];
        self.visit(own, u, sign, |held, t, at, shifted| {
            let t = held.triple(t);
            at.row_into(k, model, t[0], false, &mut x_at);
            let dx = shifted.changing(t[0], false);
            x_sh.copy_from_slice(&x_at);
            if let Some(dx) = dx {
                k.axpy(sign, dx, &mut x_sh);
            }
            for (i, &row) in t[1..].iter().enumerate() {
                let dy = shifted.changing(row, true);
                if dx.is_none() && dy.is_none() {
                    continue;
                }
                at.row_into(k, model, row, true, &mut y);
                let s_at = k.dot(&x_at, &y) as f64;
                if let Some(dy) = dy {
                    k.axpy(sign, dy, &mut y);
                }
                let s_sh = k.dot(&x_sh, &y) as f64;
                // The positive term's loss is softplus(-s), a negative's softplus(s).
                let flip = if i == 0 { 1.0 } else { -1.0 };
                base += softplus_neg(flip * s_at);
                moved += softplus_neg(flip * s_sh);
            }
        });
        (base, moved)
    }

    /// Calls `f` once for each triple that touches a row of `u`, with the reference point
    /// (`model - own`) and the reference point plus `sign * u`.
    fn visit(
        &mut self,
        own: Option<&SparseUpdate>,
        u: &SparseUpdate,
        sign: f32,
        mut f: impl FnMut(&HeldOut, u32, &Shift<'_>, &Shift<'_>),
    ) {
        self.pass = self.pass.wrapping_add(1);
        if self.pass == 0 {
            self.stamp.fill(0);
            self.pass = 1;
        }
        for (k, &r) in u.rows.iter().enumerate() {
            self.slot[r as usize] = k as u32;
        }
        if let Some(o) = own {
            for (k, &r) in o.rows.iter().enumerate() {
                self.own_slot[r as usize] = k as u32;
            }
        }
        let own = own.map(|o| (o, &self.own_slot[..], -1.0));
        let at = Shift { parts: [own, None] };
        let shifted = Shift {
            parts: [own, Some((u, &self.slot[..], sign))],
        };
        for &r in &u.rows {
            for &t in self.held_out.touching(r) {
                if self.stamp[t as usize] != self.pass {
                    self.stamp[t as usize] = self.pass;
                    f(&self.held_out, t, &at, &shifted);
                }
            }
        }
        for &r in &u.rows {
            self.slot[r as usize] = u32::MAX;
        }
        if let Some((o, _, _)) = own {
            for &r in &o.rows {
                self.own_slot[r as usize] = u32::MAX;
            }
        }
    }
}

/// Updates added to the model (each with its row index and sign), seen row by row.
struct Shift<'a> {
    parts: [Option<(&'a SparseUpdate, &'a [u32], f32)>; 2],
}

impl Shift<'_> {
    /// The delta (unsigned) the changing update (the second part) has for `row`, if any.
    fn changing(&self, row: u32, context: bool) -> Option<&[f32]> {
        let (u, slot, _) = self.parts[1]?;
        let k = slot[row as usize];
        if k == u32::MAX {
            return None;
        }
        let (k, d) = (k as usize, u.dim);
        let deltas = if context { &u.context } else { &u.input };
        Some(&deltas[k * d..(k + 1) * d])
    }

    /// Row `row` of the input (`context == false`) or context table, shifted, into `out`.
    #[inline(always)]
    fn row_into<K: Kernel>(
        &self,
        k: K,
        model: &Word2Vec,
        row: u32,
        context: bool,
        out: &mut [f32],
    ) {
        let d = model.dim;
        let table = if context { &model.syn1neg } else { &model.syn0 };
        let r = row as usize * d;
        out.copy_from_slice(&table[r..r + d]);
        for (u, slot, sign) in self.parts.iter().flatten() {
            let i = slot[row as usize];
            if i == u32::MAX {
                continue;
            }
            let deltas = if context { &u.context } else { &u.input };
            let i = i as usize;
            k.axpy(*sign, &deltas[i * d..(i + 1) * d], out);
        }
    }
}

/// `-log σ(x)`, to f32's precision (the tabulated sigmoid is too coarse for loss
/// differences; f64 gains nothing over the f32 dot product it is taken of).
fn softplus_neg(x: f64) -> f64 {
    let x = x as f32;
    let tail = (-x.abs()).exp().ln_1p();
    (if x > 0.0 { tail } else { tail - x }) as f64
}

fn dot64(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum()
}

/// Negative-sampling loss of one triple on the shifted model (`x`, `y`: `dim` scratch).
#[inline(always)]
fn triple_loss<K: Kernel>(
    k: K,
    model: &Word2Vec,
    t: &[u32],
    shift: &Shift<'_>,
    x: &mut [f32],
    y: &mut [f32],
) -> f64 {
    shift.row_into(k, model, t[0], false, x);
    shift.row_into(k, model, t[1], true, y);
    let mut loss = softplus_neg(k.dot(x, y) as f64);
    for &n in &t[2..] {
        shift.row_into(k, model, n, true, y);
        loss += softplus_neg(-k.dot(x, y) as f64);
    }
    loss
}

/// Whether [`super::apply_update`] would take `u` (its one gate, [`super::shared_space::admit`],
/// with at most `max_rows`); the loop reports the errors.
fn admissible(model: &Word2Vec, u: &SparseUpdate, max_rows: usize) -> bool {
    let bound = UpdateBound {
        max_row_norm: f32::INFINITY,
        max_rows,
    };
    super::shared_space::admit(model, u, &bound).is_ok()
}

/// `u` with each row's delta, per table, scaled down to L2 norm `max` (as applied); `u`
/// itself when no row is over (an honest sender's never is).
fn clip(u: &SparseUpdate, max: f32) -> std::borrow::Cow<'_, SparseUpdate> {
    let over = |t: &[f32]| {
        t.chunks_exact(u.dim.max(1))
            .any(|row| clip_scale(row, max) < 1.0)
    };
    if !(over(&u.input) || over(&u.context)) {
        return std::borrow::Cow::Borrowed(u);
    }
    let mut out = u.clone();
    for table in [&mut out.input, &mut out.context] {
        for row in table.chunks_exact_mut(u.dim) {
            let s = clip_scale(row, max);
            if s < 1.0 {
                row.iter_mut().for_each(|x| *x *= s);
            }
        }
    }
    std::borrow::Cow::Owned(out)
}

/// The cosine of `u` and `v` on their common rows (both tables) and the fraction of `u`'s
/// rows that are common; (0, 0) when nothing is common.
pub fn overlap_cosine(u: &SparseUpdate, v: &SparseUpdate) -> (f64, f64) {
    if u.dim != v.dim || u.rows.is_empty() {
        return (0.0, 0.0);
    }
    let d = u.dim;
    let (mut uv, mut uu, mut vv) = (0f64, 0f64, 0f64);
    let common = common_rows(&u.rows, &v.rows, |i, j| {
        for (a, b) in [(&u.input, &v.input), (&u.context, &v.context)] {
            let (ra, rb) = (&a[i * d..(i + 1) * d], &b[j * d..(j + 1) * d]);
            uv += dot(ra, rb) as f64;
            uu += dot(ra, ra) as f64;
            vv += dot(rb, rb) as f64;
        }
    });
    let fraction = common as f64 / u.rows.len() as f64;
    if uu <= 0.0 || vv <= 0.0 {
        return (0.0, fraction);
    }
    (uv / (uu.sqrt() * vv.sqrt()), fraction)
}

/// The Fisher/Taylor score of the retired gated model transposed to updates, for comparison:
/// `(u · dL/dθ)^2` at the same reference point as [`Valuer::value`] (`model - own`), on the
/// held-out triples `u` touches (the squared first-order loss change of the clipped update;
/// own unclipped), `[own, peers...]`. It has no sign, so an update that raises the loss
/// scores like one that lowers it.
pub fn taylor(
    model: &Word2Vec,
    held_out: &HeldOut,
    own: &SparseUpdate,
    peers: &[SparseUpdate],
    bound: &UpdateBound,
) -> Vec<f64> {
    let mut valuer = Valuer::new(held_out.clone(), 0);
    let n = held_out.len().max(1) as f64;
    let own_ok = admissible(model, own, usize::MAX);
    let reference = own_ok.then_some(own);
    let mut score = |u: &SparseUpdate| {
        let mut first = 0f64;
        valuer.visit(reference, u, 1.0, |held, t, at, _| {
            first += directional(model, held.triple(t), at, u, &RowSlot(&u.rows));
        });
        (first / n).powi(2)
    };
    let mut out = vec![if own_ok { score(own) } else { 0.0 }];
    for u in peers {
        out.push(if admissible(model, u, bound.max_rows) {
            score(&clip(u, bound.max_row_norm))
        } else {
            0.0
        });
    }
    out
}

/// `dℓ/dθ · u` of one triple at the point `at`.
fn directional(
    model: &Word2Vec,
    t: &[u32],
    at: &Shift<'_>,
    u: &SparseUpdate,
    slot: &RowSlot,
) -> f64 {
    let d = model.dim;
    let mut x = vec![0f32; d];
    let mut y = vec![0f32; d];
    at.row_into(Portable, model, t[0], false, &mut x);
    let dx = slot.get(t[0]).map(|k| &u.input[k * d..(k + 1) * d]);
    let mut total = 0f64;
    for (i, &o) in t[1..].iter().enumerate() {
        at.row_into(Portable, model, o, true, &mut y);
        let s = dot64(&x, &y);
        // ℓ = softplus(-s) for the positive, softplus(s) for a negative; dℓ/ds:
        let g = if i == 0 {
            -1.0 / (1.0 + s.exp())
        } else {
            1.0 / (1.0 + (-s).exp())
        };
        if let Some(dx) = dx {
            total += g * dot64(&y, dx);
        }
        if let Some(k) = slot.get(o) {
            total += g * dot64(&x, &u.context[k * d..(k + 1) * d]);
        }
    }
    total
}

/// Row -> index in one update (a sorted search; the comparison path only).
struct RowSlot<'a>(&'a [u32]);

impl RowSlot<'_> {
    fn get(&self, row: u32) -> Option<usize> {
        self.0.binary_search(&row).ok()
    }
}

#[cfg(test)]
#[path = "value_tests.rs"]
mod tests;
