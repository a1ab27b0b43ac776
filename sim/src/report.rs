//! Turning a [`SimReport`] into the numbers we publish.
//!
//! A run's *measured* domain is its first domain whose workload measures lateness
//! (periodic task, receiver, I/O); its *hogs* are the domains running a CPU hog (plain
//! or duty-cycle). CPU shares are CPU time over the run's length (from 0 to the end of
//! the run: the completion of the measured task in the paper's runs).

use rtcredit::Prio;

use crate::engine::{DomainReport, SimReport};
use crate::stats::{ns_to_ms, ns_to_s, percent, LatencyHistogram, LatencySummary};

/// Run time of a domain at each priority, in milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct PrioTimeMs {
    pub rt: f64,
    pub boost: f64,
    pub under: f64,
    pub over: f64,
}

/// One domain's line in a report.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct DomainSummary {
    pub name: String,
    pub workload: &'static str,
    pub cpu_share_pct: f64,
    pub prio_time_ms: PrioTimeMs,
    pub runs: u64,
    pub boosts: u64,
    pub rt_fires: u64,
    pub rt_requests: u64,
    pub rt_granted: u64,
    pub rt_degraded: u64,
    pub rt_denied: u64,
    /// `SCHEDOP_rtsleep` calls the core refused (too soon, too far, not allowed); the
    /// guest then slept without RT.
    pub rtsleep_refused: u64,
    /// Jobs (or packets) completed.
    pub jobs: u64,
    /// Lateness of its jobs or packets, when it measures any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lateness_us: Option<LatencySummary>,
    /// The same as a histogram (ns), for pooling runs (`periods::pooled`); not
    /// published.
    #[serde(skip)]
    pub lateness_hist: Option<LatencyHistogram>,
}

/// The published summary of one run.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct RunSummary {
    pub policy: String,
    pub hog_share_pct: u32,
    pub lateness_us: LatencySummary,
    /// First release to last finish of the measured task, seconds.
    pub completion_s: f64,
    /// The same on a CPU of its own, seconds.
    pub ideal_completion_s: f64,
    pub hog_cpu_share_pct: Vec<f64>,
    pub measured_cpu_share_pct: f64,
    pub context_switches: u64,
    /// Simulated length of the run, seconds.
    pub simulated_s: f64,
    pub events: u64,
    pub domains: Vec<DomainSummary>,
}

/// A run's summary plus the raw series the plots need (empty unless the run kept
/// them: `SimSpec::keep_series`).
#[derive(Clone, Debug, PartialEq)]
pub struct RunOutcome {
    pub summary: RunSummary,
    /// Lateness of each job of the measured domain's VCPUs, ns.
    pub lateness_ns: Vec<u64>,
    /// Start of each job of the measured domain's first VCPU, ns.
    pub starts_ns: Vec<u64>,
}

fn prio_time(domain: &DomainReport) -> PrioTimeMs {
    let at = |prio: Prio| domain.prio_ns.get(prio as usize).copied().unwrap_or(0);
    PrioTimeMs {
        rt: ns_to_ms(at(Prio::Rt)),
        boost: ns_to_ms(at(Prio::Boost)),
        under: ns_to_ms(at(Prio::Under)),
        over: ns_to_ms(at(Prio::Over)),
    }
}

/// The lateness of a domain's jobs, every VCPU.
fn domain_lateness(domain: &DomainReport) -> LatencyHistogram {
    let mut all = LatencyHistogram::new();
    domain.measurements.iter().for_each(|m| all.merge(&m.lateness));
    all
}

/// The kept per-job lateness series of a domain, every VCPU.
fn domain_lateness_series(domain: &DomainReport) -> Vec<u64> {
    domain.measurements.iter().flat_map(|m| m.lateness_ns.iter().copied()).collect()
}

/// Summarizes a run.
pub fn summarize(policy: &str, hog_share_pct: u32, report: &SimReport) -> RunOutcome {
    let length = report.end_ns;
    let domains: Vec<DomainSummary> = report
        .domains
        .iter()
        .map(|d| DomainSummary {
            name: d.name.clone(),
            workload: d.workload,
            cpu_share_pct: percent(d.cpu_ns, length),
            prio_time_ms: prio_time(d),
            runs: d.runs,
            boosts: d.boosts,
            rt_fires: d.rt_fires,
            rt_requests: d.rt_requests,
            rt_granted: d.rt_granted,
            rt_degraded: d.rt_degraded,
            rt_denied: d.rt_denied,
            rtsleep_refused: d.rtsleep_errors,
            jobs: d.measurements.iter().map(|m| m.jobs_done).sum(),
            lateness_us: d.measured.then(|| domain_lateness(d).summary()),
            lateness_hist: d.measured.then(|| domain_lateness(d)),
        })
        .collect();
    let measured = report.domains.iter().find(|d| d.measured);
    let lateness = measured.map(domain_lateness).unwrap_or_default();
    let (lateness_ns, starts_ns, completion_ns, ideal_ns, measured_cpu) = match measured {
        Some(d) => {
            let first = d.measurements.first();
            let completion =
                first.and_then(|m| Some(m.last_finish_ns?.saturating_sub(m.first_release_ns?))).unwrap_or(0);
            (
                domain_lateness_series(d),
                first.map(|m| m.starts_ns.clone()).unwrap_or_default(),
                completion,
                d.ideal_completion_ns.unwrap_or(0),
                d.cpu_ns,
            )
        }
        None => (Vec::new(), Vec::new(), 0, 0, 0),
    };
    let hog_cpu_share_pct = report
        .domains
        .iter()
        .filter(|d| matches!(d.workload, "hog" | "duty-hog"))
        .map(|d| percent(d.cpu_ns, length))
        .collect();
    RunOutcome {
        summary: RunSummary {
            policy: policy.to_string(),
            hog_share_pct,
            lateness_us: lateness.summary(),
            completion_s: ns_to_s(completion_ns),
            ideal_completion_s: ns_to_s(ideal_ns),
            hog_cpu_share_pct,
            measured_cpu_share_pct: percent(measured_cpu, length),
            context_switches: report.context_switches,
            simulated_s: ns_to_s(report.end_ns),
            events: report.events,
            domains,
        },
        lateness_ns,
        starts_ns,
    }
}
