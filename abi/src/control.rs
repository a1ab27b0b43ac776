// SPDX-License-Identifier: MIT
//! Dom0's control of `sched=rtcredit`: the payloads of `XEN_DOMCTL_scheduler_op`
//! (per domain) and `XEN_SYSCTL_scheduler_op` (per cpupool).
//!
//! The Xen patch declares the same structs in `public/domctl.h` and `public/sysctl.h`
//! (checked against these by the repository's patch tests and by `_Static_assert`s in
//! C); the core reads and answers them (`DomainParams::with_domctl`,
//! `Params::with_sysctl`), `rtcredit-ctl` and the toolstack patch fill them.

/// `XEN_SCHEDULER_*` id of `sched=rtcredit` (5..=9 are Xen's own in 4.17).
pub const XEN_SCHEDULER_RTCREDIT: u32 = 10;

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
/// 104 bytes, 8-byte aligned.
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
    /// The domain's RT counters. Output only.
    pub rt_counters: RtCounters,
    /// The RT capacity of the domain's pool, percent of one CPU (its CPUs x the pool's
    /// `rt_capacity_pct`). Output only, as the next, and also written when a putinfo
    /// is refused with `-ENOSPC` (the grant would exceed it), so that the caller can
    /// say what is left.
    pub rt_pool_capacity_pct: u32,
    /// The RT budgets granted in the domain's pool, summed, percent of one CPU. The
    /// remaining capacity is `rt_pool_capacity_pct - rt_pool_granted_pct` (none when
    /// negative: a CPU left the pool).
    pub rt_pool_granted_pct: u32,
}

/// A domain's RT counters since it was created, summed over its VCPUs: the one
/// declaration that the core keeps, the domctl carries (the Xen patch's public header
/// spells its six fields out in place, the same layout) and `rtcredit-ctl` and the
/// end-to-end report print (their JSON keys are the field names).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct RtCounters {
    /// Valid `SCHEDOP_rtsleep` requests (cancels and refused ones excluded).
    pub rt_requests: u64,
    /// Requests granted (answered 0).
    pub rt_granted: u64,
    /// Requests or deadlines served as a normal wake: over the RT budget or capped.
    pub rt_degraded: u64,
    /// Requests refused (`-EPERM`, `-ERANGE`, `-ETIME`, `-EINVAL`), plus deadlines that
    /// came due after RT had been revoked.
    pub rt_denied: u64,
    /// Deadlines served at RT.
    pub rt_fires: u64,
    /// RT runs ended (by blocking, the next rtsleep, a spent budget or the grant's limit).
    pub rt_demotions: u64,
}

/// `struct xen_sysctl_rtcredit_schedule`: the payload of `XEN_SYSCTL_scheduler_op`
/// for `sched=rtcredit` (`u.sched_rtcredit`), for one cpupool. Putinfo sets the first
/// five (read them first to change one; the last three are output only); both return
/// the values in force. Ranges: the core's `Params::validate`; lowering the RT capacity
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
