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

/// Creates a new node's row and index entry, billed to `payer`, and its `departed` row with
/// change number 0, billed to `payer` too: a reservation that no reader paging after a cursor
/// ever sees (numbers start at 1), which the node's departure later only rewrites. So neither
/// `unsubscribe` nor an `evict` by a stranger makes the contract pay for a departure record.
/// An account that left before keeps its row, moved back to 0.
pub fn store_node(host: &mut impl Host, payer: Name, node: &Node) -> Result<()> {
    let me = host.receiver().0;
    let reserved = Departure {
        user: node.user,
        seq: 0,
    };
    if table::find::<Departure>(host, me, node.user.0)?.is_some() {
        table::update_indexed(host, me, &reserved)?;
    } else {
        table::store_indexed(host, me, payer, &reserved)?;
    }
    table::store_indexed(host, me, payer, node)
}

/// Rewrites a node's row and moves its index entry to the row's (new) `seq`.
pub fn update_node(host: &mut impl Host, node: &Node) -> Result<()> {
    let me = host.receiver().0;
    table::update_indexed(host, me, node)
}

/// Erases a node's row and index entry and moves its `departed` row (reserved when it
/// subscribed, payer kept) to `seq`; `payer` pays only for a row missing from an older layout.
pub fn remove_node(host: &mut impl Host, user: Name, seq: u64, payer: Name) -> Result<()> {
    let me = host.receiver().0;
    table::remove_indexed::<Node>(host, me, user.0)?;
    let departure = Departure { user, seq };
    if table::find::<Departure>(host, me, user.0)?.is_some() {
        table::update_indexed(host, me, &departure)
    } else {
        table::store_indexed(host, me, payer, &departure)
    }
}
