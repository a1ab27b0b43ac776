//! The per-domain RT budget, counted in fixed windows (default 1 s): a share of one CPU
//! spent at RT (default 10%) and a number of requests (default 1000 per second). Pure
//! arithmetic over the domain's lock-free counters; the rule that uses it is the parent
//! module's. Depends on nothing but [`crate::state`], so that the run-queue primitives
//! can charge RT time without importing the RT rule.

use core::sync::atomic::Ordering;

use crate::state::{DomainLive, Shared, RELAXED};

/// Why a request or a fire is served as a normal wake (the `RT_DEGRADE` trace word).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Degrade {
    CpuShare = 1,
    Rate = 2,
    Capped = 3,
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

/// The domain's RT CPU allowance per window, in ns.
fn rt_allowance_ns(shared: &Shared, live: &DomainLive) -> u64 {
    let window_ns = shared.rt_window_ns.load(RELAXED);
    window_ns / 100 * u64::from(live.rt_budget_pct.load(RELAXED))
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
pub(crate) fn count_request(shared: &Shared, live: &DomainLive, now: u64) -> Option<Degrade> {
    roll_window(shared, live, now);
    let requests = live.window_requests.fetch_add(1, RELAXED).saturating_add(1);
    if requests > live.rt_rate_per_s.load(RELAXED).saturating_mul(windows_per_second(shared)) {
        Some(Degrade::Rate)
    } else if share_exhausted(shared, live, now) {
        Some(Degrade::CpuShare)
    } else {
        None
    }
}
