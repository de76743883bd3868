//! Chain fixtures built on `localnet`.

use anyhow::{Context, Result};
use chain_client::contract as actions;
use chain_client::{Action, Asset, Name, Symbol};
use localnet::{contract_abi, contract_wasm, Localnet};

/// The account the contract is deployed on in tests (as in production).
pub const CONTRACT_ACCOUNT: &str = "bittensor";
/// Maximum supply of the test token, large enough for any test.
pub const MAX_SUPPLY: &str = "1000000000.0000 BIT";
/// Transfers per transaction when funding many users.
const TRANSFERS_PER_TX: usize = 50;

/// Formats base units as a `BIT` asset string (`12345` -> `1.2345 BIT`).
pub fn bit(base_units: u64) -> String {
    let amount = i64::try_from(base_units).unwrap_or(i64::MAX);
    Symbol::new(4, "BIT")
        .map(|s| Asset::new(amount, s).to_string())
        .unwrap_or_default()
}

/// Starts a fresh chain, creates the contract account and deploys the freshly built
/// contract WASM with `abi/bittensor.abi`. Returns the chain and the contract account.
pub fn deployed() -> Result<(Localnet, String)> {
    let wasm = contract_wasm().context("building the contract")?;
    let net = Localnet::start().context("starting the local chain")?;
    net.create_account(CONTRACT_ACCOUNT)?;
    net.deploy_contract(CONTRACT_ACCOUNT, &wasm, &contract_abi())
        .context("deploying the contract")?;
    Ok((net, CONTRACT_ACCOUNT.to_string()))
}

fn name(text: &str) -> Result<Name> {
    text.parse()
        .with_context(|| format!("account name `{text}`"))
}

/// Creates the `users` accounts that do not exist yet, creates the `BIT` token (issuer =
/// the contract account) if absent, issues `amount` base units per user to the issuer and
/// transfers `amount` to each user.
pub fn funded(net: &Localnet, contract: &str, users: &[&str], amount: u64) -> Result<()> {
    let mut missing = Vec::new();
    for user in users {
        if !net.account_exists(user)? {
            missing.push((*user).to_string());
        }
    }
    net.create_accounts(&missing)
        .context("creating user accounts")?;

    let code = name(contract)?;
    let symbol = Symbol::new(4, "BIT")?;
    if net.table(contract, "BIT", "stat")?.is_empty() {
        let max: Asset = MAX_SUPPLY.parse()?;
        net.push_actions(vec![actions::create(code, code, max)])
            .context("creating the BIT token")?;
    }
    if users.is_empty() || amount == 0 {
        return Ok(());
    }
    let each = i64::try_from(amount).context("amount too large")?;
    let total = each
        .checked_mul(i64::try_from(users.len())?)
        .context("total issue overflows")?;
    net.push_actions(vec![actions::issue(
        code,
        code,
        Asset::new(total, symbol),
        "fund",
    )])
    .context("issuing BIT to the contract account")?;
    for batch in users.chunks(TRANSFERS_PER_TX) {
        let transfers = batch
            .iter()
            .map(|u| {
                let to = name(u)?;
                Ok(actions::transfer(
                    code,
                    code,
                    to,
                    Asset::new(each, symbol),
                    "fund",
                ))
            })
            .collect::<Result<Vec<Action>>>()?;
        net.push_actions(transfers)
            .context("transferring BIT to users")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use localnet::reference_contract;

    fn balance(net: &Localnet, contract: &str, owner: &str) -> Option<String> {
        let rows = net.table(contract, owner, "accounts").unwrap();
        rows.first()
            .and_then(|r| r["balance"].as_str())
            .map(str::to_string)
    }

    #[test]
    fn bit_formats_base_units() {
        assert_eq!(bit(12_345), "1.2345 BIT");
        assert_eq!(bit(0), "0.0000 BIT");
    }

    /// `funded` against the reference eosio.token (same token semantics as the contract).
    #[test]
    fn funded_with_reference_token() {
        let net = Localnet::start().unwrap();
        net.create_account(CONTRACT_ACCOUNT).unwrap();
        let dir = reference_contract("eosio.token");
        net.deploy_contract(
            CONTRACT_ACCOUNT,
            &dir.join("eosio.token.wasm"),
            &dir.join("eosio.token.abi"),
        )
        .unwrap();
        let users: Vec<String> = (1..=5).map(|i| format!("user{i}")).collect();
        let refs: Vec<&str> = users.iter().map(String::as_str).collect();
        funded(&net, CONTRACT_ACCOUNT, &refs, 123_456).unwrap();
        for u in &refs {
            assert_eq!(
                balance(&net, CONTRACT_ACCOUNT, u).as_deref(),
                Some("12.3456 BIT")
            );
        }
        // Idempotent on accounts and token; funds add up.
        funded(&net, CONTRACT_ACCOUNT, &refs[..2], 1).unwrap();
        assert_eq!(
            balance(&net, CONTRACT_ACCOUNT, "user1").as_deref(),
            Some("12.3457 BIT")
        );
        let stat = net.table(CONTRACT_ACCOUNT, "BIT", "stat").unwrap();
        assert_eq!(stat[0]["supply"], bit(5 * 123_456 + 2));
        assert_eq!(stat[0]["max_supply"], MAX_SUPPLY);
        assert_eq!(stat[0]["issuer"], CONTRACT_ACCOUNT);
        // The issuer keeps nothing: everything issued went to users.
        assert_eq!(
            balance(&net, CONTRACT_ACCOUNT, CONTRACT_ACCOUNT).as_deref(),
            Some("0.0000 BIT")
        );
    }

    /// `deployed` + `funded` with the real contract: the token and global row exist.
    #[test]
    fn deployed_contract_can_be_funded() {
        let (net, contract) = deployed().unwrap();
        funded(&net, &contract, &["alice"], 50_000).unwrap();
        assert_eq!(
            balance(&net, &contract, "alice").as_deref(),
            Some("5.0000 BIT")
        );
        let global = net.table(&contract, &contract, "global").unwrap();
        assert_eq!(global.len(), 1, "{global:?}");
        assert_eq!(global[0]["symbol"], "4,BIT");
    }
}
