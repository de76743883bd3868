//! What a node sends of its own change each round: the rule both the live node's loop and
//! the in-process [`super::train_exchanging`] use, so the experiment measures what the node
//! ships.
//!
//! Error feedback: the node keeps its tables as the network knows them (where all nodes
//! started, plus every update it sent and every peer update it applied); its residual is
//! its model minus that, its own change not sent yet, with no pass over the tables to find
//! the round's delta. The rows of the residual with the largest L2 norm (both tables
//! together), a fraction [`Compression::top_fraction`] of the rows that have one, are sent,
//! their values rounded to [`Compression::precision`], and what was sent becomes known. A
//! row not sent, and the rounding error of a row sent, stay in the residual and go out in
//! a later round: nothing is lost, only delayed (sum of sent = sum of own changes - final
//! residual). With `top_fraction = 1` and f32 the update is the round's change itself.
//!
//! A row cap ([`Compressor::with_row_cap`], the network's row bound) keeps every row a
//! node sends, per table, within the bound its peers clip to: the excess stays in the
//! residual and goes out in later rounds, so an honest node's change is delayed, never cut.

use half::bf16;

use super::simd::{dispatch, Isa, Job, Kernel};
use super::sparse_update::{clip_scale_with, SparseUpdate};
use super::Word2Vec;

/// Element type of the values a node publishes (and asks its upstreams for).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// IEEE single precision (4 bytes).
    #[default]
    F32,
    /// IEEE half precision (2 bytes; 11-bit significand, range +-65 504).
    F16,
    /// bfloat16 (2 bytes; 8-bit significand, the range of f32).
    Bf16,
    /// Signed bytes in steps of one f32 scale per row (1 byte a value and 4 a row; see
    /// [`super::int8`]).
    I8,
}

impl Precision {
    /// Its name in configurations and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Precision::F32 => "f32",
            Precision::F16 => "f16",
            Precision::Bf16 => "bf16",
            Precision::I8 => "i8",
        }
    }

    /// Bytes of one table's `rows` rows of `dim` values on the wire (the codec's count too).
    pub fn row_bytes(self, rows: usize, dim: usize) -> usize {
        match self {
            Precision::F32 => 4 * rows * dim,
            Precision::F16 | Precision::Bf16 => 2 * rows * dim,
            Precision::I8 => rows * (4 + dim),
        }
    }

    /// One row `xs` as it arrives after a trip through this type: each value as
    /// [`Precision::round`] gives it (f16 in one vectorised pass), or, in eight bits, the row
    /// by its own scale.
    pub fn round_slice(self, xs: &mut [f32]) {
        match self {
            Precision::F32 => {}
            Precision::I8 => super::int8::round_row(xs),
            Precision::F16 => super::f16::round_f16(xs),
            Precision::Bf16 => xs.iter_mut().for_each(|x| *x = self.round(*x)),
        }
    }

    /// `x` as it arrives after a trip through this type (finite `x` stays finite: f16
    /// saturates at its largest finite value instead of becoming infinite); in eight bits,
    /// `x` as a row of its own (`x` to within a unit in the last place).
    pub fn round(self, x: f32) -> f32 {
        match self {
            Precision::F32 => x,
            Precision::I8 | Precision::F16 => {
                let mut one = [x];
                self.round_slice(&mut one);
                one[0]
            }
            Precision::Bf16 => {
                let y = bf16::from_f32(x).to_f32();
                if y.is_finite() {
                    y
                } else {
                    x.signum() * bf16::MAX.to_f32()
                }
            }
        }
    }
}

/// How much of its own change a node sends per round.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Compression {
    /// Fraction (0, 1] of the rows held in the residual sent each round, largest norm first.
    pub top_fraction: f32,
    /// Element type of the values sent.
    pub precision: Precision,
}

/// Default of [`Compression::top_fraction`] (see docs/embeddings.md for how it was chosen).
pub const DEFAULT_TOP_FRACTION: f32 = 0.25;
/// Default of [`Compression::precision`] (see docs/embeddings.md for how it was chosen).
pub const DEFAULT_PRECISION: Precision = Precision::F16;

impl Default for Compression {
    fn default() -> Self {
        Compression {
            top_fraction: DEFAULT_TOP_FRACTION,
            precision: DEFAULT_PRECISION,
        }
    }
}

impl Compression {
    /// Sends every row in f32: the update is the delta itself.
    pub const NONE: Compression = Compression {
        top_fraction: 1.0,
        precision: Precision::F32,
    };

    /// Bytes of `u` on the wire at this precision (ids as `u32`, the header of the
    /// sparse-update encoding): the in-process experiment's count of what a node ships.
    pub fn wire_bytes(&self, u: &SparseUpdate) -> usize {
        20 + 4 * u.rows.len() + 2 * self.precision.row_bytes(u.rows.len(), u.dim)
    }
}

/// What the network knows of a node's model (see the module docs): the residual is the
/// model minus it.
#[derive(Debug, Clone)]
pub struct Compressor {
    settings: Compression,
    dim: usize,
    /// The model's tables as the node's peers have them: where it started, plus every
    /// update it sent and every peer update it applied (`[vocab * dim]` each).
    known_input: Vec<f32>,
    known_context: Vec<f32>,
    row_cap: f32,
}

/// One row's residual in both tables, `[input | context]`, and its squared norms.
struct RowResidual {
    values: Vec<f32>,
    norms: [f32; 2],
}

impl Compressor {
    /// Nothing unsent yet: the network knows `input` and `context` (`[vocab * dim]`, the
    /// tables every node starts from).
    pub fn new(input: &[f32], context: &[f32], dim: usize, settings: Compression) -> Compressor {
        Compressor {
            settings,
            dim,
            known_input: input.to_vec(),
            known_context: context.to_vec(),
            row_cap: f32::INFINITY,
        }
    }

    /// The rule for a node that starts from `model`, each row it sends within `row_cap` (the
    /// network's row bound), as the node's loop and the in-process exchange use it.
    pub fn for_model(model: &Word2Vec, settings: Compression, row_cap: f32) -> Compressor {
        Compressor::new(&model.syn0, &model.syn1neg, model.dim, settings).with_row_cap(row_cap)
    }

    /// The same rule, sending no row of either table with an L2 norm above `cap` (the rest
    /// is kept for later rounds), so that peers clipping at `cap` lose none of it.
    pub fn with_row_cap(mut self, cap: f32) -> Compressor {
        if cap.is_finite() && cap > 0.0 {
            self.row_cap = cap;
        }
        self
    }

    /// The tables as the network knows them, `(input, context)`.
    pub fn known(&self) -> (&[f32], &[f32]) {
        (&self.known_input, &self.known_context)
    }

    /// What the network knows of the model, for a peer's update to be added to as it is
    /// to the model ([`super::apply_update_known`]): it is not this node's to send.
    pub(crate) fn known_mut(&mut self) -> (&mut [f32], &mut [f32]) {
        (&mut self.known_input, &mut self.known_context)
    }

    /// What to send of the model's tables `input` and `context` (`[vocab * dim]`) this
    /// round: its rows that differ from what the network knows, all of them or the
    /// `top_fraction` with the largest residual (both tables together), each capped and
    /// rounded; what is sent becomes known.
    pub fn compress(&mut self, input: &[f32], context: &[f32], round: u64) -> SparseUpdate {
        struct Compress<'a> {
            compressor: &'a mut Compressor,
            tables: (&'a [f32], &'a [f32]),
            round: u64,
        }
        impl Job for Compress<'_> {
            type Out = SparseUpdate;
            #[inline(always)]
            fn run<K: Kernel>(self, k: K) -> SparseUpdate {
                let (input, context) = self.tables;
                self.compressor.compress_with(k, input, context, self.round)
            }
        }
        dispatch(
            Isa::best(),
            Compress {
                compressor: self,
                tables: (input, context),
                round,
            },
        )
    }

    /// [`Compressor::compress`] on kernels `k`.
    #[inline(always)]
    fn compress_with<K: Kernel>(
        &mut self,
        k: K,
        input: &[f32],
        context: &[f32],
        round: u64,
    ) -> SparseUpdate {
        let dim = self.dim;
        let vocab = self.known_input.len() / dim.max(1);
        let mut scratch = RowResidual {
            values: vec![0f32; 2 * dim],
            norms: [0.0; 2],
        };
        let rows: Vec<u32> = if self.settings.top_fraction >= 1.0 {
            (0..vocab as u32).collect()
        } else {
            self.largest_rows(k, input, context, &mut scratch)
        };
        let mut out = SparseUpdate {
            round,
            dim,
            rows: Vec::with_capacity(rows.len()),
            input: Vec::with_capacity(rows.len() * dim),
            context: Vec::with_capacity(rows.len() * dim),
        };
        for r in rows {
            if self.residual_of(k, r, input, context, &mut scratch) {
                self.send_row(k, r, input, context, &mut scratch, &mut out);
            }
        }
        out
    }

    /// Row `r`'s residual into `scratch`; false when it is zero (nothing to send).
    #[inline(always)]
    fn residual_of<K: Kernel>(
        &self,
        k: K,
        r: u32,
        input: &[f32],
        context: &[f32],
        scratch: &mut RowResidual,
    ) -> bool {
        let dim = self.dim;
        let s = r as usize * dim..(r as usize + 1) * dim;
        let (a, b) = scratch.values.split_at_mut(dim);
        for (t, (out, (now, known))) in [
            (a, (&input[s.clone()], &self.known_input[s.clone()])),
            (b, (&context[s.clone()], &self.known_context[s.clone()])),
        ]
        .into_iter()
        .enumerate()
        {
            for ((o, x), k) in out.iter_mut().zip(now).zip(known) {
                *o = x - k;
            }
            scratch.norms[t] = k.dot(out, out);
        }
        scratch.norms[0] > 0.0 || scratch.norms[1] > 0.0
    }

    /// Sends row `r` (its residual in `scratch`): capped, rounded, appended to `out` and
    /// added to what the network knows (set to the model's row when sent whole).
    #[inline(always)]
    fn send_row<K: Kernel>(
        &mut self,
        k: K,
        r: u32,
        input: &[f32],
        context: &[f32],
        scratch: &mut RowResidual,
        out: &mut SparseUpdate,
    ) {
        let dim = self.dim;
        let s = r as usize * dim..(r as usize + 1) * dim;
        let precision = self.settings.precision;
        let (a, b) = scratch.values.split_at_mut(dim);
        for ((sent, norm), (known, now, dest)) in [a, b].into_iter().zip(scratch.norms).zip([
            (
                &mut self.known_input[s.clone()],
                &input[s.clone()],
                &mut out.input,
            ),
            (
                &mut self.known_context[s.clone()],
                &context[s.clone()],
                &mut out.context,
            ),
        ]) {
            let scale = cap_scale(norm, self.row_cap);
            if scale < 1.0 {
                sent.iter_mut().for_each(|x| *x *= scale);
            }
            precision.round_slice(sent);
            // Rounding can lengthen a row a little past the cap (eight bits most): shrink
            // it until the receivers' own rule finds nothing to clip; the rest stays here.
            for _ in 0..4 {
                let over = clip_scale_with(k, sent, self.row_cap);
                if over >= 1.0 {
                    break;
                }
                sent.iter_mut().for_each(|x| *x *= over * 0.995);
                precision.round_slice(sent);
            }
            dest.extend_from_slice(sent);
            if scale == 1.0 && precision == Precision::F32 {
                known.copy_from_slice(now);
            } else {
                known.iter_mut().zip(&*sent).for_each(|(k, x)| *k += x);
            }
        }
        out.rows.push(r);
    }

    /// The `top_fraction` of the rows with a residual, largest L2 norm (both tables
    /// together) first, ascending.
    #[inline(always)]
    fn largest_rows<K: Kernel>(
        &self,
        k: K,
        input: &[f32],
        context: &[f32],
        scratch: &mut RowResidual,
    ) -> Vec<u32> {
        let vocab = self.known_input.len() / self.dim.max(1);
        let mut candidates: Vec<(f32, u32)> = Vec::new();
        for r in 0..vocab as u32 {
            if self.residual_of(k, r, input, context, scratch) {
                candidates.push((scratch.norms[0] + scratch.norms[1], r));
            }
        }
        let keep = ((candidates.len() as f64 * self.settings.top_fraction.clamp(0.0, 1.0) as f64)
            .ceil() as usize)
            .min(candidates.len());
        if keep < candidates.len() && keep > 0 {
            // Largest norm first; ties by row id, so the choice is deterministic.
            candidates
                .select_nth_unstable_by(keep - 1, |a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        }
        candidates.truncate(keep);
        let mut rows: Vec<u32> = candidates.into_iter().map(|(_, r)| r).collect();
        rows.sort_unstable();
        rows
    }
}

/// The factor that brings a row of squared L2 norm `norm2` within `cap` (1 when it is
/// within), a little under so that rounding to the wire's precision cannot push it over.
fn cap_scale(norm2: f32, cap: f32) -> f32 {
    if cap.is_infinite() {
        return 1.0;
    }
    let norm = norm2.sqrt();
    if norm > cap {
        cap / norm * 0.995
    } else {
        1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::w2v::sampling::Lcg;
    use crate::model::w2v::sparse_update::clip_scale;

    /// A random delta over a random subset of `vocab` rows.
    fn random_delta(rng: &mut Lcg, vocab: usize, dim: usize, round: u64) -> SparseUpdate {
        let rows: Vec<u32> = (0..vocab as u32)
            .filter(|_| !rng.next_u64().is_multiple_of(3))
            .collect();
        let mut value = || ((rng.next_u64() % 2001) as f32 / 1000.0 - 1.0) * 0.01;
        let n = rows.len() * dim;
        let input = (0..n).map(|_| value()).collect();
        let context = (0..n).map(|_| value()).collect();
        SparseUpdate {
            round,
            dim,
            rows,
            input,
            context,
        }
    }

    fn scatter(sum: &mut [f32], u: &SparseUpdate, table: &[f32]) {
        for (k, &r) in u.rows.iter().enumerate() {
            for i in 0..u.dim {
                sum[r as usize * u.dim + i] += table[k * u.dim + i];
            }
        }
    }

    #[test]
    fn the_residual_carries_over_so_nothing_is_lost() {
        let (vocab, dim) = (50, 4);
        for settings in [
            Compression {
                top_fraction: 0.1,
                precision: Precision::F32,
            },
            Compression {
                top_fraction: 0.3,
                precision: Precision::F16,
            },
            Compression {
                top_fraction: 1.0,
                precision: Precision::Bf16,
            },
            Compression {
                top_fraction: 0.3,
                precision: Precision::I8,
            },
        ] {
            let mut rng = Lcg::new(7);
            let zeros = vec![0f32; vocab * dim];
            let mut c = Compressor::new(&zeros, &zeros, dim, settings);
            let (mut deltas_in, mut deltas_ctx) = (zeros.clone(), zeros.clone());
            let (mut sent_in, mut sent_ctx) = (zeros.clone(), zeros.clone());
            let mut sent_rows = 0;
            for round in 0..20 {
                let d = random_delta(&mut rng, vocab, dim, round);
                scatter(&mut deltas_in, &d, &d.input);
                scatter(&mut deltas_ctx, &d, &d.context);
                let s = c.compress(&deltas_in, &deltas_ctx, round);
                s.validate().unwrap();
                assert_eq!(s.round, round);
                if settings.top_fraction < 1.0 {
                    assert!(s.rows.len() < vocab, "{settings:?} sent every row");
                }
                for row in s.input.chunks(dim).chain(s.context.chunks(dim)) {
                    let mut again = row.to_vec();
                    settings.precision.round_slice(&mut again);
                    assert_eq!(again, row, "{settings:?}: sent rows are already rounded");
                }
                sent_rows += s.rows.len();
                scatter(&mut sent_in, &s, &s.input);
                scatter(&mut sent_ctx, &s, &s.context);
            }
            assert!(sent_rows > 0);
            let (known_in, known_ctx) = c.known();
            for (sum, sent, known) in [
                (&deltas_in, &sent_in, known_in),
                (&deltas_ctx, &sent_ctx, known_ctx),
            ] {
                for i in 0..vocab * dim {
                    let gap = (sent[i] - known[i]).abs();
                    assert!(gap < 1e-6, "{settings:?} lost {gap} at {i}");
                    assert!((sum[i] - known[i]).abs() < 0.1, "{settings:?} at {i}");
                }
            }
            // The residual is what was not sent yet: smaller than what was.
            let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
            let residual: Vec<f32> = deltas_in.iter().zip(known_in).map(|(a, b)| a - b).collect();
            assert!(norm(&residual) < norm(&sent_in), "{settings:?}");
        }
    }

    #[test]
    fn the_rows_sent_are_the_largest() {
        let zeros = [0f32; 4];
        let mut c = Compressor::new(
            &zeros,
            &zeros,
            1,
            Compression {
                top_fraction: 0.5,
                precision: Precision::F32,
            },
        );
        let (now_in, now_ctx) = ([0.1, -3.0, 0.2, 0.0], [0.0, 0.0, 0.0, 2.0]);
        let s = c.compress(&now_in, &now_ctx, 1);
        assert_eq!(s.rows, vec![1, 3]);
        assert_eq!(s.input, vec![-3.0, 0.0]);
        assert_eq!(s.context, vec![0.0, 2.0]);
        // Nothing new: the two held back go out, half of what is held each round.
        let s = c.compress(&now_in, &now_ctx, 2);
        assert_eq!((s.rows, s.input), (vec![2], vec![0.2]));
        let s = c.compress(&now_in, &now_ctx, 3);
        assert_eq!((s.rows, s.input), (vec![0], vec![0.1]));
        assert!(c.compress(&now_in, &now_ctx, 4).rows.is_empty());
    }

    #[test]
    fn a_row_cap_delays_what_is_over_it_and_loses_nothing() {
        let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
        for settings in [Compression::NONE, Compression::default()] {
            let zeros = [0f32; 6];
            let mut c = Compressor::new(&zeros, &zeros, 2, settings).with_row_cap(1.0);
            // Row 1's input change has norm 3: it goes out in pieces of at most 1.
            let now_in = [0.3, 0.4, 1.8, -2.4, 0.0, 0.0];
            let now_ctx = [0.0, 0.1, 0.6, 0.8, 0.0, 0.0];
            let mut sent = [0.0f32; 4];
            let mut pieces = 0;
            for round in 1..10 {
                let u = c.compress(&now_in, &now_ctx, round);
                assert!(!u.rows.contains(&2), "an unchanged row is not sent");
                for (k, &r) in u.rows.iter().enumerate() {
                    let (i, x) = (&u.input[2 * k..2 * k + 2], &u.context[2 * k..2 * k + 2]);
                    assert!(norm(i) <= 1.0 && norm(x) <= 1.0, "{settings:?} {u:?}");
                    if r == 1 {
                        pieces += usize::from(norm(i) > 0.1);
                        sent[0] += i[0];
                        sent[1] += i[1];
                        sent[2] += x[0];
                        sent[3] += x[1];
                    }
                }
            }
            assert!(pieces >= 3, "{settings:?}: norm 3 in pieces of at most 1");
            for (got, want) in sent.iter().zip([1.8, -2.4, 0.6, 0.8]) {
                assert!((got - want).abs() < 2e-3, "{settings:?}: {sent:?}");
            }
        }
    }

    /// However a row rounds, what is sent passes the receivers' own clip untouched: rows
    /// over the cap, and rows just under it that rounding would lengthen.
    #[test]
    fn no_sent_row_is_clipped_by_its_receivers_in_any_precision() {
        let (vocab, dim, cap) = (200, 100, 0.5f32);
        for &precision in <Precision as clap::ValueEnum>::value_variants() {
            let mut rng = Lcg::new(17);
            let settings = Compression {
                top_fraction: 1.0,
                precision,
            };
            let zeros = vec![0f32; vocab * dim];
            let mut c = Compressor::new(&zeros, &zeros, dim, settings).with_row_cap(cap);
            let (mut now_in, mut now_ctx) = (zeros.clone(), zeros.clone());
            for round in 1..8 {
                // Each round's change of a row: a random direction, its norm from just
                // under the cap (where rounding may lengthen it past) to twice the cap.
                for (i, row) in now_in
                    .chunks_mut(dim)
                    .chain(now_ctx.chunks_mut(dim))
                    .enumerate()
                {
                    let d: Vec<f32> = (0..dim)
                        .map(|_| (rng.next_u64() % 2_001) as f32 / 1000.0 - 1.0)
                        .collect();
                    let n = d.iter().map(|x| x * x).sum::<f32>().sqrt();
                    let want = cap
                        * if i % 4 == 0 {
                            2.0
                        } else {
                            0.99 + 0.01 * (i % 97) as f32 / 97.0
                        };
                    row.iter_mut().zip(&d).for_each(|(x, v)| *x += v * want / n);
                }
                let u = c.compress(&now_in, &now_ctx, round);
                for row in u.input.chunks(dim).chain(u.context.chunks(dim)) {
                    assert!(
                        clip_scale(row, cap) >= 1.0,
                        "{precision:?} round {round}: a row of norm {} over the cap",
                        row.iter().map(|x| x * x).sum::<f32>().sqrt()
                    );
                }
            }
        }
    }

    #[test]
    fn all_rows_in_f32_is_the_change_itself_and_peers_are_not_resent() {
        let mut rng = Lcg::new(3);
        let (vocab, dim) = (30, 5);
        let start: Vec<f32> = (0..vocab * dim).map(|i| i as f32 * 0.01).collect();
        let mut c = Compressor::new(&start, &start, dim, Compression::NONE);
        let d = random_delta(&mut rng, vocab, dim, 4);
        let (mut now_in, mut now_ctx) = (start.clone(), start.clone());
        scatter(&mut now_in, &d, &d.input);
        scatter(&mut now_ctx, &d, &d.context);
        let sent = c.compress(&now_in, &now_ctx, 4);
        assert_eq!(sent.rows, d.rows);
        for (got, want) in sent.input.iter().zip(&d.input) {
            assert!((got - want).abs() < 1e-6);
        }
        assert_eq!(
            c.known(),
            (&now_in[..], &now_ctx[..]),
            "sent whole: known exactly"
        );
        // A peer's update applied to the model is known too: nothing to send.
        let peer = random_delta(&mut rng, vocab, dim, 5);
        peer.add_clipped_to(&mut [(&mut now_in, &mut now_ctx), c.known_mut()], 0.5);
        assert!(c.compress(&now_in, &now_ctx, 5).rows.is_empty());
    }

    #[test]
    fn rounding_a_slice_is_rounding_each_value() {
        let mut rng = Lcg::new(5);
        let mut xs: Vec<f32> = (0..1000)
            .map(|_| ((rng.next_u64() % 2_000_001) as f32 / 1_000_000.0 - 1.0) * 3.0)
            .collect();
        xs.extend([
            0.0,
            -0.0,
            1e-9,
            -3e-8,
            65_504.0,
            70_000.0,
            -1e9,
            f32::MAX,
            5.96e-8,
        ]);
        for p in [Precision::F32, Precision::F16, Precision::Bf16] {
            let mut got = xs.clone();
            p.round_slice(&mut got);
            for (x, g) in xs.iter().zip(&got) {
                assert_eq!(g.to_bits(), p.round(*x).to_bits(), "{p:?} {x}");
            }
        }
    }

    #[test]
    fn half_precision_round_trip_is_bounded_and_finite() {
        let mut rng = Lcg::new(11);
        for _ in 0..10_000 {
            let x = ((rng.next_u64() % 2_000_001) as f32 / 1_000_000.0 - 1.0) * 0.5;
            if x.abs() < 1e-4 {
                continue;
            }
            // f16: 11-bit significand (relative error <= 2^-11); bf16: 8 bits (<= 2^-8).
            assert!(
                (Precision::F16.round(x) - x).abs() <= x.abs() * 4.9e-4,
                "{x}"
            );
            assert!(
                (Precision::Bf16.round(x) - x).abs() <= x.abs() * 3.91e-3,
                "{x}"
            );
        }
        for p in [Precision::F16, Precision::Bf16] {
            for x in [1e6f32, -1e6, f32::MAX, f32::MIN] {
                assert!(p.round(x).is_finite(), "{p:?} {x}");
                assert_eq!(p.round(x).signum(), x.signum());
            }
        }
        assert_eq!(Precision::F16.round(65_504.0), 65_504.0);
    }
}
