//! The model on a hand-built trace whose answers are known.
//!
//! Two CPUs, TSC at 1 GHz (so cycles are ns), times in ms below:
//!
//! ```text
//! dom 1 VCPU 0 (CPU 0): runs from 0 at UNDER; preempted at 10.5; runs again from 13
//!                       at OVER, BOOST from 15; trace ends at 20.
//! dom 2 VCPU 0:         blocked from the start; RT granted at 1 (deadline 10 ms of
//!                       system time); woken on CPU 1 at 10 (fire 1 us late); runs on
//!                       CPU 0 from 10.5 at RT, demoted to UNDER at 12, blocks at 13.
//! ```
//! CPU 1's window is written after CPU 0's although its wake at 10 comes before CPU
//! 0's switch at 10.5: the merge must put it first.

mod common;

use common::TraceWriter;
use rtcredit::prio::Prio;
use rtcredit::trace::{PRIO_CHANGE, RT_DEMOTE, RT_DENY, RT_FIRE, RT_GRANT, SWITCH_IN};
use rtcredit_monitor::format::Runstate::{Blocked, Runnable, Running};
use rtcredit_monitor::model::{Segment, VcpuId, UNKNOWN_PRIO};
use rtcredit_monitor::{analyze, Clock, Report};

const MS: u64 = 1_000_000;
const US: u64 = 1_000;

fn scenario() -> Vec<u8> {
    let (under, over, boost, rt) = (Prio::Under as u32, Prio::Over as u32, Prio::Boost as u32, Prio::Rt as u32);
    let mut t = TraceWriter::new();
    t.window(0, |w| {
        w.ours(0, SWITCH_IN, &[1, 0, under, 0]);
        w.runstate(0, 1, 0, Runnable, Running);
        w.ours(MS, RT_GRANT, &[2, 0, (10 * MS) as u32, 0]);
        w.ours(10 * MS + 500 * US, SWITCH_IN, &[2, 0, rt, 0]);
        w.runstate(10 * MS + 500 * US, 1, 0, Running, Runnable);
        w.runstate(10 * MS + 500 * US, 2, 0, Runnable, Running);
        w.ours(12 * MS, RT_DEMOTE, &[2, 0, 0]);
        w.ours(12 * MS, PRIO_CHANGE, &[2, 0, rt, under]);
        w.runstate(13 * MS, 2, 0, Running, Blocked);
        w.ours(13 * MS, SWITCH_IN, &[1, 0, over, 0]);
        w.runstate(13 * MS, 1, 0, Runnable, Running);
        w.ours(15 * MS, PRIO_CHANGE, &[1, 0, over, boost]);
    });
    t.window(1, |w| {
        w.rec(0x0008_1002, Some(0), &[]); // an HVM record: counted, ignored
        w.ours(10 * MS, RT_FIRE, &[2, 0, 0, US as u32]);
        w.runstate(10 * MS, 2, 0, Blocked, Runnable);
        w.rec(0x0008_1002, Some(20 * MS), &[]);
    });
    t.bytes
}

#[test]
fn intervals_and_per_priority_times_match_the_hand_computed_answers() {
    let analysis = analyze(&scenario()[..], true, |_| {});
    assert_eq!(analysis.problems.total, 0);
    let model = &analysis.model;
    assert_eq!(model.duration(), 20 * MS);
    assert_eq!(model.counts.out_of_order, 0, "the merge ordered the CPUs");

    let d1 = &model.vcpus[&VcpuId { dom: 1, vcpu: 0 }];
    assert_eq!(d1.running_at[Prio::Under as usize], 10 * MS + 500 * US);
    assert_eq!(d1.running_at[Prio::Over as usize], 2 * MS);
    assert_eq!(d1.running_at[Prio::Boost as usize], 5 * MS);
    assert_eq!(d1.running_at[UNKNOWN_PRIO], 0);
    assert_eq!(d1.time_in_state[Running as usize], 17 * MS + 500 * US);
    assert_eq!(d1.time_in_state[Runnable as usize], 2 * MS + 500 * US);
    assert_eq!(d1.times_scheduled, 2);
    assert!(d1.wake_latencies.is_empty(), "a preempted VCPU waiting again is not a wake");

    let d2 = &model.vcpus[&VcpuId { dom: 2, vcpu: 0 }];
    assert_eq!(d2.time_in_state[Blocked as usize], 10 * MS + 7 * MS);
    assert_eq!(d2.time_in_state[Runnable as usize], 500 * US);
    assert_eq!(d2.running_at[Prio::Rt as usize], 1500 * US);
    assert_eq!(d2.running_at[Prio::Under as usize], MS);
    assert_eq!(d2.times_scheduled, 1);
    assert_eq!(d2.wake_latencies, vec![500 * US]);
    assert_eq!((d2.rt.grants, d2.rt.fires, d2.rt.demote_reasons[&0], d2.rt.prio_changes), (1, 1, 1, 1));
    assert_eq!(d2.rt.max_fire_lateness_ns, US);
    assert_eq!(model.fire_points, vec![(10 * MS, 10 * MS + US)]);

    // The timeline: CPU 0's stretches in order.
    let mut cpu0: Vec<Segment> = model.segments.iter().copied().filter(|s| s.cpu == 0).collect();
    cpu0.sort_by_key(|s| s.start);
    let summary: Vec<(u32, u64, u64, usize)> = cpu0.iter().map(|s| (s.vcpu.dom, s.start, s.end, s.slot)).collect();
    assert_eq!(
        summary,
        vec![
            (1, 0, 10 * MS + 500 * US, Prio::Under as usize),
            (2, 10 * MS + 500 * US, 12 * MS, Prio::Rt as usize),
            (2, 12 * MS, 13 * MS, Prio::Under as usize),
            (1, 13 * MS, 15 * MS, Prio::Over as usize),
            (1, 15 * MS, 20 * MS, Prio::Boost as usize),
        ]
    );
}

#[test]
fn report_rows_give_shares_latency_and_counters_in_ns() {
    let analysis = analyze(&scenario()[..], false, |_| {});
    let report = Report::build(&analysis, Some(Clock::given(1_000_000_000)));
    assert_eq!(report.time_unit, "ns");
    let row = |dom: u32, vcpu: Option<u32>| report.rows.iter().find(|r| r.dom == dom && r.vcpu == vcpu).expect("row");
    let d1 = row(1, Some(0));
    assert_eq!(d1.cpu_time, 17_500_000);
    assert!((d1.cpu_share - 0.875).abs() < 1e-9);
    assert!((d1.share_at.under - 10.5 / 17.5).abs() < 1e-9);
    assert!((d1.share_at.boost - 5.0 / 17.5).abs() < 1e-9);
    let d2 = row(2, None);
    assert_eq!(d2.time_at.rt, 1_500_000);
    assert_eq!(d2.wake_latency.count, 1);
    assert_eq!(
        (d2.wake_latency.p50, d2.wake_latency.p99, d2.wake_latency.max),
        (Some(500_000), Some(500_000), Some(500_000))
    );
    assert_eq!((d2.rt.grants, d2.rt.fires), (1, 1));
    assert_eq!((d2.switch_ins_at.rt, d2.switch_ins_at.under), (1, 0));
    assert_eq!((d2.runnable_time, d2.blocked_time, d2.offline_time), (500_000, 17_000_000, 0));
    let d1_switches = row(1, Some(0)).switch_ins_at;
    assert_eq!((d1_switches.under, d1_switches.over, d1_switches.boost), (1, 1, 0));

    let table = report.to_table(false);
    assert!(table.contains("CPU(ms)"), "{table}");
    assert!(table.contains("17.500"), "{table}");
    let csv = report.to_csv(false);
    assert!(csv.lines().next().is_some_and(|h| h.starts_with("dom,vcpu,time_unit,cpu_time")));
    assert!(csv.contains("\n1,0,ns,17500000,0.875000,"), "{csv}");
    let json: serde_json::Value = serde_json::from_str(&report.to_json().expect("json")).expect("valid JSON");
    assert_eq!(json["time_unit"], "ns");
    assert_eq!(json["rows"][0]["cpu_time"], 17_500_000);
}

#[test]
fn without_a_frequency_times_stay_in_cycles_and_the_report_says_so() {
    let analysis = analyze(&scenario()[..], false, |_| {});
    // One RT fire is not enough for an estimate.
    let report = Report::build(&analysis, None);
    assert_eq!(report.time_unit, "tsc_cycles");
    assert!(report.clock_note.contains("unknown"));
    assert!(report.to_table(false).contains("TSC cycles"));
}

#[test]
fn the_frequency_is_estimated_from_rt_fires_when_there_are_enough() {
    // 3 GHz TSC; fires every 10 ms for 200 ms, each 2 us late.
    let mut t = TraceWriter::new();
    t.window(0, |w| {
        for i in 1..=20u64 {
            let deadline_ns = i * 10 * MS;
            w.ours(3 * (deadline_ns - 5 * MS), RT_GRANT, &[1, 0, deadline_ns as u32, (deadline_ns >> 32) as u32]);
            w.ours(3 * (deadline_ns + 2 * US), RT_FIRE, &[1, 0, 0, (2 * US) as u32]);
        }
    });
    let analysis = analyze(&t.bytes[..], false, |_| {});
    let report = Report::build(&analysis, None);
    assert_eq!(report.clock.hz, Some(3_000_000_000));
    assert!(report.clock_note.contains("estimated from 20 RT fires"), "{}", report.clock_note);
}

#[test]
fn a_runstate_that_disagrees_is_counted_and_its_stretch_not_charged() {
    let mut t = TraceWriter::new();
    t.window(0, |w| {
        w.runstate(0, 3, 1, Runnable, Running);
        // Records lost: the VCPU blocked and woke without us seeing it.
        w.lost(5 * MS, 4, 2 * MS);
        w.runstate(6 * MS, 3, 1, Blocked, Runnable);
        w.runstate(7 * MS, 3, 1, Runnable, Running);
        w.runstate(9 * MS, 3, 1, Running, Blocked);
    });
    let analysis = analyze(&t.bytes[..], false, |_| {});
    let v = &analysis.model.vcpus[&VcpuId { dom: 3, vcpu: 1 }];
    assert_eq!(v.state_mismatches, 1);
    assert_eq!(v.time_in_state[Running as usize], 2 * MS, "only 7..9 is known running");
    assert_eq!(v.running_at[UNKNOWN_PRIO], 2 * MS, "no SWITCH_IN: priority unknown");
    assert_eq!(v.wake_latencies, vec![MS]);
    let table = Report::build(&analysis, None).to_table(false);
    assert!(table.contains("disagreed"), "{table}");
    assert!(table.contains("lost 4"), "{table}");
}

#[test]
fn rt_dropped_without_a_priority_change_is_not_charged_as_rt() {
    // The core drops RT when the domain's RT budget is spent with RT_DEMOTE (reason 3)
    // and no PRIO_CHANGE; the unit may run on. Its time from there is "unknown".
    let rt = Prio::Rt as u32;
    let mut t = TraceWriter::new();
    t.window(0, |w| {
        w.ours(0, SWITCH_IN, &[4, 0, rt, 0]);
        w.runstate(0, 4, 0, Runnable, Running);
        w.ours(2 * MS, RT_DEMOTE, &[4, 0, 3]);
        w.runstate(5 * MS, 4, 0, Running, Blocked);
    });
    let analysis = analyze(&t.bytes[..], false, |_| {});
    let v = &analysis.model.vcpus[&VcpuId { dom: 4, vcpu: 0 }];
    assert_eq!(v.running_at[Prio::Rt as usize], 2 * MS);
    assert_eq!(v.running_at[UNKNOWN_PRIO], 3 * MS);
    assert_eq!(v.rt.demote_reasons.get(&3), Some(&1));
}

#[test]
fn a_rate_limited_refusal_record_counts_the_refusals_it_stands_for() {
    // The core traces at most one RT_DENY per unit per 100 ms; word 3 is the number of
    // refusals not traced since the previous record. A 3-word record (older cores) is one.
    let mut t = TraceWriter::new();
    t.window(0, |w| {
        w.ours(0, RT_DENY, &[5, 0, 3]);
        w.ours(MS, RT_DENY, &[5, 0, 3, 0]);
        w.ours(101 * MS, RT_DENY, &[5, 0, 3, 41]);
    });
    let analysis = analyze(&t.bytes[..], false, |_| {});
    let v = &analysis.model.vcpus[&VcpuId { dom: 5, vcpu: 0 }];
    assert_eq!(v.rt.denies, 44);
    assert_eq!(v.rt.deny_reasons.get(&3), Some(&44));
}

/// The longest stretch running: dom 1 ran 0-10.5 and 13-20 (closed at the trace's end),
/// dom 2 10.5-13; the report shows it in ms with the TSC rate given.
#[test]
fn the_longest_run_is_each_vcpus_longest_stretch_without_a_stop() {
    let analysis = analyze(&scenario()[..], true, |_| {});
    let longest = |dom| analysis.model.vcpus[&VcpuId { dom, vcpu: 0 }].longest_run;
    assert_eq!((longest(1), longest(2)), (10 * MS + 500 * US, 2 * MS + 500 * US));
    let report = Report::build(&analysis, Some(Clock::given(1_000_000_000)));
    let row = report.rows.iter().find(|r| r.dom == 1 && r.vcpu == Some(0)).expect("row");
    assert_eq!(row.longest_run, 10 * MS + 500 * US);
    let table = report.to_table(false);
    assert!(table.contains("LONGEST(ms)") && table.contains("10.500"), "{table}");
}
