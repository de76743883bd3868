//! Fixed English messages for rejected edge sets (no float formatting on chain).

use emission::EdgeError;

/// The assertion message for an edge set `emission::edges::validate_fixed` refused.
pub fn edge_error_message(error: &EdgeError) -> &'static str {
    match error {
        EdgeError::Empty => "edge set is empty",
        EdgeError::SelfNotFirst => "edge set must start with the caller",
        EdgeError::TooMany { .. } => "too many edges: at most 64",
        EdgeError::Duplicate { .. } => "duplicate edge target",
        EdgeError::UnknownTarget { .. } => "edge target not subscribed",
        EdgeError::FixedSumOff { .. } | EdgeError::SumOff { .. } => "weights must sum to 1000000",
        EdgeError::SelfWeightTooSmall { .. } => "self weight below minimum 10000",
        EdgeError::NegativeWeight { .. } | EdgeError::NotFinite { .. } => "invalid weight",
    }
}
