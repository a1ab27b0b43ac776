//! Deadline-to-run latency on a hand-built trace whose answers are known.
//!
//! One CPU, TSC at 1 GHz (cycles are ns). Dom 1 is a hog, dom 2 the RT task; its
//! three periods show the three states an RT fire can find a VCPU in:
//!
//! ```text
//! period 1: dom 2 blocked; fire at 10 ms, 5 us late; wakes; runs at 10.2 ms
//!           -> 205 us (the wake-to-run figure sees 200 us of it)
//! period 2: dom 2 runnable (preempted by the hog at 19 ms); fire at 20 ms, 3 us
//!           late; runs at 20.5 ms -> 503 us (no wake: wake-to-run misses it)
//! period 3: dom 2 running when its fire comes at 30 ms, 2 us late -> 2 us
//! period 4: a fire with a saturated lateness: counted as unmatched, not measured
//! ```

mod common;

use common::TraceWriter;
use rtcredit::trace::{RT_FIRE, RT_GRANT};
use rtcredit_monitor::format::Runstate::{Blocked, Runnable, Running};
use rtcredit_monitor::model::VcpuId;
use rtcredit_monitor::report::deadline_latencies_ns;
use rtcredit_monitor::{analyze, Clock, Report};

const MS: u64 = 1_000_000;
const US: u64 = 1_000;

fn scenario() -> Vec<u8> {
    let mut t = TraceWriter::new();
    t.window(0, |w| {
        w.runstate(0, 1, 0, Runnable, Running);
        w.runstate(0, 2, 0, Runnable, Blocked);
        // Period 1: blocked at the fire.
        w.ours(MS, RT_GRANT, &[2, 0, (10 * MS) as u32, 0]);
        w.ours(10 * MS + 5 * US, RT_FIRE, &[2, 0, 0, (5 * US) as u32]);
        w.runstate(10 * MS + 5 * US, 2, 0, Blocked, Runnable);
        w.runstate(10 * MS + 205 * US, 1, 0, Running, Runnable);
        w.runstate(10 * MS + 205 * US, 2, 0, Runnable, Running);
        // Period 2: it runs on, is preempted at 19 ms and waits, runnable.
        w.ours(15 * MS, RT_GRANT, &[2, 0, (20 * MS) as u32, 0]);
        w.runstate(19 * MS, 2, 0, Running, Runnable);
        w.runstate(19 * MS, 1, 0, Runnable, Running);
        w.ours(20 * MS + 3 * US, RT_FIRE, &[2, 0, 1, (3 * US) as u32]);
        w.runstate(20 * MS + 503 * US, 1, 0, Running, Runnable);
        w.runstate(20 * MS + 503 * US, 2, 0, Runnable, Running);
        // Period 3: running at the fire.
        w.ours(25 * MS, RT_GRANT, &[2, 0, (30 * MS) as u32, 0]);
        w.ours(30 * MS + 2 * US, RT_FIRE, &[2, 0, 2, (2 * US) as u32]);
        // Period 4: the timer's lateness saturated.
        w.ours(35 * MS, RT_GRANT, &[2, 0, (40 * MS) as u32, 0]);
        w.ours(45 * MS, RT_FIRE, &[2, 0, 2, u32::MAX]);
        w.rec(0x0008_1002, Some(50 * MS), &[]);
    });
    t.bytes
}

#[test]
fn every_fire_state_gives_its_deadline_to_run_latency() {
    let analysis = analyze(&scenario()[..], false, |_| {});
    assert_eq!(analysis.problems.total, 0);
    let v = &analysis.model.vcpus[&VcpuId { dom: 2, vcpu: 0 }];
    let clock = Clock::given(1_000_000_000);
    assert_eq!(deadline_latencies_ns(&v.deadline_runs, &clock), Some(vec![2 * US, 205 * US, 503 * US]));
    assert_eq!(v.deadline_unmatched, 1, "the saturated fire is not measured");
    assert_eq!(v.wake_latencies, vec![200 * US], "wake-to-run sees only the blocked period");
    assert_eq!(deadline_latencies_ns(&v.deadline_runs, &Clock::unknown()), None, "no rate, no ns");

    let report = Report::build(&analysis, Some(clock));
    let row = report.rows.iter().find(|r| r.dom == 2 && r.vcpu == Some(0)).expect("row");
    assert_eq!(row.deadline_latency.count, 3);
    assert_eq!((row.deadline_latency.p50, row.deadline_latency.max), (Some(205 * US), Some(503 * US)));
    assert_eq!(row.deadline_unmatched, 1);
    let table = report.to_table(false);
    assert!(table.contains("DL-P99(us)"), "{table}");
    assert!(table.contains("503.0"), "{table}");
}

#[test]
fn a_fire_overtaken_before_the_vcpu_ran_is_unmatched() {
    let mut t = TraceWriter::new();
    t.window(0, |w| {
        w.runstate(0, 1, 0, Runnable, Running);
        w.runstate(0, 2, 0, Runnable, Blocked);
        w.ours(10 * MS, RT_FIRE, &[2, 0, 0, US as u32]);
        w.ours(20 * MS, RT_FIRE, &[2, 0, 0, US as u32]);
        w.runstate(20 * MS, 2, 0, Blocked, Runnable);
        w.runstate(21 * MS, 1, 0, Running, Runnable);
        w.runstate(21 * MS, 2, 0, Runnable, Running);
    });
    let analysis = analyze(&t.bytes[..], false, |_| {});
    let v = &analysis.model.vcpus[&VcpuId { dom: 2, vcpu: 0 }];
    assert_eq!(v.deadline_unmatched, 1);
    let ns = deadline_latencies_ns(&v.deadline_runs, &Clock::given(1_000_000_000));
    assert_eq!(ns, Some(vec![MS + US]), "the second fire is measured to the run at 21 ms");
}
