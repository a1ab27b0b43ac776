//! A real trace: `tests/fixtures/rtcredit-smoke-dom0.trace`, recorded by Debian's
//! `xentrace` in dom0 of our Xen (`sched=rtcredit`) under QEMU, during
//! `hypervisor/xen/smoke.sh --sched rtcredit --trace` (how, exactly:
//! `tests/fixtures/README.md`). dom0 has two VCPUs, each running a busy loop, and a
//! `SCHEDOP_rtsleep` loop asking for RT every 10 ms; there is no other domain.
//!
//! What is asserted is what holds for this file whatever the reader's internals:
//! every byte is read, only dom0's two VCPUs appear, both run for the whole trace
//! (Xen never switches them: no runstate change, only continue-running records), RT is
//! granted and fires, and the TSC rate estimated from the RT fires agrees with the
//! rate Xen detected at boot (2100.000 MHz).

use std::path::Path;
use std::process::Command;

use rtcredit_monitor::clock::ClockSource;
use rtcredit_monitor::format::Runstate;
use rtcredit_monitor::model::VcpuId;
use rtcredit_monitor::{analyze, Analysis, Clock, Report};

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/rtcredit-smoke-dom0.trace");
/// Xen's "Detected 2100.000 MHz processor." in the boot log of the capture.
const XEN_HZ: u64 = 2_100_000_000;

fn read() -> (Vec<u8>, Analysis) {
    let bytes = std::fs::read(FIXTURE).expect("the fixture is in the repository");
    let analysis = analyze(&bytes[..], false, |_| {});
    (bytes, analysis)
}

#[test]
fn every_byte_is_read() {
    let (bytes, analysis) = read();
    let stats = analysis.stats;
    assert_eq!(stats.bytes, bytes.len() as u64);
    assert_eq!(stats.errors, 0);
    assert_eq!(stats.skipped_bytes, 0);
    assert_eq!(analysis.problems.total, 0, "{:?}", analysis.problems.kept);
    assert!(analysis.model.anomalies.is_empty(), "ids not understood: {:?}", analysis.model.anomalies);
    // The numbers of this file.
    assert_eq!(stats.records, 609);
    assert_eq!(stats.windows, 36);
    assert_eq!(analysis.model.counts.out_of_order, 0);
    assert_eq!(analysis.model.counts.without_time, 0);
    assert_eq!(analysis.model.cpus.iter().copied().collect::<Vec<_>>(), [0, 1]);
}

#[test]
fn the_lost_records_are_from_before_the_capture() {
    // Xen traces from boot (tbuf_size=64) with nobody reading until xentrace starts:
    // each CPU's first record says how many were lost before it.
    let (_, analysis) = read();
    let model = &analysis.model;
    let first = model.first_tsc.expect("timestamps");
    assert_eq!(model.lost.len(), 2);
    for gap in &model.lost {
        assert!(gap.count > 1_000_000, "{gap:?}");
        assert!(gap.from_tsc < first, "lost before the trace's first record: {gap:?}");
    }
    let cpus: Vec<u32> = model.lost.iter().map(|g| g.cpu).collect();
    assert!(cpus.contains(&0) && cpus.contains(&1));
}

#[test]
fn dom0s_two_vcpus_run_the_whole_trace() {
    let (_, analysis) = read();
    let model = &analysis.model;
    let ids: Vec<VcpuId> = model.vcpus.keys().copied().collect();
    assert_eq!(ids, [VcpuId { dom: 0, vcpu: 0 }, VcpuId { dom: 0, vcpu: 1 }]);
    assert_eq!(model.counts.runstate_changes, 0, "busy loops: Xen never switches them");
    assert!(model.counts.other_sched_events > 0, "continue-running and switch-info records");
    let duration = model.duration();
    assert!(duration > XEN_HZ, "more than a second of trace");
    for (id, v) in &model.vcpus {
        assert_eq!(v.state, Some(Runstate::Running), "{id:?}");
        assert_eq!(v.time_in_state[Runstate::Running as usize], duration, "{id:?}");
        assert_eq!(v.time_in_state[Runstate::Runnable as usize], 0, "{id:?}");
        assert_eq!(v.time_in_state[Runstate::Blocked as usize], 0, "{id:?}");
        assert_eq!(v.running_at.iter().sum::<u64>(), duration, "{id:?}: priorities cover the running time");
        assert_eq!(v.times_scheduled, 0, "{id:?}");
        assert!(v.wake_latencies.is_empty(), "{id:?}");
        assert!(v.rt.prio_changes > 0, "{id:?}: credit moves it between UNDER and OVER");
    }
}

#[test]
fn rt_is_granted_fires_and_gets_its_budget() {
    let (_, analysis) = read();
    let report = Report::build(&analysis, Some(Clock::given(XEN_HZ)));
    assert_eq!(report.time_unit, "ns");
    let dom0 = report.rows.iter().find(|r| r.dom == 0 && r.vcpu.is_none()).expect("dom0's total");
    assert_eq!(dom0.rt.grants, 35);
    assert_eq!(dom0.rt.fires, 30);
    assert_eq!(dom0.rt.demotions, 30, "each RT run ends at a tick");
    assert_eq!(dom0.rt.demote_reasons.get(&0), Some(&30));
    assert!(dom0.rt.fires <= dom0.rt.grants);
    assert_eq!(dom0.rt.denies, 0);
    assert!(dom0.rt.degrades > 0, "most requests come when the RT budget is spent");
    // dom0's RT budget is 10% of a CPU: its time at RT is about that.
    let rt_share = dom0.time_at.rt as f64 / report.duration as f64;
    assert!((0.05..0.15).contains(&rt_share), "time at RT {} of {} ns", dom0.time_at.rt, report.duration);
    assert!((1.99..=2.0).contains(&dom0.cpu_share), "two busy VCPUs: {}", dom0.cpu_share);
    // Switch-ins at a priority need a context switch; there is none.
    assert_eq!(dom0.switch_ins_at.rt + dom0.switch_ins_at.under + dom0.switch_ins_at.over, 0);
    for row in report.rows.iter().filter(|r| r.vcpu.is_some()) {
        let t = row.time_at;
        // Each slot is converted to ns on its own: 1 ns of rounding each.
        let sum = t.rt + t.boost + t.under + t.over + t.unknown;
        assert!(sum.abs_diff(row.cpu_time) <= 5, "vcpu {:?}: {sum} vs {}", row.vcpu, row.cpu_time);
        assert!(t.unknown < row.cpu_time / 4, "priority known for most of the run: {t:?}");
    }
}

#[test]
fn the_tsc_rate_from_rt_fires_agrees_with_xen() {
    let (_, analysis) = read();
    let report = Report::build(&analysis, None);
    assert!(matches!(report.clock.source, ClockSource::RtFires(30)), "{:?}", report.clock);
    let hz = report.clock.hz.expect("estimated") as f64;
    let off = (hz - XEN_HZ as f64).abs() / XEN_HZ as f64;
    assert!(off < 1e-3, "estimated {hz} Hz, Xen detected {XEN_HZ}");
}

#[test]
fn the_command_reports_it() {
    let out = Command::new(env!("CARGO_BIN_EXE_rtcredit-monitor"))
        .args(["--cpu-hz", "2100MHz", "report", "--json", FIXTURE])
        .output()
        .expect("the binary runs");
    assert!(out.status.success());
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    assert_eq!(value["problems"]["total"], 0);
    assert_eq!(value["read"]["bytes"], std::fs::metadata(Path::new(FIXTURE)).expect("fixture").len());
    let notes = String::from_utf8_lossy(&out.stderr);
    assert!(notes.contains("lost"), "the lost-records gaps are reported: {notes}");
}
