//! The per-domain RT budget, counted in fixed windows (default 1 s): a share of one CPU
//! spent at RT (default 10%) and a number of requests (default 1000 per second). Pure
//! arithmetic over the domain's lock-free counters; the rule that uses it is the parent
//! module's. Depends on nothing but [`crate::state`], so that the run-queue primitives
//! can charge RT time without importing the RT rule.
//!
//! # The pool's RT capacity
//!
//! Budgets are per domain, so without a bound on their sum dom0 could grant RT until
//! nothing is left for anyone else (two domains at 100% on 2 CPUs cut an I/O domain from
//! 10% of the CPU to 1%). Each scheduler instance (one cpupool in Xen) therefore has an
//! **RT capacity** `C = c x n`, in percent of one CPU: `c` the percent of each CPU RT
//! may take (`Params::rt_capacity_pct`, default 50, so half of the pool's CPUs; boot
//! parameter and sysctl in Xen), `n` the pool's CPUs. The granted sum `G` is the sum of
//! the RT budgets of the pool's domains that are allowed RT. The rule ([`admit`]), the
//! one place where it lives, applied by `Accounting::set_domain_params`:
//!
//! * a change of a domain's RT permission or budget that **raises** its share of `G`
//!   (allowing RT, a larger budget) is refused (`RtCapacityExceeded`, `-ENOSPC`) when
//!   it would take `G` above `C`; the caller reads `Accounting::rt_capacity` for the
//!   remaining capacity `C - G`, which Xen's domctl returns in its output fields;
//! * a change that lowers or keeps it (revoking RT, a smaller budget, a weight) is
//!   always accepted, so an administrator can always get back under the capacity;
//! * lowering `c` below what is granted (`set_params`) is refused
//!   (`RtCapacityBelowGranted`, `-EBUSY`): revoke or lower budgets first;
//! * a CPU leaving the pool cannot be refused (Xen's cpupool and hot-unplug code does
//!   not ask the scheduler), so `C` may fall below `G`. Then every domain's RT
//!   allowance per window is scaled by `C / G` (`rt_allowance_ns`), so that the RT
//!   time the pool's domains may take together still fits `C`; the configured budgets
//!   stay as they are (`getinfo` shows them) and apply in full again once a CPU comes
//!   back or budgets are lowered, and grants that raise `G` are refused until `G <= C`.
//!   So the RT time in force never exceeds the capacity, whatever happens;
//! * a domain that leaves the pool (destroyed, or moved to another cpupool) gives its
//!   share back (`Accounting::release_domain`); a domain that arrives in a pool starts
//!   without RT, and its old permission and budget are carried over only through the
//!   same admission: the shim asks for them in the new pool with
//!   `set_domain_params`, and a refusal leaves the domain without RT there (and says
//!   so in Xen's log).

use core::sync::atomic::Ordering;

use crate::abi::{RtcError, XenDomctlSchedRtcredit, XenSysctlRtcreditSchedule};
use crate::state::{DomainLive, Shared, RELAXED};
use crate::trace::DegradeReason;

/// A pool's RT capacity and what is granted of it, all in percent of one CPU.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RtCapacity {
    /// Percent of each CPU RT may take (`Params::rt_capacity_pct`).
    pub per_cpu_pct: u32,
    /// CPUs in the pool.
    pub nr_cpus: u32,
    /// The capacity: `per_cpu_pct x nr_cpus`.
    pub capacity_pct: u32,
    /// Sum of the RT budgets of the domains allowed RT.
    pub granted_pct: u32,
}

impl RtCapacity {
    /// The pool fields of a getinfo or putinfo answer, also written when a putinfo is
    /// refused for capacity, so that the caller can say what is left.
    pub fn write_domctl(&self, out: &mut XenDomctlSchedRtcredit) {
        out.rt_pool_capacity_pct = self.capacity_pct;
        out.rt_pool_granted_pct = self.granted_pct;
    }

    /// The pool fields of a sysctl answer.
    pub fn write_sysctl(&self, out: &mut XenSysctlRtcreditSchedule) {
        out.rt_pool_cpus = self.nr_cpus;
        out.rt_pool_capacity_pct = self.capacity_pct;
        out.rt_pool_granted_pct = self.granted_pct;
    }

    /// The capacity of a pool of `nr_cpus` CPUs at `per_cpu_pct`, with `granted_pct` granted.
    pub const fn new(per_cpu_pct: u32, nr_cpus: u32, granted_pct: u32) -> RtCapacity {
        RtCapacity { per_cpu_pct, nr_cpus, capacity_pct: per_cpu_pct.saturating_mul(nr_cpus), granted_pct }
    }

    /// What may still be granted (0 when the pool is at or over its capacity).
    pub const fn remaining_pct(&self) -> u32 {
        self.capacity_pct.saturating_sub(self.granted_pct)
    }
}

/// What a domain takes of its pool's RT capacity: its budget when it is allowed RT.
pub const fn rt_share_pct(rt_allowed: bool, rt_budget_pct: u32) -> u32 {
    if rt_allowed {
        rt_budget_pct
    } else {
        0
    }
}

/// The pool rule (see the module docs): may a domain's share of the capacity go from
/// `old_pct` to `new_pct`? Returns the new granted sum. (Public so that a stand-in for
/// Xen, as `rtcredit-ctl`'s test backend, applies the same rule.)
pub fn admit(capacity: &RtCapacity, old_pct: u32, new_pct: u32) -> Result<u32, RtcError> {
    let granted = capacity.granted_pct.saturating_sub(old_pct).saturating_add(new_pct);
    if new_pct > old_pct && granted > capacity.capacity_pct {
        return Err(RtcError::RtCapacityExceeded);
    }
    Ok(granted)
}

/// Makes the capacity and the granted sum visible to the lock-free budget arithmetic.
pub(crate) fn publish_capacity(shared: &Shared, capacity: &RtCapacity) {
    shared.rt_capacity_pct.store(capacity.capacity_pct, RELAXED);
    shared.rt_granted_pct.store(capacity.granted_pct, RELAXED);
}

/// Starts a new budget window for the domain if `now` is past its window.
fn roll_window(shared: &Shared, live: &DomainLive, now: u64) {
    let window_ns = shared.rt_window_ns.load(RELAXED).max(1);
    let id = now / window_ns;
    let seen = live.window_id.load(Ordering::Acquire);
    if seen != id && live.window_id.compare_exchange(seen, id, Ordering::AcqRel, Ordering::Acquire).is_ok() {
        live.window_rt_ns.store(0, RELAXED);
        live.window_requests.store(0, RELAXED);
    }
}

/// The domain's RT CPU allowance per window, in ns: its budget, scaled by `C / G` while
/// a CPU's departure leaves the pool's granted sum `G` above its capacity `C`. Rounded
/// down, so the allowances of the pool's domains add up to at most `C` per window.
pub(crate) fn rt_allowance_ns(shared: &Shared, live: &DomainLive) -> u64 {
    let window_ns = shared.rt_window_ns.load(RELAXED);
    let budget_ns = window_ns / 100 * u64::from(live.rt_budget_pct.load(RELAXED));
    let capacity = u64::from(shared.rt_capacity_pct.load(RELAXED));
    let granted = u64::from(shared.rt_granted_pct.load(RELAXED));
    if granted <= capacity {
        budget_ns
    } else {
        // granted > capacity >= 0, so the division is by a positive number; `budget_ns`
        // is at most a 10 s window (1e10 ns), `capacity` at most 100 x 256 CPUs: the
        // product stays far below u64::MAX.
        budget_ns.saturating_mul(capacity).checked_div(granted).unwrap_or(0)
    }
}

/// The rate is per second; a window of W seconds allows W times as many. Windows
/// shorter than a second allow the per-second rate (rounded up to whole seconds).
fn windows_per_second(shared: &Shared) -> u32 {
    let window_ns = shared.rt_window_ns.load(RELAXED);
    (window_ns.div_ceil(1_000_000_000)).clamp(1, u64::from(u32::MAX)) as u32
}

/// Adds RT run time to the domain's budget use.
pub(crate) fn charge_rt_time(shared: &Shared, live: &DomainLive, elapsed_ns: u64, now: u64) {
    roll_window(shared, live, now);
    live.window_rt_ns.fetch_add(elapsed_ns, RELAXED);
}

/// RT CPU time the domain may still use in the current window.
pub(crate) fn rt_budget_left_ns(shared: &Shared, live: &DomainLive, now: u64) -> u64 {
    roll_window(shared, live, now);
    rt_allowance_ns(shared, live).saturating_sub(live.window_rt_ns.load(RELAXED))
}

/// Whether the domain's RT CPU share for this window is used up.
pub(crate) fn share_exhausted(shared: &Shared, live: &DomainLive, now: u64) -> bool {
    rt_budget_left_ns(shared, live, now) == 0
}

/// Counts one request against the window's rate; says why it cannot be served at RT
/// (rate exceeded, or CPU share used up), if it cannot.
pub(crate) fn count_request(shared: &Shared, live: &DomainLive, now: u64) -> Option<DegradeReason> {
    roll_window(shared, live, now);
    let requests = live.window_requests.fetch_add(1, RELAXED).saturating_add(1);
    if requests > live.rt_rate_per_s.load(RELAXED).saturating_mul(windows_per_second(shared)) {
        Some(DegradeReason::Rate)
    } else if share_exhausted(shared, live, now) {
        Some(DegradeReason::CpuShare)
    } else {
        None
    }
}
