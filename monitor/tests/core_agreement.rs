//! The monitor agrees with the core's own counters.
//!
//! The real `rtcredit` core (its single-threaded `Host`) runs inside the core's model of
//! Xen's softirqs and timers (`rtcredit::framework`, the simulator's), its trace records
//! are written in xentrace's format with the time of the call, and the runstate changes
//! Xen's generic scheduler logs around each switch are added. The monitor's per-priority
//! CPU time, switch counts and RT fires must then equal what the core counted itself,
//! exactly (a trace from real Xen cannot be held to that: its counters are read at
//! another time than its records; `real_trace.rs` checks those traces).
//!
//! One CPU, TSC = ns, a tickle served at once. Domain 1 burns CPU; domain 2 runs 1 ms
//! every 10 ms, asking for an RT wake-up at the next period (3 ms past a tick) each time
//! it blocks, and its guest timer wakes it there. After 1 s both block so that nothing
//! is running at the end.

mod common;

use std::collections::HashMap;

use common::{TraceWriter, Window};
use rtcredit::framework::{Due, Fired, Framework, Timing};
use rtcredit::host::{Host, Scheduled, UnitId};
use rtcredit::{CpuMask, DomainParams, Params, Prio, SchedRtsleep};
use rtcredit_monitor::format::Runstate::{self, Blocked, Runnable, Running};
use rtcredit_monitor::model::{VcpuId, UNKNOWN_PRIO};
use rtcredit_monitor::{analyze, Clock, Report};

const MS: u64 = 1_000_000;
const END: u64 = 1_000 * MS;
const WORK: u64 = MS;
const PERIOD: u64 = 10 * MS;

/// The RT domain's own events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Guest {
    /// Its period's work is done, if the generation is current.
    WorkDone(u64),
    /// Its guest timer, at the deadline it asked for.
    Timer,
}

struct Driver {
    xen: Framework<Host, Guest>,
    window: Window,
    now: u64,
    ids: HashMap<UnitId, (u32, u32)>,
    blocked: HashMap<UnitId, bool>,
    current: Option<UnitId>,
    rt_unit: UnitId,
    work_left: u64,
    work_since: Option<u64>,
    work_generation: u64,
}

impl Driver {
    fn host(&self) -> &Host {
        self.xen.sched()
    }

    fn stamp(&mut self) {
        for record in self.xen.sched().take_trace() {
            self.window.ours(self.now, record.event, &record.data[..record.len as usize]);
        }
    }

    fn runstate(&mut self, unit: UnitId, old: Runstate, new: Runstate) {
        let (dom, vcpu) = self.ids[&unit];
        self.window.runstate(self.now, dom, vcpu, old, new);
    }

    /// What a pass decided: Xen's runstate changes, and the RT domain's work.
    fn dispatched(&mut self, d: Scheduled) {
        if !d.switched {
            return;
        }
        if let Some(prev) = self.current {
            let new = if self.blocked[&prev] { Blocked } else { Runnable };
            self.runstate(prev, Running, new);
            if prev == self.rt_unit {
                if let Some(since) = self.work_since.take() {
                    self.work_left = self.work_left.saturating_sub(self.now - since);
                }
                self.work_generation += 1;
            }
        }
        if let Some(next) = d.next {
            self.runstate(next, Runnable, Running);
            if next == self.rt_unit {
                self.work_since = Some(self.now);
                self.xen.push(self.now + self.work_left, Guest::WorkDone(self.work_generation));
            }
        }
        self.current = d.next;
    }

    /// The RT domain finished its work: ask for RT at the next period and block until
    /// its guest timer fires there.
    fn rt_unit_blocks(&mut self) {
        let unit = self.rt_unit;
        // Deadlines 3 ms past the 10 ms ticks, so that a tick does not end RT at once.
        let mut deadline_ns = (self.now / PERIOD) * PERIOD + 3 * MS;
        while deadline_ns < self.now + 5 * MS {
            deadline_ns += PERIOD;
        }
        // Refused once the budget is spent: the guest timer still wakes it.
        let _ = self.xen.rtsleep(unit, &SchedRtsleep { deadline_ns, flags: 0, pad: 0 });
        self.stamp();
        self.xen.push(deadline_ns, Guest::Timer);
        self.blocked.insert(unit, true);
        self.work_since = None;
        self.work_left = WORK;
        self.work_generation += 1;
        self.xen.block(unit).expect("block");
        self.stamp();
    }

    fn rt_unit_wakes(&mut self) {
        let unit = self.rt_unit;
        self.blocked.insert(unit, false);
        self.xen.wake(unit).expect("wake");
        self.stamp();
        self.runstate(unit, Blocked, Runnable);
    }

    fn run(&mut self) {
        self.xen.start(CpuMask::EMPTY);
        while let Some((at, due)) = self.xen.pop(END - 1) {
            self.now = at;
            match due {
                Due::Timer(event) => {
                    let fired = self.xen.fire(event).expect("fire");
                    self.stamp();
                    if let Fired::Pass { decision, .. } = fired {
                        self.dispatched(decision);
                    }
                }
                Due::Guest(Guest::WorkDone(generation)) if generation == self.work_generation => self.rt_unit_blocks(),
                Due::Guest(Guest::WorkDone(_)) => {}
                Due::Guest(Guest::Timer) => self.rt_unit_wakes(),
            }
        }
        // Everybody blocks (told to the core at once, as for a pause); the CPU goes idle.
        self.now = END;
        let units: Vec<UnitId> = self.ids.keys().copied().collect();
        for unit in units {
            if !self.blocked[&unit] {
                self.blocked.insert(unit, true);
                self.xen.sched_mut().sleep(unit).expect("sleep");
                self.stamp();
                if self.current != Some(unit) {
                    self.runstate(unit, Runnable, Blocked);
                }
            }
        }
        let last = self.xen.sched_mut().schedule(0, END, false).expect("schedule");
        self.stamp();
        self.dispatched(last);
    }
}

/// Runs the scenario with the RT domain's CPU budget at `rt_budget_pct` percent.
fn run(rt_budget_pct: u32) -> (Driver, rtcredit_monitor::Analysis, [UnitId; 2]) {
    // A pool whose RT capacity is its whole CPU, so that a 100% budget is admitted.
    let mut host = Host::new(Params { rt_capacity_pct: 100, ..Params::default() }, 1, true).expect("host");
    let hog_dom = host.add_domain(1);
    let rt_dom = host.add_domain(2);
    let allowed = DomainParams { weight: 256, cap: 0, rt_allowed: true, rt_budget_pct, rt_rate_per_s: 100_000 };
    host.set_domain_params(rt_dom, &allowed).expect("RT allowed");
    let (hog, _) = host.add_unit(hog_dom, 0, true, 0).expect("unit");
    let (rt_unit, _) = host.add_unit(rt_dom, 0, true, 0).expect("unit");
    let timing = Timing { ipi_delay_ns: 0, timer_slop_ns: 0 };
    let mut driver = Driver {
        xen: Framework::new(host, 1, timing, None),
        window: Window::default(),
        now: 0,
        ids: HashMap::from([(hog, (1, 0)), (rt_unit, (2, 0))]),
        blocked: HashMap::from([(hog, false), (rt_unit, false)]),
        current: None,
        rt_unit,
        work_left: WORK,
        work_since: None,
        work_generation: 0,
    };
    driver.stamp();
    driver.run();

    let mut trace = TraceWriter::new();
    let bytes = std::mem::take(&mut driver.window.bytes);
    trace.window(0, |w| {
        w.raw(&bytes);
    });
    let analysis = analyze(&trace.bytes[..], false, |_| {});
    assert_eq!(analysis.problems.total, 0);
    assert!(analysis.model.anomalies.is_empty(), "{:?}", analysis.model.anomalies);
    (driver, analysis, [hog, rt_unit])
}

/// Per unit: the monitor's per-priority times, runs, fires and boosts equal the core's.
fn assert_agreement(driver: &Driver, analysis: &rtcredit_monitor::Analysis, units: [UnitId; 2]) {
    for (unit, dom) in [(units[0], 1), (units[1], 2)] {
        let core = driver.host().unit(unit).expect("unit");
        let seen = &analysis.model.vcpus[&VcpuId { dom, vcpu: 0 }];
        for prio in [Prio::Rt, Prio::Boost, Prio::Under, Prio::Over] {
            assert_eq!(seen.running_at[prio as usize], core.prio_ns[prio as usize], "dom {dom} at {}", prio.name());
        }
        assert_eq!(seen.running_at[UNKNOWN_PRIO], 0, "dom {dom}: every run has a known priority");
        assert_eq!(seen.times_scheduled, core.runs, "dom {dom}: times scheduled");
        assert_eq!(seen.rt.fires, core.rt_fires, "dom {dom}: RT fires");
        assert_eq!(seen.rt.boosts, core.boosts, "dom {dom}: boosts");
    }
}

#[test]
fn per_priority_times_and_switches_equal_the_cores_counters() {
    let (driver, analysis, units) = run(100);
    assert_agreement(&driver, &analysis, units);
    let rt_seen = &analysis.model.vcpus[&VcpuId { dom: 2, vcpu: 0 }];
    assert!(rt_seen.rt.fires > 90, "the RT domain was served at RT: {:?}", rt_seen.rt);
    // Each deadline's first 0.5 ms of its 1 ms of work runs at RT (the RT quantum).
    assert!(rt_seen.running_at[Prio::Rt as usize] > 40 * MS);

    // And the report, in ns: an RT wake runs at once in the core's model of time.
    let report = Report::build(&analysis, Some(Clock::given(1_000_000_000)));
    let row = report.rows.iter().find(|r| r.dom == 2 && r.vcpu == Some(0)).expect("row");
    assert_eq!(row.wake_latency.max, Some(0));
}

#[test]
fn agreement_holds_when_the_rt_budget_runs_out() {
    // 4% of a CPU per 1 s window is 40 ms, 80 quanta of 0.5 ms: the budget runs out
    // before the run's ~98 deadlines are served.
    let (driver, analysis, units) = run(4);
    let rt_seen = &analysis.model.vcpus[&VcpuId { dom: 2, vcpu: 0 }];
    assert!(rt_seen.rt.degrades + rt_seen.rt.demote_reasons.get(&3).copied().unwrap_or(0) > 0, "{:?}", rt_seen.rt);
    assert_agreement(&driver, &analysis, units);
}
