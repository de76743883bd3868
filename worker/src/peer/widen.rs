//! Received half-precision values widened to f32 in one branch-free pass, compiled for the
//! processor's widest vector set. The `half` crate converts eight values per call to a
//! function it cannot inline (its F16C path is chosen at run time); on the live node that
//! was a third of the runtime threads' CPU (three upstreams, 0.9 MB each per round).

use crate::model::w2v::simd::{dispatch, Isa, Job, Kernel};

/// The f16 exponent field, moved to where an f32 keeps its exponent.
const EXP: u32 = 0x7c00 << 13;

/// One f16 (its bits) as f32, exactly: the magic-number method (F. Giesen, "Half to float
/// done quic", 2012), without branches so the loop around it vectorises.
#[inline(always)]
fn f16_bits_to_f32(h: u16) -> (f32, bool) {
    let h = u32::from(h);
    let shifted = (h & 0x7fff) << 13;
    let exp = shifted & EXP;
    // Rebias the exponent from 15 to 127.
    let normal = shifted + ((127 - 15) << 23);
    // Infinity and NaN: exponent 31 becomes 255, the payload kept.
    let special = normal + ((128 - 16) << 23);
    // Zero and subnormals: renormalised by one float subtraction (exact).
    let small = (f32::from_bits(normal + (1 << 23)) - f32::from_bits(113 << 23)).to_bits();
    let bits = if exp == EXP {
        special
    } else if exp == 0 {
        small
    } else {
        normal
    };
    (f32::from_bits(bits | ((h & 0x8000) << 16)), exp == EXP)
}

/// The widening, compiled once per instruction set through [`dispatch`].
struct Widen<'a> {
    raw: &'a [u8],
    out: &'a mut [f32],
}

impl Job for Widen<'_> {
    type Out = bool;

    #[inline(always)]
    fn run<K: Kernel>(self, _: K) -> bool {
        let mut special = false;
        for (x, c) in self.out.iter_mut().zip(self.raw.chunks_exact(2)) {
            let (v, s) = f16_bits_to_f32(u16::from_le_bytes([c[0], c[1]]));
            *x = v;
            special |= s;
        }
        !special
    }
}

/// Widens the little-endian f16 values of `raw` into `out` (as many as both hold); false
/// when any is infinite or NaN.
pub fn widen_f16(raw: &[u8], out: &mut [f32]) -> bool {
    dispatch(Isa::best(), Widen { raw, out })
}

#[cfg(test)]
mod tests {
    use super::*;
    use half::f16;

    /// Every one of the 65 536 f16 values widens as the `half` crate widens it, on every
    /// instruction set this processor has, and exactly the infinite and NaN ones are flagged.
    #[test]
    fn every_f16_widens_exactly_on_every_instruction_set() {
        let raw: Vec<u8> = (0..=u16::MAX).flat_map(|h| h.to_le_bytes()).collect();
        for isa in Isa::available() {
            let mut out = vec![0f32; 1 << 16];
            let finite = dispatch(
                isa,
                Widen {
                    raw: &raw,
                    out: &mut out,
                },
            );
            assert!(
                !finite,
                "{}: the infinities and NaNs are flagged",
                isa.name()
            );
            for (h, got) in (0..=u16::MAX).zip(&out) {
                let want = f16::from_bits(h).to_f32();
                if want.is_nan() {
                    assert!(got.is_nan(), "{} {h:#06x}", isa.name());
                } else {
                    assert_eq!(got.to_bits(), want.to_bits(), "{} {h:#06x}", isa.name());
                }
                let one = [h as u8, (h >> 8) as u8];
                let mut x = [0f32];
                assert_eq!(
                    dispatch(
                        isa,
                        Widen {
                            raw: &one,
                            out: &mut x
                        }
                    ),
                    want.is_finite(),
                    "{} {h:#06x}",
                    isa.name()
                );
            }
        }
    }

    #[test]
    fn finite_values_pass_and_lengths_follow_the_shorter() {
        let vals = [0.5f32, -2.0, 65504.0, 6e-8, -0.0];
        let raw: Vec<u8> = vals
            .iter()
            .flat_map(|v| f16::from_f32(*v).to_le_bytes())
            .collect();
        let mut out = vec![9f32; 7];
        assert!(widen_f16(&raw, &mut out));
        for (v, o) in vals.iter().zip(&out) {
            assert_eq!(f16::from_f32(*v).to_f32(), *o);
        }
        assert_eq!(&out[5..], &[9.0, 9.0], "nothing written past the input");
    }
}
