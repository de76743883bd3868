//! Compact binary wire format for the peer protocol: f32 tensors and word-id requests.
//!
//! Tensor layout (all little endian): `b"BTT"` magic, version `u8` (= 1), dtype `u8`
//! (0 = f32, the only one accepted), rank `u8`, `rank` dims as `u32`, then the data.
//! Forward request: `b"BTF"` magic, version, `u32` id count, ids as `i64`.
//! Backward request: `b"BTB"` magic, version, `u32` id count, ids as `i64`, then a tensor
//! of shape `[count, d]`. Every length is checked exactly before anything is allocated.

use thiserror::Error;

/// Magic prefix of an encoded tensor, so a wrong body is rejected before any parsing.
pub const TENSOR_MAGIC: &[u8; 3] = b"BTT";
/// Magic prefix of a forward request (word ids whose embeddings are wanted).
pub const FORWARD_MAGIC: &[u8; 3] = b"BTF";
/// Magic prefix of a backward request (word ids and the gradient for their embeddings).
pub const BACKWARD_MAGIC: &[u8; 3] = b"BTB";
/// Wire format version; bumped on any incompatible layout change.
pub const VERSION: u8 = 1;
/// Dtype tag for little-endian IEEE f32, the only accepted element type.
pub const DTYPE_F32: u8 = 0;

/// Why a body could not be decoded: each variant names the problem for a 400 answer.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CodecError {
    /// The body ended before the announced content.
    #[error("truncated: needed {needed} bytes, got {got}")]
    Truncated { needed: usize, got: usize },
    /// The body has bytes after the announced content.
    #[error("trailing bytes: expected {expected} bytes, got {got}")]
    TrailingBytes { expected: usize, got: usize },
    /// The body does not start with the expected magic.
    #[error("bad magic: expected {expected:?}")]
    BadMagic { expected: &'static str },
    /// The body was written by an incompatible version of the format.
    #[error("unsupported version {0} (expected {VERSION})")]
    BadVersion(u8),
    /// Only f32 tensors are accepted.
    #[error("unsupported dtype {0} (only f32 = 0 is accepted)")]
    UnsupportedDtype(u8),
    /// A size limit (rank, elements, bytes, ids) was exceeded.
    #[error("oversize {what}: {got} > limit {limit}")]
    Oversize {
        what: &'static str,
        got: u64,
        limit: u64,
    },
    /// The tensor shape does not match what the request requires.
    #[error("shape mismatch: expected {expected:?}, got {got:?}")]
    ShapeMismatch {
        expected: Vec<usize>,
        got: Vec<usize>,
    },
    /// A tensor element is NaN or infinite.
    #[error("tensor element {index} is not finite")]
    NotFinite { index: usize },
    /// A word id is negative.
    #[error("word id at {index} is negative")]
    NegativeId { index: usize },
    /// A structure inside the body is unusable (e.g. a sparse update's rows out of order).
    #[error("malformed: {0}")]
    Malformed(String),
}

/// Size limits applied when decoding untrusted bodies (and checked when encoding).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted rank.
    pub max_rank: usize,
    /// Largest accepted number of tensor elements.
    pub max_elements: usize,
    /// Largest accepted encoded size in bytes.
    pub max_bytes: usize,
    /// Largest accepted number of word ids in one request.
    pub max_ids: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_rank: 4,
            max_elements: 1 << 22,
            max_bytes: 16 << 20,
            max_ids: 1 << 16,
        }
    }
}

/// A decoded f32 tensor: shape and row-major data, independent of any ML library.
#[derive(Debug, Clone, PartialEq)]
pub struct WireTensor {
    /// Dimensions, outermost first.
    pub shape: Vec<usize>,
    /// Row-major elements; `data.len()` is the product of `shape`.
    pub data: Vec<f32>,
}

/// A backward request: which embeddings the gradient is for, and the gradient itself.
#[derive(Debug, Clone, PartialEq)]
pub struct BackwardRequest {
    /// Word ids, one per gradient row.
    pub ids: Vec<i64>,
    /// Gradient of the caller's loss with respect to the served embeddings, `[ids.len(), d]`.
    pub grad: WireTensor,
}

/// Cursor over an untrusted byte slice that never reads past its end.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], CodecError> {
        let end = self.pos.checked_add(n).ok_or(CodecError::Truncated {
            needed: usize::MAX,
            got: self.bytes.len(),
        })?;
        if end > self.bytes.len() {
            return Err(CodecError::Truncated {
                needed: end,
                got: self.bytes.len(),
            });
        }
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, CodecError> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, CodecError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn header(&mut self, magic: &[u8; 3], name: &'static str) -> Result<(), CodecError> {
        if self.take(3)? != magic {
            return Err(CodecError::BadMagic { expected: name });
        }
        match self.u8()? {
            VERSION => Ok(()),
            v => Err(CodecError::BadVersion(v)),
        }
    }

    fn finish(&self) -> Result<(), CodecError> {
        if self.pos != self.bytes.len() {
            return Err(CodecError::TrailingBytes {
                expected: self.pos,
                got: self.bytes.len(),
            });
        }
        Ok(())
    }
}

fn oversize(what: &'static str, got: usize, limit: usize) -> CodecError {
    CodecError::Oversize {
        what,
        got: got as u64,
        limit: limit as u64,
    }
}

/// Multiplies the running element count by one more dimension, refusing (with the
/// announced count, saturated) anything above the limit.
fn grow(elements: usize, dim: usize, limits: &Limits) -> Result<usize, CodecError> {
    let product = (elements as u64).saturating_mul(dim as u64);
    if product > limits.max_elements as u64 {
        return Err(CodecError::Oversize {
            what: "elements",
            got: product,
            limit: limits.max_elements as u64,
        });
    }
    Ok(product as usize)
}

/// Checks shape and data agree and fit the limits (shared by encode and decode).
fn check_tensor(shape: &[usize], data_len: usize, limits: &Limits) -> Result<(), CodecError> {
    if shape.len() > limits.max_rank {
        return Err(oversize("rank", shape.len(), limits.max_rank));
    }
    let mut elements: usize = 1;
    for &d in shape {
        if d > u32::MAX as usize {
            return Err(oversize("dimension", d, u32::MAX as usize));
        }
        elements = grow(elements, d, limits)?;
    }
    if elements != data_len {
        return Err(CodecError::ShapeMismatch {
            expected: shape.to_vec(),
            got: vec![data_len],
        });
    }
    Ok(())
}

fn check_finite(data: &[f32]) -> Result<(), CodecError> {
    match data.iter().position(|x| !x.is_finite()) {
        Some(index) => Err(CodecError::NotFinite { index }),
        None => Ok(()),
    }
}

fn put_tensor(out: &mut Vec<u8>, t: &WireTensor) {
    out.extend_from_slice(TENSOR_MAGIC);
    out.push(VERSION);
    out.push(DTYPE_F32);
    out.push(t.shape.len() as u8);
    for &d in &t.shape {
        out.extend_from_slice(&(d as u32).to_le_bytes());
    }
    out.reserve(t.data.len() * 4);
    for x in &t.data {
        out.extend_from_slice(&x.to_le_bytes());
    }
}

fn read_tensor(r: &mut Reader<'_>, limits: &Limits) -> Result<WireTensor, CodecError> {
    r.header(TENSOR_MAGIC, "BTT")?;
    let dtype = r.u8()?;
    if dtype != DTYPE_F32 {
        return Err(CodecError::UnsupportedDtype(dtype));
    }
    let rank = r.u8()? as usize;
    if rank > limits.max_rank {
        return Err(oversize("rank", rank, limits.max_rank));
    }
    let mut shape = Vec::with_capacity(rank);
    let mut elements: usize = 1;
    for _ in 0..rank {
        let d = r.u32()? as usize;
        elements = grow(elements, d, limits)?;
        shape.push(d);
    }
    let raw = r.take(elements * 4)?;
    let data: Vec<f32> = raw
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    check_finite(&data)?;
    Ok(WireTensor { shape, data })
}

fn put_ids(out: &mut Vec<u8>, magic: &[u8; 3], ids: &[i64]) {
    out.extend_from_slice(magic);
    out.push(VERSION);
    out.extend_from_slice(&(ids.len() as u32).to_le_bytes());
    for id in ids {
        out.extend_from_slice(&id.to_le_bytes());
    }
}

fn read_ids(
    r: &mut Reader<'_>,
    magic: &[u8; 3],
    name: &'static str,
    limits: &Limits,
) -> Result<Vec<i64>, CodecError> {
    r.header(magic, name)?;
    let count = r.u32()? as usize;
    if count > limits.max_ids {
        return Err(oversize("ids", count, limits.max_ids));
    }
    let raw = r.take(count * 8)?;
    let ids: Vec<i64> = raw
        .chunks_exact(8)
        .map(|b| i64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
        .collect();
    if let Some(index) = ids.iter().position(|&id| id < 0) {
        return Err(CodecError::NegativeId { index });
    }
    Ok(ids)
}

fn check_size(bytes: &[u8], limits: &Limits) -> Result<(), CodecError> {
    if bytes.len() > limits.max_bytes {
        return Err(oversize("bytes", bytes.len(), limits.max_bytes));
    }
    Ok(())
}

/// Encodes a tensor, refusing shapes that the decoder with the same limits would refuse.
pub fn encode_tensor(t: &WireTensor, limits: &Limits) -> Result<Vec<u8>, CodecError> {
    check_tensor(&t.shape, t.data.len(), limits)?;
    check_finite(&t.data)?;
    let mut out = Vec::with_capacity(6 + 4 * t.shape.len() + 4 * t.data.len());
    put_tensor(&mut out, t);
    check_size(&out, limits)?;
    Ok(out)
}

/// Decodes a tensor body, checking magic, version, dtype, limits, exact length and finiteness.
pub fn decode_tensor(bytes: &[u8], limits: &Limits) -> Result<WireTensor, CodecError> {
    check_size(bytes, limits)?;
    let mut r = Reader { bytes, pos: 0 };
    let t = read_tensor(&mut r, limits)?;
    r.finish()?;
    Ok(t)
}

/// Encodes a forward request for the embeddings of `ids`.
pub fn encode_forward(ids: &[i64], limits: &Limits) -> Result<Vec<u8>, CodecError> {
    if ids.len() > limits.max_ids {
        return Err(oversize("ids", ids.len(), limits.max_ids));
    }
    let mut out = Vec::with_capacity(8 + 8 * ids.len());
    put_ids(&mut out, FORWARD_MAGIC, ids);
    check_size(&out, limits)?;
    Ok(out)
}

/// Decodes a forward request body into its word ids.
pub fn decode_forward(bytes: &[u8], limits: &Limits) -> Result<Vec<i64>, CodecError> {
    check_size(bytes, limits)?;
    let mut r = Reader { bytes, pos: 0 };
    let ids = read_ids(&mut r, FORWARD_MAGIC, "BTF", limits)?;
    r.finish()?;
    Ok(ids)
}

/// Encodes a backward request; the gradient must have one row per id.
pub fn encode_backward(req: &BackwardRequest, limits: &Limits) -> Result<Vec<u8>, CodecError> {
    check_rows(req)?;
    check_tensor(&req.grad.shape, req.grad.data.len(), limits)?;
    check_finite(&req.grad.data)?;
    if req.ids.len() > limits.max_ids {
        return Err(oversize("ids", req.ids.len(), limits.max_ids));
    }
    let mut out = Vec::new();
    put_ids(&mut out, BACKWARD_MAGIC, &req.ids);
    put_tensor(&mut out, &req.grad);
    check_size(&out, limits)?;
    Ok(out)
}

/// Decodes a backward request body; the gradient must be `[ids.len(), d]`.
pub fn decode_backward(bytes: &[u8], limits: &Limits) -> Result<BackwardRequest, CodecError> {
    check_size(bytes, limits)?;
    let mut r = Reader { bytes, pos: 0 };
    let ids = read_ids(&mut r, BACKWARD_MAGIC, "BTB", limits)?;
    let grad = read_tensor(&mut r, limits)?;
    r.finish()?;
    let req = BackwardRequest { ids, grad };
    check_rows(&req)?;
    Ok(req)
}

fn check_rows(req: &BackwardRequest) -> Result<(), CodecError> {
    let n = req.ids.len();
    match req.grad.shape.as_slice() {
        [rows, _] if *rows == n => Ok(()),
        [_, d] => Err(CodecError::ShapeMismatch {
            expected: vec![n, *d],
            got: req.grad.shape.clone(),
        }),
        _ => Err(CodecError::ShapeMismatch {
            expected: vec![n, 0],
            got: req.grad.shape.clone(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn tensor(rows: usize, cols: usize) -> WireTensor {
        WireTensor {
            shape: vec![rows, cols],
            data: (0..rows * cols).map(|i| i as f32 * 0.5 - 3.0).collect(),
        }
    }

    #[test]
    fn tensor_round_trips() {
        let l = Limits::default();
        let t = tensor(3, 5);
        let bytes = encode_tensor(&t, &l).unwrap();
        assert_eq!(bytes.len(), 6 + 2 * 4 + 15 * 4);
        assert_eq!(decode_tensor(&bytes, &l).unwrap(), t);
    }

    #[test]
    fn scalar_and_empty_round_trip() {
        let l = Limits::default();
        for t in [
            WireTensor {
                shape: vec![],
                data: vec![1.5],
            },
            WireTensor {
                shape: vec![0, 4],
                data: vec![],
            },
        ] {
            let bytes = encode_tensor(&t, &l).unwrap();
            assert_eq!(decode_tensor(&bytes, &l).unwrap(), t);
        }
    }

    #[test]
    fn every_truncation_is_rejected() {
        let l = Limits::default();
        let bytes = encode_tensor(&tensor(2, 3), &l).unwrap();
        for cut in 0..bytes.len() {
            assert!(
                matches!(
                    decode_tensor(&bytes[..cut], &l),
                    Err(CodecError::Truncated { .. })
                ),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn trailing_bytes_are_rejected() {
        let l = Limits::default();
        let mut bytes = encode_tensor(&tensor(2, 3), &l).unwrap();
        bytes.push(0);
        assert!(matches!(
            decode_tensor(&bytes, &l),
            Err(CodecError::TrailingBytes { .. })
        ));
    }

    #[test]
    fn header_errors_are_typed() {
        let l = Limits::default();
        let good = encode_tensor(&tensor(1, 1), &l).unwrap();
        let mut bad = good.clone();
        bad[0] = b'X';
        assert!(matches!(
            decode_tensor(&bad, &l),
            Err(CodecError::BadMagic { .. })
        ));
        let mut bad = good.clone();
        bad[3] = 9;
        assert_eq!(decode_tensor(&bad, &l), Err(CodecError::BadVersion(9)));
        let mut bad = good.clone();
        bad[4] = 1;
        assert_eq!(
            decode_tensor(&bad, &l),
            Err(CodecError::UnsupportedDtype(1))
        );
    }

    #[test]
    fn limits_are_enforced() {
        let l = Limits {
            max_rank: 2,
            max_elements: 10,
            max_bytes: 1000,
            max_ids: 4,
        };
        assert!(matches!(
            encode_tensor(&tensor(3, 4), &l),
            Err(CodecError::Oversize {
                what: "elements",
                ..
            })
        ));
        let big = encode_tensor(&tensor(3, 4), &Limits::default()).unwrap();
        assert!(matches!(
            decode_tensor(&big, &l),
            Err(CodecError::Oversize {
                what: "elements",
                ..
            })
        ));
        let rank3 = WireTensor {
            shape: vec![1, 1, 1],
            data: vec![0.0],
        };
        assert!(matches!(
            encode_tensor(&rank3, &l),
            Err(CodecError::Oversize { what: "rank", .. })
        ));
        assert!(matches!(
            encode_forward(&[1, 2, 3, 4, 5], &l),
            Err(CodecError::Oversize { what: "ids", .. })
        ));
        let tight = Limits {
            max_bytes: 10,
            ..Limits::default()
        };
        assert!(matches!(
            decode_tensor(&big, &tight),
            Err(CodecError::Oversize { what: "bytes", .. })
        ));
    }

    #[test]
    fn huge_announced_dims_do_not_allocate() {
        let mut bytes = TENSOR_MAGIC.to_vec();
        bytes.extend_from_slice(&[VERSION, DTYPE_F32, 2]);
        bytes.extend_from_slice(&u32::MAX.to_le_bytes());
        bytes.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(
            decode_tensor(&bytes, &Limits::default()),
            Err(CodecError::Oversize { .. })
        ));
    }

    #[test]
    fn non_finite_is_rejected() {
        let l = Limits::default();
        let mut t = tensor(1, 3);
        t.data[2] = f32::NAN;
        assert_eq!(
            encode_tensor(&t, &l),
            Err(CodecError::NotFinite { index: 2 })
        );
        let mut bytes = encode_tensor(&tensor(1, 3), &l).unwrap();
        let n = bytes.len();
        bytes[n - 4..].copy_from_slice(&f32::INFINITY.to_le_bytes());
        assert_eq!(
            decode_tensor(&bytes, &l),
            Err(CodecError::NotFinite { index: 2 })
        );
    }

    #[test]
    fn forward_round_trips_and_rejects_negative_ids() {
        let l = Limits::default();
        let ids = vec![0, 7, 123_456, 3];
        let bytes = encode_forward(&ids, &l).unwrap();
        assert_eq!(decode_forward(&bytes, &l).unwrap(), ids);
        let bad = encode_forward(&[1, -2], &l).unwrap();
        assert_eq!(
            decode_forward(&bad, &l),
            Err(CodecError::NegativeId { index: 1 })
        );
        assert!(matches!(
            decode_tensor(&bytes, &l),
            Err(CodecError::BadMagic { .. })
        ));
    }

    #[test]
    fn backward_round_trips_and_checks_rows() {
        let l = Limits::default();
        let req = BackwardRequest {
            ids: vec![4, 5, 6],
            grad: tensor(3, 2),
        };
        let bytes = encode_backward(&req, &l).unwrap();
        assert_eq!(decode_backward(&bytes, &l).unwrap(), req);
        let bad = BackwardRequest {
            ids: vec![4, 5],
            grad: tensor(3, 2),
        };
        assert_eq!(
            encode_backward(&bad, &l),
            Err(CodecError::ShapeMismatch {
                expected: vec![2, 2],
                got: vec![3, 2]
            })
        );
        // Hand-assemble a mismatched body to check the decoder too.
        let mut body = Vec::new();
        put_ids(&mut body, BACKWARD_MAGIC, &bad.ids);
        put_tensor(&mut body, &bad.grad);
        assert!(matches!(
            decode_backward(&body, &l),
            Err(CodecError::ShapeMismatch { .. })
        ));
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let l = Limits::default();
            let _ = decode_tensor(&bytes, &l);
            let _ = decode_forward(&bytes, &l);
            let _ = decode_backward(&bytes, &l);
        }

        #[test]
        fn corrupted_valid_bodies_never_panic(
            rows in 0usize..6, cols in 0usize..6, flip in any::<usize>(), val in any::<u8>()
        ) {
            let l = Limits::default();
            let req = BackwardRequest { ids: (0..rows as i64).collect(), grad: tensor(rows, cols) };
            let mut bytes = encode_backward(&req, &l).unwrap();
            prop_assert_eq!(decode_backward(&bytes, &l).unwrap(), req);
            let i = flip % bytes.len();
            bytes[i] = val;
            let _ = decode_backward(&bytes, &l);
        }

        #[test]
        fn tensors_round_trip(shape in proptest::collection::vec(0usize..5, 0..4), seed in any::<u32>()) {
            let l = Limits::default();
            let n: usize = shape.iter().product();
            let data: Vec<f32> = (0..n).map(|i| (i as f32 + seed as f32).sin()).collect();
            let t = WireTensor { shape, data };
            let bytes = encode_tensor(&t, &l).unwrap();
            prop_assert_eq!(decode_tensor(&bytes, &l).unwrap(), t);
        }
    }
}
