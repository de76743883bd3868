//! The compact bodies of the updates kind: a downstream asks an upstream for the sparse
//! updates it published after sequence number `after`; the upstream answers with those it
//! still keeps (or, when `after` is older than its history, with its latest only and the
//! gap flagged).
//!
//! Request: dtype `u8` the caller wants the values in, `after: u64`, then optionally
//! `wait_ms: u32`: how long the upstream may hold the request for a round newer than
//! `after` before it answers (0 or absent: answer at once). A held fetch answers as soon as
//! the round is published, so a waiting downstream asks once instead of polling.
//! Answer: `latest: u64` (the newest sequence the upstream has published, 0 = none yet),
//! `gap: u8` (1 = updates after `after` were dropped from the history), count `u16`, then
//! per update: `seq: u64`, rows `u32`, id width `u8` (2 or 4), the row ids, the input deltas
//! and the context deltas as two `[rows, dim]` matrices (see [`super::wire`]).
//! Little-endian throughout.

use super::codec::{CodecError, Limits};
use super::wire::{get_matrix, oversize, put_rows, Dtype, Reader};
use crate::model::w2v::SparseUpdate;

/// A decoded updates request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpdatesRequest {
    /// The element type the answer should use.
    pub dtype: Dtype,
    /// The newest sequence number the caller already has (0 = none).
    pub after: u64,
    /// Longest the upstream may hold the request for a newer round, in milliseconds (it
    /// caps this at its own limit).
    pub wait_ms: u32,
}

/// A decoded updates answer.
#[derive(Debug, Clone, PartialEq)]
pub struct UpdatesAnswer {
    /// The newest sequence number the upstream has published (0 = none yet).
    pub latest: u64,
    /// Whether updates after the caller's `after` were dropped from the upstream's history
    /// (the caller missed them; what follows is the latest only).
    pub gap: bool,
    /// The updates, oldest first; each one's `round` is its sequence number.
    pub updates: Vec<SparseUpdate>,
}

/// Encodes an updates request.
pub fn encode_request(req: UpdatesRequest) -> Vec<u8> {
    let mut out = vec![req.dtype as u8];
    out.extend_from_slice(&req.after.to_le_bytes());
    if req.wait_ms > 0 {
        out.extend_from_slice(&req.wait_ms.to_le_bytes());
    }
    out
}

/// Decodes an updates request.
pub fn decode_request(bytes: &[u8]) -> Result<UpdatesRequest, CodecError> {
    let mut r = Reader(bytes);
    let dtype = Dtype::from_u8(r.u8()?)?;
    let b = r.take(8)?;
    let after = u64::from_le_bytes(b.try_into().unwrap_or([0; 8]));
    let wait_ms = if r.0.is_empty() { 0 } else { r.u32()? };
    r.finish()?;
    Ok(UpdatesRequest {
        dtype,
        after,
        wait_ms,
    })
}

/// A message size that holds an update of every row of both tables (f32 values, a row id
/// each) twice over: an update of a whole round on a small shard touches most of the
/// vocabulary, more than the default body limit (8 MiB) holds at 25 000 words, so a node
/// never accepts or sends less than this.
pub fn largest_update_bytes(vocab_words: usize, dim: usize) -> usize {
    let rows = 2 * (vocab_words + 1);
    2 * rows * (4 * dim + 8)
}

/// Bytes one update takes in `dtype` (to keep an answer under the body limit).
pub fn encoded_len(u: &SparseUpdate, dtype: Dtype) -> usize {
    let n = u.rows.len();
    8 + 4 + 1 + id_width(u) * n + 2 * (7 + dtype.matrix_bytes(n, u.dim))
}

/// Bytes per row id: two while every row fits in 16 bits.
fn id_width(u: &SparseUpdate) -> usize {
    if u.rows.last().is_none_or(|&r| r <= u16::MAX as u32) {
        2
    } else {
        4
    }
}

/// Encodes one update of an answer (its part after the answer's header), so a node encodes
/// what it published once for all its downstreams.
pub fn encode_one(u: &SparseUpdate, dtype: Dtype, limits: &Limits) -> Result<Vec<u8>, CodecError> {
    let n = u.rows.len();
    let width = id_width(u);
    let mut out = Vec::with_capacity(encoded_len(u, dtype));
    out.extend_from_slice(&u.round.to_le_bytes());
    out.extend_from_slice(&(n as u32).to_le_bytes());
    out.push(width as u8);
    for &r in &u.rows {
        if width == 2 {
            out.extend_from_slice(&(r as u16).to_le_bytes());
        } else {
            out.extend_from_slice(&r.to_le_bytes());
        }
    }
    for table in [&u.input, &u.context] {
        put_rows(&mut out, table, n, u.dim, dtype, limits)?;
    }
    Ok(out)
}

/// An answer from its header fields and its updates encoded by [`encode_one`].
pub fn assemble(
    latest: u64,
    gap: bool,
    parts: &[&[u8]],
    limits: &Limits,
) -> Result<Vec<u8>, CodecError> {
    if parts.len() > u16::MAX as usize {
        return Err(oversize("updates", parts.len(), u16::MAX as usize));
    }
    let len = 11 + parts.iter().map(|p| p.len()).sum::<usize>();
    if len > limits.max_bytes {
        return Err(oversize("answer bytes", len, limits.max_bytes));
    }
    let mut out = Vec::with_capacity(len);
    out.extend_from_slice(&latest.to_le_bytes());
    out.push(gap as u8);
    out.extend_from_slice(&(parts.len() as u16).to_le_bytes());
    for p in parts {
        out.extend_from_slice(p);
    }
    Ok(out)
}

/// Encodes an updates answer.
pub fn encode_answer(
    a: &UpdatesAnswer,
    dtype: Dtype,
    limits: &Limits,
) -> Result<Vec<u8>, CodecError> {
    let parts = a
        .updates
        .iter()
        .map(|u| encode_one(u, dtype, limits))
        .collect::<Result<Vec<_>, _>>()?;
    let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
    assemble(a.latest, a.gap, &refs, limits)
}

/// Decodes an updates answer (bounded by `limits`); every update is checked for shape,
/// row order and finite values ([`SparseUpdate::validate`]); never panics on any input.
pub fn decode_answer(bytes: &[u8], limits: &Limits) -> Result<UpdatesAnswer, CodecError> {
    let mut r = Reader(bytes);
    let b = r.take(8)?;
    let latest = u64::from_le_bytes(b.try_into().unwrap_or([0; 8]));
    let gap = match r.u8()? {
        0 => false,
        1 => true,
        g => return Err(CodecError::Malformed(format!("gap flag {g}"))),
    };
    let count = r.u16()? as usize;
    let mut updates = Vec::with_capacity(count.min(64));
    for _ in 0..count {
        let b = r.take(8)?;
        let round = u64::from_le_bytes(b.try_into().unwrap_or([0; 8]));
        let n = r.u32()? as usize;
        if n > limits.max_elements {
            return Err(oversize("update rows", n, limits.max_elements));
        }
        let width = r.u8()? as usize;
        if width != 2 && width != 4 {
            return Err(CodecError::Malformed(format!("row id width {width}")));
        }
        let raw = r.take(n * width)?;
        let rows: Vec<u32> = raw
            .chunks_exact(width)
            .map(|c| {
                if width == 2 {
                    u16::from_le_bytes([c[0], c[1]]) as u32
                } else {
                    u32::from_le_bytes([c[0], c[1], c[2], c[3]])
                }
            })
            .collect();
        let input = get_matrix(&mut r, limits)?;
        let context = get_matrix(&mut r, limits)?;
        if input.shape != context.shape || input.shape[0] != n {
            return Err(CodecError::ShapeMismatch {
                expected: vec![n, input.shape[1]],
                got: context.shape,
            });
        }
        let u = SparseUpdate {
            round,
            dim: input.shape[1],
            rows,
            input: input.data,
            context: context.data,
        };
        u.validate()
            .map_err(|e| CodecError::Malformed(e.to_string()))?;
        updates.push(u);
    }
    r.finish()?;
    Ok(UpdatesAnswer {
        latest,
        gap,
        updates,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(round: u64, rows: Vec<u32>) -> SparseUpdate {
        let n = rows.len();
        SparseUpdate {
            round,
            dim: 3,
            rows,
            input: (0..n * 3).map(|i| i as f32 * 0.01).collect(),
            context: (0..n * 3).map(|i| -(i as f32) * 0.02).collect(),
        }
    }

    #[test]
    fn the_node_limit_holds_a_whole_update_of_its_vocabulary() {
        // Every row of a 1 000-word vocabulary, f32: an answer holding it fits the limit.
        let whole = SparseUpdate {
            round: 1,
            dim: 3,
            rows: (0..1_000).collect(),
            input: vec![0.5; 3_000],
            context: vec![0.5; 3_000],
        };
        let limit = largest_update_bytes(1_000, 3);
        let l = Limits {
            max_bytes: limit,
            ..Limits::default()
        };
        let a = UpdatesAnswer {
            latest: 1,
            gap: false,
            updates: vec![whole],
        };
        assert!(encode_answer(&a, Dtype::F32, &l).unwrap().len() <= limit);
        // GCIDE-sized vocabularies need more than the configured default (8 MiB).
        assert!(largest_update_bytes(25_000, 100) > 2 * 25_000 * 100 * 4);
        assert!(largest_update_bytes(26_867, 100) > 8 << 20);
    }

    #[test]
    fn answers_round_trip_and_garbage_is_refused_without_panicking() {
        let l = Limits::default();
        let a = UpdatesAnswer {
            latest: 9,
            gap: true,
            updates: vec![
                update(8, vec![1, 4, 70_000]),
                update(9, vec![]),
                update(9, vec![2]),
            ],
        };
        let bytes = encode_answer(&a, Dtype::F32, &l).unwrap();
        assert_eq!(decode_answer(&bytes, &l).unwrap(), a);
        assert_eq!(
            bytes.len(),
            11 + a
                .updates
                .iter()
                .map(|u| encoded_len(u, Dtype::F32))
                .sum::<usize>()
        );
        let half = encode_answer(&a, Dtype::F16, &l).unwrap();
        assert!(half.len() < bytes.len());
        let back = decode_answer(&half, &l).unwrap();
        for (x, y) in a.updates[0].input.iter().zip(&back.updates[0].input) {
            assert!((x - y).abs() <= 1e-3 * x.abs().max(1e-3), "{x} vs {y}");
        }
        for cut in 0..bytes.len() {
            assert!(decode_answer(&bytes[..cut], &l).is_err(), "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode_answer(&longer, &l).is_err());
        // Rows out of order, and a NaN: refused by the update's own check.
        let mut order = a.clone();
        order.updates[0].rows = vec![4, 1, 70_000];
        let err = decode_answer(&encode_answer(&order, Dtype::F32, &l).unwrap(), &l).unwrap_err();
        assert!(err.to_string().contains("strictly increasing"), "{err}");
        let mut nan = encode_answer(&a, Dtype::F32, &l).unwrap();
        let at = nan.len() - 4;
        nan[at..].copy_from_slice(&f32::NAN.to_le_bytes());
        assert!(decode_answer(&nan, &l).is_err());
        let req = UpdatesRequest {
            dtype: Dtype::Bf16,
            after: 41,
            wait_ms: 0,
        };
        assert_eq!(encode_request(req).len(), 9, "no wait: the short form");
        assert_eq!(decode_request(&encode_request(req)).unwrap(), req);
        let held = UpdatesRequest {
            wait_ms: 250,
            ..req
        };
        assert_eq!(decode_request(&encode_request(held)).unwrap(), held);
        assert!(decode_request(&[9, 0, 0, 0, 0, 0, 0, 0, 0]).is_err());
        let mut cut = encode_request(held);
        cut.pop();
        assert!(decode_request(&cut).is_err(), "a wait of three bytes");
        cut.extend_from_slice(&[0, 0]);
        assert!(
            decode_request(&cut).is_err(),
            "trailing bytes after the wait"
        );
    }
}
