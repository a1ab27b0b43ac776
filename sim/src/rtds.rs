//! A model of Xen 4.17's RTDS scheduler (`xen/common/sched/rt.c`): what an
//! administrator who needs a latency guarantee on Xen reaches for today.
//!
//! # Design (what RTDS does, and what this model keeps)
//!
//! Global preemptive EDF over per-VCPU *deferrable servers*. Each unit has a period
//! and a budget (defaults 10 ms and 4 ms) and a current deadline at the end of its
//! current period; periods lie on a grid from time 0 (`rt_update_deadline` moves the
//! deadline forward by whole periods). At each period boundary the unit's budget is
//! refilled and its unused budget is lost. While it runs it burns budget; while it has
//! nothing to do (blocked) its budget is kept (that is the *deferrable* server), and a
//! unit that wakes after its deadline starts a new period at once with a full budget.
//!
//! Priority: a lower *priority level* first, then the earlier deadline. A unit whose
//! budget runs out either waits on the *depleted queue* until its next replenishment,
//! or, with the `extratime` flag (set by default in 4.17), moves one priority level
//! down and gets a fresh budget: it keeps running in time nobody's reservation
//! claims, behind every unit still within its budget. A replenishment puts it back to
//! level 0.
//!
//! One global runqueue holds the runnable units that have budget (or extratime), in
//! priority order; a pass on a CPU runs its head unless the current unit, still
//! runnable and with budget, has higher priority; the chosen unit runs for the budget
//! it has left (no tick, no rate limit). A unit that wakes, or is put back on the
//! runqueue after being preempted, tickles an idle CPU (its own first), else the CPU
//! running the lowest-priority unit if the new one beats it. One replenishment timer
//! serves every unit: it fires at the earliest deadline among the units that are awake
//! (the replenishment queue), refills every unit that is due, re-sorts them, and
//! tickles a CPU when a refilled unit should now preempt (a waiting unit beats a
//! running one whose deadline moved, or a depleted unit is back).
//!
//! The replenishment queue is kept sorted as `rt.c` keeps it, by the same comparison
//! as the runqueue (priority level, then deadline) at the time of insertion.
//!
//! # Simplifications
//!
//! * No affinity, cpupools or tasklets; per-domain parameters (Xen sets them per VCPU;
//!   here every VCPU of a domain gets its domain's).
//! * The previous unit's context is saved within the pass (`rt_context_saved` at once).
//!
//! Reports count run time at priority level 0 (within budget) as UNDER and at a level
//! above 0 (extratime) as OVER.

use rtcredit::host::{DomId, Scheduled, UnitId};
use rtcredit::{CpuMask, Prio, RtcError, MAX_CPUS};

use crate::engine::DomainSpec;
use crate::sched::{begin_pass, decision, test_or_cycle, unit_index, Scheduler, SimScheduler, UnitStats};

const US: u64 = 1_000;

/// RTDS's default period (`RTDS_DEFAULT_PERIOD`).
pub const DEFAULT_PERIOD_NS: u64 = 10_000 * US;
/// RTDS's default budget (`RTDS_DEFAULT_BUDGET`).
pub const DEFAULT_BUDGET_NS: u64 = 4_000 * US;
/// Shortest period and budget Xen accepts (`RTDS_MIN_PERIOD`, `RTDS_MIN_BUDGET`).
pub const MIN_PERIOD_NS: u64 = 10 * US;
pub const MIN_BUDGET_NS: u64 = 10 * US;
/// Longest period the simulator accepts (Xen's bound is the time type's range).
pub const MAX_PERIOD_NS: u64 = 10_000_000 * US;

/// A domain's RTDS parameters (`xl sched-rtds -d D -p PERIOD -b BUDGET -e EXTRA`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RtdsParams {
    pub period_ns: u64,
    pub budget_ns: u64,
    pub extratime: bool,
}

impl Default for RtdsParams {
    fn default() -> Self {
        RtdsParams { period_ns: DEFAULT_PERIOD_NS, budget_ns: DEFAULT_BUDGET_NS, extratime: true }
    }
}

/// Why a domain's RTDS parameters are refused (as `rt_dom_cntl` refuses them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RtdsParamsError {
    #[error("period must be in {MIN_PERIOD_NS}..={MAX_PERIOD_NS} ns")]
    Period,
    #[error("budget must be at least {MIN_BUDGET_NS} ns and at most the period")]
    Budget,
}

impl RtdsParams {
    /// Checks the parameters as Xen does: period at least 10 us, budget 10 us..=period.
    pub fn validate(&self) -> Result<(), RtdsParamsError> {
        if !(MIN_PERIOD_NS..=MAX_PERIOD_NS).contains(&self.period_ns) {
            return Err(RtdsParamsError::Period);
        }
        if self.budget_ns < MIN_BUDGET_NS || self.budget_ns > self.period_ns {
            return Err(RtdsParamsError::Budget);
        }
        Ok(())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Queue {
    None,
    Run,
    Depleted,
}

#[derive(Clone, Debug)]
struct Unit {
    period_ns: i64,
    budget_ns: i64,
    extratime: bool,
    budget_left_ns: i64,
    deadline_ns: i64,
    last_start_ns: u64,
    level: u32,
    /// Ran out of budget without extratime (cleared by the replenishment that sees it).
    depleted: bool,
    queue: Queue,
    on_replq: bool,
    awake: bool,
    cpu: u32,
    stats: UnitStats,
}

/// The RTDS model.
#[derive(Clone, Debug)]
pub struct Rtds {
    units: Vec<Unit>,
    domains: Vec<RtdsParams>,
    runq: Vec<usize>,
    depletedq: Vec<usize>,
    /// Awake units by their next replenishment (see the module's notes on its order).
    replq: Vec<usize>,
    current: Vec<Option<usize>>,
    tickled: CpuMask,
}

impl Rtds {
    pub fn new(ncpus: u32) -> Result<Rtds, RtcError> {
        if ncpus == 0 || ncpus as usize > MAX_CPUS {
            return Err(RtcError::CpuOutOfRange);
        }
        Ok(Rtds {
            units: Vec::new(),
            domains: Vec::new(),
            runq: Vec::new(),
            depletedq: Vec::new(),
            replq: Vec::new(),
            current: vec![None; ncpus as usize],
            tickled: CpuMask::EMPTY,
        })
    }

    /// A unit's current deadline, ns (tests).
    pub fn deadline_ns(&self, unit: UnitId) -> Option<u64> {
        self.units.get(unit.0).map(|u| u.deadline_ns as u64)
    }

    /// `compare_unit_priority`: > 0 when `a` has higher priority than `b`.
    fn compare(&self, a: usize, b: usize) -> i64 {
        let (a, b) = (&self.units[a], &self.units[b]);
        if a.level != b.level {
            return i64::from(b.level) - i64::from(a.level);
        }
        b.deadline_ns - a.deadline_ns
    }

    /// `deadline_queue_insert`: before the first entry `unit` beats; true if first.
    fn sorted_insert(&self, queue: &mut Vec<usize>, unit: usize) -> bool {
        let at = queue.iter().position(|&other| self.compare(unit, other) > 0).unwrap_or(queue.len());
        queue.insert(at, unit);
        at == 0
    }

    fn running_on(&self, unit: usize) -> Option<u32> {
        let cpu = self.units[unit].cpu;
        (self.current.get(cpu as usize) == Some(&Some(unit))).then_some(cpu)
    }

    /// `rt_update_deadline`: a new period (on the grid) with a full budget.
    fn update_deadline(&mut self, unit: usize, now: u64) {
        let running = self.running_on(unit).is_some();
        let u = &mut self.units[unit];
        if running {
            // The budget of the ending period is dropped, but the run time still counts.
            let prio = if u.level == 0 { Prio::Under } else { Prio::Over };
            u.stats.add_run(prio, now.saturating_sub(u.last_start_ns));
        }
        let now = now as i64;
        let count = (now - u.deadline_ns) / u.period_ns + 1;
        u.deadline_ns += count * u.period_ns;
        u.last_start_ns = now as u64;
        u.budget_left_ns = u.budget_ns;
        u.level = 0;
    }

    /// `burn_budget` for the running `unit`.
    fn burn(&mut self, unit: usize, now: u64) {
        let u = &mut self.units[unit];
        let delta = now.saturating_sub(u.last_start_ns);
        u.stats.add_run(if u.level == 0 { Prio::Under } else { Prio::Over }, delta);
        u.budget_left_ns -= delta as i64;
        u.last_start_ns = now;
        if u.budget_left_ns <= 0 {
            if u.extratime {
                u.level += 1;
                u.budget_left_ns = u.budget_ns;
            } else {
                u.budget_left_ns = 0;
                u.depleted = true;
            }
        }
    }

    /// `runq_insert`: the runqueue with budget or extratime, else the depleted queue.
    fn runq_insert(&mut self, unit: usize) {
        let u = &self.units[unit];
        if u.budget_left_ns > 0 || u.extratime {
            let mut runq = std::mem::take(&mut self.runq);
            self.sorted_insert(&mut runq, unit);
            self.runq = runq;
            self.units[unit].queue = Queue::Run;
        } else {
            self.depletedq.insert(0, unit);
            self.units[unit].queue = Queue::Depleted;
        }
    }

    fn q_remove(&mut self, unit: usize) {
        match self.units[unit].queue {
            Queue::Run => self.runq.retain(|&other| other != unit),
            Queue::Depleted => self.depletedq.retain(|&other| other != unit),
            Queue::None => {}
        }
        self.units[unit].queue = Queue::None;
    }

    fn replq_insert(&mut self, unit: usize) {
        if self.units[unit].on_replq {
            return;
        }
        let mut replq = std::mem::take(&mut self.replq);
        self.sorted_insert(&mut replq, unit);
        self.replq = replq;
        self.units[unit].on_replq = true;
    }

    fn replq_remove(&mut self, unit: usize) {
        self.replq.retain(|&other| other != unit);
        self.units[unit].on_replq = false;
    }

    /// `runq_tickle`: an idle CPU, else the one running the lowest-priority unit if
    /// `new` beats it.
    fn runq_tickle(&mut self, new: usize) -> CpuMask {
        let not_tickled = CpuMask::first_n(self.current.len()).and_not(&self.tickled);
        let mut lowest: Option<usize> = None;
        let mut left = not_tickled;
        let mut cpu = test_or_cycle(self.units[new].cpu, &left);
        while let Some(at) = cpu {
            match self.current[at as usize] {
                None => return self.tickle(at),
                Some(running) => {
                    if lowest.is_none_or(|low| self.compare(running, low) < 0) {
                        lowest = Some(running);
                    }
                }
            }
            left.clear(at);
            cpu = left.cycle_after(at);
        }
        match lowest {
            Some(low) if self.compare(low, new) < 0 => {
                let at = self.units[low].cpu;
                self.tickle(at)
            }
            _ => CpuMask::EMPTY,
        }
    }

    fn tickle(&mut self, cpu: u32) -> CpuMask {
        self.tickled.set(cpu);
        CpuMask::single(cpu)
    }
}

impl Scheduler for Rtds {
    /// `rt_unit_wake`: a unit past its deadline starts a new period.
    fn wake(&mut self, unit: UnitId, now: u64) -> Result<CpuMask, RtcError> {
        let unit = unit_index(unit, self.units.len())?;
        self.units[unit].awake = true;
        if self.running_on(unit).is_some() || self.units[unit].queue != Queue::None {
            return Ok(CpuMask::EMPTY);
        }
        if now as i64 >= self.units[unit].deadline_ns {
            self.update_deadline(unit, now);
        }
        self.replq_insert(unit);
        self.runq_insert(unit);
        Ok(self.runq_tickle(unit))
    }

    /// `rt_unit_sleep`.
    fn block(&mut self, unit: UnitId, _now: u64) -> Result<CpuMask, RtcError> {
        let unit = unit_index(unit, self.units.len())?;
        self.units[unit].awake = false;
        if let Some(cpu) = self.running_on(unit) {
            return Ok(CpuMask::single(cpu));
        }
        if self.units[unit].queue != Queue::None {
            self.q_remove(unit);
            self.replq_remove(unit);
        }
        Ok(CpuMask::EMPTY)
    }

    /// `rt_schedule`, then `rt_context_saved` for the unit that stopped.
    fn schedule(&mut self, cpu: u32, now: u64) -> Result<Scheduled, RtcError> {
        let slot = cpu as usize;
        let current = begin_pass(&self.current, &mut self.tickled, cpu)?;
        if let Some(cur) = current {
            self.burn(cur, now);
        }
        let mut next = self.runq.first().copied();
        if let Some(cur) = current {
            let u = &self.units[cur];
            if u.awake && u.budget_left_ns > 0 && next.is_none_or(|head| self.compare(cur, head) > 0) {
                next = Some(cur);
            }
        }
        let continuing = next.is_some() && next == current;
        let mut migrated = false;
        let mut run_ns = u64::MAX;
        if let Some(unit) = next {
            if !continuing {
                self.q_remove(unit);
                self.units[unit].stats.runs += 1;
            }
            let u = &mut self.units[unit];
            u.last_start_ns = now;
            if u.cpu != cpu {
                u.cpu = cpu;
                u.stats.cpu = cpu;
                migrated = true;
            }
            run_ns = u.budget_left_ns as u64;
        }
        self.current[slot] = next;
        let mut tickle = CpuMask::EMPTY;
        if let Some(prev) = current.filter(|_| !continuing) {
            if self.units[prev].awake {
                self.runq_insert(prev);
                tickle = self.runq_tickle(prev);
            } else {
                self.replq_remove(prev);
            }
        }
        Ok(decision(next.map(UnitId), run_ns, !continuing && (current.is_some() || next.is_some()), migrated, tickle))
    }

    /// The replenishment timer: the head of the replenishment queue.
    fn timer_at(&self) -> Option<u64> {
        self.replq.first().map(|&unit| self.units[unit].deadline_ns as u64)
    }

    /// `repl_timer_handler`.
    fn timer_fire(&mut self, now: u64) -> CpuMask {
        let mut refilled = Vec::new();
        while let Some(&unit) = self.replq.first() {
            if (now as i64) < self.units[unit].deadline_ns {
                break;
            }
            self.replq.remove(0);
            self.units[unit].on_replq = false;
            self.update_deadline(unit, now);
            // `list_add` at the head: the list is walked in reverse order below.
            refilled.insert(0, unit);
            if self.units[unit].queue != Queue::None {
                self.q_remove(unit);
                self.runq_insert(unit);
            }
        }
        let mut mask = CpuMask::EMPTY;
        for unit in refilled {
            if self.running_on(unit).is_some() {
                if let Some(&head) = self.runq.first() {
                    if self.compare(unit, head) < 0 {
                        mask = mask.or(&self.runq_tickle(head));
                    }
                }
            } else if std::mem::take(&mut self.units[unit].depleted) && self.units[unit].queue != Queue::None {
                mask = mask.or(&self.runq_tickle(unit));
            }
            self.replq_insert(unit);
        }
        mask
    }

    fn unit_cpu(&self, unit: UnitId) -> Option<u32> {
        self.unit_stats(unit).map(|stats| stats.cpu)
    }
}

impl SimScheduler for Rtds {
    fn add_domain(&mut self, _domid: u32, spec: &DomainSpec) -> Result<DomId, RtcError> {
        spec.params.validate()?;
        // Scenario files check these fields first and name them; this is the last guard.
        spec.rtds.validate().map_err(|_| RtcError::BadTimeslice)?;
        self.domains.push(spec.rtds);
        Ok(DomId(self.domains.len() - 1))
    }

    /// `rt_unit_insert`: the first period starts now (on the grid from 0).
    fn add_unit(&mut self, dom: DomId, cpu: u32, now: u64) -> Result<(UnitId, CpuMask), RtcError> {
        if cpu as usize >= self.current.len() {
            return Err(RtcError::CpuOutOfRange);
        }
        let Some(params) = self.domains.get(dom.0).copied() else { return Err(RtcError::NullPointer) };
        self.units.push(Unit {
            period_ns: params.period_ns as i64,
            budget_ns: params.budget_ns as i64,
            extratime: params.extratime,
            budget_left_ns: 0,
            deadline_ns: 0,
            last_start_ns: 0,
            level: 0,
            depleted: false,
            queue: Queue::None,
            on_replq: false,
            awake: true,
            cpu,
            stats: UnitStats { cpu, ..UnitStats::default() },
        });
        let unit = self.units.len() - 1;
        self.update_deadline(unit, now);
        self.replq_insert(unit);
        self.runq_insert(unit);
        Ok((UnitId(unit), CpuMask::EMPTY))
    }

    fn unit_stats(&self, unit: UnitId) -> Option<UnitStats> {
        self.units.get(unit.0).map(|u| u.stats)
    }

    fn queue(&self, _cpu: u32) -> Vec<UnitId> {
        self.runq.iter().map(|&unit| UnitId(unit)).collect()
    }
}
