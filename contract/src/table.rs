//! Typed tables over the host's key-value rows: one row type per table, keyed by primary key.
//! Every access is a point lookup; the contract never iterates a table. A row type may also
//! keep one `u64` secondary index ([`Indexed`]), written with its row, never read on chain
//! (readers page it through `get_table_rows`).

use crate::codec::{from_bytes, to_bytes, Pack};
use crate::error::Result;
use crate::host::{Host, RowId};
use crate::name::Name;

/// A row type stored in one table.
pub trait Row: Pack {
    /// The table's name.
    const TABLE: Name;
    /// The table's name as text (for the ABI).
    const TABLE_NAME: &'static str;
    /// The row's primary key.
    fn primary_key(&self) -> u64;
}

/// Reads row `pk` of `T`'s table in `scope`, if present.
pub fn find<T: Row>(host: &impl Host, scope: u64, pk: u64) -> Result<Option<T>> {
    match host.db_get(row_id::<T>(scope, pk)) {
        Some(bytes) => from_bytes(&bytes).map(Some),
        None => Ok(None),
    }
}

/// Creates `row` in `scope`, billed to `payer`.
pub fn store<T: Row>(host: &mut impl Host, scope: u64, payer: Name, row: &T) -> Result<()> {
    host.db_store(row_id::<T>(scope, row.primary_key()), payer, &to_bytes(row))
}

/// Rewrites the existing `row` in `scope`; `payer == Name(0)` keeps the payer.
pub fn update<T: Row>(host: &mut impl Host, scope: u64, payer: Name, row: &T) -> Result<()> {
    host.db_update(row_id::<T>(scope, row.primary_key()), payer, &to_bytes(row))
}

/// Erases row `pk` of `T`'s table in `scope`.
pub fn remove<T: Row>(host: &mut impl Host, scope: u64, pk: u64) -> Result<()> {
    host.db_remove(row_id::<T>(scope, pk))
}

/// A row type with a first secondary index (`u64`), kept in step with its rows.
pub trait Indexed: Row {
    /// The row's secondary key.
    fn index_key(&self) -> u64;
}

/// Creates `row` and its index entry in `scope`, both billed to `payer`.
pub fn store_indexed<T: Indexed>(
    host: &mut impl Host,
    scope: u64,
    payer: Name,
    row: &T,
) -> Result<()> {
    store(host, scope, payer, row)?;
    host.idx64_store(
        row_id::<T>(scope, row.primary_key()),
        payer,
        row.index_key(),
    )
}

/// Rewrites the existing `row` and moves its index entry to its key; payers are kept.
pub fn update_indexed<T: Indexed>(host: &mut impl Host, scope: u64, row: &T) -> Result<()> {
    update(host, scope, Name(0), row)?;
    host.idx64_update(
        row_id::<T>(scope, row.primary_key()),
        Name(0),
        row.index_key(),
    )
}

/// Erases row `pk` of `T`'s table in `scope` and its index entry.
pub fn remove_indexed<T: Indexed>(host: &mut impl Host, scope: u64, pk: u64) -> Result<()> {
    host.idx64_remove(row_id::<T>(scope, pk))?;
    remove::<T>(host, scope, pk)
}

/// The address of row `pk` of `T`'s table in `scope`.
fn row_id<T: Row>(scope: u64, pk: u64) -> RowId {
    RowId {
        scope,
        table: T::TABLE,
        pk,
    }
}
