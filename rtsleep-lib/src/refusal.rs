//! A refusal of RT that does not stick: [`Refusal`], shared by [`crate::Sleeper`] and
//! the preload shim.
//!
//! When the device says RT is refused (`rt_state` EPERM: dom0 has not allowed this domain
//! RT; EOPNOTSUPP: Xen does not run `rtcredit`, or is a stock Xen), the answer can change
//! while the program runs: dom0 grants RT with `rtcredit-ctl dom NAME --rt allow`, or the
//! domain moves to a pool that runs `rtcredit`. So a refusal holds for
//! [`REPROBE_INTERVAL`] only: meanwhile sleeps take the fallback; after it, one sleep
//! (one thread's, whichever comes first) goes through the device again, and what the
//! device says after it decides the next interval. The module applies the same interval
//! to its own hypercalls (`guest-kmod`: after a refusal it does not ask Xen again for
//! 1 s), so a probe sleep costs no hypercall while the module's own back-off runs, and
//! is never worse than the fallback: the device's wake-up is a plain hrtimer.
//!
//! "Not on Xen" is not a refusal: it cannot change, and the callers treat it as final.

use crate::abi;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// How long a refusal holds before the device is tried again (the module's back-off).
pub const REPROBE_INTERVAL: Duration = Duration::from_secs(1);
const REPROBE_INTERVAL_NS: u64 = REPROBE_INTERVAL.as_nanos() as u64;

/// Whether `rt_state` is a refusal that may change (EPERM, EOPNOTSUPP).
pub fn is_refusal(rt_state: u32) -> bool {
    matches!(rt_state, abi::RTSLEEP_RT_EPERM | abi::RTSLEEP_RT_EOPNOTSUPP)
}

/// The last refusal the device reported and until when it holds. Thread-safe.
#[derive(Debug, Default)]
pub struct Refusal {
    /// `RTSLEEP_RT_EPERM` or `RTSLEEP_RT_EOPNOTSUPP`, or 0 (no refusal).
    rt_state: AtomicU32,
    /// `CLOCK_MONOTONIC` ns until which the refusal holds.
    until_ns: AtomicU64,
}

/// What a sleep should do, from [`Refusal::decide`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// No refusal: use the device.
    Device,
    /// The refusal holds: use the fallback.
    Fallback,
    /// The refusal is over: use the device for this sleep, then [`Refusal::note`] what
    /// the device says.
    Probe,
}

impl Refusal {
    pub const fn new() -> Refusal {
        Refusal { rt_state: AtomicU32::new(0), until_ns: AtomicU64::new(0) }
    }

    /// Records what the device says (`rt_state`) at `now_ns`: a refusal holds from now
    /// for [`REPROBE_INTERVAL`]; any other state clears it.
    pub fn note(&self, rt_state: u32, now_ns: u64) {
        if is_refusal(rt_state) {
            self.until_ns.store(now_ns.saturating_add(REPROBE_INTERVAL_NS), Relaxed);
            self.rt_state.store(rt_state, Relaxed);
        } else {
            self.rt_state.store(0, Relaxed);
        }
    }

    /// The refusal in force (`rt_state`), if any, including one whose interval is over
    /// but that no probe has cleared yet.
    pub fn current(&self) -> Option<u32> {
        Some(self.rt_state.load(Relaxed)).filter(|&s| s != 0)
    }

    /// Where a sleep starting at `now_ns` goes. Of the sleeps that find the interval over,
    /// one gets [`Decision::Probe`] and moves the interval on; the others fall back.
    pub fn decide(&self, now_ns: u64) -> Decision {
        if self.current().is_none() {
            return Decision::Device;
        }
        let until = self.until_ns.load(Relaxed);
        if now_ns < until {
            return Decision::Fallback;
        }
        match self.until_ns.compare_exchange(until, now_ns.saturating_add(REPROBE_INTERVAL_NS), Relaxed, Relaxed) {
            Ok(_) => Decision::Probe,
            Err(_) => Decision::Fallback,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    #[test]
    fn no_refusal_means_the_device() {
        let r = Refusal::new();
        assert_eq!(r.decide(5 * S), Decision::Device);
        r.note(abi::RTSLEEP_RT_ACCEPTED, 5 * S);
        assert_eq!(r.decide(5 * S), Decision::Device);
        assert_eq!(r.current(), None);
    }

    #[test]
    fn a_refusal_holds_for_the_interval_then_one_sleep_probes() {
        let r = Refusal::new();
        r.note(abi::RTSLEEP_RT_EPERM, 10 * S);
        assert_eq!(r.current(), Some(abi::RTSLEEP_RT_EPERM));
        assert_eq!(r.decide(10 * S), Decision::Fallback);
        assert_eq!(r.decide(11 * S - 1), Decision::Fallback);
        assert_eq!(r.decide(11 * S), Decision::Probe);
        // The probe moved the interval on: the next sleeps fall back meanwhile.
        assert_eq!(r.decide(11 * S), Decision::Fallback);
        assert_eq!(r.decide(12 * S - 1), Decision::Fallback);
    }

    #[test]
    fn a_probe_that_finds_rt_accepted_ends_the_refusal() {
        let r = Refusal::new();
        r.note(abi::RTSLEEP_RT_EOPNOTSUPP, 0);
        assert_eq!(r.decide(S), Decision::Probe);
        r.note(abi::RTSLEEP_RT_ACCEPTED, S + 10);
        assert_eq!(r.decide(S + 20), Decision::Device);
    }

    #[test]
    fn a_probe_that_is_refused_again_starts_a_new_interval() {
        let r = Refusal::new();
        r.note(abi::RTSLEEP_RT_EPERM, 0);
        assert_eq!(r.decide(3 * S), Decision::Probe);
        r.note(abi::RTSLEEP_RT_EPERM, 3 * S + 5);
        assert_eq!(r.decide(4 * S), Decision::Fallback);
        assert_eq!(r.decide(4 * S + 5), Decision::Probe);
    }

    #[test]
    fn only_eperm_and_eopnotsupp_are_refusals() {
        assert!(is_refusal(abi::RTSLEEP_RT_EPERM) && is_refusal(abi::RTSLEEP_RT_EOPNOTSUPP));
        for state in [abi::RTSLEEP_RT_UNKNOWN, abi::RTSLEEP_RT_ACCEPTED, abi::RTSLEEP_RT_NOT_XEN, 99] {
            assert!(!is_refusal(state), "{state}");
        }
    }
}
