//! Typed errors for bad edge sets: every malformed input maps to one, never to a panic.

use core::fmt;

use crate::fixed::WEIGHT_ONE;

/// Why an edge set was rejected; `index` is the position in the submitted set.
#[derive(Debug, Clone, PartialEq)]
pub enum EdgeError {
    /// The set has no entry at all (it must hold at least the self edge).
    Empty,
    /// The first entry is not the caller.
    SelfNotFirst,
    /// More entries than `max`.
    TooMany { count: usize, max: usize },
    /// A float weight below zero.
    NegativeWeight { index: usize },
    /// A float weight that is NaN or infinite.
    NotFinite { index: usize },
    /// Float weights do not add up to one within the tolerance (the float input path only).
    SumOff { sum: f64 },
    /// Fixed-point weights do not add up to exactly `WEIGHT_ONE`: an integer (parts per
    /// million) so the contract's validation path carries no float at all.
    FixedSumOff { sum: u64 },
    /// The same target appears twice (or the caller appears again after the first entry).
    Duplicate { index: usize },
    /// A target that is not a known (subscribed) node.
    UnknownTarget { index: usize },
    /// The self weight is below `MIN_SELF_WEIGHT`.
    SelfWeightTooSmall { weight: u32, min: u32 },
}

impl fmt::Display for EdgeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EdgeError::Empty => write!(f, "edge set is empty"),
            EdgeError::SelfNotFirst => write!(f, "edge set must start with the caller"),
            EdgeError::TooMany { count, max } => {
                write!(f, "too many edges: {count} > {max}")
            }
            EdgeError::NegativeWeight { index } => write!(f, "negative weight at edge {index}"),
            EdgeError::NotFinite { index } => write!(f, "weight at edge {index} is not finite"),
            EdgeError::SumOff { sum } => write!(f, "weights must sum to 1 (got {sum})"),
            EdgeError::FixedSumOff { sum } => {
                write!(f, "weights must sum to {WEIGHT_ONE}, got {sum}")
            }
            EdgeError::Duplicate { index } => write!(f, "duplicate edge target at edge {index}"),
            EdgeError::UnknownTarget { index } => {
                write!(f, "edge target not subscribed at edge {index}")
            }
            EdgeError::SelfWeightTooSmall { weight, min } => {
                write!(f, "self weight {weight} below minimum {min}")
            }
        }
    }
}
