//! The same experiment in the simulator, for the side-by-side table.
//!
//! `tests/e2e/scenario.toml` describes the QEMU setup once (one pCPU, three hogs, the
//! measuring task with its emulated cost per period); each configuration and mode of
//! the QEMU run becomes a variation of it: hogs removed (alone), uncapped or capped,
//! seven of them, two pCPUs with a 2-VCPU measuring domain and six hogs, mixed work (the
//! measuring domain's workload becomes the simulator's `mixed-work`: the periodic task
//! and a CPU burner in one VCPU), the configuration's period, the measuring task with
//! or without `rtsleep`. The simulator has no credit2 and no RTDS.

use std::path::Path;

use rtcredit_sim::policy::Policy;
use rtcredit_sim::scenario::{Scenario, ScenarioError, WorkloadSection};
use rtcredit_sim::stats::LatencySummary;
use serde::Serialize;

use crate::results::{Config, Hogs, Mode};

/// Name of the measuring domain in the scenario file; the hogs are every domain whose
/// workload is `hog`.
pub const MEASURE: &str = "measure";

#[derive(Debug, thiserror::Error)]
pub enum SimSideError {
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    #[error("{path}: no domain named '{MEASURE}' with a periodic workload")]
    NoMeasure { path: String },
    #[error("{path}: no domain with workload kind = \"hog\"")]
    NoHogs { path: String },
}

/// One simulated run.
#[derive(Clone, Debug, Serialize)]
pub struct SimRow {
    pub config: Config,
    pub scheduler: &'static str,
    pub mode: Mode,
    pub lateness_us: LatencySummary,
    pub hog_cpu_share_pct: Vec<f64>,
    pub measured_cpu_share_pct: f64,
}

/// Runs every (hogs, scheduler, mode) the simulator has for `configs`.
pub fn simulate(path: &Path, configs: &[Config]) -> Result<Vec<SimRow>, SimSideError> {
    let name = path.display().to_string();
    let base = Scenario::load(path)?;
    let measure_ok =
        base.domains.iter().any(|d| d.name == MEASURE && matches!(d.workload, WorkloadSection::Periodic { .. }));
    if !measure_ok {
        return Err(SimSideError::NoMeasure { path: name });
    }
    if !base.domains.iter().any(|d| d.workload == WorkloadSection::Hog) {
        return Err(SimSideError::NoHogs { path: name });
    }
    let mut rows = Vec::new();
    for &config in configs {
        let hogs = config.hogs;
        for (policy, mode) in
            [(Policy::Credit, Mode::Plain), (Policy::Rtcredit, Mode::Plain), (Policy::Rtcredit, Mode::Rtsleep)]
        {
            let mut scenario = base.clone();
            scenario.policies = vec![policy];
            scenario.domains.retain(|d| hogs != Hogs::Alone || d.workload != WorkloadSection::Hog);
            if hogs != Hogs::Alone {
                // As many hogs as the configuration has, copies of the file's first.
                let template = scenario.domains.iter().find(|d| d.workload == WorkloadSection::Hog).cloned();
                let have = scenario.domains.iter().filter(|d| d.workload == WorkloadSection::Hog).count();
                if let Some(template) = template {
                    for n in have..hogs.hog_count() {
                        let mut more = template.clone();
                        more.name = format!("hog{}", n + 1);
                        scenario.domains.push(more);
                    }
                }
                let mut seen = 0;
                scenario.domains.retain(|d| {
                    seen += usize::from(d.workload == WorkloadSection::Hog);
                    d.workload != WorkloadSection::Hog || seen <= hogs.hog_count()
                });
            }
            if hogs == Hogs::TwoCpu {
                scenario.host.pcpus = 2;
            }
            for domain in &mut scenario.domains {
                if domain.workload == WorkloadSection::Hog {
                    domain.cap_pct = match hogs {
                        Hogs::Capped(n) => n,
                        _ => 0,
                    };
                }
                if domain.name == MEASURE && matches!(hogs, Hogs::TwoCpu | Hogs::TwoVcpu) {
                    domain.vcpus = 2;
                }
                if let WorkloadSection::Periodic { rtsleep, period_us, compute_us, start_ms, .. } = &mut domain.workload
                {
                    *rtsleep = mode == Mode::Rtsleep;
                    *period_us = config.period_us;
                    if hogs == Hogs::Mixed {
                        domain.workload = WorkloadSection::MixedWork {
                            period_us: config.period_us,
                            compute_us: *compute_us,
                            rtsleep: mode == Mode::Rtsleep,
                            start_ms: *start_ms,
                        };
                    }
                }
            }
            scenario.validate(&name)?;
            let results = scenario.run(&name)?;
            for run in results.runs {
                let measured = run.domains.iter().find(|d| d.name == MEASURE);
                rows.push(SimRow {
                    config,
                    scheduler: policy.name(),
                    mode,
                    lateness_us: measured.and_then(|d| d.lateness_us).unwrap_or_default(),
                    hog_cpu_share_pct: run
                        .domains
                        .iter()
                        .filter(|d| d.workload == "hog")
                        .map(|d| d.cpu_share_pct)
                        .collect(),
                    measured_cpu_share_pct: measured.map(|d| d.cpu_share_pct).unwrap_or(0.0),
                });
            }
        }
    }
    Ok(rows)
}
