//! A VCPU that never stops running during the trace has no runstate change at all:
//! Xen only writes `TRC_SCHED_CONTINUE_RUNNING` (0x00021002, data = domain << 16 |
//! VCPU) each time its scheduler lets it run on. The first real trace of our Xen
//! (dom0 with a busy loop on each VCPU, `tests/fixtures/rtcredit-smoke-dom0.trace`)
//! is made of nothing else; the model used to report 0 CPU time for both VCPUs.
//!
//! TSC at 1 GHz below (cycles are ns).

mod common;

use common::TraceWriter;
use rtcredit::prio::Prio;
use rtcredit::trace::{PRIO_CHANGE, RT_DEMOTE, RT_FIRE};
use rtcredit_monitor::format::Runstate::{Blocked, Running};
use rtcredit_monitor::format::TRC_SCHED_CONTINUE_RUNNING;
use rtcredit_monitor::model::{VcpuId, UNKNOWN_PRIO};
use rtcredit_monitor::{analyze, Clock, Report};

const MS: u64 = 1_000_000;

fn continue_running(w: &mut common::Window, tsc: u64, dom: u32, vcpu: u32) {
    w.rec(TRC_SCHED_CONTINUE_RUNNING, Some(tsc), &[(dom << 16) | vcpu]);
}

#[test]
fn a_vcpu_that_only_continues_runs_from_the_trace_start() {
    let (under, over, rt) = (Prio::Under as u32, Prio::Over as u32, Prio::Rt as u32);
    let mut t = TraceWriter::new();
    // CPU 0 (trace starts at 1 ms): dom 0 VCPU 0 continues at 4 ms, RT from 10 to 12,
    // OVER from 12; the trace ends at 20 ms.
    t.window(0, |w| {
        w.ours(MS, rtcredit::trace::ACCOUNT, &[1, 256, 0, 0, 0]);
        continue_running(w, 4 * MS, 0, 0);
        w.ours(10 * MS, RT_FIRE, &[0, 0, 2, 1000]);
        w.ours(10 * MS, PRIO_CHANGE, &[0, 0, under, rt]);
        w.ours(12 * MS, RT_DEMOTE, &[0, 0, 0]);
        w.ours(12 * MS, PRIO_CHANGE, &[0, 0, rt, over]);
        continue_running(w, 20 * MS, 0, 0);
    });
    // CPU 1: dom 0 VCPU 1 continues at 5 and 15 ms, then blocks at 18 ms.
    t.window(1, |w| {
        continue_running(w, 5 * MS, 0, 1);
        continue_running(w, 15 * MS, 0, 1);
        w.runstate(18 * MS, 0, 1, Running, Blocked);
    });
    let analysis = analyze(&t.bytes[..], false, |_| {});
    assert_eq!(analysis.problems.total, 0);
    let model = &analysis.model;
    assert_eq!(model.counts.runstate_changes, 1);

    let v0 = &model.vcpus[&VcpuId { dom: 0, vcpu: 0 }];
    assert_eq!(v0.state, Some(Running));
    assert_eq!(v0.time_in_state[Running as usize], 19 * MS, "running from the trace's start (1 ms) to its end");
    assert_eq!(v0.running_at[UNKNOWN_PRIO], 9 * MS, "1..10 ms: no priority known yet");
    assert_eq!(v0.running_at[Prio::Rt as usize], 2 * MS);
    assert_eq!(v0.running_at[Prio::Over as usize], 8 * MS);
    assert_eq!(v0.times_scheduled, 0, "never switched in during the trace");

    let v1 = &model.vcpus[&VcpuId { dom: 0, vcpu: 1 }];
    assert_eq!(v1.state_mismatches, 0, "the runstate change's old state agrees");
    assert_eq!(v1.time_in_state[Running as usize], 17 * MS);
    assert_eq!(v1.time_in_state[Blocked as usize], 2 * MS);
    assert_eq!(v1.running_at[UNKNOWN_PRIO], 17 * MS);

    let report = Report::build(&analysis, Some(Clock::given(1_000_000_000)));
    let total = report.rows.iter().find(|r| r.dom == 0 && r.vcpu.is_none()).expect("dom 0's total");
    assert_eq!(total.cpu_time, 36 * MS);
    assert_eq!(total.time_at.rt, 2 * MS);
}

#[test]
fn continue_running_does_not_change_a_known_state() {
    // Known blocked, then (records lost) a continue-running: nothing is invented.
    let mut t = TraceWriter::new();
    t.window(0, |w| {
        w.runstate(MS, 0, 0, Running, Blocked);
        continue_running(w, 2 * MS, 0, 0);
        w.runstate(3 * MS, 0, 0, Blocked, Running);
        continue_running(w, 4 * MS, 0, 0);
        w.runstate(5 * MS, 0, 0, Running, Blocked);
    });
    let analysis = analyze(&t.bytes[..], false, |_| {});
    let v = &analysis.model.vcpus[&VcpuId { dom: 0, vcpu: 0 }];
    assert_eq!(v.time_in_state[Blocked as usize], 2 * MS);
    assert_eq!(v.time_in_state[Running as usize], 2 * MS);
    assert_eq!(v.times_scheduled, 1);
    assert_eq!(v.state_mismatches, 0);
}
