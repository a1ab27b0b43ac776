//! The RT extension, all of it: registering a deadline (the grant), serving it (the
//! fire), the RT slice, and the end of RT, with the per-domain budget beside it
//! ([`budget`]). Every change of a unit to or from RT happens here: [`crate::sched`]
//! and [`crate::acct`] call [`Cpu::review_rt`] at a scheduling pass and at the tick,
//! [`Cpu::end_rt`] when the unit blocks, [`Cpu::take_pending_rt`] when it wakes, and
//! [`rt_slice`] for its slice; this module builds only on [`crate::runq`].
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
//! hypercall says so (`RTSLEEP_DEGRADED`) and a counter counts it.
//!
//! # Admission by period
//!
//! A VCPU's consecutive deadlines must be at least the minimum period apart (default
//! 1 ms, floor 100 us): a new deadline is refused (`PeriodTooShort`, `-ERANGE`) if it is
//! less than `min_period` after the last deadline of this VCPU that came due (served
//! at RT or not; a deadline replaced or cancelled before it came due does not count).
//! So one VCPU is served at most once per `min_period`, whatever it asks. How close the
//! deadline is to *now* does not matter (the paper's 5 ms minimum lead refused every
//! request of a 5 ms periodic task, and the period after any late wake-up): the rate
//! and the CPU budget bound the abuse. It may be at most the maximum lead (10 s) ahead
//! (`DeadlineTooFar`). A deadline already due is served at once as RT when the budget
//! allows (granted, with the RT timer armed at the deadline, in the past: the host's
//! timer fires at once and the fire serves it), and refused with its own error
//! (`DeadlineDue`, `-ETIME`) when it does not, since there is no future wake to degrade
//! it to.

use crate::abi::{
    SchedRtsleep, RTSLEEP_CANCELLED, RTSLEEP_DEGRADED, RTSLEEP_FLAGS_KNOWN, RTSLEEP_FLAG_CANCEL, RTSLEEP_GRANTED,
};
use crate::cpumask::CpuMask;
use crate::params::MIN_TIMER_NS;
use crate::prio::Prio;
use crate::runq::flush_prio_time;
use crate::state::{bump, Cpu, Shared, Unit, RELAXED};
use crate::{trace, RtcError};

pub mod budget;

use budget::{count_request, rt_budget_left_ns, share_exhausted, Degrade};

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

/// Why RT ended: the `RT_DEMOTE` trace word (see [`crate::trace::RT_DEMOTE`]).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RtEnd {
    /// A tick found it RT for a whole tick period.
    Tick = 0,
    /// It blocked (or was parked) while RT.
    Blocked = 1,
    /// Its domain's RT CPU budget for the window is spent.
    BudgetSpent = 3,
}

/// Where a running RT unit is reviewed ([`Cpu::review_rt`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Review {
    /// A scheduling pass: only the budget can end RT.
    Pass,
    /// The tick: the budget, or RT held for a whole tick period.
    Tick,
}

fn degrade(shared: &Shared, unit: &Unit, reason: Degrade) {
    unit.live().rt_degraded.fetch_add(1, RELAXED);
    shared.emit(trace::RT_DEGRADE, &[unit.domid(), unit.unit_id, reason as u32]);
}

/// The slice of a unit about to run (or keep running) for `slice_ns`: an RT unit's
/// slice ends when its domain's RT budget would run out, so that the budget is a bound,
/// not a hint. Other units keep `slice_ns`.
pub(crate) fn rt_slice(shared: &Shared, unit: &Unit, slice_ns: u64, now: u64) -> u64 {
    if unit.prio != Prio::Rt {
        return slice_ns;
    }
    slice_ns.min(rt_budget_left_ns(shared, unit.live(), now).max(MIN_TIMER_NS))
}

impl Cpu {
    /// `SCHEDOP_rtsleep` from `unit`, which must be the unit running on this CPU.
    /// Checks, in order: padding, flags, that the caller runs here, cancel, permission,
    /// minimum period, maximum lead, then the budget (which degrades a future deadline
    /// and refuses a due one). A new deadline replaces the unit's previous one.
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
        let live = u.live();
        let cancel = args.flags & RTSLEEP_FLAG_CANCEL != 0;
        let mut over = None;
        let result = Self::check_rtsleep(shared, self, unit, u, args, now).and_then(|()| {
            if !cancel {
                over = count_request(shared, live, now);
            }
            if over.is_some() && args.deadline_ns <= now {
                // Due now and over budget: no future wake to degrade it to.
                return Err(RtcError::DeadlineDue);
            }
            Ok(())
        });
        match result {
            Err(error) => {
                live.rt_denied.fetch_add(1, RELAXED);
                shared.emit(trace::RT_DENY, &[u.domid(), u.unit_id, error as u32]);
                Err(error)
            }
            Ok(()) if cancel => {
                u.rt_deadline_ns = 0;
                Ok(RtsleepOutcome { result: RTSLEEP_CANCELLED, arm_at_ns: 0 })
            }
            Ok(()) => {
                live.rt_requests.fetch_add(1, RELAXED);
                if let Some(reason) = over {
                    u.rt_deadline_ns = 0;
                    degrade(shared, u, reason);
                    return Ok(RtsleepOutcome { result: RTSLEEP_DEGRADED, arm_at_ns: 0 });
                }
                // 0 means "none": a deadline at time 0 (due) is kept as 1 ns.
                let deadline_ns = args.deadline_ns.max(1);
                u.rt_deadline_ns = deadline_ns;
                live.rt_granted.fetch_add(1, RELAXED);
                shared.emit(trace::RT_GRANT, &[u.domid(), u.unit_id, deadline_ns as u32, (deadline_ns >> 32) as u32]);
                // A due deadline: the timer armed in the past fires at once.
                Ok(RtsleepOutcome { result: RTSLEEP_GRANTED, arm_at_ns: deadline_ns })
            }
        }
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
        if u.rt_last_deadline_ns != 0
            && args.deadline_ns < u.rt_last_deadline_ns.saturating_add(shared.rt_min_period_ns.load(RELAXED))
        {
            return Err(RtcError::PeriodTooShort);
        }
        if args.deadline_ns.saturating_sub(now) > shared.rt_max_lead_ns.load(RELAXED) {
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
        u.rt_last_deadline_ns = deadline_ns;
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
        if u.running {
            // SAFETY: running here.
            unsafe { self.start_rt(shared, unit, now) };
            // Reschedule so that its slice is cut to what is left of the RT budget.
            Ok(CpuMask::single(self.id))
        } else if u.queued {
            // SAFETY: queued here; requeueing at RT keeps the invariant.
            unsafe {
                self.start_rt(shared, unit, now);
                Ok(self.tickle(shared, unit))
            }
        } else {
            u.rt_pending = true;
            u.rt_fired_at_ns = now;
            Ok(CpuMask::EMPTY)
        }
    }

    /// Gives `unit` RT wherever it is (running, queued, or about to be queued by a
    /// wake), and starts the time its RT is measured from.
    ///
    /// # Safety
    /// `unit` is live and resident here.
    unsafe fn start_rt(&mut self, shared: &Shared, unit: *mut Unit, now: u64) {
        // SAFETY: per the contract.
        unsafe {
            (*unit).rt_since_ns = now;
            self.set_prio(shared, unit, Prio::Rt, now);
        }
    }

    /// A blocked unit wakes: if its deadline fired while it was blocked, no longer than
    /// a tick ago, it becomes RT now (the caller then queues it). Returns whether it did.
    ///
    /// # Safety
    /// `unit` is live, resident here, neither running nor queued.
    pub(crate) unsafe fn take_pending_rt(&mut self, shared: &Shared, unit: *mut Unit, now: u64) -> bool {
        // SAFETY: per the contract.
        unsafe {
            let u = &mut *unit;
            if !core::mem::take(&mut u.rt_pending)
                || now.saturating_sub(u.rt_fired_at_ns) > shared.tick_ns.load(RELAXED)
            {
                return false;
            }
            self.start_rt(shared, unit, now);
        }
        true
    }

    /// Ends the RT of `unit` (nothing if it is not RT), the one way every end goes: it
    /// is counted and traced (`RT_DEMOTE` with the reason, then `PRIO_CHANGE` while it
    /// runs) and the unit drops to the class its credit earns: UNDER, or OVER when its
    /// credit is spent.
    ///
    /// # Safety
    /// `unit` is live and resident here.
    pub(crate) unsafe fn end_rt(&mut self, shared: &Shared, unit: *mut Unit, reason: RtEnd, now: u64) {
        // SAFETY: per the contract.
        unsafe {
            let u = &*unit;
            if u.prio != Prio::Rt {
                return;
            }
            u.live().rt_demotions.fetch_add(1, RELAXED);
            shared.emit(trace::RT_DEMOTE, &[u.domid(), u.unit_id, reason as u32]);
            let class = u.credit_class();
            self.set_prio(shared, unit, class, now);
        }
    }

    /// Reviews the running unit `unit` if it is RT: charges its RT time so far to the
    /// domain's budget, then ends RT if the budget is spent or (at the tick) it has
    /// held RT for a whole tick period.
    ///
    /// # Safety
    /// `unit` is live and the current unit here.
    pub(crate) unsafe fn review_rt(&mut self, shared: &Shared, unit: *mut Unit, now: u64, at: Review) {
        // SAFETY: per the contract.
        let u = unsafe { &mut *unit };
        if u.prio != Prio::Rt {
            return;
        }
        flush_prio_time(shared, u, now);
        let reason = if rt_budget_left_ns(shared, u.live(), now) == 0 {
            RtEnd::BudgetSpent
        } else if at == Review::Tick && now.saturating_sub(u.rt_since_ns) >= shared.tick_ns.load(RELAXED) {
            RtEnd::Tick
        } else {
            return;
        };
        // SAFETY: per the contract.
        unsafe { self.end_rt(shared, unit, reason, now) };
    }
}
