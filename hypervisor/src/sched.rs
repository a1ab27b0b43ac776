//! Per-CPU operations: queueing, waking, blocking, picking the next unit, stealing
//! work, tickling. Everything here runs under one CPU's schedule lock (`&mut Cpu`);
//! nothing here can reach the private lock's state.
//!
//! # Picking the next unit
//!
//! `schedule_begin` charges the current unit for the time it ran, then keeps it if the
//! rate limit says it has not run long enough (unless an RT unit waits: RT overrides
//! the rate limit). Otherwise the current unit goes back to the tail of its class and
//! the head of the highest non-empty class is the candidate. If the candidate is at
//! least UNDER it runs (unless a peer has RT waiting, which is stolen: see
//! [`crate::rt`]). If it is OVER, or nothing is queued, better work may wait on
//! another CPU: the caller gets the set of CPUs whose queues hold something more
//! urgent, try-locks them one by one and calls `steal_from`, then `schedule_finish`
//! settles on the stolen unit, the local candidate or idle. This is the shape of Xen's
//! `csched_schedule` + `csched_load_balance`, split so the host owns the locking.
//!
//! Tickling (which CPU must reschedule when a unit waits) is in [`crate::runq`]; the
//! RT rule (when a unit gets RT, its slice, when RT ends) is in [`crate::rt`].

use core::ptr;

use crate::cpumask::CpuMask;
use crate::params::{ChargeMode, MIN_TIMER_NS};
use crate::prio::Prio;
use crate::rt::rt_slice;
use crate::runq::{burn_credits, flush_prio_time, unit_of_runq};
use crate::state::{bump, Cpu, Shared, Unit, RELAXED};
use crate::trace::EndReason;
use crate::trace::Event;
use crate::RtcError;

/// What the host must do with the CPU's tick timer after a scheduling decision.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TickCmd {
    /// Leave it as it is.
    Keep = 0,
    /// Arm it at `Decision::tick_at_ns` (the CPU leaves idle).
    Start = 1,
    /// Stop it (the CPU goes idle; no unit to charge).
    Stop = 2,
}

/// The outcome of a scheduling pass.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Decision {
    /// The unit to run, null for idle.
    pub next: *mut Unit,
    /// `next`'s host pointer, null for idle.
    pub next_host: *mut core::ffi::c_void,
    /// How long it may run before the next pass (slice timer); `u64::MAX` for idle.
    pub run_ns: u64,
    /// Its priority (`Idle` for idle).
    pub prio: Prio,
    /// `next` differs from what ran before the pass.
    pub switched: bool,
    /// `next` was stolen from another CPU in this pass.
    pub migrated: bool,
    /// The tick timer command.
    pub tick: TickCmd,
    /// With `TickCmd::Start`: when the first tick is due (aligned to the tick period).
    pub tick_at_ns: u64,
    /// CPUs to tickle: an idle CPU that can take work left waiting here.
    pub tickle: CpuMask,
}

/// First half of a scheduling pass.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ScheduleBegin {
    /// Better work may wait on a peer: try-lock each of `candidates` in turn and call
    /// `steal_from` with `min_prio`; if none gave a unit, do the same with
    /// `fallback_candidates` and `fallback_min_prio`; then `schedule_finish`. When
    /// false the pass is over and `decision` is final.
    pub want_steal: bool,
    /// First round: steal only units of a priority above this.
    pub min_prio: Prio,
    /// First round: peers worth trying (non-idle, with something above `min_prio`
    /// queued).
    pub candidates: CpuMask,
    /// Second round, tried only if the first stole nothing: steal only units of a
    /// priority above this.
    pub fallback_min_prio: Prio,
    /// Second round: peers worth trying (empty: no second round).
    pub fallback_candidates: CpuMask,
    /// Valid when `want_steal` is false.
    pub decision: Decision,
}

impl ScheduleBegin {
    /// The steal rounds in the order to try them: `(min_prio, candidates)`.
    pub const fn steal_rounds(&self) -> [(Prio, CpuMask); 2] {
        [(self.min_prio, self.candidates), (self.fallback_min_prio, self.fallback_candidates)]
    }

    /// A pass decided without stealing.
    const fn decided(decision: Decision) -> ScheduleBegin {
        ScheduleBegin {
            want_steal: false,
            min_prio: Prio::Idle,
            candidates: CpuMask::EMPTY,
            fallback_min_prio: Prio::Idle,
            fallback_candidates: CpuMask::EMPTY,
            decision,
        }
    }
}

impl Decision {
    pub(crate) const fn idle() -> Decision {
        Decision {
            next: ptr::null_mut(),
            next_host: ptr::null_mut(),
            run_ns: u64::MAX,
            prio: Prio::Idle,
            switched: false,
            migrated: false,
            tick: TickCmd::Keep,
            tick_at_ns: 0,
            tickle: CpuMask::EMPTY,
        }
    }
}

impl Cpu {
    fn check_resident(&self, unit: &Unit) -> Result<(), RtcError> {
        if unit.cpu != self.id {
            return Err(RtcError::WrongCpu);
        }
        if !self.online {
            return Err(RtcError::CpuNotOnline);
        }
        Ok(())
    }

    /// Makes `unit` resident on this CPU (Xen's `insert_unit`), runnable or not.
    /// Returns the CPUs to tickle.
    ///
    /// # Safety
    /// `unit` is live, was set up with `Unit::new`, and is resident on no CPU.
    pub unsafe fn insert_unit(
        &mut self,
        shared: &Shared,
        unit: *mut Unit,
        runnable: bool,
        now: u64,
    ) -> Result<CpuMask, RtcError> {
        if !self.online {
            return Err(RtcError::CpuNotOnline);
        }
        // SAFETY: per the contract.
        unsafe {
            (*unit).cpu = self.id;
            (*unit).live().nr_units.fetch_add(1, RELAXED);
            self.resident += 1;
            if runnable {
                return self.wake(shared, unit, now);
            }
        }
        Ok(CpuMask::EMPTY)
    }

    /// The unit became runnable (Xen's `wake`). It is queued, with BOOST when it was
    /// UNDER (not after a migration, not when parked) or when it was OVER but is a
    /// sibling VCPU of a domain allowed RT with RT budget left (paid from that budget,
    /// see `crate::rt`), or with RT when its deadline fired while it was blocked.
    /// Returns the CPUs to tickle.
    ///
    /// # Safety
    /// `unit` is live.
    pub unsafe fn wake(&mut self, shared: &Shared, unit: *mut Unit, now: u64) -> Result<CpuMask, RtcError> {
        // SAFETY: per the contract; the unit's fields are ours under this CPU's lock.
        unsafe {
            self.check_resident(&*unit)?;
            let u = &mut *unit;
            u.runnable = true;
            if u.running || u.queued || u.parked {
                return Ok(CpuMask::EMPTY);
            }
            let migrating = core::mem::take(&mut u.migrating);
            // A sibling's BOOST paid from the RT budget (`crate::rt`): given at a wake
            // while OVER, kept like any BOOST (until a tick finds it running, or
            // accounting) only while the budget lasts. The budget is looked at only for
            // those wakes.
            if u.prio == Prio::Boost && u.boost_on_rt_budget && !crate::rt::sibling_boost_allowed(shared, u, now) {
                u.prio = u.credit_class();
            }
            let budget_boost = !migrating && u.prio == Prio::Over && crate::rt::sibling_boost_allowed(shared, u, now);
            let boost = (!migrating && u.prio == Prio::Under) || budget_boost;
            if boost {
                u.boost_on_rt_budget = budget_boost;
            }
            // RT: its deadline fired while it was blocked. It would have been BOOST
            // without RT if this wake boosts it or it still had BOOST.
            let rt = self.take_pending_rt(shared, unit, boost || u.prio == Prio::Boost, now);
            if !rt && boost {
                u.prio = Prio::Boost;
                bump(&u.stats.boosts, 1);
                shared.emit(Event::Boost { dom: u.domid(), unit: u.unit_id });
            }
            self.enqueue(shared, unit);
            Ok(self.tickle(shared, unit))
        }
    }

    /// The unit stopped being runnable (blocked, paused). If it is running, this CPU
    /// must reschedule (returned mask); if queued, it leaves the queue.
    ///
    /// # Safety
    /// `unit` is live.
    pub unsafe fn sleep(&mut self, shared: &Shared, unit: *mut Unit) -> Result<CpuMask, RtcError> {
        // SAFETY: per the contract.
        unsafe {
            self.check_resident(&*unit)?;
            (*unit).runnable = false;
            (*unit).slept_since_rtsleep = true;
            if (*unit).running {
                return Ok(CpuMask::single(self.id));
            }
            if (*unit).queued {
                self.dequeue(shared, unit);
            }
            // A slice RT cut is for the stay it interrupted; a unit that stops waiting
            // starts its next stay with a whole slice.
            (*unit).resume_slice_end_ns = 0;
        }
        Ok(CpuMask::EMPTY)
    }

    /// The running unit asks to yield: at the next pass it goes behind the others of
    /// its class, and if it is alone at the top, one unit of a lower class runs first.
    ///
    /// # Safety
    /// `unit` is live.
    pub unsafe fn yield_unit(&mut self, unit: *mut Unit) -> Result<(), RtcError> {
        // SAFETY: per the contract.
        unsafe {
            self.check_resident(&*unit)?;
            (*unit).yielding = true;
        }
        Ok(())
    }

    /// First half of a scheduling pass (see the module docs). `now` is the host's
    /// clock; `force_idle` runs the idle unit whatever is queued (Xen's tasklet work).
    ///
    /// # Safety
    /// Every unit resident here is live. No other pass on this CPU is in progress.
    pub unsafe fn schedule_begin(&mut self, shared: &Shared, now: u64, force_idle: bool) -> ScheduleBegin {
        let current = self.current;
        self.prev = current;
        self.pending_pick = ptr::null_mut();
        self.yielder = ptr::null_mut();
        self.forced_idle = force_idle;

        if !current.is_null() {
            // SAFETY: the current unit is live; its fields are ours under this lock.
            let cur = unsafe { &mut *current };
            if shared.charge_mode() == ChargeMode::Measured {
                burn_credits(cur, now);
            }
            flush_prio_time(shared, cur, now);
            // SAFETY: the current unit, live.
            unsafe { self.review_rt(shared, current, now) };
            // SAFETY: as above (`review_rt` may have changed its priority).
            let cur = unsafe { &mut *current };
            let ran_ns = now.saturating_sub(self.current_since_ns);
            let ratelimit_ns = shared.ratelimit_ns.load(RELAXED);
            // RT waiting here, or (for a unit below RT) RT waiting on a peer for a CPU
            // that runs no RT, which is what this pass may have been tickled for.
            let rt_waiting_elsewhere = || cur.prio < Prio::Rt && !shared.rt_queued_elsewhere(self.id).is_empty();
            let rt_waiting = || !self.queues[Prio::Rt.queue_index()].is_empty() || rt_waiting_elsewhere();
            let queued = |p: &Prio| !self.queues[p.queue_index()].is_empty();
            // Above it: a higher class, or for an RT unit an RT unit with an earlier
            // deadline (EDF within RT, see `crate::rt`).
            let higher_waiting = || {
                crate::prio::QUEUED_DESC.iter().take_while(|p| **p > cur.prio).any(queued)
                    || (cur.prio == Prio::Rt
                        && self.rt_head_order_ns().is_some_and(|head| head < crate::rt::rt_order_ns(cur)))
            };
            let peer_waiting = || crate::prio::QUEUED_DESC.iter().take_while(|p| **p >= cur.prio).any(queued);
            // The current unit keeps the CPU (1) within the rate limit unless an RT unit
            // waits, or (2) if its deadline fired while it was running this stay, to the
            // end of the slice the last pass that picked it gave it (`slice_end_ns`, not
            // one slice from the stay's start: a unit alone renews its slice at each
            // pass) when no higher class waits: the passes RT makes (the fire's own, the
            // end of an RT slice or of RT) neither send it behind its equals mid-slice
            // nor give it a new slice, so RT on a unit that was running anyway changes
            // nothing outside RT. Not when its stay was RT's doing and RT is over (`rt_ended`):
            // then it waits behind its equals as it would have without RT, except (3)
            // for the rest of its quantum after its `rtsleep`, to reach its block ("the
            // way to sleep" in `crate::rt`; `rt_grace_until_ns` is only set with
            // `rt_ended`), unless RT waits. Not mid-slice either while RT waits on a
            // peer behind RT: this pass may be the tickle that asks this CPU to take it.
            let in_ratelimit = ratelimit_ns != 0 && ran_ns < ratelimit_ns && !rt_waiting();
            let slice_left_ns = self.slice_end_ns.saturating_sub(now);
            let mid_slice = cur.rt_in_stay && slice_left_ns > 0 && !higher_waiting() && !rt_waiting_elsewhere();
            let keep_ns = if now < cur.rt_grace_until_ns {
                (!rt_waiting()).then(|| cur.rt_grace_until_ns - now)
            } else if !cur.rt_ended && (in_ratelimit || mid_slice) {
                // Within the rate limit with a unit of its class or higher waiting: that
                // turn is deferred to the rate limit's end (as in Xen). Else, and after
                // RT's own passes, the rest of the slice.
                Some(if !mid_slice && peer_waiting() { ratelimit_ns - ran_ns } else { slice_left_ns })
            } else {
                None
            };
            if let Some(keep_ns) = keep_ns.filter(|_| !force_idle && cur.runnable && !cur.parked && !cur.yielding) {
                let mut decision = self.decision_for(current, false);
                decision.run_ns = rt_slice(shared, cur, keep_ns.max(MIN_TIMER_NS), now);
                decision.switched = false;
                if cur.prio == Prio::Rt {
                    // It stays at RT: pass on a tickle this CPU may have got for RT
                    // waiting elsewhere.
                    decision.tickle = self.tickle_for_waiting_rt(shared);
                }
                return ScheduleBegin::decided(decision);
            }
            let stays = cur.runnable && !cur.parked;
            // Where it goes back in its class. RT takes units out of their place twice,
            // and gives it back each time, so that outside RT the queue is what it would
            // have been without RT: (1) a unit whose stay RT got it (it fired while
            // queued, or woke at RT) goes back to its place in its class when RT is
            // over; (2) a unit below RT that an RT unit preempts goes back to the head
            // of its class (it was running), to the end of its slice, not a new one.
            // Otherwise a mixed-work VCPU (a periodic task beside a CPU burner) lost its
            // place every period, and its share with it: 12.6% instead of 25% beside
            // three hogs in the simulator. (Sending it behind its equals instead, as
            // BOOST's preemption does in credit, with a new slice or with the rest of
            // this one, was measured and is not better: sim/README.md.)
            let preempted_by_rt = stays && !cur.yielding && cur.prio < Prio::Rt && rt_waiting();
            let in_place = cur.rt_ended || preempted_by_rt;
            if preempted_by_rt {
                cur.resume_slice_end_ns = self.slice_end_ns.max(1);
            }
            if !stays {
                // RT is a one-shot grant: it ends when the unit blocks.
                // SAFETY: the current unit, live.
                unsafe { self.end_rt(shared, current, EndReason::Blocked, now) };
            }
            // SAFETY: as above.
            let cur = unsafe { &mut *current };
            cur.running = false;
            self.current = ptr::null_mut();
            if stays {
                if cur.yielding {
                    self.yielder = current;
                }
                // SAFETY: runnable, not parked, no longer running, not queued.
                unsafe {
                    if in_place {
                        self.enqueue_in_place(shared, current);
                    } else {
                        self.enqueue(shared, current);
                    }
                }
            }
            cur.yielding = false;
        }

        if force_idle {
            // SAFETY: no pending pick, nothing stolen.
            return ScheduleBegin::decided(unsafe { self.schedule_finish(shared, ptr::null_mut(), now) });
        }

        // SAFETY: queued units are live.
        let candidate = unsafe { self.local_candidate() };
        let candidate_prio = if candidate.is_null() {
            Prio::Idle
        } else {
            // SAFETY: as above.
            unsafe { (*candidate).prio }
        };
        self.pending_pick = candidate;
        // Stealing, in two rounds. First RT work: an RT unit waiting behind another RT
        // unit on its CPU is taken by a CPU that runs no RT (tickled for it, see
        // `Cpu::tickle`), from the CPUs that hold RT only, so that the first peer with
        // anything better than OVER (the host tries peers in turn) does not hand over
        // an UNDER unit instead. Then, with OVER or nothing here, any more urgent work
        // elsewhere (Xen's load balancing): the RT units of the first round may all be
        // pinned away from this CPU, and must not hide the rest of their queues. With
        // BOOST or UNDER here, no second round.
        let rt_elsewhere = shared.rt_queued_elsewhere(self.id);
        let balance =
            if candidate_prio > Prio::Over { CpuMask::EMPTY } else { self.steal_candidates(shared, candidate_prio) };
        let (min_prio, candidates, fallback_candidates) = if candidate_prio == Prio::Rt {
            (candidate_prio, CpuMask::EMPTY, CpuMask::EMPTY)
        } else if !rt_elsewhere.is_empty() {
            (Prio::Boost, rt_elsewhere, balance)
        } else {
            (candidate_prio, balance, CpuMask::EMPTY)
        };
        if candidates.is_empty() {
            // SAFETY: `pending_pick` is queued here.
            return ScheduleBegin::decided(unsafe { self.schedule_finish(shared, ptr::null_mut(), now) });
        }
        ScheduleBegin {
            want_steal: true,
            min_prio,
            candidates,
            fallback_min_prio: candidate_prio,
            fallback_candidates,
            decision: Decision::idle(),
        }
    }

    /// The head of the highest non-empty class, except that a yielding unit alone at
    /// the top lets the head of the next lower class go first.
    unsafe fn local_candidate(&self) -> *mut Unit {
        let mut best: *mut Unit = ptr::null_mut();
        for queue in self.queues.iter() {
            let head = queue.front();
            if head.is_null() {
                continue;
            }
            // SAFETY: queued links belong to live units.
            let unit = unsafe { unit_of_runq(head) };
            if best.is_null() {
                if unit == self.yielder && queue.len() == 1 {
                    best = unit;
                    continue;
                }
                return unit;
            }
            // `best` is the lone yielder; this is the next lower class.
            return unit;
        }
        best
    }

    /// Non-idle online peers whose queues hold something above `min_prio`.
    fn steal_candidates(&self, shared: &Shared, min_prio: Prio) -> CpuMask {
        let mut out = CpuMask::EMPTY;
        let online = shared.online();
        let idlers = shared.idlers();
        for cpu in online.iter() {
            if cpu == self.id || idlers.contains(cpu) {
                continue;
            }
            let best = shared.best_queued.get(cpu as usize).map_or(0, |slot| slot.load(RELAXED));
            if best > min_prio as u8 {
                out.set(cpu);
            }
        }
        out
    }

    /// Takes from `peer`'s queues the first unit above `min_prio` that may run on this
    /// CPU (highest class first, FIFO within a class) and makes it resident here.
    /// Returns null if there is none. Call between `schedule_begin` and
    /// `schedule_finish` with `peer`'s lock held (try-lock: see the module docs).
    ///
    /// # Safety
    /// Every unit resident on either CPU is live.
    pub unsafe fn steal_from(&mut self, shared: &Shared, peer: &mut Cpu, min_prio: Prio) -> *mut Unit {
        if peer.id == self.id || peer.current.is_null() || !peer.online {
            // An idle peer is about to run its own queue.
            return ptr::null_mut();
        }
        for prio in crate::prio::QUEUED_DESC {
            if prio <= min_prio {
                break;
            }
            let mut link = peer.queues[prio.queue_index()].front();
            while !link.is_null() {
                // SAFETY: queued links belong to live units.
                let unit = unsafe { unit_of_runq(link) };
                // SAFETY: as above.
                let next = unsafe { (*link).next() };
                // SAFETY: as above; we hold both CPUs' locks.
                unsafe {
                    if !(*unit).saving && (*unit).affinity.contains(self.id) {
                        peer.dequeue(shared, unit);
                        peer.move_resident(self, unit);
                        shared.emit(Event::Steal {
                            from_cpu: peer.id,
                            to_cpu: self.id,
                            dom: (*unit).domid(),
                            unit: (*unit).unit_id,
                        });
                        return unit;
                    }
                }
                link = next;
            }
        }
        ptr::null_mut()
    }

    /// Moves a unit's residency (and its place on the accounting list) to `to`.
    ///
    /// # Safety
    /// `unit` is live, resident here, not queued; both locks are held.
    pub(crate) unsafe fn move_resident(&mut self, to: &mut Cpu, unit: *mut Unit) {
        // SAFETY: per the contract.
        unsafe {
            if (*unit).active {
                let link = ptr::addr_of_mut!((*unit).active_link);
                self.active.remove(link);
                to.active.push_back(link);
            }
            if (*unit).earn_pending {
                let link = ptr::addr_of_mut!((*unit).earn_link);
                self.earn_pending.remove(link);
                to.earn_pending.push_back(link);
            }
            (*unit).cpu = to.id;
        }
        self.resident = self.resident.saturating_sub(1);
        to.resident += 1;
    }

    /// Second half of a scheduling pass: runs `stolen` if not null, else the local
    /// candidate chosen by `schedule_begin`, else idle.
    ///
    /// # Safety
    /// `stolen` is null or a unit just returned by `steal_from` on this CPU.
    pub unsafe fn schedule_finish(&mut self, shared: &Shared, stolen: *mut Unit, now: u64) -> Decision {
        let next = if !stolen.is_null() {
            stolen
        } else if !self.pending_pick.is_null() {
            let pick = self.pending_pick;
            // SAFETY: the pending pick is queued here (nothing ran in between).
            unsafe { self.dequeue(shared, pick) };
            pick
        } else {
            ptr::null_mut()
        };
        self.pending_pick = ptr::null_mut();
        self.yielder = ptr::null_mut();
        let switched = next != self.prev;
        if switched && !self.prev.is_null() {
            // SAFETY: the previous unit is live and resident here (nobody could steal
            // it: it is not queued, or it is `saving` from now on).
            unsafe { (*self.prev).saving = true };
        }

        let mut decision = if next.is_null() {
            if !self.forced_idle {
                shared.idlers.set(self.id);
            }
            shared.set_current_prio(self.id, Prio::Idle);
            if switched {
                shared.emit(Event::Idle { cpu: self.id });
            }
            let mut decision = Decision::idle();
            if self.tick_on {
                self.tick_on = false;
                decision.tick = TickCmd::Stop;
            }
            decision
        } else {
            shared.idlers.clear(self.id);
            // SAFETY: `next` is live.
            shared.set_current_prio(self.id, unsafe { (*next).prio });
            // SAFETY: `next` is live, resident here, and no longer queued.
            let unit = unsafe { &mut *next };
            unit.running = true;
            self.current = next;
            // A unit an RT unit preempted resumes its slice, to the slice's end; the part
            // already gone counts for the rate limit.
            let slice_ns = shared.tslice_ns.load(RELAXED);
            let resume_end_ns = core::mem::take(&mut unit.resume_slice_end_ns);
            let slice_left_ns =
                if switched && resume_end_ns != 0 { resume_end_ns.saturating_sub(now) } else { slice_ns };
            if switched {
                self.current_since_ns = now.saturating_sub(slice_ns.saturating_sub(slice_left_ns));
                unit.rt_ended = false;
                unit.rt_in_stay = false;
                unit.rt_grace_until_ns = 0;
                unit.switched_in_at_rt = unit.prio == Prio::Rt;
                bump(&unit.stats.runs, 1);
                shared.emit(Event::SwitchIn {
                    dom: unit.domid(),
                    unit: unit.unit_id,
                    prio: unit.prio as u32,
                    cpu: self.id,
                });
            }
            unit.charged_until_ns = now;
            unit.prio_since_ns = now;
            let mut decision = self.decision_for(next, !stolen.is_null());
            if !self.tick_on {
                self.tick_on = true;
                let tick_ns = shared.tick_ns.load(RELAXED).max(1);
                decision.tick = TickCmd::Start;
                decision.tick_at_ns = now.saturating_add(tick_ns - now % tick_ns);
            }
            self.slice_end_ns = now.saturating_add(slice_left_ns);
            decision.run_ns = rt_slice(shared, unit, slice_left_ns.max(MIN_TIMER_NS), now);
            decision
        };
        decision.switched = switched;
        shared.set_best_queued(self);
        decision.tickle = self.tickle_for_waiting_work(shared);
        if decision.tickle.is_empty() && decision.prio == Prio::Rt {
            decision.tickle = self.tickle_for_waiting_rt(shared);
        }
        decision
    }

    fn decision_for(&self, unit: *mut Unit, migrated: bool) -> Decision {
        // SAFETY: callers pass a live unit resident here.
        let (host, prio) = unsafe { ((*unit).host_data, (*unit).prio) };
        Decision {
            next: unit,
            next_host: host,
            run_ns: 0,
            prio,
            switched: true,
            migrated,
            tick: TickCmd::Keep,
            tick_at_ns: 0,
            tickle: CpuMask::EMPTY,
        }
    }

    /// Work is left waiting here after a pass (the preempted unit went back to the
    /// queue, or more units are queued than this CPU can run): tickle one idle CPU that
    /// a waiting unit may run on, so that it steals it. Without this, units that never
    /// block (and so never wake and tickle) would stay piled on one CPU while others
    /// idle; Xen's credit moves them at its tick instead. O(1) when no CPU is idle (the
    /// loaded case); otherwise the first waiting unit an idle CPU may take is found in
    /// queue order, which skips units pinned elsewhere.
    fn tickle_for_waiting_work(&self, shared: &Shared) -> CpuMask {
        let mut idle = shared.idlers();
        idle.clear(self.id);
        if idle.is_empty() || self.nr_queued() == 0 {
            return CpuMask::EMPTY;
        }
        let idle = idle.and(&shared.online());
        for queue in self.queues.iter() {
            let mut link = queue.front();
            while !link.is_null() {
                // SAFETY: queued links belong to live units.
                let (affinity, next) = unsafe { ((*unit_of_runq(link)).affinity, (*link).next()) };
                let takers = idle.and(&affinity);
                if !takers.is_empty() {
                    return self.claim_idler(shared, &takers);
                }
                link = next;
            }
        }
        CpuMask::EMPTY
    }

    /// This pass runs RT and another RT unit waits, here behind it or on a peer that
    /// runs RT (this CPU may have been tickled to take that one and found its own RT
    /// unit instead): tickle one CPU that runs no RT to take it, so that RT units due
    /// together are served side by side instead of one RT turn after the other.
    fn tickle_for_waiting_rt(&self, shared: &Shared) -> CpuMask {
        let local = self.queues[Prio::Rt.queue_index()].front();
        let mut takers = shared.running_below_rt(self.id);
        if !local.is_null() {
            // SAFETY: queued links belong to live units.
            takers = takers.and(unsafe { &(*unit_of_runq(local)).affinity });
        } else if shared.rt_queued_elsewhere(self.id).is_empty() {
            return CpuMask::EMPTY;
        }
        self.claim_idler(shared, &takers)
    }

    /// The host finished switching `unit` out (Xen's `context_saved`): from now on
    /// another CPU may steal it.
    ///
    /// # Safety
    /// `unit` is live.
    pub unsafe fn context_saved(&mut self, unit: *mut Unit) -> Result<(), RtcError> {
        // SAFETY: per the contract.
        unsafe {
            self.check_resident(&*unit)?;
            (*unit).saving = false;
        }
        Ok(())
    }

    /// Moves a unit that is not running from this CPU to `to` (Xen's `migrate`, or a
    /// placement decided with `pick_cpu`). A queued unit is queued there instead, and
    /// wakes there without BOOST next time, as in Xen. Returns the CPUs to tickle.
    ///
    /// # Safety
    /// `unit` is live; the caller holds both CPUs' locks.
    pub unsafe fn migrate(&mut self, shared: &Shared, to: &mut Cpu, unit: *mut Unit) -> Result<CpuMask, RtcError> {
        // SAFETY: per the contract.
        unsafe {
            self.check_resident(&*unit)?;
            if !to.online {
                return Err(RtcError::CpuNotOnline);
            }
            if (*unit).running {
                return Err(RtcError::UnitBusy);
            }
            if to.id == self.id {
                return Ok(CpuMask::EMPTY);
            }
            let was_queued = (*unit).queued;
            if was_queued {
                self.dequeue(shared, unit);
            }
            self.move_resident(to, unit);
            (*unit).migrating = true;
            if was_queued {
                to.enqueue(shared, unit);
                return Ok(to.tickle(shared, unit));
            }
        }
        Ok(CpuMask::EMPTY)
    }
}

/// Where a unit should live (Xen's `pick_resource`): its current CPU if that is idle,
/// else an idle CPU it may run on, else its current CPU if allowed, else the first
/// allowed online CPU. Lock: the unit's CPU lock (reads only the unit and atomics).
pub fn pick_cpu(shared: &Shared, unit: &Unit) -> u32 {
    let allowed = unit.affinity.and(&shared.online());
    let idle = allowed.and(&shared.idlers());
    if idle.contains(unit.cpu) {
        return unit.cpu;
    }
    if let Some(cpu) = idle.cycle_after(unit.cpu) {
        return cpu;
    }
    if allowed.contains(unit.cpu) {
        return unit.cpu;
    }
    allowed.cycle_after(unit.cpu).unwrap_or(unit.cpu)
}

/// Sets a unit's hard affinity. Refuses a mask with no online CPU. If the unit's CPU
/// is no longer allowed, the host moves it (`pick_cpu` + `migrate`), as Xen does.
/// Lock: the unit's CPU lock.
pub fn set_affinity(shared: &Shared, unit: &mut Unit, affinity: CpuMask) -> Result<(), RtcError> {
    if affinity.and(&shared.online()).is_empty() {
        return Err(RtcError::EmptyAffinity);
    }
    unit.affinity = affinity;
    Ok(())
}
