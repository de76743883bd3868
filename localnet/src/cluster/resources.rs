//! Accounts on a chain running `eosio.system`: RAM bought and CPU/NET staked at creation,
//! and the limits the chain then meters.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::error::LocalnetError;
use crate::http;
use crate::node::Localnet;

/// Longest wait for a pushed transaction to be included in a block.
const INCLUSION_TIMEOUT: Duration = Duration::from_secs(15);

/// What a new account is given by its creator (`eosio`), in the core token `SYS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resources {
    /// RAM bought for the account, in bytes.
    pub ram_bytes: u64,
    /// SYS staked for NET bandwidth, e.g. `"10.0000 SYS"`.
    pub net: String,
    /// SYS staked for CPU time.
    pub cpu: String,
}

impl Default for Resources {
    /// Enough for an account's own rows (a few KiB) and a steady trickle of actions.
    fn default() -> Self {
        Resources {
            ram_bytes: 8 * 1024,
            net: "10.0000 SYS".into(),
            cpu: "10.0000 SYS".into(),
        }
    }
}

/// An account's metered limits as the chain reports them (`get_account`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// RAM quota in bytes (-1: unlimited).
    pub ram_quota: i64,
    /// RAM used in bytes.
    pub ram_usage: i64,
    /// CPU limit `max` in microseconds per window (-1: unlimited).
    pub cpu_max: i64,
    /// NET limit `max` in bytes per window (-1: unlimited).
    pub net_max: i64,
}

impl Localnet {
    /// `cleos system newaccount`: `name` (owner/active = the development key) with RAM
    /// bought and CPU/NET staked by `eosio`, as accounts are made on a public chain.
    pub fn create_metered_account(
        &self,
        name: &str,
        resources: &Resources,
    ) -> Result<(), LocalnetError> {
        let key = crate::DEV_PUBLIC_KEY;
        let ram = resources.ram_bytes.to_string();
        self.cleos(&[
            "system",
            "newaccount",
            "eosio",
            name,
            key,
            key,
            "--stake-net",
            &resources.net,
            "--stake-cpu",
            &resources.cpu,
            "--buy-ram-bytes",
            &ram,
        ])?;
        self.wait_account(name)
    }

    /// Waits until `name` exists in the head block's state: on a chain with other
    /// producers, a transaction pushed here lands when the next producer includes it.
    pub fn wait_account(&self, name: &str) -> Result<(), LocalnetError> {
        let deadline = Instant::now() + INCLUSION_TIMEOUT;
        while !self.account_exists(name)? {
            if Instant::now() > deadline {
                return Err(LocalnetError::Decode(format!(
                    "account {name} never appeared in a block"
                )));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(())
    }

    /// `eosio::buyrambytes`: `payer` buys `bytes` of RAM for `receiver`.
    pub fn buy_ram(&self, payer: &str, receiver: &str, bytes: u64) -> Result<(), LocalnetError> {
        let args = json!([payer, receiver, bytes]).to_string();
        self.push_action("eosio", "buyrambytes", &args, payer)?;
        Ok(())
    }

    /// The RAM, CPU and NET limits the chain meters for `name`.
    pub fn limits(&self, name: &str) -> Result<Limits, LocalnetError> {
        let body = json!({ "account_name": name }).to_string();
        let v = http::post_value(&self.url, "/v1/chain/get_account", &body)?;
        let int = |field: &Value| {
            field
                .as_i64()
                .or_else(|| field.as_str().and_then(|s| s.parse().ok()))
                .ok_or_else(|| LocalnetError::Decode(format!("get_account {name}: {v}")))
        };
        Ok(Limits {
            ram_quota: int(&v["ram_quota"])?,
            ram_usage: int(&v["ram_usage"])?,
            cpu_max: int(&v["cpu_limit"]["max"])?,
            net_max: int(&v["net_limit"]["max"])?,
        })
    }
}
