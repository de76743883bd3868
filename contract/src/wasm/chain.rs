//! The real chain: [`Host`] over the EOSIO intrinsics.

use alloc::vec;
use alloc::vec::Vec;

use super::ffi;
use crate::error::{ContractError, Result};
use crate::host::{Host, RowId};
use crate::name::Name;

/// The running action's chain context.
pub struct Chain {
    receiver: Name,
}

impl Chain {
    /// Captures the receiver (`current_receiver`).
    pub fn new() -> Self {
        // SAFETY: intrinsic without arguments.
        let receiver = Name(unsafe { ffi::current_receiver() });
        Chain { receiver }
    }

    /// Iterator of `row` in our table, negative when absent.
    fn find(&self, row: RowId) -> i32 {
        // SAFETY: plain integer arguments.
        unsafe { ffi::db_find_i64(self.receiver.0, row.scope, row.table.0, row.pk) }
    }

    /// Iterator of `row`'s entry in its table's first secondary index, or the error `missing`.
    fn index_entry(&self, row: RowId, missing: &'static str) -> Result<i32> {
        let mut key = 0u64;
        // SAFETY: `key` is a writable u64 the intrinsic copies the entry's key into.
        let itr = unsafe {
            ffi::db_idx64_find_primary(
                self.receiver.0,
                row.scope,
                index_table(row.table),
                &mut key,
                row.pk,
            )
        };
        if itr < 0 {
            Err(ContractError::new(missing))
        } else {
            Ok(itr)
        }
    }

    /// Iterator of an existing row, or the error `missing`.
    fn existing(&self, row: RowId, missing: &'static str) -> Result<i32> {
        let itr = self.find(row);
        if itr < 0 {
            Err(ContractError::new(missing))
        } else {
            Ok(itr)
        }
    }
}

/// The table name of `table`'s first secondary index, as the CDT's `multi_index` and nodeos'
/// `get_table_rows` (`index_position: 2`) name it: the low 4 bits hold the index number, 0.
fn index_table(table: Name) -> u64 {
    table.0 & !0xF
}

/// The serialized data of the running action.
pub fn action_data() -> Vec<u8> {
    // SAFETY: intrinsic without arguments.
    let len = unsafe { ffi::action_data_size() };
    let mut data = vec![0u8; len as usize];
    // SAFETY: `data` is a writable buffer of exactly `len` bytes.
    unsafe { ffi::read_action_data(data.as_mut_ptr(), len) };
    data
}

impl Host for Chain {
    fn receiver(&self) -> Name {
        self.receiver
    }
    fn require_auth(&mut self, account: Name) -> Result<()> {
        // SAFETY: plain integer argument; aborts the transaction when unauthorized.
        unsafe { ffi::require_auth(account.0) };
        Ok(())
    }
    fn has_auth(&self, account: Name) -> bool {
        // SAFETY: plain integer argument.
        unsafe { ffi::has_auth(account.0) != 0 }
    }
    fn is_account(&self, account: Name) -> bool {
        // SAFETY: plain integer argument.
        unsafe { ffi::is_account(account.0) != 0 }
    }
    fn require_recipient(&mut self, account: Name) {
        // SAFETY: plain integer argument.
        unsafe { ffi::require_recipient(account.0) }
    }
    fn current_time_us(&self) -> u64 {
        // SAFETY: intrinsic without arguments.
        unsafe { ffi::current_time() }
    }
    fn db_get(&self, row: RowId) -> Option<Vec<u8>> {
        let itr = self.find(row);
        if itr < 0 {
            return None;
        }
        // SAFETY: a null buffer of length 0 asks for the row size only.
        let size = unsafe { ffi::db_get_i64(itr, core::ptr::null_mut(), 0) };
        let mut data = vec![0u8; size.max(0) as usize];
        // SAFETY: `data` is a writable buffer of exactly `data.len()` bytes.
        unsafe { ffi::db_get_i64(itr, data.as_mut_ptr(), data.len() as u32) };
        Some(data)
    }
    fn db_store(&mut self, row: RowId, payer: Name, data: &[u8]) -> Result<()> {
        let (ptr, len) = (data.as_ptr(), data.len() as u32);
        // SAFETY: `ptr` points to a readable slice of `len` bytes.
        unsafe { ffi::db_store_i64(row.scope, row.table.0, payer.0, row.pk, ptr, len) };
        Ok(())
    }
    fn db_update(&mut self, row: RowId, payer: Name, data: &[u8]) -> Result<()> {
        let itr = self.existing(row, "updated row does not exist")?;
        // SAFETY: `itr` is a valid iterator; `data` is a readable slice of `data.len()` bytes.
        unsafe { ffi::db_update_i64(itr, payer.0, data.as_ptr(), data.len() as u32) };
        Ok(())
    }
    fn db_remove(&mut self, row: RowId) -> Result<()> {
        let itr = self.existing(row, "removed row does not exist")?;
        // SAFETY: `itr` is a valid iterator of an existing row.
        unsafe { ffi::db_remove_i64(itr) };
        Ok(())
    }
    fn idx64_store(&mut self, row: RowId, payer: Name, key: u64) -> Result<()> {
        let table = index_table(row.table);
        // SAFETY: `&key` points to a readable u64 for the duration of the call.
        unsafe { ffi::db_idx64_store(row.scope, table, payer.0, row.pk, &key) };
        Ok(())
    }
    fn idx64_update(&mut self, row: RowId, payer: Name, key: u64) -> Result<()> {
        let itr = self.index_entry(row, "updated index entry does not exist")?;
        // SAFETY: `itr` is a valid index iterator; `&key` points to a readable u64.
        unsafe { ffi::db_idx64_update(itr, payer.0, &key) };
        Ok(())
    }
    fn idx64_remove(&mut self, row: RowId) -> Result<()> {
        let itr = self.index_entry(row, "removed index entry does not exist")?;
        // SAFETY: `itr` is a valid iterator of an existing index entry.
        unsafe { ffi::db_idx64_remove(itr) };
        Ok(())
    }
}
