// SPDX-License-Identifier: MIT
//! The `SCHEDOP_rtsleep` hypercall: how a guest VCPU registers a wake-up deadline.
//!
//! The Xen patch, the core, the guest module (which compiles this file as a module,
//! `#[path = "../abi/src/hypercall.rs"] mod hypercall;`) and dom0's test tools all use
//! these values. So this file uses nothing but `core` types: no `use`, no dependency.
//! The C views are the generated `hypervisor/include/rtcredit.h` (for Xen and tools) and,
//! in the guest module's C half, a copy that a test holds to this file.

/// `SCHEDOP_*` number of the new scheduler hypercall (0..=7 are Xen's own in 4.17).
pub const SCHEDOP_RTSLEEP: u32 = 8;

/// Argument of `HYPERVISOR_sched_op(SCHEDOP_rtsleep, &arg)`.
///
/// `deadline_ns` is absolute Xen system time (`NOW()` in Xen, the PV clock's
/// `system_time` in the guest). It applies to the calling VCPU only.
///
/// Admission is by period, not by lead: a deadline must be at least the minimum period
/// (default [`DEFAULT_MIN_PERIOD_NS`], sysctl and boot parameter, floor
/// [`MIN_PERIOD_FLOOR_NS`]) after the last deadline of this VCPU that came due
/// (`-ERANGE` otherwise), and at most the maximum lead (default [`DEFAULT_MAX_LEAD_NS`])
/// ahead (`-ERANGE`). How close to now it is does not matter, so a periodic task whose
/// last period woke late can always register the next one. A deadline already due is
/// served at once at RT (the result is [`RTSLEEP_GRANTED`]) if the domain's RT budget
/// allows, and refused with `-ETIME` if not. The per-domain rate and CPU budget bound
/// how much RT a domain gets; over them a future deadline is [`RTSLEEP_DEGRADED`].
/// Other refusals: `-EPERM` (dom0 has not allowed the domain RT), `-EINVAL` (unknown
/// flag bits, `pad` not zero); a Xen without the scheduler answers `-ENOSYS` or
/// `-EOPNOTSUPP`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SchedRtsleep {
    /// Absolute Xen system time, in nanoseconds, at which the VCPU must run.
    pub deadline_ns: u64,
    /// `RTSLEEP_FLAG_*`; unknown bits are rejected.
    pub flags: u32,
    /// Must be zero (reserved so the struct is the same size on 32- and 64-bit guests).
    pub pad: u32,
}

/// Cancel the calling VCPU's pending deadline; `deadline_ns` is ignored.
pub const RTSLEEP_FLAG_CANCEL: u32 = 1 << 0;
/// Every flag this version understands.
pub const RTSLEEP_FLAGS_KNOWN: u32 = RTSLEEP_FLAG_CANCEL;

/// Hypercall result: the deadline is registered and will be served at RT priority (a
/// deadline already due: at once).
pub const RTSLEEP_GRANTED: i32 = 0;
/// Hypercall result: accepted, but the domain is over its RT budget, so the VCPU will
/// wake as any other (BOOST if it has credit), not at RT.
pub const RTSLEEP_DEGRADED: i32 = 1;
/// Hypercall result of a cancel.
pub const RTSLEEP_CANCELLED: i32 = 2;

/// Default minimum RT period: a VCPU's consecutive deadlines at least this far apart.
pub const DEFAULT_MIN_PERIOD_NS: u64 = 1_000_000;
/// The smallest minimum period an administrator may set (100 us): below it the RT
/// timer's interrupts alone would cost more than the work they serve.
pub const MIN_PERIOD_FLOOR_NS: u64 = 100_000;
/// Default maximum lead: how far ahead of now a deadline may be. A guest that asks for
/// RT only within it never meets this refusal under the default parameters.
pub const DEFAULT_MAX_LEAD_NS: u64 = 10_000_000_000;

/// Errno values the hypercall and the scheduler's control operations return, negated
/// (Xen's `public/errno.h`; the same numbers as Linux's on x86 and arm).
pub mod errno {
    pub const EPERM: i32 = 1;
    pub const EAGAIN: i32 = 11;
    pub const EBUSY: i32 = 16;
    pub const EINVAL: i32 = 22;
    pub const ENOSPC: i32 = 28;
    pub const ERANGE: i32 = 34;
    pub const ENOSYS: i32 = 38;
    pub const ETIME: i32 = 62;
    pub const EOPNOTSUPP: i32 = 95;
}
