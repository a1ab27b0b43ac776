//! Every number that crosses a boundary, defined once.
//!
//! * The hypercall a guest uses to register a wake-up deadline (`SCHEDOP_rtsleep`), its
//!   argument struct, flags and results. The Xen patch and the guest module use these
//!   values; `rtcredit.h` (generated from this file) is what C includes.
//! * The scheduler id for `XEN_DOMCTL/SYSCTL_scheduler_op` and the trace class.
//! * The core's error codes and the errno each maps to at the hypercall.
//!
//! Layouts are `#[repr(C)]` with explicit padding and are checked by tests.

/// `SCHEDOP_*` number of the new scheduler hypercall (0..=7 are Xen's own in 4.17).
pub const SCHEDOP_RTSLEEP: u32 = 8;

/// `XEN_SCHEDULER_*` id of `sched=rtcredit` (5..=9 are Xen's own in 4.17).
pub const XEN_SCHEDULER_RTCREDIT: u32 = 10;

/// Argument of `HYPERVISOR_sched_op(SCHEDOP_rtsleep, &arg)`.
///
/// `deadline_ns` is absolute Xen system time (`NOW()` in Xen, the PV clock's
/// `system_time` in the guest). It applies to the calling VCPU only.
///
/// Admission is by period, not by lead: a deadline must be at least the minimum period
/// (default 1 ms, sysctl and boot parameter, floor 100 us) after the last deadline of
/// this VCPU that came due (`-ERANGE` otherwise), and at most the maximum lead (10 s)
/// ahead (`-ERANGE`). How close to now it is does not matter, so a periodic task whose
/// last period woke late can always register the next one. A deadline already due is
/// served at once at RT (the result is `RTSLEEP_GRANTED`; the core asks the host to arm
/// the RT timer in the past, which fires at once) if the domain's RT budget allows, and
/// refused with `-ETIME` if not. The per-domain rate and CPU budget bound how much RT a
/// domain gets; over them a future deadline is `RTSLEEP_DEGRADED`.
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

/// On putinfo, this `cap` leaves the cap unchanged (0 is "no cap", a real value).
pub const DOMCTL_KEEP_CAP: u16 = u16::MAX;
/// On putinfo, this `rt_allowed` leaves the RT permission unchanged.
pub const DOMCTL_KEEP_RT_ALLOWED: u8 = u8::MAX;
/// Index of RT time in [`XenDomctlSchedRtcredit::prio_ns`].
pub const DOMCTL_PRIO_RT: usize = 0;
/// Index of BOOST time in [`XenDomctlSchedRtcredit::prio_ns`].
pub const DOMCTL_PRIO_BOOST: usize = 1;
/// Index of UNDER time in [`XenDomctlSchedRtcredit::prio_ns`].
pub const DOMCTL_PRIO_UNDER: usize = 2;
/// Index of OVER time in [`XenDomctlSchedRtcredit::prio_ns`].
pub const DOMCTL_PRIO_OVER: usize = 3;

/// `struct xen_domctl_sched_rtcredit`: the payload of `XEN_DOMCTL_scheduler_op` for
/// `sched=rtcredit` (the `u.rtcredit` member of `struct xen_domctl_scheduler_op`), as
/// the Xen patch adds it to `public/domctl.h` with `uint64_aligned_t` for the `u64`s.
///
/// Parameters (first 12 bytes): on putinfo, 0 (`weight`, `rt_budget_pct`,
/// `rt_rate_per_s`) and [`DOMCTL_KEEP_CAP`] / [`DOMCTL_KEEP_RT_ALLOWED`] leave a value
/// unchanged; `pad` and `pad2` must be zero (`-EINVAL` otherwise). Getinfo and putinfo
/// both return the values in force and the counters; counters are ignored on input.
/// 104 bytes, 8-byte aligned (checked by tests here and by `_Static_assert`s in C).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct XenDomctlSchedRtcredit {
    /// 1..=65535.
    pub weight: u16,
    /// Percent of one CPU, 0 = no cap.
    pub cap: u16,
    /// 0 or 1: the domain may request RT with `SCHEDOP_rtsleep`.
    pub rt_allowed: u8,
    /// Must be zero.
    pub pad: u8,
    /// RT CPU budget, percent of one CPU, 1..=100.
    pub rt_budget_pct: u16,
    /// RT requests per second, 1..=100000.
    pub rt_rate_per_s: u32,
    /// Must be zero.
    pub pad2: u32,
    /// Nanoseconds run at RT, BOOST, UNDER, OVER (the `DOMCTL_PRIO_*` indices), summed
    /// over the domain's VCPUs. Output only.
    pub prio_ns: [u64; 4],
    /// Valid `SCHEDOP_rtsleep` requests (cancels and refused ones excluded). Output
    /// only, as the five below (the core's `DomainCounters`).
    pub rt_requests: u64,
    /// Requests granted (answered 0).
    pub rt_granted: u64,
    /// Requests or deadlines served as a normal wake: over the RT budget or capped.
    pub rt_degraded: u64,
    /// Requests refused (`-EPERM`, `-ERANGE`, `-ETIME`, `-EINVAL`), plus deadlines that came
    /// due after RT had been revoked.
    pub rt_denied: u64,
    /// Deadlines served at RT.
    pub rt_fires: u64,
    /// RT runs ended (by the tick, by blocking or by a spent budget).
    pub rt_demotions: u64,
    /// The RT capacity of the domain's pool, percent of one CPU (its CPUs x the pool's
    /// `rt_capacity_pct`). Output only, as the next, and also written when a putinfo
    /// is refused with `-ENOSPC` (the grant would exceed it), so that the caller can
    /// say what is left.
    pub rt_pool_capacity_pct: u32,
    /// The RT budgets granted in the domain's pool, summed, percent of one CPU. The
    /// remaining capacity is `rt_pool_capacity_pct - rt_pool_granted_pct` (none when
    /// negative: a CPU left the pool, see the pool rule in `rt::budget`).
    pub rt_pool_granted_pct: u32,
}

/// `struct xen_sysctl_rtcredit_schedule`: the payload of `XEN_SYSCTL_scheduler_op`
/// for `sched=rtcredit` (`u.sched_rtcredit`), for one cpupool. Putinfo sets the first
/// five (read them first to change one; the last three are output only); both return
/// the values in force. Ranges: `params::Params::validate`; lowering the RT capacity
/// below what the pool has granted is refused with `-EBUSY`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct XenSysctlRtcreditSchedule {
    /// Time slice, 1..=1000 ms.
    pub tslice_ms: u32,
    /// 0, or 100..=500000 us and at most the slice.
    pub ratelimit_us: u32,
    /// Minimum RT period (spacing of a VCPU's consecutive deadlines), 100..=1000000 us.
    pub rt_min_period_us: u32,
    /// Maximum RT lead, min period..=60000 ms.
    pub rt_max_lead_ms: u32,
    /// The pool's RT capacity in percent of each of its CPUs, 0..=100.
    pub rt_capacity_pct: u32,
    /// Output: CPUs in the pool.
    pub rt_pool_cpus: u32,
    /// Output: the pool's RT capacity, percent of one CPU (`rt_capacity_pct` x CPUs).
    pub rt_pool_capacity_pct: u32,
    /// Output: the RT budgets granted in the pool, summed, percent of one CPU.
    pub rt_pool_granted_pct: u32,
}

/// Xen's scheduler trace class (`TRC_SCHED_CLASS` in `public/trace.h`).
pub const TRC_SCHED_CLASS: u32 = 0x0002_2000;
/// Our scheduler's index within that class (`TRC_SCHED_CSCHED` is 0 ... `SNULL` 5).
pub const TRC_SCHED_RTCREDIT: u32 = 6;

/// The full 32-bit trace event id of our event `event` (Xen's `TRC_SCHED_CLASS_EVT`:
/// the scheduler index takes the 3 bits above the 9-bit event number).
pub const fn trace_event_id(event: u32) -> u32 {
    TRC_SCHED_CLASS | ((TRC_SCHED_RTCREDIT & 0x7) << 9) | (event & 0x1ff)
}

/// Errno values (Xen's `public/errno.h`, identical to Linux's for these).
pub mod errno {
    pub const EPERM: i32 = 1;
    pub const EAGAIN: i32 = 11;
    pub const EBUSY: i32 = 16;
    pub const EINVAL: i32 = 22;
    pub const ERANGE: i32 = 34;
    pub const ENOSPC: i32 = 28;
    pub const ETIME: i32 = 62;
}

/// Why the core refused an operation. Each rule has its own code; the C ABI returns
/// the negated code, and [`RtcError::errno`] gives the errno for the hypercall.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RtcError {
    /// `SchedRtsleep::pad` is not zero.
    BadPadding = 1,
    /// `SchedRtsleep::flags` has a bit this version does not know.
    UnknownFlags = 2,
    /// The domain has not been allowed RT by dom0.
    NotPermitted = 3,
    /// The deadline is less than the minimum period after the VCPU's last deadline.
    PeriodTooShort = 4,
    /// The deadline is further away than the maximum lead.
    DeadlineTooFar = 5,
    /// `rtsleep` for a unit that is not the one running on the given CPU.
    NotRunning = 6,
    /// The deadline is already due and the domain's RT budget cannot serve it now.
    DeadlineDue = 7,
    /// Time slice outside 1..=1000 ms or not a whole number of milliseconds.
    BadTimeslice = 10,
    /// Rate limit not 0 and outside 100 us..=500 ms, or longer than the time slice.
    BadRatelimit = 11,
    /// Minimum RT period outside 100 us..=1 s.
    BadMinPeriod = 12,
    /// Maximum RT lead below the minimum period or above 60 s.
    BadMaxLead = 13,
    /// RT budget window outside 10 ms..=10 s.
    BadBudgetWindow = 14,
    /// Charge mode is not one of `ChargeMode`'s values.
    BadChargeMode = 15,
    /// RT capacity above 100 percent of each CPU.
    BadRtCapacity = 16,
    /// The new RT capacity is below the RT budgets already granted in the pool.
    RtCapacityBelowGranted = 17,
    /// Weight outside 1..=65535.
    BadWeight = 20,
    /// Cap above 65535 (percent of one CPU; 0 means no cap).
    BadCap = 21,
    /// RT CPU budget outside 1..=100 percent of one CPU.
    BadRtBudget = 22,
    /// RT request rate outside 1..=100000 per second.
    BadRtRate = 23,
    /// Granting this RT budget would take the RT budgets granted in the pool above the
    /// pool's RT capacity.
    RtCapacityExceeded = 24,
    /// A domctl putinfo with a reserved field (`pad`, `pad2`) not zero, or an
    /// `rt_allowed` other than 0, 1 and [`DOMCTL_KEEP_RT_ALLOWED`].
    BadDomctl = 25,
    /// CPU id at or above `MAX_CPUS`.
    CpuOutOfRange = 30,
    /// The CPU still has a running, queued or resident unit.
    CpuNotEmpty = 31,
    /// The CPU was not added (or was already removed).
    CpuNotOnline = 32,
    /// The unit is not resident on the CPU passed with it.
    WrongCpu = 33,
    /// The unit is running and cannot be removed or moved now.
    UnitBusy = 34,
    /// The domain still has units.
    DomainBusy = 35,
    /// A required pointer argument was null.
    NullPointer = 36,
    /// An RT timer fired for a deadline that is no longer registered, or early.
    StaleTimer = 40,
    /// The CPU is already online.
    CpuAlreadyOnline = 41,
    /// The affinity mask has no online CPU.
    EmptyAffinity = 42,
}

impl RtcError {
    /// The errno a hypercall or control operation returns for this error (positive).
    pub const fn errno(self) -> i32 {
        match self {
            RtcError::NotPermitted => errno::EPERM,
            RtcError::PeriodTooShort | RtcError::DeadlineTooFar => errno::ERANGE,
            RtcError::DeadlineDue => errno::ETIME,
            RtcError::CpuNotEmpty | RtcError::UnitBusy | RtcError::DomainBusy | RtcError::RtCapacityBelowGranted => {
                errno::EBUSY
            }
            RtcError::RtCapacityExceeded => errno::ENOSPC,
            RtcError::StaleTimer => errno::EAGAIN,
            _ => errno::EINVAL,
        }
    }

    /// One line for logs and the CLI.
    pub const fn describe(self) -> &'static str {
        match self {
            RtcError::BadPadding => "rtsleep: reserved field 'pad' must be zero",
            RtcError::UnknownFlags => "rtsleep: unknown flag bits",
            RtcError::NotPermitted => "rtsleep: domain is not allowed RT (dom0 must grant it)",
            RtcError::PeriodTooShort => "rtsleep: deadline is less than the minimum period after the last one",
            RtcError::DeadlineTooFar => "rtsleep: deadline is further away than the maximum lead",
            RtcError::NotRunning => "rtsleep: the unit is not running on this CPU",
            RtcError::DeadlineDue => "rtsleep: deadline is already due and the domain is over its RT budget",
            RtcError::BadTimeslice => "time slice must be a whole number of ms in 1..=1000",
            RtcError::BadRatelimit => "rate limit must be 0 or 100us..=500ms and not above the time slice",
            RtcError::BadMinPeriod => "minimum RT period must be in 100us..=1s",
            RtcError::BadMaxLead => "maximum RT lead must be in min_period..=60s",
            RtcError::BadBudgetWindow => "RT budget window must be in 10ms..=10s",
            RtcError::BadChargeMode => "unknown charge mode",
            RtcError::BadRtCapacity => "RT capacity must be in 0..=100 percent of each CPU",
            RtcError::RtCapacityBelowGranted => {
                "RT capacity would fall below the RT budgets already granted in the pool (revoke or lower them first)"
            }
            RtcError::BadWeight => "weight must be in 1..=65535",
            RtcError::BadCap => "cap must be in 0..=65535 (percent of one CPU, 0 = none)",
            RtcError::BadRtBudget => "RT CPU budget must be in 1..=100 percent of one CPU",
            RtcError::BadRtRate => "RT request rate must be in 1..=100000 per second",
            RtcError::RtCapacityExceeded => "RT budget refused: the pool's RT capacity would be exceeded",
            RtcError::BadDomctl => "domctl: pad and pad2 must be zero, rt_allowed 0, 1 or the keep marker",
            RtcError::CpuOutOfRange => "CPU id is at or above MAX_CPUS",
            RtcError::CpuNotEmpty => "CPU still has units",
            RtcError::CpuNotOnline => "CPU is not online in this scheduler",
            RtcError::WrongCpu => "unit is not resident on that CPU",
            RtcError::UnitBusy => "unit is running",
            RtcError::DomainBusy => "domain still has units",
            RtcError::NullPointer => "null pointer argument",
            RtcError::StaleTimer => "RT timer is stale (no such deadline registered, or early)",
            RtcError::CpuAlreadyOnline => "CPU is already online",
            RtcError::EmptyAffinity => "affinity has no online CPU",
        }
    }

    /// The value a C function returns for this error: the negated code.
    pub const fn to_c(self) -> i32 {
        -(self as i32)
    }
}

impl core::fmt::Display for RtcError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.describe())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{align_of, offset_of, size_of};

    #[test]
    fn sched_rtsleep_layout_is_fixed() {
        assert_eq!(size_of::<SchedRtsleep>(), 16);
        assert_eq!(align_of::<SchedRtsleep>(), 8);
        assert_eq!(offset_of!(SchedRtsleep, deadline_ns), 0);
        assert_eq!(offset_of!(SchedRtsleep, flags), 8);
        assert_eq!(offset_of!(SchedRtsleep, pad), 12);
    }

    #[test]
    fn trace_ids_follow_xens_class_encoding() {
        // TRC_SCHED_CLASS_EVT(6, 1) in Xen's public/trace.h.
        assert_eq!(trace_event_id(1), 0x0002_2c01);
        assert_eq!(trace_event_id(0x1ff) & !0x1ff, 0x0002_2c00);
    }

    #[test]
    fn rtsleep_errors_map_to_the_documented_errnos() {
        assert_eq!(RtcError::UnknownFlags.errno(), errno::EINVAL);
        assert_eq!(RtcError::BadPadding.errno(), errno::EINVAL);
        assert_eq!(RtcError::NotPermitted.errno(), errno::EPERM);
        assert_eq!(RtcError::PeriodTooShort.errno(), errno::ERANGE);
        assert_eq!(RtcError::DeadlineDue.errno(), errno::ETIME);
        assert_eq!(RtcError::DeadlineTooFar.errno(), errno::ERANGE);
        assert_eq!(RtcError::NotPermitted.to_c(), -3);
    }

    #[test]
    fn domctl_and_sysctl_payload_layouts_are_fixed() {
        type D = XenDomctlSchedRtcredit;
        assert_eq!((size_of::<D>(), align_of::<D>()), (104, 8));
        let offsets = [
            offset_of!(D, weight),
            offset_of!(D, cap),
            offset_of!(D, rt_allowed),
            offset_of!(D, pad),
            offset_of!(D, rt_budget_pct),
            offset_of!(D, rt_rate_per_s),
            offset_of!(D, pad2),
            offset_of!(D, prio_ns),
            offset_of!(D, rt_requests),
            offset_of!(D, rt_granted),
            offset_of!(D, rt_degraded),
            offset_of!(D, rt_denied),
            offset_of!(D, rt_fires),
            offset_of!(D, rt_demotions),
            offset_of!(D, rt_pool_capacity_pct),
            offset_of!(D, rt_pool_granted_pct),
        ];
        assert_eq!(offsets, [0, 2, 4, 5, 6, 8, 12, 16, 48, 56, 64, 72, 80, 88, 96, 100]);
        type S = XenSysctlRtcreditSchedule;
        assert_eq!((size_of::<S>(), align_of::<S>()), (32, 4));
        assert_eq!(
            [
                offset_of!(S, tslice_ms),
                offset_of!(S, ratelimit_us),
                offset_of!(S, rt_min_period_us),
                offset_of!(S, rt_max_lead_ms),
                offset_of!(S, rt_capacity_pct),
                offset_of!(S, rt_pool_cpus),
                offset_of!(S, rt_pool_capacity_pct),
                offset_of!(S, rt_pool_granted_pct),
            ],
            [0, 4, 8, 12, 16, 20, 24, 28]
        );
        // The domctl payload must fit Xen's scheduler_op union inside xen_domctl's
        // 128-byte union: 8 bytes of sched_id/cmd, then the payload.
        assert!(8 + size_of::<D>() <= 128);
    }
}
