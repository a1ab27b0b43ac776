//! A second opinion from the trace: the RT path's deadline-to-run latency, as Xen saw
//! it, beside the guest's own lateness figure of the same run.
//!
//! Each boot's extra traced run (`rtsleep` mode, see `tests/e2e/dom0/init.sh`) comes
//! with a xentrace capture of its loop. `rtcredit-monitor` rebuilds from it, for the
//! measuring domain's VCPU, the time from each RT deadline to the VCPU's next start of
//! running (`rtcredit_monitor::model`'s deadline-to-run latency), which needs the
//! deadlines that only rtcredit's `RT_GRANT` records carry: the check exists for
//! rtcredit boots only. The TSC rate comes from the RT fires themselves
//! (`rtcredit_monitor::clock`).
//!
//! The two figures measure different ends of one wake-up. The trace's ends when Xen
//! puts the VCPU on the pCPU; the guest's when its task returns from the sleep, after
//! the guest kernel has taken the event, run its timer and woken the task. So the
//! guest's figure is the larger, by the guest's own wake path, and the check is that
//! at p50 and at p99 the guest's figure minus the trace's is between
//! `-AGREE_SLACK_US` (the trace's and guest's clocks, and the guest's 1 us buckets) and
//! `AGREE_BOUND_US`. The capture covers only the first seconds of the run's loop
//! (`--trace-secs`), the guest's figure all of it.

use rtcredit_monitor::model::VcpuId;
use rtcredit_monitor::report::deadline_latencies_ns;
use rtcredit_monitor::{analyze, Clock};
use rtcredit_sim::stats::percentile;
use serde::Serialize;

use crate::results::RunResult;

/// Largest guest-minus-trace difference at p50 and p99 that counts as agreement, us:
/// the guest's wake path under QEMU at icount shift 2 (its floor with the hogs paused
/// is 0.13-0.2 ms, of which Xen's part is a few tens of us).
pub const AGREE_BOUND_US: f64 = 200.0;
/// How far the trace's figure may exceed the guest's and still agree, us.
pub const AGREE_SLACK_US: f64 = 5.0;

/// The comparison for one boot's traced run.
#[derive(Clone, Debug, Serialize)]
pub struct TraceCheck {
    pub boot: String,
    pub run: u32,
    /// Periods measured in the trace, and RT fires it could not measure.
    pub trace_periods: usize,
    pub trace_unmatched: u64,
    /// The TSC rate used (estimated from the RT fires).
    pub clock: String,
    /// Deadline-to-run from the trace, us: p50, p99, max.
    pub trace_us: [f64; 3],
    /// The guest's lateness of the same run, us: p50, p99, max.
    pub guest_us: [f64; 3],
    pub agree: bool,
    /// Why not, or what the figures are.
    pub note: String,
}

/// Compares the trace of a boot with its traced run; `None` when there is nothing to
/// compare (no trace, or no RT periods in it: a boot of another scheduler).
pub fn check(boot: &str, trace: &[u8], run: &RunResult) -> Option<TraceCheck> {
    let analysis = analyze(trace, false, |_| {});
    let model = &analysis.model;
    let vcpu = model.vcpus.get(&VcpuId { dom: run.domid, vcpu: 0 })?;
    if vcpu.deadline_runs.is_empty() {
        return None;
    }
    let clock = Clock::estimate(&model.fire_points).unwrap_or_else(Clock::unknown);
    let guest = &run.lateness_ns;
    let us = |ns: u64| ns as f64 / 1e3;
    let guest_us = [us(percentile(guest, 500)), us(percentile(guest, 990)), run.lateness_us.max];
    let Some(ns) = deadline_latencies_ns(&vcpu.deadline_runs, &clock) else {
        return Some(TraceCheck {
            boot: boot.into(),
            run: run.run,
            trace_periods: vcpu.deadline_runs.len(),
            trace_unmatched: vcpu.deadline_unmatched,
            clock: clock.to_string(),
            trace_us: [0.0; 3],
            guest_us,
            agree: false,
            note: "the TSC rate could not be estimated from the RT fires: no figure in ns".into(),
        });
    };
    let trace_us = [us(percentile(&ns, 500)), us(percentile(&ns, 990)), us(*ns.last().unwrap_or(&0))];
    let within = |i: usize| (-AGREE_SLACK_US..=AGREE_BOUND_US).contains(&(guest_us[i] - trace_us[i]));
    let agree = within(0) && within(1);
    let note = if agree {
        format!(
            "guest minus trace: p50 {:.0} us, p99 {:.0} us (the guest's own wake path), within -{AGREE_SLACK_US}..{AGREE_BOUND_US} us",
            guest_us[0] - trace_us[0],
            guest_us[1] - trace_us[1]
        )
    } else {
        format!(
            "guest minus trace: p50 {:.0} us, p99 {:.0} us, outside -{AGREE_SLACK_US}..{AGREE_BOUND_US} us: the guest's figure \
             holds a delay Xen's switch-in does not see (the guest kernel's own scheduling, or the periods after the \
             capture ended), or the trace lost records ({} gap(s))",
            guest_us[0] - trace_us[0],
            guest_us[1] - trace_us[1],
            model.lost.len()
        )
    };
    Some(TraceCheck {
        boot: boot.into(),
        run: run.run,
        trace_periods: ns.len(),
        trace_unmatched: vcpu.deadline_unmatched,
        clock: clock.to_string(),
        trace_us,
        guest_us,
        agree,
        note,
    })
}
