//! Xen's scheduling framework around a scheduler (feature `std`): the softirqs and
//! timers of `common/sched/core.c` and of our shim, as one deterministic event loop.
//!
//! [`crate::host::Host`] makes the core's calls in the shim's order; this module decides
//! *when* they are made, as Xen's timers and softirqs do. It is the one model of that
//! timing in the project: the simulator (`sim/`), the core's property tests and the
//! monitor's agreement test drive their schedulers through it, so a change to how Xen
//! times things is made here once. It does no I/O and reads no clock: the caller pops
//! events ([`Framework::pop`]), handles its guests' own events, hands the framework's
//! events back ([`Framework::fire`]) and learns which unit a CPU now runs.
//!
//! # What is modelled, and what it stands for in Xen
//!
//! * **Schedule softirq** (`SCHEDULE_SOFTIRQ` -> `do_schedule`): raised on every CPU of a
//!   tickle mask that a call returned (wake, block, `rtsleep`, RT fire, accounting, a
//!   pass). It runs `ipi_delay_ns` later (the IPI, or the interrupt-exit path for the
//!   local CPU); raising it again while it is pending changes nothing, as a pending
//!   softirq bit. Running it is a pass, [`Scheduler::schedule`].
//! * **Slice timer** (`s_timer`): armed at `now + run_ns` after every pass that picked a
//!   unit; its expiry runs a pass at once (it is the local timer interrupt).
//! * **Tick** (credit's per-CPU `ticker`): started, stopped or kept as each pass's
//!   `Scheduled::tick` says; each expiry calls [`Scheduler::tick`], which returns the next
//!   expiry or `None` to stop. A tick never reschedules by itself (as in Xen).
//! * **Accounting timer** (credit's `master_ticker`): first at
//!   [`Scheduler::first_account_ns`], then wherever [`Scheduler::account`] says, its
//!   tickle mask served like any other.
//! * **RT timer** (our per-unit `realtime_ticker`): armed where
//!   [`Scheduler::rt_timer_at`] says, re-read after each call that may move it
//!   (`SCHEDOP_rtsleep`, wake, block, a pass that finds its unit blocked, the expiry
//!   itself), as the shim does: at the registered deadline while the unit is runnable
//!   (a deadline already due fires at once), stopped while it sleeps, when its wake
//!   serves the deadline. Expiry calls [`Scheduler::rt_fire`]. These timers never fire
//!   early, so a stale expiry (`RtcError::StaleTimer`) does not happen here; Xen's may,
//!   and the shim re-arms them where the core says. A refused or accepted call that
//!   ended the unit's RT (`reschedule`) raises its CPU's softirq, as the shim does.
//! * **A model's own timer** (RTDS's replenishment, credit2's cap budget; see
//!   [`Scheduler::timer_at`]): re-armed before the next event whenever the last call
//!   moved it.
//! * **Timer slop**: the periodic timers (tick, accounting, a model's timer) fire up to
//!   `timer_slop_ns` late, uniformly at random from the caller's draw (Xen's
//!   `timer_slop`, 50 us by default). Xen re-arms the tick from its handler, so its
//!   phase drifts against the guests' clocks, as on real hardware.
//!
//! Timers are never removed from the queue: each owner keeps a generation, bumps it
//! when it re-arms or cancels, and an expiry of an older generation is dropped when it
//! comes out (Xen's `set_timer` / `stop_timer`). The guests' own events (their timers,
//! the end of a stretch of work, packets) share the queue, so ties between them and the
//! framework's are broken in the order they were scheduled, and a run is a pure
//! function of its inputs.

pub mod queue;

use std::boxed::Box;
use std::vec::Vec;

use crate::abi::{RtcError, SchedRtsleep};
use crate::cpumask::CpuMask;
use crate::host::{Host, Scheduled, UnitId};
use crate::rt::{RtsleepOutcome, RtsleepRefused};
use crate::sched::TickCmd;
use queue::EventQueue;

/// What Xen's scheduling framework calls of a scheduler while a host runs (the hooks of
/// `struct scheduler` that time drives), in [`Host`]'s terms. [`Host`] implements it by
/// calling the real core; the simulator's models of credit2 and RTDS implement it too.
pub trait Scheduler {
    /// `vcpu_wake`: the CPUs to tickle.
    fn wake(&mut self, unit: UnitId, now: u64) -> Result<CpuMask, RtcError>;
    /// The running `unit` blocks (`SCHEDOP_block`): the CPUs to tickle.
    fn block(&mut self, unit: UnitId, now: u64) -> Result<CpuMask, RtcError>;
    /// The schedule softirq on `cpu`.
    fn schedule(&mut self, cpu: u32, now: u64) -> Result<Scheduled, RtcError>;
    /// The CPU `unit` is on (its `processor`).
    fn unit_cpu(&self, unit: UnitId) -> Option<u32>;
    /// The unit running on `cpu` (`None`: idle, or a model that does not say).
    fn current(&self, _cpu: u32) -> Option<UnitId> {
        None
    }
    /// When `unit`'s RT timer should be armed now (0: stopped); only the core has one.
    fn rt_timer_at(&self, _unit: UnitId) -> u64 {
        0
    }
    /// Credit's per-CPU tick; the next expiry, or `None` to stop. The models have no
    /// tick (and never ask for one to start).
    fn tick(&mut self, _cpu: u32, _now: u64) -> Result<Option<u64>, RtcError> {
        Ok(None)
    }
    /// When credit's accounting timer first fires (`u64::MAX`: never, the models).
    fn first_account_ns(&self) -> u64 {
        u64::MAX
    }
    /// Credit's accounting timer: its next expiry and the CPUs to tickle.
    fn account(&mut self, _now: u64) -> (u64, CpuMask) {
        (u64::MAX, CpuMask::EMPTY)
    }
    /// `SCHEDOP_rtsleep`; only the core has it (the models refuse, and their policies
    /// never let a guest call it).
    fn rtsleep(&mut self, _unit: UnitId, _args: &SchedRtsleep, _now: u64) -> Result<RtsleepOutcome, RtsleepRefused> {
        Err(RtsleepRefused { error: RtcError::NotPermitted, reschedule: false })
    }
    /// Our per-unit RT timer; only the core has it.
    fn rt_fire(&mut self, _unit: UnitId, _now: u64) -> Result<CpuMask, RtcError> {
        Err(RtcError::StaleTimer)
    }
    /// When the scheduler's own timer should fire next (`None`: not armed). Read before
    /// every event, which (re)arms one expiry at that time.
    fn timer_at(&self) -> Option<u64> {
        None
    }
    /// The scheduler's own timer fired: the CPUs to tickle.
    fn timer_fire(&mut self, _now: u64) -> CpuMask {
        CpuMask::EMPTY
    }
}

impl<S: Scheduler + ?Sized> Scheduler for Box<S> {
    fn wake(&mut self, unit: UnitId, now: u64) -> Result<CpuMask, RtcError> {
        (**self).wake(unit, now)
    }
    fn block(&mut self, unit: UnitId, now: u64) -> Result<CpuMask, RtcError> {
        (**self).block(unit, now)
    }
    fn schedule(&mut self, cpu: u32, now: u64) -> Result<Scheduled, RtcError> {
        (**self).schedule(cpu, now)
    }
    fn unit_cpu(&self, unit: UnitId) -> Option<u32> {
        (**self).unit_cpu(unit)
    }
    fn current(&self, cpu: u32) -> Option<UnitId> {
        (**self).current(cpu)
    }
    fn rt_timer_at(&self, unit: UnitId) -> u64 {
        (**self).rt_timer_at(unit)
    }
    fn tick(&mut self, cpu: u32, now: u64) -> Result<Option<u64>, RtcError> {
        (**self).tick(cpu, now)
    }
    fn first_account_ns(&self) -> u64 {
        (**self).first_account_ns()
    }
    fn account(&mut self, now: u64) -> (u64, CpuMask) {
        (**self).account(now)
    }
    fn rtsleep(&mut self, unit: UnitId, args: &SchedRtsleep, now: u64) -> Result<RtsleepOutcome, RtsleepRefused> {
        (**self).rtsleep(unit, args, now)
    }
    fn rt_fire(&mut self, unit: UnitId, now: u64) -> Result<CpuMask, RtcError> {
        (**self).rt_fire(unit, now)
    }
    fn timer_at(&self) -> Option<u64> {
        (**self).timer_at()
    }
    fn timer_fire(&mut self, now: u64) -> CpuMask {
        (**self).timer_fire(now)
    }
}

impl Scheduler for Host {
    fn wake(&mut self, unit: UnitId, now: u64) -> Result<CpuMask, RtcError> {
        Host::wake(self, unit, now)
    }
    fn block(&mut self, unit: UnitId, _now: u64) -> Result<CpuMask, RtcError> {
        // Marked, and told to the core at the CPU's next pass, as the shim does.
        Host::block(self, unit)
    }
    fn schedule(&mut self, cpu: u32, now: u64) -> Result<Scheduled, RtcError> {
        Host::schedule(self, cpu, now, false)
    }
    fn unit_cpu(&self, unit: UnitId) -> Option<u32> {
        self.unit(unit).map(|view| view.cpu)
    }
    fn current(&self, cpu: u32) -> Option<UnitId> {
        Host::current(self, cpu)
    }
    fn rt_timer_at(&self, unit: UnitId) -> u64 {
        Host::rt_timer_at(self, unit)
    }
    fn tick(&mut self, cpu: u32, now: u64) -> Result<Option<u64>, RtcError> {
        Host::tick(self, cpu, now)
    }
    fn first_account_ns(&self) -> u64 {
        self.params().tslice_ns
    }
    fn account(&mut self, now: u64) -> (u64, CpuMask) {
        Host::account(self, now)
    }
    fn rtsleep(&mut self, unit: UnitId, args: &SchedRtsleep, now: u64) -> Result<RtsleepOutcome, RtsleepRefused> {
        Host::rtsleep_call(self, unit, args, now)
    }
    fn rt_fire(&mut self, unit: UnitId, now: u64) -> Result<CpuMask, RtcError> {
        Host::rt_fire(self, unit, now)
    }
}

/// One of the framework's own events (a softirq or a timer expiry), as [`Framework::pop`]
/// hands it out; give it back to [`Framework::fire`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimerEvent {
    Softirq { cpu: u32 },
    Slice { cpu: u32, generation: u64 },
    Tick { cpu: u32, generation: u64 },
    Account,
    RtTimer { unit: UnitId, generation: u64 },
    ModelTimer { generation: u64 },
}

impl TimerEvent {
    /// The CPU whose running unit this event charges or replaces (a pass or a tick):
    /// a caller that keeps its own account of guest progress settles that CPU first.
    pub fn cpu(&self) -> Option<u32> {
        match *self {
            TimerEvent::Softirq { cpu } | TimerEvent::Slice { cpu, .. } | TimerEvent::Tick { cpu, .. } => Some(cpu),
            _ => None,
        }
    }
}

/// What comes out of the queue: the framework's event, or one the caller scheduled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Due<G> {
    Timer(TimerEvent),
    Guest(G),
}

/// What firing an event did that the caller must follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fired {
    /// A pass on `cpu` decided this (its tickles, tick and slice timer already handled).
    Pass { cpu: u32, decision: Scheduled },
    /// A timer the scheduler handled (tick, accounting, RT, a model's).
    Timer,
}

/// A scheduler call that failed, and which.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallError {
    pub operation: &'static str,
    pub error: RtcError,
}

impl core::fmt::Display for CallError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "the scheduler refused {}: {} (code {})", self.operation, self.error, self.error as i32)
    }
}

impl std::error::Error for CallError {}

fn failed(operation: &'static str) -> impl Fn(RtcError) -> CallError {
    move |error| CallError { operation, error }
}

/// The host's timing, in nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    /// From a tickle to the pass on that CPU.
    pub ipi_delay_ns: u64,
    /// Periodic timers fire up to this much late (0: exactly on time).
    pub timer_slop_ns: u64,
}

/// Draws a uniform integer in `0..bound` (the caller's seeded generator).
pub type Draw = Box<dyn FnMut(u64) -> u64>;

/// One unit's RT timer: its generation and where it is armed (0: stopped).
#[derive(Clone, Copy, Debug, Default)]
struct RtTimer {
    generation: u64,
    armed_at_ns: u64,
}

#[derive(Clone, Copy, Debug, Default)]
struct CpuTimers {
    tick_generation: u64,
    slice_generation: u64,
    softirq_pending: bool,
}

/// The framework: a scheduler, its timers and softirqs, and the queue they share with
/// the caller's events of type `G`.
pub struct Framework<S, G> {
    sched: S,
    queue: EventQueue<Due<G>>,
    cpus: Vec<CpuTimers>,
    /// Per unit (index `UnitId.0`): its RT timer.
    rt_timers: Vec<RtTimer>,
    /// The model timer as last armed (before slop) and its generation.
    model_timer_at: Option<u64>,
    model_timer_generation: u64,
    timing: Timing,
    draw: Option<Draw>,
    now: u64,
    popped: u64,
}

impl<S: core::fmt::Debug, G: core::fmt::Debug + Eq> core::fmt::Debug for Framework<S, G> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Framework")
            .field("sched", &self.sched)
            .field("now", &self.now)
            .field("queued", &self.queue.len())
            .field("timing", &self.timing)
            .finish_non_exhaustive()
    }
}

impl<S: Scheduler, G: Eq> Framework<S, G> {
    /// A framework for `ncpus` CPUs around `sched`, at time 0. Add domains and units
    /// through [`Framework::sched_mut`], then [`Framework::start`]. With a slop, `draw`
    /// gives its random part.
    pub fn new(sched: S, ncpus: u32, timing: Timing, draw: Option<Draw>) -> Self {
        Framework {
            sched,
            queue: EventQueue::default(),
            cpus: std::vec![CpuTimers::default(); ncpus as usize],
            rt_timers: Vec::new(),
            model_timer_at: None,
            model_timer_generation: 0,
            timing,
            draw,
            now: 0,
            popped: 0,
        }
    }

    /// Boots the host: arms the accounting timer and the model's, and runs a pass on
    /// every CPU (and on those of `tickle`, what adding the units asked).
    pub fn start(&mut self, tickle: CpuMask) {
        let first_account = self.sched.first_account_ns();
        if first_account != u64::MAX {
            let at = self.slopped(first_account);
            self.queue.push(at, Due::Timer(TimerEvent::Account));
        }
        self.sync_model_timer();
        let mut all = tickle;
        for cpu in 0..self.cpus.len() {
            all.set(cpu as u32);
        }
        self.raise(all);
    }

    pub fn sched(&self) -> &S {
        &self.sched
    }

    pub fn sched_mut(&mut self) -> &mut S {
        &mut self.sched
    }

    /// The time of the last event popped (0 before the first).
    pub fn now(&self) -> u64 {
        self.now
    }

    /// Events popped so far, stale timers included.
    pub fn popped(&self) -> u64 {
        self.popped
    }

    /// Schedules one of the caller's events.
    pub fn push(&mut self, at_ns: u64, event: G) {
        self.queue.push(at_ns, Due::Guest(event));
    }

    /// The next event due at or before `until_ns`, with its time (which becomes
    /// [`Framework::now`]); stale timers are dropped on the way. `None` when nothing is
    /// due by then (the event stays queued).
    pub fn pop(&mut self, until_ns: u64) -> Option<(u64, Due<G>)> {
        // The last event may have moved the model's timer.
        self.sync_model_timer();
        loop {
            if self.queue.peek_time()? > until_ns {
                return None;
            }
            let (at, due) = self.queue.pop()?;
            self.now = at;
            self.popped += 1;
            if let Due::Timer(event) = &due {
                if !self.is_live(event) {
                    continue;
                }
            }
            return Some((at, due));
        }
    }

    fn is_live(&self, event: &TimerEvent) -> bool {
        let cpu = |cpu: u32| self.cpus.get(cpu as usize);
        match *event {
            TimerEvent::Softirq { .. } | TimerEvent::Account => true,
            TimerEvent::Slice { cpu: c, generation } => cpu(c).is_some_and(|t| t.slice_generation == generation),
            TimerEvent::Tick { cpu: c, generation } => cpu(c).is_some_and(|t| t.tick_generation == generation),
            TimerEvent::RtTimer { unit, generation } => {
                self.rt_timers.get(unit.0).is_some_and(|timer| timer.generation == generation)
            }
            TimerEvent::ModelTimer { generation } => generation == self.model_timer_generation,
        }
    }

    /// Handles one of the framework's events popped just now.
    pub fn fire(&mut self, event: TimerEvent) -> Result<Fired, CallError> {
        let now = self.now;
        match event {
            TimerEvent::Softirq { cpu } => {
                if let Some(timers) = self.cpus.get_mut(cpu as usize) {
                    timers.softirq_pending = false;
                }
                self.pass(cpu)
            }
            TimerEvent::Slice { cpu, .. } => self.pass(cpu),
            TimerEvent::Tick { cpu, generation } => {
                if let Some(next) = self.sched.tick(cpu, now).map_err(failed("tick"))? {
                    let at = self.slopped(next);
                    self.queue.push(at, Due::Timer(TimerEvent::Tick { cpu, generation }));
                }
                Ok(Fired::Timer)
            }
            TimerEvent::Account => {
                let (next, tickle) = self.sched.account(now);
                let at = self.slopped(next);
                self.queue.push(at, Due::Timer(TimerEvent::Account));
                self.raise(tickle);
                Ok(Fired::Timer)
            }
            TimerEvent::RtTimer { unit, .. } => {
                if let Some(timer) = self.rt_timers.get_mut(unit.0) {
                    timer.armed_at_ns = 0;
                }
                match self.sched.rt_fire(unit, now) {
                    Ok(tickle) => self.raise(tickle),
                    Err(RtcError::StaleTimer) => {}
                    Err(error) => return Err(CallError { operation: "rt_fire", error }),
                }
                self.sync_rt_timer(unit);
                Ok(Fired::Timer)
            }
            TimerEvent::ModelTimer { .. } => {
                self.model_timer_at = None;
                let tickle = self.sched.timer_fire(now);
                self.raise(tickle);
                Ok(Fired::Timer)
            }
        }
    }

    /// A pass on `cpu` and what Xen does around it: the tickles it asks for, its tick
    /// command, its slice timer.
    fn pass(&mut self, cpu: u32) -> Result<Fired, CallError> {
        let now = self.now;
        let previous = self.sched.current(cpu);
        let decision = self.sched.schedule(cpu, now).map_err(failed("schedule"))?;
        // The pass may have told the core that the unit it found blocked sleeps.
        if let Some(unit) = previous {
            self.sync_rt_timer(unit);
        }
        // An idle CPU the scheduler wants to take work left waiting here.
        self.raise(decision.tickle);
        let index = cpu as usize;
        match decision.tick {
            TickCmd::Keep => {}
            TickCmd::Start => {
                self.cpus[index].tick_generation += 1;
                let generation = self.cpus[index].tick_generation;
                let at = self.slopped(decision.tick_at_ns);
                self.queue.push(at, Due::Timer(TimerEvent::Tick { cpu, generation }));
            }
            TickCmd::Stop => self.cpus[index].tick_generation += 1,
        }
        let timers = &mut self.cpus[index];
        timers.slice_generation += 1;
        if decision.next.is_some() && decision.run_ns != u64::MAX {
            let generation = timers.slice_generation;
            self.queue.push(now.saturating_add(decision.run_ns), Due::Timer(TimerEvent::Slice { cpu, generation }));
        }
        Ok(Fired::Pass { cpu, decision })
    }

    /// Raises the schedule softirq on every CPU of `mask` (once while it is pending).
    pub fn raise(&mut self, mask: CpuMask) {
        for cpu in mask.iter() {
            if let Some(timers) = self.cpus.get_mut(cpu as usize) {
                if !timers.softirq_pending {
                    timers.softirq_pending = true;
                    let at = self.now.saturating_add(self.timing.ipi_delay_ns);
                    self.queue.push(at, Due::Timer(TimerEvent::Softirq { cpu }));
                }
            }
        }
    }

    /// A guest timer or an event channel wakes `unit`.
    pub fn wake(&mut self, unit: UnitId) -> Result<(), CallError> {
        let tickle = self.sched.wake(unit, self.now).map_err(failed("wake"))?;
        self.raise(tickle);
        self.sync_rt_timer(unit);
        Ok(())
    }

    /// The running `unit` blocks (`SCHEDOP_block`).
    pub fn block(&mut self, unit: UnitId) -> Result<(), CallError> {
        let tickle = self.sched.block(unit, self.now).map_err(failed("block"))?;
        self.raise(tickle);
        self.sync_rt_timer(unit);
        Ok(())
    }

    /// `SCHEDOP_rtsleep` from the running `unit`: arms or cancels its RT timer, and
    /// raises its CPU's softirq when the call ended its RT (refused or not), as the
    /// shim does. The scheduler's answer is returned as it gave it.
    pub fn rtsleep(&mut self, unit: UnitId, args: &SchedRtsleep) -> Result<RtsleepOutcome, RtsleepRefused> {
        let answer = self.sched.rtsleep(unit, args, self.now);
        let reschedule = match &answer {
            Ok(outcome) => outcome.reschedule,
            Err(refused) => refused.reschedule,
        };
        if reschedule {
            if let Some(cpu) = self.sched.unit_cpu(unit) {
                self.raise(CpuMask::single(cpu));
            }
        }
        if answer.is_ok() {
            self.sync_rt_timer(unit);
        }
        answer
    }

    /// (Re)arms or stops `unit`'s RT timer where the scheduler wants it now.
    fn sync_rt_timer(&mut self, unit: UnitId) {
        let wanted = self.sched.rt_timer_at(unit);
        if self.rt_timers.len() <= unit.0 {
            self.rt_timers.resize(unit.0 + 1, RtTimer::default());
        }
        let timer = &mut self.rt_timers[unit.0];
        if timer.armed_at_ns == wanted {
            return;
        }
        timer.generation += 1;
        timer.armed_at_ns = wanted;
        if wanted != 0 {
            let generation = timer.generation;
            // A deadline already due is armed in the past: it fires at once.
            let at = wanted.max(self.now);
            self.queue.push(at, Due::Timer(TimerEvent::RtTimer { unit, generation }));
        }
    }

    /// When a periodic timer due at `at` really fires.
    fn slopped(&mut self, at: u64) -> u64 {
        let slop = self.timing.timer_slop_ns;
        match self.draw.as_mut() {
            Some(draw) if slop != 0 => at.saturating_add(draw(slop + 1)),
            _ => at,
        }
    }

    /// (Re)arms the model's own timer if the scheduler moved it.
    fn sync_model_timer(&mut self) {
        let wanted = self.sched.timer_at();
        if wanted == self.model_timer_at {
            return;
        }
        self.model_timer_at = wanted;
        self.model_timer_generation += 1;
        if let Some(at) = wanted {
            let at = self.slopped(at.max(self.now));
            let generation = self.model_timer_generation;
            self.queue.push(at, Due::Timer(TimerEvent::ModelTimer { generation }));
        }
    }
}
