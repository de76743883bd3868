//! Conversions between the codec's [`WireTensor`] and tch tensors (f32, CPU only).

use tch::{Kind, Tensor};

use crate::peer::WireTensor;

/// Builds a tch f32 tensor from a wire tensor (an error, not a panic, if the shape and
/// the data length disagree).
pub fn to_tch(t: &WireTensor) -> Result<Tensor, tch::TchError> {
    let shape: Vec<i64> = t.shape.iter().map(|&d| d as i64).collect();
    Tensor::from_slice(&t.data).f_reshape(shape.as_slice())
}

/// Copies a tch tensor into a wire tensor (converted to f32, contiguous).
pub fn from_tch(t: &Tensor) -> Result<WireTensor, tch::TchError> {
    let t = t.f_to_kind(Kind::Float)?.f_contiguous()?;
    let shape: Vec<usize> = t.size().iter().map(|&d| d.max(0) as usize).collect();
    let n: usize = shape.iter().product();
    let mut data = vec![0f32; n];
    t.f_copy_data(&mut data, n)?;
    Ok(WireTensor { shape, data })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_tch() {
        let w = WireTensor {
            shape: vec![2, 3],
            data: vec![1.0, -2.0, 3.5, 0.0, 4.25, -1.5],
        };
        let t = to_tch(&w).unwrap();
        assert_eq!(t.size(), vec![2, 3]);
        assert_eq!(from_tch(&t).unwrap(), w);
        let bad = WireTensor {
            shape: vec![4, 4],
            data: vec![0.0; 3],
        };
        assert!(to_tch(&bad).is_err());
    }
}
