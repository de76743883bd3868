//! Shared helpers of the `contract_*` integration tests: a local chain with the contract
//! deployed, typed reads of its tables, and the on-chain conservation check.

#![allow(dead_code)] // each test file uses a different subset

use chain_client::client::time::parse_block_time_ms;
use localnet::{Localnet, LocalnetError};
use serde_json::Value;

/// Base units per whole `BIT` (precision 4).
pub const UNIT: i64 = 10_000;

/// A local chain with the bittensor contract deployed on `contract`.
pub struct Chain {
    /// The running chain.
    pub net: Localnet,
    /// Account the contract runs on.
    pub contract: String,
}

impl Chain {
    /// Starts a chain with the contract deployed (the shared `deployed()` fixture) and creates
    /// `accounts`.
    pub fn start(accounts: &[&str]) -> Chain {
        let (net, contract) =
            bittensor_tests::deployed().expect("chain with the contract deployed");
        let names: Vec<String> = accounts.iter().map(|a| a.to_string()).collect();
        net.create_accounts(&names).expect("create accounts");
        Chain { net, contract }
    }

    /// Pushes an action of `contract`; `Err` carries the chain's rejection message.
    pub fn push_to(
        &self,
        contract: &str,
        action: &str,
        args: Value,
        actor: &str,
    ) -> Result<Value, String> {
        match self
            .net
            .push_action(contract, action, &args.to_string(), actor)
        {
            Ok(trace) => Ok(trace),
            Err(LocalnetError::Rejected { message }) => Err(message),
            Err(other) => panic!("{action} by {actor}: harness failure: {other}"),
        }
    }

    /// Pushes an action of the bittensor contract.
    pub fn push(&self, action: &str, args: Value, actor: &str) -> Result<Value, String> {
        self.push_to(&self.contract, action, args, actor)
    }

    /// Pushes an action that must succeed.
    pub fn ok(&self, action: &str, args: Value, actor: &str) -> Value {
        self.push(action, args, actor)
            .unwrap_or_else(|e| panic!("{action} by {actor} rejected: {e}"))
    }

    /// Waits until the head block is in `slot` or later, so the next transaction lands in a
    /// later slot than one that was pending in `slot` (accrual is counted in slots).
    pub fn wait_head_slot(&self, slot: u64) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let info = self.net.get_info().expect("get_info");
            let head = info["head_block_time"].as_str().expect("head_block_time");
            if timestamp_ms(head) / 500 >= slot {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "head block still before slot {slot}: {head}"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }

    /// Pushes an action that must fail with a message containing `expected`.
    pub fn fails(&self, action: &str, args: Value, actor: &str, expected: &str) {
        match self.push(action, args.clone(), actor) {
            Ok(_) => panic!("{action} {args} by {actor} was accepted; expected `{expected}`"),
            Err(message) => assert!(
                message.contains(expected),
                "{action} {args} by {actor}: got `{message}`, expected `{expected}`"
            ),
        }
    }

    /// Rows of one of `contract`'s tables.
    pub fn rows_of(&self, contract: &str, scope: &str, table: &str) -> Vec<Value> {
        self.net
            .table(contract, scope, table)
            .unwrap_or_else(|e| panic!("reading {contract}/{scope}/{table}: {e}"))
    }

    /// Rows of one of the bittensor contract's tables.
    pub fn rows(&self, scope: &str, table: &str) -> Vec<Value> {
        self.rows_of(&self.contract, scope, table)
    }

    /// Creates `BIT` (issuer: the contract, cap 10^9 BIT) and gives each user `amount` base
    /// units (the shared `funded()` fixture).
    pub fn create_and_fund(&self, users: &[&str], amount: i64) {
        bittensor_tests::funded(&self.net, &self.contract, users, amount as u64)
            .expect("create and fund BIT");
    }

    /// `owner`'s `BIT` balance in base units (0 when no row).
    pub fn balance(&self, owner: &str) -> i64 {
        balance_in(&self.rows(owner, "accounts"))
    }

    /// The `BIT` stat row's supply in base units.
    pub fn supply(&self) -> i64 {
        let rows = self.rows("BIT", "stat");
        parse_asset(rows[0]["supply"].as_str().expect("supply"))
    }

    /// The `global` row.
    pub fn global(&self) -> Value {
        let contract = self.contract.clone();
        self.rows(&contract, "global").remove(0)
    }

    /// Checks `stat.supply == sum(balances of accounts) + total_stake + outstanding`,
    /// `total_stake == sum(stake)` and `outstanding == sum(residual)` on chain.
    pub fn assert_conserved(&self, accounts: &[&str]) {
        let g = self.global();
        let total_stake = as_u64(&g["total_stake"]);
        let outstanding = as_u64(&g["outstanding"]);
        let mut holders: Vec<&str> = accounts.to_vec();
        holders.push(&self.contract);
        let balances: i64 = holders.iter().map(|a| self.balance(a)).sum();
        assert_eq!(
            self.supply() as u128,
            balances as u128 + total_stake as u128 + outstanding as u128,
            "stat.supply == balances + total_stake + outstanding"
        );
        let contract = self.contract.clone();
        let stakes: u64 = self
            .rows(&contract, "metagraph")
            .iter()
            .map(|r| as_u64(&r["stake"]))
            .sum();
        let residuals: u64 = self
            .rows(&contract, "residuals")
            .iter()
            .map(|r| as_u64(&r["residual"]))
            .sum();
        assert_eq!(stakes, total_stake, "total_stake == sum(stake)");
        assert_eq!(residuals, outstanding, "outstanding == sum(residual)");
    }
}

/// A `BIT` amount as the ABI's asset string (`12.3456 BIT`).
pub fn asset(base_units: i64) -> String {
    let sign = if base_units < 0 { "-" } else { "" };
    let v = base_units.unsigned_abs();
    format!("{sign}{}.{:04} BIT", v / 10_000, v % 10_000)
}

/// Base units of an asset string with 4 decimals.
pub fn parse_asset(text: &str) -> i64 {
    let amount = text.split(' ').next().expect("asset amount");
    amount.replace('.', "").parse().expect("asset digits")
}

/// The `BIT` balance in an `accounts` table listing (0 when absent).
pub fn balance_in(rows: &[Value]) -> i64 {
    rows.iter()
        .filter_map(|r| r["balance"].as_str())
        .find(|b| b.ends_with(" BIT"))
        .map(parse_asset)
        .unwrap_or(0)
}

/// A table `uint64`, which nodeos prints as a number or, when large, a string.
pub fn as_u64(v: &Value) -> u64 {
    match v {
        Value::Number(n) => n.as_u64().expect("u64"),
        Value::String(s) => s.parse().expect("u64 string"),
        other => panic!("not a u64: {other}"),
    }
}

/// A table `uint128`, which nodeos prints as a decimal string (or a number when small).
pub fn as_u128(v: &Value) -> u128 {
    match v {
        Value::Number(n) => n.as_u64().expect("u128 number").into(),
        Value::String(s) => s
            .parse()
            .unwrap_or_else(|e| panic!("not a uint128: {s:?}: {e}")),
        other => panic!("not a u128: {other}"),
    }
}

/// The block slot the contract saw for a transaction: `block_time / 0.5 s` from its trace.
pub fn block_slot(trace: &Value) -> u64 {
    let time = trace["processed"]["block_time"]
        .as_str()
        .expect("trace has processed.block_time");
    timestamp_ms(time) / 500
}

/// Milliseconds since the epoch of `YYYY-MM-DDTHH:MM:SS.mmm` (UTC).
fn timestamp_ms(text: &str) -> u64 {
    parse_block_time_ms(text).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn timestamps_convert_to_block_slots() {
    assert_eq!(timestamp_ms("1970-01-01T00:00:00.000"), 0);
    assert_eq!(timestamp_ms("2000-03-01T00:00:00.500"), 951_868_800_500);
    assert_eq!(timestamp_ms("2026-11-25T16:33:44.000"), 1_795_624_424_000);
    assert_eq!(asset(12_345), "1.2345 BIT");
    assert_eq!(asset(-5), "-0.0005 BIT");
    assert_eq!(parse_asset("90.0000 BIT"), 900_000);
}
