//! The sparse-update message nodes exchange to keep their models in one space: the rows of
//! both tables (input and context vectors) a node changed since its last exchange, and by
//! how much. Types and the binary encoding live here, apart from any transport, so the same
//! message rides on whichever peer session carries it; [`super::shared_space::apply_update`]
//! is the handler, a plain function from a decoded update to what it applied.
//!
//! Encoding (little-endian): magic `b"SPU1"`, `round: u64`, `dim: u32`, `n: u32`, then `n`
//! strictly increasing row ids (`u32`), `n * dim` input deltas, `n * dim` context deltas
//! (`f32`).

use super::simd::{dispatch, Isa, Job, Kernel};
use crate::model::ModelError;

const MAGIC: &[u8; 4] = b"SPU1";
const HEADER: usize = 4 + 8 + 4 + 4;

/// The changes of one node's tables over one exchange round.
#[derive(Debug, Clone, PartialEq)]
pub struct SparseUpdate {
    /// The sender's exchange round (for logs and ordering).
    pub round: u64,
    /// Vector dimension.
    pub dim: usize,
    /// Changed rows, strictly increasing.
    pub rows: Vec<u32>,
    /// Input-vector deltas, `rows.len() * dim`.
    pub input: Vec<f32>,
    /// Context-vector deltas, `rows.len() * dim`.
    pub context: Vec<f32>,
}

fn bad(why: impl Into<String>) -> ModelError {
    ModelError::Config(format!("malformed sparse update: {}", why.into()))
}

/// The factor a peer's row delta is scaled by when applied: down to L2 norm `max` if longer
/// (the estimator values an update with the same factor).
pub(crate) fn clip_scale(delta: &[f32], max: f32) -> f32 {
    struct Scale<'a>(&'a [f32], f32);
    impl Job for Scale<'_> {
        type Out = f32;
        #[inline(always)]
        fn run<K: Kernel>(self, k: K) -> f32 {
            clip_scale_with(k, self.0, self.1)
        }
    }
    dispatch(Isa::best(), Scale(delta, max))
}

/// [`clip_scale`] on kernels `k`, for loops that already run on them.
#[inline(always)]
pub(crate) fn clip_scale_with<K: Kernel>(k: K, delta: &[f32], max: f32) -> f32 {
    // In f32 lanes (fast); in f64 when that overflows (a hostile row of huge values).
    let fast = k.dot(delta, delta);
    let norm = if fast.is_finite() {
        fast.sqrt()
    } else {
        delta
            .iter()
            .map(|x| (*x as f64).powi(2))
            .sum::<f64>()
            .sqrt() as f32
    };
    if norm > max {
        max / norm
    } else {
        1.0
    }
}

/// [`SparseUpdate::add_clipped_to`]'s loop, compiled once per instruction set.
struct AddClipped<'a, 'b, 'c> {
    update: &'a SparseUpdate,
    targets: &'a mut [(&'b mut [f32], &'c mut [f32])],
    max_row_norm: f32,
}

impl Job for AddClipped<'_, '_, '_> {
    type Out = usize;

    #[inline(always)]
    fn run<K: Kernel>(self, k: K) -> usize {
        let u = self.update;
        let dim = u.dim;
        let mut clipped = 0;
        for (i, &r) in u.rows.iter().enumerate() {
            let (row, d) = (r as usize * dim, i * dim);
            for (context, deltas) in [(false, &u.input), (true, &u.context)] {
                let delta = &deltas[d..d + dim];
                let scale = clip_scale_with(k, delta, self.max_row_norm);
                clipped += usize::from(scale < 1.0);
                for pair in self.targets.iter_mut() {
                    let table = if context { &mut *pair.1 } else { &mut *pair.0 };
                    k.axpy(scale, delta, &mut table[row..row + dim]);
                }
            }
        }
        clipped
    }
}

impl SparseUpdate {
    /// Adds each row's deltas, per table clipped to L2 norm `max_row_norm`, to every pair
    /// of tables `(input, context)` in `targets` (`[vocab * dim]`, rows checked by the
    /// caller): the one way a peer's update is applied, to the model and to what the network
    /// knows of it, each row's clip factor computed once for all of them.
    /// Returns the row deltas clipped.
    pub(crate) fn add_clipped_to(
        &self,
        targets: &mut [(&mut [f32], &mut [f32])],
        max_row_norm: f32,
    ) -> usize {
        dispatch(
            Isa::best(),
            AddClipped {
                update: self,
                targets,
                max_row_norm,
            },
        )
    }

    /// One peer's updates of one fetch as a single update (rows united, deltas added), so a
    /// peer's value does not depend on how it cut its training into rounds. Keeps the last
    /// round number; all must share `dim` (validated updates of one node do).
    pub fn merged(updates: &[SparseUpdate]) -> Option<SparseUpdate> {
        let first = updates.first()?;
        let dim = first.dim;
        let mut sums: std::collections::BTreeMap<u32, (Vec<f32>, Vec<f32>)> = Default::default();
        for u in updates.iter().filter(|u| u.dim == dim) {
            for (i, &row) in u.rows.iter().enumerate() {
                let (inp, ctx) = sums
                    .entry(row)
                    .or_insert_with(|| (vec![0.0; dim], vec![0.0; dim]));
                let span = i * dim..(i + 1) * dim;
                inp.iter_mut()
                    .zip(&u.input[span.clone()])
                    .for_each(|(a, b)| *a += b);
                ctx.iter_mut()
                    .zip(&u.context[span])
                    .for_each(|(a, b)| *a += b);
            }
        }
        let mut out = SparseUpdate {
            round: updates.iter().map(|u| u.round).max().unwrap_or(0),
            dim,
            rows: Vec::with_capacity(sums.len()),
            input: Vec::with_capacity(sums.len() * dim),
            context: Vec::with_capacity(sums.len() * dim),
        };
        for (row, (inp, ctx)) in sums {
            out.rows.push(row);
            out.input.extend(inp);
            out.context.extend(ctx);
        }
        Some(out)
    }

    /// Checks the shape, the row order and that every value is finite.
    pub fn validate(&self) -> Result<(), ModelError> {
        let n = self.rows.len();
        if self.dim == 0 {
            return Err(bad("dim 0"));
        }
        if self.input.len() != n * self.dim || self.context.len() != n * self.dim {
            return Err(bad(format!(
                "{n} rows of dim {} need {} values per table, got {} and {}",
                self.dim,
                n * self.dim,
                self.input.len(),
                self.context.len()
            )));
        }
        if self.rows.windows(2).any(|w| w[0] >= w[1]) {
            return Err(bad("rows not strictly increasing"));
        }
        // A fold without early exit, so the check vectorises.
        let finite = |t: &[f32]| t.iter().fold(true, |ok, x| ok & x.is_finite());
        if !(finite(&self.input) && finite(&self.context)) {
            return Err(bad("non-finite value"));
        }
        Ok(())
    }

    /// Length of [`SparseUpdate::encode`]'s output.
    pub fn encoded_len(&self) -> usize {
        HEADER + 4 * self.rows.len() + 8 * self.rows.len() * self.dim
    }

    /// The wire bytes.
    pub fn encode(&self) -> Vec<u8> {
        let n = self.rows.len();
        let mut out = Vec::with_capacity(self.encoded_len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.round.to_le_bytes());
        out.extend_from_slice(&(self.dim as u32).to_le_bytes());
        out.extend_from_slice(&(n as u32).to_le_bytes());
        for r in &self.rows {
            out.extend_from_slice(&r.to_le_bytes());
        }
        for x in self.input.iter().chain(&self.context) {
            out.extend_from_slice(&x.to_le_bytes());
        }
        out
    }

    /// Decodes and validates wire bytes; never panics on any input.
    pub fn decode(bytes: &[u8]) -> Result<SparseUpdate, ModelError> {
        if bytes.len() < HEADER || &bytes[..4] != MAGIC {
            return Err(bad("no SPU1 header"));
        }
        let u32_at =
            |i: usize| u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
        let mut round = [0u8; 8];
        round.copy_from_slice(&bytes[4..12]);
        let (dim, n) = (u32_at(12) as usize, u32_at(16) as usize);
        let values = n
            .checked_mul(dim)
            .and_then(|v| v.checked_mul(8))
            .and_then(|v| v.checked_add(n * 4 + HEADER))
            .ok_or_else(|| bad("size overflows"))?;
        if bytes.len() != values {
            return Err(bad(format!("{} bytes, expected {values}", bytes.len())));
        }
        let rows = (0..n).map(|i| u32_at(HEADER + 4 * i)).collect();
        let start = HEADER + 4 * n;
        let floats: Vec<f32> = bytes[start..]
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        let (input, context) = floats.split_at(n * dim);
        let update = SparseUpdate {
            round: u64::from_le_bytes(round),
            dim,
            rows,
            input: input.to_vec(),
            context: context.to_vec(),
        };
        update.validate()?;
        Ok(update)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> SparseUpdate {
        SparseUpdate {
            round: 7,
            dim: 2,
            rows: vec![1, 5],
            input: vec![0.5, -1.0, 2.0, 0.0],
            context: vec![1.0, 1.0, -0.25, 3.0],
        }
    }

    /// The clipped add on every instruction set this processor has agrees with the portable
    /// loop (the same rows clipped, the tables equal to rounding), on rows as long as the
    /// model's and with a hostile row whose f32 norm overflows.
    #[test]
    fn the_clipped_add_agrees_on_every_instruction_set() {
        let (dim, vocab) = (100, 6);
        let mut rng = super::super::sampling::Lcg::new(5);
        let mut value = || (rng.next_u64() % 2001) as f32 / 1000.0 - 1.0;
        let rows = vec![0, 2, 5];
        let mut input: Vec<f32> = (0..rows.len() * dim).map(|_| value()).collect();
        let context: Vec<f32> = (0..rows.len() * dim).map(|_| value() * 0.01).collect();
        input[dim] = 3e30;
        let u = SparseUpdate {
            round: 1,
            dim,
            rows,
            input,
            context,
        };
        let run = |isa: Isa| {
            let mut a = vec![0.5f32; vocab * dim];
            let mut b = vec![-0.5f32; vocab * dim];
            let mut targets = [(&mut a[..], &mut b[..])];
            let clipped = dispatch(
                isa,
                AddClipped {
                    update: &u,
                    targets: &mut targets,
                    max_row_norm: 0.5,
                },
            );
            (clipped, a, b)
        };
        let (clipped, a, b) = run(Isa::Portable);
        assert_eq!(clipped, 3, "the two long input rows and the hostile one");
        for isa in Isa::available() {
            let (c, x, y) = run(isa);
            assert_eq!(c, clipped, "{}", isa.name());
            for (p, q) in a.iter().chain(&b).zip(x.iter().chain(&y)) {
                assert!(
                    p.is_finite() && (p - q).abs() <= 1e-5,
                    "{}: {p} vs {q}",
                    isa.name()
                );
            }
        }
    }

    #[test]
    fn round_trips_and_refuses_garbage_without_panicking() {
        let u = sample();
        let bytes = u.encode();
        assert_eq!(SparseUpdate::decode(&bytes).unwrap(), u);
        assert_eq!(bytes.len(), u.encoded_len());
        for cut in 0..bytes.len() {
            assert!(SparseUpdate::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut nan = u.clone();
        nan.context[3] = f32::NAN;
        assert!(SparseUpdate::decode(&nan.encode()).is_err());
        let mut order = u.clone();
        order.rows = vec![5, 1];
        assert!(SparseUpdate::decode(&order.encode()).is_err());
        let mut huge = bytes.clone();
        huge[16..20].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(SparseUpdate::decode(&huge).is_err());
    }

    #[test]
    fn merging_adds_deltas_row_by_row_and_keeps_rows_ordered() {
        let a = sample();
        let b = SparseUpdate {
            round: 9,
            dim: 2,
            rows: vec![0, 5],
            input: vec![1.0, 1.0, 1.0, 1.0],
            context: vec![0.0, 0.0, 1.0, -3.0],
        };
        let m = SparseUpdate::merged(&[a.clone(), b]).unwrap();
        m.validate().unwrap();
        assert_eq!(m.round, 9);
        assert_eq!(m.rows, vec![0, 1, 5]);
        assert_eq!(m.input, vec![1.0, 1.0, 0.5, -1.0, 3.0, 1.0]);
        assert_eq!(m.context, vec![0.0, 0.0, 1.0, 1.0, 0.75, 0.0]);
        assert_eq!(SparseUpdate::merged(std::slice::from_ref(&a)).unwrap(), a);
        assert!(SparseUpdate::merged(&[]).is_none());
    }
}
