//! The report of `tests/e2e/run.sh`: the paper's experiment on a real Xen under QEMU,
//! rtcredit against credit and credit2.
//!
//! Input: the raw directory the script fills, one serial log per boot (`SCHED-bK.log`)
//! and `run.json` (settings, date, machine). Output: `summary.md`, `summary.json`
//! (the simulator's run schema plus `scheduler` and `mode`), SVG plots (lateness CDF per
//! hog configuration, p99 lateness and completion time against the hogs' cap) and the
//! xentrace captures (`trace-SCHED-bK.bin`). The simulator's numbers for the same
//! scenario sit beside the QEMU ones.

pub mod results;
pub mod serial;
pub mod sim_side;
pub mod trace_side;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use rtcredit_sim::plot::{line_chart, Legend, Look, PlotError, Series, YAxis};
use serde::Serialize;

use results::{Config, Hogs, Mode, ResultError, RunResult};
use serial::SerialError;
use sim_side::{SimRow, SimSideError};
use trace_side::TraceCheck;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("{path}: {source}")]
    Serial { path: PathBuf, source: SerialError },
    #[error(transparent)]
    Result(#[from] ResultError),
    #[error("{0}")]
    Sim(#[from] SimSideError),
    #[error(transparent)]
    Plot(#[from] PlotError),
    #[error("{path}: not a boot log name (expected SCHEDULER-bN.log or SCHEDULER-bN-2cpu.log)")]
    LogName { path: PathBuf },
    #[error("no boot logs (*.log) in {0}")]
    NoLogs(PathBuf),
    #[error("cannot encode JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// One boot: its scheduler, tag, what went wrong in it, its runs.
#[derive(Debug, Serialize)]
pub struct Boot {
    pub scheduler: String,
    pub tag: String,
    /// dom0's E2E-FATAL lines, runs that never ended, guests that did not report.
    pub problems: Vec<String>,
    /// The toolstack's own words about Xen (version, scheduler), from dom0.
    pub notes: Vec<String>,
    #[serde(skip)]
    pub runs: Vec<RunResult>,
    #[serde(skip)]
    pub trace: Option<Vec<u8>>,
    /// The traced extra run (its guest figures, for the trace's second opinion).
    #[serde(skip)]
    pub trace_run: Option<RunResult>,
}

/// A boot log's tag (`SCHED-bK`) when `path` is `SCHED-bK.log` or `SCHED-bK.log.gz`.
fn log_tag(path: &Path) -> Option<&str> {
    let name = path.file_name()?.to_str()?;
    name.strip_suffix(".log").or_else(|| name.strip_suffix(".log.gz"))
}

/// Reads every `*.log` (or `*.log.gz`, as committed under docs/results) in `raw`.
pub fn read_boots(raw: &Path) -> Result<Vec<Boot>, ReportError> {
    let read_dir = std::fs::read_dir(raw).map_err(|source| ReportError::Read { path: raw.into(), source })?;
    let mut paths: Vec<PathBuf> =
        read_dir.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| log_tag(p).is_some()).collect();
    paths.sort();
    if paths.is_empty() {
        return Err(ReportError::NoLogs(raw.into()));
    }
    paths.iter().map(|p| read_boot(p)).collect()
}

/// The bytes of a serial log, plain or gzip'd (`.gz`), at most `limit` of them: a log
/// (or what a `.gz` decompresses to) above that is refused with its size named, before
/// more than `limit + 1` bytes are held in memory.
pub fn read_log_bytes(path: &Path, limit: u64) -> Result<Vec<u8>, ReportError> {
    let read_err = |source| ReportError::Read { path: path.into(), source };
    let file = std::fs::File::open(path).map_err(read_err)?;
    let gz = path.extension().is_some_and(|x| x == "gz");
    let mut reader: Box<dyn std::io::Read> =
        if gz { Box::new(flate2::read::GzDecoder::new(file)) } else { Box::new(file) };
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut std::io::Read::take(&mut reader, limit + 1), &mut bytes).map_err(read_err)?;
    if bytes.len() as u64 > limit {
        let what = if gz { "decompresses to" } else { "is" };
        return Err(read_err(std::io::Error::other(format!("{what} more than {limit} bytes, the limit of a log"))));
    }
    Ok(bytes)
}

/// Reads one boot log `SCHED-bK.log` (or `.log.gz`; `SCHED-bK-2cpu` for the boot of the
/// two-pCPU configurations).
pub fn read_boot(path: &Path) -> Result<Boot, ReportError> {
    let tag = log_tag(path).unwrap_or_default().to_string();
    let scheduler = match tag.strip_suffix("-2cpu").unwrap_or(&tag).rsplit_once("-b") {
        Some((sched, k)) if !sched.is_empty() && k.parse::<u32>().is_ok() => sched.to_string(),
        _ => return Err(ReportError::LogName { path: path.into() }),
    };
    let bytes = read_log_bytes(path, serial::MAX_LOG_BYTES as u64)?;
    let text = String::from_utf8_lossy(&bytes);
    let log = serial::parse(&text).map_err(|source| ReportError::Serial { path: path.into(), source })?;
    let mut problems: Vec<String> = log.fatal.iter().map(|f| format!("dom0 gave up: {f}")).collect();
    for run in log.runs.iter().filter(|r| !r.ended) {
        problems.push(format!("run {} ({} {}) never ended", run.run, run.config, run.mode));
    }
    let runs = results::runs_of_boot(&log, &scheduler, &tag)?;
    for run in &runs {
        if run.mode == Mode::Rtsleep && run.backend != "device" {
            problems.push(format!(
                "run {} ({}): the rtsleep run used backend '{}' ({}), not the device",
                run.run,
                run.config().label(),
                run.backend,
                run.fallback_reason.as_deref().unwrap_or("no reason given")
            ));
        }
    }
    let trace = log.files.get(&format!("trace-{scheduler}.bin")).cloned();
    // dom0 says "config NAME: N hog(s) at cap C: IDS" before each configuration's runs,
    // the traced run's included; that one is the last. Logs older than this line did not
    // announce the traced run's hogs: their traced run is left out rather than named
    // after the configuration before it.
    let trace_hogs = log
        .notes
        .iter()
        .rev()
        .find(|n| n.starts_with("config "))
        .filter(|n| n.contains(" at cap "))
        .and_then(|n| n.strip_prefix("config ")?.split(':').next().and_then(Hogs::parse));
    let trace_run = match trace_hogs {
        Some(hogs) => results::trace_run(&log, &scheduler, &tag, hogs).transpose()?,
        None => None,
    };
    Ok(Boot { scheduler, tag, problems, notes: log.notes, runs, trace, trace_run })
}

/// `summary.json`.
#[derive(Debug, Serialize)]
pub struct SummaryJson<'a> {
    pub config: serde_json::Value,
    pub boots: &'a [Boot],
    pub runs: Vec<&'a RunResult>,
    pub simulator: &'a [SimRow],
    pub trace_checks: &'a [TraceCheck],
    pub targets: &'a [Target],
}

/// One of the targets, checked on the measured numbers.
#[derive(Debug, Serialize)]
pub struct Target {
    pub what: String,
    pub met: bool,
    pub detail: String,
}

const SCHED_ORDER: [&str; 4] = ["credit", "credit2", "rtds", "rtcredit"];

fn sched_rank(s: &str) -> usize {
    SCHED_ORDER.iter().position(|x| *x == s).unwrap_or(SCHED_ORDER.len())
}

/// All runs, ordered by hogs, scheduler, mode, boot.
pub fn ordered_runs(boots: &[Boot]) -> Vec<&RunResult> {
    let mut runs: Vec<&RunResult> = boots.iter().flat_map(|b| b.runs.iter()).collect();
    runs.sort_by(|a, b| {
        (a.config(), sched_rank(&a.scheduler), a.mode, &a.boot).cmp(&(
            b.config(),
            sched_rank(&b.scheduler),
            b.mode,
            &b.boot,
        ))
    });
    runs
}

fn worst<'a>(runs: &[&'a RunResult], sched: &str, mode: Mode, config: Config) -> Option<&'a RunResult> {
    runs.iter()
        .filter(|r| r.scheduler == sched && r.mode == mode && r.config() == config)
        .max_by(|a, b| a.lateness_us.p99.total_cmp(&b.lateness_us.p99))
        .copied()
}

fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        0.0
    } else {
        values.iter().sum::<f64>() / values.len() as f64
    }
}

/// rtcredit + /dev/rtsleep with hogs: p99 at most this (ms), under a deterministic clock.
pub const TARGET_P99_MS: f64 = 0.3;
/// ... and max at most this (ms).
pub const TARGET_MAX_MS: f64 = 1.0;
/// In the mixed-work configuration, credit2's p99 over rtcredit's at least this.
pub const TARGET_MIXED_FACTOR: f64 = 3.0;

/// The targets of the deterministic end-to-end run, on the worst boot of each
/// configuration with hogs: rtcredit with /dev/rtsleep p99 <= 0.3 ms and max <= 1 ms,
/// below credit2 and below RTDS in the same configuration (at least 3x below credit2
/// with mixed work), each hog's share within 2 points of its share under credit, and
/// rtcredit with plain sleeps within 10% of credit's p99 (it is credit when nobody asks).
pub fn check_targets(runs: &[&RunResult]) -> Vec<Target> {
    let mut targets = Vec::new();
    let configs: Vec<Config> = {
        let mut c: Vec<Config> = runs.iter().map(|r| r.config()).filter(|c| c.hogs != Hogs::Alone).collect();
        c.sort();
        c.dedup();
        c
    };
    for config in configs {
        let hogs = config.hogs;
        let label = config.label();
        let Some(rt) = worst(runs, "rtcredit", Mode::Rtsleep, config) else { continue };
        let p99_ms = rt.lateness_us.p99 / 1e3;
        let max_ms = rt.lateness_us.max / 1e3;
        targets.push(Target {
            what: format!(
                "rtcredit + /dev/rtsleep, hogs {label}: p99 <= {TARGET_P99_MS} ms, max <= {TARGET_MAX_MS} ms"
            ),
            met: p99_ms <= TARGET_P99_MS && max_ms <= TARGET_MAX_MS,
            detail: format!("p99 {p99_ms:.3} ms, max {max_ms:.3} ms (worst boot)"),
        });
        for peer in ["credit2", "rtds"] {
            let Some(theirs) = worst(runs, peer, Mode::Plain, config) else { continue };
            // The issue asks for 3x below credit2 with mixed work and with seven hogs.
            let factor =
                if peer == "credit2" && matches!(hogs, Hogs::Mixed | Hogs::Seven) { TARGET_MIXED_FACTOR } else { 1.0 };
            let what = if factor > 1.0 {
                format!("rtcredit + /dev/rtsleep at least {factor}x below {peer}, hogs {label}")
            } else {
                format!("rtcredit + /dev/rtsleep below {peer}, hogs {label}")
            };
            targets.push(Target {
                what,
                met: rt.lateness_us.p99 * factor < theirs.lateness_us.p99,
                detail: format!("p99 {:.3} ms vs {peer} {:.3} ms", p99_ms, theirs.lateness_us.p99 / 1e3),
            });
        }
        if let Some(credit) = worst(runs, "credit", Mode::Plain, config) {
            let ours = mean(&rt.hog_cpu_share_pct);
            let theirs = mean(&credit.hog_cpu_share_pct);
            targets.push(Target {
                what: format!("hog share under rtcredit within 2 points of credit, hogs {label}"),
                met: (ours - theirs).abs() <= 2.0,
                detail: format!("mean hog share {ours:.1}% vs {theirs:.1}% under credit"),
            });
        }
        if let (Some(plain), Some(credit)) =
            (worst(runs, "rtcredit", Mode::Plain, config), worst(runs, "credit", Mode::Plain, config))
        {
            // It is credit when nobody asks: within 10% of credit's p99.
            let ratio = plain.lateness_us.p99 / credit.lateness_us.p99.max(1.0);
            targets.push(Target {
                what: format!("rtcredit with plain sleeps within 10% of credit's p99, hogs {label}"),
                met: (0.9..=1.1).contains(&ratio),
                detail: format!(
                    "p99 {:.2} ms vs credit {:.2} ms",
                    plain.lateness_us.p99 / 1e3,
                    credit.lateness_us.p99 / 1e3
                ),
            });
        }
    }
    targets
}

fn ms(us: f64) -> String {
    format!("{:.2}", us / 1e3)
}

fn shares(values: &[f64]) -> String {
    if values.is_empty() {
        return "-".into();
    }
    values.iter().map(|v| format!("{v:.1}")).collect::<Vec<_>>().join(" / ")
}

/// The histogram limit of the per-run files, us: wake-ups later than this are counted
/// as overflows (the guest's own histogram goes to 1 s).
pub const HISTOGRAM_CAP_US: u64 = 5000;

/// One run's lateness histogram as text, the layout of cyclictest's `-h`: a `# ` header,
/// then `BUCKET_US COUNT` for every 1 us bucket from 0 to the last non-empty one below
/// `cap_us`, then totals, min/avg/max and the overflow count (wake-ups at or beyond
/// `cap_us`, the guest's own overflow included).
pub fn histogram_text(r: &RunResult, cap_us: u64) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "# rtsleep bench lateness histogram (1 us buckets, up to {cap_us} us)\n# scheduler {} mode {} boot {} run {}: \
         hogs {}, period {} us, {} periods",
        r.scheduler,
        r.mode.name(),
        r.boot,
        r.run,
        r.hogs.label(),
        r.period_us,
        r.loops
    );
    let below: Vec<(u64, u64)> = r.histogram.iter().copied().filter(|&(b, _)| b < cap_us).collect();
    let overflow =
        r.histogram_overflow + r.histogram.iter().filter(|&&(b, _)| b >= cap_us).map(|&(_, c)| c).sum::<u64>();
    let last = below.last().map(|&(b, _)| b).unwrap_or(0);
    let mut counts = below.iter().peekable();
    for bucket in 0..=last {
        let count = match counts.peek() {
            Some(&&(b, c)) if b == bucket => {
                counts.next();
                c
            }
            _ => 0,
        };
        let _ = writeln!(text, "{bucket:06} {count:06}");
    }
    let total: u64 = below.iter().map(|&(_, c)| c).sum::<u64>() + overflow;
    let min_us = r.lateness_ns.first().map(|&ns| ns / 1000).unwrap_or(0);
    let _ = writeln!(text, "# Total: {total:09}");
    let _ = writeln!(text, "# Min Latencies: {min_us:05}");
    let _ = writeln!(text, "# Avg Latencies: {:05}", r.avg_lateness_us.round() as u64);
    let _ = writeln!(text, "# Max Latencies: {:05}", r.lateness_us.max.round() as u64);
    let _ = writeln!(text, "# Histogram Overflows: {overflow:05}");
    text
}

/// The file name of a run's histogram under `hist/`.
pub fn histogram_name(r: &RunResult) -> String {
    format!("{}-run{}-{}-{}.txt", r.boot, r.run, r.config().slug(), r.mode.name())
}

/// The configurations of the runs, in report order.
fn configs_of(runs: &[&RunResult]) -> Vec<Config> {
    let mut configs: Vec<Config> = runs.iter().map(|r| r.config()).collect();
    configs.sort();
    configs.dedup();
    configs
}

/// The headline: one row per scheduler and mode, one column per configuration, each
/// cell `p99 / max` in ms (the worst boot by p99).
pub fn headline_table(runs: &[&RunResult]) -> String {
    let configs = configs_of(runs);
    let mut rows: Vec<(usize, Mode, &str)> =
        runs.iter().map(|r| (sched_rank(&r.scheduler), r.mode, r.scheduler.as_str())).collect();
    rows.sort();
    rows.dedup();
    let mut md = String::new();
    let _ = write!(md, "| scheduler | mode |");
    for c in &configs {
        let _ = write!(md, " {} |", c.label());
    }
    let _ = write!(md, "\n| --- | --- |");
    for _ in &configs {
        let _ = write!(md, " --- |");
    }
    md.push('\n');
    for (_, mode, sched) in rows {
        let _ = write!(md, "| {sched} | {} |", mode.name());
        for &c in &configs {
            match worst(runs, sched, mode, c) {
                Some(r) => {
                    let _ = write!(md, " {} / {} |", ms(r.lateness_us.p99), ms(r.lateness_us.max));
                }
                None => md.push_str(" - |"),
            }
        }
        md.push('\n');
    }
    md
}

/// `summary.md`.
pub fn summary_md(
    config: &serde_json::Value,
    boots: &[Boot],
    sim: &[SimRow],
    checks: &[TraceCheck],
    targets: &[Target],
) -> String {
    let runs = ordered_runs(boots);
    let mut md = String::new();
    let _ = writeln!(md, "# End-to-end: rtcredit against credit, credit2 and RTDS on Xen under QEMU\n");
    let get = |k: &str| config.get(k).map(|v| v.to_string().trim_matches('"').to_string()).unwrap_or_default();
    let _ = writeln!(
        md,
        "Date {}, commit {}, machine: {}. {} periods per run ({} ms unless a configuration names its own), hog \
         configurations {}, {} boot(s) per scheduler. Command: `tests/e2e/run.sh{}`.\n",
        get("date"),
        get("commit"),
        get("machine"),
        get("loops"),
        config.get("period_us").and_then(|v| v.as_f64()).map(|us| us / 1e3).unwrap_or(10.0),
        get("configs"),
        get("boots"),
        config.get("command_args").and_then(|v| v.as_str()).map(|a| format!(" {a}")).unwrap_or_default()
    );
    // Runs before `--guest-kernel` existed booted our kernel; they say nothing.
    if let Some(kernel) = config.get("guest_kernel").and_then(|v| v.as_str()) {
        let _ = writeln!(md, "Measuring domU kernel: {kernel} (`--guest-kernel`; the hogs boot ours).\n");
    }
    let _ = writeln!(
        md,
        "Lateness = wake-up time minus deadline of `rtsleep bench` (absolute deadlines); completion = time for \
         all periods (ideal: periods x period); shares = CPU time of each domain over the measured interval, from \
         Xen. `plain` = clock_nanosleep, `rtsleep` = through /dev/rtsleep. Each run's histogram (1 us buckets up to \
         {HISTOGRAM_CAP_US} us, cyclictest's layout) is in `hist/`.\n"
    );
    let _ = writeln!(md, "## Headline: p99 / max lateness, ms (worst boot)\n");
    let _ = writeln!(md, "{}", headline_table(&runs));
    let _ = writeln!(md, "## Every run\n");
    let _ = writeln!(
        md,
        "| hogs, period | scheduler | mode | boot | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | completion s (ideal) \
         | measuring domU CPU % | hog CPU % | dom0 CPU % | backend | RT accepted / requests | time at RT ms, fires |"
    );
    let _ = writeln!(
        md,
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    );
    for r in &runs {
        let device = r.device.as_ref().map(|d| format!("{} / {}", d.rt_accepted, d.requests)).unwrap_or("-".into());
        let rt = r
            .scheduler_counters
            .as_ref()
            .map(|c| format!("{:.0}, {}", c.time_ns.rt as f64 / 1e6, c.rt.rt_fires))
            .unwrap_or("-".into());
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.2} ({:.2}) | {:.1} | {} | {:.1} | {} | {} | {} |",
            r.config().label(),
            r.scheduler,
            r.mode.name(),
            r.boot,
            ms(r.lateness_us.p50),
            ms(r.lateness_us.p90),
            ms(r.lateness_us.p99),
            ms(r.p999_lateness_us),
            ms(r.lateness_us.max),
            r.completion_s,
            r.ideal_completion_s,
            r.measured_cpu_share_pct,
            shares(&r.hog_cpu_share_pct),
            r.dom0_cpu_share_pct,
            r.backend,
            device,
            rt
        );
    }
    let _ = writeln!(md, "\n## Targets (worst boot of each configuration)\n");
    for t in targets {
        let _ = writeln!(md, "- {} **{}**: {}", if t.met { "met" } else { "MISSED" }, t.what, t.detail);
    }
    if !checks.is_empty() {
        let _ = writeln!(md, "\n## The trace's second opinion: deadline-to-run (rtcredit-monitor) beside the guest\n");
        let _ = writeln!(
            md,
            "The traced extra run of each rtcredit boot: from each RT deadline to the VCPU's next start of running, \
             from the xentrace capture of the first seconds of its loop, beside the guest's lateness over the whole \
             loop. The guest's is the larger by its own wake path; they agree when guest minus trace is within \
             -{} .. {} us at p50 and p99.\n",
            trace_side::AGREE_SLACK_US,
            trace_side::AGREE_BOUND_US
        );
        let _ = writeln!(
            md,
            "| boot | hogs | periods in trace (unmatched) | trace p50 / p99 / max ms | guest p50 / p99 / max ms | agree | note |"
        );
        let _ = writeln!(md, "| --- | --- | --- | --- | --- | --- | --- |");
        for c in checks {
            let hogs = boots
                .iter()
                .find(|b| b.tag == c.boot)
                .and_then(|b| b.trace_run.as_ref())
                .map(|r| r.config().label())
                .unwrap_or_default();
            let three = |v: &[f64; 3]| format!("{} / {} / {}", ms(v[0]), ms(v[1]), ms(v[2]));
            let _ = writeln!(
                md,
                "| {} | {hogs} | {} ({}) | {} | {} | {} | {}; {} |",
                c.boot,
                c.trace_periods,
                c.trace_unmatched,
                three(&c.trace_us),
                three(&c.guest_us),
                if c.agree { "yes" } else { "no" },
                c.note,
                c.clock
            );
        }
    }
    let problems: Vec<String> =
        boots.iter().flat_map(|b| b.problems.iter().map(move |p| format!("{}: {p}", b.tag))).collect();
    if !problems.is_empty() {
        let _ = writeln!(md, "\n## Problems in the runs\n");
        for p in problems {
            let _ = writeln!(md, "- {p}");
        }
    }
    if !sim.is_empty() {
        let _ = writeln!(md, "\n## The simulator on the same scenario (tests/e2e/scenario.toml)\n");
        let _ = writeln!(md, "| hogs, period | scheduler | mode | sim p50 ms | sim p99 ms | sim max ms | sim hog CPU % | QEMU p50 ms | QEMU p99 ms | QEMU max ms | QEMU hog CPU % |");
        let _ = writeln!(md, "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        for s in sim {
            let q = worst(&runs, s.scheduler, s.mode, s.config);
            let qcol = |f: fn(&RunResult) -> String| q.map(f).unwrap_or("-".into());
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                s.config.label(),
                s.scheduler,
                s.mode.name(),
                ms(s.lateness_us.p50),
                ms(s.lateness_us.p99),
                ms(s.lateness_us.max),
                shares(&s.hog_cpu_share_pct),
                qcol(|r| ms(r.lateness_us.p50)),
                qcol(|r| ms(r.lateness_us.p99)),
                qcol(|r| ms(r.lateness_us.max)),
                qcol(|r| shares(&r.hog_cpu_share_pct)),
            );
        }
    }
    md
}

/// The plots: `cdf-CONFIG.svg` per configuration (every scheduler and mode on one
/// chart), `p99-vs-cap.svg`, `completion-vs-cap.svg`.
pub fn plots(boots: &[Boot]) -> Result<Vec<(String, String)>, ReportError> {
    let runs = ordered_runs(boots);
    let mut out = Vec::new();
    for config in configs_of(&runs) {
        let series: Vec<Series> = runs
            .iter()
            .filter(|r| r.config() == config && !r.lateness_ns.is_empty())
            .map(|r| {
                let n = r.lateness_ns.len() as f64;
                let points =
                    r.lateness_ns.iter().enumerate().map(|(i, &ns)| (ns as f64 / 1e6, (i + 1) as f64 / n)).collect();
                Series { name: format!("{} {} ({})", r.scheduler, r.mode.name(), r.boot), points }
            })
            .collect();
        if series.is_empty() {
            continue;
        }
        let title = format!("Lateness CDF, hogs {}", config.label());
        let name = format!("cdf-{}.svg", config.slug());
        out.push((
            name,
            line_chart(
                "e2e-cdf",
                &title,
                "lateness (ms)",
                "fraction of wake-ups",
                &series,
                Look { markers: false, y_axis: YAxis::FromZero, legend: Legend::LowerRight },
            )?,
        ));
    }
    // Against the cap: uncapped is drawn at 100%; mixed work has no cap to draw it at.
    // One line per scheduler, mode, boot and period.
    let mut by_policy: BTreeMap<(usize, Mode, String, std::cmp::Reverse<u64>), Vec<&RunResult>> = BTreeMap::new();
    for r in runs.iter().filter(|r| matches!(r.hogs, Hogs::Uncapped | Hogs::Capped(_))) {
        by_policy
            .entry((sched_rank(&r.scheduler), r.mode, r.boot.clone(), std::cmp::Reverse(r.period_us)))
            .or_default()
            .push(r);
    }
    let series_of = |metric: fn(&RunResult) -> f64| -> Vec<Series> {
        by_policy
            .values()
            .map(|rs| Series {
                name: format!(
                    "{} {} ({}, {} ms)",
                    rs[0].scheduler,
                    rs[0].mode.name(),
                    rs[0].boot,
                    rs[0].period_us as f64 / 1e3
                ),
                points: {
                    let mut p: Vec<(f64, f64)> = rs.iter().map(|r| (r.hog_share_pct as f64, metric(r))).collect();
                    p.sort_by(|a, b| a.0.total_cmp(&b.0));
                    p
                },
            })
            .collect()
    };
    let p99 = series_of(|r| r.lateness_us.p99 / 1e3);
    if !p99.is_empty() {
        out.push((
            "p99-vs-cap.svg".into(),
            line_chart(
                "e2e-p99",
                "p99 lateness against the hogs' cap (100 = uncapped)",
                "hog cap (%)",
                "p99 lateness (ms)",
                &p99,
                Look { markers: true, y_axis: YAxis::FromZero, legend: Legend::UpperLeft },
            )?,
        ));
        let completion = series_of(|r| r.completion_s);
        out.push((
            "completion-vs-cap.svg".into(),
            line_chart(
                "e2e-completion",
                "Completion time of the measured loop against the hogs' cap (100 = uncapped)",
                "hog cap (%)",
                "completion (s)",
                &completion,
                Look { markers: true, y_axis: YAxis::Fit, legend: Legend::UpperLeft },
            )?,
        ));
    }
    Ok(out)
}

fn write(path: &Path, data: &[u8]) -> Result<(), ReportError> {
    std::fs::write(path, data).map_err(|source| ReportError::Write { path: path.into(), source })
}

/// The whole report: reads `raw`, simulates `scenario` (if given), writes into `out`;
/// `notes` (markdown, e.g. the explanation of the differences to the simulator) is
/// appended to `summary.md`.
pub fn report(
    raw: &Path,
    out: &Path,
    scenario: Option<&Path>,
    notes: Option<&Path>,
) -> Result<Vec<Target>, ReportError> {
    let boots = read_boots(raw)?;
    let config_path = raw.join("run.json");
    let config: serde_json::Value = match std::fs::read(&config_path) {
        Ok(bytes) => serde_json::from_slice(&bytes)?,
        Err(_) => serde_json::Value::Null,
    };
    let runs = ordered_runs(&boots);
    let configs = configs_of(&runs);
    let sim = match scenario {
        Some(path) => sim_side::simulate(path, &configs)?,
        None => Vec::new(),
    };
    let targets = check_targets(&runs);
    let checks: Vec<TraceCheck> =
        boots.iter().filter_map(|b| trace_side::check(&b.tag, b.trace.as_deref()?, b.trace_run.as_ref()?)).collect();
    std::fs::create_dir_all(out).map_err(|source| ReportError::Write { path: out.into(), source })?;
    let mut md = summary_md(&config, &boots, &sim, &checks, &targets);
    if let Some(path) = notes {
        let text = std::fs::read_to_string(path).map_err(|source| ReportError::Read { path: path.into(), source })?;
        md.push('\n');
        md.push_str(&text);
    }
    write(&out.join("summary.md"), md.as_bytes())?;
    let json = SummaryJson {
        config,
        boots: &boots,
        runs: runs.clone(),
        simulator: &sim,
        trace_checks: &checks,
        targets: &targets,
    };
    write(&out.join("summary.json"), serde_json::to_string_pretty(&json)?.as_bytes())?;
    for (name, svg) in plots(&boots)? {
        write(&out.join(name), svg.as_bytes())?;
    }
    let hist = out.join("hist");
    std::fs::create_dir_all(&hist).map_err(|source| ReportError::Write { path: hist.clone(), source })?;
    for r in &runs {
        write(&hist.join(histogram_name(r)), histogram_text(r, HISTOGRAM_CAP_US).as_bytes())?;
    }
    for boot in &boots {
        if let Some(trace) = &boot.trace {
            write(&out.join(format!("trace-{}.bin", boot.tag)), trace)?;
        }
    }
    Ok(targets)
}
