//! The `BIT` token: `eosio.token`'s actions with its semantics and assertion messages.

mod actions;
mod balance;
mod types;

pub use actions::{close, create, issue, open, retire, transfer};
pub use balance::{add_balance, balance_of, sub_balance};
pub use types::{Account, Close, Create, CurrencyStats, Issue, Open, Retire, Transfer};

#[cfg(test)]
mod tests;
