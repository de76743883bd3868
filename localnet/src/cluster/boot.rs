//! The boot sequence of a public-style Antelope chain, from a fresh genesis node.
//!
//! 1. `PREACTIVATE_FEATURE` through the producer API, then `eosio.bios` (for its
//!    `activate` action) and every other protocol feature the node supports, in dependency
//!    order;
//! 2. the system accounts, `eosio.token` with the core token `SYS`, `eosio.system` with
//!    `init`: from here on new accounts must buy RAM and stake CPU and NET;
//! 3. the producers register (`regproducer`) and a voter with 20 % of the supply staked votes
//!    for all of them, which activates the chain and elects the schedule.
//!
//! The wheel's `eosio.bios` `setprods` is not used: on this nodeos it executes but never
//! proposes a schedule (it calls the legacy `set_proposed_producers` with the new
//! `producer_authority` layout), while `eosio.system` proposes through
//! `set_proposed_producers_ex` as public chains do.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::error::LocalnetError;
use crate::http;
use crate::node::Localnet;

/// The feature every other one depends on; scheduled through the producer API.
const PREACTIVATE_FEATURE: &str =
    "0ec7e080177b2c02b278d5088611686b49d739925a92d9bfcacd7fc6b74053bd";

/// Accounts `eosio.system` expects to exist.
const SYSTEM_ACCOUNTS: [&str; 10] = [
    "eosio.bpay",
    "eosio.msig",
    "eosio.names",
    "eosio.ram",
    "eosio.ramfee",
    "eosio.saving",
    "eosio.stake",
    "eosio.token",
    "eosio.vpay",
    "eosio.rex",
];

/// Core token supply: 10 billion SYS maximum, 1 billion issued to `eosio`.
const MAX_SUPPLY: &str = "10000000000.0000 SYS";
const ISSUED: &str = "1000000000.0000 SYS";
/// 20 % of the issued supply, staked and voted: above the 15 % that activates the chain.
const VOTER_STAKE_EACH: &str = "100000000.0000 SYS";
const VOTER_FUNDS: &str = "200000000.0000 SYS";

/// Longest wait for a protocol feature to become active.
const FEATURE_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs the whole boot on the genesis node; `producers` are elected.
pub(crate) fn boot_system(net: &Localnet, producers: &[String]) -> Result<(), LocalnetError> {
    activate_features(net)?;
    // Created before the system contract: like the system accounts, producers are not
    // metered (accounts made afterwards must buy RAM).
    net.create_accounts(producers)?;
    deploy_system(net)?;
    elect(net, producers)
}

fn activate_features(net: &Localnet) -> Result<(), LocalnetError> {
    let body = json!({ "protocol_features_to_activate": [PREACTIVATE_FEATURE] }).to_string();
    http::post_value(
        &net.url,
        "/v1/producer/schedule_protocol_feature_activations",
        &body,
    )?;
    wait_active(net, &[PREACTIVATE_FEATURE.to_string()])?;
    let accounts: Vec<String> = SYSTEM_ACCOUNTS.iter().map(|s| s.to_string()).collect();
    net.create_accounts(&accounts)?;
    net.deploy_reference("eosio", "eosio.bios")?;
    let supported = supported_features(net)?;
    let mut active: BTreeSet<String> = activated(net)?;
    let mut wanted = Vec::new();
    // Dependency order: a feature goes once all it depends on is active or queued.
    loop {
        let ready: Vec<&(String, Vec<String>)> = supported
            .iter()
            .filter(|(d, deps)| !active.contains(d) && deps.iter().all(|x| active.contains(x)))
            .collect();
        if ready.is_empty() {
            break;
        }
        for (digest, _) in ready {
            net.push_action("eosio", "activate", &json!([digest]).to_string(), "eosio")?;
            wanted.push(digest.clone());
        }
        active.extend(wanted.iter().cloned());
    }
    wait_active(net, &wanted)
}

/// `(digest, dependencies)` of every protocol feature this nodeos supports.
fn supported_features(net: &Localnet) -> Result<Vec<(String, Vec<String>)>, LocalnetError> {
    let v = http::post_value(
        &net.url,
        "/v1/producer/get_supported_protocol_features",
        "{}",
    )?;
    let list = v
        .as_array()
        .ok_or_else(|| LocalnetError::Decode(format!("supported features: {v}")))?;
    Ok(list
        .iter()
        .filter_map(|f| {
            let digest = f["feature_digest"].as_str()?.to_string();
            let deps = f["dependencies"]
                .as_array()
                .map(|d| {
                    d.iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            Some((digest, deps))
        })
        .collect())
}

fn activated(net: &Localnet) -> Result<BTreeSet<String>, LocalnetError> {
    let v = http::post_value(
        &net.url,
        "/v1/chain/get_activated_protocol_features",
        r#"{"limit":1000}"#,
    )?;
    Ok(v["activated_protocol_features"]
        .as_array()
        .map(|fs| {
            fs.iter()
                .filter_map(|f| f["feature_digest"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default())
}

fn wait_active(net: &Localnet, digests: &[String]) -> Result<(), LocalnetError> {
    let deadline = Instant::now() + FEATURE_TIMEOUT;
    loop {
        let active = activated(net)?;
        let missing: Vec<&String> = digests.iter().filter(|d| !active.contains(*d)).collect();
        if missing.is_empty() {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(LocalnetError::Decode(format!(
                "protocol features never activated: {missing:?}"
            )));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn deploy_system(net: &Localnet) -> Result<(), LocalnetError> {
    net.deploy_reference("eosio.token", "eosio.token")?;
    let create = json!(["eosio", MAX_SUPPLY]).to_string();
    net.push_action("eosio.token", "create", &create, "eosio.token")?;
    let issue = json!(["eosio", ISSUED, "boot"]).to_string();
    net.push_action("eosio.token", "issue", &issue, "eosio")?;
    net.deploy_reference("eosio", "eosio.system")?;
    net.push_action("eosio", "init", r#"[0,"4,SYS"]"#, "eosio")?;
    Ok(())
}

fn elect(net: &Localnet, producers: &[String]) -> Result<(), LocalnetError> {
    net.create_metered_account("voter", &super::Resources::default())?;
    net.cleos(&["transfer", "eosio", "voter", VOTER_FUNDS, "boot"])?;
    net.cleos(&[
        "system",
        "delegatebw",
        "voter",
        "voter",
        VOTER_STAKE_EACH,
        VOTER_STAKE_EACH,
    ])?;
    let key = crate::DEV_PUBLIC_KEY;
    for p in producers {
        // An empty URL: a chain row never carries an address this harness does not serve.
        net.cleos(&["system", "regproducer", p, key, "", "0"])?;
    }
    let mut sorted: Vec<&str> = producers.iter().map(String::as_str).collect();
    sorted.sort_unstable();
    let mut args = vec!["system", "voteproducer", "prods", "voter"];
    args.extend(sorted);
    net.cleos(&args)?;
    Ok(())
}
