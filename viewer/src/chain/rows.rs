//! The contract's table rows (docs/contract-interface.md, "Tables"), parsed from nodeos'
//! `get_table_rows` JSON. A bad row is an error naming the table, the row and the field.

use serde::Serialize;
use serde_json::Value;

use super::asset::Asset;
use super::fields::{as_object, field, str_field, u16_field, u32_field, u64_field};
use crate::error::ViewError;

/// One out-edge of a node's stored edge set (weight in parts per million).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EdgeRow {
    /// The node attributed.
    pub to: String,
    /// Parts per million (`WEIGHT_ONE` = 1 000 000).
    pub weight: u32,
}

/// A row of `metagraph`: one subscribed node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetagraphRow {
    /// The node's account.
    pub user: String,
    /// Host its worker serves on.
    pub address: String,
    /// Port its worker serves on.
    pub port: u16,
    /// Staked base units.
    pub stake: u64,
    /// Block of its last emit.
    pub last_emit: u64,
    /// Its stored edge set, self first.
    pub edges: Vec<EdgeRow>,
}

/// A row of `residuals`: emission forwarded to a node, not yet pushed by it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResidualRow {
    /// The node's account.
    pub user: String,
    /// Pending base units.
    pub residual: u64,
}

/// The `global` singleton: totals and parameters of the emission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GlobalRow {
    /// Sum of all stakes.
    pub total_stake: u64,
    /// Sum of all residuals.
    pub outstanding: u64,
    /// All emission ever accrued.
    pub minted: u64,
    /// Base units emitted per block.
    pub emission_rate: u64,
    /// Smallest stake a subscribe accepts.
    pub min_stake: u64,
    /// The token symbol, as printed (`4,BIT`).
    pub symbol: String,
}

/// A row of `stat`: the token's supply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatRow {
    /// Current supply (grows with emission).
    pub supply: Asset,
    /// Cap on the supply.
    pub max_supply: Asset,
    /// The issuer account.
    pub issuer: String,
}

/// Everything read from the chain in one poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainTables {
    /// Head block number when read.
    pub head_block: u64,
    /// The `metagraph` rows.
    pub metagraph: Vec<MetagraphRow>,
    /// The `residuals` rows.
    pub residuals: Vec<ResidualRow>,
    /// The `global` singleton.
    pub global: GlobalRow,
    /// The token's `stat` row, when it could be read.
    pub stat: Option<StatRow>,
    /// Sum of every account's balance of the token, when it could be read.
    pub balances: Option<u64>,
}

/// Parses the rows of one table with `parse_one`, naming the table and row on error.
fn parse_rows<T>(
    table: &str,
    rows: &[Value],
    parse_one: impl Fn(&Value) -> Result<T, String>,
) -> Result<Vec<T>, ViewError> {
    rows.iter()
        .enumerate()
        .map(|(index, row)| {
            parse_one(row).map_err(|reason| ViewError::BadRow {
                table: table.to_string(),
                index,
                reason,
            })
        })
        .collect()
}

/// Parses `metagraph` rows.
pub fn parse_metagraph(rows: &[Value]) -> Result<Vec<MetagraphRow>, ViewError> {
    parse_rows("metagraph", rows, |value| {
        let row = as_object(value)?;
        let edges = match field(row, "edges")? {
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, edge)| {
                    let edge = as_object(edge).map_err(|e| format!("edge {i}: {e}"))?;
                    Ok(EdgeRow {
                        to: str_field(edge, "to")
                            .map_err(|e| format!("edge {i}: {e}"))?
                            .into(),
                        weight: u32_field(edge, "weight").map_err(|e| format!("edge {i}: {e}"))?,
                    })
                })
                .collect::<Result<Vec<_>, String>>()?,
            _ => return Err("field `edges` should be an array".into()),
        };
        Ok(MetagraphRow {
            user: str_field(row, "user")?.into(),
            address: str_field(row, "address")?.into(),
            port: u16_field(row, "port")?,
            stake: u64_field(row, "stake")?,
            last_emit: u64_field(row, "last_emit")?,
            edges,
        })
    })
}

/// Parses `residuals` rows.
pub fn parse_residuals(rows: &[Value]) -> Result<Vec<ResidualRow>, ViewError> {
    parse_rows("residuals", rows, |value| {
        let row = as_object(value)?;
        Ok(ResidualRow {
            user: str_field(row, "user")?.into(),
            residual: u64_field(row, "residual")?,
        })
    })
}

/// Parses the `global` singleton: exactly one row is required.
pub fn parse_global(rows: &[Value]) -> Result<GlobalRow, ViewError> {
    let mut parsed = parse_rows("global", rows, |value| {
        let row = as_object(value)?;
        Ok(GlobalRow {
            total_stake: u64_field(row, "total_stake")?,
            outstanding: u64_field(row, "outstanding")?,
            minted: u64_field(row, "minted")?,
            emission_rate: u64_field(row, "emission_rate")?,
            min_stake: u64_field(row, "min_stake")?,
            symbol: str_field(row, "symbol")?.into(),
        })
    })?;
    match parsed.len() {
        1 => Ok(parsed.remove(0)),
        0 => Err(ViewError::MissingTable {
            table: "global".into(),
            reason: "no row (has the token been created?)".into(),
        }),
        n => Err(ViewError::MissingTable {
            table: "global".into(),
            reason: format!("expected one singleton row, found {n}"),
        }),
    }
}

/// Parses the `stat` row of one symbol.
pub fn parse_stat(rows: &[Value]) -> Result<StatRow, ViewError> {
    let mut parsed = parse_rows("stat", rows, |value| {
        let row = as_object(value)?;
        Ok(StatRow {
            supply: Asset::parse(str_field(row, "supply")?)?,
            max_supply: Asset::parse(str_field(row, "max_supply")?)?,
            issuer: str_field(row, "issuer")?.into(),
        })
    })?;
    if parsed.len() != 1 {
        return Err(ViewError::MissingTable {
            table: "stat".into(),
            reason: format!("expected one row for the symbol, found {}", parsed.len()),
        });
    }
    Ok(parsed.remove(0))
}

/// Parses one owner's `accounts` rows and returns its balance of `code` (0 if it holds none).
pub fn parse_balance(rows: &[Value], code: &str) -> Result<u64, ViewError> {
    let assets = parse_rows("accounts", rows, |value| {
        Asset::parse(str_field(as_object(value)?, "balance")?)
    })?;
    let mut total: u64 = 0;
    for (index, asset) in assets.iter().enumerate() {
        if asset.code != code {
            continue;
        }
        let amount = u64::try_from(asset.amount).map_err(|_| ViewError::BadRow {
            table: "accounts".into(),
            index,
            reason: format!("negative balance {asset}"),
        })?;
        total = total.saturating_add(amount);
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(user: &str, stake: Value) -> Value {
        json!({"user": user, "address": "127.0.0.1", "port": 9001, "stake": stake,
               "last_emit": "5", "edges": [{"to": user, "weight": 1000000}]})
    }

    #[test]
    fn reads_well_formed_metagraph_rows() {
        let rows = vec![node("alice", json!(100)), node("bob", json!("20000000000"))];
        let parsed = parse_metagraph(&rows).unwrap();
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[1].stake, 20_000_000_000);
        assert_eq!(parsed[0].last_emit, 5);
        assert_eq!(
            parsed[0].edges,
            vec![EdgeRow {
                to: "alice".into(),
                weight: 1_000_000
            }]
        );
    }

    #[test]
    fn bad_metagraph_rows_name_table_row_and_field() {
        let mut missing = node("carol", json!(1));
        missing.as_object_mut().unwrap().remove("port");
        let err = parse_metagraph(&[node("alice", json!(1)), missing])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("metagraph") && err.contains("row 1") && err.contains("`port`"),
            "{err}"
        );

        let err = parse_metagraph(&[node("a", json!(-4))])
            .unwrap_err()
            .to_string();
        assert!(err.contains("`stake`"), "{err}");

        let mut bad_edge = node("a", json!(1));
        bad_edge["edges"] = json!([{"to": "a", "weight": "heavy"}]);
        let err = parse_metagraph(&[bad_edge]).unwrap_err().to_string();
        assert!(err.contains("edge 0") && err.contains("`weight`"), "{err}");

        let err = parse_metagraph(&[json!("alice")]).unwrap_err().to_string();
        assert!(err.contains("should be an object"), "{err}");
    }

    #[test]
    fn global_needs_exactly_one_row() {
        let row = json!({"total_stake": 3, "outstanding": 0, "minted": 0,
                         "emission_rate": 10000, "min_stake": 1, "symbol": "4,BIT"});
        assert_eq!(
            parse_global(std::slice::from_ref(&row))
                .unwrap()
                .emission_rate,
            10_000
        );
        let err = parse_global(&[]).unwrap_err().to_string();
        assert!(err.contains("global") && err.contains("no row"), "{err}");
        assert!(parse_global(&[row.clone(), row]).is_err());
        let err = parse_global(&[json!({"total_stake": 1})])
            .unwrap_err()
            .to_string();
        assert!(err.contains("`outstanding`"), "{err}");
    }

    #[test]
    fn stat_and_balances_read_assets() {
        let stat = parse_stat(&[
            json!({"supply": "10.0000 BIT", "max_supply": "1000000.0000 BIT",
                                       "issuer": "bittensor"}),
        ])
        .unwrap();
        assert_eq!(stat.supply.amount, 100_000);
        let err =
            parse_stat(&[json!({"supply": "ten", "max_supply": "1.0000 BIT", "issuer": "x"})])
                .unwrap_err()
                .to_string();
        assert!(err.contains("bad asset"), "{err}");
        let rows = [
            json!({"balance": "1.5000 BIT"}),
            json!({"balance": "9.0000 EOS"}),
        ];
        assert_eq!(parse_balance(&rows, "BIT").unwrap(), 15_000);
        assert!(parse_balance(&[json!({"balance": "-1.0000 BIT"})], "BIT").is_err());
    }

    #[test]
    fn residual_rows_parse_or_fail_clearly() {
        let parsed = parse_residuals(&[json!({"user": "bob", "residual": 12})]).unwrap();
        assert_eq!(parsed[0].residual, 12);
        let err = parse_residuals(&[json!({"user": 5, "residual": 12})])
            .unwrap_err()
            .to_string();
        assert!(err.contains("`user`") && err.contains("string"), "{err}");
    }
}
