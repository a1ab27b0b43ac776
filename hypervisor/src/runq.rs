//! Run-queue primitives under one CPU's schedule lock: queueing and dequeueing a unit,
//! changing its priority wherever it is, charging the running unit's time (credit and
//! time at each priority), and choosing which CPUs to tickle when a unit waits.
//!
//! These carry no policy of their own: [`crate::rt`] (the RT rule) and
//! [`crate::sched`] (picking, stealing) and [`crate::acct`] (the tick, accounting)
//! are built on them, and this module imports none of them, so the core has no import
//! cycle. The one RT fact here is that time run at RT is added to the domain's RT
//! budget window ([`crate::rt::budget`], which depends on nothing but the state).
//!
//! # Tickling
//!
//! When a unit is queued (wake, RT deadline, unpark), `tickle` decides which CPU must
//! reschedule, as Xen's `__runq_tickle`: this CPU if it is idle; otherwise an idle CPU
//! in the unit's affinity if there is one (it will steal the unit without preempting
//! anybody: this is how an RT unit prefers an idle CPU); otherwise this CPU if the unit
//! outranks what runs here (an RT unit outranks a running RT unit with a later
//! deadline); otherwise, for an RT unit waiting behind RT, a CPU in its affinity that
//! runs no RT. The chosen CPUs leave the idle set at once, so two wakers do not pick
//! the same idler.

use core::ptr;

use crate::cpumask::CpuMask;
use crate::list::{container_of, Link};
use crate::prio::Prio;
use crate::state::{Cpu, Shared, Unit, RELAXED};
use crate::trace::Event;

/// # Safety
/// `link` is the `runq_link` of a live unit.
pub(crate) unsafe fn unit_of_runq(link: *mut Link) -> *mut Unit {
    container_of!(link, Unit, runq_link)
}

/// # Safety
/// `link` is the `active_link` of a live unit.
pub(crate) unsafe fn unit_of_active(link: *mut Link) -> *mut Unit {
    container_of!(link, Unit, active_link)
}

/// # Safety
/// `link` is the `earn_link` of a live unit.
pub(crate) unsafe fn unit_of_earn(link: *mut Link) -> *mut Unit {
    container_of!(link, Unit, earn_link)
}

/// Charges the running unit for the time since it was last charged (Xen's
/// `burn_credits`): 10 credits per ms, the remainder carried to the next charge.
pub(crate) fn burn_credits(unit: &mut Unit, now: u64) {
    let delta = now.saturating_sub(unit.charged_until_ns);
    unit.charged_until_ns = unit.charged_until_ns.max(now);
    if delta == 0 {
        return;
    }
    let scaled = delta.saturating_mul(crate::params::CREDITS_PER_MS as u64).saturating_add(unit.residual_ns);
    let credits = scaled / 1_000_000;
    unit.residual_ns = scaled % 1_000_000;
    let credit = i64::from(unit.credit.load(RELAXED)).saturating_sub(credits.min(i32::MAX as u64) as i64);
    unit.credit.store(credit.max(i64::from(i32::MIN)) as i32, RELAXED);
}

/// Adds the time since `prio_since_ns` to the running unit's per-priority counters
/// (and, when it ran at RT, to its RT quantum use and its domain's RT budget use; when
/// it ran at a BOOST paid from that budget, to the budget's use).
pub(crate) fn flush_prio_time(shared: &Shared, unit: &mut Unit, now: u64) {
    let elapsed = now.saturating_sub(unit.prio_since_ns);
    unit.prio_since_ns = unit.prio_since_ns.max(now);
    if elapsed == 0 || !unit.running {
        return;
    }
    unit.stats.add_prio_time(unit.prio, elapsed);
    if unit.prio == Prio::Rt {
        unit.rt_used_ns = unit.rt_used_ns.saturating_add(elapsed);
    }
    if unit.prio == Prio::Rt || (unit.prio == Prio::Boost && unit.boost_on_rt_budget) {
        crate::rt::budget::charge_rt_time(shared, unit.live(), elapsed, now);
    }
}

/// Changes the priority of the running unit, keeping the counters exact.
pub(crate) fn set_running_prio(shared: &Shared, unit: &mut Unit, prio: Prio, now: u64) {
    if unit.prio == prio {
        return;
    }
    flush_prio_time(shared, unit, now);
    shared.emit(Event::PrioChange {
        dom: unit.domid(),
        unit: unit.unit_id,
        old_prio: unit.prio as u32,
        new_prio: prio as u32,
    });
    unit.prio = prio;
    shared.set_current_prio(unit.cpu, prio);
}

impl Cpu {
    /// Queues `unit` in the queue of its priority: at the tail (FIFO), except that the
    /// RT queue is in deadline order (earliest first, FIFO among equal deadlines; see
    /// [`crate::rt`]). The unit takes a new queue ticket here: its place is the tail.
    ///
    /// # Safety
    /// `unit` is live, resident here, runnable, not parked, not running, not queued.
    pub(crate) unsafe fn enqueue(&mut self, shared: &Shared, unit: *mut Unit) {
        self.last_ticket += 1;
        // SAFETY: per the contract.
        unsafe {
            (*unit).queue_ticket = self.last_ticket;
            (*unit).ticket_cpu = self.id;
            self.insert_queued(shared, unit);
        }
    }

    /// Queues `unit` back at the place its queue ticket gives it in its class: ahead of
    /// the units queued after it, as if it had never left. For a unit RT took out of
    /// its class (it fired while queued, or it was preempted by RT while running) and
    /// that RT gives back: without RT it would still be there. A ticket issued by
    /// another CPU (it was stolen since) says nothing here: then it is the tail.
    ///
    /// # Safety
    /// As [`Cpu::enqueue`].
    pub(crate) unsafe fn enqueue_in_place(&mut self, shared: &Shared, unit: *mut Unit) {
        // SAFETY: per the contract.
        unsafe {
            if (*unit).ticket_cpu != self.id {
                self.enqueue(shared, unit);
            } else {
                self.insert_queued(shared, unit);
            }
        }
    }

    /// Inserts `unit` into the queue of its priority by its key: the RT queue by
    /// deadline, the others by queue ticket; each queue stays sorted by its key, so the
    /// walk from the tail is O(1) for a new ticket and for deadlines that come due in
    /// order, and O(units queued since) for a unit put back in place.
    ///
    /// # Safety
    /// As [`Cpu::enqueue`].
    unsafe fn insert_queued(&mut self, shared: &Shared, unit: *mut Unit) {
        // SAFETY: per the contract; the queue index of a queued priority is < 4, and a
        // unit with `Prio::Idle` is never queued (callers never give units IDLE). Links
        // on a run queue belong to live units.
        unsafe {
            let index = (*unit).prio.queue_index();
            let rt = (*unit).prio == Prio::Rt;
            let key = |u: *const Unit| if rt { crate::rt::rt_order_ns(&*u) } else { (*u).queue_ticket };
            let own_key = key(unit);
            if let Some(queue) = self.queues.get_mut(index) {
                let mut at = queue.back();
                while !at.is_null() && key(unit_of_runq(at)) > own_key {
                    at = (*at).prev();
                }
                queue.insert_after(at, ptr::addr_of_mut!((*unit).runq_link));
                (*unit).queued = true;
            }
        }
        shared.set_best_queued(self);
    }

    /// The order key (`crate::rt::rt_order_ns`) of the RT unit at the head of this
    /// CPU's RT queue, if any.
    pub(crate) fn rt_head_order_ns(&self) -> Option<u64> {
        let head = self.queues[Prio::Rt.queue_index()].front();
        // SAFETY: queued links belong to live units.
        (!head.is_null()).then(|| unsafe { crate::rt::rt_order_ns(&*unit_of_runq(head)) })
    }

    /// Removes `unit` from its queue.
    ///
    /// # Safety
    /// `unit` is live and queued here.
    pub(crate) unsafe fn dequeue(&mut self, shared: &Shared, unit: *mut Unit) {
        // SAFETY: per the contract the unit is on the queue of its priority.
        unsafe {
            let index = (*unit).prio.queue_index();
            if let Some(queue) = self.queues.get_mut(index) {
                queue.remove(ptr::addr_of_mut!((*unit).runq_link));
            }
            (*unit).queued = false;
        }
        shared.set_best_queued(self);
    }

    /// Changes the priority of a unit wherever it is (queued, running or neither). A
    /// queued unit moving between two credit classes goes to the tail of its new class
    /// (credit's rule); one moving into or out of RT keeps its ticket, so that when RT
    /// ends it is back where it waited before (see [`Cpu::enqueue_in_place`]).
    ///
    /// # Safety
    /// `unit` is live and resident here.
    pub(crate) unsafe fn set_prio(&mut self, shared: &Shared, unit: *mut Unit, prio: Prio, now: u64) {
        // SAFETY: per the contract; requeueing keeps the queue/priority invariant.
        unsafe {
            if (*unit).prio == prio {
                return;
            }
            if (*unit).queued {
                let rt_change = (*unit).prio == Prio::Rt || prio == Prio::Rt;
                self.dequeue(shared, unit);
                (*unit).prio = prio;
                if rt_change {
                    self.enqueue_in_place(shared, unit);
                } else {
                    self.enqueue(shared, unit);
                }
            } else if (*unit).running {
                set_running_prio(shared, &mut *unit, prio, now);
            } else {
                (*unit).prio = prio;
            }
        }
    }

    /// Chooses which CPUs must reschedule now that `unit` waits on this CPU.
    ///
    /// # Safety
    /// `unit` is live and queued here; `self.current` is live or null.
    pub(crate) unsafe fn tickle(&mut self, shared: &Shared, unit: *const Unit) -> CpuMask {
        // SAFETY: per the contract.
        let (new_prio, affinity) = unsafe { ((*unit).prio, (*unit).affinity) };
        let current_prio = if self.current.is_null() {
            Prio::Idle
        } else {
            // SAFETY: the current unit is live while it is current.
            unsafe { (*self.current).prio }
        };
        let mut idle = shared.idlers().and(&affinity).and(&shared.online());
        idle.clear(self.id);
        if current_prio == Prio::Idle {
            return self.claim(shared, self.id);
        }
        if !idle.is_empty() {
            // Leave the running unit alone (it is cache-hot); an idler steals this one.
            return self.claim_idler(shared, &idle);
        }
        let both_rt = new_prio == Prio::Rt && current_prio == Prio::Rt;
        // SAFETY: `current` is live when `current_prio` is not IDLE (returned above).
        let rt_first = both_rt && unsafe { crate::rt::rt_order_ns(&*unit) < crate::rt::rt_order_ns(&*self.current) };
        // An RT unit queued here ahead of it has this CPU's next pass (the queue is in
        // RT order, so a head that is not this unit comes first): it waits behind that
        // one as behind a running RT unit. Without this, two deadlines due together on
        // one CPU were served one after the other, the second up to an RT quantum late,
        // while the other CPUs ran hogs.
        let behind_queued_rt = new_prio == Prio::Rt && {
            let head = self.queues[Prio::Rt.queue_index()].front();
            // SAFETY: a non-null queue link is the `runq` link of a live queued unit.
            !head.is_null() && !ptr::eq(unsafe { unit_of_runq(head) }, unit)
        };
        if (both_rt && !rt_first) || behind_queued_rt {
            // It waits behind the RT unit running or queued here: a CPU in its affinity
            // that runs no RT takes it (it steals RT work at its pass; see `crate::rt`).
            let takers = shared.running_below_rt(self.id).and(&affinity);
            if !takers.is_empty() {
                return self.claim_idler(shared, &takers);
            }
        }
        if new_prio > current_prio || rt_first {
            return self.claim(shared, self.id);
        }
        CpuMask::EMPTY
    }

    /// Tickles `cpu`: it leaves the idle set at once, so two wakers do not pick it.
    fn claim(&self, shared: &Shared, cpu: u32) -> CpuMask {
        shared.idlers.clear(cpu);
        shared.emit(Event::Tickle { cpu, from_cpu: self.id });
        CpuMask::single(cpu)
    }

    /// Tickles one CPU of `idle`, round-robin (Xen's `cpumask_cycle` on its last
    /// tickled CPU), so that work spreads over the idle CPUs.
    pub(crate) fn claim_idler(&self, shared: &Shared, idle: &CpuMask) -> CpuMask {
        match idle.cycle_after(shared.tickle_cursor.load(RELAXED)) {
            Some(cpu) => {
                shared.tickle_cursor.store(cpu, RELAXED);
                self.claim(shared, cpu)
            }
            None => CpuMask::EMPTY,
        }
    }
}
