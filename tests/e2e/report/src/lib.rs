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

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use rtcredit_sim::plot::{line_chart, PlotError, Series};
use serde::Serialize;

use results::{Hogs, Mode, ResultError, RunResult};
use serial::SerialError;
use sim_side::{SimRow, SimSideError};

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
    #[error("{path}: not a boot log name (expected SCHEDULER-bN.log)")]
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

/// Reads one boot log `SCHED-bK.log` (or `.log.gz`).
pub fn read_boot(path: &Path) -> Result<Boot, ReportError> {
    let tag = log_tag(path).unwrap_or_default().to_string();
    let scheduler = match tag.rsplit_once("-b") {
        Some((sched, k)) if !sched.is_empty() && k.parse::<u32>().is_ok() => sched.to_string(),
        _ => return Err(ReportError::LogName { path: path.into() }),
    };
    let mut bytes = std::fs::read(path).map_err(|source| ReportError::Read { path: path.into(), source })?;
    if path.extension().is_some_and(|x| x == "gz") {
        // Bounded like the files inside a log (serial::MAX_LOG_BYTES): a bomb stops here.
        let mut plain = Vec::new();
        let limit = serial::MAX_LOG_BYTES as u64;
        std::io::Read::read_to_end(
            &mut std::io::Read::take(flate2::read::GzDecoder::new(bytes.as_slice()), limit + 1),
            &mut plain,
        )
        .map_err(|source| ReportError::Read { path: path.into(), source })?;
        if plain.len() as u64 > limit {
            let source = std::io::Error::other(format!("decompresses to more than {limit} bytes, the limit of a log"));
            return Err(ReportError::Read { path: path.into(), source });
        }
        bytes = plain;
    }
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
                run.hogs.label(),
                run.backend,
                run.fallback_reason.as_deref().unwrap_or("no reason given")
            ));
        }
    }
    let trace = log.files.get(&format!("trace-{scheduler}.bin")).cloned();
    Ok(Boot { scheduler, tag, problems, notes: log.notes, runs, trace })
}

/// `summary.json`.
#[derive(Debug, Serialize)]
pub struct SummaryJson<'a> {
    pub config: serde_json::Value,
    pub boots: &'a [Boot],
    pub runs: Vec<&'a RunResult>,
    pub simulator: &'a [SimRow],
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
        (a.hogs, sched_rank(&a.scheduler), a.mode, &a.boot).cmp(&(b.hogs, sched_rank(&b.scheduler), b.mode, &b.boot))
    });
    runs
}

fn worst<'a>(runs: &[&'a RunResult], sched: &str, mode: Mode, hogs: Hogs) -> Option<&'a RunResult> {
    runs.iter()
        .filter(|r| r.scheduler == sched && r.mode == mode && r.hogs == hogs)
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
    let configs: Vec<Hogs> = {
        let mut c: Vec<Hogs> = runs.iter().map(|r| r.hogs).filter(|h| *h != Hogs::Alone).collect();
        c.sort();
        c.dedup();
        c
    };
    for hogs in configs {
        let Some(rt) = worst(runs, "rtcredit", Mode::Rtsleep, hogs) else { continue };
        let p99_ms = rt.lateness_us.p99 / 1e3;
        let max_ms = rt.lateness_us.max / 1e3;
        targets.push(Target {
            what: format!(
                "rtcredit + /dev/rtsleep, hogs {}: p99 <= {TARGET_P99_MS} ms, max <= {TARGET_MAX_MS} ms",
                hogs.label()
            ),
            met: p99_ms <= TARGET_P99_MS && max_ms <= TARGET_MAX_MS,
            detail: format!("p99 {p99_ms:.3} ms, max {max_ms:.3} ms (worst boot)"),
        });
        for peer in ["credit2", "rtds"] {
            let Some(theirs) = worst(runs, peer, Mode::Plain, hogs) else { continue };
            let factor = if peer == "credit2" && hogs == Hogs::Mixed { TARGET_MIXED_FACTOR } else { 1.0 };
            let what = if factor > 1.0 {
                format!("rtcredit + /dev/rtsleep at least {factor}x below {peer}, hogs {}", hogs.label())
            } else {
                format!("rtcredit + /dev/rtsleep below {peer}, hogs {}", hogs.label())
            };
            targets.push(Target {
                what,
                met: rt.lateness_us.p99 * factor < theirs.lateness_us.p99,
                detail: format!("p99 {:.3} ms vs {peer} {:.3} ms", p99_ms, theirs.lateness_us.p99 / 1e3),
            });
        }
        if let Some(credit) = worst(runs, "credit", Mode::Plain, hogs) {
            let ours = mean(&rt.hog_cpu_share_pct);
            let theirs = mean(&credit.hog_cpu_share_pct);
            targets.push(Target {
                what: format!("hog share under rtcredit within 2 points of credit, hogs {}", hogs.label()),
                met: (ours - theirs).abs() <= 2.0,
                detail: format!("mean hog share {ours:.1}% vs {theirs:.1}% under credit"),
            });
        }
        if let (Some(plain), Some(credit)) =
            (worst(runs, "rtcredit", Mode::Plain, hogs), worst(runs, "credit", Mode::Plain, hogs))
        {
            // It is credit when nobody asks: within 10% of credit's p99.
            let ratio = plain.lateness_us.p99 / credit.lateness_us.p99.max(1.0);
            targets.push(Target {
                what: format!("rtcredit with plain sleeps within 10% of credit's p99, hogs {}", hogs.label()),
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

/// `summary.md`.
pub fn summary_md(config: &serde_json::Value, boots: &[Boot], sim: &[SimRow], targets: &[Target]) -> String {
    let runs = ordered_runs(boots);
    let mut md = String::new();
    let _ = writeln!(md, "# End-to-end: rtcredit against credit, credit2 and RTDS on Xen under QEMU\n");
    let get = |k: &str| config.get(k).map(|v| v.to_string().trim_matches('"').to_string()).unwrap_or_default();
    let _ = writeln!(
        md,
        "Date {}, commit {}, machine: {}. {} periods of {} ms per run, hog configurations {}, {} boot(s) per \
         scheduler. Command: `tests/e2e/run.sh{}`.\n",
        get("date"),
        get("commit"),
        get("machine"),
        get("loops"),
        config.get("period_us").and_then(|v| v.as_f64()).map(|us| us / 1e3).unwrap_or(10.0),
        get("configs"),
        get("boots"),
        config.get("command_args").and_then(|v| v.as_str()).map(|a| format!(" {a}")).unwrap_or_default()
    );
    let _ = writeln!(
        md,
        "Lateness = wake-up time minus deadline of `rtsleep bench` (absolute deadlines); completion = time for \
         all periods (ideal: periods x 10 ms); shares = CPU time of each domain over the measured interval, from \
         Xen. `plain` = clock_nanosleep, `rtsleep` = through /dev/rtsleep.\n"
    );
    let _ = writeln!(
        md,
        "| hogs | scheduler | mode | boot | p50 ms | p90 ms | p99 ms | max ms | completion s (ideal) | measuring \
         domU CPU % | hog CPU % | backend | RT accepted / requests | time at RT ms, fires |"
    );
    let _ = writeln!(md, "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for r in &runs {
        let device = r.device.as_ref().map(|d| format!("{} / {}", d.rt_accepted, d.requests)).unwrap_or("-".into());
        let rt = r
            .scheduler_counters
            .as_ref()
            .map(|c| format!("{:.0}, {}", c.time_ns.rt as f64 / 1e6, c.rt_fires))
            .unwrap_or("-".into());
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {:.2} ({:.2}) | {:.1} | {} | {} | {} | {} |",
            r.hogs.label(),
            r.scheduler,
            r.mode.name(),
            r.boot,
            ms(r.lateness_us.p50),
            ms(r.lateness_us.p90),
            ms(r.lateness_us.p99),
            ms(r.lateness_us.max),
            r.completion_s,
            r.ideal_completion_s,
            r.measured_cpu_share_pct,
            shares(&r.hog_cpu_share_pct),
            r.backend,
            device,
            rt
        );
    }
    let _ = writeln!(md, "\n## Targets (worst boot of each configuration)\n");
    for t in targets {
        let _ = writeln!(md, "- {} **{}**: {}", if t.met { "met" } else { "MISSED" }, t.what, t.detail);
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
        let _ = writeln!(md, "| hogs | scheduler | mode | sim p50 ms | sim p99 ms | sim max ms | sim hog CPU % | QEMU p50 ms | QEMU p99 ms | QEMU max ms | QEMU hog CPU % |");
        let _ = writeln!(md, "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        for s in sim {
            let q = worst(&runs, s.scheduler, s.mode, s.hogs);
            let qcol = |f: fn(&RunResult) -> String| q.map(f).unwrap_or("-".into());
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                s.hogs.label(),
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

/// The plots: `cdf-HOGS.svg` per hog configuration, `p99-vs-cap.svg`, `completion-vs-cap.svg`.
pub fn plots(boots: &[Boot]) -> Result<Vec<(String, String)>, ReportError> {
    let runs = ordered_runs(boots);
    let mut out = Vec::new();
    let mut configs: Vec<Hogs> = runs.iter().map(|r| r.hogs).collect();
    configs.dedup();
    for hogs in configs {
        let series: Vec<Series> = runs
            .iter()
            .filter(|r| r.hogs == hogs && !r.lateness_ns.is_empty())
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
        let title = format!("Lateness CDF, hogs {}", hogs.label());
        let name = format!("cdf-{}.svg", hogs.label().replace(['%', ' '], ""));
        out.push((name, line_chart("e2e-cdf", &title, "lateness (ms)", "fraction of wake-ups", &series, false)?));
    }
    // Against the cap: uncapped is drawn at 100%; mixed work has no cap to draw it at.
    let mut by_policy: BTreeMap<(usize, Mode, String), Vec<&RunResult>> = BTreeMap::new();
    for r in runs.iter().filter(|r| matches!(r.hogs, Hogs::Uncapped | Hogs::Capped(_))) {
        by_policy.entry((sched_rank(&r.scheduler), r.mode, r.boot.clone())).or_default().push(r);
    }
    let series_of = |metric: fn(&RunResult) -> f64| -> Vec<Series> {
        by_policy
            .values()
            .map(|rs| Series {
                name: format!("{} {} ({})", rs[0].scheduler, rs[0].mode.name(), rs[0].boot),
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
                true,
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
                true,
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
    let mut configs: Vec<Hogs> = runs.iter().map(|r| r.hogs).collect();
    configs.sort();
    configs.dedup();
    let sim = match scenario {
        Some(path) => sim_side::simulate(path, &configs)?,
        None => Vec::new(),
    };
    let targets = check_targets(&runs);
    std::fs::create_dir_all(out).map_err(|source| ReportError::Write { path: out.into(), source })?;
    let mut md = summary_md(&config, &boots, &sim, &targets);
    if let Some(path) = notes {
        let text = std::fs::read_to_string(path).map_err(|source| ReportError::Read { path: path.into(), source })?;
        md.push('\n');
        md.push_str(&text);
    }
    write(&out.join("summary.md"), md.as_bytes())?;
    let json = SummaryJson { config, boots: &boots, runs: runs.clone(), simulator: &sim, targets: &targets };
    write(&out.join("summary.json"), serde_json::to_string_pretty(&json)?.as_bytes())?;
    for (name, svg) in plots(&boots)? {
        write(&out.join(name), svg.as_bytes())?;
    }
    for boot in &boots {
        if let Some(trace) = &boot.trace {
            write(&out.join(format!("trace-{}.bin", boot.tag)), trace)?;
        }
    }
    Ok(targets)
}
