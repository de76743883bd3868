//! Rows in eight bits: each row of an update travels as one f32 scale and one signed byte
//! per value (value = q x scale, |q| <= 127), about half the bytes of f16. The rounding
//! error is not lost: the sender's residual keeps it (error feedback, `compress.rs`).
//! A row already rounded gives the same scale and bytes again, so the wire carries exactly
//! what the sender counted as sent.

/// Largest |q|.
const LEVELS: f32 = 127.0;

/// The scale of `row`: its largest magnitude over 127, at a fixed point of
/// `s -> (127 s) / 127` so that a rounded row (whose largest value is `127 s`) gives `s`
/// back. 0 for a row of zeros or one that is not finite.
pub fn scale(row: &[f32]) -> f32 {
    let (max, finite) = row.iter().fold((0f32, true), |(m, ok), x| {
        (m.max(x.abs()), ok & x.is_finite())
    });
    if !(max > 0.0 && finite) {
        return 0.0;
    }
    let mut s = max / LEVELS;
    if (s * LEVELS).is_infinite() {
        // Near f32::MAX: one step down so that the largest value stays finite.
        s = f32::from_bits(s.to_bits() - 1);
    }
    for _ in 0..4 {
        let next = (s * LEVELS) / LEVELS;
        if next == s || !(next * LEVELS).is_finite() {
            break;
        }
        s = next;
    }
    s
}

/// `x` in steps of `scale` (0 when the scale is).
#[inline]
pub fn quantize(x: f32, scale: f32) -> i8 {
    if scale > 0.0 {
        (x / scale).round().clamp(-LEVELS, LEVELS) as i8
    } else {
        0
    }
}

/// Each value of `row` as it arrives after a trip through eight bits.
pub fn round_row(row: &mut [f32]) {
    let s = scale(row);
    for x in row.iter_mut() {
        *x = f32::from(quantize(*x, s)) * s;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::w2v::Lcg;

    fn random_row(rng: &mut Lcg, dim: usize, magnitude: f32) -> Vec<f32> {
        (0..dim)
            .map(|_| ((rng.next_u64() % 2_000_001) as f32 / 1_000_000.0 - 1.0) * magnitude)
            .collect()
    }

    /// Rounding is exact to half a step, and rounding a rounded row changes no bit (from
    /// tiny to huge magnitudes): what a sender counts as sent is what arrives.
    #[test]
    fn a_rounded_row_rounds_to_itself_within_half_a_step_of_the_original() {
        let mut rng = Lcg::new(5);
        for k in 0..20_000 {
            let magnitude = 10f32.powi((k % 70) - 40);
            let row = random_row(&mut rng, 1 + k as usize % 130, magnitude);
            let s = scale(&row);
            let mut once = row.clone();
            round_row(&mut once);
            for (x, y) in row.iter().zip(&once) {
                assert!((x - y).abs() <= 0.5 * s * 1.000_01, "{x} -> {y} (step {s})");
            }
            assert_eq!(scale(&once), s, "the scale is kept");
            let mut twice = once.clone();
            round_row(&mut twice);
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&twice), bits(&once), "magnitude {magnitude}");
        }
    }

    #[test]
    fn zero_and_non_finite_rows_become_zero_and_extremes_stay_finite() {
        let mut zeros = vec![0.0f32; 5];
        round_row(&mut zeros);
        assert!(zeros.iter().all(|&x| x == 0.0));
        assert_eq!(scale(&[1.0, f32::NAN]), 0.0);
        assert_eq!(scale(&[f32::INFINITY]), 0.0);
        let mut big = vec![f32::MAX, -f32::MAX, 1.0];
        round_row(&mut big);
        assert!(big.iter().all(|x| x.is_finite()), "{big:?}");
        assert!(big[0] > 0.99 * f32::MAX && big[1] == -big[0], "{big:?}");
    }
}
