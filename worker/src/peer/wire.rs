//! The compact bodies of the forward kind, and the matrices every kind uses: word ids as wide
//! as the vocabulary needs (two bytes below 65 536 words), vectors in half precision (f16 or
//! bf16, or f32 when asked).
//!
//! Forward request: dtype `u8` the caller wants back, id width `u8` (2 or 4), count `u32`,
//! ids. Forward answer: a matrix, dtype `u8`, rows `u32`, cols `u16`, little-endian
//! elements.

use half::slice::HalfFloatSliceExt;
use half::{bf16, f16};

use super::codec::{CodecError, Limits, WireTensor};

/// Values converted to or from f16 at a time.
const BLOCK: usize = 64;

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
}

impl Dtype {
    pub(super) fn from_u8(b: u8) -> Result<Dtype, CodecError> {
        match b {
            0 => Ok(Dtype::F32),
            1 => Ok(Dtype::F16),
            2 => Ok(Dtype::Bf16),
            b => Err(CodecError::UnsupportedDtype(b)),
        }
    }

    /// Bytes per element.
    pub fn width(self) -> usize {
        match self {
            Dtype::F32 => 4,
            Dtype::F16 | Dtype::Bf16 => 2,
        }
    }

    /// `x` as it arrives after a trip through this type.
    pub fn round_trip(self, x: f32) -> f32 {
        match self {
            Dtype::F32 => x,
            Dtype::F16 => f16::from_f32(x).to_f32(),
            Dtype::Bf16 => bf16::from_f32(x).to_f32(),
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
        }
    }
}

impl std::str::FromStr for Dtype {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "f32" => Ok(Dtype::F32),
            "f16" => Ok(Dtype::F16),
            "bf16" => Ok(Dtype::Bf16),
            _ => Err(format!("unknown dtype {s:?} (f32, f16 or bf16)")),
        }
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
    let (rows, cols) = match t.shape[..] {
        [r, c] if r * c == t.data.len() => (r, c),
        _ => {
            return Err(CodecError::ShapeMismatch {
                expected: vec![t.data.len()],
                got: t.shape.clone(),
            })
        }
    };
    if t.data.len() > limits.max_elements {
        return Err(oversize("elements", t.data.len(), limits.max_elements));
    }
    if cols > u16::MAX as usize || rows > u32::MAX as usize {
        return Err(oversize("dimension", cols.max(rows), u16::MAX as usize));
    }
    if let Some(index) = t.data.iter().position(|x| !x.is_finite()) {
        return Err(CodecError::NotFinite { index });
    }
    out.reserve(7 + dtype.width() * t.data.len());
    out.push(dtype as u8);
    out.extend_from_slice(&(rows as u32).to_le_bytes());
    out.extend_from_slice(&(cols as u16).to_le_bytes());
    match dtype {
        Dtype::F32 => t
            .data
            .iter()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        Dtype::F16 => {
            // In blocks, so the conversion runs on the processor's F16C lanes where it has them.
            let mut half = [f16::ZERO; BLOCK];
            for block in t.data.chunks(BLOCK) {
                let h = &mut half[..block.len()];
                h.convert_from_f32_slice(block);
                h.iter()
                    .for_each(|x| out.extend_from_slice(&x.to_le_bytes()));
            }
        }
        Dtype::Bf16 => t
            .data
            .iter()
            .for_each(|x| out.extend_from_slice(&bf16::from_f32(*x).to_le_bytes())),
    }
    Ok(())
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
    let raw = r.take(n as usize * dtype.width())?;
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
            let finite = super::widen::widen_f16(raw, &mut data);
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
    };
    if !finite {
        let index = data.iter().position(|x| !x.is_finite()).unwrap_or(0);
        return Err(CodecError::NotFinite { index });
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
        for (dtype, tol) in [(Dtype::F32, 0.0), (Dtype::F16, 1e-3), (Dtype::Bf16, 8e-3)] {
            let b = encode_matrix(&t, dtype, &l).unwrap();
            assert_eq!(b.len(), 7 + 6 * dtype.width());
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
}
