//! Trace events, in one place (the way Xen's credit2.c opens with its list).
//!
//! The core reports events through the host's trace hook; the Xen shim forwards them
//! to xentrace as `abi::trace_event_id(EVENT)` with the data words below, and the
//! simulator records them. "dom" is the domain id, "unit" the unit (VCPU) id within
//! the domain, "prio" a [`crate::Prio`] value.

/// RT request registered. Data: dom, unit, deadline low 32 bits, deadline high 32 bits.
pub const RT_GRANT: u32 = 1;
/// RT request (or, after RT was revoked, a fire) refused. Data: dom, unit, `RtcError`
/// code, refusals of this unit since its previous `RT_DENY` record that were not traced.
/// Rate limited: at most one record per unit per `rt::DENY_TRACE_INTERVAL_NS` (100 ms),
/// so a guest without permission cannot flood xentrace; the domain's `rt_denied` counter
/// counts every refusal.
pub const RT_DENY: u32 = 2;
/// RT request or fire degraded to a normal wake (budget). Data: dom, unit, reason
/// (1 = CPU share used up, 2 = request rate exceeded).
pub const RT_DEGRADE: u32 = 3;
/// RT deadline reached and RT granted. Data: dom, unit, state (0 blocked, 1 queued,
/// 2 running), lateness of the timer in ns (saturated to 32 bits).
pub const RT_FIRE: u32 = 4;
/// RT dropped (every end goes through `rt::end_rt`). Data: dom, unit, reason (1 blocked,
/// 3 RT budget spent, 4 the VCPU called rtsleep, 5 the grant's RT limit used; 0, the tick, was a
/// reason before RT v2). While the unit runs, a `PRIO_CHANGE` from RT follows.
pub const RT_DEMOTE: u32 = 5;
/// A unit starts running. Data: dom, unit, prio, cpu.
pub const SWITCH_IN: u32 = 6;
/// A unit woke with BOOST. Data: dom, unit.
pub const BOOST: u32 = 7;
/// The priority of a running unit changed. Data: dom, unit, old prio, new prio.
pub const PRIO_CHANGE: u32 = 8;
/// A capped unit was parked (credit below its cap). Data: dom, unit, credit (i32).
pub const PARK: u32 = 9;
/// A parked unit got credit back. Data: dom, unit, credit (i32).
pub const UNPARK: u32 = 10;
/// One accounting period done. Data: active domains, total weight, credit balance (i32),
/// host time in ns (low 32 bits, high 32 bits), so that a trace reader can convert TSC
/// to nanoseconds.
pub const ACCOUNT: u32 = 11;
/// A CPU was asked to reschedule. Data: cpu, the cpu that asked.
pub const TICKLE: u32 = 12;
/// A queued unit moved to another CPU to run there. Data: from cpu, to cpu, dom, unit.
pub const STEAL: u32 = 13;
/// A CPU goes idle. Data: cpu.
pub const IDLE: u32 = 14;

/// The host's trace hook: `event` is one of the constants above (not yet combined with
/// the class: use `abi::trace_event_id`), `data` points at `len` words.
pub type TraceFn = unsafe extern "C" fn(ctx: *mut core::ffi::c_void, event: u32, data: *const u32, len: u32);
