// SPDX-License-Identifier: MIT
//! RT-Credit's wire ABIs, each defined once.
//!
//! Everything here crosses a boundary between programs that are built apart: a guest
//! and Xen (the [`hypercall`]), dom0's tools and Xen ([`control`]), user space and the
//! guest kernel module ([`ioctl`]), Xen and trace readers ([`trace`]). The core
//! (`rtcredit`, GPL-2.0-only), the guest module (GPL), `rtsleep-lib` (MIT OR
//! Apache-2.0), `rtcredit-ctl`, the monitor and the end-to-end report all take their
//! definitions from this crate, which is MIT-licensed as Xen's public headers are.
//!
//! Rules that keep it usable from all of them:
//! * `no_std`, no dependency; each module is one file that uses nothing outside itself
//!   but `core`, so that the guest module, built by Kbuild without Cargo, compiles
//!   [`ioctl`] and [`hypercall`] by `#[path]`.
//! * Layouts are `#[repr(C)]` with explicit padding and are fixed by the tests in
//!   `tests/layout.rs`; changing one is an ABI break.
//! * The C views are generated from these files (the core's `rtcredit.h`, the
//!   library's `rtsleep.h`, by cbindgen) or, where C must declare its own (the Xen
//!   patch's public headers, the guest module's C half), held to them by tests.
#![no_std]

pub mod control;
pub mod hypercall;
pub mod ioctl;
pub mod trace;
