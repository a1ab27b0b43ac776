//! Trace events, in one place (the way Xen's credit2.c opens with its list).
//!
//! The events and their data words are defined once, in `rtcredit-abi`'s `trace`
//! module ([`Event`], with its encoding); the core builds an [`Event`] at each place
//! where something happens and hands it to [`crate::Shared::emit`], which encodes it
//! for the host's trace hook. The Xen shim forwards the record to xentrace as
//! `abi::trace_event_id(event)` with the data words; the simulator records them;
//! `rtcredit-monitor` decodes them with [`Event::decode`].

pub use rtcredit_abi::trace::*;

/// The host's trace hook: `event` is one of the event numbers (not yet combined with
/// the class: use `abi::trace_event_id`), `data` points at `len` words.
pub type TraceFn = unsafe extern "C" fn(ctx: *mut core::ffi::c_void, event: u32, data: *const u32, len: u32);
