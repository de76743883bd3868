//! The metagraph's tunable parameters, their defaults and their bounds, defined once for the
//! contract's `setparams` and the ledger.

use crate::fixed::{MIN_SELF_WEIGHT, WEIGHT_ONE};

/// Emission per block until `setparams` changes it: 1.0000 BIT.
pub const DEFAULT_EMISSION_RATE: u64 = 10_000;
/// Smallest first subscription until `setparams` changes it: 1.0000 BIT.
pub const DEFAULT_MIN_STAKE: u64 = 10_000;
/// Largest self weight by default: the whole emission may stay with the node (the seed's rule).
pub const DEFAULT_MAX_SELF_WEIGHT: u32 = WEIGHT_ONE;
/// Blocks without an emit after which anyone may evict a node by default: 7 days.
pub const DEFAULT_MAX_IDLE: u64 = 7 * 24 * 3600 * 2;

/// Largest emission rate `setparams` accepts: 10^8 BIT per block, so `rate * blocks` stays far
/// from `u64` for any realistic interval and a typo cannot mint the supply in one block.
pub const MAX_EMISSION_RATE: u64 = 1_000_000_000_000;
/// Largest minimum stake: 2^62, the largest amount an `asset` holds.
pub const MAX_MIN_STAKE: u64 = 1 << 62;
/// Smallest `max_idle`: 2 x 32 x the worker's default 5 s emit interval (640 blocks, 320 s), so
/// a worker whose back-off reaches 32 intervals is still never idle long enough to be evicted
/// (a worker refuses to start when its 32 x `emit_interval` exceeds the chain's `max_idle`).
pub const MIN_MAX_IDLE: u64 = 640;

/// Blocks between a `setparams` and the block its values take effect while any node is
/// subscribed: one `max_idle` floor, so every live worker (which emits and re-reads the
/// parameters at least every `MIN_MAX_IDLE / 2` blocks) sees the announced change before it
/// applies. With no node subscribed a change applies at once.
pub const PARAM_DELAY: u64 = MIN_MAX_IDLE;

/// The parameters `setparams` sets (all at once).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params {
    /// Base units issued per block while stake exists.
    pub emission_rate: u64,
    /// Smallest first subscription (at least 1: a node always has stake).
    pub min_stake: u64,
    /// Largest self weight an edge set may carry, parts per million.
    pub max_self_weight: u32,
    /// Blocks without an emit after which anyone may evict the node.
    pub max_idle: u64,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            emission_rate: DEFAULT_EMISSION_RATE,
            min_stake: DEFAULT_MIN_STAKE,
            max_self_weight: DEFAULT_MAX_SELF_WEIGHT,
            max_idle: DEFAULT_MAX_IDLE,
        }
    }
}

/// Why `setparams` refused its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamError {
    /// `emission_rate > MAX_EMISSION_RATE`.
    RateTooHigh,
    /// `min_stake` is 0 or above `MAX_MIN_STAKE`.
    MinStakeOutOfRange,
    /// `max_self_weight` outside `[MIN_SELF_WEIGHT, WEIGHT_ONE]`.
    MaxSelfWeightOutOfRange,
    /// `max_idle < MIN_MAX_IDLE`.
    MaxIdleTooShort,
}

impl ParamError {
    /// The fixed message the contract aborts with.
    pub const fn message(&self) -> &'static str {
        match self {
            ParamError::RateTooHigh => "emission_rate above 1000000000000",
            ParamError::MinStakeOutOfRange => "min_stake must be between 1 and 2^62",
            ParamError::MaxSelfWeightOutOfRange => {
                "max_self_weight must be between 10000 and 1000000"
            }
            ParamError::MaxIdleTooShort => "max_idle below 640 blocks",
        }
    }

    /// Every message of this type (the documented list is checked against it).
    pub const MESSAGES: [&'static str; 4] = [
        ParamError::RateTooHigh.message(),
        ParamError::MinStakeOutOfRange.message(),
        ParamError::MaxSelfWeightOutOfRange.message(),
        ParamError::MaxIdleTooShort.message(),
    ];
}

impl Params {
    /// Checks every bound; the first one broken is the error.
    pub fn validate(&self) -> Result<(), ParamError> {
        if self.emission_rate > MAX_EMISSION_RATE {
            return Err(ParamError::RateTooHigh);
        }
        if self.min_stake == 0 || self.min_stake > MAX_MIN_STAKE {
            return Err(ParamError::MinStakeOutOfRange);
        }
        if !(MIN_SELF_WEIGHT..=WEIGHT_ONE).contains(&self.max_self_weight) {
            return Err(ParamError::MaxSelfWeightOutOfRange);
        }
        if self.max_idle < MIN_MAX_IDLE {
            return Err(ParamError::MaxIdleTooShort);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_pass_and_each_bound_is_enforced() {
        let ok = Params::default();
        assert_eq!(ok.validate(), Ok(()));
        let bad = [
            (
                Params {
                    emission_rate: MAX_EMISSION_RATE + 1,
                    ..ok
                },
                ParamError::RateTooHigh,
            ),
            (
                Params { min_stake: 0, ..ok },
                ParamError::MinStakeOutOfRange,
            ),
            (
                Params {
                    min_stake: MAX_MIN_STAKE + 1,
                    ..ok
                },
                ParamError::MinStakeOutOfRange,
            ),
            (
                Params {
                    max_self_weight: MIN_SELF_WEIGHT - 1,
                    ..ok
                },
                ParamError::MaxSelfWeightOutOfRange,
            ),
            (
                Params {
                    max_self_weight: WEIGHT_ONE + 1,
                    ..ok
                },
                ParamError::MaxSelfWeightOutOfRange,
            ),
            (
                Params {
                    max_idle: MIN_MAX_IDLE - 1,
                    ..ok
                },
                ParamError::MaxIdleTooShort,
            ),
        ];
        for (params, error) in bad {
            assert_eq!(params.validate(), Err(error));
        }
        let edge = Params {
            emission_rate: MAX_EMISSION_RATE,
            min_stake: 1,
            max_self_weight: MIN_SELF_WEIGHT,
            max_idle: MIN_MAX_IDLE,
        };
        assert_eq!(edge.validate(), Ok(()));
    }
}
