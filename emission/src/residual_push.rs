//! The residual-push step the contract runs on each emit.
//!
//! Every node holds a pending residual. When node `i` emits, its accrued emission is added to
//! its residual; one push then keeps the self-weight share as stake and forwards `w_ij` of the
//! residual to each neighbour's residual. This is the push form of the series
//! `N * sum_k M^k S`: at any time the matrix model's credit equals what was credited plus the
//! eventual distribution of the outstanding residual, so the total outstanding residual bounds
//! the L1 distance to the matrix model. Rounding is exact: forwards round down and the
//! remainder stays with the caller, so `pushed == kept + sum(forwards)` in integers.

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
