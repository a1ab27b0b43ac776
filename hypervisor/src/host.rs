//! A safe, single-threaded host for the core (feature `std`): it owns every object and
//! calls the core exactly in the order the Xen shim does (private lock then CPU lock;
//! schedule, try peers, finish), with the locks implicit because there is one thread.
//! The simulator and the tests drive the policy through it; it holds no policy. When
//! each call is made (softirqs, slice timers, the tick, accounting, RT timers) is
//! [`crate::framework`]'s.

use std::boxed::Box;
use std::cell::RefCell;
use std::vec::Vec;

use crate::abi::{RtcError, SchedRtsleep};
use crate::acct::{domain_counters, DomainCounters, DomainParams};
use crate::cpumask::{CpuMask, MAX_CPUS};
use crate::params::Params;
use crate::prio::{Prio, NR_PRIOS};
use crate::rt::budget::RtCapacity;
use crate::rt::{RtsleepOutcome, RtsleepRefused};
use crate::runq::unit_of_runq;
use crate::sched::TickCmd;
use crate::state::{Accounting, Cpu, Domain, Shared, TraceHook, Unit, RELAXED};

/// Index of a unit in this host.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnitId(pub usize);

/// Index of a domain in this host.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DomId(pub usize);

/// One trace record as the core emitted it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceRecord {
    pub event: u32,
    pub data: [u32; 5],
    pub len: u32,
}

/// A scheduling decision in host terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scheduled {
    /// The unit to run; `None` for idle.
    pub next: Option<UnitId>,
    /// Its slice; `u64::MAX` for idle.
    pub run_ns: u64,
    pub prio: Prio,
    /// Different from what ran before.
    pub switched: bool,
    /// Stolen from another CPU.
    pub migrated: bool,
    pub tick: TickCmd,
    pub tick_at_ns: u64,
    /// CPUs to tickle (an idle CPU that can take work left waiting).
    pub tickle: CpuMask,
}

/// Snapshot of one unit, for reports and tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnitView {
    pub cpu: u32,
    pub prio: Prio,
    pub credit: i32,
    pub running: bool,
    pub queued: bool,
    pub runnable: bool,
    pub parked: bool,
    pub active: bool,
    pub rt_deadline_ns: Option<u64>,
    /// CPUs it may run on.
    pub affinity: CpuMask,
    /// Nanoseconds run at each priority (index `Prio as usize`).
    pub prio_ns: [u64; NR_PRIOS],
    pub runs: u64,
    pub boosts: u64,
    pub rt_fires: u64,
}

unsafe extern "C" fn record_trace(ctx: *mut core::ffi::c_void, event: u32, data: *const u32, len: u32) {
    // SAFETY: `ctx` is the `RefCell` boxed by `Host::new`, alive as long as the host;
    // the core passes `len` valid words.
    let (log, words) =
        unsafe { (&*(ctx as *const RefCell<Vec<TraceRecord>>), core::slice::from_raw_parts(data, len as usize)) };
    let mut record = TraceRecord { event, data: [0; 5], len: len.min(5) };
    for (dst, src) in record.data.iter_mut().zip(words) {
        *dst = *src;
    }
    if let Ok(mut log) = log.try_borrow_mut() {
        log.push(record);
    }
}

/// The host. Every object is boxed so the core's pointers stay valid.
#[derive(Debug)]
// The boxes are the point: the core keeps pointers to units, domains and CPUs, which
// must not move when the vectors grow.
#[allow(clippy::vec_box)]
pub struct Host {
    // Field order is drop order: units before the domains they point to.
    units: Vec<Box<Unit>>,
    domains: Vec<Box<Domain>>,
    cpus: Vec<Box<Cpu>>,
    acct: Accounting,
    shared: Box<Shared>,
    trace: Box<RefCell<Vec<TraceRecord>>>,
    tracing: bool,
    /// Per CPU: its running unit blocked and the core has not been told yet (the next
    /// pass does, as `rtcx_schedule` calls `rtcredit_sleep` for a current unit that is
    /// not runnable).
    blocked_current: Vec<Option<UnitId>>,
}

impl Host {
    /// A host with CPUs `0..ncpus` online. With `tracing`, trace records are kept
    /// (see [`Host::take_trace`]).
    pub fn new(params: Params, ncpus: u32, tracing: bool) -> Result<Host, RtcError> {
        if ncpus as usize > MAX_CPUS {
            return Err(RtcError::CpuOutOfRange);
        }
        let acct = Accounting::new(params)?;
        let trace = Box::new(RefCell::new(Vec::new()));
        let hook = TraceHook {
            func: if tracing { Some(record_trace) } else { None },
            ctx: &*trace as *const RefCell<Vec<TraceRecord>> as *mut core::ffi::c_void,
        };
        let shared = Box::new(Shared::new(&params, hook));
        let mut host = Host {
            units: Vec::new(),
            domains: Vec::new(),
            cpus: Vec::new(),
            acct,
            shared,
            trace,
            tracing,
            blocked_current: std::vec![None; ncpus as usize],
        };
        for id in 0..ncpus {
            let mut cpu = Box::new(Cpu::new(id));
            host.acct.add_cpu(&host.shared, &mut cpu)?;
            host.cpus.push(cpu);
        }
        Ok(host)
    }

    pub fn ncpus(&self) -> u32 {
        self.cpus.len() as u32
    }

    /// Adds a domain with default parameters.
    pub fn add_domain(&mut self, domid: u32) -> DomId {
        self.domains.push(Box::new(Domain::new(domid)));
        DomId(self.domains.len() - 1)
    }

    /// Adds a unit of `dom` on `cpu`. Returns it and the CPUs to tickle.
    pub fn add_unit(&mut self, dom: DomId, cpu: u32, runnable: bool, now: u64) -> Result<(UnitId, CpuMask), RtcError> {
        let domain: *mut Domain = &mut **self.domains.get_mut(dom.0).ok_or(RtcError::NullPointer)?;
        let index = self.units.len();
        // SAFETY: `domain` is boxed and outlives the unit (field order).
        let vcpu = unsafe { (*domain).nr_units() };
        let mut unit = Box::new(Unit::new(domain, vcpu, index as *mut core::ffi::c_void));
        let cpu = self.cpus.get_mut(cpu as usize).ok_or(RtcError::CpuOutOfRange)?;
        let ptr: *mut Unit = &mut *unit;
        // SAFETY: the unit is boxed (stable address) and resident nowhere yet.
        let tickle = unsafe { cpu.insert_unit(&self.shared, ptr, runnable, now)? };
        self.units.push(unit);
        Ok((UnitId(index), tickle))
    }

    fn unit_ptr(&mut self, unit: UnitId) -> Result<(*mut Unit, usize), RtcError> {
        let ptr: *mut Unit = &mut **self.units.get_mut(unit.0).ok_or(RtcError::NullPointer)?;
        // SAFETY: boxed and alive.
        let cpu = unsafe { (*ptr).cpu } as usize;
        Ok((ptr, cpu))
    }

    fn cpu_mut(&mut self, cpu: usize) -> Result<&mut Cpu, RtcError> {
        self.cpus.get_mut(cpu).map(|c| &mut **c).ok_or(RtcError::CpuOutOfRange)
    }

    /// The unit becomes runnable. Returns the CPUs to tickle. A running unit that
    /// blocked and is woken before its CPU's pass never stopped running for the core
    /// (Xen's wake of a running unit changes nothing in the scheduler).
    pub fn wake(&mut self, unit: UnitId, now: u64) -> Result<CpuMask, RtcError> {
        let (ptr, cpu) = self.unit_ptr(unit)?;
        self.take_block_mark(cpu, unit);
        let shared: &Shared = &self.shared;
        let cpu = self.cpus.get_mut(cpu).ok_or(RtcError::CpuOutOfRange)?;
        // SAFETY: the unit is alive; this thread holds every "lock".
        unsafe { cpu.wake(shared, ptr, now) }
    }

    /// The unit blocks (`SCHEDOP_block`). If it is running, it is marked and its CPU is
    /// returned to reschedule: the pass tells the core (see the module docs). Otherwise
    /// the core is told at once, as Xen's sleep hook does for a unit that is not running.
    pub fn block(&mut self, unit: UnitId) -> Result<CpuMask, RtcError> {
        let (_, cpu) = self.unit_ptr(unit)?;
        if self.current(cpu as u32) == Some(unit) {
            *self.blocked_current.get_mut(cpu).ok_or(RtcError::CpuOutOfRange)? = Some(unit);
            return Ok(CpuMask::single(cpu as u32));
        }
        self.sleep(unit)
    }

    /// Clears `cpu`'s block mark if it is `unit`'s; whether it was.
    fn take_block_mark(&mut self, cpu: usize, unit: UnitId) -> bool {
        match self.blocked_current.get_mut(cpu) {
            Some(slot) if *slot == Some(unit) => {
                *slot = None;
                true
            }
            _ => false,
        }
    }

    /// The unit stops being runnable, the core told now (Xen's sleep hook: a pause, or
    /// a unit that is not running). Returns the CPUs to tickle (its own if it was
    /// running).
    pub fn sleep(&mut self, unit: UnitId) -> Result<CpuMask, RtcError> {
        let (ptr, cpu) = self.unit_ptr(unit)?;
        let shared: &Shared = &self.shared;
        let cpu = self.cpus.get_mut(cpu).ok_or(RtcError::CpuOutOfRange)?;
        // SAFETY: as in `wake`.
        unsafe { cpu.sleep(shared, ptr) }
    }

    /// The running unit yields.
    pub fn yield_unit(&mut self, unit: UnitId) -> Result<(), RtcError> {
        let (ptr, cpu) = self.unit_ptr(unit)?;
        // SAFETY: as in `wake`.
        unsafe { self.cpu_mut(cpu)?.yield_unit(ptr) }
    }

    /// A full scheduling pass on `cpu`: begin, try peers round-robin from `cpu + 1`
    /// (each steal round in turn), finish (what the Xen shim does with try-locks).
    pub fn schedule(&mut self, cpu: u32, now: u64, force_idle: bool) -> Result<Scheduled, RtcError> {
        let index = cpu as usize;
        if index >= self.cpus.len() {
            return Err(RtcError::CpuOutOfRange);
        }
        let previous = self.cpus[index].current;
        // The current unit blocked since the last pass: the core hears of it first.
        if let Some(current) = self.current(cpu) {
            if self.take_block_mark(index, current) {
                self.sleep(current)?;
            }
        }
        let shared: &Shared = &self.shared;
        // SAFETY: every resident unit is alive.
        let begin = unsafe { self.cpus[index].schedule_begin(shared, now, force_idle) };
        let decision = if begin.want_steal {
            let mut stolen = core::ptr::null_mut();
            let ncpus = self.cpus.len();
            'rounds: for (min_prio, candidates) in begin.steal_rounds() {
                for offset in 1..ncpus {
                    let peer = (index + offset) % ncpus;
                    if !candidates.contains(peer as u32) {
                        continue;
                    }
                    let (local, other) = two_mut(&mut self.cpus, index, peer);
                    // SAFETY: every resident unit is alive; both "locks" held.
                    stolen = unsafe { local.steal_from(shared, other, min_prio) };
                    if !stolen.is_null() {
                        break 'rounds;
                    }
                }
            }
            // SAFETY: `stolen` is null or was just stolen onto this CPU.
            unsafe { self.cpus[index].schedule_finish(shared, stolen, now) }
        } else {
            begin.decision
        };
        if decision.switched && !previous.is_null() {
            // One thread: the context switch is complete as soon as it is decided.
            // SAFETY: the previous unit is alive and resident on this CPU.
            unsafe { self.cpus[index].context_saved(previous)? };
        }
        Ok(Scheduled {
            next: if decision.next.is_null() { None } else { Some(UnitId(decision.next_host as usize)) },
            run_ns: decision.run_ns,
            prio: decision.prio,
            switched: decision.switched,
            migrated: decision.migrated,
            tick: decision.tick,
            tick_at_ns: decision.tick_at_ns,
            tickle: decision.tickle,
        })
    }

    /// The tick of `cpu`. Returns the next tick time, or `None` to stop it.
    pub fn tick(&mut self, cpu: u32, now: u64) -> Result<Option<u64>, RtcError> {
        let shared: &Shared = &self.shared;
        let cpu = self.cpus.get_mut(cpu as usize).ok_or(RtcError::CpuOutOfRange)?;
        // SAFETY: resident units are alive; private and CPU "locks" held.
        Ok(unsafe { self.acct.tick(shared, cpu, now) })
    }

    /// One accounting period. Returns when the next is due and the CPUs to tickle.
    pub fn account(&mut self, now: u64) -> (u64, CpuMask) {
        let shared: &Shared = &self.shared;
        self.acct.account_begin(shared);
        let mut tickle = CpuMask::EMPTY;
        for cpu in self.cpus.iter_mut() {
            // SAFETY: as in `tick`.
            tickle = tickle.or(&unsafe { self.acct.account_cpu(shared, cpu, now) });
        }
        (self.acct.account_end(shared, now), tickle)
    }

    /// `SCHEDOP_rtsleep` from `unit` (which must be running).
    pub fn rtsleep(&mut self, unit: UnitId, args: &SchedRtsleep, now: u64) -> Result<RtsleepOutcome, RtcError> {
        self.rtsleep_call(unit, args, now).map_err(|refused| refused.error)
    }

    /// The same with the whole answer: a refusal says whether the host must still run
    /// the pass (`RtsleepRefused::reschedule`), as Xen's shim does.
    pub fn rtsleep_call(
        &mut self,
        unit: UnitId,
        args: &SchedRtsleep,
        now: u64,
    ) -> Result<RtsleepOutcome, RtsleepRefused> {
        let refused = |error| RtsleepRefused { error, reschedule: false };
        let (ptr, cpu) = self.unit_ptr(unit).map_err(refused)?;
        let shared: &Shared = &self.shared;
        let cpu = self.cpus.get_mut(cpu).ok_or(refused(RtcError::CpuOutOfRange))?;
        // SAFETY: as in `wake`.
        unsafe { cpu.rtsleep(shared, ptr, args, now) }
    }

    /// The unit's RT timer fired. Returns the CPUs to tickle.
    pub fn rt_fire(&mut self, unit: UnitId, now: u64) -> Result<CpuMask, RtcError> {
        let (ptr, cpu) = self.unit_ptr(unit)?;
        // It blocked and its CPU's pass has not run yet (Xen runs the timer softirq
        // first): the core is told now, as the shim's RT timer does, so that the
        // deadline waits for the wake instead of starting RT on a blocked unit.
        if self.take_block_mark(cpu, unit) {
            self.sleep(unit)?;
        }
        let shared: &Shared = &self.shared;
        let cpu = self.cpus.get_mut(cpu).ok_or(RtcError::CpuOutOfRange)?;
        // SAFETY: as in `wake`.
        unsafe { cpu.rt_fire(shared, ptr, now) }
    }

    /// When the unit's RT timer should be armed now (0: stopped), as the shim asks the
    /// core (`rtcredit_rt_timer_at`).
    pub fn rt_timer_at(&self, unit: UnitId) -> u64 {
        self.units.get(unit.0).map_or(0, |u| Cpu::rt_timer_at_ns(u))
    }

    /// Moves a unit that is not running to `to`.
    pub fn migrate(&mut self, unit: UnitId, to: u32) -> Result<CpuMask, RtcError> {
        let (ptr, from) = self.unit_ptr(unit)?;
        if to as usize >= self.cpus.len() {
            return Err(RtcError::CpuOutOfRange);
        }
        if from == to as usize {
            return Ok(CpuMask::EMPTY);
        }
        let shared: &Shared = &self.shared;
        let (source, dest) = two_mut(&mut self.cpus, from, to as usize);
        // SAFETY: as in `wake`; both "locks" held.
        unsafe { source.migrate(shared, dest, ptr) }
    }

    /// Sets a unit's hard affinity.
    pub fn set_affinity(&mut self, unit: UnitId, affinity: CpuMask) -> Result<(), RtcError> {
        let (ptr, _) = self.unit_ptr(unit)?;
        // SAFETY: alive; "lock" held.
        crate::sched::set_affinity(&self.shared, unsafe { &mut *ptr }, affinity)
    }

    /// Where the unit should live now (Xen's `pick_resource`).
    pub fn pick_cpu(&mut self, unit: UnitId) -> Result<u32, RtcError> {
        let (ptr, _) = self.unit_ptr(unit)?;
        // SAFETY: alive.
        Ok(crate::sched::pick_cpu(&self.shared, unsafe { &*ptr }))
    }

    /// Removes a unit that is not running (it stays allocated, resident nowhere).
    pub fn remove_unit(&mut self, unit: UnitId) -> Result<(), RtcError> {
        let (ptr, cpu) = self.unit_ptr(unit)?;
        let shared: &Shared = &self.shared;
        let cpu = self.cpus.get_mut(cpu).ok_or(RtcError::CpuOutOfRange)?;
        // SAFETY: as in `tick`.
        unsafe { self.acct.remove_unit(shared, cpu, ptr) }
    }

    /// Sets a domain's parameters; a grant over the pool's RT capacity is refused with
    /// `RtCapacityExceeded` ([`Host::rt_capacity`] says what is left).
    pub fn set_domain_params(&mut self, dom: DomId, params: &DomainParams) -> Result<(), RtcError> {
        let domain = self.domains.get_mut(dom.0).ok_or(RtcError::NullPointer)?;
        self.acct.set_domain_params(&self.shared, domain, params)
    }

    /// The domain leaves the host's pool: its RT share goes back (see
    /// `Accounting::release_domain`). It stays allocated, without RT.
    pub fn release_domain(&mut self, dom: DomId) -> Result<(), RtcError> {
        let domain = self.domains.get_mut(dom.0).ok_or(RtcError::NullPointer)?;
        self.acct.release_domain(&self.shared, domain);
        Ok(())
    }

    /// The pool's RT capacity and how much of it is granted.
    pub fn rt_capacity(&self) -> RtCapacity {
        self.acct.rt_capacity()
    }

    /// The domain's RT allowance per budget window in force, in ns.
    pub fn rt_allowance_ns(&self, dom: DomId) -> Option<u64> {
        self.domains.get(dom.0).map(|d| self.acct.rt_allowance_ns(&self.shared, d))
    }

    /// Takes a CPU out of the pool (it must hold no unit), as a cpupool move or a hot
    /// unplug does; it keeps its id and may come back with [`Host::online_cpu`].
    pub fn offline_cpu(&mut self, cpu: u32) -> Result<(), RtcError> {
        let shared: &Shared = &self.shared;
        let cpu = self.cpus.get_mut(cpu as usize).ok_or(RtcError::CpuOutOfRange)?;
        self.acct.remove_cpu(shared, cpu)
    }

    /// Brings a CPU taken out with [`Host::offline_cpu`] back into the pool.
    pub fn online_cpu(&mut self, cpu: u32) -> Result<(), RtcError> {
        let shared: &Shared = &self.shared;
        let cpu = self.cpus.get_mut(cpu as usize).ok_or(RtcError::CpuOutOfRange)?;
        self.acct.add_cpu(shared, cpu)
    }

    pub fn domain_params(&self, dom: DomId) -> Option<DomainParams> {
        self.domains.get(dom.0).map(|d| self.acct.domain_params(d))
    }

    pub fn domain_counters(&self, dom: DomId) -> Option<DomainCounters> {
        self.domains.get(dom.0).map(|d| domain_counters(d))
    }

    pub fn set_params(&mut self, params: &Params) -> Result<(), RtcError> {
        self.acct.set_params(&self.shared, params)
    }

    pub fn params(&self) -> Params {
        self.acct.params()
    }

    /// A snapshot of one unit.
    pub fn unit(&self, unit: UnitId) -> Option<UnitView> {
        let u = self.units.get(unit.0)?;
        let mut prio_ns = [0u64; NR_PRIOS];
        for (dst, src) in prio_ns.iter_mut().zip(u.stats.prio_ns.iter()) {
            *dst = src.load(RELAXED);
        }
        Some(UnitView {
            cpu: u.cpu,
            prio: u.prio,
            credit: u.credit(),
            running: u.running,
            queued: u.queued,
            runnable: u.runnable,
            parked: u.parked,
            active: u.active,
            rt_deadline_ns: u.rt_deadline(),
            affinity: u.affinity,
            prio_ns,
            runs: u.stats.runs.load(RELAXED),
            boosts: u.stats.boosts.load(RELAXED),
            rt_fires: u.stats.rt_fires.load(RELAXED),
        })
    }

    /// The domain a unit belongs to.
    pub fn unit_domain(&self, unit: UnitId) -> Option<DomId> {
        let u = self.units.get(unit.0)?;
        self.domains.iter().position(|d| core::ptr::eq(&**d, u.domain)).map(DomId)
    }

    pub fn nr_units(&self) -> usize {
        self.units.len()
    }

    /// The unit running on `cpu`.
    pub fn current(&self, cpu: u32) -> Option<UnitId> {
        let cpu = self.cpus.get(cpu as usize)?;
        // SAFETY: the current unit is alive.
        (!cpu.current.is_null()).then(|| UnitId(unsafe { (*cpu.current).host_data } as usize))
    }

    /// `cpu`'s queue in run order (RT first, FIFO within a class).
    pub fn queue(&self, cpu: u32) -> Vec<UnitId> {
        let mut out = Vec::new();
        if let Some(cpu) = self.cpus.get(cpu as usize) {
            for queue in cpu.queues.iter() {
                let mut link = queue.front();
                while !link.is_null() {
                    // SAFETY: queued links belong to live units.
                    unsafe {
                        out.push(UnitId((*unit_of_runq(link)).host_data as usize));
                        link = (*link).next();
                    }
                }
            }
        }
        out
    }

    /// Idle CPUs as the core sees them.
    pub fn idlers(&self) -> CpuMask {
        self.shared.idlers()
    }

    /// Sum of weight x active units (accounting's view).
    pub fn weight_total(&self) -> u64 {
        self.acct.weight_total()
    }

    /// Takes the trace records gathered so far (empty when tracing is off).
    pub fn take_trace(&self) -> Vec<TraceRecord> {
        if !self.tracing {
            return Vec::new();
        }
        self.trace.try_borrow_mut().map(|mut log| core::mem::take(&mut *log)).unwrap_or_default()
    }
}

/// Two distinct CPUs, mutably.
fn two_mut(cpus: &mut [Box<Cpu>], a: usize, b: usize) -> (&mut Cpu, &mut Cpu) {
    debug_assert_ne!(a, b);
    if a < b {
        let (left, right) = cpus.split_at_mut(b);
        (&mut left[a], &mut right[0])
    } else {
        let (left, right) = cpus.split_at_mut(a);
        (&mut right[0], &mut left[b])
    }
}
