//! Writing the `paper` results: per experiment a CSV and an SVG, plus `summary.md` and
//! `summary.json` for all of them.
//!
//! Files (in the output directory):
//!
//! | file | content |
//! | --- | --- |
//! | `fig1.csv`, `fig1.svg` | pings: per packet, start of handling, interval since the previous one, lateness |
//! | `fig2.csv`, `fig2.svg` | periodic task at 20%: per period, start, arrival interval, lateness |
//! | `fig5.csv`, `fig5.svg` | CDF of the arrival interval at 20% |
//! | `fig6.csv`, `fig6.svg` | lateness percentiles against the hogs' share |
//! | `fig7.csv`, `fig7.svg` | completion time of all periods against the share (absolute and relative deadlines) |
//! | `summary.md`, `summary.json` | every run's numbers |

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::paper::{release_name, PaperConfig, PaperOutcome, PaperResults};
use crate::plot::{line_chart, stacked_series, Legend, Look, PlotError, Series, YAxis};
use crate::stats::{ns_to_ms, round3};

/// Writing results failed.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("cannot write {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Plot(#[from] PlotError),
    #[error("cannot encode the summary as JSON: {0}")]
    Json(#[from] serde_json::Error),
}

fn write(dir: &Path, name: &str, content: &str) -> Result<(), OutputError> {
    let path = dir.join(name);
    std::fs::write(&path, content).map_err(|source| OutputError::Io { path, source })
}

/// Writes every file into `dir` (created if needed).
pub fn write_paper(dir: &Path, config: &PaperConfig, results: &PaperResults) -> Result<(), OutputError> {
    std::fs::create_dir_all(dir).map_err(|source| OutputError::Io { path: dir.to_path_buf(), source })?;
    for (name, runs, title) in [
        ("fig1", &results.fig1, "Fig. 1: external pings every 10 ms, hogs at 20%: interval between handled pings"),
        ("fig2", &results.fig2, "Fig. 2: periodic 10 ms task, hogs at 20%: arrival interval"),
    ] {
        write(dir, &format!("{name}.csv"), &series_csv(runs))?;
        let mut series: Vec<Series> = runs.iter().map(interval_series).collect();
        if name == "fig1" {
            // Pings are event-channel wake-ups, never an rtsleep deadline: RT-Credit's
            // panel is credit's by design, which an unexplained twin panel hides.
            for line in series.iter_mut().filter(|s| s.name == "rtcredit") {
                line.name.push_str(" (pings are event wake-ups, not rtsleep deadlines: no RT, so as credit)");
            }
        }
        let svg = stacked_series(name, title, "period", "interval (ms)", &series)?;
        write(dir, &format!("{name}.svg"), &svg)?;
    }
    write(dir, "fig5.csv", &cdf_csv(&results.fig5))?;
    let cdfs: Vec<Series> = results.fig5.iter().map(cdf_series).collect();
    write(
        dir,
        "fig5.svg",
        &line_chart(
            "fig5",
            "Fig. 5: CDF of the arrival interval, hogs at 20%",
            "arrival interval (ms)",
            "fraction of periods",
            &cdfs,
            Look { markers: false, y_axis: YAxis::FromZero, legend: Legend::LowerRight },
        )?,
    )?;
    write(dir, "fig6.csv", &fig6_csv(&results.fig6))?;
    write(
        dir,
        "fig6.svg",
        &line_chart(
            "fig6",
            "Fig. 6: lateness (p99) against the other domains' share",
            "share of each hog (%)",
            "p99 lateness (ms)",
            &per_policy(&results.fig6, |o| o.outcome.summary.lateness_us.p99 / 1000.0, None),
            Look { markers: true, y_axis: YAxis::Log, legend: Legend::LowerRight },
        )?,
    )?;
    write(dir, "fig7.csv", &fig7_csv(&results.fig7))?;
    let mut fig7 = per_policy(&results.fig7, |o| o.outcome.summary.completion_s, Some("relative"));
    for line in fig7.iter_mut() {
        line.name = format!("{} (sleep 10 ms)", line.name);
    }
    let mut absolute = per_policy(&results.fig7, |o| o.outcome.summary.completion_s, Some("absolute"));
    for line in absolute.iter_mut() {
        line.name = format!("{} (absolute deadlines)", line.name);
    }
    fig7.extend(absolute);
    write(
        dir,
        "fig7.svg",
        &line_chart(
            "fig7",
            "Fig. 7: time to complete all periods against share",
            "share of each hog (%)",
            "completion time (s)",
            &fig7,
            Look { markers: true, y_axis: YAxis::Fit, legend: Legend::UpperLeft },
        )?,
    )?;
    write(dir, "summary.md", &summary_md(config, results))?;
    let json = serde_json::to_string_pretty(&results.to_json(config))?;
    write(dir, "summary.json", &(json + "\n"))?;
    Ok(())
}

/// Arrival intervals (ms) per period of a run.
fn intervals_ms(outcome: &PaperOutcome) -> Vec<f64> {
    outcome.outcome.starts_ns.windows(2).map(|w| ns_to_ms(w[1].saturating_sub(w[0]))).collect()
}

fn interval_series(outcome: &PaperOutcome) -> Series {
    Series {
        name: outcome.run.policy.name().to_string(),
        points: intervals_ms(outcome).into_iter().enumerate().map(|(i, v)| ((i + 1) as f64, v)).collect(),
    }
}

fn series_csv(runs: &[PaperOutcome]) -> String {
    let mut csv = String::from("policy,hog_share_pct,index,start_ms,interval_ms,lateness_us\n");
    for o in runs {
        let starts = &o.outcome.starts_ns;
        for (index, start) in starts.iter().enumerate() {
            let interval = if index == 0 {
                String::new()
            } else {
                format!("{}", ns_to_ms(start.saturating_sub(starts[index - 1])))
            };
            let lateness = o.outcome.lateness_ns.get(index).map_or(0.0, |ns| round3(*ns as f64 / 1e3));
            let _ = writeln!(
                csv,
                "{},{},{},{},{},{}",
                o.run.policy,
                o.run.share_pct,
                index,
                ns_to_ms(*start),
                interval,
                lateness
            );
        }
    }
    csv
}

fn sorted_intervals(outcome: &PaperOutcome) -> Vec<f64> {
    let mut values = intervals_ms(outcome);
    values.sort_by(f64::total_cmp);
    values
}

fn cdf_series(outcome: &PaperOutcome) -> Series {
    let values = sorted_intervals(outcome);
    let n = values.len().max(1) as f64;
    Series {
        name: outcome.run.policy.name().to_string(),
        points: values.iter().enumerate().map(|(i, v)| (*v, (i + 1) as f64 / n)).collect(),
    }
}

fn cdf_csv(runs: &[PaperOutcome]) -> String {
    let mut csv = String::from("policy,interval_ms,cdf\n");
    for o in runs {
        for (x, y) in cdf_series(o).points {
            let _ = writeln!(csv, "{},{},{}", o.run.policy, x, round3(y * 1000.0) / 1000.0);
        }
    }
    csv
}

fn fig6_csv(runs: &[PaperOutcome]) -> String {
    let mut csv = String::from("policy,hog_share_pct,p50_us,p90_us,p99_us,max_us,hog_cpu_share_pct\n");
    for o in runs {
        let s = &o.outcome.summary;
        let shares: Vec<String> = s.hog_cpu_share_pct.iter().map(|v| v.to_string()).collect();
        let _ = writeln!(
            csv,
            "{},{},{},{},{},{},{}",
            s.policy,
            s.hog_share_pct,
            s.lateness_us.p50,
            s.lateness_us.p90,
            s.lateness_us.p99,
            s.lateness_us.max,
            shares.join(";")
        );
    }
    csv
}

fn fig7_csv(runs: &[PaperOutcome]) -> String {
    let mut csv = String::from("policy,release,hog_share_pct,completion_s,ideal_s,late_s\n");
    for o in runs {
        let s = &o.outcome.summary;
        let late = (s.completion_s - s.ideal_completion_s) * 1e6;
        let _ = writeln!(
            csv,
            "{},{},{},{},{},{}",
            s.policy,
            release_name(o.run.measured),
            s.hog_share_pct,
            s.completion_s,
            s.ideal_completion_s,
            late.round() / 1e6
        );
    }
    csv
}

/// One line per policy: (share, value) over the runs (optionally of one release mode).
fn per_policy(runs: &[PaperOutcome], value: impl Fn(&PaperOutcome) -> f64, release: Option<&str>) -> Vec<Series> {
    let mut lines: Vec<Series> = Vec::new();
    for o in runs {
        if release.is_some_and(|r| r != release_name(o.run.measured)) {
            continue;
        }
        let name = o.run.policy.name();
        let point = (f64::from(o.run.share_pct), value(o));
        match lines.iter_mut().find(|l| l.name == name) {
            Some(line) => line.points.push(point),
            None => lines.push(Series { name: name.to_string(), points: vec![point] }),
        }
    }
    lines
}

fn ms(us: f64) -> String {
    format!("{:.3}", us / 1000.0)
}

/// The Markdown table of every run.
pub fn summary_md(config: &PaperConfig, results: &PaperResults) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# rtcredit-sim: the paper's experiments\n");
    let _ = writeln!(
        md,
        "One pCPU; measured domain: 10 ms period, {} us of work per period, {} periods; three hog domains ({} model{}); \
         IPI delay {} us, context switch {} us, timer slop {} us; seed {}.\n",
        config.compute_ns / 1000,
        config.periods,
        config.hog_model.name(),
        match config.hog_model {
            crate::paper::HogModel::Duty => format!(", {} ms windows", config.duty_cycle_ns / 1_000_000),
            crate::paper::HogModel::Cap => String::new(),
        },
        config.ipi_delay_ns / 1000,
        config.switch_cost_ns / 1000,
        config.timer_slop_ns / 1000,
        config.seed
    );
    let _ = writeln!(
        md,
        "Lateness in ms (start of the period's work minus its deadline; for fig1, start of handling minus arrival). \
         Completion: first deadline to end of the last period, in s (ideal in parentheses). Shares in % of the pCPU. \
         Priority time: the measured domain's run time at RT/BOOST/UNDER/OVER, in ms.\n"
    );
    for (name, runs) in [
        ("fig1", &results.fig1),
        ("fig2", &results.fig2),
        ("fig5", &results.fig5),
        ("fig6", &results.fig6),
        ("fig7", &results.fig7),
    ] {
        let _ = writeln!(md, "## {name}\n");
        let _ = writeln!(
            md,
            "| policy | deadlines | hogs | p50 | p90 | p99 | max | completion s | hog shares | measured share | switches | RT/BOOST/UNDER/OVER ms |"
        );
        let _ = writeln!(md, "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | --- |");
        for o in runs {
            let s = &o.outcome.summary;
            let shares: Vec<String> = s.hog_cpu_share_pct.iter().map(|v| format!("{v:.2}")).collect();
            let prio = s.domains.first().map(|d| d.prio_time_ms).unwrap_or_default();
            let _ = writeln!(
                md,
                "| {} | {} | {}% | {} | {} | {} | {} | {:.3} ({:.3}) | {} | {:.2} | {} | {:.0}/{:.0}/{:.0}/{:.0} |",
                s.policy,
                release_name(o.run.measured),
                s.hog_share_pct,
                ms(s.lateness_us.p50),
                ms(s.lateness_us.p90),
                ms(s.lateness_us.p99),
                ms(s.lateness_us.max),
                s.completion_s,
                s.ideal_completion_s,
                shares.join(", "),
                s.measured_cpu_share_pct,
                s.context_switches,
                prio.rt,
                prio.boost,
                prio.under,
                prio.over
            );
        }
        let _ = writeln!(md);
    }
    md
}
