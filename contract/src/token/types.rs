//! Token action arguments and table rows, with the exact field names of `eosio.token`'s ABI.

use alloc::string::String;

use crate::asset::Asset;
use crate::name::Name;
use crate::symbol::Symbol;

abi_struct! {
    /// `create`: registers a token and its issuer.
    pub struct Create as "create" {
        /// The only account allowed to issue and retire.
        pub issuer: Name,
        /// Cap on the supply; its symbol names the token.
        pub maximum_supply: Asset,
    }
}

abi_struct! {
    /// `issue`: mints new tokens to the issuer.
    pub struct Issue as "issue" {
        /// Must be the issuer.
        pub to: Name,
        /// Amount minted.
        pub quantity: Asset,
        /// Free text, at most 256 bytes.
        pub memo: String,
    }
}

abi_struct! {
    /// `retire`: burns tokens from the issuer's balance.
    pub struct Retire as "retire" {
        /// Amount burnt.
        pub quantity: Asset,
        /// Free text, at most 256 bytes.
        pub memo: String,
    }
}

abi_struct! {
    /// `transfer`: moves tokens between accounts.
    pub struct Transfer as "transfer" {
        /// Payer, who signs.
        pub from: Name,
        /// Receiver, an existing account other than `from`.
        pub to: Name,
        /// Amount moved.
        pub quantity: Asset,
        /// Free text, at most 256 bytes.
        pub memo: String,
    }
}

abi_struct! {
    /// `open`: creates a zero balance row, paid by `ram_payer`.
    pub struct Open as "open" {
        /// Whose balance.
        pub owner: Name,
        /// Which token (precision must match).
        pub symbol: Symbol,
        /// Who pays the RAM, and signs.
        pub ram_payer: Name,
    }
}

abi_struct! {
    /// `close`: erases a zero balance row.
    pub struct Close as "close" {
        /// Whose balance, who signs.
        pub owner: Name,
        /// Which token.
        pub symbol: Symbol,
    }
}

abi_struct! {
    /// Row of `accounts` (scope: owner): one balance per token.
    pub struct Account as "account" {
        /// The balance.
        pub balance: Asset,
    }
}
row!(Account, "accounts", |r| r.balance.symbol.code().0);

abi_struct! {
    /// Row of `stat` (scope: symbol code): a token's supply, cap and issuer.
    pub struct CurrencyStats as "currency_stats" {
        /// Tokens in existence (issued plus emitted, minus retired).
        pub supply: Asset,
        /// Cap on `supply`.
        pub max_supply: Asset,
        /// Who may issue and retire.
        pub issuer: Name,
    }
}
row!(CurrencyStats, "stat", |r| r.supply.symbol.code().0);
