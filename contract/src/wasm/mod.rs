//! Everything that exists only in the WASM build: intrinsic imports, the allocator, the panic
//! handler, the chain-backed [`Host`](crate::host::Host), and the exported `apply` entry point.

mod alloc;
mod apply;
mod chain;
mod ffi;
mod panic;
