//! Balance rows: `eosio.token`'s `add_balance` / `sub_balance`, shared with the metagraph,
//! which moves stake in and out of balances.

use crate::asset::Asset;
use crate::error::{check, ContractError, Result};
use crate::host::Host;
use crate::name::Name;
use crate::symbol::Symbol;
use crate::table;
use crate::token::Account;

/// `owner`'s balance row for `symbol`'s code, if opened.
pub fn balance_of(host: &impl Host, owner: Name, symbol: Symbol) -> Result<Option<Asset>> {
    Ok(table::find::<Account>(host, owner.0, symbol.code().0)?.map(|a| a.balance))
}

/// Debits `value` from `owner`; the row must exist and hold enough. RAM is re-billed to `owner`.
pub fn sub_balance(host: &mut impl Host, owner: Name, value: Asset) -> Result<()> {
    let from = balance_of(host, owner, value.symbol)?
        .ok_or(ContractError::new("no balance object found"))?;
    check(from.amount >= value.amount, "overdrawn balance")?;
    let balance = from.checked_sub(value)?;
    table::update(host, owner.0, owner, &Account { balance })
}

/// Credits `value` to `owner`, creating the row (billed to `ram_payer`) if needed.
pub fn add_balance(host: &mut impl Host, owner: Name, value: Asset, ram_payer: Name) -> Result<()> {
    match balance_of(host, owner, value.symbol)? {
        None => table::store(host, owner.0, ram_payer, &Account { balance: value }),
        Some(balance) => {
            let balance = balance.checked_add(value)?;
            table::update(host, owner.0, Name(0), &Account { balance })
        }
    }
}
