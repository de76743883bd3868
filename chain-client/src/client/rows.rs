//! Typed rows of the contract's tables (docs/contract-interface.md), lenient about how
//! nodeos renders 64-bit integers (number or string).

use serde::{Deserialize, Deserializer, Serialize};

use crate::types::asset::{Asset, Symbol};
use crate::types::name::Name;

/// One weighted out-edge of a node: `weight` in parts per million.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
pub struct Edge {
    /// Target account.
    pub to: Name,
    /// Weight, parts per million (`WEIGHT_ONE = 1_000_000`).
    #[serde(deserialize_with = "lenient_u32")]
    pub weight: u32,
}

/// A `metagraph` row: a subscribed node.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct MetagraphRow {
    /// The node's account.
    pub user: Name,
    /// Where peers reach it.
    pub address: String,
    /// Its port.
    #[serde(deserialize_with = "lenient_u16")]
    pub port: u16,
    /// Staked base units.
    #[serde(deserialize_with = "lenient_u64")]
    pub stake: u64,
    /// Block slot of its last emit.
    #[serde(deserialize_with = "lenient_u64")]
    pub last_emit: u64,
    /// Its current edge set (first entry is itself).
    pub edges: Vec<Edge>,
    /// Change number of the row's last write (0 from contracts before the change sequence).
    #[serde(default, deserialize_with = "lenient_u64")]
    pub seq: u64,
}

/// A `departed` row: a node that left, and the change number of its departure.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct DepartureRow {
    /// The account that left.
    pub user: Name,
    /// Change number of the departure.
    #[serde(deserialize_with = "lenient_u64")]
    pub seq: u64,
}

/// A `residuals` row: emission forwarded to a node but not yet pushed on.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct ResidualRow {
    /// The node's account.
    pub user: Name,
    /// Pending base units.
    #[serde(deserialize_with = "lenient_u64")]
    pub residual: u64,
}

/// The `global` singleton (serializable: viewers show it as read).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
pub struct GlobalRow {
    /// Sum of all stakes.
    #[serde(deserialize_with = "lenient_u64")]
    pub total_stake: u64,
    /// Sum of all residuals.
    #[serde(deserialize_with = "lenient_u64")]
    pub outstanding: u64,
    /// All emission ever settled (minted into the supply).
    #[serde(deserialize_with = "lenient_u64")]
    pub minted: u64,
    /// Issued by the accumulator, not yet settled by its owners (0 on older contracts).
    #[serde(default, deserialize_with = "lenient_u64")]
    pub unsettled: u64,
    /// Base units emitted per block.
    #[serde(deserialize_with = "lenient_u64")]
    pub emission_rate: u64,
    /// Minimum stake to subscribe.
    #[serde(deserialize_with = "lenient_u64")]
    pub min_stake: u64,
    /// The token symbol.
    pub symbol: Symbol,
    /// The last change number given to a `metagraph` or `departed` row.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub change_seq: u64,
    /// Largest self weight an emitted edge set may carry, parts per million.
    #[serde(default = "whole_weight")]
    pub max_self_weight: u32,
}

/// A contract without the parameter allows any self weight.
fn whole_weight() -> u32 {
    emission::fixed::WEIGHT_ONE
}

/// A `stat` row (eosio.token layout).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct StatRow {
    /// Current supply.
    pub supply: Asset,
    /// Maximum supply.
    pub max_supply: Asset,
    /// The issuer.
    pub issuer: Name,
}

/// An `accounts` row (eosio.token layout).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub(crate) struct AccountRow {
    pub balance: Asset,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum NumOrString {
    Num(u64),
    Str(String),
}

fn lenient_u64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    match NumOrString::deserialize(d)? {
        NumOrString::Num(n) => Ok(n),
        NumOrString::Str(s) => s.parse().map_err(serde::de::Error::custom),
    }
}

fn lenient_u32<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    u32::try_from(lenient_u64(d)?).map_err(serde::de::Error::custom)
}

fn lenient_u16<'de, D: Deserializer<'de>>(d: D) -> Result<u16, D::Error> {
    u16::try_from(lenient_u64(d)?).map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_accept_numbers_and_strings() {
        let row: MetagraphRow = serde_json::from_str(
            r#"{"user":"alice","address":"127.0.0.1","port":8080,"stake":"12345678901234",
                "last_emit":77,"edges":[{"to":"alice","weight":600000},{"to":"bob","weight":"400000"}]}"#,
        )
        .unwrap();
        assert_eq!(row.stake, 12_345_678_901_234);
        assert_eq!(row.edges[1].weight, 400_000);
        assert_eq!(row.edges[1].to.to_string(), "bob");
        let g: GlobalRow = serde_json::from_str(
            r#"{"total_stake":1,"outstanding":"2","minted":3,"emission_rate":10000,"min_stake":0,"symbol":"4,BIT"}"#,
        )
        .unwrap();
        assert_eq!(
            (g.outstanding, g.symbol.code().to_string()),
            (2, "BIT".into())
        );
        assert!(serde_json::from_str::<ResidualRow>(r#"{"user":"a","residual":-1}"#).is_err());
    }
}
