//! The same experiment in the simulator, for the side-by-side table.
//!
//! `tests/e2e/scenario.toml` describes the QEMU setup once (one pCPU, three hogs, the
//! measuring task with its emulated cost per period); each hog configuration and mode
//! of the QEMU run becomes a variation of it: hogs removed (alone), uncapped or capped,
//! the measuring task with or without `rtsleep`. The simulator has no credit2.

use std::path::Path;

use rtcredit_sim::policy::Policy;
use rtcredit_sim::scenario::{Scenario, ScenarioError, WorkloadSection};
use rtcredit_sim::stats::LatencySummary;
use serde::Serialize;

use crate::results::{Hogs, Mode};

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
    pub hogs: Hogs,
    pub scheduler: &'static str,
    pub mode: Mode,
    pub lateness_us: LatencySummary,
    pub hog_cpu_share_pct: Vec<f64>,
    pub measured_cpu_share_pct: f64,
}

/// Runs every (hogs, scheduler, mode) the simulator has for `configs`.
pub fn simulate(path: &Path, configs: &[Hogs]) -> Result<Vec<SimRow>, SimSideError> {
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
    for &hogs in configs {
        // The scenario has no mixed-work variant yet (its measuring domain would need
        // the simulator's mixed workload): that configuration is compared on Xen only.
        if hogs == Hogs::Mixed {
            continue;
        }
        for (policy, mode) in
            [(Policy::Credit, Mode::Plain), (Policy::Rtcredit, Mode::Plain), (Policy::Rtcredit, Mode::Rtsleep)]
        {
            let mut scenario = base.clone();
            scenario.policies = vec![policy];
            scenario.domains.retain(|d| hogs != Hogs::Alone || d.workload != WorkloadSection::Hog);
            for domain in &mut scenario.domains {
                if domain.workload == WorkloadSection::Hog {
                    domain.cap_pct = match hogs {
                        Hogs::Capped(n) => n,
                        _ => 0,
                    };
                }
                if let WorkloadSection::Periodic { rtsleep, .. } = &mut domain.workload {
                    *rtsleep = mode == Mode::Rtsleep;
                }
            }
            scenario.validate(&name)?;
            let results = scenario.run(&name)?;
            for run in results.runs {
                let measured = run.domains.iter().find(|d| d.name == MEASURE);
                rows.push(SimRow {
                    hogs,
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
