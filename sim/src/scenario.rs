//! User scenarios: a TOML file describing a host, its domains and their workloads, run
//! under one or more policies (`rtcredit-sim run FILE`).
//!
//! The schema (every time has its unit in its name; see `sim/README.md` and
//! `sim/examples/`):
//!
//! ```toml
//! seed = 7                          # optional, default 1
//! duration_ms = 2000                # simulated time, 1..=3600000
//! policies = ["credit", "rtcredit"] # optional, default all six
//!
//! [host]                            # optional
//! pcpus = 2                         # 1..=64, default 1
//! ipi_delay_us = 2                  # default 2
//! switch_cost_us = 5                # default 5
//! timer_slop_us = 50                # default 50
//! rt_capacity_pct = 50              # default 50: RT budgets may add up to 50% of each pcpu
//!
//! [[domain]]
//! name = "audio"
//! weight = 256                      # default 256
//! cap_pct = 0                       # default 0 = no cap
//! rt_allowed = true                 # default false; used under `rtcredit` only
//! rt_budget_pct = 10                # default 10
//! rt_rate_per_s = 1000              # default 1000
//! rtds_period_us = 10000            # default 10000; used under `rtds` only
//! rtds_budget_us = 4000             # default 4000 (10..=period)
//! rtds_extratime = true             # default true
//! vcpus = 1                         # default 1
//! cpus = [0]                        # optional: first CPU of each VCPU, default round-robin
//! workload = { kind = "periodic", period_us = 10000, compute_us = 200 }
//! ```
//!
//! Unknown fields are errors (serde's `deny_unknown_fields`); values are then checked
//! one by one, and the first bad one is reported with its path (`domain[1].weight`) and
//! the reason.

use std::collections::BTreeSet;
use std::path::Path;

use rtcredit::params::{DEFAULT_RT_BUDGET_PCT, DEFAULT_RT_RATE, DEFAULT_WEIGHT};
use rtcredit::{DomainParams, Params, RtcError, MAX_CPUS};

use crate::engine::{DomainSpec, HostSpec, SimError, SimSpec, Simulator, VcpuSpec};
use crate::policy::Policy;
use crate::report::{summarize, DomainSummary};
use crate::rtds::{RtdsParams, RtdsParamsError, DEFAULT_BUDGET_NS, DEFAULT_PERIOD_NS, MAX_PERIOD_NS, MIN_PERIOD_NS};
use crate::workload::{Release, WorkloadSpec};

const US: u64 = 1_000;
const MS: u64 = 1_000_000;

/// A scenario could not be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
    #[error("{path}: field `{field}`: {reason}")]
    Invalid { path: String, field: String, reason: String },
    #[error("{path}: {source}")]
    Sim { path: String, source: SimError },
}

fn default_seed() -> u64 {
    1
}
fn default_pcpus() -> u32 {
    1
}
fn default_ipi_us() -> u64 {
    2
}
fn default_switch_us() -> u64 {
    5
}
fn default_slop_us() -> u64 {
    50
}
fn default_weight() -> u32 {
    DEFAULT_WEIGHT
}
fn default_budget() -> u32 {
    DEFAULT_RT_BUDGET_PCT
}
fn default_rate() -> u32 {
    DEFAULT_RT_RATE
}
fn default_rtds_period_us() -> u64 {
    DEFAULT_PERIOD_NS / US
}
fn default_rtds_budget_us() -> u64 {
    DEFAULT_BUDGET_NS / US
}
fn default_vcpus() -> u32 {
    1
}
fn default_true() -> bool {
    true
}
fn default_chunk_us() -> u64 {
    500
}
fn default_lead_us() -> u64 {
    1_000
}

/// The whole file.
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    #[serde(default = "default_seed")]
    pub seed: u64,
    pub duration_ms: u64,
    #[serde(default)]
    pub policies: Vec<Policy>,
    #[serde(default)]
    pub host: HostSection,
    #[serde(rename = "domain", default)]
    pub domains: Vec<DomainSection>,
}

/// `[host]`.
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostSection {
    #[serde(default = "default_pcpus")]
    pub pcpus: u32,
    #[serde(default = "default_ipi_us")]
    pub ipi_delay_us: u64,
    #[serde(default = "default_switch_us")]
    pub switch_cost_us: u64,
    #[serde(default = "default_slop_us")]
    pub timer_slop_us: u64,
    /// The pool's RT capacity, percent of each pcpu (the core's `Params::rt_capacity_pct`).
    #[serde(default = "default_rt_capacity")]
    pub rt_capacity_pct: u32,
}

fn default_rt_capacity() -> u32 {
    rtcredit::params::DEFAULT_RT_CAPACITY_PCT
}

impl Default for HostSection {
    fn default() -> Self {
        HostSection {
            pcpus: 1,
            ipi_delay_us: 2,
            switch_cost_us: 5,
            timer_slop_us: 50,
            rt_capacity_pct: default_rt_capacity(),
        }
    }
}

/// One `[[domain]]`.
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomainSection {
    pub name: String,
    #[serde(default = "default_weight")]
    pub weight: u32,
    #[serde(default)]
    pub cap_pct: u32,
    #[serde(default)]
    pub rt_allowed: bool,
    #[serde(default = "default_budget")]
    pub rt_budget_pct: u32,
    #[serde(default = "default_rate")]
    pub rt_rate_per_s: u32,
    #[serde(default = "default_rtds_period_us")]
    pub rtds_period_us: u64,
    #[serde(default = "default_rtds_budget_us")]
    pub rtds_budget_us: u64,
    #[serde(default = "default_true")]
    pub rtds_extratime: bool,
    #[serde(default = "default_vcpus")]
    pub vcpus: u32,
    #[serde(default)]
    pub cpus: Option<Vec<u32>>,
    pub workload: WorkloadSection,
}

/// A domain's `workload = { kind = ..., ... }`.
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum WorkloadSection {
    /// Burns CPU forever.
    Hog,
    /// Wants `share_pct` of the CPU: one burst per window of `cycle_ms`.
    DutyHog { share_pct: u32, cycle_ms: u64 },
    /// Periodic task.
    Periodic {
        period_us: u64,
        compute_us: u64,
        #[serde(default)]
        periods: Option<u64>,
        #[serde(default = "default_deadlines")]
        deadlines: Release,
        #[serde(default = "default_true")]
        rtsleep: bool,
        #[serde(default)]
        start_ms: u64,
    },
    /// External packets every `interval_us`.
    Receiver {
        interval_us: u64,
        compute_us: u64,
        #[serde(default)]
        packets: Option<u64>,
        #[serde(default)]
        start_ms: u64,
    },
    /// Poisson arrivals.
    IoBound {
        mean_gap_us: u64,
        compute_us: u64,
        #[serde(default)]
        events: Option<u64>,
    },
    /// RT adversary.
    RtSpammer {
        #[serde(default = "default_chunk_us")]
        chunk_us: u64,
        #[serde(default = "default_lead_us")]
        lead_us: u64,
    },
    /// A periodic task and a CPU burner in one VCPU (absolute deadlines).
    MixedWork {
        period_us: u64,
        compute_us: u64,
        #[serde(default = "default_true")]
        rtsleep: bool,
        #[serde(default)]
        start_ms: u64,
    },
}

fn default_deadlines() -> Release {
    Release::Absolute
}

/// One policy's results.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ScenarioRun {
    pub policy: String,
    pub simulated_s: f64,
    pub events: u64,
    pub context_switches: u64,
    pub domains: Vec<DomainSummary>,
}

/// Every policy's results.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ScenarioResults {
    pub scenario: String,
    pub seed: u64,
    pub duration_ms: u64,
    pub pcpus: u32,
    pub runs: Vec<ScenarioRun>,
}

struct Checker<'a> {
    path: &'a str,
}

impl Checker<'_> {
    fn fail<T>(&self, field: impl Into<String>, reason: impl Into<String>) -> Result<T, ScenarioError> {
        Err(ScenarioError::Invalid { path: self.path.to_string(), field: field.into(), reason: reason.into() })
    }

    fn range(&self, field: impl Into<String>, value: u64, low: u64, high: u64) -> Result<(), ScenarioError> {
        if !(low..=high).contains(&value) {
            return self.fail(field, format!("must be in {low}..={high}, got {value}"));
        }
        Ok(())
    }
}

impl Scenario {
    /// Reads and checks a scenario file.
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        let shown = path.display().to_string();
        let text =
            std::fs::read_to_string(path).map_err(|source| ScenarioError::Read { path: shown.clone(), source })?;
        Scenario::parse(&text, &shown)
    }

    /// Parses and checks a scenario; `path` names it in errors.
    pub fn parse(text: &str, path: &str) -> Result<Scenario, ScenarioError> {
        let scenario: Scenario = toml::from_str(text)
            .map_err(|e| ScenarioError::Parse { path: path.to_string(), message: e.to_string() })?;
        scenario.validate(path)?;
        Ok(scenario)
    }

    /// Checks every value; the first bad one is the error.
    pub fn validate(&self, path: &str) -> Result<(), ScenarioError> {
        let check = Checker { path };
        check.range("duration_ms", self.duration_ms, 1, 3_600_000)?;
        let mut seen = BTreeSet::new();
        for (index, policy) in self.policies.iter().enumerate() {
            if !seen.insert(*policy) {
                return check.fail(format!("policies[{index}]"), format!("`{policy}` is listed twice"));
            }
        }
        check.range("host.pcpus", u64::from(self.host.pcpus), 1, MAX_CPUS as u64)?;
        check.range("host.ipi_delay_us", self.host.ipi_delay_us, 0, 1_000)?;
        check.range("host.switch_cost_us", self.host.switch_cost_us, 0, 1_000)?;
        check.range("host.timer_slop_us", self.host.timer_slop_us, 0, 1_000)?;
        check.range("host.rt_capacity_pct", u64::from(self.host.rt_capacity_pct), 0, 100)?;
        if self.domains.is_empty() {
            return check.fail("domain", "at least one [[domain]] is needed");
        }
        let mut names = BTreeSet::new();
        for (index, domain) in self.domains.iter().enumerate() {
            let at = |field: &str| format!("domain[{index}].{field}");
            if domain.name.trim().is_empty() {
                return check.fail(at("name"), "must not be empty");
            }
            if !names.insert(domain.name.as_str()) {
                return check.fail(at("name"), format!("`{}` is used by an earlier domain", domain.name));
            }
            if let Err(error) = domain.params().validate() {
                let field = match error {
                    RtcError::BadWeight => "weight",
                    RtcError::BadCap => "cap_pct",
                    RtcError::BadRtBudget => "rt_budget_pct",
                    RtcError::BadRtRate => "rt_rate_per_s",
                    _ => "domain",
                };
                return check.fail(at(field), error.describe());
            }
            match domain.rtds().validate() {
                Ok(()) => {}
                Err(RtdsParamsError::Period) => {
                    check.range(at("rtds_period_us"), domain.rtds_period_us, MIN_PERIOD_NS / US, MAX_PERIOD_NS / US)?
                }
                Err(RtdsParamsError::Budget) => check.range(
                    at("rtds_budget_us"),
                    domain.rtds_budget_us,
                    MIN_PERIOD_NS / US,
                    domain.rtds_period_us,
                )?,
            }
            check.range(at("vcpus"), u64::from(domain.vcpus), 1, MAX_CPUS as u64)?;
            if let Some(cpus) = &domain.cpus {
                if cpus.len() != domain.vcpus as usize {
                    return check.fail(at("cpus"), format!("lists {} CPUs for {} vcpus", cpus.len(), domain.vcpus));
                }
                for (slot, cpu) in cpus.iter().enumerate() {
                    if *cpu >= self.host.pcpus {
                        return check.fail(
                            format!("domain[{index}].cpus[{slot}]"),
                            format!("CPU {cpu} does not exist (the host has {} pcpus)", self.host.pcpus),
                        );
                    }
                }
            }
            domain.workload.validate(&check, &at("workload"))?;
        }
        Ok(())
    }

    /// The policies to run (all of them when the file names none).
    pub fn policies(&self) -> Vec<Policy> {
        if self.policies.is_empty() {
            Policy::ALL.to_vec()
        } else {
            self.policies.clone()
        }
    }

    /// The simulation of this scenario under `policy`.
    pub fn spec(&self, policy: Policy) -> SimSpec {
        let mut next_cpu = 0u32;
        let domains = self
            .domains
            .iter()
            .map(|domain| {
                let mut params = domain.params();
                params.rt_allowed &= policy.rt_enabled();
                let workload = domain.workload.to_spec();
                let vcpus = (0..domain.vcpus as usize)
                    .map(|slot| {
                        let cpu = match &domain.cpus {
                            Some(cpus) => cpus.get(slot).copied().unwrap_or(0),
                            None => {
                                let cpu = next_cpu % self.host.pcpus.max(1);
                                next_cpu += 1;
                                cpu
                            }
                        };
                        VcpuSpec { cpu, workload: workload.clone() }
                    })
                    .collect();
                DomainSpec { name: domain.name.clone(), params, rtds: domain.rtds(), vcpus }
            })
            .collect();
        SimSpec {
            host: HostSpec {
                pcpus: self.host.pcpus,
                model: policy.model(),
                params: Params { rt_capacity_pct: self.host.rt_capacity_pct, ..policy.params() },
                rt_enabled: policy.rt_enabled(),
                ipi_delay_ns: self.host.ipi_delay_us * US,
                switch_cost_ns: self.host.switch_cost_us * US,
                timer_slop_ns: self.host.timer_slop_us * US,
            },
            domains,
            seed: self.seed,
            until_ns: self.duration_ms * MS,
            stop_when_measured_done: false,
            keep_series: false,
        }
    }

    /// Runs every policy. `path` names the scenario in the results and errors.
    pub fn run(&self, path: &str) -> Result<ScenarioResults, ScenarioError> {
        let mut runs = Vec::new();
        for policy in self.policies() {
            let report = Simulator::new(&self.spec(policy))
                .and_then(Simulator::run)
                .map_err(|source| ScenarioError::Sim { path: path.to_string(), source })?;
            let outcome = summarize(policy.name(), 0, &report);
            runs.push(ScenarioRun {
                policy: policy.name().to_string(),
                simulated_s: outcome.summary.simulated_s,
                events: outcome.summary.events,
                context_switches: outcome.summary.context_switches,
                domains: outcome.summary.domains,
            });
        }
        Ok(ScenarioResults {
            scenario: path.to_string(),
            seed: self.seed,
            duration_ms: self.duration_ms,
            pcpus: self.host.pcpus,
            runs,
        })
    }
}

impl DomainSection {
    fn rtds(&self) -> RtdsParams {
        RtdsParams {
            period_ns: self.rtds_period_us.saturating_mul(US),
            budget_ns: self.rtds_budget_us.saturating_mul(US),
            extratime: self.rtds_extratime,
        }
    }

    fn params(&self) -> DomainParams {
        DomainParams {
            weight: self.weight,
            cap: self.cap_pct,
            rt_allowed: self.rt_allowed,
            rt_budget_pct: self.rt_budget_pct,
            rt_rate_per_s: self.rt_rate_per_s,
        }
    }
}

impl WorkloadSection {
    fn validate(&self, check: &Checker<'_>, at: &str) -> Result<(), ScenarioError> {
        let field = |name: &str| format!("{at}.{name}");
        match *self {
            WorkloadSection::Hog => Ok(()),
            WorkloadSection::DutyHog { share_pct, cycle_ms } => {
                check.range(field("share_pct"), u64::from(share_pct), 1, 100)?;
                check.range(field("cycle_ms"), cycle_ms, 1, 60_000)
            }
            WorkloadSection::Periodic { period_us, compute_us, start_ms, .. }
            | WorkloadSection::MixedWork { period_us, compute_us, start_ms, .. } => {
                let periods = match *self {
                    WorkloadSection::Periodic { periods, .. } => periods,
                    _ => None,
                };
                check.range(field("period_us"), period_us, 100, 60_000_000)?;
                if compute_us == 0 || compute_us >= period_us {
                    return check.fail(
                        field("compute_us"),
                        format!("must be in 1..{period_us} (below period_us), got {compute_us}"),
                    );
                }
                if periods == Some(0) {
                    return check.fail(field("periods"), "must be at least 1 (or left out for no limit)");
                }
                check.range(field("start_ms"), start_ms, 0, 3_600_000)
            }
            WorkloadSection::Receiver { interval_us, compute_us, packets, start_ms } => {
                check.range(field("interval_us"), interval_us, 10, 60_000_000)?;
                check.range(field("compute_us"), compute_us, 1, 60_000_000)?;
                if packets == Some(0) {
                    return check.fail(field("packets"), "must be at least 1 (or left out for no limit)");
                }
                check.range(field("start_ms"), start_ms, 0, 3_600_000)
            }
            WorkloadSection::IoBound { mean_gap_us, compute_us, events } => {
                check.range(field("mean_gap_us"), mean_gap_us, 10, 60_000_000)?;
                check.range(field("compute_us"), compute_us, 1, 60_000_000)?;
                if events == Some(0) {
                    return check.fail(field("events"), "must be at least 1 (or left out for no limit)");
                }
                Ok(())
            }
            WorkloadSection::RtSpammer { chunk_us, lead_us } => {
                check.range(field("chunk_us"), chunk_us, 1, 1_000_000)?;
                check.range(field("lead_us"), lead_us, 100, 10_000_000)
            }
        }
    }

    fn to_spec(&self) -> WorkloadSpec {
        match *self {
            WorkloadSection::Hog => WorkloadSpec::Hog,
            WorkloadSection::DutyHog { share_pct, cycle_ms } => {
                WorkloadSpec::DutyHog { share_pct, cycle_ns: cycle_ms * MS }
            }
            WorkloadSection::Periodic { period_us, compute_us, periods, deadlines, rtsleep, start_ms } => {
                WorkloadSpec::Periodic {
                    period_ns: period_us * US,
                    compute_ns: compute_us * US,
                    periods,
                    release: deadlines,
                    rtsleep,
                    start_ns: start_ms * MS,
                }
            }
            WorkloadSection::Receiver { interval_us, compute_us, packets, start_ms } => WorkloadSpec::Receiver {
                interval_ns: interval_us * US,
                compute_ns: compute_us * US,
                packets,
                start_ns: start_ms * MS,
            },
            WorkloadSection::IoBound { mean_gap_us, compute_us, events } => {
                WorkloadSpec::IoBound { mean_gap_ns: mean_gap_us * US, compute_ns: compute_us * US, events }
            }
            WorkloadSection::RtSpammer { chunk_us, lead_us } => {
                WorkloadSpec::RtSpammer { chunk_ns: chunk_us * US, lead_ns: lead_us * US }
            }
            WorkloadSection::MixedWork { period_us, compute_us, rtsleep, start_ms } => WorkloadSpec::MixedWork {
                period_ns: period_us * US,
                compute_ns: compute_us * US,
                rtsleep,
                start_ns: start_ms * MS,
            },
        }
    }
}

/// The text report of `run` (one table per policy).
pub fn render_text(results: &ScenarioResults) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "scenario {} (seed {}, {} ms, {} pcpus)",
        results.scenario, results.seed, results.duration_ms, results.pcpus
    );
    for run in &results.runs {
        let _ =
            writeln!(out, "\npolicy {}: {} context switches, {} events", run.policy, run.context_switches, run.events);
        let _ = writeln!(
            out,
            "  {:<12} {:<10} {:>7} {:>7} {:>10} {:>10} {:>10} {:>26} {:>9}",
            "domain", "workload", "cpu %", "jobs", "p50 ms", "p99 ms", "max ms", "RT/BOOST/UNDER/OVER ms", "RT grant"
        );
        for d in &run.domains {
            let (p50, p99, max) = match d.lateness_us {
                Some(l) => {
                    (format!("{:.3}", l.p50 / 1e3), format!("{:.3}", l.p99 / 1e3), format!("{:.3}", l.max / 1e3))
                }
                None => ("-".to_string(), "-".to_string(), "-".to_string()),
            };
            let prio = format!(
                "{:.0}/{:.0}/{:.0}/{:.0}",
                d.prio_time_ms.rt, d.prio_time_ms.boost, d.prio_time_ms.under, d.prio_time_ms.over
            );
            let _ = writeln!(
                out,
                "  {:<12} {:<10} {:>7.2} {:>7} {:>10} {:>10} {:>10} {:>26} {:>9}",
                d.name, d.workload, d.cpu_share_pct, d.jobs, p50, p99, max, prio, d.rt_granted
            );
        }
    }
    out
}
