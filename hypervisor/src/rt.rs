//! The RT extension: registering a deadline, serving it, and the per-domain budget.
//!
//! # The rule
//!
//! A unit registers an absolute deadline with `rtsleep` while it runs (the hypercall
//! comes from the VCPU itself). The host arms a timer for that unit at the deadline;
//! when it fires, `rt_fire` gives the unit RT, the class above BOOST:
//!
//! * running: it keeps the CPU (nothing but another RT unit can preempt it);
//! * queued: it moves to the RT queue (ahead of everything else) and CPUs are tickled,
//!   an idle CPU in its affinity first;
//! * blocked: RT is remembered and applied when the guest's own timer wakes it (the
//!   guest sleeps until the same deadline, so the wake follows within a tick; a
//!   remembered grant older than one tick is dropped).
//!
//! RT is dropped at the first tick that finds the unit running at RT for a whole tick
//! period (a tick just after the fire would end RT in the middle of the deadline's
//! work, and deadlines keep their phase to the ticks for a whole run), or when it
//! blocks, or when its budget is spent, to the class its credit earns: UNDER (the paper's rule), or OVER when its credit is
//! spent (ours: otherwise an RT grant would lift a unit that overspent above the ones
//! with credit until the next accounting). The run time is charged as credit like any
//! other, so an RT unit still pays for its CPU and BOOST/UNDER/OVER units are not
//! starved (the paper's guard). A unit running at RT gets a slice no longer than what
//! is left of its domain's RT CPU budget, and loses RT when the budget is spent.
//!
//! # Who may ask, and how much
//!
//! No domain may use RT until dom0 allows it. An allowed domain has a budget: a share
//! of one CPU spent at RT priority (default 10%) and a number of requests (default
//! 1000), both per window (default 1 s, fixed windows). Over budget, a request is still
//! honoured, as the wake-up any domain gets (BOOST if it has credit), never as RT; the
//! hypercall says so (`RTSLEEP_DEGRADED`) and a counter counts it. A deadline must be
//! between the minimum lead (default 5 ms, the paper's) and the maximum lead (10 s)
//! ahead, so that nobody asks to be rescheduled absurdly often.

use core::sync::atomic::Ordering;

use crate::abi::{
    SchedRtsleep, RTSLEEP_CANCELLED, RTSLEEP_DEGRADED, RTSLEEP_FLAGS_KNOWN, RTSLEEP_FLAG_CANCEL, RTSLEEP_GRANTED,
};
use crate::cpumask::CpuMask;
use crate::prio::Prio;
use crate::sched::set_running_prio;
use crate::state::{bump, Cpu, DomainLive, Shared, Unit, RELAXED};
use crate::{trace, RtcError};

/// What an accepted `rtsleep` means for the host.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RtsleepOutcome {
    /// `RTSLEEP_GRANTED`, `RTSLEEP_DEGRADED` or `RTSLEEP_CANCELLED`: the hypercall's
    /// return value.
    pub result: i32,
    /// Arm the unit's RT timer at this time; 0: stop it (nothing registered).
    pub arm_at_ns: u64,
}

/// Why a request or a fire was served as a normal wake.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Degrade {
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

/// Adds RT run time to the domain's budget use.
pub(crate) fn charge_rt_time(shared: &Shared, live: &DomainLive, elapsed_ns: u64, now: u64) {
    roll_window(shared, live, now);
    live.window_rt_ns.fetch_add(elapsed_ns, RELAXED);
}

fn share_exhausted(shared: &Shared, live: &DomainLive, now: u64) -> bool {
    rt_budget_left_ns(shared, live, now) == 0
}

/// RT CPU time the domain may still use in the current window.
pub(crate) fn rt_budget_left_ns(shared: &Shared, live: &DomainLive, now: u64) -> u64 {
    roll_window(shared, live, now);
    rt_allowance_ns(shared, live).saturating_sub(live.window_rt_ns.load(RELAXED))
}

/// Why RT ended (the `RT_DEMOTE` trace word).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Demotion {
    Tick = 0,
    Blocked = 1,
    BudgetSpent = 3,
}

/// Counts and traces the end of an RT grant; the caller changes the priority.
pub(crate) fn note_rt_demotion(shared: &Shared, unit: &Unit, reason: Demotion) {
    unit.live().rt_demotions.fetch_add(1, RELAXED);
    shared.emit(trace::RT_DEMOTE, &[unit.domid(), unit.unit_id, reason as u32]);
}

fn degrade(shared: &Shared, unit: &Unit, reason: Degrade) {
    unit.live().rt_degraded.fetch_add(1, RELAXED);
    shared.emit(trace::RT_DEGRADE, &[unit.domid(), unit.unit_id, reason as u32]);
}

impl Cpu {
    /// `SCHEDOP_rtsleep` from `unit`, which must be the unit running on this CPU.
    /// Checks, in order: padding, flags, that the caller runs here, cancel, permission,
    /// minimum lead, maximum lead, then the budget (which degrades, never refuses). A
    /// new deadline replaces the unit's previous one.
    ///
    /// # Safety
    /// `unit` is live.
    pub unsafe fn rtsleep(
        &mut self,
        shared: &Shared,
        unit: *mut Unit,
        args: &SchedRtsleep,
        now: u64,
    ) -> Result<RtsleepOutcome, RtcError> {
        // SAFETY: per the contract; the unit's fields are ours under this CPU's lock.
        let u = unsafe { &mut *unit };
        let result = Self::check_rtsleep(shared, self, unit, u, args, now);
        let live = u.live();
        match result {
            Err(error) => {
                live.rt_denied.fetch_add(1, RELAXED);
                shared.emit(trace::RT_DENY, &[u.domid(), u.unit_id, error as u32]);
                Err(error)
            }
            Ok(()) if args.flags & RTSLEEP_FLAG_CANCEL != 0 => {
                u.rt_deadline_ns = 0;
                Ok(RtsleepOutcome { result: RTSLEEP_CANCELLED, arm_at_ns: 0 })
            }
            Ok(()) => {
                live.rt_requests.fetch_add(1, RELAXED);
                roll_window(shared, live, now);
                let requests = live.window_requests.fetch_add(1, RELAXED).saturating_add(1);
                let over =
                    if requests > live.rt_rate_per_s.load(RELAXED).saturating_mul(Self::windows_per_second(shared)) {
                        Some(Degrade::Rate)
                    } else if share_exhausted(shared, live, now) {
                        Some(Degrade::CpuShare)
                    } else {
                        None
                    };
                if let Some(reason) = over {
                    u.rt_deadline_ns = 0;
                    degrade(shared, u, reason);
                    return Ok(RtsleepOutcome { result: RTSLEEP_DEGRADED, arm_at_ns: 0 });
                }
                u.rt_deadline_ns = args.deadline_ns;
                live.rt_granted.fetch_add(1, RELAXED);
                shared.emit(
                    trace::RT_GRANT,
                    &[u.domid(), u.unit_id, args.deadline_ns as u32, (args.deadline_ns >> 32) as u32],
                );
                Ok(RtsleepOutcome { result: RTSLEEP_GRANTED, arm_at_ns: args.deadline_ns })
            }
        }
    }

    /// The rate is per second; a window of W seconds allows W times as many. Windows
    /// shorter than a second allow the per-second rate (rounded up to whole seconds).
    fn windows_per_second(shared: &Shared) -> u32 {
        let window_ns = shared.rt_window_ns.load(RELAXED);
        (window_ns.div_ceil(1_000_000_000)).clamp(1, u64::from(u32::MAX)) as u32
    }

    fn check_rtsleep(
        shared: &Shared,
        cpu: &Cpu,
        unit: *mut Unit,
        u: &Unit,
        args: &SchedRtsleep,
        now: u64,
    ) -> Result<(), RtcError> {
        if args.pad != 0 {
            return Err(RtcError::BadPadding);
        }
        if args.flags & !RTSLEEP_FLAGS_KNOWN != 0 {
            return Err(RtcError::UnknownFlags);
        }
        if u.cpu != cpu.id || cpu.current != unit || !u.running {
            return Err(RtcError::NotRunning);
        }
        if args.flags & RTSLEEP_FLAG_CANCEL != 0 {
            return Ok(());
        }
        if !u.live().rt_allowed.load(RELAXED) {
            return Err(RtcError::NotPermitted);
        }
        let lead_ns = args.deadline_ns.checked_sub(now).ok_or(RtcError::DeadlineTooSoon)?;
        if lead_ns < shared.rt_min_lead_ns.load(RELAXED) {
            return Err(RtcError::DeadlineTooSoon);
        }
        if lead_ns > shared.rt_max_lead_ns.load(RELAXED) {
            return Err(RtcError::DeadlineTooFar);
        }
        Ok(())
    }

    /// The unit's RT timer expired. Gives RT as the module docs say, or serves the
    /// deadline as a normal wake when the domain is over budget, was denied RT since,
    /// or is capped out. Returns the CPUs to tickle. A timer for a deadline that is not
    /// (or no longer) registered, or that fires early, is `StaleTimer`: re-arm or drop.
    ///
    /// # Safety
    /// `unit` is live.
    pub unsafe fn rt_fire(&mut self, shared: &Shared, unit: *mut Unit, now: u64) -> Result<CpuMask, RtcError> {
        // SAFETY: per the contract.
        let u = unsafe { &mut *unit };
        if u.cpu != self.id {
            return Err(RtcError::WrongCpu);
        }
        let deadline_ns = u.rt_deadline_ns;
        if deadline_ns == 0 || now < deadline_ns {
            return Err(RtcError::StaleTimer);
        }
        u.rt_deadline_ns = 0;
        let live = u.live();
        if !live.rt_allowed.load(RELAXED) {
            live.rt_denied.fetch_add(1, RELAXED);
            shared.emit(trace::RT_DENY, &[u.domid(), u.unit_id, RtcError::NotPermitted as u32]);
            return Ok(CpuMask::EMPTY);
        }
        if u.parked {
            degrade(shared, u, Degrade::Capped);
            return Ok(CpuMask::EMPTY);
        }
        if share_exhausted(shared, live, now) {
            degrade(shared, u, Degrade::CpuShare);
            return Ok(CpuMask::EMPTY);
        }
        live.rt_fires.fetch_add(1, RELAXED);
        bump(&u.stats.rt_fires, 1);
        let state = if u.running {
            2
        } else if u.queued {
            1
        } else {
            0
        };
        let late_ns = now - deadline_ns;
        shared.emit(trace::RT_FIRE, &[u.domid(), u.unit_id, state, late_ns.min(u64::from(u32::MAX)) as u32]);
        u.rt_since_ns = now;
        if u.running {
            set_running_prio(shared, u, Prio::Rt, now);
            // Reschedule so that its slice is cut to what is left of the RT budget.
            Ok(CpuMask::single(self.id))
        } else if u.queued {
            // SAFETY: queued here; requeueing at RT keeps the invariant.
            unsafe {
                self.set_prio(shared, unit, Prio::Rt, now);
                Ok(self.tickle(shared, unit))
            }
        } else {
            u.rt_pending = true;
            u.rt_fired_at_ns = now;
            Ok(CpuMask::EMPTY)
        }
    }
}
