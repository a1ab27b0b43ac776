//! The RT extension, all of it: registering a deadline (the grant), serving it (the
//! fire), the RT slice, and the end of RT, with the per-domain budget beside it
//! ([`budget`]). Every change of a unit to or from RT happens here: [`crate::sched`]
//! and [`crate::acct`] call `Cpu::review_rt` at a scheduling pass and at the tick,
//! `Cpu::end_rt` when the unit blocks, `Cpu::take_pending_rt` when it wakes, and
//! `rt_slice` for its slice; this module builds only on [`crate::runq`].
//!
//! # The rule
//!
//! A unit registers an absolute deadline with `rtsleep` while it runs (the hypercall
//! comes from the VCPU itself). The host arms a timer for that unit at the deadline;
//! when it fires, `rt_fire` gives the unit RT, the class above BOOST:
//!
//! * running: it keeps the CPU at RT (nothing but another RT unit can preempt it);
//! * queued: it moves to the RT queue (ahead of everything else) and CPUs are tickled,
//!   an idle CPU in its affinity first;
//! * blocked: RT is remembered and applied when the guest's own timer wakes it (the
//!   guest sleeps until the same deadline, so the wake follows within a tick; a
//!   remembered grant older than one tick is dropped).
//!
//! **A sleeping unit's deadline is served by its wake, not by the RT timer.** The host
//! keeps the RT timer armed only while the unit is runnable ([`Cpu::rt_timer_at_ns`]);
//! a wake at or after the registered deadline fires it there (`take_pending_rt`), with
//! the same rules as the timer. On Xen two timers for one deadline cost the guest
//! `timer_slop` (50 us by default): after each timer interrupt Xen programs the next at
//! least that far ahead, so an RT timer due a few microseconds before the guest's own
//! one-shot timer (which the guest sets for the same deadline, converted the other way
//! round, so slightly later) pushed the guest's wake back by 50 us: measured on Xen
//! under QEMU, the guest's wake came 63 us after our RT fire (uncapped hogs,
//! `docs/results/e2e-threads-trace/`); with the timer stopped, the wake-up's p50 with the
//! hogs paused went from 0.22 to 0.17 ms (`docs/results/e2e-rt-timer-after/`).
//!
//! # RT covers the deadline's work, not the VCPU's
//!
//! RT ends, whichever comes first, when
//!
//! * the VCPU calls `rtsleep` again (its next deadline, or a cancel: whatever it asks,
//!   the task that asked for RT has reached its sleep, so its period's work is done);
//! * it blocks (or is parked);
//! * it has run its grant's **RT limit** at RT (its RT slice ends there, so the limit is
//!   a bound, not a hint): the **RT quantum** `Q` = 500 us, or, when longer, the
//!   domain's RT budget share of the task's period (the time from its previous deadline,
//!   or for its first from the request, to this one; at most one 30 ms slice): what the
//!   administrator granted the domain per period. Past `Q` the unit is in
//!   **overtime**: still RT, but behind every fired deadline (below), so a task whose
//!   work per period is longer than the quantum (1.5 ms at 10 ms, granted 50%) gets all
//!   of it at RT without delaying anyone else's deadline. With `Q` as the end, such a
//!   task got 0.5 ms at RT and waited for the rest in its credit class: at OVER, behind
//!   every hog's slice (simulator, two pCPUs, six hogs: p99 94.6 ms; with the limit
//!   0.017 ms; credit2 3.0 ms);
//! * its domain's RT CPU budget for the window is spent (its slice ends there too);
//!
//! and never at the tick: a VCPU whose periodic task has done its work but that keeps
//! running other guest work (a compile beside an audio thread) drops RT at its next
//! `rtsleep`, not 10 ms later, so RT is not spent on the other work, and the tick does
//! not cut RT in the middle of the deadline's work either. RT drops to the class the
//! unit's credit earns: UNDER (the paper's rule), or OVER when its credit is spent
//! (ours: otherwise an RT grant would lift a unit that overspent above the ones with
//! credit until the next accounting), or BOOST instead of UNDER when RT replaced the
//! BOOST of a wake. The run time is charged as credit like any other, so an RT unit
//! still pays for its CPU and BOOST/UNDER/OVER units are not starved (the paper's
//! guard).
//!
//! **Outside RT, RT changes nothing.** A unit that RT put on the CPU (its stay began at
//! RT) loses the CPU's rate-limit protection when RT ends, and an `rtsleep` that ends
//! its RT asks the host for a pass (`RtsleepOutcome::reschedule`): it then waits behind
//! its equals as it would have without RT, so a VCPU that keeps running other work
//! after its periodic task's work gets no more CPU than its credit gives it. A unit
//! that was running anyway when its deadline fired keeps its slice through RT's
//! passes: to the end the last pass that picked it gave it, neither cut nor renewed,
//! so a peer that waits for it gets the CPU when it would have without RT. (Measured
//! on the stay instead, a VCPU running alone past one slice was sent behind a newcomer
//! at its next RT pass, once a period: on 8 pCPUs RT's never-blocking domains lost
//! 1.9 points of share and the lightest hog gained 2-5.) So RT time is bounded by the
//! budget, and nothing else is gained.
//!
//! **The way to sleep.** The pass an `rtsleep` asks for does not send the unit back at
//! once: the call comes from the task on its way to sleep, and the guest still has to
//! get there (return from the call, run what its own timer woke meanwhile, block). Cut
//! off there, a VCPU that would have blocked stays runnable in its credit class, never
//! gets the BOOST of a wake again, and when that class is OVER it runs only at its RT
//! fires: measured on Xen, a wrapped two-thread program (a SCHED_FIFO worker on
//! `/dev/rtsleep`, a SCHED_OTHER thread with 100 us chores) went into that state for
//! 8 periods in 5 s, each RT stay ending in a pass, and the SCHED_OTHER thread waited
//! 80 ms; unwrapped, 1.3 ms. So after an `rtsleep` that ends its RT, a unit whose stay
//! RT got, and that has blocked since its previous `rtsleep` (a guest that sleeps
//! between its periods), keeps the CPU at its credit class for the rest of its quantum
//! (`Q` minus its time at RT since the grant, `Unit::rt_grace_until_ns`) unless RT
//! waits; it blocks within that in the common case, and otherwise the pass at the
//! quantum's end sends it back to its place. A VCPU that never blocks (a periodic task
//! beside a CPU burner) gets no grace: the rest of `Q` per period would be CPU beyond
//! its credit (in the simulator, 51% instead of 31% at a 1 ms period beside three duty
//! hogs). What one grant protects (at RT, then in the rest of the quantum) stays at
//! most `Q`, so the isolation bound below does not change.
//!
//! **RT is seen by the tick.** In credit a unit that has stopped earning credit (new,
//! or stopped by accounting when it had plenty) earns again only when a tick finds it
//! running. RT runs a periodic VCPU at the same point of every period, where the tick
//! may never look, and charges it all the same; its credit ran down unseen, and the
//! tick that caught it at last brought it back in debt, OVER until accounting paid it
//! off: on Xen a wrapped program's SCHED_OTHER thread woke the VCPU at OVER and waited
//! 9-9.5 ms for the next RT fire, 160 ms at a time. So an RT end that leaves a
//! non-earning unit with less than a quarter of a slice's credit queues it on its CPU's
//! `earn_pending` list, and that CPU's next tick (which holds the accounting lock an
//! RT end does not) makes it earn. Above that margin it stays as credit would leave it,
//! so a light RT domain does not join the accounting (and dilute the others' credit)
//! more than a light domain without RT.
//! Nothing is lost either: RT gives back the queue places it takes. A unit whose
//! deadline fired while it waited goes back to its place in its class (its queue
//! ticket, [`Cpu::enqueue_in_place`](crate::state::Cpu)), not to the tail, and the unit
//! an RT unit preempted goes back to the head of its class and resumes its slice, to
//! that slice's end: the time at RT comes out of it, as a preemption's does in credit,
//! so every slice ends when it would have without RT and the units behind it start on
//! time. Without the places, a VCPU running a periodic task beside a CPU burner was
//! sent behind every hog once a period and lost half its share.
//!
//! **Why 500 us.** `Q` has two jobs. (1) Cover a well-behaved task's whole period of
//! work: a task that stays within the default RT budget (10% of a CPU) at the periods
//! audio and control loops use (1-5 ms) does at most 10% x 5 ms = 0.5 ms of work per
//! period, so `Q` = 0.5 ms serves all of it at RT; a task that needs more, at longer
//! periods or with a larger budget, gets the rest in overtime up to its grant's limit,
//! and beyond that at its credit class, as without RT. (2) Bound what
//! one RT unit can take from another: a running RT unit blocks a newly fired one for at
//! most its remaining quantum, and the isolation target is 0.5 ms on a CPU. A shorter
//! `Q` would split in-budget audio periods; a longer one would let a spammer, within
//! its budget, hold a CPU at RT for longer than the target.
//!
//! # A sibling the deadline's work waits for
//!
//! In a domain of several VCPUs the deadline's work may need a VCPU that has no RT: the
//! guest's task wakes on one VCPU and waits for another (an IPI, a lock its sibling
//! holds). Credit gives a waking VCPU BOOST only when it is UNDER, and a VCPU that
//! spins for its sibling spends credit, so the sibling is often OVER and waits behind
//! every hog's slice while the RT VCPU spins for it. Measured on Xen under QEMU, two
//! pCPUs, a 2-VCPU measuring domain and six hogs (`tests/e2e/README.md`, "Two pCPUs"):
//! a trace of a bad boot had Xen run the RT VCPU within 0.29 ms of every deadline while
//! the guest's p99 was 15 ms, and the sibling, woken by an event from it, waited 4.1 ms
//! at OVER behind a hog. So a VCPU of a domain allowed RT, with at least one sibling,
//! that wakes while OVER gets BOOST as an UNDER one would, **paid from its domain's RT
//! budget**: while it runs at that BOOST its time is charged to the budget's window as
//! RT time is, and it gets it only while the window has budget left. Credit is charged
//! as always. The bound: the domain's time above credit's rules stays within its RT
//! budget per window, plus at most one tick per such VCPU (a BOOST ends at the first
//! tick that finds it running; the budget is checked at the wake). A single-VCPU
//! domain, or one not allowed RT, is treated as credit treats it.
//!
//! # Among RT units: earliest deadline first, and the isolation bound
//!
//! RT units are ordered by the deadline they are being served for (EDF), a unit in
//! overtime after all of them (FIFO among those, [`rt_order_ns`]): the RT queue is in
//! that order, a queued RT unit with an earlier deadline than the running RT
//! unit preempts it (the tickle and the pass compare deadlines), one with a later
//! deadline waits. Since every deadline is served when it comes due, a unit that fires
//! after ours has a later deadline and goes behind it; the units that can delay ours
//! are those whose deadlines came due before ours and that still hold RT.
//!
//! **The bound.** Let `m` be the number of other RT-allowed VCPUs resident on the CPU.
//! A VCPU holds at most one RT grant at a time (a new deadline replaces the old; its
//! next grant needs a deadline at least `min_period` later), and each grant runs at
//! most `Q` at RT before its overtime, which no fired deadline waits for. So a deadline's work starts at most `m x (Q + s)` after it came due
//! because of other units' RT (`s`: one context switch), whatever those units ask and
//! however they spend their budgets: with one other RT VCPU on the CPU, `Q + s`, the
//! 0.5 ms target (plus a switch). It does not depend on the others' budgets (a budget
//! bounds their RT time per window, not the delay of one deadline) nor on their periods.
//! Outside RT a unit's wait is credit's (BOOST/UNDER/OVER), not bounded here.
//!
//! **On SMP it is better than that.** A fired unit goes to an idle CPU in its affinity
//! first; failing that, it preempts what runs on its CPU if it outranks it; failing
//! that (an RT unit with an earlier deadline runs there), a CPU in its affinity that
//! runs no RT is tickled, and its pass steals the RT unit (a CPU steals RT work even
//! from BOOST or UNDER, and the rate limit does not hold back RT waiting on a peer). So
//! while some CPU in its affinity runs no RT, a deadline waits one tickle and one
//! switch, not a quantum; the `m x (Q + s)` bound is for when every such CPU runs RT.
//! That holds only if the tickle reaches a CPU that takes the unit, so: an RT unit
//! queued behind another queued RT unit (two deadlines due together on a CPU that
//! runs no RT) is handled as one behind a running RT unit; a stealing CPU tries the
//! CPUs that hold RT before any other work (the host tries peers in turn, and the
//! first with an UNDER unit would otherwise hand that over); a pass that runs RT while
//! RT waits here or on a peer tickles a CPU that runs no RT (the CPU tickled may have
//! found an RT unit of its own); a unit kept to its slice's end does not keep it while
//! RT waits on a peer, and an `rtsleep` that ends RT then asks for the pass. On the
//! simulator's 8-pCPU host (300 seeds, every period) this took the RT tasks' maximum
//! lateness from 0.46-0.51 ms to 7-17 us (`sim/README.md`).
//!
//! # Who may ask, and how much
//!
//! No domain may use RT until dom0 allows it. An allowed domain has a budget: a share
//! of one CPU spent at RT priority (default 10%) and a number of requests (default
//! 1000), both per window (default 1 s, fixed windows). Over budget, a request is still
//! honoured, as the wake-up any domain gets (BOOST if it has credit), never as RT; the
//! hypercall says so (`RTSLEEP_DEGRADED`) and a counter counts it. The budgets of a
//! pool's domains add up to at most the pool's RT capacity (half its CPUs by default),
//! so RT as a whole cannot starve the rest of the pool: see [`budget`].
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

use core::ptr;

use crate::abi::{
    SchedRtsleep, RTSLEEP_CANCELLED, RTSLEEP_DEGRADED, RTSLEEP_FLAGS_KNOWN, RTSLEEP_FLAG_CANCEL, RTSLEEP_GRANTED,
};
use crate::cpumask::CpuMask;
use crate::params::{MIN_TIMER_NS, RT_QUANTUM_NS};
use crate::prio::Prio;
use crate::runq::flush_prio_time;
use crate::state::{bump, Cpu, Shared, Unit, RELAXED};
use crate::trace::{DegradeReason, EndReason, Event, FireState};
use crate::RtcError;

pub mod budget;

use budget::{count_request, rt_budget_left_ns, share_exhausted};

/// What an accepted `rtsleep` means for the host.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RtsleepOutcome {
    /// `RTSLEEP_GRANTED`, `RTSLEEP_DEGRADED` or `RTSLEEP_CANCELLED`: the hypercall's
    /// return value.
    pub result: i32,
    /// The call ended the caller's RT: the host must run a scheduling pass on this CPU
    /// (Xen: raise `SCHEDULE_SOFTIRQ`), so that it waits behind its equals again.
    pub reschedule: bool,
    /// Arm the unit's RT timer at this time; 0: stop it (nothing registered).
    pub arm_at_ns: u64,
}

/// A refused `rtsleep`: why, and whether the call ended the caller's RT all the same
/// (whatever it asked, its task has reached its sleep), in which case the host runs
/// the same pass as for an accepted call (`RtsleepOutcome::reschedule`). Dropping that
/// pass left the unit on the CPU, without RT and without the rate limit's protection,
/// until its RT slice's timer: up to its grant's limit (one 30 ms slice at most).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RtsleepRefused {
    pub error: RtcError,
    /// As `RtsleepOutcome::reschedule`.
    pub reschedule: bool,
}

fn degrade(shared: &Shared, unit: &Unit, reason: DegradeReason) {
    unit.live().rt_degraded.fetch_add(1, RELAXED);
    shared.emit(Event::RtDegrade { dom: unit.domid(), unit: unit.unit_id, reason: reason as u32 });
}

/// The shortest time between two `RT_DENY` records of one unit.
pub const DENY_TRACE_INTERVAL_NS: u64 = 100_000_000;

/// A refusal of `unit`'s request (or fire) with `error` at `now`: counted in the domain's
/// `rt_denied` always, traced (`RT_DENY`) only if the unit has no record in the last
/// [`DENY_TRACE_INTERVAL_NS`]. A refused hypercall costs the guest little, so one record
/// per refusal would let a domain without permission fill the host's trace buffers at
/// hypercall rate; this way a VCPU adds at most 10 records per second, and each record
/// carries the number of refusals not traced since the previous one, so a reader's sum
/// stays exact up to the last record.
fn deny(shared: &Shared, unit: &mut Unit, error: RtcError, now: u64) {
    unit.live().rt_denied.fetch_add(1, RELAXED);
    let traced = unit.rt_deny_traced_ns;
    if traced != 0 && now.saturating_sub(traced) < DENY_TRACE_INTERVAL_NS {
        unit.rt_deny_untraced = unit.rt_deny_untraced.saturating_add(1);
        return;
    }
    shared.emit(Event::RtDeny {
        dom: unit.domid(),
        unit: unit.unit_id,
        error_code: error as u32,
        untraced: unit.rt_deny_untraced,
    });
    // 0 means "never": a record at time 0 is kept as 1 ns.
    unit.rt_deny_traced_ns = now.max(1);
    unit.rt_deny_untraced = 0;
}

/// Whether the waking OVER `unit` gets BOOST paid from its domain's RT budget: it has
/// a sibling VCPU, its domain is allowed RT, and the window has budget left ("A sibling
/// the deadline's work waits for").
pub(crate) fn sibling_boost_allowed(shared: &Shared, unit: &Unit, now: u64) -> bool {
    let live = unit.live();
    live.nr_units.load(RELAXED) > 1 && live.rt_allowed.load(RELAXED) && !share_exhausted(shared, live, now)
}

/// The slice of a unit about to run (or keep running) for `slice_ns`: an RT unit's
/// slice ends when its RT quantum is used up or its domain's RT budget would run out,
/// so that both are bounds, not hints. Other units keep `slice_ns`.
pub(crate) fn rt_slice(shared: &Shared, unit: &Unit, slice_ns: u64, now: u64) -> u64 {
    if unit.prio != Prio::Rt {
        return slice_ns;
    }
    // `review_rt` ended RT before a pass if the limit was used up, so this is > 0.
    let limit_left_ns = unit.rt_limit_ns.saturating_sub(unit.rt_used_ns).max(1);
    // Within the quantum, a pass at its end: from there the unit is in overtime, and
    // that pass lets an RT unit waiting behind it go first.
    let quantum_left_ns = RT_QUANTUM_NS.saturating_sub(unit.rt_used_ns);
    let step_ns = if quantum_left_ns > 0 { limit_left_ns.min(quantum_left_ns) } else { limit_left_ns };
    slice_ns.min(rt_budget_left_ns(shared, unit.live(), now).max(MIN_TIMER_NS)).min(step_ns)
}

/// Where an RT unit stands among RT units (earliest first): the deadline it is being
/// served for while it is within the RT quantum, after every deadline once it is in
/// overtime (it ran the quantum and its grant's limit is longer), so that a unit in
/// overtime never delays a fired deadline (the isolation bound), and units in overtime
/// take turns (FIFO).
pub(crate) fn rt_order_ns(unit: &Unit) -> u64 {
    if unit.rt_used_ns >= RT_QUANTUM_NS {
        u64::MAX
    } else {
        unit.rt_last_deadline_ns
    }
}

/// The most a grant may run at RT: the RT quantum, or, when it is longer, the domain's
/// RT budget share of its period: from the unit's previous deadline that came due (for
/// its first deadline, from the request at `now`) to `deadline_ns` (a task granted 50% with a 10 ms
/// period: 5 ms per period), at most one time slice. The share is what
/// the administrator granted the domain per period, so a task whose work per period
/// is longer than the quantum gets all of it at RT within its budget; the quantum
/// alone served 0.5 ms and left the rest to credit's class, where a domain at OVER
/// waited behind every hog's slice (tens of ms, two pCPUs on Xen).
pub(crate) fn grant_limit_ns(shared: &Shared, unit: &Unit, deadline_ns: u64, now: u64) -> u64 {
    let window_ns = shared.rt_window_ns.load(RELAXED).max(1);
    let since_ns = if unit.rt_last_deadline_ns != 0 { unit.rt_last_deadline_ns } else { now };
    let period_ns = deadline_ns.saturating_sub(since_ns);
    let slice_ns = shared.tslice_ns.load(RELAXED);
    // No u128 here: its division is a compiler_builtins routine the Xen build does not
    // link. A product beyond u64 (allowance and period both seconds) is a share of
    // seconds, which the slice bounds anyway.
    let share_ns = budget::rt_allowance_ns(shared, unit.live())
        .checked_mul(period_ns)
        .map_or(slice_ns, |product| product / window_ns);
    share_ns.min(slice_ns).max(RT_QUANTUM_NS)
}

impl Cpu {
    /// `SCHEDOP_rtsleep` from `unit`, which must be the unit running on this CPU.
    /// Checks, in order: padding, flags, that the caller runs here, cancel, permission,
    /// minimum period, maximum lead, then the budget (which degrades a future deadline
    /// and refuses a due one). A new deadline replaces the unit's previous one; a
    /// refused one leaves it as it was. Accepted or refused, a call from a unit at RT
    /// ends its RT first (see `RtsleepRefused`).
    ///
    /// # Safety
    /// `unit` is live.
    pub unsafe fn rtsleep(
        &mut self,
        shared: &Shared,
        unit: *mut Unit,
        args: &SchedRtsleep,
        now: u64,
    ) -> Result<RtsleepOutcome, RtsleepRefused> {
        let mut reschedule = false;
        // SAFETY: per the contract; the unit's fields are ours under this CPU's lock.
        if self.current == unit && unsafe { (*unit).running && (*unit).prio == Prio::Rt } {
            // Whatever it asks, the caller has reached its sleep: its period's work is
            // done, and so is its RT (RT covers the deadline's work, not the VCPU's).
            // SAFETY: the current unit, live.
            unsafe {
                self.end_rt(shared, unit, EndReason::Rtsleep, now);
                // A pass: to wait behind its equals (its stay was RT's doing), or to
                // take an RT unit waiting behind RT on a peer (no taker was free when
                // it fired: this CPU ran RT).
                reschedule = (*unit).rt_ended || !shared.rt_queued_elsewhere(self.id).is_empty();
            }
        }
        // SAFETY: as above.
        let u = unsafe { &mut *unit };
        u.slept_since_rtsleep = false;
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
                deny(shared, u, error, now);
                Err(RtsleepRefused { error, reschedule })
            }
            Ok(()) if cancel => {
                u.rt_deadline_ns = 0;
                Ok(RtsleepOutcome { result: RTSLEEP_CANCELLED, reschedule, arm_at_ns: 0 })
            }
            Ok(()) => {
                live.rt_requests.fetch_add(1, RELAXED);
                if let Some(reason) = over {
                    u.rt_deadline_ns = 0;
                    degrade(shared, u, reason);
                    return Ok(RtsleepOutcome { result: RTSLEEP_DEGRADED, reschedule, arm_at_ns: 0 });
                }
                // 0 means "none": a deadline at time 0 (due) is kept as 1 ns.
                let deadline_ns = args.deadline_ns.max(1);
                u.rt_deadline_ns = deadline_ns;
                u.rt_limit_ns = grant_limit_ns(shared, u, deadline_ns, now);
                live.rt_granted.fetch_add(1, RELAXED);
                shared.emit(Event::RtGrant { dom: u.domid(), unit: u.unit_id, deadline_ns });
                // A due deadline: the timer armed in the past fires at once.
                Ok(RtsleepOutcome { result: RTSLEEP_GRANTED, reschedule, arm_at_ns: deadline_ns })
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
    /// (or no longer) registered, or that fires early, is `StaleTimer`; then
    /// [`Cpu::rt_timer_at_ns`] says whether to arm it again.
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
            deny(shared, u, RtcError::NotPermitted, now);
            return Ok(CpuMask::EMPTY);
        }
        if u.parked {
            degrade(shared, u, DegradeReason::Capped);
            return Ok(CpuMask::EMPTY);
        }
        if share_exhausted(shared, live, now) {
            degrade(shared, u, DegradeReason::CpuShare);
            return Ok(CpuMask::EMPTY);
        }
        live.rt_fires.fetch_add(1, RELAXED);
        bump(&u.stats.rt_fires, 1);
        // Running but no longer runnable: it has blocked and the pass that takes it off
        // the CPU has not run yet (in Xen the timer softirq runs before the schedule
        // softirq that SCHEDOP_block raised; the shim's RT timer, as `Host::rt_fire`,
        // tells the core of the block first). It is served as blocked: RT waits for its
        // wake, instead of starting now and ending at that pass with its deadline spent.
        let running = u.running && u.runnable;
        let state = if running {
            FireState::Running
        } else if u.queued {
            FireState::Queued
        } else {
            FireState::Blocked
        };
        let late_ns = now - deadline_ns;
        shared.emit(Event::RtFire {
            dom: u.domid(),
            unit: u.unit_id,
            state: state as u32,
            late_ns: late_ns.min(u64::from(u32::MAX)) as u32,
        });
        if running {
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

    /// When the host should have `unit`'s RT timer armed now: its registered deadline
    /// while the unit is runnable (running, queued, or blocked with the pass that tells
    /// the core still to come), 0 (stopped) while it sleeps, when its wake serves the
    /// deadline (see the module docs). Hosts re-read it after every call that may
    /// change it (`rtsleep`, a fire, wake, sleep, a pass that finds its unit blocked).
    pub fn rt_timer_at_ns(unit: &Unit) -> u64 {
        if unit.runnable {
            unit.rt_deadline_ns
        } else {
            0
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
            (*unit).rt_used_ns = 0;
            // A BOOST unit (woken, not yet found by a tick) gets it back when RT ends.
            (*unit).rt_instead_of_boost = (*unit).prio == Prio::Boost;
            if (*unit).running && !(*unit).switched_in_at_rt {
                (*unit).rt_in_stay = true;
            }
            self.set_prio(shared, unit, Prio::Rt, now);
        }
    }

    /// A blocked unit wakes: if its deadline came due while it was blocked, no longer
    /// than a tick ago, it becomes RT now (the caller then queues it). Returns whether
    /// it did. `boost`: the wake would give it BOOST without RT; then RT ends to BOOST.
    /// A deadline still registered (its timer is stopped while the unit sleeps) is
    /// fired here first, counted and traced as the timer would, its tick measured from
    /// the deadline as if the timer had fired then.
    ///
    /// # Safety
    /// `unit` is live, resident here, neither running nor queued.
    pub(crate) unsafe fn take_pending_rt(&mut self, shared: &Shared, unit: *mut Unit, boost: bool, now: u64) -> bool {
        // SAFETY: per the contract.
        unsafe {
            let deadline_ns = (*unit).rt_deadline_ns;
            if !(*unit).rt_pending && deadline_ns != 0 && deadline_ns <= now {
                // Neither running nor queued: served as blocked, nothing to tickle (the
                // caller queues it). Refusals (denied, parked, over budget) are the
                // fire's own and leave nothing pending.
                let _ = self.rt_fire(shared, unit, now);
                (*unit).rt_fired_at_ns = deadline_ns;
            }
            let u = &mut *unit;
            if !core::mem::take(&mut u.rt_pending)
                || now.saturating_sub(u.rt_fired_at_ns) > shared.tick_ns.load(RELAXED)
            {
                return false;
            }
            self.start_rt(shared, unit, now);
            (*unit).rt_instead_of_boost = boost;
        }
        true
    }

    /// Ends the RT of `unit` (nothing if it is not RT), the one way every end goes: it
    /// is counted and traced (`RT_DEMOTE` with the reason, then `PRIO_CHANGE` while it
    /// runs) and the unit drops to the class its credit earns: UNDER, or OVER when its
    /// credit is spent, or BOOST instead of UNDER when RT replaced the BOOST of its wake
    /// (what it would have had without RT; the next tick drops it as any BOOST). A running unit whose stay began at RT (RT got it the CPU) also
    /// loses the rate limit's protection for the rest of that stay (`rt_ended`): at the
    /// next pass it waits behind its equals as it would have without RT, else RT's
    /// preemption would give it CPU time beyond its RT budget. A unit that was already
    /// running when its deadline fired keeps its slice, as it would have without RT.
    ///
    /// # Safety
    /// `unit` is live and resident here.
    pub(crate) unsafe fn end_rt(&mut self, shared: &Shared, unit: *mut Unit, reason: EndReason, now: u64) {
        // SAFETY: per the contract.
        unsafe {
            if (*unit).prio != Prio::Rt {
                return;
            }
            (*unit).rt_ended = (*unit).running && (*unit).switched_in_at_rt;
            let low_credit = i64::from(shared.credits_per_tslice.load(RELAXED)) / 4;
            if !(*unit).active && !(*unit).earn_pending && i64::from((*unit).credit.load(RELAXED)) < low_credit {
                // RT is seen by the tick: a unit that RT runs while it does not earn, and
                // whose credit is running low, earns again from this CPU's next tick
                // (see the module docs).
                self.earn_pending.push_back(ptr::addr_of_mut!((*unit).earn_link));
                (*unit).earn_pending = true;
            }
            let u = &*unit;
            u.live().rt_demotions.fetch_add(1, RELAXED);
            shared.emit(Event::RtDemote { dom: u.domid(), unit: u.unit_id, reason: reason as u32 });
            let class = match u.credit_class() {
                Prio::Under if u.rt_instead_of_boost => Prio::Boost,
                class => class,
            };
            self.set_prio(shared, unit, class, now);
            // After its `rtsleep`, the rest of the quantum to reach its block (see "the
            // way to sleep" in the module docs); `set_prio` has charged its RT time.
            (*unit).rt_grace_until_ns =
                if reason == EndReason::Rtsleep && (*unit).rt_ended && (*unit).slept_since_rtsleep {
                    now.saturating_add(RT_QUANTUM_NS.saturating_sub((*unit).rt_used_ns))
                } else {
                    0
                };
        }
    }

    /// Reviews the running unit `unit` if it is RT (at a scheduling pass and at the
    /// tick): charges its RT time so far to its quantum and the domain's budget, then
    /// ends RT if the budget is spent or the quantum used up.
    ///
    /// # Safety
    /// `unit` is live and the current unit here.
    pub(crate) unsafe fn review_rt(&mut self, shared: &Shared, unit: *mut Unit, now: u64) {
        // SAFETY: per the contract.
        let u = unsafe { &mut *unit };
        if u.prio != Prio::Rt {
            return;
        }
        flush_prio_time(shared, u, now);
        let reason = if rt_budget_left_ns(shared, u.live(), now) == 0 {
            EndReason::BudgetSpent
        } else if u.rt_used_ns >= u.rt_limit_ns {
            EndReason::Limit
        } else {
            return;
        };
        // SAFETY: per the contract.
        unsafe { self.end_rt(shared, unit, reason, now) };
    }
}
