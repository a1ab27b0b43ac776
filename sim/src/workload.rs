//! Guest workloads: what the software inside a VCPU does with the CPU it gets.
//!
//! A workload is a state machine driven by the simulator. It sees the world as a Linux
//! guest does: it computes while its VCPU runs, and when it has nothing to do it goes
//! idle, which in a PV guest means arming its one-shot Xen timer for the next thing it
//! waits for and calling `SCHEDOP_block` (the guest's `xen_safe_halt`). It is woken
//! again by that timer (a *guest timer*, at an absolute time) or by an event channel
//! (an external packet). A guest of a domain that dom0 allowed RT may, just before
//! blocking, register the same deadline with `SCHEDOP_rtsleep`.
//!
//! Work is counted in nanoseconds of CPU: a segment of `compute_ns` is done when the
//! VCPU has run that long (the simulator subtracts context-switch time). A segment's
//! *start* is the first nanosecond of progress on it; lateness is measured from there.
//!
//! The models:
//!
//! * [`WorkloadSpec::Hog`]: burns CPU forever, never blocks (a `while(1);` domain). Its
//!   share is limited, if at all, by the domain's cap (`DomainParams::cap`).
//! * [`WorkloadSpec::DutyHog`]: a load generator that wants `share_pct` of the CPU: in
//!   every window of `cycle_ns` it computes one burst of `share_pct` percent of the
//!   window, starting at a random time within the window such that it fits (windows
//!   are absolute, so its demand does not depend on the delays it suffers; a burst that
//!   cannot start on time starts as soon as the previous one ends). The random start
//!   stands for the load's own irregularity: two perfectly periodic programs with
//!   commensurate periods would stay phase-locked forever, and the result would then
//!   depend on the one phase the seed drew rather than on the scheduler.
//! * [`WorkloadSpec::Periodic`]: the paper's measured task. Job k is released at its
//!   deadline, computes `compute_ns`, then the task sleeps until the next deadline:
//!   `Absolute` (clock_nanosleep with TIMER_ABSTIME: first + k x period) or `Relative`
//!   (the paper's loop `send(); sleep(10 ms)`: previous finish + period, so delays add
//!   up). Lateness of a job = start of its work - its deadline. With `rtsleep`, the task
//!   registers the deadline with the hypervisor before blocking.
//! * [`WorkloadSpec::Receiver`]: packets from an external host arrive every
//!   `interval_ns`; each arrival is an event-channel wake-up; handling one takes
//!   `compute_ns`; lateness = start of handling - arrival (Fig. 1).
//! * [`WorkloadSpec::IoBound`]: like the receiver but with exponentially distributed
//!   gaps (Poisson arrivals), e.g. a disk or network server.
//! * [`WorkloadSpec::MixedWork`]: a periodic task and a background CPU burner in the
//!   same VCPU (an audio thread beside a compile): the VCPU never blocks; the guest runs
//!   the burner in [`BURN_CHUNK_NS`] pieces and, at the first piece boundary at or after
//!   a deadline, the periodic job first (its timer interrupt preempts the burner in the
//!   guest), then registers the next deadline with `rtsleep` and burns again.
//! * [`WorkloadSpec::RtSpammer`]: an adversary that burns CPU in chunks and, at the end
//!   of every chunk, asks for an RT wake-up `lead` ahead (default 1 ms, the minimum
//!   period) once the last one has passed, as often as the hypervisor lets it.

use std::collections::VecDeque;

use crate::rng::SplitMix64;
use crate::stats::LatencyHistogram;

/// Work that never ends (a hog's segment).
pub const ENDLESS_NS: u64 = u64::MAX;
/// A mixed-work guest's burner runs in pieces of this much CPU (10 us), so that a job
/// released while it burns starts within 10 us of CPU (the guest's timer interrupt).
pub const BURN_CHUNK_NS: u64 = 10_000;

/// How a periodic task computes its next deadline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Release {
    /// First deadline + k x period (clock_nanosleep with TIMER_ABSTIME).
    Absolute,
    /// Finish of the previous job + period (`sleep(period)` after the work).
    Relative,
}

/// What a guest does, with its parameters (times in nanoseconds).
#[derive(Clone, Debug, PartialEq)]
pub enum WorkloadSpec {
    Hog,
    DutyHog {
        share_pct: u32,
        cycle_ns: u64,
    },
    /// `start_ns`: the first deadline falls in `[start_ns + period, start_ns + 2 period)`.
    Periodic {
        period_ns: u64,
        compute_ns: u64,
        periods: Option<u64>,
        release: Release,
        rtsleep: bool,
        start_ns: u64,
    },
    /// `start_ns`: the first packet arrives in `[start_ns + interval, start_ns + 2 interval)`.
    Receiver {
        interval_ns: u64,
        compute_ns: u64,
        packets: Option<u64>,
        start_ns: u64,
    },
    IoBound {
        mean_gap_ns: u64,
        compute_ns: u64,
        events: Option<u64>,
    },
    RtSpammer {
        chunk_ns: u64,
        lead_ns: u64,
    },
    /// A periodic task (absolute deadlines) plus a CPU burner in the same VCPU.
    MixedWork {
        period_ns: u64,
        compute_ns: u64,
        rtsleep: bool,
        start_ns: u64,
    },
}

impl WorkloadSpec {
    /// Short name for reports.
    pub fn kind(&self) -> &'static str {
        match self {
            WorkloadSpec::Hog => "hog",
            WorkloadSpec::DutyHog { .. } => "duty-hog",
            WorkloadSpec::Periodic { .. } => "periodic",
            WorkloadSpec::Receiver { .. } => "receiver",
            WorkloadSpec::IoBound { .. } => "io-bound",
            WorkloadSpec::RtSpammer { .. } => "rt-spammer",
            WorkloadSpec::MixedWork { .. } => "mixed-work",
        }
    }
}

/// What the guest does next, when it has no work in progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Compute for `ns` of CPU (`ENDLESS_NS`: forever). With `rtsleep_at`, first call
    /// `SCHEDOP_rtsleep` for that deadline (and keep running).
    Compute { ns: u64, rtsleep_at: Option<u64> },
    /// Go idle: arm the guest timer at `timer_at` (if any), register `rtsleep_at` with
    /// the hypervisor (if any), then `SCHEDOP_block`.
    Block { timer_at: Option<u64>, rtsleep_at: Option<u64> },
}

/// What a workload measured.
///
/// The lateness of every job goes into a fixed-resolution histogram
/// ([`LatencyHistogram`]), whose memory does not grow with the simulated time. The
/// per-job series (lateness and start of each job, for the paper's per-period plots)
/// are kept only when asked ([`Workload::keep_series`]): they grow with every job.
#[derive(Clone, Debug, PartialEq)]
pub struct Measurements {
    /// Start of each job's (or packet's) work minus its deadline (or arrival), ns.
    pub lateness: LatencyHistogram,
    /// Whether `lateness_ns` and `starts_ns` are kept.
    pub keep_series: bool,
    /// Per job, if `keep_series`: the lateness, ns.
    pub lateness_ns: Vec<u64>,
    /// Per job, if `keep_series`: when its work started (for arrival-interval series).
    pub starts_ns: Vec<u64>,
    /// Deadline (or arrival) of the first job.
    pub first_release_ns: Option<u64>,
    /// When the last job finished.
    pub last_finish_ns: Option<u64>,
    /// Jobs completed.
    pub jobs_done: u64,
}

impl Default for Measurements {
    fn default() -> Measurements {
        Measurements {
            lateness: LatencyHistogram::new(),
            keep_series: true,
            lateness_ns: Vec::new(),
            starts_ns: Vec::new(),
            first_release_ns: None,
            last_finish_ns: None,
            jobs_done: 0,
        }
    }
}

impl Measurements {
    /// A job's work started at `start_ns`, `lateness_ns` after its deadline (or arrival).
    fn record(&mut self, lateness_ns: u64, start_ns: u64) {
        self.lateness.record(lateness_ns);
        if self.keep_series {
            self.lateness_ns.push(lateness_ns);
            self.starts_ns.push(start_ns);
        }
    }
}

/// Progress of a job-based workload (periodic task, duty-cycle hog).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum JobState {
    /// Not yet run: the first step schedules the first deadline.
    Boot,
    /// Blocked until the deadline.
    Sleeping { deadline_ns: u64 },
    /// The deadline passed; the job waits for the CPU.
    Released { deadline_ns: u64 },
    /// The job's work is in progress.
    Computing { deadline_ns: u64, started: bool },
    /// All periods done.
    Done,
}

#[derive(Clone, Debug)]
struct JobLoop {
    period_ns: u64,
    compute_ns: u64,
    periods: Option<u64>,
    release: Release,
    rtsleep: bool,
    first_deadline_ns: u64,
    /// Each deadline falls uniformly in `[nominal, nominal + jitter_ns)`.
    jitter_ns: u64,
    /// The current job's nominal deadline (without jitter).
    nominal_ns: u64,
    state: JobState,
    /// Between jobs it burns CPU instead of blocking (mixed work).
    burner: bool,
}

#[derive(Clone, Debug)]
struct PacketLoop {
    compute_ns: u64,
    pending: VecDeque<u64>,
    handling: Option<(u64, bool)>,
}

#[derive(Clone, Debug)]
enum Model {
    Hog,
    Jobs(JobLoop),
    Packets(PacketLoop),
    Spammer { chunk_ns: u64, lead_ns: u64, requested_ns: u64, rt_enabled: bool },
}

/// External arrivals of a packet-driven workload.
#[derive(Clone, Debug)]
pub enum Arrivals {
    /// Every `interval_ns` from `first_ns`.
    Periodic { next_ns: u64, interval_ns: u64 },
    /// Exponential gaps with the given mean.
    Poisson { next_ns: u64, mean_gap_ns: u64 },
}

/// A workload's running state.
#[derive(Clone, Debug)]
pub struct Workload {
    spec: WorkloadSpec,
    model: Model,
    arrivals: Option<Arrivals>,
    arrivals_left: Option<u64>,
    rng: SplitMix64,
    measured: bool,
    /// External events received so far.
    received: u64,
    measurements: Measurements,
}

impl Workload {
    /// Starts a workload. `rng` is this workload's own stream (it draws its phase from
    /// it); `rt_enabled` says whether the policy lets guests call `SCHEDOP_rtsleep`.
    pub fn new(spec: &WorkloadSpec, mut rng: SplitMix64, rt_enabled: bool) -> Workload {
        let mut arrivals = None;
        let mut arrivals_left = None;
        let mut measured = true;
        let model = match *spec {
            WorkloadSpec::Hog => {
                measured = false;
                Model::Hog
            }
            WorkloadSpec::DutyHog { share_pct, cycle_ns } => {
                measured = false;
                let compute_ns = cycle_ns / 100 * u64::from(share_pct.min(100));
                let first = rng.below(cycle_ns);
                Model::Jobs(JobLoop {
                    period_ns: cycle_ns,
                    compute_ns,
                    periods: None,
                    release: Release::Absolute,
                    rtsleep: false,
                    first_deadline_ns: first,
                    jitter_ns: cycle_ns - compute_ns,
                    nominal_ns: first,
                    state: JobState::Boot,
                    burner: false,
                })
            }
            WorkloadSpec::Periodic { period_ns, compute_ns, periods, release, rtsleep, start_ns } => {
                // One period to boot, then a random phase against the host's tick.
                let first = start_ns + period_ns + rng.below(period_ns);
                Model::Jobs(JobLoop {
                    period_ns,
                    compute_ns,
                    periods,
                    release,
                    rtsleep: rtsleep && rt_enabled,
                    first_deadline_ns: first,
                    jitter_ns: 0,
                    nominal_ns: first,
                    state: JobState::Boot,
                    burner: false,
                })
            }
            WorkloadSpec::MixedWork { period_ns, compute_ns, rtsleep, start_ns } => {
                let first = start_ns + period_ns + rng.below(period_ns);
                Model::Jobs(JobLoop {
                    period_ns,
                    compute_ns,
                    periods: None,
                    release: Release::Absolute,
                    rtsleep: rtsleep && rt_enabled,
                    first_deadline_ns: first,
                    jitter_ns: 0,
                    nominal_ns: first,
                    state: JobState::Boot,
                    burner: true,
                })
            }
            WorkloadSpec::Receiver { interval_ns, compute_ns, packets, start_ns } => {
                arrivals =
                    Some(Arrivals::Periodic { next_ns: start_ns + interval_ns + rng.below(interval_ns), interval_ns });
                arrivals_left = packets;
                Model::Packets(PacketLoop { compute_ns, pending: VecDeque::new(), handling: None })
            }
            WorkloadSpec::IoBound { mean_gap_ns, compute_ns, events } => {
                let first = rng.exponential_ns(mean_gap_ns);
                arrivals = Some(Arrivals::Poisson { next_ns: first, mean_gap_ns });
                arrivals_left = events;
                Model::Packets(PacketLoop { compute_ns, pending: VecDeque::new(), handling: None })
            }
            WorkloadSpec::RtSpammer { chunk_ns, lead_ns } => {
                measured = false;
                Model::Spammer { chunk_ns: chunk_ns.max(1), lead_ns, requested_ns: 0, rt_enabled }
            }
        };
        Workload {
            spec: spec.clone(),
            model,
            arrivals,
            arrivals_left,
            rng,
            measured,
            received: 0,
            measurements: Measurements::default(),
        }
    }

    pub fn spec(&self) -> &WorkloadSpec {
        &self.spec
    }

    /// Whether its lateness is a result (periodic task, receiver, I/O), not a load.
    pub fn is_measured(&self) -> bool {
        self.measured
    }

    /// Whether to keep the per-job series besides the histogram (default: yes); a
    /// long run should not ([`Measurements`]).
    pub fn keep_series(mut self, keep: bool) -> Workload {
        self.measurements.keep_series = keep;
        self
    }

    pub fn measurements(&self) -> &Measurements {
        &self.measurements
    }

    /// A measured workload with a job limit that reached it.
    pub fn finished(&self) -> bool {
        match &self.model {
            Model::Jobs(jobs) => jobs.state == JobState::Done,
            Model::Packets(packets) => {
                let limit = match self.spec {
                    WorkloadSpec::Receiver { packets, .. } => packets,
                    WorkloadSpec::IoBound { events, .. } => events,
                    _ => None,
                };
                limit.is_some_and(|n| self.received >= n) && packets.pending.is_empty() && packets.handling.is_none()
            }
            _ => false,
        }
    }

    /// The guest has nothing in progress (it just booted, or its segment is done).
    pub fn next_step(&mut self, now: u64) -> Step {
        let measurements = &mut self.measurements;
        match &mut self.model {
            Model::Hog => Step::Compute { ns: ENDLESS_NS, rtsleep_at: None },
            Model::Spammer { chunk_ns, lead_ns, requested_ns, rt_enabled } => {
                let rtsleep_at = if *rt_enabled && now >= *requested_ns {
                    *requested_ns = now.saturating_add(*lead_ns);
                    Some(*requested_ns)
                } else {
                    None
                };
                Step::Compute { ns: *chunk_ns, rtsleep_at }
            }
            Model::Jobs(jobs) => jobs.next_step(now, measurements, &mut self.rng),
            Model::Packets(packets) => {
                if let Some((_, _)) = packets.handling.take() {
                    measurements.jobs_done += 1;
                    measurements.last_finish_ns = Some(now);
                }
                match packets.pending.pop_front() {
                    Some(arrival) => {
                        packets.handling = Some((arrival, false));
                        Step::Compute { ns: packets.compute_ns, rtsleep_at: None }
                    }
                    None => Step::Block { timer_at: None, rtsleep_at: None },
                }
            }
        }
    }

    /// The guest timer fired at `now`. Returns whether the guest has work (must wake).
    pub fn on_timer(&mut self, now: u64) -> bool {
        match &mut self.model {
            Model::Jobs(jobs) => match jobs.state {
                JobState::Sleeping { deadline_ns } if now >= deadline_ns => {
                    jobs.state = JobState::Released { deadline_ns };
                    true
                }
                _ => false,
            },
            _ => false,
        }
    }

    /// An external event arrives (event channel). Returns whether the guest must wake.
    pub fn on_packet(&mut self, now: u64) -> bool {
        match &mut self.model {
            Model::Packets(packets) => {
                if self.measurements.first_release_ns.is_none() {
                    self.measurements.first_release_ns = Some(now);
                }
                packets.pending.push_back(now);
                self.received += 1;
                true
            }
            _ => false,
        }
    }

    /// The VCPU made its first progress on the current segment at `at`.
    pub fn on_segment_start(&mut self, at: u64) {
        let measurements = &mut self.measurements;
        match &mut self.model {
            Model::Jobs(jobs) => {
                if let JobState::Computing { deadline_ns, started } = &mut jobs.state {
                    if !*started {
                        *started = true;
                        measurements.record(at.saturating_sub(*deadline_ns), at);
                    }
                }
            }
            Model::Packets(packets) => {
                if let Some((arrival, started)) = &mut packets.handling {
                    if !*started {
                        *started = true;
                        measurements.record(at.saturating_sub(*arrival), at);
                    }
                }
            }
            _ => {}
        }
    }

    /// The next external arrival, consumed (None when there is none left).
    pub fn take_next_arrival(&mut self) -> Option<u64> {
        if self.arrivals_left == Some(0) {
            return None;
        }
        let next = match self.arrivals.as_mut()? {
            Arrivals::Periodic { next_ns, interval_ns } => {
                let at = *next_ns;
                *next_ns = at.saturating_add(*interval_ns);
                at
            }
            Arrivals::Poisson { next_ns, mean_gap_ns } => {
                let at = *next_ns;
                *next_ns = at.saturating_add(self.rng.exponential_ns(*mean_gap_ns));
                at
            }
        };
        if let Some(left) = self.arrivals_left.as_mut() {
            *left -= 1;
        }
        Some(next)
    }

    /// Whether it has a job (or packet) limit, so that it finishes.
    pub fn is_limited(&self) -> bool {
        match &self.model {
            Model::Jobs(jobs) => jobs.periods.is_some(),
            Model::Packets(_) => matches!(
                self.spec,
                WorkloadSpec::Receiver { packets: Some(_), .. } | WorkloadSpec::IoBound { events: Some(_), .. }
            ),
            _ => false,
        }
    }

    /// The ideal completion time of a job-limited workload: what it would take on a CPU
    /// of its own with no scheduling delay, from its first release to its last finish.
    pub fn ideal_completion_ns(&self) -> Option<u64> {
        match &self.model {
            Model::Jobs(jobs) => {
                let n = jobs.periods?;
                let gaps = n.saturating_sub(1);
                Some(match jobs.release {
                    Release::Absolute => gaps * jobs.period_ns + jobs.compute_ns,
                    Release::Relative => gaps * (jobs.period_ns + jobs.compute_ns) + jobs.compute_ns,
                })
            }
            Model::Packets(packets) => match self.spec {
                WorkloadSpec::Receiver { interval_ns, packets: Some(n), .. } => {
                    Some(n.saturating_sub(1) * interval_ns + packets.compute_ns)
                }
                _ => None,
            },
            _ => None,
        }
    }
}

impl JobLoop {
    fn sleep_until(&mut self, deadline_ns: u64) -> Step {
        self.state = JobState::Sleeping { deadline_ns };
        let rtsleep_at = self.rtsleep.then_some(deadline_ns);
        if self.burner {
            return Step::Compute { ns: BURN_CHUNK_NS, rtsleep_at };
        }
        Step::Block { timer_at: Some(deadline_ns), rtsleep_at }
    }

    fn next_step(&mut self, now: u64, measurements: &mut Measurements, rng: &mut SplitMix64) -> Step {
        match self.state {
            JobState::Boot => {
                measurements.first_release_ns = Some(self.first_deadline_ns);
                if self.first_deadline_ns <= now {
                    self.state = JobState::Computing { deadline_ns: self.first_deadline_ns, started: false };
                    return Step::Compute { ns: self.compute_ns, rtsleep_at: None };
                }
                self.sleep_until(self.first_deadline_ns)
            }
            // Mixed work: burn until a piece ends at or after the deadline.
            JobState::Sleeping { deadline_ns } if self.burner => {
                if now < deadline_ns {
                    return Step::Compute { ns: BURN_CHUNK_NS, rtsleep_at: None };
                }
                self.state = JobState::Computing { deadline_ns, started: false };
                Step::Compute { ns: self.compute_ns, rtsleep_at: None }
            }
            // Woken without its deadline having passed: go back to sleep.
            JobState::Sleeping { deadline_ns } => self.sleep_until(deadline_ns),
            JobState::Released { deadline_ns } => {
                self.state = JobState::Computing { deadline_ns, started: false };
                Step::Compute { ns: self.compute_ns, rtsleep_at: None }
            }
            JobState::Computing { .. } => {
                measurements.jobs_done += 1;
                measurements.last_finish_ns = Some(now);
                if self.periods.is_some_and(|n| measurements.jobs_done >= n) {
                    self.state = JobState::Done;
                    return Step::Block { timer_at: None, rtsleep_at: None };
                }
                let next = match self.release {
                    Release::Absolute => {
                        self.nominal_ns = self.nominal_ns.saturating_add(self.period_ns);
                        self.nominal_ns.saturating_add(rng.below(self.jitter_ns))
                    }
                    Release::Relative => now.saturating_add(self.period_ns),
                };
                if next <= now {
                    // Late: the next job is already due; no sleep.
                    self.state = JobState::Computing { deadline_ns: next, started: false };
                    Step::Compute { ns: self.compute_ns, rtsleep_at: None }
                } else {
                    self.sleep_until(next)
                }
            }
            JobState::Done => Step::Block { timer_at: None, rtsleep_at: None },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    #[test]
    fn absolute_periodic_sleeps_to_the_next_deadline_and_measures_lateness() {
        let spec = WorkloadSpec::Periodic {
            period_ns: 10 * MS,
            compute_ns: MS,
            periods: Some(2),
            release: Release::Absolute,
            rtsleep: true,
            start_ns: 0,
        };
        let mut w = Workload::new(&spec, SplitMix64::new(1), true);
        let Step::Block { timer_at: Some(d0), rtsleep_at: Some(r0) } = w.next_step(0) else {
            panic!("boot must block")
        };
        assert_eq!(d0, r0);
        assert!((10 * MS..20 * MS).contains(&d0));
        assert!(!w.on_timer(d0 - 1));
        assert!(w.on_timer(d0));
        assert_eq!(w.next_step(d0 + 5), Step::Compute { ns: MS, rtsleep_at: None });
        w.on_segment_start(d0 + 7);
        assert_eq!(
            w.next_step(d0 + 7 + MS),
            Step::Block { timer_at: Some(d0 + 10 * MS), rtsleep_at: Some(d0 + 10 * MS) }
        );
        assert!(w.on_timer(d0 + 10 * MS));
        w.next_step(d0 + 10 * MS);
        w.on_segment_start(d0 + 10 * MS);
        assert_eq!(w.next_step(d0 + 11 * MS), Step::Block { timer_at: None, rtsleep_at: None });
        assert!(w.finished());
        assert_eq!(w.measurements().lateness_ns, vec![7, 0]);
        assert_eq!(w.ideal_completion_ns(), Some(11 * MS));
    }

    #[test]
    fn relative_periodic_adds_delays_and_late_jobs_do_not_sleep() {
        let spec = WorkloadSpec::Periodic {
            period_ns: 10 * MS,
            compute_ns: MS,
            periods: None,
            release: Release::Relative,
            rtsleep: true,
            start_ns: 0,
        };
        // RT disabled by the policy: no rtsleep even though the guest would ask.
        let mut w = Workload::new(&spec, SplitMix64::new(1), false);
        let Step::Block { timer_at: Some(d0), rtsleep_at: None } = w.next_step(0) else { panic!() };
        w.on_timer(d0);
        w.next_step(d0 + 3 * MS);
        w.on_segment_start(d0 + 3 * MS);
        assert_eq!(w.next_step(d0 + 4 * MS), Step::Block { timer_at: Some(d0 + 14 * MS), rtsleep_at: None });

        let abs = WorkloadSpec::Periodic {
            period_ns: 10 * MS,
            compute_ns: MS,
            periods: None,
            release: Release::Absolute,
            rtsleep: false,
            start_ns: 0,
        };
        let mut w = Workload::new(&abs, SplitMix64::new(1), false);
        let Step::Block { timer_at: Some(d0), .. } = w.next_step(0) else { panic!() };
        w.on_timer(d0);
        w.next_step(d0 + 25 * MS);
        w.on_segment_start(d0 + 25 * MS);
        // Finished after the next two deadlines: runs the next job at once.
        assert_eq!(w.next_step(d0 + 26 * MS), Step::Compute { ns: MS, rtsleep_at: None });
        w.on_segment_start(d0 + 26 * MS);
        assert_eq!(w.measurements().lateness_ns, vec![25 * MS, 16 * MS]);
    }

    #[test]
    fn duty_hog_computes_its_share_of_each_cycle() {
        let mut w =
            Workload::new(&WorkloadSpec::DutyHog { share_pct: 20, cycle_ns: 100 * MS }, SplitMix64::new(3), false);
        assert!(!w.is_measured());
        let Step::Block { timer_at: Some(c0), rtsleep_at: None } = w.next_step(0) else { panic!() };
        assert!(c0 < 100 * MS);
        let mut window = c0;
        let mut at = c0;
        for _ in 0..50 {
            assert!(w.on_timer(at));
            assert_eq!(w.next_step(at), Step::Compute { ns: 20 * MS, rtsleep_at: None });
            // Late by 5 ms: the next burst still falls in the next window, and fits in it.
            let Step::Block { timer_at: Some(next), rtsleep_at: None } = w.next_step(at + 25 * MS) else { panic!() };
            window += 100 * MS;
            assert!((window..window + 80 * MS).contains(&next), "{next} {window}");
            at = next;
        }
    }

    #[test]
    fn receiver_handles_queued_packets_in_order() {
        let spec = WorkloadSpec::Receiver { interval_ns: 10 * MS, compute_ns: MS, packets: Some(2), start_ns: 0 };
        let mut w = Workload::new(&spec, SplitMix64::new(5), false);
        let a0 = w.take_next_arrival().unwrap();
        let a1 = w.take_next_arrival().unwrap();
        assert_eq!(a1 - a0, 10 * MS);
        assert_eq!(w.take_next_arrival(), None);
        assert!(w.on_packet(a0));
        assert!(w.on_packet(a1));
        assert_eq!(w.next_step(a1), Step::Compute { ns: MS, rtsleep_at: None });
        w.on_segment_start(a1 + 1);
        assert_eq!(w.next_step(a1 + MS), Step::Compute { ns: MS, rtsleep_at: None });
        w.on_segment_start(a1 + MS);
        assert_eq!(w.next_step(a1 + 2 * MS), Step::Block { timer_at: None, rtsleep_at: None });
        assert!(w.finished());
        assert_eq!(w.measurements().lateness_ns, vec![a1 + 1 - a0, MS]);
    }

    #[test]
    fn mixed_work_burns_between_jobs_and_registers_each_deadline_once() {
        let spec = WorkloadSpec::MixedWork { period_ns: 5 * MS, compute_ns: 100_000, rtsleep: true, start_ns: 0 };
        let mut w = Workload::new(&spec, SplitMix64::new(3), true);
        let Step::Compute { ns, rtsleep_at: Some(d0) } = w.next_step(0) else { panic!("boot burns and registers") };
        assert_eq!(ns, BURN_CHUNK_NS);
        assert!((5 * MS..10 * MS).contains(&d0));
        // Before the deadline: more burning, no new registration.
        assert_eq!(w.next_step(d0 - 1), Step::Compute { ns: BURN_CHUNK_NS, rtsleep_at: None });
        // The first piece that ends at or after the deadline: the job, first.
        assert_eq!(w.next_step(d0 + 3_000), Step::Compute { ns: 100_000, rtsleep_at: None });
        w.on_segment_start(d0 + 3_000);
        // Job done: register the next deadline and burn again; it never blocks.
        let step = w.next_step(d0 + 103_000);
        assert_eq!(step, Step::Compute { ns: BURN_CHUNK_NS, rtsleep_at: Some(d0 + 5 * MS) });
        assert_eq!(w.measurements().lateness_ns, vec![3_000]);
        // Without RT (credit), the same loop, no registrations.
        let mut plain = Workload::new(&spec, SplitMix64::new(3), false);
        assert!(matches!(plain.next_step(0), Step::Compute { rtsleep_at: None, .. }));
    }

    #[test]
    fn spammer_asks_for_rt_once_per_lead_and_only_when_allowed() {
        let spec = WorkloadSpec::RtSpammer { chunk_ns: MS, lead_ns: 5 * MS };
        let mut w = Workload::new(&spec, SplitMix64::new(9), true);
        assert_eq!(w.next_step(0), Step::Compute { ns: MS, rtsleep_at: Some(5 * MS) });
        assert_eq!(w.next_step(MS), Step::Compute { ns: MS, rtsleep_at: None });
        assert_eq!(w.next_step(5 * MS), Step::Compute { ns: MS, rtsleep_at: Some(10 * MS) });
        let mut off = Workload::new(&spec, SplitMix64::new(9), false);
        assert_eq!(off.next_step(0), Step::Compute { ns: MS, rtsleep_at: None });
    }

    #[test]
    fn io_bound_arrivals_are_poisson_and_seeded() {
        let spec = WorkloadSpec::IoBound { mean_gap_ns: MS, compute_ns: 100_000, events: Some(1000) };
        let mut a = Workload::new(&spec, SplitMix64::new(11), false);
        let mut b = Workload::new(&spec, SplitMix64::new(11), false);
        let xs: Vec<u64> = std::iter::from_fn(|| a.take_next_arrival()).collect();
        let ys: Vec<u64> = std::iter::from_fn(|| b.take_next_arrival()).collect();
        assert_eq!(xs, ys);
        assert_eq!(xs.len(), 1000);
        let mean_gap = (xs[999] - xs[0]) / 999;
        assert!((800_000..1_200_000).contains(&mean_gap), "{mean_gap}");
    }
}
