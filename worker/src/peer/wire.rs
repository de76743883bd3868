//! The compact bodies of the forward kind, and the matrices every kind uses: word ids as wide
//! as the vocabulary needs (two bytes below 65 536 words), vectors in half precision (f16 or
//! bf16), in eight bits with a scale per row, or in f32, as the caller asks.
//!
//! Forward request: dtype `u8` the caller wants back, id width `u8` (2 or 4), count `u32`,
//! ids. Forward answer: a matrix, dtype `u8`, rows `u32`, cols `u16`, little-endian
//! elements (in eight bits: per row an f32 scale, then `cols` signed bytes).

use half::bf16;

use super::codec::{CodecError, Limits, WireTensor};
use crate::model::w2v::f16 as f16_kernels;
use crate::model::w2v::int8;

/// Element type of a matrix on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dtype {
    /// IEEE single precision (4 bytes).
    F32 = 0,
    /// IEEE half precision (2 bytes; 11-bit significand, range ±65 504).
    F16 = 1,
    /// bfloat16 (2 bytes; 8-bit significand, the range of f32).
    Bf16 = 2,
    /// Per row: an f32 scale, then one signed byte a value (value = byte x scale).
    I8 = 3,
}

impl Dtype {
    /// Every type, by code.
    pub const ALL: [Dtype; 4] = [Dtype::F32, Dtype::F16, Dtype::Bf16, Dtype::I8];
    /// How many there are (their codes are 0 to `COUNT - 1`).
    pub const COUNT: usize = Dtype::ALL.len();

    pub(super) fn from_u8(b: u8) -> Result<Dtype, CodecError> {
        Dtype::ALL
            .get(usize::from(b))
            .copied()
            .ok_or(CodecError::UnsupportedDtype(b))
    }

    /// Bytes of a matrix of `rows` rows of `cols` values in this type (without its header).
    pub fn matrix_bytes(self, rows: usize, cols: usize) -> usize {
        crate::model::w2v::Precision::from(self).row_bytes(rows, cols)
    }
}

impl From<Dtype> for crate::model::w2v::Precision {
    fn from(d: Dtype) -> Self {
        use crate::model::w2v::Precision;
        match d {
            Dtype::F32 => Precision::F32,
            Dtype::F16 => Precision::F16,
            Dtype::Bf16 => Precision::Bf16,
            Dtype::I8 => Precision::I8,
        }
    }
}

impl From<crate::model::w2v::Precision> for Dtype {
    fn from(p: crate::model::w2v::Precision) -> Dtype {
        use crate::model::w2v::Precision;
        match p {
            Precision::F32 => Dtype::F32,
            Precision::F16 => Dtype::F16,
            Precision::Bf16 => Dtype::Bf16,
            Precision::I8 => Dtype::I8,
        }
    }
}

impl std::str::FromStr for Dtype {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        // The names are the precisions' (one spelling for configurations and the wire).
        Dtype::ALL
            .into_iter()
            .find(|&d| crate::model::w2v::Precision::from(d).name() == s)
            .ok_or_else(|| format!("unknown dtype {s:?} (f32, f16, bf16 or i8)"))
    }
}

/// A decoded forward request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardBody {
    /// The element type the answer should use.
    pub dtype: Dtype,
    /// Word ids.
    pub ids: Vec<i64>,
}

/// A cursor over an untrusted body.
pub(super) struct Reader<'a>(pub(super) &'a [u8]);

impl<'a> Reader<'a> {
    pub(super) fn take(&mut self, n: usize) -> Result<&'a [u8], CodecError> {
        if self.0.len() < n {
            return Err(CodecError::Truncated {
                needed: n,
                got: self.0.len(),
            });
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    pub(super) fn u8(&mut self) -> Result<u8, CodecError> {
        Ok(self.take(1)?[0])
    }
    pub(super) fn u16(&mut self) -> Result<u16, CodecError> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    pub(super) fn u32(&mut self) -> Result<u32, CodecError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    pub(super) fn finish(&self) -> Result<(), CodecError> {
        if !self.0.is_empty() {
            return Err(CodecError::TrailingBytes {
                expected: 0,
                got: self.0.len(),
            });
        }
        Ok(())
    }
}

pub(super) fn oversize(what: &'static str, got: usize, limit: usize) -> CodecError {
    CodecError::Oversize {
        what,
        got: got as u64,
        limit: limit as u64,
    }
}

/// Encodes a forward request for `ids`, asking for `dtype`.
pub fn encode_forward(ids: &[i64], dtype: Dtype, limits: &Limits) -> Result<Vec<u8>, CodecError> {
    if ids.len() > limits.max_ids {
        return Err(oversize("ids", ids.len(), limits.max_ids));
    }
    if let Some(index) = ids.iter().position(|&i| i < 0) {
        return Err(CodecError::NegativeId { index });
    }
    let max = ids.iter().copied().max().unwrap_or(0);
    let width: usize = if max <= u16::MAX as i64 { 2 } else { 4 };
    if max > u32::MAX as i64 {
        return Err(oversize("word id", max as usize, u32::MAX as usize));
    }
    let mut out = Vec::with_capacity(6 + width * ids.len());
    out.push(dtype as u8);
    out.push(width as u8);
    out.extend_from_slice(&(ids.len() as u32).to_le_bytes());
    for &id in ids {
        if width == 2 {
            out.extend_from_slice(&(id as u16).to_le_bytes());
        } else {
            out.extend_from_slice(&(id as u32).to_le_bytes());
        }
    }
    Ok(out)
}

/// Decodes a forward request (bounded by `limits`).
pub fn decode_forward(bytes: &[u8], limits: &Limits) -> Result<ForwardBody, CodecError> {
    let mut r = Reader(bytes);
    let dtype = Dtype::from_u8(r.u8()?)?;
    let width = r.u8()? as usize;
    if width != 2 && width != 4 {
        return Err(CodecError::BadMagic {
            expected: "id width 2 or 4",
        });
    }
    let n = r.u32()? as usize;
    if n > limits.max_ids {
        return Err(oversize("ids", n, limits.max_ids));
    }
    let raw = r.take(n * width)?;
    r.finish()?;
    let ids = raw
        .chunks_exact(width)
        .map(|c| {
            if width == 2 {
                u16::from_le_bytes([c[0], c[1]]) as i64
            } else {
                u32::from_le_bytes([c[0], c[1], c[2], c[3]]) as i64
            }
        })
        .collect();
    Ok(ForwardBody { dtype, ids })
}

/// Appends a `[rows, cols]` matrix in `dtype`.
pub fn put_matrix(
    out: &mut Vec<u8>,
    t: &WireTensor,
    dtype: Dtype,
    limits: &Limits,
) -> Result<(), CodecError> {
    match t.shape[..] {
        [r, c] if r * c == t.data.len() => put_rows(out, &t.data, r, c, dtype, limits),
        _ => Err(CodecError::ShapeMismatch {
            expected: vec![t.data.len()],
            got: t.shape.clone(),
        }),
    }
}

/// [`put_matrix`] of the `rows x cols` values `data` (`rows * cols == data.len()`), where
/// they are not a [`WireTensor`] of their own (an update's tables are encoded in place).
pub fn put_rows(
    out: &mut Vec<u8>,
    data: &[f32],
    rows: usize,
    cols: usize,
    dtype: Dtype,
    limits: &Limits,
) -> Result<(), CodecError> {
    if rows * cols != data.len() {
        return Err(CodecError::ShapeMismatch {
            expected: vec![data.len()],
            got: vec![rows, cols],
        });
    }
    if data.len() > limits.max_elements {
        return Err(oversize("elements", data.len(), limits.max_elements));
    }
    if cols > u16::MAX as usize || rows > u32::MAX as usize {
        return Err(oversize("dimension", cols.max(rows), u16::MAX as usize));
    }
    // The f16 narrowing checks as it goes; the others first, in a fold without early exit
    // so that it vectorises.
    if dtype != Dtype::F16 && !data.iter().fold(true, |ok, x| ok & x.is_finite()) {
        return Err(not_finite(data));
    }
    let start = out.len();
    out.reserve(7 + dtype.matrix_bytes(rows, cols));
    out.push(dtype as u8);
    out.extend_from_slice(&(rows as u32).to_le_bytes());
    out.extend_from_slice(&(cols as u16).to_le_bytes());
    match dtype {
        Dtype::F32 => data
            .iter()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        Dtype::F16 => {
            let at = out.len();
            out.resize(at + 2 * data.len(), 0);
            if !f16_kernels::narrow_f16(data, &mut out[at..]) {
                out.truncate(start);
                return Err(not_finite(data));
            }
        }
        Dtype::Bf16 => data
            .iter()
            .for_each(|x| out.extend_from_slice(&bf16::from_f32(*x).to_le_bytes())),
        Dtype::I8 => {
            for row in data.chunks(cols.max(1)) {
                let scale = int8::scale(row);
                out.extend_from_slice(&scale.to_le_bytes());
                out.extend(row.iter().map(|&x| int8::quantize(x, scale) as u8));
            }
        }
    }
    Ok(())
}

/// The error for `data`, which holds an infinite or NaN value: the index of the first.
fn not_finite(data: &[f32]) -> CodecError {
    let index = data.iter().position(|x| !x.is_finite()).unwrap_or(0);
    CodecError::NotFinite { index }
}

pub(super) fn get_matrix(r: &mut Reader<'_>, limits: &Limits) -> Result<WireTensor, CodecError> {
    let dtype = Dtype::from_u8(r.u8()?)?;
    let rows = r.u32()? as usize;
    let cols = r.u16()? as usize;
    let n = (rows as u64) * (cols as u64);
    if n > limits.max_elements as u64 {
        return Err(CodecError::Oversize {
            what: "elements",
            got: n,
            limit: limits.max_elements as u64,
        });
    }
    let raw = r.take(dtype.matrix_bytes(rows, cols))?;
    let all_finite = |d: &[f32]| d.iter().all(|x| x.is_finite());
    let (data, finite) = match dtype {
        Dtype::F32 => {
            let data: Vec<f32> = raw
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            let finite = all_finite(&data);
            (data, finite)
        }
        Dtype::F16 => {
            let mut data = vec![0f32; n as usize];
            // The widening itself tells whether any value was infinite or NaN.
            let finite = f16_kernels::widen_f16(raw, &mut data);
            (data, finite)
        }
        Dtype::Bf16 => {
            let data: Vec<f32> = raw
                .chunks_exact(2)
                .map(|c| bf16::from_le_bytes([c[0], c[1]]).to_f32())
                .collect();
            let finite = all_finite(&data);
            (data, finite)
        }
        Dtype::I8 => {
            let mut data = Vec::with_capacity(n as usize);
            for row in raw.chunks_exact(4 + cols) {
                let (scale, q) = row.split_at(4);
                let scale = f32::from_le_bytes([scale[0], scale[1], scale[2], scale[3]]);
                if !(scale.is_finite() && scale >= 0.0) {
                    return Err(CodecError::Malformed(format!(
                        "row {} has scale {scale}",
                        data.len() / cols.max(1)
                    )));
                }
                data.extend(q.iter().map(|&b| f32::from(b as i8) * scale));
            }
            let finite = all_finite(&data);
            (data, finite)
        }
    };
    if !finite {
        return Err(not_finite(&data));
    }
    Ok(WireTensor {
        shape: vec![rows, cols],
        data,
    })
}

/// Encodes a forward answer.
pub fn encode_matrix(t: &WireTensor, dtype: Dtype, limits: &Limits) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::new();
    put_matrix(&mut out, t, dtype, limits)?;
    Ok(out)
}

/// Decodes a forward answer.
pub fn decode_matrix(bytes: &[u8], limits: &Limits) -> Result<WireTensor, CodecError> {
    let mut r = Reader(bytes);
    let t = get_matrix(&mut r, limits)?;
    r.finish()?;
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use half::f16;

    #[test]
    fn ids_take_two_bytes_below_65536_words_and_four_above() {
        let l = Limits::default();
        let small = encode_forward(&[0, 5, 65_535], Dtype::F16, &l).unwrap();
        assert_eq!(small.len(), 6 + 3 * 2);
        let big = encode_forward(&[0, 65_536], Dtype::F16, &l).unwrap();
        assert_eq!(big.len(), 6 + 2 * 4);
        assert_eq!(decode_forward(&big, &l).unwrap().ids, vec![0, 65_536]);
        assert!(encode_forward(&[-1], Dtype::F16, &l).is_err());
        assert!(decode_forward(&small[..small.len() - 1], &l).is_err());
    }

    #[test]
    fn f16_blocks_convert_each_value_as_the_scalar_rounding_does() {
        let l = Limits::default();
        // 3 x 70 values: several blocks and a partial one, tiny and large values.
        let data: Vec<f32> = (0..210)
            .map(|i| match i % 7 {
                0 => 1e-9,
                1 => 65_504.0,
                2 => -60_000.5,
                _ => (i as f32 - 105.0) * 0.0137,
            })
            .collect();
        let t = WireTensor {
            shape: vec![3, 70],
            data: data.clone(),
        };
        let back = decode_matrix(&encode_matrix(&t, Dtype::F16, &l).unwrap(), &l).unwrap();
        assert_eq!(back.shape, vec![3, 70]);
        for (x, got) in data.iter().zip(&back.data) {
            assert_eq!(got.to_bits(), f16::from_f32(*x).to_f32().to_bits(), "{x}");
        }
    }

    #[test]
    fn matrices_round_trip_in_each_dtype_within_its_precision() {
        let l = Limits::default();
        let t = WireTensor {
            shape: vec![2, 3],
            data: vec![0.1, -0.25, 3.0, 1e-3, -7.5, 0.0],
        };
        for (dtype, tol) in [
            (Dtype::F32, 0.0),
            (Dtype::F16, 1e-3),
            (Dtype::Bf16, 8e-3),
            (Dtype::I8, 0.015), // half a step of the larger row: 7.5 / 254
        ] {
            let b = encode_matrix(&t, dtype, &l).unwrap();
            assert_eq!(b.len(), 7 + dtype.matrix_bytes(2, 3));
            let back = decode_matrix(&b, &l).unwrap();
            for (a, b) in t.data.iter().zip(&back.data) {
                assert!(
                    (a - b).abs() <= tol * a.abs().max(1.0),
                    "{dtype:?}: {a} vs {b}"
                );
            }
        }
        let mut bad = encode_matrix(&t, Dtype::F32, &l).unwrap();
        bad[0] = 9;
        assert!(decode_matrix(&bad, &l).is_err());
        let inf = encode_matrix(&t, Dtype::F16, &l).unwrap();
        let mut inf = inf;
        inf[7] = 0x00;
        inf[8] = 0x7c; // f16 +inf
        assert!(matches!(
            decode_matrix(&inf, &l),
            Err(CodecError::NotFinite { index: 0 })
        ));
        let mut nan = encode_matrix(&t, Dtype::F16, &l).unwrap();
        nan[7 + 2 * 4..7 + 2 * 5].copy_from_slice(&[0x01, 0xfe]); // f16 NaN, negative
        assert!(matches!(
            decode_matrix(&nan, &l),
            Err(CodecError::NotFinite { index: 4 })
        ));
    }

    /// Rows the sender rounded to eight bits arrive bit for bit; a scale that is not a
    /// finite non-negative number, or a short body, is refused.
    #[test]
    fn eight_bit_rows_arrive_exactly_as_the_sender_rounded_them() {
        use crate::model::w2v::Precision;
        let l = Limits::default();
        let (rows, cols) = (50, 33);
        let mut data: Vec<f32> = (0..rows * cols)
            .map(|i| {
                ((i * 7919 % 1000) as f32 / 500.0 - 1.0) * 10f32.powi((i / cols) as i32 % 9 - 6)
            })
            .collect();
        data[cols..2 * cols].iter_mut().for_each(|x| *x = 0.0);
        for row in data.chunks_mut(cols) {
            Precision::I8.round_slice(row);
        }
        let t = WireTensor {
            shape: vec![rows, cols],
            data,
        };
        let b = encode_matrix(&t, Dtype::I8, &l).unwrap();
        assert_eq!(
            b.len(),
            7 + rows * (4 + cols),
            "one byte a value, four a row"
        );
        let back = decode_matrix(&b, &l).unwrap();
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&back.data), bits(&t.data));
        for bad_scale in [f32::NAN, f32::INFINITY, -1.0] {
            let mut bad = b.clone();
            bad[7..11].copy_from_slice(&bad_scale.to_le_bytes());
            assert!(
                matches!(decode_matrix(&bad, &l), Err(CodecError::Malformed(_))),
                "{bad_scale}"
            );
        }
        let mut huge = b.clone();
        huge[7..11].copy_from_slice(&f32::MAX.to_le_bytes());
        assert!(matches!(
            decode_matrix(&huge, &l),
            Err(CodecError::NotFinite { .. })
        ));
        assert!(decode_matrix(&b[..b.len() - 1], &l).is_err());
    }

    /// A matrix holding an infinite or NaN value is refused in every type with the index of
    /// the first, and what the buffer held before is left as it was.
    #[test]
    fn a_non_finite_value_is_refused_in_every_type_and_nothing_is_written() {
        let l = Limits::default();
        for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            let mut data = vec![0.25f32; 4 * 8];
            data[3] = bad;
            data[20] = bad;
            let t = WireTensor {
                shape: vec![4, 8],
                data,
            };
            for dtype in Dtype::ALL {
                let mut out = vec![1u8, 2, 3];
                assert!(
                    matches!(
                        put_matrix(&mut out, &t, dtype, &l),
                        Err(CodecError::NotFinite { index: 3 })
                    ),
                    "{dtype:?} {bad}"
                );
                assert_eq!(out, [1, 2, 3], "{dtype:?} {bad}");
            }
        }
    }

    /// The codes 0 to `COUNT - 1` are the types in order (caches are indexed by them), no
    /// other; each is read back from its name.
    #[test]
    fn every_dtype_code_below_the_count_is_known() {
        for (b, d) in Dtype::ALL.into_iter().enumerate() {
            assert_eq!(Dtype::from_u8(b as u8).unwrap(), d);
            assert_eq!(d as usize, b);
            let name = crate::model::w2v::Precision::from(d).name();
            assert_eq!(name.parse::<Dtype>().unwrap(), d);
        }
        assert!(Dtype::from_u8(Dtype::COUNT as u8).is_err());
        assert!("f8".parse::<Dtype>().is_err());
    }
}
