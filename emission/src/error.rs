//! Typed errors for bad edge sets: every malformed input maps to one, never to a panic.

use core::fmt;

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
    /// The self weight is above the network's `max_self_weight`.
    SelfWeightTooLarge { weight: u32, max: u32 },
}

impl EdgeError {
    /// The fixed message the contract aborts with (no numbers formatted on chain); `Display`
    /// adds the details.
    pub const fn message(&self) -> &'static str {
        match self {
            EdgeError::Empty => "edge set is empty",
            EdgeError::SelfNotFirst => "edge set must start with the caller",
            EdgeError::TooMany { .. } => "too many edges: at most 64",
            EdgeError::Duplicate { .. } => "duplicate edge target",
            EdgeError::UnknownTarget { .. } => "edge target not subscribed",
            EdgeError::FixedSumOff { .. } | EdgeError::SumOff { .. } => {
                "weights must sum to 1000000"
            }
            EdgeError::SelfWeightTooSmall { .. } => "self weight below minimum 10000",
            EdgeError::SelfWeightTooLarge { .. } => "self weight above max_self_weight",
            EdgeError::NegativeWeight { .. } | EdgeError::NotFinite { .. } => "invalid weight",
        }
    }

    /// Every message [`EdgeError::message`] can return (the documented list is checked
    /// against it).
    pub const MESSAGES: [&'static str; 9] = [
        EdgeError::Empty.message(),
        EdgeError::SelfNotFirst.message(),
        EdgeError::TooMany { count: 0, max: 0 }.message(),
        EdgeError::Duplicate { index: 0 }.message(),
        EdgeError::UnknownTarget { index: 0 }.message(),
        EdgeError::FixedSumOff { sum: 0 }.message(),
        EdgeError::SelfWeightTooSmall { weight: 0, min: 0 }.message(),
        EdgeError::SelfWeightTooLarge { weight: 0, max: 0 }.message(),
        EdgeError::NotFinite { index: 0 }.message(),
    ];
}

impl fmt::Display for EdgeError {
    /// The contract's message followed by the details of this instance.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let message = self.message();
        match self {
            EdgeError::Empty | EdgeError::SelfNotFirst => write!(f, "{message}"),
            EdgeError::TooMany { count, .. } => write!(f, "{message} (got {count})"),
            EdgeError::NegativeWeight { index } => write!(f, "{message}: negative at edge {index}"),
            EdgeError::NotFinite { index } => write!(f, "{message}: not finite at edge {index}"),
            EdgeError::SumOff { sum } => write!(f, "{message} (as floats: sum {sum}, not 1)"),
            EdgeError::FixedSumOff { sum } => write!(f, "{message} (got {sum})"),
            EdgeError::Duplicate { index } | EdgeError::UnknownTarget { index } => {
                write!(f, "{message} at edge {index}")
            }
            EdgeError::SelfWeightTooSmall { weight, .. } => write!(f, "{message} (got {weight})"),
            EdgeError::SelfWeightTooLarge { weight, max } => {
                write!(f, "{message} {max} (got {weight})")
            }
        }
    }
}
