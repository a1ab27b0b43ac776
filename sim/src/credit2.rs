//! A model of Xen 4.17's credit2 scheduler (`xen/common/sched/credit2.c`), the default
//! since Xen 4.12, for comparing RT-Credit against what a user runs instead.
//!
//! # Design (what credit2 does, and what this model keeps)
//!
//! Every unit holds credit, in nanoseconds. A running unit *burns* it: `t` ns of run
//! time cost `t x max_weight / weight` credits, where `max_weight` is the largest
//! weight on the runqueue, so the heaviest unit burns one credit per nanosecond and a
//! unit of half its weight burns two. The remainder of the division is carried over
//! (`residual`) so frequent short runs are charged in full. Credit never goes below
//! `-CREDIT_INIT`.
//!
//! Waiting units sit on the runqueue sorted by credit, highest first (equal credit:
//! first come, first served). A scheduling pass on a CPU keeps its current unit unless
//! the head of the runqueue has *more* credit; a unit last run on another CPU must
//! have `MIGRATE_RESIST` (500 us) more to be pulled over, and gets
//! `MIGRATE_COMPENSATION` (50 us) when it is.
//!
//! An *epoch* ends when the unit about to run, or the head of the runqueue if it has
//! more, has no credit left (credit <= 0): then every unit of the runqueue, blocked
//! ones included, gets `CREDIT_INIT` (10 ms) more, twice that if the next unit hit the
//! floor, and is clipped to `CREDIT_INIT + CARRYOVER_MAX` (10.5 ms). What a unit did
//! not spend in one epoch therefore carries over, up to 0.5 ms: a unit that sleeps a
//! lot starts each epoch near the top.
//!
//! A unit that runs is given a slice computed from credit: until its credit would
//! reach zero, or, if a unit with positive credit waits, until its credit would equal
//! that unit's; never shorter than `MIN_TIMER` (500 us) or than what is left of the
//! rate limit (`sched_ratelimit_us`, 1000 us by default), never longer than
//! `MAX_TIMER` (10 ms); for a capped domain never longer than the budget it holds.
//!
//! A waking unit is queued and a CPU is *tickled* (`runq_tickle`): an idle, not yet
//! tickled CPU if there is one (its own CPU first); otherwise the busy CPU whose unit
//! it beats by the most credit, where beating means more credit than the running unit
//! plus `MIGRATE_RESIST` if that CPU is not the waking unit's own, and where a unit
//! that has run for less than the rate limit (minus a 50 us tolerance) cannot be
//! preempted. If no CPU qualifies nobody is tickled, and the unit waits until the
//! running one's slice ends. The same happens when a preempted unit is put back on
//! the runqueue after its context is saved. A unit that is still within its rate limit
//! keeps its CPU at a pass whatever waits.
//!
//! Caps: a capped domain has a budget of `cap% x CAP_PERIOD` (10 ms) per period, refilled
//! (never above that) every period; its units take quotas of it (`budget / units`, at
//! least 500 us) to run, burn them while running and give back what is left when they
//! stop; a unit that finds the pool empty is *parked* until the next refill.
//!
//! # Simplifications
//!
//! * One runqueue for the whole simulated host. Xen 4.17 makes one per socket by
//!   default (`sched_credit2_runqueue=socket`), so this is exact for one socket (the
//!   paper's host, the end-to-end QEMU guest) and leaves out load balancing between
//!   runqueues (`balance_load`, a no-op with one runqueue).
//! * No SMT (so `smt_idle` is `idle`), no soft affinity (so the tickle score's
//!   soft-affinity bonuses, equal for every CPU, are left out), no hard affinity, no
//!   tasklets, no `yield`, no cpupools.
//! * The context of the previous unit is saved within the pass (`context_saved` runs
//!   at once), so Xen's "delayed runqueue add" window does not exist here.
//! * Credit2's load tracking (`update_load`) only feeds `csched2_res_pick` and load
//!   balancing, which one runqueue does not need; a unit stays on its CPU until a pass
//!   elsewhere pulls it.
//!
//! Reports count a unit's run time as UNDER (credit2 has no priority classes).

use rtcredit::host::{DomId, Scheduled, UnitId};
use rtcredit::{CpuMask, Prio, RtcError, MAX_CPUS};

use crate::engine::DomainSpec;
use crate::sched::{begin_pass, decision, test_or_cycle, unit_index, Scheduler, SimScheduler, UnitStats};

const US: i64 = 1_000;
const MS: i64 = 1_000_000;

/// Credit a unit starts with and an epoch adds (`CSCHED2_CREDIT_INIT`).
pub const CREDIT_INIT: i64 = 10 * MS;
/// The floor of a unit's credit (`CSCHED2_CREDIT_MIN`).
pub const CREDIT_MIN: i64 = -CREDIT_INIT;
/// What the idle unit is worth when a pass compares (`CSCHED2_IDLE_CREDIT`).
const IDLE_CREDIT: i64 = CREDIT_MIN - 1;
/// Shortest slice (`CSCHED2_MIN_TIMER`).
pub const MIN_TIMER_NS: i64 = 500 * US;
/// Most credit carried over an epoch (`CSCHED2_CARRYOVER_MAX`).
pub const CARRYOVER_MAX: i64 = MIN_TIMER_NS;
/// Extra credit needed to take a unit from another CPU (`CSCHED2_MIGRATE_RESIST`,
/// `sched_credit2_migrate_resist=500` by default).
pub const MIGRATE_RESIST: i64 = 500 * US;
/// Credit given to a unit pulled to another CPU (`CSCHED2_MIGRATE_COMPENSATION`).
pub const MIGRATE_COMPENSATION: i64 = 50 * US;
/// Slack on the rate limit when a wake-up looks at a running unit.
pub const RATELIMIT_TICKLE_TOLERANCE: i64 = 50 * US;
/// An epoch ends when the next unit's credit is at or below this (`CSCHED2_CREDIT_RESET`).
pub const CREDIT_RESET: i64 = 0;
/// Longest slice (`CSCHED2_MAX_TIMER`).
pub const MAX_TIMER_NS: i64 = CREDIT_INIT;
/// Period of the cap budget (`sched_credit2_cap_period_ms=10`).
pub const CAP_PERIOD_NS: i64 = 10 * MS;
/// Xen's default `sched_ratelimit_us`.
pub const DEFAULT_RATELIMIT_NS: u64 = 1_000_000;

#[derive(Clone, Debug)]
struct Unit {
    dom: usize,
    weight: i64,
    credit: i64,
    /// Remainder of the last time-to-credit division.
    residual: i64,
    /// Credit is burned from here (while running).
    start_ns: u64,
    /// When it last started running (`state_entry_time`, for the rate limit).
    running_since_ns: u64,
    /// Its CPU (`processor`).
    cpu: u32,
    /// Not blocked.
    awake: bool,
    /// Waiting for cap budget.
    parked: bool,
    /// Cap budget it holds (capped domains only).
    budget: i64,
    /// CPU tickled to pick it up, if any.
    tickled_cpu: Option<u32>,
    stats: UnitStats,
}

#[derive(Clone, Debug, Default)]
struct Domain {
    weight: i64,
    /// Budget per period (0: no cap).
    total_budget: i64,
    /// Budget left in the pool.
    budget: i64,
    budget_quota: i64,
    next_refill_ns: u64,
    parked: Vec<usize>,
    units: usize,
}

/// The credit2 model.
#[derive(Clone, Debug)]
pub struct Credit2 {
    ratelimit_ns: i64,
    units: Vec<Unit>,
    domains: Vec<Domain>,
    /// Waiting units, highest credit first.
    runq: Vec<usize>,
    current: Vec<Option<usize>>,
    idle: CpuMask,
    tickled: CpuMask,
    max_weight: i64,
}

impl Credit2 {
    /// A host of `ncpus` CPUs (one runqueue) with rate limit `ratelimit_ns` (0: none).
    pub fn new(ncpus: u32, ratelimit_ns: u64) -> Result<Credit2, RtcError> {
        if ncpus == 0 || ncpus as usize > MAX_CPUS {
            return Err(RtcError::CpuOutOfRange);
        }
        Ok(Credit2 {
            ratelimit_ns: ratelimit_ns as i64,
            units: Vec::new(),
            domains: Vec::new(),
            runq: Vec::new(),
            current: vec![None; ncpus as usize],
            idle: CpuMask::first_n(ncpus as usize),
            tickled: CpuMask::EMPTY,
            max_weight: 1,
        })
    }

    /// A unit's credit, ns (tests).
    pub fn credit(&self, unit: UnitId) -> Option<i64> {
        self.units.get(unit.0).map(|u| u.credit)
    }

    fn ncpus(&self) -> u32 {
        self.current.len() as u32
    }

    fn capped(&self, unit: usize) -> bool {
        self.domains[self.units[unit].dom].total_budget > 0
    }

    /// Runnable as Xen's `unit_runnable` sees it: awake and not parked.
    fn runnable(&self, unit: usize) -> bool {
        self.units[unit].awake && !self.units[unit].parked
    }

    fn running_on(&self, unit: usize) -> Option<u32> {
        let cpu = self.units[unit].cpu;
        (self.current.get(cpu as usize) == Some(&Some(unit))).then_some(cpu)
    }

    /// `burn_credits`: charges the running `unit` for the time since `start_ns`.
    fn burn(&mut self, unit: usize, now: u64) {
        let max_weight = self.max_weight;
        let capped = self.capped(unit);
        let u = &mut self.units[unit];
        let delta = now.saturating_sub(u.start_ns) as i64;
        if delta <= 0 {
            return;
        }
        let scaled = delta * max_weight + u.residual;
        u.residual = scaled % u.weight;
        u.credit = (u.credit - scaled / u.weight).max(CREDIT_MIN);
        if capped {
            u.budget -= delta;
        }
        u.start_ns = now;
        u.stats.add_run(Prio::Under, delta as u64);
    }

    /// `c2t`: how long `unit` runs to burn `credit`.
    fn credit_to_time(&self, unit: usize, credit: i64) -> i64 {
        credit * self.units[unit].weight / self.max_weight
    }

    /// `runq_insert`: by credit, after every unit with as much.
    fn runq_insert(&mut self, unit: usize) {
        debug_assert!(!self.runq.contains(&unit));
        let credit = self.units[unit].credit;
        let at = self.runq.iter().position(|&other| credit > self.units[other].credit).unwrap_or(self.runq.len());
        self.runq.insert(at, unit);
    }

    fn runq_remove(&mut self, unit: usize) {
        self.runq.retain(|&other| other != unit);
    }

    fn tickle_cpu(&mut self, cpu: u32, mask: &mut CpuMask) {
        self.tickled.set(cpu);
        mask.set(cpu);
    }

    /// Whether the unit running on a CPU since `since` may be preempted now.
    fn preemptable(&self, since: u64, now: u64) -> bool {
        if self.ratelimit_ns <= RATELIMIT_TICKLE_TOLERANCE {
            return true;
        }
        now.saturating_sub(since) as i64 > self.ratelimit_ns - RATELIMIT_TICKLE_TOLERANCE
    }

    /// `tickle_score`: how much `new` beats what runs on `cpu` (<= 0: it does not).
    fn tickle_score(&mut self, new: usize, cpu: u32, now: u64) -> i64 {
        let Some(cur) = self.current[cpu as usize] else { return -1 };
        if !self.preemptable(self.units[cur].running_since_ns, now) {
            return -1;
        }
        self.burn(cur, now);
        let mut score = self.units[new].credit - self.units[cur].credit;
        if self.units[new].cpu != cpu {
            score -= MIGRATE_RESIST;
        }
        score
    }

    /// `runq_tickle`: which CPU should pick up `new`, just queued.
    fn runq_tickle(&mut self, new: usize, now: u64) -> CpuMask {
        let mut mask = CpuMask::EMPTY;
        let home = self.units[new].cpu;
        let free = self.idle.and_not(&self.tickled);
        if let Some(cpu) = test_or_cycle(home, &free) {
            self.tickle_cpu(cpu, &mut mask);
            self.units[new].tickled_cpu = Some(cpu);
            return mask;
        }
        let busy = CpuMask::first_n(self.ncpus() as usize).and_not(&self.idle).and_not(&self.tickled);
        let mut best: Option<(i64, u32)> = None;
        if busy.contains(home) {
            let score = self.tickle_score(new, home, now);
            if score > 0 {
                // Its own CPU, when good enough, is taken without looking further.
                self.tickle_cpu(home, &mut mask);
                self.units[new].tickled_cpu = Some(home);
                return mask;
            }
        }
        for cpu in busy.iter().filter(|&cpu| cpu != home) {
            let score = self.tickle_score(new, cpu, now);
            if score > best.map_or(0, |(max, _)| max) {
                best = Some((score, cpu));
            }
        }
        if let Some((_, cpu)) = best {
            self.tickle_cpu(cpu, &mut mask);
            self.units[new].tickled_cpu = Some(cpu);
        }
        mask
    }

    /// `park_unit`: no budget; off the runqueue until the next refill.
    fn park(&mut self, unit: usize) {
        self.units[unit].parked = true;
        self.runq_remove(unit);
        let dom = self.units[unit].dom;
        self.domains[dom].parked.push(unit);
    }

    /// `unit_grab_budget`: takes a quota from the domain's pool, or parks.
    fn grab_budget(&mut self, unit: usize) -> bool {
        if self.units[unit].budget > 0 {
            return true;
        }
        let dom = self.units[unit].dom;
        let d = &mut self.domains[dom];
        d.budget += self.units[unit].budget;
        if d.budget > 0 {
            let quota = d.budget_quota.min(d.budget);
            d.budget -= quota;
            self.units[unit].budget = quota;
        } else {
            self.units[unit].budget = 0;
            self.park(unit);
        }
        self.units[unit].budget > 0
    }

    /// `unpark_parked_units`: the domain has budget again.
    fn unpark(&mut self, dom: usize, now: u64) -> CpuMask {
        let mut mask = CpuMask::EMPTY;
        for unit in std::mem::take(&mut self.domains[dom].parked) {
            self.units[unit].parked = false;
            if self.units[unit].awake && self.running_on(unit).is_none() && !self.runq.contains(&unit) {
                self.runq_insert(unit);
                mask = mask.or(&self.runq_tickle(unit, now));
            }
        }
        mask
    }

    /// `reset_credit`: a new epoch.
    fn reset_credit(&mut self, next: usize, now: u64, mask: &mut CpuMask) {
        let mut reset = CREDIT_INIT;
        if self.units[next].credit == CREDIT_MIN {
            reset += CREDIT_INIT;
        }
        for unit in 0..self.units.len() {
            if let Some(cpu) = self.running_on(unit) {
                self.burn(unit, now);
                if self.capped(unit) && self.units[unit].budget <= 0 {
                    self.tickle_cpu(cpu, mask);
                }
            }
            let u = &mut self.units[unit];
            u.credit = (u.credit + reset).min(CREDIT_INIT + CARRYOVER_MAX);
            u.start_ns = now;
        }
    }

    /// `runq_candidate`: who runs next on `cpu` (`None`: idle).
    fn candidate(&mut self, current: Option<usize>, cpu: u32, now: u64) -> Option<usize> {
        let mut next = None;
        if let Some(cur) = current {
            if self.runnable(cur) {
                // Within its rate limit it keeps the CPU, whatever waits.
                if self.ratelimit_ns > 0
                    && (now.saturating_sub(self.units[cur].running_since_ns) as i64) < self.ratelimit_ns
                {
                    return Some(cur);
                }
                next = Some(cur);
            }
        }
        let next_credit = next.map_or(IDLE_CREDIT, |unit| self.units[unit].credit);
        for unit in self.runq.clone() {
            if self.units[unit].credit <= next_credit {
                break;
            }
            if !self.runnable(unit) {
                continue;
            }
            // Meant for another CPU that has not run its pass yet: leave it.
            if let Some(tickled) = self.units[unit].tickled_cpu {
                if tickled != cpu && self.tickled.contains(tickled) {
                    continue;
                }
            }
            if self.units[unit].cpu != cpu && next_credit + MIGRATE_RESIST > self.units[unit].credit {
                continue;
            }
            if self.capped(unit) && !self.grab_budget(unit) {
                continue;
            }
            return Some(unit);
        }
        next
    }

    /// `csched2_runtime`: the slice of `next`, which `continuing` says was running.
    fn runtime(&self, next: usize, continuing: bool, now: u64) -> i64 {
        let mut min_time = MIN_TIMER_NS;
        if self.ratelimit_ns > 0 {
            let ratelimit_min = if continuing {
                self.units[next].running_since_ns as i64 + self.ratelimit_ns - now as i64
            } else {
                self.ratelimit_ns
            };
            min_time = min_time.max(ratelimit_min);
        }
        let mut credit = self.units[next].credit;
        if let Some(&waiting) = self.runq.first() {
            if self.units[waiting].credit > 0 {
                credit -= self.units[waiting].credit;
            }
        }
        let mut time = if credit > 0 { self.credit_to_time(next, credit) } else { 0 };
        if self.capped(next) {
            time = time.min(self.units[next].budget);
        }
        if time < min_time {
            min_time
        } else {
            time.min(MAX_TIMER_NS)
        }
    }

    /// `csched2_context_saved` for `prev`, which stopped running.
    fn context_saved(&mut self, prev: usize, now: u64) -> CpuMask {
        let mut mask = CpuMask::EMPTY;
        if self.capped(prev) && self.units[prev].budget > 0 {
            let dom = self.units[prev].dom;
            self.domains[dom].budget += self.units[prev].budget;
            self.units[prev].budget = 0;
            if self.domains[dom].budget > 0 {
                mask = mask.or(&self.unpark(dom, now));
            }
        }
        if self.runnable(prev) && !self.runq.contains(&prev) {
            self.runq_insert(prev);
            mask = mask.or(&self.runq_tickle(prev, now));
        }
        mask
    }
}

impl Scheduler for Credit2 {
    fn wake(&mut self, unit: UnitId, now: u64) -> Result<CpuMask, RtcError> {
        let unit = unit_index(unit, self.units.len())?;
        self.units[unit].awake = true;
        if self.units[unit].parked || self.running_on(unit).is_some() || self.runq.contains(&unit) {
            return Ok(CpuMask::EMPTY);
        }
        self.runq_insert(unit);
        Ok(self.runq_tickle(unit, now))
    }

    fn block(&mut self, unit: UnitId, _now: u64) -> Result<CpuMask, RtcError> {
        let unit = unit_index(unit, self.units.len())?;
        self.units[unit].awake = false;
        if let Some(cpu) = self.running_on(unit) {
            self.tickled.set(cpu);
            return Ok(CpuMask::single(cpu));
        }
        self.runq_remove(unit);
        Ok(CpuMask::EMPTY)
    }

    fn schedule(&mut self, cpu: u32, now: u64) -> Result<Scheduled, RtcError> {
        let slot = cpu as usize;
        let current = begin_pass(&self.current, &mut self.tickled, cpu)?;
        if let Some(cur) = current {
            self.burn(cur, now);
            if self.capped(cur) && self.units[cur].budget <= 0 {
                self.grab_budget(cur);
            }
        }
        let next = self.candidate(current, cpu, now);
        let mut tickle = CpuMask::EMPTY;
        let mut migrated = false;
        let continuing = next.is_some() && next == current;
        if let Some(unit) = next {
            if !continuing {
                self.runq_remove(unit);
                self.units[unit].running_since_ns = now;
                self.units[unit].stats.runs += 1;
            }
            self.idle.clear(cpu);
            let head_credit = self.runq.first().map_or(i64::MIN, |&head| self.units[head].credit);
            if self.units[unit].credit.max(head_credit) <= CREDIT_RESET {
                self.reset_credit(unit, now, &mut tickle);
            }
            let u = &mut self.units[unit];
            u.start_ns = now;
            u.tickled_cpu = None;
            if u.cpu != cpu {
                u.credit += MIGRATE_COMPENSATION;
                u.cpu = cpu;
                u.stats.cpu = cpu;
                migrated = true;
            }
        } else {
            self.idle.set(cpu);
        }
        let run_ns = next.map_or(u64::MAX, |unit| self.runtime(unit, continuing, now) as u64);
        self.current[slot] = next;
        if let Some(prev) = current.filter(|_| !continuing) {
            tickle = tickle.or(&self.context_saved(prev, now));
        }
        Ok(decision(next.map(UnitId), run_ns, !continuing && (current.is_some() || next.is_some()), migrated, tickle))
    }

    /// The earliest budget refill of a capped domain.
    fn timer_at(&self) -> Option<u64> {
        self.domains.iter().filter(|d| d.total_budget > 0).map(|d| d.next_refill_ns).min()
    }

    /// `replenish_domain_budget` for every capped domain that is due.
    fn timer_fire(&mut self, now: u64) -> CpuMask {
        let mut mask = CpuMask::EMPTY;
        for dom in 0..self.domains.len() {
            let d = &mut self.domains[dom];
            if d.total_budget == 0 || d.next_refill_ns > now {
                continue;
            }
            while d.next_refill_ns <= now {
                d.next_refill_ns += CAP_PERIOD_NS as u64;
                d.budget += d.total_budget;
            }
            if d.budget <= 0 {
                continue;
            }
            d.budget = d.budget.min(d.total_budget);
            mask = mask.or(&self.unpark(dom, now));
        }
        mask
    }

    fn unit_cpu(&self, unit: UnitId) -> Option<u32> {
        self.unit_stats(unit).map(|stats| stats.cpu)
    }
}

impl SimScheduler for Credit2 {
    fn add_domain(&mut self, _domid: u32, spec: &DomainSpec) -> Result<DomId, RtcError> {
        spec.params.validate()?;
        let total_budget = CAP_PERIOD_NS * i64::from(spec.params.cap) / 100;
        self.domains.push(Domain {
            weight: i64::from(spec.params.weight),
            total_budget,
            budget: total_budget,
            next_refill_ns: CAP_PERIOD_NS as u64,
            ..Domain::default()
        });
        Ok(DomId(self.domains.len() - 1))
    }

    fn add_unit(&mut self, dom: DomId, cpu: u32, now: u64) -> Result<(UnitId, CpuMask), RtcError> {
        if cpu >= self.ncpus() {
            return Err(RtcError::CpuOutOfRange);
        }
        let Some(domain) = self.domains.get_mut(dom.0) else { return Err(RtcError::NullPointer) };
        domain.units += 1;
        if domain.total_budget > 0 {
            domain.budget_quota = (domain.total_budget / domain.units as i64).max(MIN_TIMER_NS);
        }
        let weight = domain.weight;
        self.max_weight = self.max_weight.max(weight);
        self.units.push(Unit {
            dom: dom.0,
            weight,
            credit: CREDIT_INIT,
            residual: 0,
            start_ns: now,
            running_since_ns: now,
            cpu,
            awake: true,
            parked: false,
            budget: 0,
            tickled_cpu: None,
            stats: UnitStats { cpu, ..UnitStats::default() },
        });
        let unit = self.units.len() - 1;
        self.runq_insert(unit);
        let mask = self.runq_tickle(unit, now);
        Ok((UnitId(unit), mask))
    }

    fn unit_stats(&self, unit: UnitId) -> Option<UnitStats> {
        self.units.get(unit.0).map(|u| u.stats)
    }

    fn queue(&self, _cpu: u32) -> Vec<UnitId> {
        self.runq.iter().map(|&unit| UnitId(unit)).collect()
    }
}
