//! The residual-push step the contract runs on each emit.
//!
//! Every node holds a pending residual. When node `i` emits, its accrued emission is added to
//! its residual; one push then keeps the self-weight share as stake and forwards `w_ij` of the
//! residual to each neighbour's residual. This is the push form of the series
//! `N * sum_k M^k S`: at any time the matrix model's credit equals what was credited plus the
//! eventual distribution of the outstanding residual, so the total outstanding residual bounds
//! the L1 distance to the matrix model. Rounding is exact: the settlement hands out each
//! part cumulatively over the pushes under one edge set ([`cumulative`]: rounded down once
//! over the whole run); what the floors leave ([`remainder`], under one unit per edge) waits
//! in the node's residual for its next push, and goes out when the set ends ([`flush`]:
//! forwards rounded up, the node keeps the rest), so `pushed == kept + sum(forwards) +
//! carried` in integers. [`push`] alone (remainder to the caller) is the off-chain models'.

use alloc::vec::Vec;

use crate::edges::Edge;
use crate::fixed::mul_weight;

/// The outcome of pushing one residual through one edge set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Push {
    /// The part credited to the caller's stake (self weight share plus rounding remainder).
    pub keep: u64,
    /// The part added to each target's residual, aligned with `edges[1..]`.
    pub forwards: Vec<u64>,
}

/// Splits `residual` along a validated edge set (self first); O(edges), no other state read.
pub fn push<Id>(residual: u64, edges: &[Edge<Id>]) -> Push {
    let forwards: Vec<u64> = edges
        .iter()
        .skip(1)
        .map(|edge| mul_weight(residual, edge.weight))
        .collect();
    let forwarded: u64 = forwards.iter().sum();
    Push {
        keep: residual - forwarded,
        forwards,
    }
}

/// The part of `total` that floors leave over when it is split along `edges`: under one
/// unit per edge.
pub fn remainder(total: u64, edges: &[Edge<impl Sized>]) -> u64 {
    let floors: u64 = edges.iter().map(|e| mul_weight(total, e.weight)).sum();
    total - floors
}

/// What each party gets when the amount pushed under one edge set grows from `before` to
/// `after` (cumulative): `floor(after * w) - floor(before * w)` each, so over any run of pushes
/// every party's total is its exact share rounded down once, however often the node pushes.
/// What is not handed out is [`remainder`]`(after)`.
pub fn cumulative(before: u64, after: u64, edges: &[Edge<impl Sized>]) -> Push {
    let part = |e: &Edge<_>| mul_weight(after, e.weight) - mul_weight(before, e.weight);
    Push {
        keep: edges.first().map_or(0, part),
        forwards: edges.iter().skip(1).map(part).collect(),
    }
}

/// Empties a remainder when its edge set ends (a new set, or the node leaves): each forward
/// rounds UP (at most one unit each, while any is left) and the node keeps the rest, so
/// ending sets often only costs the node.
pub fn flush(remainder: u64, edges: &[Edge<impl Sized>]) -> Push {
    let mut left = remainder;
    let forwards = edges
        .iter()
        .skip(1)
        .map(|e| {
            let exact = remainder as u128 * e.weight as u128;
            let up = exact.div_ceil(crate::fixed::WEIGHT_ONE as u128) as u64;
            let give = up.min(left);
            left -= give;
            give
        })
        .collect();
    Push {
        keep: left,
        forwards,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixed::WEIGHT_ONE;
    use alloc::vec;

    #[test]
    fn keeps_self_share_and_forwards_the_rest_exactly() {
        let edges = vec![
            Edge {
                to: 0,
                weight: 600_000,
            },
            Edge {
                to: 1,
                weight: 300_000,
            },
            Edge {
                to: 2,
                weight: 100_000,
            },
        ];
        let p = push(1_000, &edges);
        assert_eq!(p.forwards, vec![300, 100]);
        assert_eq!(p.keep, 600);
    }

    #[test]
    fn rounding_remainder_stays_with_the_caller() {
        let third = WEIGHT_ONE / 3;
        let edges = vec![
            Edge {
                to: 0,
                weight: WEIGHT_ONE - 2 * third,
            },
            Edge {
                to: 1,
                weight: third,
            },
            Edge {
                to: 2,
                weight: third,
            },
        ];
        for residual in [0u64, 1, 2, 7, 100, 12_345, u64::MAX / 3] {
            let p = push(residual, &edges);
            assert_eq!(p.keep + p.forwards.iter().sum::<u64>(), residual);
            assert!(p.forwards.iter().all(|f| *f <= residual / 3));
        }
    }

    #[test]
    fn cumulative_splits_hand_out_each_exact_share_once() {
        let w = |to: u8, weight: u32| Edge { to, weight };
        let edges = [w(0, 333_334), w(1, 333_333), w(2, 333_333)];
        // Pushing 1 unit 300 times gives what pushing 300 once gives.
        let (mut keep, mut fwd) = (0u64, [0u64; 2]);
        for total in 1..=300u64 {
            let p = cumulative(total - 1, total, &edges);
            keep += p.keep;
            fwd[0] += p.forwards[0];
            fwd[1] += p.forwards[1];
        }
        let once = cumulative(0, 300, &edges);
        assert_eq!((keep, fwd.to_vec()), (once.keep, once.forwards));
        assert_eq!(keep + fwd[0] + fwd[1] + remainder(300, &edges), 300);
        assert_eq!((keep, fwd), (100, [99, 99]));
    }

    #[test]
    fn a_flush_rounds_forwards_up_and_never_hands_out_more_than_it_has() {
        let w = |to: u8, weight: u32| Edge { to, weight };
        let edges = [w(0, 500_000), w(1, 250_000), w(2, 250_000)];
        assert_eq!(
            flush(3, &edges),
            Push {
                keep: 1,
                forwards: vec![1, 1]
            }
        );
        assert_eq!(
            flush(1, &edges),
            Push {
                keep: 0,
                forwards: vec![1, 0]
            }
        );
        assert_eq!(
            flush(0, &edges),
            Push {
                keep: 0,
                forwards: vec![0, 0]
            }
        );
        assert_eq!(
            flush(2, &[w(0, WEIGHT_ONE)]),
            Push {
                keep: 2,
                forwards: vec![]
            }
        );
    }

    #[test]
    fn self_only_set_keeps_everything() {
        let p = push(
            77,
            &[Edge {
                to: 5u8,
                weight: WEIGHT_ONE,
            }],
        );
        assert_eq!(
            p,
            Push {
                keep: 77,
                forwards: vec![]
            }
        );
    }
}
