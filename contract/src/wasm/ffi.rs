//! EOSIO intrinsics imported from module `env` (signatures as in the CDT's headers).

#[link(wasm_import_module = "env")]
extern "C" {
    pub fn read_action_data(msg: *mut u8, len: u32) -> i32;
    pub fn action_data_size() -> u32;
    pub fn require_auth(name: u64);
    pub fn has_auth(name: u64) -> i32;
    pub fn is_account(name: u64) -> i32;
    pub fn require_recipient(name: u64);
    pub fn current_receiver() -> u64;
    pub fn current_time() -> u64;
    pub fn eosio_assert_message(test: u32, msg: *const u8, len: u32);
    pub fn db_store_i64(
        scope: u64,
        table: u64,
        payer: u64,
        id: u64,
        data: *const u8,
        len: u32,
    ) -> i32;
    pub fn db_update_i64(iterator: i32, payer: u64, data: *const u8, len: u32);
    pub fn db_remove_i64(iterator: i32);
    pub fn db_get_i64(iterator: i32, data: *mut u8, len: u32) -> i32;
    pub fn db_find_i64(code: u64, scope: u64, table: u64, id: u64) -> i32;
}

/// Aborts the transaction with `message` (never returns: `eosio_assert_message` traps).
pub fn abort(message: &str) -> ! {
    // SAFETY: the pointer and length describe a live, readable byte slice.
    unsafe { eosio_assert_message(0, message.as_ptr(), message.len() as u32) };
    core::arch::wasm32::unreachable()
}
