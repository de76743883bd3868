//! The six token actions, in the order of checks of the reference `eosio.token` so the same
//! bad input fails with the same message.

use crate::asset::Asset;
use crate::error::{check, ContractError, Result};
use crate::host::Host;
use crate::metagraph;
use crate::name::Name;
use crate::table;
use crate::token::{add_balance, sub_balance, Account, Close, Create, CurrencyStats, Issue, Open};
use crate::token::{Retire, Transfer};

/// Longest memo accepted, in bytes.
const MAX_MEMO: usize = 256;

/// The `stat` row of `code`, if the token exists.
fn stats(host: &impl Host, code: u64) -> Result<Option<CurrencyStats>> {
    table::find::<CurrencyStats>(host, code, code)
}

/// `create`: registers a token; the first token created is the one the metagraph stakes and emits.
pub fn create(host: &mut impl Host, args: Create) -> Result<()> {
    let me = host.receiver();
    host.require_auth(me)?;
    let sym = args.maximum_supply.symbol;
    check(sym.is_valid(), "invalid symbol name")?;
    check(args.maximum_supply.is_valid(), "invalid supply")?;
    check(
        args.maximum_supply.amount > 0,
        "max-supply must be positive",
    )?;
    check(
        stats(host, sym.code().0)?.is_none(),
        "token with symbol already exists",
    )?;
    let row = CurrencyStats {
        supply: Asset {
            amount: 0,
            symbol: sym,
        },
        max_supply: args.maximum_supply,
        issuer: args.issuer,
    };
    table::store(host, sym.code().0, me, &row)?;
    metagraph::init_global(host, sym)
}

/// `issue`: mints `quantity` into the issuer's balance, within the cap.
pub fn issue(host: &mut impl Host, args: Issue) -> Result<()> {
    let sym = args.quantity.symbol;
    check(sym.is_valid(), "invalid symbol name")?;
    check(args.memo.len() <= MAX_MEMO, "memo has more than 256 bytes")?;
    let mut st = stats(host, sym.code().0)?.ok_or(ContractError::new(
        "token with symbol does not exist, create token before issue",
    ))?;
    check(
        args.to == st.issuer,
        "tokens can only be issued to issuer account",
    )?;
    host.require_auth(st.issuer)?;
    check(args.quantity.is_valid(), "invalid quantity")?;
    check(args.quantity.amount > 0, "must issue positive quantity")?;
    check(
        args.quantity.symbol == st.supply.symbol,
        "symbol precision mismatch",
    )?;
    check(
        args.quantity.amount <= st.max_supply.amount - st.supply.amount,
        "quantity exceeds available supply",
    )?;
    st.supply = st.supply.checked_add(args.quantity)?;
    table::update(host, sym.code().0, Name(0), &st)?;
    add_balance(host, st.issuer, args.quantity, st.issuer)
}

/// `retire`: burns `quantity` from the issuer's balance.
pub fn retire(host: &mut impl Host, args: Retire) -> Result<()> {
    let sym = args.quantity.symbol;
    check(sym.is_valid(), "invalid symbol name")?;
    check(args.memo.len() <= MAX_MEMO, "memo has more than 256 bytes")?;
    let mut st =
        stats(host, sym.code().0)?.ok_or(ContractError::new("token with symbol does not exist"))?;
    host.require_auth(st.issuer)?;
    check(args.quantity.is_valid(), "invalid quantity")?;
    check(args.quantity.amount > 0, "must retire positive quantity")?;
    check(
        args.quantity.symbol == st.supply.symbol,
        "symbol precision mismatch",
    )?;
    st.supply = st.supply.checked_sub(args.quantity)?;
    table::update(host, sym.code().0, Name(0), &st)?;
    sub_balance(host, st.issuer, args.quantity)
}

/// `transfer`: moves `quantity` from `from` to `to`, notifying both.
pub fn transfer(host: &mut impl Host, args: Transfer) -> Result<()> {
    check(args.from != args.to, "cannot transfer to self")?;
    host.require_auth(args.from)?;
    check(host.is_account(args.to), "to account does not exist")?;
    let code = args.quantity.symbol.code().0;
    let st = stats(host, code)?.ok_or(ContractError::new("unable to find key"))?;
    host.require_recipient(args.from);
    host.require_recipient(args.to);
    check(args.quantity.is_valid(), "invalid quantity")?;
    check(args.quantity.amount > 0, "must transfer positive quantity")?;
    check(
        args.quantity.symbol == st.supply.symbol,
        "symbol precision mismatch",
    )?;
    check(args.memo.len() <= MAX_MEMO, "memo has more than 256 bytes")?;
    let payer = if host.has_auth(args.to) {
        args.to
    } else {
        args.from
    };
    sub_balance(host, args.from, args.quantity)?;
    add_balance(host, args.to, args.quantity, payer)
}

/// `open`: creates `owner`'s zero balance for `symbol`, paid by `ram_payer`; no-op if it exists.
pub fn open(host: &mut impl Host, args: Open) -> Result<()> {
    host.require_auth(args.ram_payer)?;
    check(host.is_account(args.owner), "owner account does not exist")?;
    let code = args.symbol.code().0;
    let st = stats(host, code)?.ok_or(ContractError::new("symbol does not exist"))?;
    check(st.supply.symbol == args.symbol, "symbol precision mismatch")?;
    if table::find::<Account>(host, args.owner.0, code)?.is_none() {
        let balance = Asset {
            amount: 0,
            symbol: args.symbol,
        };
        table::store(host, args.owner.0, args.ram_payer, &Account { balance })?;
    }
    Ok(())
}

/// `close`: erases `owner`'s balance row, which must be zero.
pub fn close(host: &mut impl Host, args: Close) -> Result<()> {
    host.require_auth(args.owner)?;
    let code = args.symbol.code().0;
    let row = table::find::<Account>(host, args.owner.0, code)?.ok_or(ContractError::new(
        "Balance row already deleted or never existed. Action won't have any effect.",
    ))?;
    check(
        row.balance.amount == 0,
        "Cannot close because the balance is not zero.",
    )?;
    table::remove::<Account>(host, args.owner.0, code)
}
