//! Typed action builders for the `bittensor` contract (docs/contract-interface.md): the
//! token actions (eosio.token semantics) and the metagraph actions.

use crate::types::action::Action;
use crate::types::asset::{Asset, Symbol};
use crate::types::name::Name;
use crate::types::pack::Pack;

/// Action names of the contract.
pub mod names {
    use crate::types::name::Name;

    /// `create(issuer, maximum_supply)`.
    pub const CREATE: Name = Name::constant("create");
    /// `issue(to, quantity, memo)`.
    pub const ISSUE: Name = Name::constant("issue");
    /// `retire(quantity, memo)`.
    pub const RETIRE: Name = Name::constant("retire");
    /// `transfer(from, to, quantity, memo)`.
    pub const TRANSFER: Name = Name::constant("transfer");
    /// `open(owner, symbol, ram_payer)`.
    pub const OPEN: Name = Name::constant("open");
    /// `close(owner, symbol)`.
    pub const CLOSE: Name = Name::constant("close");
    /// `subscribe(user, address, port, stake)`.
    pub const SUBSCRIBE: Name = Name::constant("subscribe");
    /// `unsubscribe(user)`.
    pub const UNSUBSCRIBE: Name = Name::constant("unsubscribe");
    /// `emit(user, edges)`.
    pub const EMIT: Name = Name::constant("emit");
    /// `setparams(emission_rate, min_stake, max_self_weight, max_idle)`.
    pub const SETPARAMS: Name = Name::constant("setparams");
    /// `settle(user)`, by anyone.
    pub const SETTLE: Name = Name::constant("settle");
    /// `evict(user)`, by anyone once the user is idle for `max_idle` blocks.
    pub const EVICT: Name = Name::constant("evict");
    /// Table `metagraph`.
    pub const METAGRAPH: Name = Name::constant("metagraph");
    /// Table `departed`: nodes that left, by change number.
    pub const DEPARTED: Name = Name::constant("departed");
    /// Table `residuals`.
    pub const RESIDUALS: Name = Name::constant("residuals");
    /// Table `global`.
    pub const GLOBAL: Name = Name::constant("global");
    /// Table `accounts`.
    pub const ACCOUNTS: Name = Name::constant("accounts");
    /// Table `stat`.
    pub const STAT: Name = Name::constant("stat");
}

/// `subscribe`: joins the metagraph (or updates address/port and adds stake).
pub fn subscribe(contract: Name, user: Name, address: &str, port: u16, stake: Asset) -> Action {
    let mut data = Vec::new();
    user.pack(&mut data);
    address.pack(&mut data);
    port.pack(&mut data);
    stake.pack(&mut data);
    raw(contract, names::SUBSCRIBE, user, data)
}

/// `unsubscribe`: settles emission and returns the stake.
pub fn unsubscribe(contract: Name, user: Name) -> Action {
    Action::new(contract, names::UNSUBSCRIBE, user, &user)
}

/// `emit`: accrues the user's emission and pushes its residual along `edges`
/// (`(target, weight ppm)`, first entry the user itself, weights summing to 1 000 000).
pub fn emit(contract: Name, user: Name, edges: &[(Name, u32)]) -> Action {
    let mut data = Vec::new();
    user.pack(&mut data);
    edges.pack(&mut data);
    raw(contract, names::EMIT, user, data)
}

/// `setparams`: the contract account sets the emission rate (base units per block), the
/// minimum first stake, the largest self weight (ppm) and the idle cutoff (blocks).
pub fn setparams(
    contract: Name,
    emission_rate: u64,
    min_stake: u64,
    max_self_weight: u32,
    max_idle: u64,
) -> Action {
    let mut data = Vec::new();
    emission_rate.pack(&mut data);
    min_stake.pack(&mut data);
    max_self_weight.pack(&mut data);
    max_idle.pack(&mut data);
    raw(contract, names::SETPARAMS, contract, data)
}

/// `setvocab`: the contract account pins the vocabulary file (its SHA-256 in hex, its word
/// count) every node must load.
pub fn setvocab(contract: Name, hash: &str, words: u32) -> Action {
    let mut data = Vec::new();
    hash.pack(&mut data);
    words.pack(&mut data);
    raw(contract, Name::constant("setvocab"), contract, data)
}

/// `settle`: `actor` (anyone) pushes `user`'s accrued emission along its stored edges.
pub fn settle(contract: Name, actor: Name, user: Name) -> Action {
    Action::new(contract, names::SETTLE, actor, &user)
}

/// `evict`: `actor` (anyone) removes `user` after `max_idle` blocks without an emit.
pub fn evict(contract: Name, actor: Name, user: Name) -> Action {
    Action::new(contract, names::EVICT, actor, &user)
}

/// `transfer`, authorized by `from`.
pub fn transfer(contract: Name, from: Name, to: Name, quantity: Asset, memo: &str) -> Action {
    let mut data = Vec::new();
    from.pack(&mut data);
    to.pack(&mut data);
    quantity.pack(&mut data);
    memo.pack(&mut data);
    raw(contract, names::TRANSFER, from, data)
}

/// `issue` to the issuer itself (authorized by it).
pub fn issue(contract: Name, issuer: Name, quantity: Asset, memo: &str) -> Action {
    let mut data = Vec::new();
    issuer.pack(&mut data);
    quantity.pack(&mut data);
    memo.pack(&mut data);
    raw(contract, names::ISSUE, issuer, data)
}

/// `create` the token, authorized by the contract account.
pub fn create(contract: Name, issuer: Name, maximum_supply: Asset) -> Action {
    let mut data = Vec::new();
    issuer.pack(&mut data);
    maximum_supply.pack(&mut data);
    raw(contract, names::CREATE, contract, data)
}

/// `retire`: burns `quantity` from the issuer's balance.
pub fn retire(contract: Name, issuer: Name, quantity: Asset, memo: &str) -> Action {
    let mut data = Vec::new();
    quantity.pack(&mut data);
    memo.pack(&mut data);
    raw(contract, names::RETIRE, issuer, data)
}

/// `open` a zero balance row for `owner`, paid by `ram_payer`.
pub fn open(contract: Name, owner: Name, symbol: Symbol, ram_payer: Name) -> Action {
    let mut data = Vec::new();
    owner.pack(&mut data);
    symbol.pack(&mut data);
    ram_payer.pack(&mut data);
    raw(contract, names::OPEN, ram_payer, data)
}

/// `close` `owner`'s zero balance row.
pub fn close(contract: Name, owner: Name, symbol: Symbol) -> Action {
    let mut data = Vec::new();
    owner.pack(&mut data);
    symbol.pack(&mut data);
    raw(contract, names::CLOSE, owner, data)
}

fn raw(contract: Name, name: Name, actor: Name, data: Vec<u8>) -> Action {
    Action {
        account: contract,
        name,
        authorization: vec![crate::types::action::PermissionLevel::active(actor)],
        data,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emit_packs_edges_as_name_weight_vector() {
        let c = Name::constant("bittensor");
        let a = Name::constant("alice");
        let b = Name::constant("bob");
        let act = emit(c, a, &[(a, 600_000), (b, 400_000)]);
        let mut expected = a.as_u64().to_le_bytes().to_vec();
        expected.push(2);
        expected.extend_from_slice(&a.as_u64().to_le_bytes());
        expected.extend_from_slice(&600_000u32.to_le_bytes());
        expected.extend_from_slice(&b.as_u64().to_le_bytes());
        expected.extend_from_slice(&400_000u32.to_le_bytes());
        assert_eq!(act.data, expected);
        assert_eq!(act.authorization[0].actor, a);
        assert_eq!(act.name, names::EMIT);
    }
}
