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

/// An unsigned 128-bit table field (ABI `uint128`): stake-pool shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct U128(pub u128);

impl Pack for U128 {
    fn pack(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0.to_le_bytes());
    }
    fn unpack(reader: &mut Reader<'_>) -> Result<Self> {
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(reader.take(16)?);
        Ok(U128(u128::from_le_bytes(bytes)))
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
    /// `emit`: settles the caller along its stored edge set, then stores the new one.
    pub struct Emit as "emit" {
        /// The node's account, who signs.
        pub user: Name,
        /// Weighted out-edges, the caller first, weights summing to 1 000 000.
        pub edges: Vec<Edge<Name>>,
    }
}

abi_struct! {
    /// `settle`: anyone pushes a node's accrued emission and pending residual along its
    /// stored edges (no residual is stranded by a node that stopped emitting).
    pub struct Settle as "settle" {
        /// The node to settle (no authority needed).
        pub user: Name,
    }
}

abi_struct! {
    /// `evict`: anyone removes a node idle for at least `max_idle` blocks; it is settled and
    /// its stake returns to its balance.
    pub struct Evict as "evict" {
        /// The idle node (no authority needed).
        pub user: Name,
    }
}

abi_struct! {
    /// `setparams`: the contract account tunes the metagraph (bounds in `emission::params`).
    pub struct SetParams as "setparams" {
        /// Base units minted per block across the metagraph.
        pub emission_rate: u64,
        /// Smallest first subscription, in base units.
        pub min_stake: u64,
        /// Largest self weight of an edge set, parts per million.
        pub max_self_weight: u32,
        /// Blocks without an emit after which anyone may evict a node.
        pub max_idle: u64,
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
        /// Block slot of the last emit (or of the subscription): the idle clock.
        pub last_emit: u64,
        /// The node's shares of the stake pool (`total_stake + unsettled`).
        pub shares: U128,
        /// The edge set in force, self first: it carries the next settlement's emission.
        pub edges: Vec<Edge<Name>>,
        /// Change number of the row's last write (`global.change_seq` then): the key of the
        /// table's secondary index, so readers fetch only rows changed since they last read.
        pub seq: u64,
        /// `global.lump_per_share` at the node's last settlement or re-price: with
        /// `lump_shares_at`, how its next settlement tells redirects it received from growth.
        pub lump_at: U128,
        /// `global.lump_shares_per_share` at the node's last settlement or re-price.
        pub lump_shares_at: U128,
    }
}
row!(Node, "metagraph", |r| r.user.0);

impl crate::table::Indexed for Node {
    fn index_key(&self) -> u64 {
        self.seq
    }
}

abi_struct! {
    /// Row of `departed`: a node that left (unsubscribe or evict), so incremental readers see
    /// removals. One per account at most; erased when the account subscribes again.
    pub struct Departure as "departure" {
        /// The account that left (primary key).
        pub user: Name,
        /// Change number of its departure: the key of the table's secondary index.
        pub seq: u64,
    }
}
row!(Departure, "departed", |r| r.user.0);

impl crate::table::Indexed for Departure {
    fn index_key(&self) -> u64 {
        self.seq
    }
}

abi_struct! {
    /// Row of `residuals`: a node's pending emission and the pool shares it holds, kept apart
    /// from `metagraph` so a push to a neighbour rewrites 40 bytes, not its edge list.
    pub struct Residual as "residual" {
        /// The node's account (primary key).
        pub user: Name,
        /// Emission received or accrued, not yet pushed.
        pub residual: u64,
        /// Pool shares the pending emission holds, so it earns while it waits.
        pub shares: U128,
        /// Amount pushed along the stored edge set since it took force (pushes round
        /// cumulatively; the remainder waits in `residual`).
        pub pushed: u64,
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
        /// All emission ever minted (settled into residuals and added to the supply).
        pub minted: u64,
        /// Issued by the accumulator, not yet settled by its owners (plus rounding dust):
        /// `minted + unsettled` is everything issued.
        pub unsettled: u64,
        /// Sum of all nodes' shares: a share is worth `(total_stake + unsettled) / total_shares`.
        pub total_shares: U128,
        /// Block slot the emission was last issued up to.
        pub acc_block: u64,
        /// Base units issued per block while stake exists.
        pub emission_rate: u64,
        /// Smallest first subscription.
        pub min_stake: u64,
        /// Largest self weight of an edge set, parts per million.
        pub max_self_weight: u32,
        /// Blocks without an emit after which anyone may evict a node.
        pub max_idle: u64,
        /// The staked and emitted token.
        pub symbol: Symbol,
        /// The last change number given to a `metagraph` or `departed` row write: a reader
        /// that has applied every change up to it has the whole table.
        pub change_seq: u64,
        /// Base units sent to the other holders so far instead of to the settling node: the
        /// self weight above `max_self_weight` and forwards to targets that left.
        pub redirected: u64,
        /// Announced `emission_rate`, in force from `next_at` (when `next_at > 0`).
        pub next_emission_rate: u64,
        /// Announced `min_stake`, in force from `next_at`.
        pub next_min_stake: u64,
        /// Announced `max_self_weight`, in force from `next_at`.
        pub next_max_self_weight: u32,
        /// Announced `max_idle`, in force from `next_at`.
        pub next_max_idle: u64,
        /// Block slot the announced parameters take effect; 0 when none are pending.
        pub next_at: u64,
        /// Redirected base units per share of their receivers, summed (Q32.96, wrapping):
        /// `emission::settlement::Pool::lump_per_share`.
        pub lump_per_share: U128,
        /// Shares redirects bought per share of their receivers, summed (Q64.64, wrapping):
        /// `emission::settlement::Pool::lump_shares_per_share`.
        pub lump_shares_per_share: U128,
    }
}
row!(Global, "global", |_r| crate::metagraph::state::GLOBAL_PK);
