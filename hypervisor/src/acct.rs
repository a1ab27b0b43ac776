//! Credit accounting, the tick, and everything else that needs the private lock.
//!
//! # Credit
//!
//! Every accounting period (one time slice, 30 ms by default) each online CPU brings
//! `10 x slice_ms` credits (300). They are shared among the *active* domains by weight
//! x active units, as Xen's `csched_acct` does: a domain's fair share is capped by its
//! peak (all its active units running the whole period, plus its part of the system's
//! overspend when the balance is negative) and by its cap (`cap` percent of one CPU);
//! what a domain cannot use goes to the domains after it; each active unit then gets
//! its domain's share divided by its active units.
//!
//! Per unit: credit below zero makes it OVER (credit is clipped at minus one slice's
//! worth), otherwise UNDER. A unit of a capped domain whose credit falls below minus its
//! share of the cap is *parked*: it does not run until accounting brings its credit
//! back to zero or above. A unit that piles up more than a slice's worth stops being
//! active (it stops earning and its domain's weight stops counting) with half its credit,
//! and becomes active again the next time a tick finds it running.
//!
//! Running costs 10 credits per ms, charged at every deschedule and tick
//! (`ChargeMode::Measured`); `ChargeMode::TickSampled` charges a whole tick to whoever
//! runs when the tick fires, as the credit scheduler of the paper's era did.
//!
//! # The tick
//!
//! Every tick (10 ms) on a CPU that runs a unit: charge it, drop BOOST to UNDER (the
//! starvation guard, since a unit found running at a tick is consuming real CPU), and
//! make it active if it was not. RT is not the tick's business: it ends by the RT rule
//! (`crate::rt`: at the VCPU's next `rtsleep`, when it blocks, after the RT quantum, or
//! when the budget is spent), which the tick only reviews as any pass does.
//!
//! # Locking
//!
//! `tick` and `account_cpu` take `&mut Accounting` and `&mut Cpu`: the host holds the
//! private lock, then that CPU's lock. A period is `account_begin` (private lock),
//! `account_cpu` for every online CPU (each under its lock, the private lock still
//! held), `account_end`. Control operations (weights, caps, RT permission, parameters)
//! need only the private lock.
//!
//! # The pool's RT capacity
//!
//! The sum of the RT budgets granted to the domains of this scheduler instance (one
//! cpupool) is bounded by its RT capacity; the rule and its arithmetic are in
//! [`crate::rt::budget`], and the operations here that change either side of it (a
//! domain's parameters, a CPU joining or leaving, the capacity parameter, a domain
//! leaving) go through it.

use core::ptr;

use crate::abi::{RtCounters, RtcError, XenDomctlSchedRtcredit, DOMCTL_KEEP_CAP, DOMCTL_KEEP_RT_ALLOWED};
use crate::cpumask::{CpuMask, MAX_CPUS};
use crate::list::container_of;
use crate::params::{ChargeMode, Params};
use crate::prio::Prio;
use crate::rt::budget::{self, RtCapacity};
use crate::runq::{burn_credits, set_running_prio, unit_of_active, unit_of_earn};
use crate::state::{Accounting, Cpu, Domain, Shared, Unit, RELAXED};
use crate::trace::Event;

/// Per-domain parameters (`XEN_DOMCTL_scheduler_op` for `sched=rtcredit`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DomainParams {
    /// Share against other domains, 1..=65535 (default 256).
    pub weight: u32,
    /// Most CPU it may use, in percent of one CPU; 0 = no cap.
    pub cap: u32,
    /// Whether its units may be granted RT (default: no).
    pub rt_allowed: bool,
    /// RT CPU budget: percent of one CPU per budget window, 1..=100.
    pub rt_budget_pct: u32,
    /// RT requests allowed per second, 1..=100000.
    pub rt_rate_per_s: u32,
}

impl DomainParams {
    /// What a domctl putinfo asks of a domain whose parameters are `self`: the one
    /// reading of the payload, for Xen's shim (`rtcredit_domctl_putinfo`) and for
    /// `rtcredit-ctl`'s checks. 0 (`weight`, `rt_budget_pct`, `rt_rate_per_s`) and the
    /// keep markers (`cap`, `rt_allowed`) leave a value as it is; `pad` and `pad2` must
    /// be zero and `rt_allowed` 0, 1 or its marker (`BadDomctl`); the result must pass
    /// [`DomainParams::validate`]. The pool's RT capacity is checked where the
    /// parameters are set, not here.
    pub fn with_domctl(&self, put: &XenDomctlSchedRtcredit) -> Result<DomainParams, RtcError> {
        if put.pad != 0 || put.pad2 != 0 || (put.rt_allowed > 1 && put.rt_allowed != DOMCTL_KEEP_RT_ALLOWED) {
            return Err(RtcError::BadDomctl);
        }
        let keep_zero = |asked: u32, current: u32| if asked == 0 { current } else { asked };
        let params = DomainParams {
            weight: keep_zero(put.weight.into(), self.weight),
            cap: if put.cap == DOMCTL_KEEP_CAP { self.cap } else { put.cap.into() },
            rt_allowed: if put.rt_allowed == DOMCTL_KEEP_RT_ALLOWED { self.rt_allowed } else { put.rt_allowed == 1 },
            rt_budget_pct: keep_zero(put.rt_budget_pct.into(), self.rt_budget_pct),
            rt_rate_per_s: keep_zero(put.rt_rate_per_s, self.rt_rate_per_s),
        };
        params.validate()?;
        Ok(params)
    }

    /// The parameter fields of a getinfo or putinfo answer (the reserved fields
    /// zeroed); valid parameters fit the payload's narrower fields.
    pub fn write_domctl(&self, out: &mut XenDomctlSchedRtcredit) {
        out.weight = self.weight.min(u32::from(u16::MAX)) as u16;
        out.cap = self.cap.min(u32::from(u16::MAX)) as u16;
        out.rt_allowed = u8::from(self.rt_allowed);
        out.pad = 0;
        out.rt_budget_pct = self.rt_budget_pct.min(u32::from(u16::MAX)) as u16;
        out.rt_rate_per_s = self.rt_rate_per_s;
        out.pad2 = 0;
    }

    /// Checks every rule; the first broken one is returned.
    pub fn validate(&self) -> Result<(), RtcError> {
        if !(1..=65_535).contains(&self.weight) {
            return Err(RtcError::BadWeight);
        }
        if self.cap > 65_535 {
            return Err(RtcError::BadCap);
        }
        if !(1..=100).contains(&self.rt_budget_pct) {
            return Err(RtcError::BadRtBudget);
        }
        if !(1..=100_000).contains(&self.rt_rate_per_s) {
            return Err(RtcError::BadRtRate);
        }
        Ok(())
    }
}

/// Counters of a domain, summed over its units where per unit.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DomainCounters {
    /// The RT counters the domctl reports.
    pub rt: RtCounters,
    /// RT CPU time used in the current budget window.
    pub window_rt_ns: u64,
}

/// # Safety
/// `link` is the `acct.link` of a live domain.
unsafe fn domain_of_link(link: *mut crate::list::Link) -> *mut Domain {
    // `acct.link` is the first field of `acct`, which is the first field of `Domain`.
    container_of!(link, Domain, acct)
}

impl Accounting {
    /// Brings a CPU online: it starts idle and its credit counts from the next period.
    pub fn add_cpu(&mut self, shared: &Shared, cpu: &mut Cpu) -> Result<(), RtcError> {
        if cpu.id as usize >= MAX_CPUS {
            return Err(RtcError::CpuOutOfRange);
        }
        if cpu.online {
            return Err(RtcError::CpuAlreadyOnline);
        }
        cpu.online = true;
        self.ncpus += 1;
        self.publish_rt_capacity(shared);
        shared.online.set(cpu.id);
        shared.idlers.set(cpu.id);
        shared.set_best_queued(cpu);
        Ok(())
    }

    /// Takes a CPU offline. It must hold no unit at all (the host moves them first).
    pub fn remove_cpu(&mut self, shared: &Shared, cpu: &mut Cpu) -> Result<(), RtcError> {
        if !cpu.online {
            return Err(RtcError::CpuNotOnline);
        }
        if !cpu.current.is_null() || cpu.nr_queued() != 0 || cpu.resident != 0 {
            return Err(RtcError::CpuNotEmpty);
        }
        cpu.online = false;
        cpu.tick_on = false;
        self.ncpus = self.ncpus.saturating_sub(1);
        // The capacity shrinks with the pool and cannot refuse: while it is below what
        // is granted, allowances are scaled down (`crate::rt::budget`).
        self.publish_rt_capacity(shared);
        shared.online.clear(cpu.id);
        shared.idlers.clear(cpu.id);
        Ok(())
    }

    /// Forgets a unit (Xen's `remove_unit`): it must not be running. Its registered
    /// deadline is dropped (the host stops the unit's RT timer).
    ///
    /// # Safety
    /// `unit` is live and its domain too.
    pub unsafe fn remove_unit(&mut self, shared: &Shared, cpu: &mut Cpu, unit: *mut Unit) -> Result<(), RtcError> {
        // SAFETY: per the contract; we hold both locks.
        unsafe {
            if (*unit).cpu != cpu.id {
                return Err(RtcError::WrongCpu);
            }
            if (*unit).running {
                return Err(RtcError::UnitBusy);
            }
            if (*unit).queued {
                cpu.dequeue(shared, unit);
            }
            if (*unit).active {
                self.acct_stop(cpu, unit);
            }
            if (*unit).earn_pending {
                cpu.earn_pending.remove(ptr::addr_of_mut!((*unit).earn_link));
                (*unit).earn_pending = false;
            }
            (*unit).runnable = false;
            (*unit).parked = false;
            (*unit).rt_deadline_ns = 0;
            (*unit).rt_pending = false;
            cpu.resident = cpu.resident.saturating_sub(1);
            let live = (*unit).live();
            live.nr_units.store(live.nr_units.load(RELAXED).saturating_sub(1), RELAXED);
        }
        Ok(())
    }

    /// Whether a domain may be freed (no units left, not on the active list).
    pub fn domain_removable(&self, domain: &Domain) -> Result<(), RtcError> {
        if domain.nr_units() != 0 || domain.acct.on_active_list {
            return Err(RtcError::DomainBusy);
        }
        Ok(())
    }

    /// The unit starts earning credit (Xen's `__csched_unit_acct_start`).
    unsafe fn acct_start(&mut self, cpu: &mut Cpu, unit: *mut Unit) {
        // SAFETY: `unit` is live, resident on `cpu`, not active; both locks held.
        unsafe {
            let domain = (*unit).domain;
            cpu.active.push_back(ptr::addr_of_mut!((*unit).active_link));
            (*unit).active = true;
            let acct = &mut (*domain).acct;
            acct.active_units += 1;
            self.weight_total += u64::from(acct.weight);
            if !acct.on_active_list {
                acct.on_active_list = true;
                self.active_domains.push_front(ptr::addr_of_mut!(acct.link));
            }
        }
    }

    /// The unit stops earning credit (Xen's `__csched_unit_acct_stop_locked`).
    unsafe fn acct_stop(&mut self, cpu: &mut Cpu, unit: *mut Unit) {
        // SAFETY: `unit` is live, active, resident on `cpu`; both locks held.
        unsafe {
            let domain = (*unit).domain;
            cpu.active.remove(ptr::addr_of_mut!((*unit).active_link));
            (*unit).active = false;
            let acct = &mut (*domain).acct;
            acct.active_units = acct.active_units.saturating_sub(1);
            self.weight_total = self.weight_total.saturating_sub(u64::from(acct.weight));
            if acct.active_units == 0 && acct.on_active_list {
                acct.on_active_list = false;
                self.active_domains.remove(ptr::addr_of_mut!(acct.link));
            }
        }
    }

    /// The periodic tick of one CPU (see the module docs). Returns when the next tick
    /// is due, or `None` when the CPU runs nothing and the tick should stop.
    ///
    /// # Safety
    /// Every unit resident on `cpu` and their domains are live.
    pub unsafe fn tick(&mut self, shared: &Shared, cpu: &mut Cpu, now: u64) -> Option<u64> {
        // Units that ran at RT since the last tick earn credit from now on, as a unit the
        // tick finds running does (see "RT is seen by the tick" in `crate::rt`).
        loop {
            // SAFETY: links on the list belong to live units resident here; both locks held.
            let link = unsafe { cpu.earn_pending.pop_front() };
            if link.is_null() {
                break;
            }
            // SAFETY: as above; `link` is off the list now.
            unsafe {
                let unit = unit_of_earn(link);
                (*unit).earn_pending = false;
                if !(*unit).active {
                    self.acct_start(cpu, unit);
                }
            }
        }
        let current = cpu.current;
        if current.is_null() {
            cpu.tick_on = false;
            return None;
        }
        // SAFETY: the current unit is live; both locks are held.
        unsafe {
            let unit = &mut *current;
            match shared.charge_mode() {
                ChargeMode::Measured => burn_credits(unit, now),
                ChargeMode::TickSampled => {
                    let cost = shared.credits_per_tick.load(RELAXED);
                    unit.credit.store(unit.credit.load(RELAXED).saturating_sub(cost), RELAXED);
                }
            }
            // Found running at a tick: it consumes real CPU, so it earns credit from now
            // on (before RT falls back, so that its class reflects that).
            if !unit.active {
                self.acct_start(cpu, current);
            }
            // The tick never ends RT by itself: only the RT rule's own ends (the quantum
            // used, the budget spent) apply here as at any pass. See `crate::rt`.
            cpu.review_rt(shared, current, now);
            // BOOST drops to UNDER as in Xen (accounting sorts it out later).
            let unit = &mut *current;
            if unit.prio == Prio::Boost {
                set_running_prio(shared, unit, Prio::Under, now);
            }
        }
        cpu.tick_on = true;
        Some(now.saturating_add(shared.tick_ns.load(RELAXED).max(1)))
    }

    /// Phase one of an accounting period: each active domain's credit per active unit.
    pub fn account_begin(&mut self, shared: &Shared) {
        let credits_per_tslice = i64::from(shared.credits_per_tslice.load(RELAXED));
        let weight_total = self.weight_total as i64;
        let mut credit_total = credits_per_tslice * i64::from(self.ncpus);
        if self.credit_balance < 0 {
            // Converge the balance towards 0 when the system overspent.
            credit_total -= self.credit_balance;
        }
        self.period_balance = 0;
        if weight_total == 0 {
            return;
        }
        let mut weight_left = weight_total;
        let mut credit_xtra = false;
        let mut link = self.active_domains.front();
        while !link.is_null() {
            // SAFETY: domains on the active list are live; the private lock is held.
            let domain = unsafe { &mut *domain_of_link(link) };
            // SAFETY: as above.
            let next = unsafe { (*link).next() };
            let acct = &mut domain.acct;
            let active = i64::from(acct.active_units.max(1));
            let weight = i64::from(acct.weight);
            weight_left -= weight * active;

            // At most all its active units for the whole period (plus its part of the
            // overspend): a domain earns more only when the system-wide balance is negative.
            let mut credit_peak = active * credits_per_tslice;
            if self.credit_balance < 0 {
                credit_peak += div_round_up(-self.credit_balance * weight * active, weight_total);
            }
            let mut credit_cap_unit = 0;
            if acct.cap != 0 {
                let credit_cap = (i64::from(acct.cap) * credits_per_tslice + 99) / 100;
                credit_peak = credit_peak.min(credit_cap);
                credit_cap_unit = div_round_up(credit_cap, active);
            }
            let mut credit_fair = div_round_up(credit_total * weight * active, weight_total);
            if credit_fair < credit_peak {
                credit_xtra = true;
            } else {
                if weight_left > 0 {
                    // Give the domains after this one a chance at what it cannot use.
                    credit_total += div_round_up((credit_fair - credit_peak) * weight_total, weight_left);
                }
                if credit_xtra {
                    // Keep domains with spare credit at the head, so the others get a
                    // chance at it in later periods (as Xen does).
                    // SAFETY: `link` is on this list.
                    unsafe {
                        self.active_domains.remove(link);
                        self.active_domains.push_front(link);
                    }
                }
                credit_fair = credit_peak;
            }
            acct.credit_fair_unit = div_round_up(credit_fair, active).clamp(0, i64::from(i32::MAX)) as i32;
            acct.credit_cap_unit = credit_cap_unit.clamp(0, i64::from(i32::MAX)) as i32;
            link = next;
        }
    }

    /// Phase two, for one CPU: credit each active unit resident there, reclassify it,
    /// park or unpark it, retire it from the active list when it has plenty. Returns
    /// the CPUs to tickle (a running unit that got parked, an unparked unit).
    ///
    /// # Safety
    /// Every unit resident on `cpu` and their domains are live.
    pub unsafe fn account_cpu(&mut self, shared: &Shared, cpu: &mut Cpu, now: u64) -> CpuMask {
        let credits_per_tslice = shared.credits_per_tslice.load(RELAXED);
        let mut tickle = CpuMask::EMPTY;
        let mut link = cpu.active.front();
        while !link.is_null() {
            // SAFETY: links on the active list belong to live units; both locks held.
            let unit = unsafe { unit_of_active(link) };
            // SAFETY: as above.
            let next = unsafe { (*link).next() };
            // SAFETY: as above; the domain outlives its units.
            unsafe {
                let u = &mut *unit;
                let (credit_fair, credit_cap, capped) = {
                    let acct = &(*u.domain).acct;
                    (acct.credit_fair_unit, acct.credit_cap_unit, acct.cap != 0)
                };
                let mut credit = u.credit.load(RELAXED).saturating_add(credit_fair);
                let class = if credit < 0 { Prio::Over } else { Prio::Under };
                // A queued BOOST unit keeps BOOST (it loses it at the next tick that finds
                // it running): Xen changes `pri` but leaves it ahead of every UNDER unit.
                if u.prio != Prio::Rt && !(u.queued && u.prio == Prio::Boost && class == Prio::Under) {
                    cpu.set_prio(shared, unit, class, now);
                }
                if credit < 0 {
                    if capped && credit < -credit_cap && !u.parked {
                        tickle = tickle.or(&self.park(shared, cpu, unit, credit));
                    }
                    credit = credit.max(-credits_per_tslice);
                } else {
                    if u.parked {
                        tickle = tickle.or(&self.unpark(shared, cpu, unit, credit));
                    }
                    if credit > credits_per_tslice {
                        self.acct_stop(cpu, unit);
                        // Start a little ahead when it becomes active again.
                        credit /= 2;
                    }
                }
                u.credit.store(credit, RELAXED);
                self.period_balance += i64::from(credit);
            }
            link = next;
        }
        tickle
    }

    /// Phase three: records the period's balance. Returns when the next period is due.
    pub fn account_end(&mut self, shared: &Shared, now: u64) -> u64 {
        self.credit_balance =
            if self.weight_total == 0 && self.active_domains.is_empty() { 0 } else { self.period_balance };
        shared.emit(Event::Account {
            active_domains: self.active_domains.len(),
            total_weight: self.weight_total.min(u64::from(u32::MAX)) as u32,
            credit_balance: self.credit_balance as i32,
            now_ns: now,
        });
        now.saturating_add(shared.tslice_ns.load(RELAXED))
    }

    unsafe fn park(&mut self, shared: &Shared, cpu: &mut Cpu, unit: *mut Unit, credit: i32) -> CpuMask {
        // SAFETY: `unit` is live and resident on `cpu`; both locks held.
        unsafe {
            (*unit).parked = true;
            shared.emit(Event::Park { dom: (*unit).domid(), unit: (*unit).unit_id, credit });
            if (*unit).queued {
                cpu.dequeue(shared, unit);
            }
            if (*unit).running {
                return CpuMask::single(cpu.id);
            }
        }
        CpuMask::EMPTY
    }

    unsafe fn unpark(&mut self, shared: &Shared, cpu: &mut Cpu, unit: *mut Unit, credit: i32) -> CpuMask {
        // SAFETY: `unit` is live and resident on `cpu`; both locks held.
        unsafe {
            (*unit).parked = false;
            shared.emit(Event::Unpark { dom: (*unit).domid(), unit: (*unit).unit_id, credit });
            if (*unit).runnable && !(*unit).running && !(*unit).queued {
                // Back without BOOST: it is catching up, not reacting to an event.
                cpu.enqueue(shared, unit);
                return cpu.tickle(shared, unit);
            }
        }
        CpuMask::EMPTY
    }

    /// Sets a domain's parameters. Weight changes count from the next period. A change
    /// that raises the domain's RT share (allowing RT, a larger budget) above what the
    /// pool's RT capacity has left is refused with `RtCapacityExceeded`
    /// ([`Accounting::rt_capacity`] then says what is left); on error nothing changes.
    pub fn set_domain_params(
        &mut self,
        shared: &Shared,
        domain: &mut Domain,
        params: &DomainParams,
    ) -> Result<(), RtcError> {
        params.validate()?;
        let old_share =
            budget::rt_share_pct(domain.live.rt_allowed.load(RELAXED), domain.live.rt_budget_pct.load(RELAXED));
        let new_share = budget::rt_share_pct(params.rt_allowed, params.rt_budget_pct);
        self.rt_granted_pct = budget::admit(&self.rt_capacity(), old_share, new_share)?;
        self.publish_rt_capacity(shared);
        let acct = &mut domain.acct;
        if acct.on_active_list {
            let active = u64::from(acct.active_units);
            self.weight_total =
                self.weight_total.saturating_sub(u64::from(acct.weight) * active) + u64::from(params.weight) * active;
        }
        acct.weight = params.weight;
        acct.cap = params.cap;
        domain.live.rt_allowed.store(params.rt_allowed, RELAXED);
        domain.live.rt_budget_pct.store(params.rt_budget_pct, RELAXED);
        domain.live.rt_rate_per_s.store(params.rt_rate_per_s, RELAXED);
        Ok(())
    }

    /// A domain's parameters.
    pub fn domain_params(&self, domain: &Domain) -> DomainParams {
        DomainParams {
            weight: domain.acct.weight,
            cap: domain.acct.cap,
            rt_allowed: domain.live.rt_allowed.load(RELAXED),
            rt_budget_pct: domain.live.rt_budget_pct.load(RELAXED),
            rt_rate_per_s: domain.live.rt_rate_per_s.load(RELAXED),
        }
    }

    /// Sets the global parameters (validated; on error nothing changes). An RT capacity
    /// below the RT budgets already granted is refused (`RtCapacityBelowGranted`).
    pub fn set_params(&mut self, shared: &Shared, params: &Params) -> Result<(), RtcError> {
        params.validate()?;
        let wanted = RtCapacity::new(params.rt_capacity_pct, self.ncpus, self.rt_granted_pct);
        if params.rt_capacity_pct < self.params.rt_capacity_pct && wanted.granted_pct > wanted.capacity_pct {
            return Err(RtcError::RtCapacityBelowGranted);
        }
        self.params = *params;
        shared.publish_params(params);
        self.publish_rt_capacity(shared);
        Ok(())
    }

    /// The pool's RT capacity and how much of it is granted.
    pub fn rt_capacity(&self) -> RtCapacity {
        RtCapacity::new(self.params.rt_capacity_pct, self.ncpus, self.rt_granted_pct)
    }

    /// The domain leaves this scheduler (destroyed, or moved to another cpupool): its RT
    /// share goes back to the pool and it is no longer allowed RT here. Call it before
    /// its storage is freed; calling it twice gives back nothing the second time.
    pub fn release_domain(&mut self, shared: &Shared, domain: &mut Domain) {
        let share = budget::rt_share_pct(domain.live.rt_allowed.load(RELAXED), domain.live.rt_budget_pct.load(RELAXED));
        domain.live.rt_allowed.store(false, RELAXED);
        self.rt_granted_pct = self.rt_granted_pct.saturating_sub(share);
        self.publish_rt_capacity(shared);
    }

    /// The domain's RT CPU allowance per budget window, in ns, as in force now (scaled
    /// down while the pool is over its capacity; see [`crate::rt::budget`]).
    pub fn rt_allowance_ns(&self, shared: &Shared, domain: &Domain) -> u64 {
        budget::rt_allowance_ns(shared, &domain.live)
    }

    fn publish_rt_capacity(&self, shared: &Shared) {
        budget::publish_capacity(shared, &self.rt_capacity());
    }
}

/// A domain's RT counters (no lock needed).
pub fn domain_counters(domain: &Domain) -> DomainCounters {
    let live = &domain.live;
    DomainCounters {
        rt: RtCounters {
            rt_requests: live.rt_requests.load(RELAXED),
            rt_granted: live.rt_granted.load(RELAXED),
            rt_degraded: live.rt_degraded.load(RELAXED),
            rt_denied: live.rt_denied.load(RELAXED),
            rt_fires: live.rt_fires.load(RELAXED),
            rt_demotions: live.rt_demotions.load(RELAXED),
        },
        window_rt_ns: live.window_rt_ns.load(RELAXED),
    }
}

/// `ceil(numerator / denominator)` for a non-negative numerator, as Xen's
/// `(n + d - 1) / d`; 0 for a non-positive denominator, which the callers rule out
/// beforehand (this keeps a division-by-zero panic out of the code linked into Xen).
fn div_round_up(numerator: i64, denominator: i64) -> i64 {
    if denominator <= 0 {
        return 0;
    }
    (numerator + denominator - 1) / denominator
}
