//! The token-conservation invariant of docs/contract-interface.md, read from a live chain:
//! `stat.supply == sum(balances) + total_stake + outstanding`,
//! `outstanding == sum(residuals)` and `total_stake == sum(metagraph.stake)`.
//! Balances are summed over every scope of the `accounts` table, so no holder is missed.
//! `unsettled` (issued but not yet settled into any residual, hence not yet supply) is read
//! too, so a report can show `minted + unsettled`, everything the accumulator issued.

use anyhow::{bail, Context, Result};
use localnet::TableReader;
use serde_json::Value;

/// The figures the invariant relates, as read in one pass (base units).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conservation {
    /// `stat.supply` of `BIT`.
    pub supply: u128,
    /// Sum of every `BIT` balance row.
    pub balances: u128,
    /// `global.total_stake`.
    pub total_stake: u128,
    /// `global.outstanding`.
    pub outstanding: u128,
    /// `global.minted`.
    pub minted: u128,
    /// `global.unsettled`: issued, not yet settled (`minted + unsettled` is all issued).
    pub unsettled: u128,
    /// Sum of `metagraph.stake`.
    pub stakes: u128,
    /// Sum of `residuals.residual`.
    pub residuals: u128,
    /// Subscribed nodes.
    pub nodes: usize,
}

impl Conservation {
    /// Why the figures break the invariant, or `Ok` when they hold.
    pub fn verify(&self) -> Result<()> {
        let held = self.balances + self.total_stake + self.outstanding;
        if self.supply != held {
            bail!(
                "stat.supply {} != balances {} + total_stake {} + outstanding {} = {held}",
                self.supply,
                self.balances,
                self.total_stake,
                self.outstanding
            );
        }
        if self.outstanding != self.residuals {
            bail!(
                "outstanding {} != sum(residuals) {}",
                self.outstanding,
                self.residuals
            );
        }
        if self.total_stake != self.stakes {
            bail!(
                "total_stake {} != sum(metagraph.stake) {}",
                self.total_stake,
                self.stakes
            );
        }
        Ok(())
    }
}

/// A table `uint64`, which nodeos prints as a number or, when large, as a string.
pub fn json_u64(v: &Value) -> Result<u64> {
    match v {
        Value::Number(n) => n.as_u64().context("not a u64"),
        Value::String(s) => s.parse().with_context(|| format!("not a u64: {s:?}")),
        other => bail!("not a u64: {other}"),
    }
}

/// Base units of a `BIT` asset string such as `12.3456 BIT`.
pub fn asset_units(text: &str) -> Result<u128> {
    let amount = text
        .strip_suffix(" BIT")
        .with_context(|| format!("not a BIT asset: {text:?}"))?;
    let (int, frac) = amount
        .split_once('.')
        .with_context(|| format!("asset without decimals: {text:?}"))?;
    if frac.len() != 4 || int.starts_with('-') {
        bail!("not a non-negative 4-decimal asset: {text:?}");
    }
    let int: u128 = int.parse().with_context(|| format!("asset {text:?}"))?;
    let frac: u128 = frac.parse().with_context(|| format!("asset {text:?}"))?;
    Ok(int * 10_000 + frac)
}

fn sum_field(rows: &[Value], field: &str) -> Result<u128> {
    rows.iter()
        .map(|r| json_u64(&r[field]).map(u128::from))
        .sum()
}

/// Reads every figure of the invariant from `contract`'s tables on `net` (a chain, or one
/// node's view of a multi-producer chain).
pub fn read(net: &impl TableReader, contract: &str) -> Result<Conservation> {
    let stat = net.table(contract, "BIT", "stat")?;
    let supply = asset_units(
        stat.first()
            .and_then(|r| r["supply"].as_str())
            .context("no BIT stat row")?,
    )?;
    let mut balances = 0u128;
    for owner in net.table_scopes(contract, "accounts")? {
        for row in net.table(contract, &owner, "accounts")? {
            let balance = row["balance"].as_str().unwrap_or_default();
            if balance.ends_with(" BIT") {
                balances += asset_units(balance)?;
            }
        }
    }
    let global = net.table(contract, contract, "global")?;
    let g = global.first().context("no global row")?;
    let metagraph = net.table(contract, contract, "metagraph")?;
    let residuals = net.table(contract, contract, "residuals")?;
    Ok(Conservation {
        supply,
        balances,
        total_stake: json_u64(&g["total_stake"])?.into(),
        outstanding: json_u64(&g["outstanding"])?.into(),
        minted: json_u64(&g["minted"])?.into(),
        unsettled: json_u64(&g["unsettled"])?.into(),
        stakes: sum_field(&metagraph, "stake")?,
        residuals: sum_field(&residuals, "residual")?,
        nodes: metagraph.len(),
    })
}

/// Reads of one [`check`]: the tables are read one after another, so while nodes act an
/// action between two reads can make one pass inconsistent; a broken invariant is a state and
/// shows in every pass.
pub const CHECK_READS: usize = 5;

/// Reads the figures and fails, naming `step` and the broken equation, unless they hold in
/// one of [`CHECK_READS`] passes (500 ms apart).
pub fn check(net: &impl TableReader, contract: &str, step: &str) -> Result<Conservation> {
    let mut last = None;
    for pass in 0..CHECK_READS {
        if pass > 0 {
            std::thread::sleep(std::time::Duration::from_millis(500));
        }
        let c =
            read(net, contract).with_context(|| format!("reading the invariant after {step}"))?;
        match c.verify() {
            Ok(()) => return Ok(c),
            Err(e) => last = Some((c, e)),
        }
    }
    let (c, e) = last.expect("at least one pass");
    Err(e.context(format!(
        "conservation broken after {step} in all {CHECK_READS} reads, the last: {c:?}"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figures() -> Conservation {
        Conservation {
            supply: 100,
            balances: 60,
            total_stake: 30,
            outstanding: 10,
            minted: 10,
            unsettled: 3,
            stakes: 30,
            residuals: 10,
            nodes: 2,
        }
    }

    #[test]
    fn verify_accepts_balanced_figures_and_names_each_broken_equation() {
        assert!(figures().verify().is_ok());
        let mut c = figures();
        c.supply += 1;
        assert!(c.verify().unwrap_err().to_string().contains("stat.supply"));
        let mut c = figures();
        c.residuals -= 1;
        assert!(c
            .verify()
            .unwrap_err()
            .to_string()
            .contains("sum(residuals)"));
        let mut c = figures();
        c.stakes += 1;
        assert!(c
            .verify()
            .unwrap_err()
            .to_string()
            .contains("sum(metagraph.stake)"));
    }

    /// Tables whose `residuals` rows read `bad` times with one unit missing, then whole
    /// (an action landing between two of a pass's reads, or a lasting break).
    struct Tables {
        bad: std::cell::Cell<usize>,
    }

    impl TableReader for Tables {
        fn table(
            &self,
            _contract: &str,
            scope: &str,
            table: &str,
        ) -> Result<Vec<Value>, localnet::LocalnetError> {
            use serde_json::json;
            Ok(match (scope, table) {
                (_, "stat") => vec![json!({"supply": "0.0100 BIT"})],
                ("alice", "accounts") => vec![json!({"balance": "0.0060 BIT"})],
                (_, "global") => vec![
                    json!({"total_stake": 30, "outstanding": 10, "minted": 10, "unsettled": 0}),
                ],
                (_, "metagraph") => vec![json!({"stake": 30})],
                (_, "residuals") => {
                    let short = self.bad.get() > 0;
                    self.bad.set(self.bad.get().saturating_sub(1));
                    vec![json!({"residual": if short { 9 } else { 10 }})]
                }
                _ => vec![],
            })
        }

        fn table_scopes(
            &self,
            _contract: &str,
            _table: &str,
        ) -> Result<Vec<String>, localnet::LocalnetError> {
            Ok(vec!["alice".into()])
        }
    }

    #[test]
    fn a_pass_read_across_an_action_is_read_again_and_a_lasting_break_fails() {
        let once = Tables { bad: 1.into() };
        assert_eq!(check(&once, "c", "step").unwrap().residuals, 10);
        let always = Tables {
            bad: usize::MAX.into(),
        };
        let e = format!("{:#}", check(&always, "c", "step").unwrap_err());
        assert!(
            e.contains("in all 5 reads") && e.contains("sum(residuals)"),
            "{e}"
        );
    }

    #[test]
    fn assets_and_numbers_parse_exactly() {
        assert_eq!(asset_units("12.3456 BIT").unwrap(), 123_456);
        assert_eq!(asset_units("0.0001 BIT").unwrap(), 1);
        assert!(asset_units("-1.0000 BIT").is_err());
        assert!(asset_units("1.000 BIT").is_err());
        assert!(asset_units("1.0000 EOS").is_err());
        assert_eq!(json_u64(&Value::from(7u64)).unwrap(), 7);
        assert_eq!(
            json_u64(&Value::from("18446744073709551615")).unwrap(),
            u64::MAX
        );
        assert!(json_u64(&Value::from(-1)).is_err());
    }
}
