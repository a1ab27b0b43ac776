//! The paper's experiments (Kim and Ko 2012, Fig. 1, 2, 5, 6, 7) on one pCPU.
//!
//! Setup, as in the paper: one measured domain and three CPU-consuming domains, all
//! with one VCPU on the single pCPU, default weights (256).
//!
//! * The measured domain runs a 10 ms periodic task for `periods` periods (3,000 in the
//!   paper) whose work per period is short (`compute_ns`, default 100 us: building and
//!   sending one packet). The packet's arrival at the external host is the time the
//!   task runs, so *arrival interval* = difference of consecutive job starts.
//! * Each of the three other domains consumes a share of the CPU (10, 20 or 30%),
//!   either as a cap on an always-busy domain ([`HogModel::Cap`]) or as a guest that
//!   computes that share of each duty cycle and sleeps the rest ([`HogModel::Duty`]).
//!
//! Runs, for every policy:
//!
//! * Fig. 1: the external host pings the domain every 10 ms (event-channel wake-ups);
//!   hogs at 20%. Lateness = arrival to start of handling.
//! * Fig. 2 and 5: the periodic task (absolute deadlines), hogs at 20%; Fig. 2 plots the
//!   arrival-interval series, Fig. 5 its CDF.
//! * Fig. 6: the same at 10, 20 and 30%: lateness against share.
//! * Fig. 7: completion time of the `periods` periods against share, for absolute
//!   deadlines (delays do not add up) and for the paper's loop `send(); sleep(10 ms)`
//!   (relative: each delay pushes every later period back, which is how the paper's
//!   credit run ends 10+ s late).
//!
//! Runs are independent simulations, run on all available cores; each one is a pure
//! function of its configuration and seed, so the output does not depend on the
//! number of threads.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use rtcredit::params::{DEFAULT_RT_BUDGET_PCT, DEFAULT_RT_RATE, DEFAULT_WEIGHT};
use rtcredit::DomainParams;

use crate::engine::{DomainSpec, HostSpec, SimError, SimSpec, Simulator, VcpuSpec};
use crate::policy::Policy;
use crate::report::{summarize, RunOutcome, RunSummary};
use crate::rtds::RtdsParams;
use crate::workload::{Release, WorkloadSpec};

const US: u64 = 1_000;
const MS: u64 = 1_000_000;

/// The period of the measured task and of the pings (the paper's 10 ms).
pub const PERIOD_NS: u64 = 10 * MS;
/// Shares of the three hogs in Fig. 6 and 7.
pub const SHARES_PCT: [u32; 3] = [10, 20, 30];
/// Share of each hog in Fig. 1, 2 and 5.
pub const MAIN_SHARE_PCT: u32 = 20;

/// What "a domain consuming 20% of the CPU" is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum HogModel {
    /// An always-busy domain with `DomainParams::cap` = share (`xl sched-credit -c 20`).
    Cap,
    /// An uncapped guest that computes share x cycle, then sleeps to the next cycle.
    Duty,
}

impl HogModel {
    pub const fn name(self) -> &'static str {
        match self {
            HogModel::Cap => "cap",
            HogModel::Duty => "duty",
        }
    }
}

/// Settings of a `paper` run.
#[derive(Clone, Debug, PartialEq)]
pub struct PaperConfig {
    pub periods: u64,
    pub seed: u64,
    pub hog_model: HogModel,
    /// Duty cycle of `HogModel::Duty`, ns.
    pub duty_cycle_ns: u64,
    /// Work of the measured task per period (and per ping), ns.
    pub compute_ns: u64,
    pub ipi_delay_ns: u64,
    pub switch_cost_ns: u64,
    pub timer_slop_ns: u64,
    /// The measured task starts after this warm-up (the hogs are running by then).
    pub warmup_ns: u64,
    pub policies: Vec<Policy>,
}

impl Default for PaperConfig {
    fn default() -> Self {
        PaperConfig {
            periods: 3000,
            seed: 1,
            hog_model: HogModel::Duty,
            duty_cycle_ns: 100 * MS,
            compute_ns: 100 * US,
            ipi_delay_ns: 2 * US,
            switch_cost_ns: 5 * US,
            timer_slop_ns: 50 * US,
            warmup_ns: 500 * MS,
            policies: Policy::ALL.to_vec(),
        }
    }
}

/// The measured domain's workload in one run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Measured {
    /// External pings every period (Fig. 1).
    Pings,
    /// The periodic task.
    Periodic(Release),
}

/// One simulation of the paper's setup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PaperRun {
    pub policy: Policy,
    pub share_pct: u32,
    pub measured: Measured,
}

/// The simulation of one paper run.
pub fn paper_spec(config: &PaperConfig, run: &PaperRun) -> SimSpec {
    let policy = run.policy;
    let mut measured_params = default_domain_params();
    measured_params.rt_allowed = policy.rt_enabled();
    let measured_workload = match run.measured {
        Measured::Pings => WorkloadSpec::Receiver {
            interval_ns: PERIOD_NS,
            compute_ns: config.compute_ns,
            packets: Some(config.periods),
            start_ns: config.warmup_ns,
        },
        Measured::Periodic(release) => WorkloadSpec::Periodic {
            period_ns: PERIOD_NS,
            compute_ns: config.compute_ns,
            periods: Some(config.periods),
            release,
            rtsleep: true,
            start_ns: config.warmup_ns,
        },
    };
    let mut domains = vec![DomainSpec {
        name: "measured".to_string(),
        params: measured_params,
        rtds: RtdsParams::default(),
        vcpus: vec![VcpuSpec { cpu: 0, workload: measured_workload }],
    }];
    for index in 1..=3 {
        let (cap, workload) = match config.hog_model {
            HogModel::Cap => (run.share_pct, WorkloadSpec::Hog),
            HogModel::Duty => (0, WorkloadSpec::DutyHog { share_pct: run.share_pct, cycle_ns: config.duty_cycle_ns }),
        };
        domains.push(DomainSpec {
            name: format!("hog{index}"),
            params: DomainParams { cap, ..default_domain_params() },
            rtds: RtdsParams::default(),
            vcpus: vec![VcpuSpec { cpu: 0, workload }],
        });
    }
    let ideal_ns = config.periods.saturating_mul(PERIOD_NS + config.compute_ns).saturating_add(config.warmup_ns);
    SimSpec {
        host: HostSpec {
            pcpus: 1,
            model: policy.model(),
            params: policy.params(),
            rt_enabled: policy.rt_enabled(),
            ipi_delay_ns: config.ipi_delay_ns,
            switch_cost_ns: config.switch_cost_ns,
            timer_slop_ns: config.timer_slop_ns,
        },
        domains,
        seed: config.seed,
        // Generous: a run stops when the measured task is done.
        until_ns: ideal_ns.saturating_mul(20).saturating_add(1_000 * MS),
        stop_when_measured_done: true,
        keep_series: true,
    }
}

/// Xen's defaults for a new domain (weight 256, no cap, no RT).
pub fn default_domain_params() -> DomainParams {
    DomainParams {
        weight: DEFAULT_WEIGHT,
        cap: 0,
        rt_allowed: false,
        rt_budget_pct: DEFAULT_RT_BUDGET_PCT,
        rt_rate_per_s: DEFAULT_RT_RATE,
    }
}

/// Runs one paper run.
pub fn run_one(config: &PaperConfig, run: &PaperRun) -> Result<RunOutcome, SimError> {
    let report = Simulator::new(&paper_spec(config, run))?.run()?;
    Ok(summarize(run.policy.name(), run.share_pct, &report))
}

/// A run's outcome with what it was.
#[derive(Clone, Debug, PartialEq)]
pub struct PaperOutcome {
    pub run: PaperRun,
    pub outcome: RunOutcome,
}

/// Every experiment's runs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PaperResults {
    pub fig1: Vec<PaperOutcome>,
    pub fig2: Vec<PaperOutcome>,
    pub fig5: Vec<PaperOutcome>,
    pub fig6: Vec<PaperOutcome>,
    pub fig7: Vec<PaperOutcome>,
    /// Events processed by all simulations.
    pub events: u64,
}

/// The distinct simulations behind the figures.
pub fn paper_runs(config: &PaperConfig) -> Vec<PaperRun> {
    let mut runs = Vec::new();
    for &policy in &config.policies {
        runs.push(PaperRun { policy, share_pct: MAIN_SHARE_PCT, measured: Measured::Pings });
        for release in [Release::Absolute, Release::Relative] {
            for share_pct in SHARES_PCT {
                runs.push(PaperRun { policy, share_pct, measured: Measured::Periodic(release) });
            }
        }
    }
    runs
}

/// Runs every experiment; `on_run_done` is called after each simulation (progress).
pub fn run_paper(config: &PaperConfig, on_run_done: &(dyn Fn() + Sync)) -> Result<PaperResults, SimError> {
    let runs = paper_runs(config);
    let slots: Vec<Mutex<Option<Result<RunOutcome, SimError>>>> = runs.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(runs.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(run) = runs.get(index) else { break };
                let result = run_one(config, run);
                if let Some(slot) = slots.get(index) {
                    if let Ok(mut slot) = slot.lock() {
                        *slot = Some(result);
                    }
                }
                on_run_done();
            });
        }
    });
    let mut results = PaperResults::default();
    for (run, slot) in runs.iter().zip(slots) {
        let outcome =
            slot.into_inner().ok().flatten().ok_or(SimError::Config("a simulation thread panicked".to_string()))??;
        results.events += outcome.summary.events;
        let item = PaperOutcome { run: *run, outcome };
        match run.measured {
            Measured::Pings => results.fig1.push(item),
            Measured::Periodic(Release::Absolute) => {
                if run.share_pct == MAIN_SHARE_PCT {
                    results.fig2.push(item.clone());
                    results.fig5.push(item.clone());
                }
                results.fig6.push(item.clone());
                results.fig7.push(item);
            }
            Measured::Periodic(Release::Relative) => results.fig7.push(item),
        }
    }
    Ok(results)
}

/// The release mode of a run's measured task ("pings" for Fig. 1).
pub fn release_name(measured: Measured) -> &'static str {
    match measured {
        Measured::Pings => "pings",
        Measured::Periodic(Release::Absolute) => "absolute",
        Measured::Periodic(Release::Relative) => "relative",
    }
}

/// `summary.json`'s shape: one list of runs per experiment.
#[derive(Debug, serde::Serialize)]
pub struct SummaryJson<'a> {
    pub config: ConfigJson,
    pub fig1: Vec<RunJson<'a>>,
    pub fig2: Vec<RunJson<'a>>,
    pub fig5: Vec<RunJson<'a>>,
    pub fig6: Vec<RunJson<'a>>,
    pub fig7: Vec<RunJson<'a>>,
}

/// The settings, echoed in `summary.json`.
#[derive(Debug, serde::Serialize)]
pub struct ConfigJson {
    pub periods: u64,
    pub seed: u64,
    pub hog_model: &'static str,
    pub duty_cycle_ms: f64,
    pub compute_us: f64,
    pub ipi_delay_us: f64,
    pub switch_cost_us: f64,
    pub timer_slop_us: f64,
    pub warmup_ms: f64,
    pub pcpus: u32,
}

/// One run in `summary.json`.
#[derive(Debug, serde::Serialize)]
pub struct RunJson<'a> {
    /// `absolute`, `relative` (the measured task's deadlines) or `pings`.
    pub release: &'static str,
    #[serde(flatten)]
    pub summary: &'a RunSummary,
}

impl PaperResults {
    pub fn to_json<'a>(&'a self, config: &PaperConfig) -> SummaryJson<'a> {
        let list = |outcomes: &'a [PaperOutcome]| -> Vec<RunJson<'a>> {
            outcomes
                .iter()
                .map(|o| RunJson { release: release_name(o.run.measured), summary: &o.outcome.summary })
                .collect()
        };
        SummaryJson {
            config: ConfigJson {
                periods: config.periods,
                seed: config.seed,
                hog_model: config.hog_model.name(),
                duty_cycle_ms: crate::stats::ns_to_ms(config.duty_cycle_ns),
                compute_us: crate::stats::ns_to_us(config.compute_ns),
                ipi_delay_us: crate::stats::ns_to_us(config.ipi_delay_ns),
                switch_cost_us: crate::stats::ns_to_us(config.switch_cost_ns),
                timer_slop_us: crate::stats::ns_to_us(config.timer_slop_ns),
                warmup_ms: crate::stats::ns_to_ms(config.warmup_ns),
                pcpus: 1,
            },
            fig1: list(&self.fig1),
            fig2: list(&self.fig2),
            fig5: list(&self.fig5),
            fig6: list(&self.fig6),
            fig7: list(&self.fig7),
        }
    }
}
