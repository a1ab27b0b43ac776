//! The core's side of the wire ABIs.
//!
//! The ABIs themselves (the `SCHEDOP_rtsleep` hypercall, the domctl and sysctl payloads,
//! the scheduler id, the trace class) are defined once, in the MIT-licensed
//! `rtcredit-abi` crate, and re-exported here so that cbindgen puts them in
//! `rtcredit.h`, the header C includes. What is the core's own is below: its error codes
//! and the errno each maps to at the hypercall.

pub use rtcredit_abi::control::*;
pub use rtcredit_abi::hypercall::*;
pub use rtcredit_abi::trace::{trace_event_id, TRC_SCHED_CLASS, TRC_SCHED_RTCREDIT};

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
}
