//! Metagraph action arguments and table rows (layouts in `docs/contract-interface.md`).

use alloc::string::String;
use alloc::vec::Vec;

use crate::asset::Asset;
use crate::codec::{Pack, Reader};
use crate::error::Result;
use crate::name::Name;
use crate::symbol::Symbol;
use emission::Edge;

impl Pack for Edge<Name> {
    fn pack(&self, out: &mut Vec<u8>) {
        self.to.pack(out);
        self.weight.pack(out);
    }
    fn unpack(reader: &mut Reader<'_>) -> Result<Self> {
        Ok(Edge {
            to: Name::unpack(reader)?,
            weight: u32::unpack(reader)?,
        })
    }
}

abi_struct! {
    /// `subscribe`: joins the metagraph (or tops up stake and updates the endpoint).
    pub struct Subscribe as "subscribe" {
        /// The node's account, who signs.
        pub user: Name,
        /// Where peers reach the node (host name or IP).
        pub address: String,
        /// The node's TCP port.
        pub port: u16,
        /// Stake moved from the user's balance (>= `min_stake` on first subscription).
        pub stake: Asset,
    }
}

abi_struct! {
    /// `unsubscribe`: settles pending emission and returns the whole stake.
    pub struct Unsubscribe as "unsubscribe" {
        /// The node's account, who signs.
        pub user: Name,
    }
}

abi_struct! {
    /// `emit`: accrues the caller's emission and pushes its residual along a new edge set.
    pub struct Emit as "emit" {
        /// The node's account, who signs.
        pub user: Name,
        /// Weighted out-edges, the caller first, weights summing to 1 000 000.
        pub edges: Vec<Edge<Name>>,
    }
}

abi_struct! {
    /// `setparams`: the contract account tunes the emission rate and the minimum stake.
    pub struct SetParams as "setparams" {
        /// Base units minted per block across the metagraph.
        pub emission_rate: u64,
        /// Smallest first subscription, in base units.
        pub min_stake: u64,
    }
}

abi_struct! {
    /// Row of `metagraph`: one subscribed node.
    pub struct Node as "node" {
        /// The node's account (primary key).
        pub user: Name,
        /// Endpoint host.
        pub address: String,
        /// Endpoint port.
        pub port: u16,
        /// Staked base units.
        pub stake: u64,
        /// Block slot of the last emit (or of the subscription).
        pub last_emit: u64,
        /// Last validated edge set, self first.
        pub edges: Vec<Edge<Name>>,
    }
}
row!(Node, "metagraph", |r| r.user.0);

abi_struct! {
    /// Row of `residuals`: a node's pending emission, kept apart from `metagraph` so a push to a
    /// neighbour rewrites 16 bytes, not its edge list.
    pub struct Residual as "residual" {
        /// The node's account (primary key).
        pub user: Name,
        /// Emission received or accrued, not yet pushed.
        pub residual: u64,
    }
}
row!(Residual, "residuals", |r| r.user.0);

abi_struct! {
    /// Row of `global` (a singleton): the metagraph's counters and parameters.
    pub struct Global as "global_state" {
        /// Sum of all stakes.
        pub total_stake: u64,
        /// Sum of all residuals (minted, not yet credited to a stake).
        pub outstanding: u64,
        /// All emission ever minted.
        pub minted: u64,
        /// Base units minted per block.
        pub emission_rate: u64,
        /// Smallest first subscription.
        pub min_stake: u64,
        /// The staked and emitted token.
        pub symbol: Symbol,
    }
}
row!(Global, "global", |_r| crate::metagraph::state::GLOBAL_PK);
