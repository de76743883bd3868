//! Edge sets: a node's weighted out-edges, self first, and their validation.

use alloc::vec::Vec;

use crate::error::EdgeError;
use crate::fixed::{weight_from_f64, MAX_EDGES, MIN_SELF_WEIGHT, WEIGHT_ONE};

/// One weighted out-edge in fixed point; the first edge of a set is the node itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Edge<Id> {
    /// The node this edge points at (the node it attributes value to).
    pub to: Id,
    /// Parts per million of the node's emission routed along this edge.
    pub weight: u32,
}

/// Checks a fixed-point edge set as the contract does: self first, no duplicates, known
/// targets, at most [`MAX_EDGES`], sum exactly [`WEIGHT_ONE`], self weight >= [`MIN_SELF_WEIGHT`].
pub fn validate_fixed<Id: PartialEq>(
    caller: &Id,
    edges: &[Edge<Id>],
    is_known: impl FnMut(&Id) -> bool,
) -> Result<(), EdgeError> {
    validate_bounded(caller, edges, WEIGHT_ONE, is_known)
}

/// [`validate_fixed`] with the network's `max_self_weight` as well: a self weight above it is
/// [`EdgeError::SelfWeightTooLarge`] (so part of every emission follows the attributions).
pub fn validate_bounded<Id: PartialEq>(
    caller: &Id,
    edges: &[Edge<Id>],
    max_self_weight: u32,
    mut is_known: impl FnMut(&Id) -> bool,
) -> Result<(), EdgeError> {
    check_shape(caller, edges.len(), |i| &edges[i].to)?;
    let mut sum: u64 = 0;
    for (index, edge) in edges.iter().enumerate() {
        if index > 0 && !is_known(&edge.to) {
            return Err(EdgeError::UnknownTarget { index });
        }
        sum += edge.weight as u64;
    }
    if sum != WEIGHT_ONE as u64 {
        return Err(EdgeError::FixedSumOff { sum });
    }
    if edges[0].weight < MIN_SELF_WEIGHT {
        return Err(EdgeError::SelfWeightTooSmall {
            weight: edges[0].weight,
            min: MIN_SELF_WEIGHT,
        });
    }
    if edges[0].weight > max_self_weight {
        return Err(EdgeError::SelfWeightTooLarge {
            weight: edges[0].weight,
            max: max_self_weight,
        });
    }
    Ok(())
}

/// Checks a float edge set (the original prototype's form, with its sum tolerance) and
/// converts it to fixed point, giving the rounding remainder to the self edge so the sum is exact.
pub fn to_fixed<Id: PartialEq + Clone>(
    caller: &Id,
    edges: &[(Id, f64)],
    tolerance: f64,
    mut is_known: impl FnMut(&Id) -> bool,
) -> Result<Vec<Edge<Id>>, EdgeError> {
    check_shape(caller, edges.len(), |i| &edges[i].0)?;
    let mut sum = 0.0;
    for (index, (_, w)) in edges.iter().enumerate() {
        if !w.is_finite() {
            return Err(EdgeError::NotFinite { index });
        }
        if *w < 0.0 {
            return Err(EdgeError::NegativeWeight { index });
        }
        sum += *w;
    }
    if (sum - 1.0).abs() > tolerance {
        return Err(EdgeError::SumOff { sum });
    }
    let mut fixed: Vec<Edge<Id>> = edges
        .iter()
        .map(|(to, w)| Edge {
            to: to.clone(),
            weight: weight_from_f64(*w / sum),
        })
        .collect();
    let others: u64 = fixed[1..].iter().map(|e| e.weight as u64).sum();
    if others > WEIGHT_ONE as u64 {
        return Err(EdgeError::SumOff { sum });
    }
    fixed[0].weight = WEIGHT_ONE - others as u32;
    validate_fixed(caller, &fixed, &mut is_known)?;
    Ok(fixed)
}

/// Shape checks shared by both forms: non-empty, bounded, self first, no duplicate targets.
fn check_shape<'a, Id: PartialEq + 'a>(
    caller: &Id,
    len: usize,
    target: impl Fn(usize) -> &'a Id,
) -> Result<(), EdgeError> {
    if len == 0 {
        return Err(EdgeError::Empty);
    }
    if len > MAX_EDGES {
        return Err(EdgeError::TooMany {
            count: len,
            max: MAX_EDGES,
        });
    }
    if target(0) != caller {
        return Err(EdgeError::SelfNotFirst);
    }
    // O(len^2) with len <= MAX_EDGES: no allocation and no ordering bound on Id.
    for index in 1..len {
        if (0..index).any(|earlier| target(earlier) == target(index)) {
            return Err(EdgeError::Duplicate { index });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn e(to: u32, weight: u32) -> Edge<u32> {
        Edge { to, weight }
    }

    fn known(id: &u32) -> bool {
        *id < 10
    }

    #[test]
    fn accepts_a_well_formed_set() {
        let set = vec![e(1, 600_000), e(2, 300_000), e(3, 100_000)];
        assert_eq!(validate_fixed(&1, &set, known), Ok(()));
        assert_eq!(validate_fixed(&1, &[e(1, WEIGHT_ONE)], known), Ok(()));
    }

    #[test]
    fn rejects_each_kind_of_bad_set() {
        assert_eq!(validate_fixed(&1, &[], known), Err(EdgeError::Empty));
        assert_eq!(
            validate_fixed(&1, &[e(2, WEIGHT_ONE)], known),
            Err(EdgeError::SelfNotFirst)
        );
        assert_eq!(
            validate_fixed(&1, &[e(1, 500_000), e(2, 400_000)], known),
            Err(EdgeError::FixedSumOff { sum: 900_000 })
        );
        assert_eq!(
            validate_fixed(&1, &[e(1, 500_000), e(2, 250_000), e(2, 250_000)], known),
            Err(EdgeError::Duplicate { index: 2 })
        );
        assert_eq!(
            validate_fixed(&1, &[e(1, 500_000), e(1, 500_000)], known),
            Err(EdgeError::Duplicate { index: 1 })
        );
        assert_eq!(
            validate_fixed(&1, &[e(1, 500_000), e(42, 500_000)], known),
            Err(EdgeError::UnknownTarget { index: 1 })
        );
        assert_eq!(
            validate_fixed(&1, &[e(1, 0), e(2, WEIGHT_ONE)], known),
            Err(EdgeError::SelfWeightTooSmall {
                weight: 0,
                min: MIN_SELF_WEIGHT
            })
        );
        let many: Vec<_> = (0..(MAX_EDGES as u32 + 1)).map(|i| e(i, 1)).collect();
        assert_eq!(
            validate_fixed(&0, &many, |_| true),
            Err(EdgeError::TooMany {
                count: MAX_EDGES + 1,
                max: MAX_EDGES
            })
        );
    }

    #[test]
    fn weights_that_would_overflow_u32_sum_are_rejected_not_wrapped() {
        let set = vec![e(1, u32::MAX), e(2, u32::MAX), e(3, 2)];
        assert_eq!(
            validate_fixed(&1, &set, known),
            Err(EdgeError::FixedSumOff {
                sum: 2 * u32::MAX as u64 + 2
            })
        );
    }

    #[test]
    fn float_sets_are_checked_then_made_exact() {
        let fixed = to_fixed(&1, &[(1, 0.6), (2, 0.1), (3, 0.3)], 1e-3, known).unwrap();
        let total: u32 = fixed.iter().map(|e| e.weight).sum();
        assert_eq!(total, WEIGHT_ONE);
        assert_eq!(fixed[1].weight, 100_000);
        // Within tolerance: renormalised.
        let fixed = to_fixed(&1, &[(1, 0.5004), (2, 0.5)], 1e-3, known).unwrap();
        assert_eq!(fixed.iter().map(|e| e.weight).sum::<u32>(), WEIGHT_ONE);
        assert_eq!(
            to_fixed(&1, &[(1, 0.5), (2, 0.6)], 1e-3, known),
            Err(EdgeError::SumOff { sum: 1.1 })
        );
        assert_eq!(
            to_fixed(&1, &[(1, f64::NAN), (2, 0.5)], 1e-3, known),
            Err(EdgeError::NotFinite { index: 0 })
        );
        assert_eq!(
            to_fixed(&1, &[(1, 1.5), (2, -0.5)], 1e-3, known),
            Err(EdgeError::NegativeWeight { index: 1 })
        );
        assert_eq!(
            to_fixed(&1, &[(1, 0.5), (11, 0.5)], 1e-3, known),
            Err(EdgeError::UnknownTarget { index: 1 })
        );
    }
}
