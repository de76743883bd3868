//! The contract's entry point, called by nodeos for every action and notification.

use super::chain::{action_data, Chain};
use super::ffi::abort;
use crate::dispatch::dispatch;
use crate::name::Name;

/// `apply(receiver, code, action)`: runs the action, aborting the transaction on any error.
#[no_mangle]
pub extern "C" fn apply(receiver: u64, code: u64, action: u64) {
    let mut chain = Chain::new();
    let data = action_data();
    if let Err(error) = dispatch(&mut chain, Name(receiver), Name(code), Name(action), &data) {
        abort(&error.message);
    }
}
