//! Every message a metagraph action can abort with, each defined once: the metagraph's own
//! below, and those of the `emission` crate's typed errors (edge sets, settlement,
//! parameters), which the contract uses verbatim. `docs/contract-interface.md` lists them;
//! a test holds that list equal to [`messages`].

use alloc::vec::Vec;

use emission::params::ParamError;
use emission::settlement::SettleError;
use emission::EdgeError;

/// An action by (or naming) an account without a `metagraph` row.
pub const NOT_SUBSCRIBED: &str = "user not subscribed";
/// `subscribe` with an endpoint address over 128 bytes.
pub const ADDRESS_TOO_LONG: &str = "address longer than 128 bytes";
/// `subscribe` with a stake of another token.
pub const WRONG_SYMBOL: &str = "stake symbol does not match the staked token";
/// `subscribe` with an asset outside the valid range.
pub const INVALID_QUANTITY: &str = "invalid quantity";
/// `subscribe` with a negative stake.
pub const NEGATIVE_STAKE: &str = "stake must not be negative";
/// A first subscription below `min_stake`.
pub const BELOW_MIN_STAKE: &str = "stake below minimum stake";
/// `evict` of a node that emitted fewer than `max_idle` blocks ago.
pub const NOT_IDLE: &str = "node emitted within max_idle blocks";
/// A metagraph action before the first `create`.
pub const TOKEN_NOT_CREATED: &str = "token not created yet";
/// The staked token's `stat` row is missing.
pub const NO_STAT_ROW: &str = "token with symbol does not exist";
/// A leaving node holds more than `total_stake` (a broken invariant, never expected).
pub const TOTAL_STAKE_UNDERFLOW: &str = "total stake underflow";
/// `settle` of a node by another account before the node has been idle `max_idle / 2` blocks
/// and unchanged `max_idle / 4` blocks (so settles cannot be spammed).
pub const SETTLE_BY_OTHERS: &str =
    "another account may settle a node only after max_idle / 2 idle and max_idle / 4 unchanged blocks";

/// The metagraph's own messages.
pub const OWN: [&str; 11] = [
    NOT_SUBSCRIBED,
    ADDRESS_TOO_LONG,
    WRONG_SYMBOL,
    INVALID_QUANTITY,
    NEGATIVE_STAKE,
    BELOW_MIN_STAKE,
    NOT_IDLE,
    TOKEN_NOT_CREATED,
    NO_STAT_ROW,
    TOTAL_STAKE_UNDERFLOW,
    SETTLE_BY_OTHERS,
];

/// Every message a metagraph action can abort with (besides the codec's and nodeos' own).
pub fn messages() -> Vec<&'static str> {
    let mut all: Vec<&'static str> = OWN.to_vec();
    all.extend_from_slice(&EdgeError::MESSAGES);
    all.extend_from_slice(&SettleError::MESSAGES);
    all.extend_from_slice(&ParamError::MESSAGES);
    all.sort_unstable();
    all.dedup();
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;

    /// The backquoted messages of the "Metagraph messages:" list of the interface doc.
    fn documented() -> Vec<String> {
        let doc = include_str!("../../../docs/contract-interface.md");
        let start = doc
            .find("Metagraph messages:")
            .expect("docs/contract-interface.md has a `Metagraph messages:` list");
        let rest = &doc[start..];
        // The list ends at the first message followed by a full stop.
        let end = rest.find("`.").map_or(rest.len(), |i| i + 1);
        let mut found: Vec<String> = rest[..end]
            .split('`')
            .skip(1)
            .step_by(2)
            .map(String::from)
            .collect();
        found.sort();
        found.dedup();
        found
    }

    #[test]
    fn the_documented_list_is_exactly_the_defined_messages() {
        let defined: Vec<String> = messages().into_iter().map(String::from).collect();
        let documented = documented();
        let missing: Vec<&String> = defined.iter().filter(|m| !documented.contains(m)).collect();
        let extra: Vec<&String> = documented.iter().filter(|m| !defined.contains(m)).collect();
        assert!(
            missing.is_empty(),
            "defined but not documented: {missing:?}"
        );
        assert!(extra.is_empty(), "documented but not defined: {extra:?}");
    }
}
