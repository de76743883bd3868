//! EOSIO intrinsics imported from module `env` (signatures as in the CDT's headers).

#[link(wasm_import_module = "env")]
extern "C" {
    /// Copies the action data into `msg`.
    pub fn read_action_data(msg: *mut u8, len: u32) -> i32;
    /// Length of the action data.
    pub fn action_data_size() -> u32;
    /// Aborts unless `name` authorized the action.
    pub fn require_auth(name: u64);
    /// Non-zero when `name` authorized the action.
    pub fn has_auth(name: u64) -> i32;
    /// Non-zero when the account exists.
    pub fn is_account(name: u64) -> i32;
    /// Notifies `name` of this action.
    pub fn require_recipient(name: u64);
    /// The account this code runs as.
    pub fn current_receiver() -> u64;
    /// Pending block time in microseconds since the epoch.
    pub fn current_time() -> u64;
    /// Aborts the transaction with a message when `test` is 0.
    pub fn eosio_assert_message(test: u32, msg: *const u8, len: u32);
    /// Creates a row; returns its iterator.
    pub fn db_store_i64(
        scope: u64,
        table: u64,
        payer: u64,
        id: u64,
        data: *const u8,
        len: u32,
    ) -> i32;
    /// Rewrites the row at `iterator`.
    pub fn db_update_i64(iterator: i32, payer: u64, data: *const u8, len: u32);
    /// Erases the row at `iterator`.
    pub fn db_remove_i64(iterator: i32);
    /// Copies the row at `iterator`; returns its size.
    pub fn db_get_i64(iterator: i32, data: *mut u8, len: u32) -> i32;
    /// Iterator of a row by primary key, negative when absent.
    pub fn db_find_i64(code: u64, scope: u64, table: u64, id: u64) -> i32;
    /// Creates a `u64` secondary index entry for primary key `id`; returns its iterator.
    pub fn db_idx64_store(
        scope: u64,
        table: u64,
        payer: u64,
        id: u64,
        secondary: *const u64,
    ) -> i32;
    /// Rewrites the secondary key of the index entry at `iterator`.
    pub fn db_idx64_update(iterator: i32, payer: u64, secondary: *const u64);
    /// Erases the index entry at `iterator`.
    pub fn db_idx64_remove(iterator: i32);
    /// Iterator of the index entry of primary key `primary` (its key copied to `secondary`),
    /// negative when absent.
    pub fn db_idx64_find_primary(
        code: u64,
        scope: u64,
        table: u64,
        secondary: *mut u64,
        primary: u64,
    ) -> i32;
}

/// Aborts the transaction with `message` (never returns: `eosio_assert_message` traps).
pub fn abort(message: &str) -> ! {
    // SAFETY: the pointer and length describe a live, readable byte slice.
    unsafe { eosio_assert_message(0, message.as_ptr(), message.len() as u32) };
    core::arch::wasm32::unreachable()
}
