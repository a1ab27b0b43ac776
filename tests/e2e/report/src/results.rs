//! From decoded boot logs to one result per measuring run.
//!
//! A run's lateness comes from the guest's `rtsleep bench --json` (its own p50/p99/max
//! in ns, and a 1 us histogram from which the CDF and p90 are taken); the CPU shares
//! come from dom0's watcher (each domain's CPU time over the interval between the
//! guest's E2E-BEGIN and E2E-END lines); the completion time is the bench's own
//! `elapsed_s` (start of the loop to its last wake-up).

use rtcredit_abi::control::RtCounters;
use rtcredit_sim::stats::{percent, percentile, round3, LatencySummary};
use serde::{Deserialize, Serialize};

use crate::serial::{BootLog, RunAnnounce};

/// What is wrong with a run's data.
#[derive(Debug, thiserror::Error)]
pub enum ResultError {
    #[error("{boot} run {run}: no file '{name}' in the log (the guest's output did not come back)")]
    MissingFile { boot: String, run: u32, name: String },
    #[error("{boot} run {run}: '{name}' is not the JSON expected: {source}")]
    Json { boot: String, run: u32, name: String, source: serde_json::Error },
    #[error("{boot} run {run}: the bench report has no runs")]
    NoBenchRun { boot: String, run: u32 },
    #[error("{boot} run {run}: unknown mode '{mode}' (plain or rtsleep)")]
    Mode { boot: String, run: u32, mode: String },
    #[error("{boot} run {run}: unknown hog configuration '{config}' (alone, 0, a cap in % or mixed)")]
    Config { boot: String, run: u32, config: String },
}

/// `rtsleep bench --json` (rtsleep-cli/src/bench.rs), the fields used here.
#[derive(Debug, Deserialize)]
pub struct BenchJson {
    pub period_ns: u64,
    pub loops: u64,
    pub runs: Vec<BenchRunJson>,
}

#[derive(Debug, Deserialize)]
pub struct BenchRunJson {
    pub backend: String,
    #[serde(default)]
    pub fallback_reason: Option<String>,
    pub loops: u64,
    pub avg_us: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    pub max_us: f64,
    #[serde(default)]
    pub overruns: u64,
    /// The loop's completion time (absent from older `rtsleep` builds).
    #[serde(default)]
    pub elapsed_s: Option<f64>,
    #[serde(default)]
    pub histogram: Option<Vec<(u64, u64)>>,
    #[serde(default)]
    pub histogram_overflow: Option<u64>,
}

/// The module's counters from `rtsleep status --json` (absent without the module).
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct DeviceCounters {
    pub rt_state: String,
    pub requests: u64,
    pub rt_accepted: u64,
    pub fell_back: u64,
}

/// The measuring domain as `rtcredit-ctl dom --json` saw it after the run (rtcredit
/// only): its time at each priority and its RT counters since it was created.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct SchedCounters {
    pub time_ns: PrioTimes,
    #[serde(flatten)]
    pub rt: RtCounters,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct PrioTimes {
    pub rt: u64,
    pub boost: u64,
    pub under: u64,
    pub over: u64,
}

#[derive(Debug, Deserialize)]
struct SchedDomainJson {
    id: u32,
    #[serde(flatten)]
    counters: SchedCounters,
}

#[derive(Debug, Deserialize)]
struct StatusJson {
    #[serde(default)]
    rt: Option<DeviceCounters>,
}

/// The hogs during a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Hogs {
    /// Paused: the measuring domain is alone with dom0.
    Alone,
    /// Running without a cap.
    Uncapped,
    /// Each capped at this percent of one CPU.
    Capped(u32),
    /// Uncapped, and the measuring domain burns CPU itself (a burner at nice 19 beside
    /// the periodic task at SCHED_FIFO): mixed work, credit2's unsolved case.
    Mixed,
    /// Seven uncapped hogs: heavier contention on the one pCPU.
    Seven,
    /// Two pCPUs, a 2-VCPU measuring domain and six uncapped hogs.
    TwoCpu,
    /// One pCPU, a 2-VCPU measuring domain and three uncapped hogs: the 2-VCPU guest
    /// without two emulated CPUs (QEMU's icount runs those round-robin in one thread).
    TwoVcpu,
}

impl Hogs {
    pub fn parse(config: &str) -> Option<Hogs> {
        match config {
            "alone" => Some(Hogs::Alone),
            "0" => Some(Hogs::Uncapped),
            "mixed" => Some(Hogs::Mixed),
            "seven" => Some(Hogs::Seven),
            "2cpu" => Some(Hogs::TwoCpu),
            "2vcpu" => Some(Hogs::TwoVcpu),
            n => n.parse().ok().filter(|&n: &u32| (1..=100).contains(&n)).map(Hogs::Capped),
        }
    }

    pub fn label(self) -> String {
        match self {
            Hogs::Alone => "alone".into(),
            Hogs::Uncapped => "uncapped".into(),
            Hogs::Capped(n) => format!("capped {n}%"),
            Hogs::Mixed => "mixed work".into(),
            Hogs::Seven => "seven hogs".into(),
            Hogs::TwoCpu => "2 pCPUs, six hogs".into(),
            Hogs::TwoVcpu => "1 pCPU, 2-VCPU guest".into(),
        }
    }

    /// How many hog domains run in this configuration (paused ones count for `alone`,
    /// which shows the three of the paper at 0%).
    pub fn hog_count(self) -> usize {
        match self {
            Hogs::Seven => 7,
            Hogs::TwoCpu => 6,
            _ => 3,
        }
    }

    /// `hog_share_pct` in the simulator's schema: the cap, 100 when uncapped (mixed
    /// work too), 0 alone.
    pub fn share_pct(self) -> u32 {
        match self {
            Hogs::Alone => 0,
            Hogs::Uncapped | Hogs::Mixed | Hogs::Seven | Hogs::TwoCpu | Hogs::TwoVcpu => 100,
            Hogs::Capped(n) => n,
        }
    }
}

/// A configuration of the run: the hogs and the measuring task's period. Ordered by
/// hogs, then the longest period first (the paper's 10 ms before the audio periods).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Config {
    pub hogs: Hogs,
    pub period_us: u64,
}

impl Ord for Config {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.hogs, std::cmp::Reverse(self.period_us)).cmp(&(other.hogs, std::cmp::Reverse(other.period_us)))
    }
}

impl PartialOrd for Config {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Config {
    /// `uncapped, 10 ms`.
    pub fn label(self) -> String {
        format!("{}, {} ms", self.hogs.label(), self.period_us as f64 / 1e3)
    }

    /// A file-name part: `uncapped-10ms`, `mixedwork-2.5ms`.
    pub fn slug(self) -> String {
        let hogs = self.hogs.label().replace(['%', ' ', ','], "");
        format!("{hogs}-{}ms", self.period_us as f64 / 1e3)
    }
}

/// How the measuring task slept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// `clock_nanosleep` (no module: the library's fallback).
    Plain,
    /// Through `/dev/rtsleep`.
    Rtsleep,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Plain => "plain",
            Mode::Rtsleep => "rtsleep",
        }
    }
}

/// One measuring run.
#[derive(Clone, Debug, Serialize)]
pub struct RunResult {
    pub scheduler: String,
    /// The measuring domain's id.
    pub domid: u32,
    pub mode: Mode,
    /// Boot tag (`SCHED-bK`) and the run's number in it.
    pub boot: String,
    pub run: u32,
    pub hogs: Hogs,
    /// The measuring task's period, us.
    pub period_us: u64,
    /// The simulator's schema: `policy`, `hog_share_pct`, `release`, `lateness_us`,
    /// `completion_s`, `ideal_completion_s`, `hog_cpu_share_pct`, `measured_cpu_share_pct`.
    pub policy: String,
    pub hog_share_pct: u32,
    pub release: &'static str,
    pub lateness_us: LatencySummary,
    pub avg_lateness_us: f64,
    /// p99.9 (from the 1 us histogram), us.
    pub p999_lateness_us: f64,
    pub completion_s: f64,
    pub ideal_completion_s: f64,
    pub hog_cpu_share_pct: Vec<f64>,
    pub measured_cpu_share_pct: f64,
    pub dom0_cpu_share_pct: f64,
    pub loops: u64,
    pub overruns: u64,
    /// `device`, `fallback` (library without the module) as the guest reported.
    pub backend: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<DeviceCounters>,
    /// The scheduler's counters of the measuring domain (rtcredit runs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduler_counters: Option<SchedCounters>,
    /// Lateness samples at 1 us resolution (from the histogram), ns, sorted; for the CDF.
    #[serde(skip)]
    pub lateness_ns: Vec<u64>,
    /// The guest's histogram: `(bucket_us, count)` of non-empty 1 us buckets, and the
    /// wake-ups beyond its limit.
    #[serde(skip)]
    pub histogram: Vec<(u64, u64)>,
    pub histogram_overflow: u64,
}

impl RunResult {
    pub fn config(&self) -> Config {
        Config { hogs: self.hogs, period_us: self.period_us }
    }
}

fn json<T: for<'de> Deserialize<'de>>(log: &BootLog, boot: &str, run: u32, name: &str) -> Result<T, ResultError> {
    let data =
        log.files.get(name).ok_or_else(|| ResultError::MissingFile { boot: boot.into(), run, name: name.into() })?;
    serde_json::from_slice(data).map_err(|source| ResultError::Json {
        boot: boot.into(),
        run,
        name: name.into(),
        source,
    })
}

/// The runs of one boot (the traced extra run is left out: xentrace perturbs it).
pub fn runs_of_boot(log: &BootLog, scheduler: &str, boot: &str) -> Result<Vec<RunResult>, ResultError> {
    log.runs.iter().filter(|r| r.config != "trace" && r.ended).map(|r| one_run(log, r, scheduler, boot, None)).collect()
}

/// The traced extra run of a boot, if it ended, with `hogs` its configuration (dom0
/// announces it as `trace`; run.json's `trace_config` says which it was).
pub fn trace_run(log: &BootLog, scheduler: &str, boot: &str, hogs: Hogs) -> Option<Result<RunResult, ResultError>> {
    let announce = log.runs.iter().find(|r| r.config == "trace" && r.ended)?;
    Some(one_run(log, announce, scheduler, boot, Some(hogs)))
}

fn one_run(
    log: &BootLog,
    announce: &RunAnnounce,
    scheduler: &str,
    boot: &str,
    hogs: Option<Hogs>,
) -> Result<RunResult, ResultError> {
    let run = announce.run;
    let mode = match announce.mode.as_str() {
        "plain" => Mode::Plain,
        "rtsleep" => Mode::Rtsleep,
        other => return Err(ResultError::Mode { boot: boot.into(), run, mode: other.into() }),
    };
    let hogs = hogs.or_else(|| Hogs::parse(&announce.config)).ok_or_else(|| ResultError::Config {
        boot: boot.into(),
        run,
        config: announce.config.clone(),
    })?;
    let bench: BenchJson = json(log, boot, run, &format!("run{run}-bench.json"))?;
    let status: StatusJson = json(log, boot, run, &format!("run{run}-status.json"))?;
    let measured = bench.runs.first().ok_or(ResultError::NoBenchRun { boot: boot.into(), run })?;
    let sched_name = format!("run{run}-sched.json");
    let scheduler_counters = if log.files.contains_key(&sched_name) {
        let domains: Vec<SchedDomainJson> = json(log, boot, run, &sched_name)?;
        domains.into_iter().find(|d| d.id == announce.domid).map(|d| d.counters)
    } else {
        None
    };

    // Histogram buckets (1 us) to samples; wake-ups beyond the histogram count as its max.
    let mut lateness_ns: Vec<u64> = Vec::with_capacity(measured.loops as usize);
    for &(bucket_us, count) in measured.histogram.as_deref().unwrap_or(&[]) {
        lateness_ns.extend(std::iter::repeat_n(bucket_us * 1000, count as usize));
    }
    let overflow = measured.histogram_overflow.unwrap_or(0);
    lateness_ns.extend(std::iter::repeat_n((measured.max_us * 1000.0) as u64, overflow as usize));
    lateness_ns.sort_unstable();

    let share = |domid: u32| -> Option<f64> { announce.shares.get(&domid).map(|&(cpu, wall)| percent(cpu, wall)) };
    let hog_ids: Vec<u32> =
        (1..=hogs.hog_count()).filter_map(|h| announce.domains.get(&format!("hog{h}")).copied()).collect::<Vec<_>>();
    let wall_ns = announce.shares.get(&announce.domid).map(|&(_, wall)| wall).unwrap_or(0);
    Ok(RunResult {
        scheduler: scheduler.into(),
        domid: announce.domid,
        mode,
        boot: boot.into(),
        run,
        hogs,
        period_us: bench.period_ns / 1000,
        policy: format!("{scheduler}/{}", mode.name()),
        hog_share_pct: hogs.share_pct(),
        release: "absolute",
        lateness_us: LatencySummary {
            p50: round3(measured.p50_us),
            p90: round3(percentile(&lateness_ns, 900) as f64 / 1e3),
            p99: round3(measured.p99_us),
            max: round3(measured.max_us),
        },
        avg_lateness_us: round3(measured.avg_us),
        p999_lateness_us: round3(percentile(&lateness_ns, 999) as f64 / 1e3),
        // The guest's own clock when it reports it; else dom0's view of the interval,
        // which also holds the bench's start-up and the console's delay.
        completion_s: round3(measured.elapsed_s.unwrap_or(wall_ns as f64 / 1e9)),
        ideal_completion_s: round3((bench.loops * bench.period_ns) as f64 / 1e9),
        hog_cpu_share_pct: hog_ids.iter().filter_map(|&id| share(id)).collect(),
        measured_cpu_share_pct: share(announce.domid).unwrap_or(0.0),
        dom0_cpu_share_pct: share(0).unwrap_or(0.0),
        loops: measured.loops,
        overruns: measured.overruns,
        backend: measured.backend.clone(),
        fallback_reason: measured.fallback_reason.clone(),
        device: status.rt,
        scheduler_counters,
        lateness_ns,
        histogram: measured.histogram.clone().unwrap_or_default(),
        histogram_overflow: overflow,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hog_configurations() {
        assert_eq!(Hogs::parse("alone"), Some(Hogs::Alone));
        assert_eq!(Hogs::parse("0"), Some(Hogs::Uncapped));
        assert_eq!(Hogs::parse("20"), Some(Hogs::Capped(20)));
        assert_eq!(Hogs::parse("101"), None);
        assert_eq!(Hogs::parse("x"), None);
        assert_eq!(Hogs::parse("mixed"), Some(Hogs::Mixed));
        assert_eq!(Hogs::Mixed.share_pct(), 100);
        assert!(Hogs::Capped(30) < Hogs::Mixed, "mixed work is listed after the caps");
        assert_eq!(Hogs::Uncapped.share_pct(), 100);
        assert_eq!(Hogs::parse("seven"), Some(Hogs::Seven));
        assert_eq!(Hogs::parse("2cpu"), Some(Hogs::TwoCpu));
        assert_eq!(Hogs::Seven.hog_count(), 7);
        assert_eq!(Hogs::TwoCpu.hog_count(), 6);
        assert_eq!(Hogs::parse("2vcpu"), Some(Hogs::TwoVcpu));
        assert_eq!(Hogs::TwoVcpu.hog_count(), 3);
    }

    #[test]
    fn configurations_order_by_hogs_then_longest_period() {
        let c = |hogs, period_us| Config { hogs, period_us };
        let mut list =
            vec![c(Hogs::Mixed, 2500), c(Hogs::Uncapped, 5000), c(Hogs::Mixed, 10000), c(Hogs::Uncapped, 10000)];
        list.sort();
        assert_eq!(
            list,
            vec![c(Hogs::Uncapped, 10000), c(Hogs::Uncapped, 5000), c(Hogs::Mixed, 10000), c(Hogs::Mixed, 2500)]
        );
        assert_eq!(c(Hogs::Mixed, 2500).label(), "mixed work, 2.5 ms");
        assert_eq!(c(Hogs::Capped(20), 10000).slug(), "capped20-10ms");
    }
}
