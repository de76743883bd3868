//! How much of a pending claim may compound: only the part the node keeps.
//!
//! The pool compounds every unsettled unit, so a position's claim after its price grew by
//! `rho` is `C = s * (rho - 1)`: the node is credited compounding on everything it accrued,
//! including the `1 - w` it will forward along its edges when it settles. In the matrix model
//! that forwarded part sits in the neighbours' stakes and compounds for THEM, so a node that
//! settled rarely would keep `w` of the compounding of what it owes others (a second-order
//! gain in the growth per interval; measured +0.25 % at 2.8 % growth before this rule).
//!
//! If only the kept fraction `w` compounds, the claim is `C_w = s * (rho^w - 1) / w`, which
//! runs from `C_0 = s * ln(rho)` (nothing compounds) to `C_1 = C` (everything does). The
//! settlement credits `C_0 + w * (C - C_0)`, i.e. withholds `(1 - w) (C - C_0)`: it agrees with `C_w` to second order in the
//! growth (both are `s * (x - (1 - w) x^2 / 2 + O(x^3))` with `x = rho - 1`), so delaying a
//! settlement no longer pays (up to the cycle term below). Being linear in `w` it needs one
//! logarithm and no fractional power, and since `C_w` is convex in `w` it never credits less
//! than `C_w`.
//!
//! The node still claims all of `C` from the pool (so `minted + unsettled == rate * blocks`
//! and stake arriving later takes nothing of it); it pushes `C_w` along its edges as usual and
//! forwards the difference `C - C_w`, the compounding of what it owed its targets, to those
//! targets alone, in proportion to their weights ([`forwarded_compounding`]): they receive what
//! their share would have earned had it been theirs from the start.
//!
//! What the rule does not see: a forward that comes back. It withholds as if what a node
//! forwards never returned to it; on a cycle of the graph part of it does, and had the node
//! settled every block that part would have compounded as its stake meanwhile. So on cycles
//! settling often or rarely still differs at second order: by about `c ln(1 + g)` of the
//! node's earnings over a window in which the total stake grows by `g`, with
//! `c = ((P^2)_kk - (1 + w) P_kk + w) / (2 P_kk)` in the continuous limit (`P = N (I - M)^-1`),
//! `|c| < 1/2`, and `c = 0` when nothing the node forwards comes back (`P_kk = w`). Removing it
//! would take `P_kk` and `(P^2)_kk`, which depend on every edge set around every cycle through
//! the node, beyond the bounded work of one settlement (`docs/emission.md`, "Timing on
//! cycles").
//!
//! Arithmetic is integer only (the contract has no floats): `log2` by repeated squaring of a
//! 64-bit mantissa, then `ln = log2 * ln 2`, both in Q64.64; the withheld part rounds down, so
//! the credited claim is within one base unit plus `s * 2^-58` above the formula.

use alloc::vec::Vec;

use crate::edges::Edge;
use crate::fixed::WEIGHT_ONE;
use crate::residual_push::Push;
use crate::settlement::mul_div;

/// `ln 2` in Q64.64 (`floor(ln 2 * 2^64)`).
const LN2_Q64: u64 = 0xB172_17F7_D1CF_79AB;

/// One in Q64.64.
const ONE_Q64: u128 = 1 << 64;

/// `log2(num / den)` in Q64.64 for `num >= den > 0`; `None` if the ratio reaches 2^64.
pub fn log2_ratio_q64(num: u128, den: u128) -> Option<u128> {
    if den == 0 || num < den {
        return None;
    }
    // Integer part: the largest k with den * 2^k <= num.
    let mut k = (den.leading_zeros() - num.leading_zeros()) as u128;
    if k > 0 && (den << k) > num {
        k -= 1;
    }
    if k >= 64 {
        return None;
    }
    // Mantissa num / (den * 2^k) in [1, 2), as Q1.63.
    let mantissa = mul_div(num, 1 << 63, den << k)?;
    let mut m = u64::try_from(mantissa).ok()?;
    let mut fraction: u128 = 0;
    for bit in (0..64).rev() {
        let square = (m as u128 * m as u128) >> 63;
        if square >= 1 << 64 {
            m = (square >> 1) as u64;
            fraction |= 1 << bit;
        } else {
            m = square as u64;
        }
    }
    Some((k << 64) | fraction)
}

/// The claim of a position of settled `stake` whose pool value grew by `full_claim`, when
/// only the self-weight fraction `self_weight` (parts per million) of what it accrues
/// compounds: `C - (1 - w) (C - C_0)` with `C_0 = stake * ln(1 + C / stake)`. The withheld
/// compounding `(1 - w) * stake * (x - ln(1 + x))` is formed from `x - ln(1 + x)` in Q64.64 and
/// rounded down, so small claims lose nothing to rounding; never above `C`.
pub fn kept_compounding_claim(stake: u64, full_claim: u64, self_weight: u32) -> u64 {
    if stake == 0 || full_claim == 0 || self_weight >= WEIGHT_ONE {
        return full_claim;
    }
    let withheld = (|| {
        let ln = mul_div(
            log2_ratio_q64(stake as u128 + full_claim as u128, stake as u128)?,
            LN2_Q64,
            ONE_Q64,
        )?;
        let x = mul_div((full_claim as u128) << 32, 1 << 32, stake as u128)?;
        let gap = mul_div(x.saturating_sub(ln), stake, ONE_Q64)?;
        mul_div(
            gap,
            WEIGHT_ONE as u64 - self_weight as u64,
            WEIGHT_ONE as u128,
        )
    })();
    // A ratio of 2^64 or more cannot arise from u64 amounts; then nothing is withheld.
    let withheld = withheld.and_then(|w| u64::try_from(w).ok()).unwrap_or(0);
    full_claim - withheld.min(full_claim)
}

/// Splits `amount` over the forward edges of `edges` (self first) in proportion to their
/// weights, keeping nothing but the rounding remainder (less than one unit per edge); all of
/// it is kept when the set forwards nothing.
pub fn forwarded_compounding<Id>(amount: u64, edges: &[Edge<Id>]) -> Push {
    let forward_weight: u64 = edges.iter().skip(1).map(|e| e.weight as u64).sum();
    if forward_weight == 0 {
        return Push {
            keep: amount,
            forwards: edges.iter().skip(1).map(|_| 0).collect(),
        };
    }
    let forwards: Vec<u64> = edges
        .iter()
        .skip(1)
        .map(|edge| ((amount as u128 * edge.weight as u128) / forward_weight as u128) as u64)
        .collect();
    let sent: u64 = forwards.iter().sum();
    Push {
        keep: amount - sent,
        forwards,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn log2_f64(num: u128, den: u128) -> f64 {
        log2_ratio_q64(num, den).unwrap() as f64 / ONE_Q64 as f64
    }

    #[test]
    fn log2_of_exact_powers_and_known_ratios() {
        assert_eq!(log2_ratio_q64(1, 1), Some(0));
        assert_eq!(log2_ratio_q64(8, 1), Some(3 << 64));
        assert_eq!(log2_ratio_q64(6, 3), Some(1 << 64));
        assert!((log2_f64(3, 1) - 3f64.log2()).abs() < 1e-15);
        assert!((log2_f64(1_000_001, 1_000_000) - 1.000001f64.log2()).abs() < 1e-15);
        assert_eq!(log2_ratio_q64(1, 2), None);
        assert_eq!(log2_ratio_q64(1, 0), None);
        assert_eq!(log2_ratio_q64(1 << 64, 1), None);
    }

    #[test]
    fn full_self_weight_or_nothing_accrued_keeps_the_pool_claim() {
        assert_eq!(kept_compounding_claim(1_000, 500, WEIGHT_ONE), 500);
        assert_eq!(kept_compounding_claim(1_000, 0, 500_000), 0);
        assert_eq!(kept_compounding_claim(0, 7, 500_000), 7);
    }

    #[test]
    fn forwarded_compounding_goes_to_targets_by_weight() {
        let e = |to: u8, weight: u32| Edge { to, weight };
        let split = forwarded_compounding(1_000, &[e(0, 500_000), e(1, 300_000), e(2, 200_000)]);
        assert_eq!((split.keep, split.forwards), (0, alloc::vec![600, 400]));
        let split = forwarded_compounding(10, &[e(0, 400_000), e(1, 300_000), e(2, 300_000)]);
        assert_eq!((split.keep, split.forwards), (0, alloc::vec![5, 5]));
        let split = forwarded_compounding(
            7,
            &[e(0, 10_000), e(1, 330_000), e(2, 330_000), e(3, 330_000)],
        );
        assert_eq!((split.keep, split.forwards), (1, alloc::vec![2, 2, 2]));
        let split = forwarded_compounding(9, &[e(0, WEIGHT_ONE)]);
        assert_eq!((split.keep, split.forwards.len()), (9, 0));
    }

    #[test]
    fn matches_the_second_order_expansion() {
        // s = 10^11, x = 2.8 %, w = 0.5: C_0 = s ln(1.028), claim = (C_0 + C) / 2.
        let (s, c) = (100_000_000_000u64, 2_800_000_000u64);
        let claim = kept_compounding_claim(s, c, 500_000) as f64;
        let c0 = s as f64 * (1.028f64).ln();
        let expected = c0 + 0.5 * (c as f64 - c0);
        assert!((claim - expected).abs() <= 2.0, "{claim} vs {expected}");
        // And within a third-order term of the exact s * (rho^w - 1) / w.
        let exact = s as f64 * (1.028f64.powf(0.5) - 1.0) / 0.5;
        assert!(claim >= exact - 2.0 && claim - exact < s as f64 * 0.028f64.powi(3) / 12.0);
    }

    proptest! {
        #[test]
        fn between_the_uncompounded_and_the_full_claim(
            stake in 1u64..u64::MAX / 2,
            claim in 0u64..u64::MAX / 2,
            w in 10_000u32..=WEIGHT_ONE,
            dw in 0u32..100_000,
        ) {
            let kept = kept_compounding_claim(stake, claim, w);
            prop_assert!(kept <= claim);
            let ln = (stake as f64) * (1.0 + claim as f64 / stake as f64).ln();
            prop_assert!(kept as f64 >= ln * (1.0 - 1e-12) - 1.0);
            // More self weight never credits less.
            let more = kept_compounding_claim(stake, claim, (w + dw).min(WEIGHT_ONE));
            prop_assert!(more >= kept);
        }
    }
}
