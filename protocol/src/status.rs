//! The `/status` payload a worker serves and the viewer reads: one type, parsed strictly.
