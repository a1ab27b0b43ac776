//! The scheduler a simulated host runs: the real rtcredit core, or a model of one of
//! Xen's other schedulers.
//!
//! The engine ([`crate::engine`]) runs its scheduler inside the core's model of Xen's
//! scheduling framework ([`rtcredit::framework`]), which calls it at the same points
//! Xen calls a `struct scheduler`: a unit wakes, a unit blocks, a CPU runs its schedule
//! softirq, a timer of the scheduler fires. [`Scheduler`] is that interface, in the
//! terms of [`rtcredit::host::Host`], which implements it by calling the real core;
//! [`SimScheduler`] adds what the engine needs to set a host up and report on it.
//! [`crate::credit2::Credit2`] and [`crate::rtds::Rtds`] implement both with models
//! written here from Xen 4.17's `credit2.c` and `rt.c`.
//!
//! Credit's two periodic timers (the per-CPU tick and the accounting timer) are the
//! core's own ([`Scheduler::tick`], [`Scheduler::account`]); a model has one timer of
//! its own instead ([`Scheduler::timer_at`], [`Scheduler::timer_fire`]): RTDS's
//! replenishment timer, credit2's budget replenishment for capped domains.

pub use rtcredit::framework::Scheduler;
use rtcredit::host::{DomId, Host, Scheduled, UnitId};
use rtcredit::prio::NR_PRIOS;
use rtcredit::{CpuMask, DomainCounters, Prio, RtCapacity, RtcError};

use crate::engine::DomainSpec;

/// What a unit did, for reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UnitStats {
    /// The unit's CPU (its `processor`).
    pub cpu: u32,
    /// Nanoseconds run at each priority (index `Prio as usize`; a model says which of
    /// its levels it counts where).
    pub prio_ns: [u64; NR_PRIOS],
    /// Times it was picked to run after another unit (or idle).
    pub runs: u64,
    pub boosts: u64,
    pub rt_fires: u64,
}

impl UnitStats {
    /// Adds `ns` of run time at `prio`.
    pub fn add_run(&mut self, prio: Prio, ns: u64) {
        if let Some(slot) = self.prio_ns.get_mut(prio as usize) {
            *slot += ns;
        }
    }
}

/// A host's scheduler, as the engine sets it up and reports on it; the calls that
/// time drives are [`rtcredit::framework::Scheduler`]'s.
pub trait SimScheduler: Scheduler + std::fmt::Debug {
    /// Creates domain `domid` (1-based) with the settings of `spec`.
    fn add_domain(&mut self, domid: u32, spec: &DomainSpec) -> Result<DomId, RtcError>;
    /// Adds a runnable unit of `dom` on `cpu`; the CPUs to tickle.
    fn add_unit(&mut self, dom: DomId, cpu: u32, now: u64) -> Result<(UnitId, CpuMask), RtcError>;
    /// A unit's statistics.
    fn unit_stats(&self, unit: UnitId) -> Option<UnitStats>;
    /// A domain's RT counters (zero for the models).
    fn domain_counters(&self, _dom: DomId) -> Option<DomainCounters> {
        Some(DomainCounters::default())
    }
    /// The units waiting for `cpu`, in order (debugging log only).
    fn queue(&self, cpu: u32) -> Vec<UnitId>;
    /// The host's RT capacity and what is granted of it (`None`: the models, which
    /// have no RT).
    fn rt_capacity(&self) -> Option<RtCapacity> {
        None
    }
}

impl SimScheduler for Host {
    fn rt_capacity(&self) -> Option<RtCapacity> {
        Some(Host::rt_capacity(self))
    }
    fn add_domain(&mut self, domid: u32, spec: &DomainSpec) -> Result<DomId, RtcError> {
        let dom = Host::add_domain(self, domid);
        self.set_domain_params(dom, &spec.params)?;
        Ok(dom)
    }
    fn add_unit(&mut self, dom: DomId, cpu: u32, now: u64) -> Result<(UnitId, CpuMask), RtcError> {
        Host::add_unit(self, dom, cpu, true, now)
    }
    fn unit_stats(&self, unit: UnitId) -> Option<UnitStats> {
        self.unit(unit).map(|view| UnitStats {
            cpu: view.cpu,
            prio_ns: view.prio_ns,
            runs: view.runs,
            boosts: view.boosts,
            rt_fires: view.rt_fires,
        })
    }
    fn domain_counters(&self, dom: DomId) -> Option<DomainCounters> {
        Host::domain_counters(self, dom)
    }
    fn queue(&self, cpu: u32) -> Vec<UnitId> {
        Host::queue(self, cpu)
    }
}

/// The first CPU of `mask` at or after `start`, wrapping around (Xen's
/// `cpumask_test_or_cycle`).
pub fn test_or_cycle(start: u32, mask: &CpuMask) -> Option<u32> {
    if mask.contains(start) {
        Some(start)
    } else {
        mask.cycle_after(start)
    }
}

/// The start of a model's pass on `cpu`: the CPU exists, its tickle is being served
/// (cleared), and what ran there until now.
pub fn begin_pass(current: &[Option<usize>], tickled: &mut CpuMask, cpu: u32) -> Result<Option<usize>, RtcError> {
    let running = *current.get(cpu as usize).ok_or(RtcError::CpuOutOfRange)?;
    tickled.clear(cpu);
    Ok(running)
}

/// The index of `unit` in a model's table of `len` units.
pub fn unit_index(unit: UnitId, len: usize) -> Result<usize, RtcError> {
    if unit.0 < len {
        Ok(unit.0)
    } else {
        Err(RtcError::NullPointer)
    }
}

/// The scheduling decision of a model (no tick: the models have none).
pub fn decision(next: Option<UnitId>, run_ns: u64, switched: bool, migrated: bool, tickle: CpuMask) -> Scheduled {
    Scheduled {
        next,
        run_ns: if next.is_some() { run_ns } else { u64::MAX },
        prio: if next.is_some() { Prio::Under } else { Prio::Idle },
        switched,
        migrated,
        tick: rtcredit::TickCmd::Keep,
        tick_at_ns: 0,
        tickle,
    }
}
