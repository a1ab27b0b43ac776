//! The simulated Xen host: pCPUs, domains and VCPUs around the real `rtcredit` core.
//!
//! # What is modelled, and what it stands for in Xen
//!
//! Time is simulated Xen system time in integer nanoseconds. The core is called through
//! [`rtcredit::host::Host`] exactly where Xen's scheduling framework (`common/sched/core.c`)
//! and our C shim call it (under `credit2` and `rtds` a model takes the core's place
//! behind the same calls, [`rtcredit::framework::Scheduler`]). *When* it is called is
//! the core's own model of Xen's softirqs and timers, [`rtcredit::framework`]: the
//! schedule softirq (a tickle, served `ipi_delay_ns` later, coalesced while pending), the
//! slice timer, credit's tick and accounting timer, our per-unit RT timer, a model's own
//! timer, and the timer slop (`timer_slop_ns`, drawn from the run's seed). The property
//! tests of the core and the monitor's agreement test are driven by the same model.
//! This module adds the guests:
//!
//! * **Guest timer** (the PV singleshot timer, `VCPUOP_set_singleshot_timer`) and
//!   **event channels**: they wake a blocked VCPU ([`Host::wake`]). A VCPU blocks
//!   (`SCHEDOP_block` -> [`Host::block`]: marked, the core told at the CPU's next pass
//!   or by an RT timer that comes first, as the shim does) when its guest has nothing
//!   to do.
//! * **Context switch**: when a pass switches to a different VCPU, that VCPU does no
//!   guest work for `switch_cost_ns` (register, page-table and cache refill cost). The
//!   CPU time is still charged to it by the core.
//!
//! Units everywhere: nanoseconds of simulated time (`u64`); shares in percent.
//!
//! # Guest work
//!
//! A VCPU's workload (see [`crate::workload`]) progresses only while its VCPU is the
//! running unit of a CPU, is not blocked, and the switch cost is paid. When the current
//! segment's work would be done, a `WorkDone` event fires; any pass before that first
//! settles the progress made so far.
//!
//! # Results
//!
//! Per domain: CPU time (time as the running, non-blocked unit, switch cost included),
//! guest work done, the core's per-priority run time and counters, and the workload's
//! measurements (lateness of each job or packet, start times, completion).

use rtcredit::framework::{CallError, Due, Fired, Framework, Timing};
use rtcredit::host::{Host, Scheduled, UnitId};
use rtcredit::prio::NR_PRIOS;
use rtcredit::{CpuMask, DomainParams, Params, RtcError, RtsleepRefused, SchedRtsleep};

use crate::credit2::Credit2;
use crate::rng::SplitMix64;
use crate::rtds::{Rtds, RtdsParams};
use crate::sched::SimScheduler;
use crate::workload::{Measurements, Step, Workload, WorkloadSpec, ENDLESS_NS};

/// Why a simulation could not run.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("the core refused {operation}: {error} (code {code})", code = *error as i32)]
    Core { operation: &'static str, error: RtcError },
    #[error("the configuration is invalid: {0}")]
    Config(String),
    /// The core refused a domain's RT grant: the pool's RT capacity would be exceeded.
    #[error(
        "domain {domain}: RT budget of {budget_pct}% refused: the host's remaining RT capacity is {remaining_pct}% \
         of one CPU (capacity {capacity_pct}% = {per_cpu_pct}% x {pcpus} pcpus, {granted_pct}% granted to the \
         domains before it); lower rt_budget_pct or raise [host] rt_capacity_pct"
    )]
    RtCapacity {
        domain: String,
        budget_pct: u32,
        remaining_pct: u32,
        capacity_pct: u32,
        per_cpu_pct: u32,
        pcpus: u32,
        granted_pct: u32,
    },
}

fn core_err(operation: &'static str) -> impl Fn(RtcError) -> SimError {
    move |error| SimError::Core { operation, error }
}

impl From<CallError> for SimError {
    fn from(call: CallError) -> SimError {
        SimError::Core { operation: call.operation, error: call.error }
    }
}

/// Which scheduler decides: the real core, or a model of another Xen scheduler.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Model {
    /// The rtcredit core (credit and its variants, rtcredit), with `HostSpec::params`.
    Core,
    /// [`crate::credit2`], with Xen's default rate limit.
    Credit2,
    /// [`crate::rtds`], with each domain's `DomainSpec::rtds`.
    Rtds,
}

/// Host-level settings of one simulation.
#[derive(Clone, Debug, PartialEq)]
pub struct HostSpec {
    /// Number of physical CPUs (1..=64).
    pub pcpus: u32,
    /// Who decides.
    pub model: Model,
    /// The core's global parameters (the policy; used by `Model::Core` only).
    pub params: Params,
    /// Whether guests may call `SCHEDOP_rtsleep` at all under this policy.
    pub rt_enabled: bool,
    /// Delay from a tickle to the scheduling pass on that CPU, ns.
    pub ipi_delay_ns: u64,
    /// Guest-work-free time after switching to a different VCPU, ns.
    pub switch_cost_ns: u64,
    /// The hypervisor's periodic timers (tick, accounting) fire up to this much late,
    /// uniformly at random (Xen's `timer_slop`, 50 us by default), ns.
    pub timer_slop_ns: u64,
}

/// One VCPU: where it starts and what its guest does.
#[derive(Clone, Debug, PartialEq)]
pub struct VcpuSpec {
    pub cpu: u32,
    pub workload: WorkloadSpec,
}

/// One domain.
#[derive(Clone, Debug, PartialEq)]
pub struct DomainSpec {
    pub name: String,
    pub params: DomainParams,
    /// Its RTDS period, budget and extratime flag (used by `Model::Rtds` only).
    pub rtds: RtdsParams,
    pub vcpus: Vec<VcpuSpec>,
}

/// A whole simulation.
#[derive(Clone, Debug, PartialEq)]
pub struct SimSpec {
    pub host: HostSpec,
    pub domains: Vec<DomainSpec>,
    pub seed: u64,
    /// Simulated time at which the run stops, ns.
    pub until_ns: u64,
    /// Stop as soon as every job-limited measured workload is finished.
    pub stop_when_measured_done: bool,
    /// Keep every job's lateness and start (`Measurements::lateness_ns`, `starts_ns`)
    /// besides the histogram: memory grows with the run, so only for bounded runs
    /// whose per-job series are plotted (the paper's).
    pub keep_series: bool,
}

/// What one domain did.
#[derive(Clone, Debug, PartialEq)]
pub struct DomainReport {
    pub name: String,
    pub workload: &'static str,
    /// CPU time as the running unit (switch cost included), ns.
    pub cpu_ns: u64,
    /// Guest work done, ns.
    pub work_ns: u64,
    /// Run time at each priority as the core counted it (index `Prio as usize`).
    pub prio_ns: [u64; NR_PRIOS],
    pub runs: u64,
    pub boosts: u64,
    pub rt_fires: u64,
    pub rt_requests: u64,
    pub rt_granted: u64,
    pub rt_degraded: u64,
    pub rt_denied: u64,
    /// `SCHEDOP_rtsleep` calls the core refused (the guest then slept plainly).
    pub rtsleep_errors: u64,
    /// Measurements of each VCPU's workload, in VCPU order.
    pub measurements: Vec<Measurements>,
    /// Ideal completion time of a job-limited workload (first VCPU), ns.
    pub ideal_completion_ns: Option<u64>,
    pub measured: bool,
}

/// What a simulation produced.
#[derive(Clone, Debug, PartialEq)]
pub struct SimReport {
    /// When it stopped, ns.
    pub end_ns: u64,
    /// Events processed (including stale timers).
    pub events: u64,
    /// Scheduling passes that switched to another VCPU or to idle, summed over CPUs.
    pub context_switches: u64,
    pub domains: Vec<DomainReport>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Event {
    WorkDone { cpu: usize, generation: u64 },
    GuestTimer { vcpu: usize, generation: u64 },
    Packet { vcpu: usize },
}

#[derive(Debug, Default)]
struct CpuState {
    /// The VCPU the core runs here (as of the last pass).
    current: Option<usize>,
    /// Guest work of `current` counts from here (after the switch cost).
    progress_from_ns: u64,
    /// CPU time of `current` counts from here.
    busy_from_ns: u64,
    work_generation: u64,
    switches: u64,
}

#[derive(Debug)]
struct VcpuState {
    unit: UnitId,
    domain: usize,
    workload: Workload,
    blocked: bool,
    /// Work left in the current segment; 0 = none (ask the workload), `ENDLESS_NS`.
    remaining_ns: u64,
    /// The current segment has made progress (its start was reported).
    segment_started: bool,
    guest_timer_generation: u64,
    cpu_ns: u64,
    work_ns: u64,
    rtsleep_errors: u64,
}

/// A running simulation.
#[derive(Debug)]
pub struct Simulator {
    /// The scheduler inside Xen's softirqs and timers; the guests' events share its queue.
    xen: Framework<Box<dyn SimScheduler>, Event>,
    spec: SimSpec,
    cpus: Vec<CpuState>,
    vcpus: Vec<VcpuState>,
    domain_ids: Vec<rtcredit::host::DomId>,
    now: u64,
    /// Human-readable log of every decision, when enabled (debugging aid).
    log: Option<Vec<String>>,
}

impl Simulator {
    /// Builds the host, its domains and VCPUs, and the initial timers.
    pub fn new(spec: &SimSpec) -> Result<Simulator, SimError> {
        let host_spec = &spec.host;
        if host_spec.pcpus == 0 || host_spec.pcpus as usize > rtcredit::MAX_CPUS {
            return Err(SimError::Config(format!("pcpus must be in 1..={}", rtcredit::MAX_CPUS)));
        }
        let mut host: Box<dyn SimScheduler> = match host_spec.model {
            Model::Core => {
                host_spec.params.validate().map_err(core_err("the global parameters"))?;
                Box::new(Host::new(host_spec.params, host_spec.pcpus, false).map_err(core_err("creating the host"))?)
            }
            Model::Credit2 => Box::new(
                Credit2::new(host_spec.pcpus, crate::credit2::DEFAULT_RATELIMIT_NS)
                    .map_err(core_err("creating the host"))?,
            ),
            Model::Rtds => Box::new(Rtds::new(host_spec.pcpus).map_err(core_err("creating the host"))?),
        };
        let root_rng = SplitMix64::new(spec.seed);
        let mut vcpus = Vec::new();
        let mut domain_ids = Vec::new();
        let mut tickle = CpuMask::EMPTY;
        for (index, domain) in spec.domains.iter().enumerate() {
            let dom = host.add_domain(index as u32 + 1, domain).map_err(|error| match (error, host.rt_capacity()) {
                (RtcError::RtCapacityExceeded, Some(capacity)) => SimError::RtCapacity {
                    domain: domain.name.clone(),
                    budget_pct: domain.params.rt_budget_pct,
                    remaining_pct: capacity.remaining_pct(),
                    capacity_pct: capacity.capacity_pct,
                    per_cpu_pct: capacity.per_cpu_pct,
                    pcpus: capacity.nr_cpus,
                    granted_pct: capacity.granted_pct,
                },
                (error, _) => SimError::Core { operation: "setting domain parameters", error },
            })?;
            domain_ids.push(dom);
            for vcpu in &domain.vcpus {
                if vcpu.cpu >= host_spec.pcpus {
                    return Err(SimError::Config(format!(
                        "domain {}: vcpu on cpu {} but the host has {} pcpus",
                        domain.name, vcpu.cpu, host_spec.pcpus
                    )));
                }
                let (unit, mask) = host.add_unit(dom, vcpu.cpu, 0).map_err(core_err("adding a unit"))?;
                tickle = tickle.or(&mask);
                let stream = vcpus.len() as u64;
                vcpus.push(VcpuState {
                    unit,
                    domain: index,
                    workload: Workload::new(&vcpu.workload, root_rng.fork(stream), host_spec.rt_enabled)
                        .keep_series(spec.keep_series),
                    blocked: false,
                    remaining_ns: 0,
                    segment_started: false,
                    guest_timer_generation: 0,
                    cpu_ns: 0,
                    work_ns: 0,
                    rtsleep_errors: 0,
                });
            }
        }
        let timing = Timing { ipi_delay_ns: host_spec.ipi_delay_ns, timer_slop_ns: host_spec.timer_slop_ns };
        let mut slop_rng = root_rng.fork(u64::MAX);
        let draw = Box::new(move |bound| slop_rng.below(bound));
        let mut sim = Simulator {
            xen: Framework::new(host, host_spec.pcpus, timing, Some(draw)),
            spec: spec.clone(),
            cpus: (0..host_spec.pcpus).map(|_| CpuState::default()).collect(),
            vcpus,
            domain_ids,
            now: 0,
            log: None,
        };
        for vcpu in 0..sim.vcpus.len() {
            if let Some(at) = sim.vcpus[vcpu].workload.take_next_arrival() {
                sim.xen.push(at, Event::Packet { vcpu });
            }
        }
        // Boot: every CPU runs its first pass.
        sim.xen.start(tickle);
        Ok(sim)
    }

    /// Runs to the end and reports.
    pub fn run(mut self) -> Result<SimReport, SimError> {
        self.run_until_end()?;
        Ok(self.report())
    }

    /// Keeps a human-readable line per event and scheduling decision (see [`Simulator::take_log`]).
    pub fn enable_log(&mut self) {
        self.log = Some(Vec::new());
    }

    /// The log gathered so far.
    pub fn take_log(&mut self) -> Vec<String> {
        self.log.as_mut().map(std::mem::take).unwrap_or_default()
    }

    fn note(&mut self, line: impl FnOnce() -> String) {
        if let Some(log) = self.log.as_mut() {
            log.push(format!("{:>12} {}", self.now, line()));
        }
    }

    /// Runs until simulated time `until_ns` (or the end of the run), keeping state.
    pub fn run_until(&mut self, until_ns: u64) -> Result<(), SimError> {
        let end = self.spec.until_ns;
        self.spec.until_ns = until_ns.min(end);
        let result = self.run_until_end();
        self.spec.until_ns = end;
        result
    }

    /// The report as of now.
    pub fn report_now(&self) -> SimReport {
        self.report()
    }
    fn run_until_end(&mut self) -> Result<(), SimError> {
        while let Some((at, due)) = self.xen.pop(self.spec.until_ns) {
            self.now = at;
            self.note(|| format!("{due:?}"));
            match due {
                Due::Timer(event) => {
                    if let Some(cpu) = event.cpu() {
                        self.settle(cpu as usize);
                    }
                    if let Fired::Pass { cpu, decision } = self.xen.fire(event)? {
                        self.dispatch(cpu as usize, decision)?;
                    }
                }
                Due::Guest(event) => self.handle(event)?,
            }
            if self.spec.stop_when_measured_done && self.measured_done() {
                break;
            }
        }
        // Close the books at the end time.
        let end = if self.spec.stop_when_measured_done && self.measured_done() {
            self.now
        } else {
            self.spec.until_ns.max(self.now)
        };
        self.now = end;
        for cpu in 0..self.cpus.len() {
            self.settle(cpu);
        }
        Ok(())
    }

    fn measured_done(&self) -> bool {
        let mut any = false;
        for vcpu in &self.vcpus {
            if vcpu.workload.is_measured() && vcpu.workload.is_limited() {
                any = true;
                if !vcpu.workload.finished() {
                    return false;
                }
            }
        }
        any
    }

    fn handle(&mut self, event: Event) -> Result<(), SimError> {
        match event {
            Event::WorkDone { cpu, generation } => {
                if generation == self.cpus[cpu].work_generation {
                    self.settle(cpu);
                    self.advance_guest(cpu)?;
                }
            }
            Event::GuestTimer { vcpu, generation } => {
                if generation == self.vcpus[vcpu].guest_timer_generation && self.vcpus[vcpu].workload.on_timer(self.now)
                {
                    self.wake(vcpu)?;
                }
            }
            Event::Packet { vcpu } => {
                if let Some(next) = self.vcpus[vcpu].workload.take_next_arrival() {
                    self.xen.push(next, Event::Packet { vcpu });
                }
                if self.vcpus[vcpu].workload.on_packet(self.now) {
                    self.wake(vcpu)?;
                }
            }
        }
        Ok(())
    }

    /// Credits the current VCPU of `cpu` with the CPU time and guest work since the
    /// last settlement.
    fn settle(&mut self, cpu: usize) {
        let now = self.now;
        let state = &mut self.cpus[cpu];
        let Some(vcpu) = state.current else { return };
        let v = &mut self.vcpus[vcpu];
        if v.blocked {
            state.busy_from_ns = now;
            state.progress_from_ns = state.progress_from_ns.max(now);
            return;
        }
        v.cpu_ns += now.saturating_sub(state.busy_from_ns);
        state.busy_from_ns = now;
        if now > state.progress_from_ns {
            let from = state.progress_from_ns;
            let done = now - from;
            state.progress_from_ns = now;
            if v.remaining_ns > 0 {
                if !v.segment_started {
                    v.segment_started = true;
                    v.workload.on_segment_start(from);
                }
                v.work_ns += done.min(v.remaining_ns);
                if v.remaining_ns != ENDLESS_NS {
                    v.remaining_ns = v.remaining_ns.saturating_sub(done);
                }
            }
        }
    }

    /// Arms the `WorkDone` event of `cpu`'s current VCPU (or nothing).
    fn plan_work(&mut self, cpu: usize) {
        let state = &mut self.cpus[cpu];
        state.work_generation += 1;
        let Some(vcpu) = state.current else { return };
        let v = &self.vcpus[vcpu];
        if v.blocked || v.remaining_ns == ENDLESS_NS {
            return;
        }
        let at = state.progress_from_ns.max(self.now).saturating_add(v.remaining_ns);
        self.xen.push(at, Event::WorkDone { cpu, generation: state.work_generation });
    }

    /// Makes the running guest of `cpu` take its next step at `at` (a `WorkDone` event
    /// with no work left), replacing any planned one.
    fn step_guest_at(&mut self, cpu: usize, at: u64) {
        let state = &mut self.cpus[cpu];
        state.work_generation += 1;
        self.xen.push(at, Event::WorkDone { cpu, generation: state.work_generation });
    }

    /// The running guest of `cpu` finished its segment (or has none): ask its workload
    /// what next, and do it as the guest would (hypercalls included).
    fn advance_guest(&mut self, cpu: usize) -> Result<(), SimError> {
        let Some(vcpu) = self.cpus[cpu].current else { return Ok(()) };
        if self.vcpus[vcpu].blocked || self.vcpus[vcpu].remaining_ns > 0 {
            self.plan_work(cpu);
            return Ok(());
        }
        let now = self.now;
        let step = self.vcpus[vcpu].workload.next_step(now);
        match step {
            Step::Compute { ns, rtsleep_at } => {
                if let Some(deadline) = rtsleep_at {
                    self.rtsleep(vcpu, deadline)?;
                }
                let v = &mut self.vcpus[vcpu];
                v.remaining_ns = ns.max(1);
                v.segment_started = false;
                // A segment that starts while the VCPU already runs starts now.
                if self.cpus[cpu].progress_from_ns <= now {
                    v.segment_started = true;
                    v.workload.on_segment_start(now);
                }
                self.plan_work(cpu);
            }
            Step::Block { timer_at, rtsleep_at } => {
                if let Some(deadline) = rtsleep_at {
                    self.rtsleep(vcpu, deadline)?;
                }
                let v = &mut self.vcpus[vcpu];
                v.guest_timer_generation += 1;
                if let Some(at) = timer_at {
                    self.xen.push(at, Event::GuestTimer { vcpu, generation: v.guest_timer_generation });
                }
                v.blocked = true;
                let unit = v.unit;
                self.xen.block(unit)?;
                self.plan_work(cpu);
            }
        }
        Ok(())
    }

    /// `SCHEDOP_rtsleep` from the running `vcpu` (the framework arms or cancels its RT
    /// timer).
    fn rtsleep(&mut self, vcpu: usize, deadline_ns: u64) -> Result<(), SimError> {
        let args = SchedRtsleep { deadline_ns, flags: 0, pad: 0 };
        match self.xen.rtsleep(self.vcpus[vcpu].unit, &args) {
            Ok(_) => Ok(()),
            // The hypercall failed: the guest library falls back to a plain sleep.
            Err(RtsleepRefused {
                error:
                    RtcError::NotPermitted | RtcError::PeriodTooShort | RtcError::DeadlineTooFar | RtcError::DeadlineDue,
                ..
            }) => {
                self.vcpus[vcpu].rtsleep_errors += 1;
                Ok(())
            }
            Err(refused) => Err(SimError::Core { operation: "rtsleep", error: refused.error }),
        }
    }

    /// A guest timer or event channel wakes `vcpu`.
    fn wake(&mut self, vcpu: usize) -> Result<(), SimError> {
        if !self.vcpus[vcpu].blocked {
            return Ok(());
        }
        self.vcpus[vcpu].blocked = false;
        self.xen.wake(self.vcpus[vcpu].unit)?;
        // Still the current unit of its CPU (blocked, pass not yet run): it goes on now.
        if let Some(cpu) = self.cpus.iter().position(|c| c.current == Some(vcpu)) {
            let now = self.now;
            let state = &mut self.cpus[cpu];
            state.busy_from_ns = now;
            state.progress_from_ns = state.progress_from_ns.max(now);
            self.step_guest_at(cpu, now);
        }
        Ok(())
    }

    /// What a pass on `cpu` decided (the framework ran it, after the caller settled
    /// `cpu`): the guest side of the switch.
    fn dispatch(&mut self, cpu: usize, decision: Scheduled) -> Result<(), SimError> {
        let now = self.now;
        let queued = if self.log.is_some() { self.xen.sched().queue(cpu as u32) } else { Vec::new() };
        self.note(|| {
            format!(
                "cpu{cpu} -> {:?} {:?} run {} switched {} queue {:?}",
                decision.next, decision.prio, decision.run_ns, decision.switched, queued
            )
        });
        let next = match decision.next {
            Some(unit) => Some(self.vcpu_of(unit)?),
            None => None,
        };
        let state = &mut self.cpus[cpu];
        if decision.switched {
            state.switches += 1;
            state.progress_from_ns =
                if next.is_some() { now.saturating_add(self.spec.host.switch_cost_ns) } else { now };
        } else {
            state.progress_from_ns = state.progress_from_ns.max(now);
        }
        state.current = next;
        state.busy_from_ns = now;
        if let Some(vcpu) = next {
            // A unit the core runs is runnable: the guest is not blocked.
            self.vcpus[vcpu].blocked = false;
            if self.vcpus[vcpu].remaining_ns == 0 {
                // Nothing in progress: the guest decides once it actually runs.
                let at = self.cpus[cpu].progress_from_ns.max(now);
                self.step_guest_at(cpu, at);
                return Ok(());
            }
        }
        self.plan_work(cpu);
        Ok(())
    }

    /// The VCPU of a unit the core returned (units are added in VCPU order, so the
    /// index usually matches; anything else is searched).
    fn vcpu_of(&self, unit: UnitId) -> Result<usize, SimError> {
        if self.vcpus.get(unit.0).is_some_and(|v| v.unit == unit) {
            return Ok(unit.0);
        }
        self.vcpus
            .iter()
            .position(|v| v.unit == unit)
            .ok_or(SimError::Core { operation: "schedule (returned an unknown unit)", error: RtcError::NullPointer })
    }

    fn report(&self) -> SimReport {
        let mut domains: Vec<DomainReport> = self
            .spec
            .domains
            .iter()
            .enumerate()
            .map(|(index, domain)| {
                let counters = self.xen.sched().domain_counters(self.domain_ids[index]).unwrap_or_default();
                DomainReport {
                    name: domain.name.clone(),
                    workload: domain.vcpus.first().map_or("none", |v| v.workload.kind()),
                    cpu_ns: 0,
                    work_ns: 0,
                    prio_ns: [0; NR_PRIOS],
                    runs: 0,
                    boosts: 0,
                    rt_fires: 0,
                    rt_requests: counters.rt.rt_requests,
                    rt_granted: counters.rt.rt_granted,
                    rt_degraded: counters.rt.rt_degraded,
                    rt_denied: counters.rt.rt_denied,
                    rtsleep_errors: 0,
                    measurements: Vec::new(),
                    ideal_completion_ns: None,
                    measured: false,
                }
            })
            .collect();
        for v in &self.vcpus {
            let Some(d) = domains.get_mut(v.domain) else { continue };
            d.cpu_ns += v.cpu_ns;
            d.work_ns += v.work_ns;
            d.rtsleep_errors += v.rtsleep_errors;
            if let Some(view) = self.xen.sched().unit_stats(v.unit) {
                for (sum, ns) in d.prio_ns.iter_mut().zip(view.prio_ns) {
                    *sum += ns;
                }
                d.runs += view.runs;
                d.boosts += view.boosts;
                d.rt_fires += view.rt_fires;
            }
            if d.measurements.is_empty() {
                d.ideal_completion_ns = v.workload.ideal_completion_ns();
            }
            d.measured |= v.workload.is_measured();
            d.measurements.push(v.workload.measurements().clone());
        }
        SimReport {
            end_ns: self.now,
            events: self.xen.popped(),
            context_switches: self.cpus.iter().map(|c| c.switches).sum(),
            domains,
        }
    }
}
