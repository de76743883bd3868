//! Panics abort the transaction with a message instead of trapping silently.

#[panic_handler]
fn panic(_info: &core::panic::PanicInfo<'_>) -> ! {
    super::ffi::abort("bittensor contract panicked")
}
