//! What happened to each VCPU, rebuilt from the records in time order.
//!
//! **Runstates** come from Xen's generic scheduler: every change of a VCPU's runstate
//! (running, runnable, blocked, offline) is a `TRC_SCHED_RUNSTATE_CHANGE` record
//! whose event id carries the old and new state and whose data word is the VCPU
//! (low 16 bits) and domain (high 16 bits); Xen 4.17 writes it from
//! `vcpu_runstate_change()` in `common/sched/core.c`, on the CPU where the change
//! happens. From these the model keeps, per VCPU, the time in each state, the number
//! of times it started running, and the **wake-to-run latency**: from a change
//! blocked/offline → runnable to the next runnable → running (a preempted VCPU
//! waiting again is not a wake and is not counted). A record whose old state is not
//! the state the model holds (records were lost) resets the VCPU without counting
//! the unknown stretch, and is counted as a mismatch. A VCPU Xen never switches out
//! during the trace has no runstate change at all, only `TRC_SCHED_CONTINUE_RUNNING`
//! records: the first one makes it running since the trace began.
//!
//! **Priorities** come from our scheduler's events (`rtcredit_abi::trace`, decoded by
//! its `Event::decode`): `SWITCH_IN` gives the priority a unit starts running at,
//! `PRIO_CHANGE` a change while it runs (RT given at a deadline or ended, BOOST lost).
//! Running time is charged to the priority in force; a run that began without a
//! `SWITCH_IN` (another scheduler, lost records, the start of the trace) is charged to
//! "unknown", and so is the rest of a run after an `RT_DEMOTE` that no `PRIO_CHANGE`
//! follows (older cores dropped RT that way when the RT budget was spent; ours always
//! follows a running unit's `RT_DEMOTE` with one). RT requests granted, denied and
//! degraded, RT fires (with the timer's lateness) and demotions are counted per VCPU.
//!
//! **Deadline-to-run latency** is the RT path's own figure, per period: from the
//! deadline a VCPU asked for (`RT_GRANT` carries it) to the next time the VCPU runs.
//! `RT_FIRE` is where it is measured from: it comes at the deadline plus the timer's
//! lateness (its data), and says what the VCPU was doing then. Running already: the
//! latency is the timer's lateness. Blocked or queued: the lateness plus the time
//! until the VCPU next starts running. The wake-to-run figure above sees only the
//! blocked case; a VCPU that was preempted (runnable) when its deadline came would
//! be missing from it, which is the case RT is for. A fire whose lateness saturated
//! (32 bits), or one that a second fire overtakes before the VCPU ran, is counted in
//! `deadline_unmatched` and not measured.
//!
//! **Other events** are counted: Xen's own other scheduler events, other
//! schedulers' events, other classes (HVM, PV, ...). Event ids that no Xen 4.17 or
//! RT-Credit definition explains, and our events with too few data words, are
//! collected with the byte offset of their first occurrence. `TRC_LOST_RECORDS` is
//! kept as a gap (CPU, how many, from which TSC to which).
//!
//! All times here are TSC cycles; [`crate::clock`] converts.
//!
//! **Bounded memory.** Every key the model adds comes from the input, so a crafted
//! trace could name a new (domain, VCPU) in every record. The model tracks at most
//! [`MAX_TRACKED_VCPUS`] VCPUs (a Xen 4.17 host has at most 32752 domains and far fewer
//! VCPUs in practice); a record that would add one more is not applied and
//! [`Model::limit_hit`] says so, which the analysis turns into an error. Per VCPU at
//! most [`MAX_REASONS`] distinct refusal or demotion codes are counted (the core has
//! fewer than ten); other codes, and unknown event ids beyond [`MAX_ANOMALY_KINDS`]
//! kinds, are counted without their own entry.

use std::collections::BTreeMap;

use rtcredit::prio::Prio;
use rtcredit_abi::trace::{our_event_number, DecodeError, Event, FireState};

use crate::format::{
    class_name, event_class, runstate_change, Runstate, DOMID_IDLE, TRC_LOST_RECORDS, TRC_SCHED_CONTINUE_RUNNING,
    TRC_TRACE_CPU_CHANGE, TRC_TRACE_WRAP_BUFFER,
};
use crate::reader::Record;

/// Most (domain, VCPU) pairs the model tracks; see the module docs.
pub const MAX_TRACKED_VCPUS: usize = 65_536;
/// Most distinct RT_DENY (or RT_DEMOTE) codes counted per VCPU.
pub const MAX_REASONS: usize = 16;
/// Most distinct (event, problem) anomaly kinds kept.
pub const MAX_ANOMALY_KINDS: usize = 4096;

/// The input named more units than the model tracks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "byte {offset}: the trace names more than {MAX_TRACKED_VCPUS} (domain, VCPU) pairs (the next is d{dom}v{vcpu}); \
     rtcredit-monitor tracks at most {MAX_TRACKED_VCPUS}, far more than a Xen host runs: is this a crafted or \
     corrupted trace?"
)]
pub struct TooManyVcpus {
    /// Byte offset of the record that would have added it.
    pub offset: u64,
    /// Its domain.
    pub dom: u32,
    /// Its VCPU.
    pub vcpu: u32,
}

/// Number of priority slots: the five `Prio` values and "unknown".
pub const PRIO_SLOTS: usize = 6;
/// The slot of time whose priority is not known.
pub const UNKNOWN_PRIO: usize = 5;

/// Name of a priority slot.
pub const fn slot_name(slot: usize) -> &'static str {
    match slot {
        0..=4 => match Prio::from_u8(slot as u8) {
            Some(p) => p.name(),
            None => "?",
        },
        _ => "unknown",
    }
}

/// A VCPU: domain id and VCPU id. The idle domain (`DOMID_IDLE`) has one per CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct VcpuId {
    /// Domain id.
    pub dom: u32,
    /// VCPU (unit) id within the domain.
    pub vcpu: u32,
}

/// Counters of our scheduler's RT events for one VCPU.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct RtCounters {
    /// RT requests registered (`RT_GRANT`).
    pub grants: u64,
    /// RT requests refused (`RT_DENY`).
    pub denies: u64,
    /// Refusals by `RtcError` code.
    pub deny_reasons: BTreeMap<u32, u64>,
    /// Requests or fires degraded to normal wakes (`RT_DEGRADE`).
    pub degrades: u64,
    /// Deadlines reached and RT given (`RT_FIRE`).
    pub fires: u64,
    /// Largest lateness of the RT timer at a fire, ns.
    pub max_fire_lateness_ns: u64,
    /// RT dropped (`RT_DEMOTE`).
    pub demotions: u64,
    /// Demotions by reason code (`rtcredit_abi::trace::EndReason`: 1 blocked, 3 RT
    /// budget spent, 4 rtsleep, 5 the grant's RT limit; 0, the tick, and 2 only in traces
    /// of cores before RT v2).
    pub demote_reasons: BTreeMap<u32, u64>,
    /// Wakes with BOOST (`BOOST`).
    pub boosts: u64,
    /// Priority changes while running (`PRIO_CHANGE`).
    pub prio_changes: u64,
}

/// One stretch of a VCPU on a CPU, for the timeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    /// The CPU it ran on.
    pub cpu: u32,
    /// The VCPU.
    pub vcpu: VcpuId,
    /// Start, TSC.
    pub start: u64,
    /// End, TSC.
    pub end: u64,
    /// Priority slot (see [`slot_name`]).
    pub slot: usize,
}

/// Everything the model knows about one VCPU.
#[derive(Clone, Debug, Default)]
pub struct VcpuHistory {
    /// Current runstate, if any record named it.
    pub state: Option<Runstate>,
    since: u64,
    /// Time in each runstate (indexed by `Runstate as usize`), cycles.
    pub time_in_state: [u64; 4],
    /// Running time at each priority slot, cycles.
    pub running_at: [u64; PRIO_SLOTS],
    /// Times it started running.
    pub times_scheduled: u64,
    /// Its longest stretch running without a stop, cycles (a VCPU that spins, waiting
    /// in the guest for a sibling the hypervisor has descheduled, shows here).
    pub longest_run: u64,
    /// `SWITCH_IN` records per priority.
    pub switch_ins_at: [u64; 5],
    /// Wake-to-run latencies, cycles, in the order they happened.
    pub wake_latencies: Vec<u64>,
    /// Deadline-to-run latencies of RT periods, in the order they happened.
    pub deadline_runs: Vec<DeadlineRun>,
    /// RT fires that could not be measured (see the module docs).
    pub deadline_unmatched: u64,
    /// RT and priority counters.
    pub rt: RtCounters,
    /// Runstate changes whose old state disagreed with the model (lost records).
    pub state_mismatches: u64,
    prio: Option<Prio>,
    /// A `SWITCH_IN` came since the VCPU last stopped running.
    prio_fresh: bool,
    run_slot: usize,
    run_cpu: u32,
    run_start: u64,
    wake_at: Option<u64>,
    last_deadline_ns: Option<u64>,
    /// An RT fire waiting for the VCPU to run: (TSC of the fire, the timer's lateness).
    fired: Option<(u64, u64)>,
}

/// One RT period's deadline-to-run latency, in two parts because the TSC rate is known
/// only once the whole trace is read: the RT timer's lateness at the fire (ns) and the
/// TSC cycles from the fire to the VCPU's next start of running (0 if it was running).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct DeadlineRun {
    /// The RT timer's lateness at the fire, ns.
    pub fire_late_ns: u64,
    /// From the fire to the next start of running, TSC cycles.
    pub cycles_to_run: u64,
}

impl DeadlineRun {
    /// The latency in ns, the cycles converted by `cycles_to_ns`.
    pub fn total_ns(&self, cycles_to_ns: impl Fn(u64) -> u64) -> u64 {
        self.fire_late_ns.saturating_add(cycles_to_ns(self.cycles_to_run))
    }
}

/// An event id the model could not use, aggregated.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Anomaly {
    /// The event id.
    pub event: u32,
    /// What is wrong.
    pub what: &'static str,
    /// How many records.
    pub count: u64,
    /// Byte offset of the first.
    pub first_offset: u64,
}

/// A `TRC_LOST_RECORDS` record: a gap in one CPU's records.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct LostRecords {
    /// Byte offset of the record.
    pub offset: u64,
    /// The CPU whose records were lost.
    pub cpu: u32,
    /// How many.
    pub count: u32,
    /// TSC of the first lost record.
    pub from_tsc: u64,
    /// TSC of this record (when recording resumed).
    pub to_tsc: u64,
}

/// Counts of records by what they are.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct EventCounts {
    /// Records given to the model.
    pub records: u64,
    /// Runstate changes.
    pub runstate_changes: u64,
    /// Our scheduler's records.
    pub rtcredit_events: u64,
    /// Other generic scheduler records (switch, wake, block, ...), used only as counts.
    pub other_sched_events: u64,
    /// Records of other schedulers (credit, credit2, ...), by scheduler id.
    pub other_schedulers: BTreeMap<u32, u64>,
    /// Records of other classes (HVM, PV, MEM, ...), by class name.
    pub other_classes: BTreeMap<String, u64>,
    /// Records with no timestamp (their CPU had none yet): not used for time.
    pub without_time: u64,
    /// Records older than one already processed (CPU streams not mergeable).
    pub out_of_order: u64,
    /// Refusal and demotion codes, and anomalies, counted without an entry of their own
    /// (beyond [`MAX_REASONS`] per VCPU and [`MAX_ANOMALY_KINDS`]).
    pub untracked: u64,
}

/// The model: feed it records in time order ([`Model::apply`]), then
/// [`Model::finish`].
#[derive(Clone, Debug, Default)]
pub struct Model {
    /// Per VCPU, in (domain, VCPU) order.
    pub vcpus: BTreeMap<VcpuId, VcpuHistory>,
    /// First and last timestamps seen.
    pub first_tsc: Option<u64>,
    /// See `first_tsc`.
    pub last_tsc: Option<u64>,
    /// Record counts.
    pub counts: EventCounts,
    /// Unknown or malformed event ids, by (event, what).
    pub anomalies: BTreeMap<(u32, &'static str), Anomaly>,
    /// Lost-records gaps.
    pub lost: Vec<LostRecords>,
    /// CPUs seen.
    pub cpus: std::collections::BTreeSet<u32>,
    /// Running stretches per CPU (kept only if asked: [`Model::keep_segments`]).
    pub segments: Vec<Segment>,
    keep_segments: bool,
    /// (TSC, ns) of RT fires, for estimating the TSC rate.
    pub fire_points: Vec<(u64, u64)>,
    /// Set when a record would have added a VCPU beyond [`MAX_TRACKED_VCPUS`].
    pub limit_hit: Option<TooManyVcpus>,
}

/// Counts one more `reason`, unless the map already holds [`MAX_REASONS`] others.
fn count_reason(reasons: &mut BTreeMap<u32, u64>, reason: u32, n: u64, untracked: &mut u64) {
    if reasons.len() >= MAX_REASONS && !reasons.contains_key(&reason) {
        *untracked += n;
        return;
    }
    *reasons.entry(reason).or_insert(0) += n;
}

/// Adds time, saturating (a corrupted trace can have absurd timestamps).
fn add(total: &mut u64, more: u64) {
    *total = total.saturating_add(more);
}

/// Whether a (domain, VCPU) pair from one of our events can be real: domain ids stop
/// at `DOMID_IDLE` (0x7fff) and VCPU ids fit the 16 bits Xen's runstate records give
/// them. Garbage read as data words usually fails this.
fn plausible(id: VcpuId) -> bool {
    id.dom <= DOMID_IDLE && id.vcpu <= 0xffff
}

fn vcpu_from_packed(word: u32) -> VcpuId {
    VcpuId { dom: word >> 16, vcpu: word & 0xffff }
}

impl Model {
    /// An empty model.
    pub fn new() -> Model {
        Model::default()
    }

    /// Also keep every running stretch (for the timeline plot; memory grows with the
    /// trace).
    pub fn keep_segments(mut self, keep: bool) -> Model {
        self.keep_segments = keep;
        self
    }

    fn anomaly(&mut self, record: &Record, what: &'static str) {
        let key = (record.event, what);
        if self.anomalies.len() >= MAX_ANOMALY_KINDS && !self.anomalies.contains_key(&key) {
            self.counts.untracked += 1;
            return;
        }
        self.anomalies
            .entry(key)
            .or_insert(Anomaly { event: record.event, what, count: 0, first_offset: record.offset })
            .count += 1;
    }

    /// Whether `id` is tracked or may be added; if not, remembers the first refusal.
    fn admit(&mut self, id: VcpuId, offset: u64) -> bool {
        if self.vcpus.len() < MAX_TRACKED_VCPUS || self.vcpus.contains_key(&id) {
            return true;
        }
        self.limit_hit.get_or_insert(TooManyVcpus { offset, dom: id.dom, vcpu: id.vcpu });
        false
    }

    /// Applies one record; records should come in time order ([`crate::merge`]).
    pub fn apply(&mut self, record: &Record) {
        self.counts.records += 1;
        self.cpus.insert(record.cpu);
        let Some(tsc) = record.tsc else {
            self.counts.without_time += 1;
            return;
        };
        let now = match self.last_tsc {
            Some(last) if tsc < last => {
                self.counts.out_of_order += 1;
                last
            }
            _ => tsc,
        };
        self.first_tsc.get_or_insert(now);
        self.last_tsc = Some(now);

        let class = event_class(record.event);
        let subclass = (record.event >> 12) & 0xf;
        match (class, subclass) {
            (0x001, _) => match record.event {
                TRC_LOST_RECORDS => self.lost_records(record, now),
                TRC_TRACE_WRAP_BUFFER | TRC_TRACE_CPU_CHANGE => {}
                _ => self.anomaly(record, "unknown event id"),
            },
            (0x002, 0x1) => {
                if let Some((old, new)) = runstate_change(record.event) {
                    self.counts.runstate_changes += 1;
                    match record.data().first() {
                        Some(&word) if !self.admit(vcpu_from_packed(word), record.offset) => {}
                        Some(&word) => self.runstate(record.cpu, vcpu_from_packed(word), old, new, now),
                        None => self.anomaly(record, "too few data words"),
                    }
                } else if record.event == TRC_SCHED_CONTINUE_RUNNING {
                    self.counts.other_sched_events += 1;
                    if let Some(&word) =
                        record.data().first().filter(|&&w| self.admit(vcpu_from_packed(w), record.offset))
                    {
                        self.continue_running(record.cpu, vcpu_from_packed(word), now);
                    }
                } else {
                    self.anomaly(record, "unknown event id");
                }
            }
            (0x002, 0x2) => {
                let scheduler = (record.event >> 9) & 0x7;
                if let Some(number) = our_event_number(record.event) {
                    self.counts.rtcredit_events += 1;
                    self.ours(record, number, now);
                } else {
                    *self.counts.other_schedulers.entry(scheduler).or_insert(0) += 1;
                }
            }
            // TRC_SCHED_VERBOSE: DOM_ADD (1) ... SWITCH_INFCONT (17).
            (0x002, 0x8) if (1..=17).contains(&(record.event & 0xfff)) => self.counts.other_sched_events += 1,
            (0x002, _) => self.anomaly(record, "unknown event id"),
            _ => match class_name(class) {
                Some(name) => *self.counts.other_classes.entry(name.to_string()).or_insert(0) += 1,
                None => self.anomaly(record, "unknown event id"),
            },
        }
    }

    fn lost_records(&mut self, record: &Record, now: u64) {
        match record.data() {
            [count, _, lo, hi, ..] => self.lost.push(LostRecords {
                offset: record.offset,
                cpu: record.cpu,
                count: *count,
                from_tsc: u64::from(*lo) | (u64::from(*hi) << 32),
                to_tsc: now,
            }),
            _ => self.anomaly(record, "too few data words"),
        }
    }

    fn close_run(segments: &mut Vec<Segment>, keep: bool, id: VcpuId, v: &mut VcpuHistory, now: u64) {
        let ran = now.saturating_sub(v.run_start);
        v.running_at[v.run_slot] = v.running_at[v.run_slot].saturating_add(ran);
        if keep && ran > 0 {
            segments.push(Segment { cpu: v.run_cpu, vcpu: id, start: v.run_start, end: now, slot: v.run_slot });
        }
        v.run_start = now;
    }

    fn runstate(&mut self, cpu: u32, id: VcpuId, old: Runstate, new: Runstate, now: u64) {
        let first = self.first_tsc.unwrap_or(now);
        let keep = self.keep_segments;
        let v = self.vcpus.entry(id).or_default();
        match v.state {
            Some(state) if state == old => {
                add(&mut v.time_in_state[old as usize], now.saturating_sub(v.since));
                if old == Runstate::Running {
                    v.longest_run = v.longest_run.max(now.saturating_sub(v.since));
                    Self::close_run(&mut self.segments, keep, id, v, now);
                }
            }
            Some(_) => v.state_mismatches += 1,
            None => {
                // First sight: it has been in `old` since the trace began, as far as
                // we know; where and at what priority it ran is not known.
                add(&mut v.time_in_state[old as usize], now.saturating_sub(first));
                if old == Runstate::Running {
                    add(&mut v.running_at[UNKNOWN_PRIO], now.saturating_sub(first));
                }
            }
        }
        v.state = Some(new);
        v.since = now;
        if old == Runstate::Running && new != Runstate::Running {
            v.prio_fresh = false;
        }
        match new {
            Runstate::Running => {
                v.times_scheduled += 1;
                v.run_start = now;
                v.run_cpu = cpu;
                v.run_slot = match (v.prio_fresh, v.prio) {
                    (true, Some(p)) => p as usize,
                    _ => UNKNOWN_PRIO,
                };
                if let Some(woke) = v.wake_at.take() {
                    v.wake_latencies.push(now.saturating_sub(woke));
                }
                if let Some((fired_at, late)) = v.fired.take() {
                    v.deadline_runs
                        .push(DeadlineRun { fire_late_ns: late, cycles_to_run: now.saturating_sub(fired_at) });
                }
            }
            Runstate::Runnable if matches!(old, Runstate::Blocked | Runstate::Offline) => v.wake_at = Some(now),
            _ => v.wake_at = None,
        }
    }

    /// `TRC_SCHED_CONTINUE_RUNNING`: the VCPU keeps running on `cpu`. A VCPU that
    /// never stops during the trace (a busy loop alone on its CPU) has no runstate
    /// change at all, only these; the first one tells the model it has been running
    /// since the trace began (as a runstate change's old state would), at a priority
    /// not known until a `PRIO_CHANGE` or `SWITCH_IN`. Once the state is known, the
    /// record adds nothing.
    fn continue_running(&mut self, cpu: u32, id: VcpuId, now: u64) {
        let first = self.first_tsc.unwrap_or(now);
        let v = self.vcpus.entry(id).or_default();
        if v.state.is_none() {
            v.state = Some(Runstate::Running);
            v.since = first;
            v.run_start = first;
            v.run_cpu = cpu;
            v.run_slot = UNKNOWN_PRIO;
        }
    }

    /// A running VCPU's priority is now `prio`: split its running stretch here.
    fn set_prio(&mut self, id: VcpuId, prio: Prio, now: u64, switch_in: bool) {
        let keep = self.keep_segments;
        let v = self.vcpus.entry(id).or_default();
        if v.state == Some(Runstate::Running) {
            Self::close_run(&mut self.segments, keep, id, v, now);
            v.run_slot = prio as usize;
        }
        v.prio = Some(prio);
        if switch_in {
            v.prio_fresh = true;
            v.switch_ins_at[prio as usize] += 1;
        }
    }

    fn ours(&mut self, record: &Record, number: u32, now: u64) {
        let event = match Event::decode(number, record.data()) {
            Ok(event) => event,
            Err(DecodeError::UnknownEvent(_)) => {
                self.anomaly(record, "unknown RT-Credit event id");
                return;
            }
            Err(DecodeError::TooFewWords { .. }) => {
                self.anomaly(record, "too few data words");
                return;
            }
        };
        // Parking and stealing carry nothing the model keeps; accounting, tickles and
        // idle CPUs name no VCPU.
        if matches!(event, Event::Park { .. } | Event::Unpark { .. } | Event::Steal { .. }) {
            return;
        }
        let Some((dom, vcpu)) = event.vcpu() else { return };
        let id = VcpuId { dom, vcpu };
        if !plausible(id) {
            self.anomaly(record, "domain or VCPU id out of range");
            return;
        }
        if !self.admit(id, record.offset) {
            return;
        }
        match event {
            Event::SwitchIn { prio: value, .. } | Event::PrioChange { new_prio: value, .. } => {
                let Some(prio) = u8::try_from(value).ok().and_then(Prio::from_u8) else {
                    self.anomaly(record, "priority value out of range");
                    return;
                };
                let switch_in = matches!(event, Event::SwitchIn { .. });
                if !switch_in {
                    self.vcpus.entry(id).or_default().rt.prio_changes += 1;
                }
                self.set_prio(id, prio, now, switch_in);
            }
            _ => {
                let v = self.vcpus.entry(id).or_default();
                match event {
                    Event::RtGrant { deadline_ns, .. } => {
                        v.rt.grants += 1;
                        v.last_deadline_ns = Some(deadline_ns);
                    }
                    Event::RtDeny { error_code, untraced, .. } => {
                        // The core rate-limits RT_DENY; each record carries the refusals
                        // not traced since the previous one, counted with its reason.
                        let n = 1 + u64::from(untraced);
                        v.rt.denies += n;
                        count_reason(&mut v.rt.deny_reasons, error_code, n, &mut self.counts.untracked);
                    }
                    Event::RtDegrade { .. } => v.rt.degrades += 1,
                    Event::RtFire { state, late_ns, .. } => {
                        v.rt.fires += 1;
                        let late = u64::from(late_ns);
                        v.rt.max_fire_lateness_ns = v.rt.max_fire_lateness_ns.max(late);
                        // Deadline to run: now if it runs, else at its next start.
                        if v.fired.take().is_some() {
                            v.deadline_unmatched += 1;
                        }
                        if late_ns == u32::MAX {
                            v.deadline_unmatched += 1;
                        } else if state == FireState::Running as u32 && v.state == Some(Runstate::Running) {
                            v.deadline_runs.push(DeadlineRun { fire_late_ns: late, cycles_to_run: 0 });
                        } else {
                            v.fired = Some((now, late));
                        }
                        if let Some(deadline) = v.last_deadline_ns.take() {
                            if late_ns != u32::MAX {
                                self.fire_points.push((now, deadline.saturating_add(late)));
                            }
                        }
                    }
                    Event::RtDemote { reason, .. } => {
                        v.rt.demotions += 1;
                        count_reason(&mut v.rt.demote_reasons, reason, 1, &mut self.counts.untracked);
                        // RT ends here even if no PRIO_CHANGE follows (older cores
                        // dropped RT without one when the RT budget ran out): until one
                        // says which class it fell to, the priority is unknown.
                        if v.state == Some(Runstate::Running) && v.run_slot == Prio::Rt as usize {
                            Self::close_run(&mut self.segments, self.keep_segments, id, v, now);
                            v.run_slot = UNKNOWN_PRIO;
                        }
                    }
                    Event::Boost { .. } => v.rt.boosts += 1,
                    _ => {}
                }
            }
        }
    }

    /// Ends the trace: closes every open stretch at the last timestamp.
    pub fn finish(&mut self) {
        let Some(end) = self.last_tsc else { return };
        let keep = self.keep_segments;
        for (&id, v) in self.vcpus.iter_mut() {
            if let Some(state) = v.state {
                let stretch = end.saturating_sub(v.since);
                add(&mut v.time_in_state[state as usize], stretch);
                v.since = end;
                if state == Runstate::Running {
                    v.longest_run = v.longest_run.max(stretch);
                    Self::close_run(&mut self.segments, keep, id, v, end);
                }
            }
        }
    }

    /// Trace length in cycles (last minus first timestamp).
    pub fn duration(&self) -> u64 {
        match (self.first_tsc, self.last_tsc) {
            (Some(a), Some(b)) => b.saturating_sub(a),
            _ => 0,
        }
    }
}
