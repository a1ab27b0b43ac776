//! The objects the host allocates and the core manages: [`Unit`], [`Domain`], [`Cpu`],
//! [`Accounting`] and [`Shared`], with the lock that guards each.
//!
//! | object | guarded by | touched by |
//! | --- | --- | --- |
//! | [`Cpu`] (run queues, resident units, current) | that CPU's schedule lock | wake, sleep, schedule, rtsleep, RT fire, tick, accounting |
//! | [`Unit`] (priority, credit, queue links, RT deadline) | the schedule lock of the CPU it is resident on | the same |
//! | [`Accounting`], `Domain::acct` (weights, active lists, shares) | the private lock | tick, accounting, control operations |
//! | [`Shared`], `Domain::live`, `Unit::stats` | nothing: atomics | everyone |
//!
//! Lock order is Xen's credit order: **the private lock first, then one CPU lock**;
//! a CPU that already holds its own lock never takes the private lock, and takes a
//! peer's lock only with try-lock (work stealing). Operations that need both locks take
//! both handles (`&mut Accounting` and `&mut Cpu`); the others cannot reach
//! `Accounting` at all.

use core::ffi::c_void;
use core::ptr;
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, AtomicU64, AtomicU8, Ordering};

use crate::cpumask::{AtomicCpuMask, CpuMask, MAX_CPUS};
use crate::list::{Link, ListHead};
use crate::params::{ChargeMode, Params, DEFAULT_RT_BUDGET_PCT, DEFAULT_RT_RATE, DEFAULT_WEIGHT};
use crate::prio::{Prio, NR_PRIOS, NR_QUEUED_PRIOS};
use crate::trace::TraceFn;

/// Relaxed is enough for statistics and parameters: each is a single word read on its
/// own, and the locks order everything that must be ordered.
pub(crate) const RELAXED: Ordering = Ordering::Relaxed;

/// Counters of one unit, readable at any time.
#[repr(C)]
#[derive(Debug, Default)]
pub struct UnitStats {
    /// Nanoseconds spent running at each priority, indexed by `Prio as usize`.
    pub prio_ns: [AtomicU64; NR_PRIOS],
    /// Times the unit was switched in.
    pub runs: AtomicU64,
    /// Times it woke with BOOST.
    pub boosts: AtomicU64,
    /// RT deadlines served (RT granted at the deadline).
    pub rt_fires: AtomicU64,
}

/// A schedulable entity: one VCPU (Xen's `sched_unit`). Allocated by the host, set up
/// with [`Unit::init`], never moved while the core knows it.
#[repr(C)]
#[derive(Debug)]
pub struct Unit {
    pub(crate) runq_link: Link,
    pub(crate) active_link: Link,
    /// On its CPU's `earn_pending` list (see `earn_pending` there).
    pub(crate) earn_link: Link,
    pub(crate) domain: *mut Domain,
    /// The host's own pointer for this unit (Xen: its `struct sched_unit`).
    pub host_data: *mut c_void,
    pub(crate) unit_id: u32,
    /// CPU the unit is resident on: its queue, its lock.
    pub(crate) cpu: u32,
    pub(crate) prio: Prio,
    /// The host considers it runnable (woken and not asleep).
    pub(crate) runnable: bool,
    /// It is the current unit of its CPU.
    pub(crate) running: bool,
    /// It is on its CPU's run queue.
    pub(crate) queued: bool,
    /// Over its domain's cap: kept off the CPU until accounting gives credit back.
    pub(crate) parked: bool,
    /// On its CPU's list of units that earn credit.
    pub(crate) active: bool,
    /// Ran at RT while it did not earn credit: the CPU's next tick makes it earn again
    /// (on `Cpu::earn_pending`; see "RT is seen by the tick" in `crate::rt`).
    pub(crate) earn_pending: bool,
    /// Asked to yield; cleared when it is next descheduled.
    pub(crate) yielding: bool,
    /// Moved between CPUs since it last ran (such a wake does not BOOST, as in Xen).
    pub(crate) migrating: bool,
    /// Its registered deadline passed while it was blocked: RT when it wakes.
    pub(crate) rt_pending: bool,
    /// Its RT began at a wake that would otherwise have given it BOOST: RT ends to BOOST
    /// (if its credit still earns UNDER), as the wake would have been without RT.
    pub(crate) rt_instead_of_boost: bool,
    /// Its BOOST came from a wake while OVER, as a sibling of an RT domain's VCPUs: the
    /// time it runs at that BOOST is charged to its domain's RT budget (`crate::rt`,
    /// "A sibling the deadline's work waits for").
    pub(crate) boost_on_rt_budget: bool,
    /// Its current stay on the CPU began at RT (RT got it the CPU).
    pub(crate) switched_in_at_rt: bool,
    /// Its deadline fired during its current stay, which began below RT: RT did not get
    /// it the CPU, so RT's own passes leave it its slice (`Cpu::slice_end_ns`).
    pub(crate) rt_in_stay: bool,
    /// The RT that got it this stay has ended: the rate limit does not keep it on the
    /// CPU for the rest of the stay. Cleared when it is next switched in.
    pub(crate) rt_ended: bool,
    /// It stopped being runnable (blocked, paused) since its last `rtsleep`: a guest
    /// that sleeps between its periods, not a CPU burner (see "the way to sleep" in
    /// `crate::rt`).
    pub(crate) slept_since_rtsleep: bool,
    /// Switched out but the host has not saved its context yet (Xen's `is_running`
    /// is still set): no other CPU may steal it until `context_saved`.
    pub(crate) saving: bool,
    /// Credit (10 per ms of CPU). Written under the unit's CPU lock; atomic so that
    /// dumps and control operations may read it without that lock.
    pub(crate) credit: AtomicI32,
    /// Sub-credit remainder of the last charge, in credit-nanoseconds (Xen's residual).
    pub(crate) residual_ns: u64,
    /// Time up to which its run time has been charged.
    pub(crate) charged_until_ns: u64,
    /// When it last changed priority or was switched in (for per-priority time).
    pub(crate) prio_since_ns: u64,
    /// Registered RT deadline, 0 for none.
    pub(crate) rt_deadline_ns: u64,
    /// The last deadline that came due (served at RT or not), 0 for none: the next
    /// must be at least the minimum period after it.
    pub(crate) rt_last_deadline_ns: u64,
    /// When the deadline fired while the unit was blocked (`rt_pending`).
    pub(crate) rt_fired_at_ns: u64,
    /// Time run at RT since its current RT grant began (past the RT quantum it is in
    /// overtime; RT ends at `rt_limit_ns`).
    pub(crate) rt_used_ns: u64,
    /// The most the current RT grant may run at RT (`crate::rt::grant_limit_ns`).
    pub(crate) rt_limit_ns: u64,
    /// Until when a stay whose RT ended at `rtsleep` keeps the CPU at its credit class
    /// (the rest of the RT quantum: the guest's way from its `rtsleep` to its block,
    /// see `crate::rt`), 0 for none. Cleared when it is next switched in.
    pub(crate) rt_grace_until_ns: u64,
    /// Its place in the FIFO of its class: the order in which it was queued on
    /// `ticket_cpu` (see `Cpu::enqueue_in_place`). Kept while RT takes it out of its
    /// class, so that it goes back to the same place when RT ends.
    pub(crate) queue_ticket: u64,
    /// The CPU whose counter issued `queue_ticket` (tickets of two CPUs do not compare).
    pub(crate) ticket_cpu: u32,
    /// The end of the slice an RT unit preempted, 0 for none: its next stay lasts to
    /// there, not a new slice (set at the preemption, used at switch-in). The time at
    /// RT comes out of it, as any preemption's does in credit, so slices keep their
    /// places in time: a VCPU that waits for it starts when it would have without RT.
    pub(crate) resume_slice_end_ns: u64,
    /// When its last `RT_DENY` record was emitted, 0 for none (refusal records are rate
    /// limited: `rt::deny`).
    pub(crate) rt_deny_traced_ns: u64,
    /// Refusals since that record that were counted but not traced.
    pub(crate) rt_deny_untraced: u32,
    /// CPUs it may run on (hard affinity).
    pub(crate) affinity: CpuMask,
    pub stats: UnitStats,
}

/// Domain state guarded by the private lock.
#[repr(C)]
#[derive(Debug)]
pub struct DomainAcct {
    pub(crate) link: Link,
    pub(crate) weight: u32,
    /// Percent of one CPU; 0 = no cap.
    pub(crate) cap: u32,
    /// Units on the accounting lists.
    pub(crate) active_units: u32,
    pub(crate) on_active_list: bool,
    /// This period's credit for each active unit (set by `account_begin`).
    pub(crate) credit_fair_unit: i32,
    /// This period's cap per active unit in credits (0 = no cap).
    pub(crate) credit_cap_unit: i32,
}

/// Domain state read and counted without a lock.
#[repr(C)]
#[derive(Debug, Default)]
pub struct DomainLive {
    pub(crate) domid: AtomicU32,
    pub(crate) nr_units: AtomicU32,
    pub(crate) rt_allowed: AtomicBool,
    pub(crate) rt_budget_pct: AtomicU32,
    pub(crate) rt_rate_per_s: AtomicU32,
    /// Budget window the two counters below belong to (`now / window`).
    pub(crate) window_id: AtomicU64,
    pub(crate) window_rt_ns: AtomicU64,
    pub(crate) window_requests: AtomicU32,
    pub(crate) rt_requests: AtomicU64,
    pub(crate) rt_granted: AtomicU64,
    pub(crate) rt_degraded: AtomicU64,
    pub(crate) rt_denied: AtomicU64,
    pub(crate) rt_fires: AtomicU64,
    pub(crate) rt_demotions: AtomicU64,
}

/// A domain: weight, cap, RT permission and budget, shared by its units.
#[repr(C)]
#[derive(Debug)]
pub struct Domain {
    pub(crate) acct: DomainAcct,
    pub(crate) live: DomainLive,
}

/// One physical CPU's scheduling state: its run queues and resident units.
#[repr(C)]
#[derive(Debug)]
pub struct Cpu {
    pub(crate) id: u32,
    pub(crate) online: bool,
    /// Whether its tick timer should be running (a unit is running).
    pub(crate) tick_on: bool,
    /// One FIFO per queued priority, RT first.
    pub(crate) queues: [ListHead; NR_QUEUED_PRIOS],
    /// Units resident here that earn credit (walked by accounting).
    pub(crate) active: ListHead,
    /// Units resident here that ran at RT since the last tick while they did not earn
    /// credit: the tick starts their accounting (it needs the accounting lock, which an
    /// RT end, under this CPU's lock only, does not hold).
    pub(crate) earn_pending: ListHead,
    /// Units resident here (for the empty check when the CPU goes away).
    pub(crate) resident: u32,
    pub(crate) current: *mut Unit,
    /// When `current` was switched in (for the rate limit), moved back by the part of
    /// its slice already gone when it resumes a slice RT cut.
    pub(crate) current_since_ns: u64,
    /// When the slice that credit's rule gave `current` ends (set by every pass that
    /// picks it; RT's own passes that keep it leave it alone). A unit that was running
    /// anyway when its deadline fired keeps the CPU to here through RT's passes, so
    /// that RT neither cuts its slice nor renews it (see `Cpu::schedule_begin`).
    pub(crate) slice_end_ns: u64,
    /// The last queue ticket issued here (`Unit::queue_ticket`).
    pub(crate) last_ticket: u64,
    /// Set between `schedule_begin` and `schedule_finish`: the local candidate.
    pub(crate) pending_pick: *mut Unit,
    /// The unit that yielded in this scheduling pass, if any.
    pub(crate) yielder: *mut Unit,
    /// `current` when the pass began (to tell a switch from a continuation).
    pub(crate) prev: *mut Unit,
    /// The pass runs the idle unit for host work (Xen's tasklets): no idler bit.
    pub(crate) forced_idle: bool,
}

/// The scheduler-wide state under the private lock: accounting.
#[repr(C)]
#[derive(Debug)]
pub struct Accounting {
    pub(crate) params: Params,
    /// Domains with at least one active unit.
    pub(crate) active_domains: ListHead,
    /// Sum of weight x active units over active domains.
    pub(crate) weight_total: u64,
    pub(crate) ncpus: u32,
    /// Sum of the RT budgets (percent of one CPU) of the domains allowed RT: what the
    /// pool's RT capacity bounds (`crate::rt::budget`).
    pub(crate) rt_granted_pct: u32,
    /// Credit left over by the last period (negative: the system overspent).
    pub(crate) credit_balance: i64,
    /// Sum of credits of the units accounted in the current period.
    pub(crate) period_balance: i64,
}

/// The host's trace hook and its context.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct TraceHook {
    pub func: Option<TraceFn>,
    pub ctx: *mut c_void,
}

/// State every CPU reads without a lock: parameters, idle CPUs, queue summaries.
#[repr(C)]
#[derive(Debug)]
pub struct Shared {
    pub(crate) tslice_ns: AtomicU64,
    pub(crate) tick_ns: AtomicU64,
    pub(crate) ratelimit_ns: AtomicU64,
    pub(crate) rt_min_period_ns: AtomicU64,
    pub(crate) rt_max_lead_ns: AtomicU64,
    pub(crate) rt_window_ns: AtomicU64,
    pub(crate) credits_per_tick: AtomicI32,
    pub(crate) credits_per_tslice: AtomicI32,
    pub(crate) charge_mode: AtomicU32,
    /// The pool's RT capacity and the RT budgets granted in it, in percent of one CPU,
    /// published by the accounting side (`crate::rt::budget`) so that a domain's RT
    /// allowance can be scaled down without the private lock when a CPU left the pool.
    pub(crate) rt_capacity_pct: AtomicU32,
    pub(crate) rt_granted_pct: AtomicU32,
    /// CPUs running nothing (Xen's `prv->idlers`); cleared when tickled.
    pub(crate) idlers: AtomicCpuMask,
    pub(crate) online: AtomicCpuMask,
    /// Per CPU: the highest priority on its queues (`Prio::Idle` when empty).
    pub(crate) best_queued: [AtomicU8; MAX_CPUS],
    /// Per CPU: the priority of the unit it runs (`Prio::Idle` when idle).
    pub(crate) current_prio: [AtomicU8; MAX_CPUS],
    /// CPUs with an RT unit queued (what a CPU running no RT may steal), kept with
    /// `best_queued`, so that finding them costs a mask load, not a scan.
    pub(crate) rt_queued: AtomicCpuMask,
    /// Round-robin cursor for choosing among idle CPUs.
    pub(crate) tickle_cursor: AtomicU32,
    pub(crate) trace: TraceHook,
}

// SAFETY: every field of `Shared` is atomic except `trace`, which is written once at
// initialisation and only read afterwards; the hook's context is the host's, which
// promises (by registering it) that the hook may be called from any CPU.
unsafe impl Sync for Shared {}
// SAFETY: as above; nothing in `Shared` is tied to the thread that created it.
unsafe impl Send for Shared {}

/// Adds to a counter that only the holder of one lock writes (a unit's counters, under
/// its CPU's lock): a plain load and store, not a locked read-modify-write, while
/// readers without the lock still see whole values.
pub(crate) fn bump(counter: &AtomicU64, by: u64) {
    counter.store(counter.load(RELAXED).wrapping_add(by), RELAXED);
}

impl UnitStats {
    pub(crate) fn add_prio_time(&self, prio: Prio, ns: u64) {
        if let Some(slot) = self.prio_ns.get(prio as usize) {
            bump(slot, ns);
        }
    }
}

impl Unit {
    /// A unit of `domain`, blocked, UNDER, with zero credit, allowed on every CPU.
    /// `unit_id` is the VCPU number within its domain (for traces and dumps).
    pub fn new(domain: *mut Domain, unit_id: u32, host_data: *mut c_void) -> Unit {
        Unit {
            runq_link: Link::new(),
            active_link: Link::new(),
            earn_link: Link::new(),
            domain,
            host_data,
            unit_id,
            cpu: 0,
            prio: Prio::Under,
            runnable: false,
            running: false,
            queued: false,
            parked: false,
            active: false,
            earn_pending: false,
            yielding: false,
            migrating: false,
            rt_pending: false,
            rt_instead_of_boost: false,
            boost_on_rt_budget: false,
            switched_in_at_rt: false,
            rt_in_stay: false,
            rt_ended: false,
            slept_since_rtsleep: false,
            rt_grace_until_ns: 0,
            saving: false,
            credit: AtomicI32::new(0),
            residual_ns: 0,
            charged_until_ns: 0,
            prio_since_ns: 0,
            rt_deadline_ns: 0,
            rt_last_deadline_ns: 0,
            rt_fired_at_ns: 0,
            rt_used_ns: 0,
            rt_limit_ns: 0,
            queue_ticket: 0,
            ticket_cpu: u32::MAX,
            resume_slice_end_ns: 0,
            rt_deny_traced_ns: 0,
            rt_deny_untraced: 0,
            affinity: CpuMask::first_n(MAX_CPUS),
            stats: UnitStats::default(),
        }
    }

    pub fn prio(&self) -> Prio {
        self.prio
    }
    pub fn credit(&self) -> i32 {
        self.credit.load(RELAXED)
    }
    pub fn cpu(&self) -> u32 {
        self.cpu
    }
    pub fn unit_id(&self) -> u32 {
        self.unit_id
    }
    pub fn is_running(&self) -> bool {
        self.running
    }
    pub fn is_queued(&self) -> bool {
        self.queued
    }
    pub fn is_runnable(&self) -> bool {
        self.runnable
    }
    pub fn is_parked(&self) -> bool {
        self.parked
    }
    pub fn is_active(&self) -> bool {
        self.active
    }
    /// The registered RT deadline, if any.
    pub fn rt_deadline(&self) -> Option<u64> {
        (self.rt_deadline_ns != 0).then_some(self.rt_deadline_ns)
    }
    pub fn affinity(&self) -> CpuMask {
        self.affinity
    }

    /// The class its credit earns it (what RT falls back to): OVER for a unit that
    /// earns credit (is active) and has spent it, UNDER otherwise. A unit that does not
    /// earn credit stays UNDER, as Xen leaves it: accounting never looks at it, so
    /// OVER would stick until a tick happened to find it running.
    pub(crate) fn credit_class(&self) -> Prio {
        if self.active && self.credit.load(RELAXED) < 0 {
            Prio::Over
        } else {
            Prio::Under
        }
    }

    /// The domain id (for traces).
    pub(crate) fn domid(&self) -> u32 {
        // SAFETY: a unit's domain outlives it (the host frees units first).
        unsafe { (*self.domain).live.domid.load(RELAXED) }
    }

    /// The domain's lock-free part. Not tied to the borrow of the unit: the domain
    /// outlives its units, and `live` is only ever accessed through shared references.
    pub(crate) fn live<'a>(&self) -> &'a DomainLive {
        // SAFETY: as in `domid`; `live` is only ever accessed through shared references.
        unsafe { &(*self.domain).live }
    }
}

impl Domain {
    /// A domain with the default weight, no cap and no RT permission.
    pub fn new(domid: u32) -> Domain {
        let live = DomainLive::default();
        live.domid.store(domid, RELAXED);
        live.rt_budget_pct.store(DEFAULT_RT_BUDGET_PCT, RELAXED);
        live.rt_rate_per_s.store(DEFAULT_RT_RATE, RELAXED);
        Domain {
            acct: DomainAcct {
                link: Link::new(),
                weight: DEFAULT_WEIGHT,
                cap: 0,
                active_units: 0,
                on_active_list: false,
                credit_fair_unit: 0,
                credit_cap_unit: 0,
            },
            live,
        }
    }

    pub fn domid(&self) -> u32 {
        self.live.domid.load(RELAXED)
    }
    pub fn nr_units(&self) -> u32 {
        self.live.nr_units.load(RELAXED)
    }
}

impl Cpu {
    /// A CPU with id `id`, not yet online (see `Accounting::add_cpu`).
    pub fn new(id: u32) -> Cpu {
        Cpu {
            id,
            online: false,
            tick_on: false,
            queues: [ListHead::new(), ListHead::new(), ListHead::new(), ListHead::new()],
            active: ListHead::new(),
            earn_pending: ListHead::new(),
            resident: 0,
            current: ptr::null_mut(),
            current_since_ns: 0,
            slice_end_ns: 0,
            last_ticket: 0,
            pending_pick: ptr::null_mut(),
            yielder: ptr::null_mut(),
            prev: ptr::null_mut(),
            forced_idle: false,
        }
    }

    pub fn id(&self) -> u32 {
        self.id
    }
    pub fn current(&self) -> *mut Unit {
        self.current
    }
    /// Number of units waiting on this CPU's queues.
    pub fn nr_queued(&self) -> u32 {
        self.queues.iter().map(ListHead::len).sum()
    }
    /// Number of units waiting at priority `prio`.
    pub fn nr_queued_at(&self, prio: Prio) -> u32 {
        self.queues.get(prio.queue_index()).map_or(0, ListHead::len)
    }
    /// Highest queued priority, `Idle` when nothing waits.
    pub fn best_queued(&self) -> Prio {
        for prio in crate::prio::QUEUED_DESC {
            if !self.queues[prio.queue_index()].is_empty() {
                return prio;
            }
        }
        Prio::Idle
    }
}

impl Accounting {
    /// Fresh accounting state with validated `params`.
    pub fn new(params: Params) -> Result<Accounting, crate::RtcError> {
        params.validate()?;
        Ok(Accounting {
            params,
            active_domains: ListHead::new(),
            weight_total: 0,
            ncpus: 0,
            rt_granted_pct: 0,
            credit_balance: 0,
            period_balance: 0,
        })
    }

    pub fn params(&self) -> Params {
        self.params
    }
    pub fn ncpus(&self) -> u32 {
        self.ncpus
    }
    /// Sum of weight x active units over active domains.
    pub fn weight_total(&self) -> u64 {
        self.weight_total
    }
}

impl Shared {
    /// Shared state for `params` (already validated by `Accounting::new`).
    pub fn new(params: &Params, trace: TraceHook) -> Shared {
        let shared = Shared {
            tslice_ns: AtomicU64::new(0),
            tick_ns: AtomicU64::new(0),
            ratelimit_ns: AtomicU64::new(0),
            rt_min_period_ns: AtomicU64::new(0),
            rt_max_lead_ns: AtomicU64::new(0),
            rt_window_ns: AtomicU64::new(0),
            credits_per_tick: AtomicI32::new(0),
            credits_per_tslice: AtomicI32::new(0),
            charge_mode: AtomicU32::new(0),
            rt_capacity_pct: AtomicU32::new(0),
            rt_granted_pct: AtomicU32::new(0),
            idlers: AtomicCpuMask::new(),
            online: AtomicCpuMask::new(),
            best_queued: [const { AtomicU8::new(Prio::Idle as u8) }; MAX_CPUS],
            current_prio: [const { AtomicU8::new(Prio::Idle as u8) }; MAX_CPUS],
            rt_queued: AtomicCpuMask::new(),
            tickle_cursor: AtomicU32::new(0),
            trace,
        };
        shared.publish_params(params);
        shared
    }

    pub(crate) fn publish_params(&self, params: &Params) {
        self.tslice_ns.store(params.tslice_ns, RELAXED);
        self.tick_ns.store(params.tick_ns(), RELAXED);
        self.ratelimit_ns.store(params.ratelimit_ns, RELAXED);
        self.rt_min_period_ns.store(params.rt_min_period_ns, RELAXED);
        self.rt_max_lead_ns.store(params.rt_max_lead_ns, RELAXED);
        self.rt_window_ns.store(params.rt_budget_window_ns, RELAXED);
        let credits_per_tslice = params.credits_per_tslice();
        let ticks = (params.tslice_ns / params.tick_ns().max(1)).clamp(1, 1000);
        self.credits_per_tslice.store(credits_per_tslice, RELAXED);
        // checked_div: `ticks` is at least 1, but say so in a way that leaves no panic
        // path in the code linked into Xen.
        let credits_per_tick = i64::from(credits_per_tslice).checked_div(ticks as i64).unwrap_or(0);
        self.credits_per_tick.store(credits_per_tick as i32, RELAXED);
        self.charge_mode.store(params.charge_mode, RELAXED);
    }

    pub(crate) fn charge_mode(&self) -> ChargeMode {
        ChargeMode::from_u32(self.charge_mode.load(RELAXED)).unwrap_or(ChargeMode::Measured)
    }

    /// Snapshot of the idle CPUs.
    pub fn idlers(&self) -> CpuMask {
        self.idlers.load()
    }
    /// Snapshot of the online CPUs.
    pub fn online(&self) -> CpuMask {
        self.online.load()
    }

    pub(crate) fn emit(&self, event: crate::trace::Event) {
        if let Some(func) = self.trace.func {
            let record = event.encode();
            let data = record.words();
            // SAFETY: the host registered `func` with `ctx` and promised it may be
            // called from any CPU; `data` is valid for `data.len()` words.
            unsafe { func(self.trace.ctx, record.event, data.as_ptr(), data.len() as u32) };
        }
    }

    pub(crate) fn set_current_prio(&self, cpu: u32, prio: Prio) {
        if let Some(slot) = self.current_prio.get(cpu as usize) {
            slot.store(prio as u8, RELAXED);
        }
    }

    /// Online CPUs other than `except` that run something below RT.
    pub(crate) fn running_below_rt(&self, except: u32) -> CpuMask {
        let mut out = CpuMask::EMPTY;
        for cpu in self.online().iter() {
            let prio = self.current_prio.get(cpu as usize).map_or(Prio::Rt as u8, |slot| slot.load(RELAXED));
            if cpu != except && prio < Prio::Rt as u8 {
                out.set(cpu);
            }
        }
        out
    }

    pub(crate) fn set_best_queued(&self, cpu: &Cpu) {
        let best = cpu.best_queued();
        if let Some(slot) = self.best_queued.get(cpu.id as usize) {
            slot.store(best as u8, RELAXED);
        }
        if best == Prio::Rt {
            if !self.rt_queued.contains(cpu.id) {
                self.rt_queued.set(cpu.id);
            }
        } else if self.rt_queued.contains(cpu.id) {
            self.rt_queued.clear(cpu.id);
        }
    }

    /// Non-idle online CPUs other than `except` with an RT unit queued.
    pub(crate) fn rt_queued_elsewhere(&self, except: u32) -> CpuMask {
        let rt = self.rt_queued.load();
        if rt.is_empty() {
            return rt;
        }
        let mut mask = rt.and(&self.online()).and_not(&self.idlers());
        mask.clear(except);
        mask
    }
}
