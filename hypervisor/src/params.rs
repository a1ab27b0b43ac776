//! Global parameters and their validation.
//!
//! Units: every time is in nanoseconds of the host's clock (Xen system time). The
//! ranges follow Xen's credit scheduler where it has one (time slice 1..=1000 ms,
//! rate limit 100 us..=500 ms and not above the slice); the RT ones are ours.

use crate::abi::{
    RtcError, XenSysctlRtcreditSchedule, DEFAULT_MAX_LEAD_NS, DEFAULT_MIN_PERIOD_NS, MIN_PERIOD_FLOOR_NS,
};

const US: u64 = 1_000;
const MS: u64 = 1_000_000;
const S: u64 = 1_000_000_000;

/// How a running unit pays for CPU time.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChargeMode {
    /// Xen 4.17: the exact run time, measured at every deschedule and tick.
    Measured = 0,
    /// The credit scheduler of the paper's era (Xen 3.x/4.0): whoever is running when
    /// a tick fires pays a whole tick's worth of credit, nobody else pays anything.
    /// Kept only so the simulator can reproduce the paper; never a default.
    TickSampled = 1,
}

impl ChargeMode {
    pub const fn from_u32(value: u32) -> Option<ChargeMode> {
        match value {
            0 => Some(ChargeMode::Measured),
            1 => Some(ChargeMode::TickSampled),
            _ => None,
        }
    }
}

/// Global scheduler parameters (`XEN_SYSCTL_scheduler_op` for `sched=rtcredit`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Params {
    /// Time slice and accounting period. Default 30 ms. The tick is a third of it.
    pub tslice_ns: u64,
    /// A unit is not preempted before it ran this long (0 = off). Default 1 ms.
    pub ratelimit_ns: u64,
    /// A VCPU's consecutive RT deadlines must be at least this far apart (a deadline at
    /// least this long after the last one served). Default 1 ms, 100 us..=1 s.
    pub rt_min_period_ns: u64,
    /// An RT deadline may be at most this far ahead. Default 10 s, min period..=60 s.
    pub rt_max_lead_ns: u64,
    /// Length of the window over which per-domain RT budgets are counted. Default 1 s.
    pub rt_budget_window_ns: u64,
    /// A [`ChargeMode`] value. Default `Measured`.
    pub charge_mode: u32,
    /// The pool's RT capacity, in percent of each of its CPUs: the RT budgets granted to
    /// its domains may add up to this times the number of CPUs, in percent of one CPU
    /// (see `crate::rt::budget`). Default 50 (half of the pool's CPUs), 0..=100.
    pub rt_capacity_pct: u32,
}

impl Default for Params {
    fn default() -> Params {
        Params {
            tslice_ns: 30 * MS,
            ratelimit_ns: MS,
            rt_min_period_ns: DEFAULT_MIN_PERIOD_NS,
            rt_max_lead_ns: DEFAULT_MAX_LEAD_NS,
            rt_budget_window_ns: S,
            charge_mode: ChargeMode::Measured as u32,
            rt_capacity_pct: DEFAULT_RT_CAPACITY_PCT,
        }
    }
}

impl Params {
    /// What a sysctl putinfo asks of a pool whose parameters are `self`: its five
    /// settable fields in their units (ms, us), the rest (the budget window, the charge
    /// mode: boot parameters only) as they are. The one reading of the payload, for
    /// Xen's shim (`rtcredit_sysctl_putinfo`) and `rtcredit-ctl`; validate the result.
    pub fn with_sysctl(&self, put: &XenSysctlRtcreditSchedule) -> Params {
        Params {
            tslice_ns: u64::from(put.tslice_ms) * MS,
            ratelimit_ns: u64::from(put.ratelimit_us) * US,
            rt_min_period_ns: u64::from(put.rt_min_period_us) * US,
            rt_max_lead_ns: u64::from(put.rt_max_lead_ms) * MS,
            rt_capacity_pct: put.rt_capacity_pct,
            ..*self
        }
    }

    /// The five parameter fields of a sysctl answer, in its units (valid parameters
    /// are whole ms and us where the payload says so, and fit its fields).
    pub fn write_sysctl(&self, out: &mut XenSysctlRtcreditSchedule) {
        let narrow = |value: u64| value.min(u64::from(u32::MAX)) as u32;
        out.tslice_ms = narrow(self.tslice_ns / MS);
        out.ratelimit_us = narrow(self.ratelimit_ns / US);
        out.rt_min_period_us = narrow(self.rt_min_period_ns / US);
        out.rt_max_lead_ms = narrow(self.rt_max_lead_ns / MS);
        out.rt_capacity_pct = self.rt_capacity_pct;
    }

    /// Checks every rule; the first broken one is returned.
    pub fn validate(&self) -> Result<(), RtcError> {
        if self.tslice_ns % MS != 0 || !(MS..=1000 * MS).contains(&self.tslice_ns) {
            return Err(RtcError::BadTimeslice);
        }
        if self.ratelimit_ns != 0
            && (!(100 * US..=500 * MS).contains(&self.ratelimit_ns) || self.ratelimit_ns > self.tslice_ns)
        {
            return Err(RtcError::BadRatelimit);
        }
        if !(MIN_PERIOD_FLOOR_NS..=S).contains(&self.rt_min_period_ns) {
            return Err(RtcError::BadMinPeriod);
        }
        if !(self.rt_min_period_ns..=60 * S).contains(&self.rt_max_lead_ns) {
            return Err(RtcError::BadMaxLead);
        }
        if !(10 * MS..=10 * S).contains(&self.rt_budget_window_ns) {
            return Err(RtcError::BadBudgetWindow);
        }
        if ChargeMode::from_u32(self.charge_mode).is_none() {
            return Err(RtcError::BadChargeMode);
        }
        if self.rt_capacity_pct > 100 {
            return Err(RtcError::BadRtCapacity);
        }
        Ok(())
    }

    /// The accounting tick: a third of the slice, as Xen's credit (the whole slice when
    /// the slice is shorter than 3 ms).
    pub const fn tick_ns(&self) -> u64 {
        if self.tslice_ns < 3 * MS {
            self.tslice_ns
        } else {
            self.tslice_ns / 3
        }
    }

    /// Credits handed out per CPU per slice (10 per ms, as Xen).
    pub const fn credits_per_tslice(&self) -> i32 {
        (self.tslice_ns / MS * CREDITS_PER_MS as u64) as i32
    }
}

/// The RT quantum: the most a unit runs at RT per deadline (500 us). See `crate::rt`
/// for how it is derived.
pub const RT_QUANTUM_NS: u64 = 500_000;
/// Credits per millisecond of CPU (Xen's `CSCHED_CREDITS_PER_MSEC`).
pub const CREDITS_PER_MS: i32 = 10;
/// Default domain weight (Xen's `CSCHED_DEFAULT_WEIGHT`).
pub const DEFAULT_WEIGHT: u32 = 256;
/// Shortest slice the core asks for when it honours the rate limit (Xen's
/// `CSCHED_MIN_TIMER`, 100 us).
pub const MIN_TIMER_NS: u64 = 100_000;
/// Default RT CPU budget of a domain that is allowed RT: percent of one CPU.
pub const DEFAULT_RT_BUDGET_PCT: u32 = 10;
/// Default RT capacity of a pool: percent of each of its CPUs (half the pool's CPUs).
pub const DEFAULT_RT_CAPACITY_PCT: u32 = 50;
/// Default RT request rate of a domain that is allowed RT: requests per second.
pub const DEFAULT_RT_RATE: u32 = 1000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_xens_and_the_papers() {
        let p = Params::default();
        assert_eq!(p.validate(), Ok(()));
        assert_eq!(p.tick_ns(), 10 * MS);
        assert_eq!(p.credits_per_tslice(), 300);
        assert_eq!(p.rt_min_period_ns, MS);
    }

    #[test]
    fn each_rule_has_its_error() {
        let ok = Params::default();
        let cases: [(Params, RtcError); 10] = [
            (Params { tslice_ns: 0, ..ok }, RtcError::BadTimeslice),
            (Params { tslice_ns: 30 * MS + 1, ..ok }, RtcError::BadTimeslice),
            (Params { tslice_ns: 1001 * MS, ..ok }, RtcError::BadTimeslice),
            (Params { ratelimit_ns: 99 * US, ..ok }, RtcError::BadRatelimit),
            (Params { tslice_ns: MS, ratelimit_ns: 2 * MS, ..ok }, RtcError::BadRatelimit),
            (Params { rt_min_period_ns: 99 * US, ..ok }, RtcError::BadMinPeriod),
            (Params { rt_min_period_ns: 2 * MS, rt_max_lead_ns: MS, ..ok }, RtcError::BadMaxLead),
            (Params { rt_budget_window_ns: MS, ..ok }, RtcError::BadBudgetWindow),
            (Params { charge_mode: 7, ..ok }, RtcError::BadChargeMode),
            (Params { rt_capacity_pct: 101, ..ok }, RtcError::BadRtCapacity),
        ];
        for (params, error) in cases {
            assert_eq!(params.validate(), Err(error), "{params:?}");
        }
        assert_eq!(Params { ratelimit_ns: 0, ..ok }.validate(), Ok(()));
        assert_eq!(Params { rt_min_period_ns: 100 * US, ..ok }.validate(), Ok(()), "the floor itself");
        assert_eq!(Params { rt_capacity_pct: 0, ..ok }.validate(), Ok(()), "a pool without RT");
        assert_eq!(Params { rt_capacity_pct: 100, ..ok }.validate(), Ok(()));
        assert_eq!(Params { tslice_ns: MS, ratelimit_ns: 0, ..ok }.tick_ns(), MS);
    }
}
