//! The monitor agrees with the core's own counters.
//!
//! Until a trace from our Xen exists, this is the closest thing: the real `rtcredit`
//! core (its single-threaded `Host`) is driven the way Xen's shim would drive it, its
//! trace records are written in xentrace's format with the time of the call, and the
//! runstate changes Xen's generic scheduler would log around each switch are added.
//! The monitor's per-priority CPU time, switch counts and RT fires must then equal what
//! the core counted itself.
//!
//! One CPU, TSC = ns. Domain 1 burns CPU; domain 2 runs 1 ms every 10 ms, asking for
//! an RT wake-up at the next period (3 ms past a tick) each time it blocks. Ticks, accounting and slice
//! ends follow the core's decisions. After 1 s both block so that nothing is running
//! at the end.

mod common;

use std::collections::HashMap;

use common::{TraceWriter, Window};
use rtcredit::host::{Host, UnitId};
use rtcredit::{DomainParams, Params, Prio, SchedRtsleep, TickCmd};
use rtcredit_monitor::format::Runstate::{self, Blocked, Runnable, Running};
use rtcredit_monitor::model::{VcpuId, UNKNOWN_PRIO};
use rtcredit_monitor::{analyze, Clock, Report};

const MS: u64 = 1_000_000;
const END: u64 = 1_000 * MS;
const WORK: u64 = MS;
const PERIOD: u64 = 10 * MS;

struct Driver {
    host: Host,
    window: Window,
    now: u64,
    ids: HashMap<UnitId, (u32, u32)>,
    blocked: HashMap<UnitId, bool>,
    current: Option<UnitId>,
    tick_due: Option<u64>,
    account_due: u64,
    slice_end: Option<u64>,
    rt_unit: UnitId,
    work_left: u64,
    work_since: Option<u64>,
    rt_timer: Option<u64>,
}

impl Driver {
    fn stamp(&mut self) {
        for record in self.host.take_trace() {
            self.window.ours(self.now, record.event, &record.data[..record.len as usize]);
        }
    }

    fn runstate(&mut self, unit: UnitId, old: Runstate, new: Runstate) {
        let (dom, vcpu) = self.ids[&unit];
        self.window.runstate(self.now, dom, vcpu, old, new);
    }

    fn resched(&mut self) {
        let d = self.host.schedule(0, self.now, false).expect("schedule");
        self.stamp();
        match d.tick {
            TickCmd::Start => self.tick_due = Some(d.tick_at_ns),
            TickCmd::Stop => self.tick_due = None,
            TickCmd::Keep => {}
        }
        if d.switched {
            if let Some(prev) = self.current {
                let new = if self.blocked[&prev] { Blocked } else { Runnable };
                self.runstate(prev, Running, new);
                if prev == self.rt_unit {
                    if let Some(since) = self.work_since.take() {
                        self.work_left = self.work_left.saturating_sub(self.now - since);
                    }
                }
            }
            if let Some(next) = d.next {
                self.runstate(next, Runnable, Running);
                if next == self.rt_unit {
                    self.work_since = Some(self.now);
                }
            }
            self.current = d.next;
        }
        self.slice_end = match d.next {
            Some(_) if d.run_ns != u64::MAX => Some(self.now + d.run_ns),
            _ => None,
        };
    }

    fn work_done_at(&self) -> Option<u64> {
        self.work_since.map(|since| since + self.work_left)
    }

    /// The RT domain finished its work: ask for RT at the next period and block.
    fn rt_unit_blocks(&mut self) {
        let unit = self.rt_unit;
        // Deadlines 3 ms past the 10 ms ticks, so that a tick does not end RT at once.
        let mut deadline_ns = (self.now / PERIOD) * PERIOD + 3 * MS;
        while deadline_ns < self.now + 5 * MS {
            deadline_ns += PERIOD;
        }
        let outcome = self.host.rtsleep(unit, &SchedRtsleep { deadline_ns, flags: 0, pad: 0 }, self.now);
        self.rt_timer = Some(match outcome {
            Ok(o) if o.arm_at_ns != 0 => o.arm_at_ns,
            _ => deadline_ns,
        });
        self.stamp();
        self.blocked.insert(unit, true);
        self.work_since = None;
        self.work_left = WORK;
        self.host.block(unit).expect("block");
        self.stamp();
        self.resched();
    }

    fn rt_timer_fires(&mut self) {
        let unit = self.rt_unit;
        let _ = self.host.rt_fire(unit, self.now);
        self.stamp();
        self.blocked.insert(unit, false);
        self.host.wake(unit, self.now).expect("wake");
        self.stamp();
        self.runstate(unit, Blocked, Runnable);
        self.resched();
    }

    fn run(&mut self) {
        loop {
            let candidates =
                [self.tick_due, Some(self.account_due), self.slice_end, self.work_done_at(), self.rt_timer, Some(END)];
            let next = candidates.into_iter().flatten().min().expect("END is always there");
            self.now = next;
            if next == END {
                break;
            }
            if self.work_done_at() == Some(next) {
                self.rt_unit_blocks();
            } else if self.rt_timer == Some(next) {
                self.rt_timer = None;
                self.rt_timer_fires();
            } else if self.tick_due == Some(next) {
                self.tick_due = self.host.tick(0, next).expect("tick");
                self.stamp();
                self.resched();
            } else if self.account_due == next {
                self.account_due = self.host.account(next).0;
                self.stamp();
                self.resched();
            } else {
                self.resched();
            }
        }
        // Everybody blocks; the CPU goes idle.
        let units: Vec<UnitId> = self.ids.keys().copied().collect();
        for unit in units {
            if !self.blocked[&unit] {
                self.blocked.insert(unit, true);
                self.host.sleep(unit).expect("sleep");
                self.stamp();
                if self.current != Some(unit) {
                    self.runstate(unit, Runnable, Blocked);
                }
            }
        }
        self.resched();
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
    let mut driver = Driver {
        host,
        window: Window::default(),
        now: 0,
        ids: HashMap::from([(hog, (1, 0)), (rt_unit, (2, 0))]),
        blocked: HashMap::from([(hog, false), (rt_unit, false)]),
        current: None,
        tick_due: None,
        account_due: 30 * MS,
        slice_end: None,
        rt_unit,
        work_left: WORK,
        work_since: None,
        rt_timer: None,
    };
    driver.stamp();
    driver.resched();
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
        let core = driver.host.unit(unit).expect("unit");
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
