//! Half precision (f16) to and from f32 in one branch-free pass, compiled for the
//! processor's widest vector set: the updates a node sends are rounded to f16 and encoded,
//! the ones it receives widened. The `half` crate converts eight values per call to a
//! function it cannot inline (its F16C path is chosen at run time); on the live node the
//! widening alone was a third of the runtime threads' CPU (three upstreams, 0.9 MB each per
//! round), the narrowing of what it serves most of the encoding.

use super::simd::{dispatch, Isa, Job, Kernel};

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

/// One f32 as the bits of the nearest f16 (ties to even; beyond the largest finite f16,
/// infinity; NaN stays NaN), without branches: the bias-and-round method (F. Giesen,
/// "float_to_half_fast3_rtne", 2016).
#[inline(always)]
fn f32_to_f16_bits(x: f32) -> u16 {
    const F32_INFINITY: u32 = 255 << 23;
    /// 2^16: from here up, infinity.
    const F16_LIMIT: u32 = (127 + 16) << 23;
    /// Adding it shifts an f16 subnormal's bits to the bottom of an f32's significand.
    const SUBNORMAL_MAGIC: u32 = ((127 - 15) + (23 - 10) + 1) << 23;
    let f = x.to_bits();
    let sign = (f >> 16) & 0x8000;
    let a = f & 0x7fff_ffff;
    let big = if a > F32_INFINITY { 0x7e00 } else { 0x7c00 };
    let small = (f32::from_bits(a) + f32::from_bits(SUBNORMAL_MAGIC))
        .to_bits()
        .wrapping_sub(SUBNORMAL_MAGIC);
    let odd = (a >> 13) & 1;
    // Rebias the exponent from 127 to 15 and round the 13 dropped bits to even.
    let normal = a
        .wrapping_add((15u32.wrapping_sub(127)) << 23)
        .wrapping_add(0xfff + odd)
        >> 13;
    let bits = if a >= F16_LIMIT {
        big
    } else if a < (113 << 23) {
        small
    } else {
        normal
    };
    (bits | sign) as u16
}

/// The narrowing, compiled once per instruction set through [`dispatch`].
struct Narrow<'a> {
    xs: &'a [f32],
    out: &'a mut [u8],
}

impl Job for Narrow<'_> {
    type Out = bool;

    #[inline(always)]
    fn run<K: Kernel>(self, _: K) -> bool {
        let mut finite = true;
        for (c, &x) in self.out.chunks_exact_mut(2).zip(self.xs) {
            finite &= x.is_finite();
            c.copy_from_slice(&f32_to_f16_bits(x).to_le_bytes());
        }
        finite
    }
}

/// Writes `xs` as little-endian f16 into `out` (as many as both hold); false when any
/// value of `xs` is infinite or NaN.
pub fn narrow_f16(xs: &[f32], out: &mut [u8]) -> bool {
    dispatch(Isa::best(), Narrow { xs, out })
}

/// Each value as it arrives after a trip through f16, saturated at the largest finite f16
/// (a finite value stays finite), in one pass.
struct RoundTrip<'a>(&'a mut [f32]);

impl Job for RoundTrip<'_> {
    type Out = ();

    #[inline(always)]
    fn run<K: Kernel>(self, _: K) {
        for x in self.0.iter_mut() {
            *x = f16_bits_to_f32(f32_to_f16_bits(x.clamp(-65_504.0, 65_504.0))).0;
        }
    }
}

/// `xs` rounded to f16 in place, saturating at +-65 504.
pub fn round_f16(xs: &mut [f32]) {
    dispatch(Isa::best(), RoundTrip(xs))
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

    /// f32 values around every f16 boundary: each f16, the midpoints between neighbours
    /// (ties), one step of f32 either side, the subnormals, the overflow edge, infinities,
    /// NaNs, and a stride through every f32 bit pattern.
    fn probes() -> Vec<f32> {
        let mut xs = Vec::new();
        for h in 0..=u16::MAX {
            let v = f16::from_bits(h).to_f32();
            let next = f16::from_bits(h.wrapping_add(1)).to_f32();
            xs.push(v);
            if v.is_finite() && next.is_finite() && (h & 0x7fff) != 0x7bff {
                let mid = (v + next) / 2.0;
                for m in [
                    mid,
                    f32::from_bits(mid.to_bits() + 1),
                    f32::from_bits(mid.to_bits() - 1),
                ] {
                    xs.push(m);
                }
            }
        }
        xs.extend([
            65_504.0,
            65_519.99,
            65_520.0,
            65_536.0,
            1e30,
            f32::MAX,
            f32::MIN_POSITIVE,
            1e-45,
        ]);
        xs.extend([f32::INFINITY, f32::NEG_INFINITY, f32::NAN]);
        xs.extend((0..=u32::MAX).step_by(4093).map(f32::from_bits));
        let neg: Vec<f32> = xs.iter().map(|x| -x).collect();
        xs.extend(neg);
        xs
    }

    /// Every probe narrows as the `half` crate narrows it (NaN to some NaN), on every
    /// instruction set this processor has, and exactly the inputs that are not finite are
    /// flagged; the round trip saturates where `half` would overflow.
    #[test]
    fn narrowing_and_the_round_trip_match_the_half_crate_on_every_instruction_set() {
        let xs = probes();
        for isa in Isa::available() {
            let mut out = vec![0u8; 2 * xs.len()];
            let finite = dispatch(
                isa,
                Narrow {
                    xs: &xs,
                    out: &mut out,
                },
            );
            assert!(
                !finite,
                "{}: the infinities and NaNs are flagged",
                isa.name()
            );
            for (x, c) in xs.iter().zip(out.chunks_exact(2)) {
                let got = f16::from_bits(u16::from_le_bytes([c[0], c[1]]));
                let want = f16::from_f32(*x);
                if want.is_nan() {
                    assert!(got.is_nan(), "{} {x:e}", isa.name());
                } else {
                    assert_eq!(
                        got.to_bits(),
                        want.to_bits(),
                        "{} {x:e} ({:#010x})",
                        isa.name(),
                        x.to_bits()
                    );
                }
            }
            let mut trip = xs.clone();
            dispatch(isa, RoundTrip(&mut trip));
            for (x, got) in xs.iter().zip(&trip) {
                let want = f16::from_f32(x.clamp(-65_504.0, 65_504.0)).to_f32();
                if want.is_nan() {
                    assert!(got.is_nan());
                } else {
                    assert_eq!(got.to_bits(), want.to_bits(), "{} {x:e}", isa.name());
                }
            }
            let fine = [0.5f32, -3.25, 65_504.0, 1e-7];
            let mut two = [0u8; 8];
            assert!(
                dispatch(
                    isa,
                    Narrow {
                        xs: &fine,
                        out: &mut two
                    }
                ),
                "finite values pass"
            );
        }
    }

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
