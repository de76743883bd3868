//! A bump allocator over `memory.grow`: each action runs in a fresh instance, so memory is
//! never reused; growth stops at EOS VM's 33 MiB limit with a clear message.

use core::alloc::{GlobalAlloc, Layout};
use core::arch::wasm32;
use core::cell::UnsafeCell;

const PAGE: usize = 65_536;

/// The next free byte and the end of the grown memory (0 until the first allocation).
struct Bump {
    state: UnsafeCell<(usize, usize)>,
}

// SAFETY: a WASM contract instance is single-threaded.
unsafe impl Sync for Bump {}

#[global_allocator]
static ALLOCATOR: Bump = Bump {
    state: UnsafeCell::new((0, 0)),
};

unsafe impl GlobalAlloc for Bump {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: single-threaded, and no reference to the state outlives this call.
        let state = unsafe { &mut *self.state.get() };
        if state.1 == 0 {
            // Start after everything the module placed in memory (stack, data).
            let end = wasm32::memory_size(0) * PAGE;
            *state = (end, end);
        }
        let start = (state.0 + layout.align() - 1) & !(layout.align() - 1);
        let Some(new_next) = start.checked_add(layout.size()) else {
            super::ffi::abort("allocation too large");
        };
        if new_next > state.1 {
            let pages = (new_next - state.1).div_ceil(PAGE);
            if wasm32::memory_grow(0, pages) == usize::MAX {
                super::ffi::abort("out of memory");
            }
            state.1 += pages * PAGE;
        }
        state.0 = new_next;
        start as *mut u8
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: single-threaded, and no reference to the state outlives this call.
        let state = unsafe { &mut *self.state.get() };
        // Reclaim only the most recent allocation (common for temporary buffers).
        if ptr as usize + layout.size() == state.0 {
            state.0 = ptr as usize;
        }
    }
}
