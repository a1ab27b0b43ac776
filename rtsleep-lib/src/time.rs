//! Absolute `CLOCK_MONOTONIC` time in nanoseconds, the unit of every deadline here.
//!
//! `std::time::Instant` is the same clock on Linux but hides its value; the device and
//! the C API need the number, so this is a thin, copyable wrapper around it.

use crate::Error;
use std::io;
use std::time::Duration;

/// A point on `CLOCK_MONOTONIC`, in nanoseconds since the clock's (boot-time) epoch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MonoTime(u64);

impl MonoTime {
    /// The time `ns` nanoseconds after the clock's epoch.
    pub const fn from_nanos(ns: u64) -> MonoTime {
        MonoTime(ns)
    }

    /// Nanoseconds since the clock's epoch.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// The current time. `clock_gettime(CLOCK_MONOTONIC)` cannot fail on Linux with a
    /// valid pointer; should it, this returns the error rather than a wrong time.
    pub fn now() -> Result<MonoTime, Error> {
        let ts = nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC)
            .map_err(|errno| Error::Clock { call: "clock_gettime(CLOCK_MONOTONIC)", source: io::Error::from(errno) })?;
        Ok(MonoTime::from_timespec(ts.as_ref()))
    }

    /// Converts a non-negative timespec (negative fields count as zero).
    pub fn from_timespec(ts: &libc::timespec) -> MonoTime {
        let secs = u64::try_from(ts.tv_sec).unwrap_or(0);
        let nanos = u64::try_from(ts.tv_nsec).unwrap_or(0);
        MonoTime(secs.saturating_mul(1_000_000_000).saturating_add(nanos))
    }

    /// The same time as a timespec.
    pub fn to_timespec(self) -> libc::timespec {
        libc::timespec {
            tv_sec: libc::time_t::try_from(self.0 / 1_000_000_000).unwrap_or(libc::time_t::MAX),
            // Below 10^9: always fits in c_long.
            tv_nsec: (self.0 % 1_000_000_000) as libc::c_long,
        }
    }

    /// `self + d`, or `None` if it does not fit in 64-bit nanoseconds.
    pub fn checked_add(self, d: Duration) -> Option<MonoTime> {
        let d = u64::try_from(d.as_nanos()).ok()?;
        self.0.checked_add(d).map(MonoTime)
    }

    /// `self - earlier`, or zero if `earlier` is later.
    pub fn saturating_duration_since(self, earlier: MonoTime) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timespec_round_trip_and_arithmetic() {
        let t = MonoTime::from_nanos(3_000_000_123);
        let ts = t.to_timespec();
        assert_eq!((ts.tv_sec, ts.tv_nsec), (3, 123));
        assert_eq!(MonoTime::from_timespec(&ts), t);
        assert_eq!(t.checked_add(Duration::from_nanos(7)), Some(MonoTime::from_nanos(3_000_000_130)));
        assert_eq!(MonoTime::from_nanos(u64::MAX).checked_add(Duration::from_nanos(1)), None);
        assert_eq!(t.saturating_duration_since(MonoTime::from_nanos(4_000_000_000)), Duration::ZERO);
    }

    #[test]
    fn now_is_monotonic() {
        let a = MonoTime::now().expect("clock");
        let b = MonoTime::now().expect("clock");
        assert!(b >= a);
    }
}
