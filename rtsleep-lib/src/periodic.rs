//! A periodic loop on absolute deadlines: the n-th wake-up is due at `start + n * period`,
//! whatever happened before, so lateness never accumulates into drift.
//!
//! When the caller is so late that one or more deadlines have already passed when it
//! asks for the next, those periods are skipped (counted as overruns, reported in
//! [`Tick::missed`]) and the loop waits for the next deadline still ahead, keeping its
//! phase. Lateness is measured as the time between the deadline and the moment the
//! sleep returned, as cyclictest does.

use crate::{Error, MonoTime, Sleeper};
use std::time::Duration;

/// One wake-up of a [`Periodic`] loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tick {
    /// The deadline this wake-up was due at.
    pub deadline: MonoTime,
    /// When the sleep returned.
    pub woke: MonoTime,
    /// `woke - deadline` (zero if the clock said earlier).
    pub lateness: Duration,
    /// Deadlines skipped just before this one because the caller overran its period.
    pub missed: u64,
}

/// Periodic wake-ups on absolute deadlines; see the module doc.
#[derive(Debug)]
pub struct Periodic<'a> {
    sleeper: &'a Sleeper,
    period_ns: u64,
    next: MonoTime,
    overruns: u64,
}

impl<'a> Periodic<'a> {
    pub(crate) fn new(sleeper: &'a Sleeper, period: Duration) -> Result<Periodic<'a>, Error> {
        let period_ns = u64::try_from(period.as_nanos()).map_err(|_| Error::DeadlineOverflow(period))?;
        if period_ns == 0 {
            return Err(Error::ZeroPeriod);
        }
        let next = MonoTime::now()?.checked_add(period).ok_or(Error::DeadlineOverflow(period))?;
        Ok(Periodic { sleeper, period_ns, next, overruns: 0 })
    }

    /// The period.
    pub fn period(&self) -> Duration {
        Duration::from_nanos(self.period_ns)
    }

    /// The deadline the next [`Periodic::wait`] sleeps until (before any skipping).
    pub fn next_deadline(&self) -> MonoTime {
        self.next
    }

    /// Deadlines skipped so far because the caller overran.
    pub fn overruns(&self) -> u64 {
        self.overruns
    }

    /// Sleeps until the next deadline still ahead and returns how it went.
    pub fn wait(&mut self) -> Result<Tick, Error> {
        let now = MonoTime::now()?;
        let mut missed = 0;
        if now.as_nanos() > self.next.as_nanos() {
            // Whole periods already past (the deadline `next` itself is still served late
            // if less than one period has passed since it).
            missed = (now.as_nanos() - self.next.as_nanos()) / self.period_ns;
            self.next = self.advance(missed)?;
        }
        let deadline = self.next;
        self.sleeper.sleep_until(deadline)?;
        let woke = MonoTime::now()?;
        self.overruns += missed;
        self.next = self.advance(1)?;
        Ok(Tick { deadline, woke, lateness: woke.saturating_duration_since(deadline), missed })
    }

    fn advance(&self, periods: u64) -> Result<MonoTime, Error> {
        let step = Duration::from_nanos(self.period_ns).saturating_mul(u32::try_from(periods).unwrap_or(u32::MAX));
        periods
            .checked_mul(self.period_ns)
            .and_then(|ns| self.next.as_nanos().checked_add(ns))
            .map(MonoTime::from_nanos)
            .ok_or(Error::DeadlineOverflow(step))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_are_exact_multiples_of_the_period() {
        let sleeper = Sleeper::fallback();
        let mut periodic = sleeper.periodic(Duration::from_millis(1)).expect("periodic");
        let first = periodic.next_deadline();
        let mut last = first;
        for n in 0..5u64 {
            let tick = periodic.wait().expect("wait");
            assert!(tick.deadline.as_nanos() >= first.as_nanos() + n * 1_000_000);
            assert_eq!((tick.deadline.as_nanos() - first.as_nanos()) % 1_000_000, 0);
            assert!(tick.woke >= tick.deadline);
            last = tick.deadline;
        }
        assert!(last > first);
    }

    #[test]
    fn an_overrun_skips_whole_periods_and_keeps_the_phase() {
        let sleeper = Sleeper::fallback();
        let mut periodic = sleeper.periodic(Duration::from_millis(1)).expect("periodic");
        let first = periodic.next_deadline();
        std::thread::sleep(Duration::from_millis(4));
        let tick = periodic.wait().expect("wait");
        assert!(tick.missed >= 2, "missed {}", tick.missed);
        assert_eq!(periodic.overruns(), tick.missed);
        assert_eq!((tick.deadline.as_nanos() - first.as_nanos()) % 1_000_000, 0);
    }

    #[test]
    fn zero_period_is_refused() {
        let sleeper = Sleeper::fallback();
        assert!(matches!(sleeper.periodic(Duration::ZERO), Err(Error::ZeroPeriod)));
    }
}
