//! The change sequence readers page through: every write of a `metagraph` row and every
//! departure takes the next `global.change_seq`, stored in the row (`seq`) and in the table's
//! `u64` secondary index. A node keeps exactly one entry, its `metagraph` row while subscribed
//! and its `departed` row after it left, moved to the new number on each change, so a reader
//! asking for everything after its cursor gets each changed node once, however often it
//! changed. O(1) per action: a counter, and one index entry written or moved. A number
//! carries its block slot in its high bits ([`SLOT_SHIFT`]).

use emission::settlement::SettleError;

use crate::error::{ContractError, Result};
use crate::host::Host;
use crate::metagraph::{Departure, Global, Node};
use crate::name::Name;
use crate::table;

/// Bits of a change number below its block slot: `seq >> SLOT_SHIFT` is never below the
/// slot of the block that made the change (equal unless one slot made 65 536 changes), so a
/// reader knows which numbers are irreversible from the last irreversible block's time alone.
pub const SLOT_SHIFT: u32 = 16;

/// Takes the next change number in block slot `block` (the caller saves `global`
/// afterwards): `max(change_seq + 1, block << SLOT_SHIFT)`, strictly increasing.
pub fn next_seq(global: &mut Global, block: u64) -> Result<u64> {
    let overflow = || ContractError::new(SettleError::Overflow.message());
    let next = global.change_seq.checked_add(1).ok_or_else(overflow)?;
    let floor = block.checked_mul(1 << SLOT_SHIFT).ok_or_else(overflow)?;
    global.change_seq = next.max(floor);
    Ok(global.change_seq)
}

/// Creates a new node's row and index entry, billed to `payer`, and erases the account's
/// departure record if it left before (so it is never listed both present and gone).
pub fn store_node(host: &mut impl Host, payer: Name, node: &Node) -> Result<()> {
    let me = host.receiver().0;
    if table::find::<Departure>(host, me, node.user.0)?.is_some() {
        table::remove_indexed::<Departure>(host, me, node.user.0)?;
    }
    table::store_indexed(host, me, payer, node)
}

/// Rewrites a node's row and moves its index entry to the row's (new) `seq`.
pub fn update_node(host: &mut impl Host, node: &Node) -> Result<()> {
    let me = host.receiver().0;
    table::update_indexed(host, me, node)
}

/// Erases a node's row and index entry and records its departure at `seq`, billed to `payer`.
pub fn remove_node(host: &mut impl Host, user: Name, seq: u64, payer: Name) -> Result<()> {
    let me = host.receiver().0;
    table::remove_indexed::<Node>(host, me, user.0)?;
    table::store_indexed(host, me, payer, &Departure { user, seq })
}
