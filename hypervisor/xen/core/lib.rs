//! The `rtcredit` core packaged for linking into Xen: nothing of its own, only the
//! re-export that keeps the C ABI (`rtcredit_*`, see `include/rtcredit.h`) in the archive.
#![no_std]

pub use rtcredit::ffi::*;
