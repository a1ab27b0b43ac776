//! `rtsleep bench`: wake-up lateness of a periodic loop, the way cyclictest measures it.
//!
//! The loop sleeps until absolute deadlines `start + n * period` (the library's
//! [`rtsleep::Periodic`]) and records, for each wake-up, how long after its deadline the
//! sleep returned. The report gives min / avg / p50 / p99 / max in microseconds, how many
//! wake-ups were later than 100 us and 1 ms, and how many periods were skipped because a
//! wake-up came more than a whole period late. `--plain` runs the same loop a second
//! time with plain `clock_nanosleep(TIMER_ABSTIME)` (the library's fallback, never the
//! device) and reports both, for an A/B comparison in one run. `--histogram US` adds a
//! 1 us-bucket histogram up to US microseconds (cyclictest's `-h`), with an overflow bucket.
//! Progress is shown on stderr only when stderr is a terminal.

use crate::{duration_arg, CliError};
use clap::Args;
use rtsleep::{Backend, Sleeper};
use serde::Serialize;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// Name of the run through the library (the device, or its fallback without one).
const LIBRARY: &str = "rtsleep";
/// Name of the `--plain` run: `clock_nanosleep` only.
const PLAIN: &str = "plain";

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Period of the loop.
    #[arg(long, value_parser = duration_arg, default_value = "10ms")]
    period: Duration,
    /// The period in microseconds, as cyclictest's `-i`/`--interval` takes it (instead
    /// of --period).
    #[arg(short = 'i', long = "interval", value_name = "US", conflicts_with = "period",
          value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    interval_us: Option<u64>,
    /// Number of wake-ups to measure (per run; `-l` as in cyclictest).
    #[arg(short = 'l', long, default_value_t = 3000, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    loops: u64,
    /// No progress line on stderr while measuring (cyclictest's `-q`); the report comes
    /// at the end either way.
    #[arg(short = 'q', long)]
    quiet: bool,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// Add a histogram of lateness with 1 us buckets up to US microseconds.
    #[arg(long, value_name = "US", value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    histogram: Option<u64>,
    /// Also run the loop with plain clock_nanosleep (no device) and report both.
    #[arg(long)]
    plain: bool,
}

/// Everything measured in one run of the loop.
#[derive(Debug, Serialize)]
pub struct RunReport {
    /// `rtsleep` (the library: device or its fallback) or `plain` (clock_nanosleep).
    pub name: &'static str,
    /// `device` or `fallback` (the library's backend), or `clock_nanosleep` (plain run).
    pub backend: &'static str,
    /// Why the library fell back, if it did.
    pub fallback_reason: Option<String>,
    pub loops: u64,
    pub min_us: f64,
    pub avg_us: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    pub max_us: f64,
    pub over_100us: u64,
    pub over_1ms: u64,
    /// Deadlines skipped because a wake-up was more than a period late.
    pub overruns: u64,
    /// Completion time of the loop: from its start to the last wake-up, seconds (the
    /// paper's Fig. 7; ideally `loops` periods).
    pub elapsed_s: f64,
    /// `[bucket_us, count]` for non-empty 1 us buckets below the histogram limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub histogram: Option<Vec<(u64, u64)>>,
    /// Wake-ups at or beyond the histogram limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub histogram_overflow: Option<u64>,
}

#[derive(Debug, Serialize)]
struct Report {
    period_ns: u64,
    loops: u64,
    runs: Vec<RunReport>,
}

pub fn bench(mut args: BenchArgs) -> Result<(), CliError> {
    if let Some(us) = args.interval_us {
        args.period = Duration::from_micros(us);
    }
    if args.period < Duration::from_micros(1) {
        return Err(CliError::PeriodTooShort(args.period));
    }
    if args.period > Duration::from_secs(10) {
        return Err(CliError::PeriodTooLong(args.period));
    }
    let mut runs = vec![measure(LIBRARY, &Sleeper::open(), &args)?];
    if args.plain {
        runs.push(measure(PLAIN, &Sleeper::fallback(), &args)?);
    }
    let report =
        Report { period_ns: u64::try_from(args.period.as_nanos()).unwrap_or(u64::MAX), loops: args.loops, runs };
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        print_text(&mut out, &report)?;
    }
    Ok(())
}

fn measure(name: &'static str, sleeper: &Sleeper, args: &BenchArgs) -> Result<RunReport, CliError> {
    let info = sleeper.info();
    tracing::info!(run = name, backend = ?info.backend, "measuring {} wake-ups every {:?}", args.loops, args.period);
    let progress = !args.quiet && std::io::stderr().is_terminal();
    let mut last_progress = Instant::now();
    let mut lateness_ns = Vec::with_capacity(usize::try_from(args.loops).unwrap_or(0));
    let started = Instant::now();
    let mut periodic = sleeper.periodic(args.period)?;
    for done in 0..args.loops {
        let tick = periodic.wait()?;
        lateness_ns.push(u64::try_from(tick.lateness.as_nanos()).unwrap_or(u64::MAX));
        if progress && last_progress.elapsed() >= Duration::from_millis(250) {
            eprint!("\rrtsleep bench ({name}): {}/{} wake-ups", done + 1, args.loops);
            last_progress = Instant::now();
        }
    }
    if progress {
        eprint!("\r\x1b[K");
    }
    let mut report = summarize(name, &lateness_ns, args.histogram);
    report.elapsed_s = started.elapsed().as_secs_f64();
    report.overruns = periodic.overruns();
    if name == PLAIN {
        report.backend = "clock_nanosleep";
    } else {
        report.backend = match info.backend {
            Backend::Device => "device",
            Backend::Fallback => "fallback",
        };
        report.fallback_reason = info.fallback_reason.map(|reason| reason.to_string());
    }
    Ok(report)
}

fn us(ns: u64) -> f64 {
    ns as f64 / 1_000.0
}

/// Statistics of a set of lateness samples (ns); `histogram_us` adds the histogram.
pub fn summarize(name: &'static str, samples_ns: &[u64], histogram_us: Option<u64>) -> RunReport {
    let mut sorted = samples_ns.to_vec();
    sorted.sort_unstable();
    let count = sorted.len() as u64;
    let percentile = |p: u64| -> u64 {
        if sorted.is_empty() {
            return 0;
        }
        // Nearest rank: the smallest sample with at least p% of samples at or below it.
        let rank = (p * count).div_ceil(100).max(1);
        sorted[usize::try_from(rank - 1).unwrap_or(0).min(sorted.len() - 1)]
    };
    let total: u128 = sorted.iter().map(|&ns| u128::from(ns)).sum();
    let (histogram, histogram_overflow) = match histogram_us {
        None => (None, None),
        Some(limit) => {
            let mut buckets = std::collections::BTreeMap::new();
            let mut overflow = 0;
            for &ns in &sorted {
                let bucket = ns / 1_000;
                if bucket >= limit {
                    overflow += 1;
                } else {
                    *buckets.entry(bucket).or_insert(0u64) += 1;
                }
            }
            (Some(buckets.into_iter().collect()), Some(overflow))
        }
    };
    RunReport {
        name,
        backend: "fallback",
        fallback_reason: None,
        loops: count,
        min_us: us(sorted.first().copied().unwrap_or(0)),
        avg_us: if count == 0 { 0.0 } else { total as f64 / count as f64 / 1_000.0 },
        p50_us: us(percentile(50)),
        p99_us: us(percentile(99)),
        max_us: us(sorted.last().copied().unwrap_or(0)),
        over_100us: sorted.iter().filter(|&&ns| ns > 100_000).count() as u64,
        over_1ms: sorted.iter().filter(|&&ns| ns > 1_000_000).count() as u64,
        overruns: 0,
        elapsed_s: 0.0,
        histogram,
        histogram_overflow,
    }
}

fn print_text(out: &mut impl Write, report: &Report) -> std::io::Result<()> {
    writeln!(
        out,
        "period {:?}, {} wake-ups per run; lateness in us",
        Duration::from_nanos(report.period_ns),
        report.loops
    )?;
    writeln!(
        out,
        "{:<8} {:<15} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8} {:>8} {:>8} {:>10}",
        "run", "backend", "min", "avg", "p50", "p99", "max", ">100us", ">1ms", "overrun", "elapsed s"
    )?;
    for run in &report.runs {
        writeln!(
            out,
            "{:<8} {:<15} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>8} {:>8} {:>8} {:>10.3}",
            run.name,
            run.backend,
            run.min_us,
            run.avg_us,
            run.p50_us,
            run.p99_us,
            run.max_us,
            run.over_100us,
            run.over_1ms,
            run.overruns,
            run.elapsed_s
        )?;
    }
    for run in &report.runs {
        if let Some(reason) = &run.fallback_reason {
            writeln!(out, "{}: fallback because {reason}", run.name)?;
        }
        if let (Some(histogram), Some(overflow)) = (&run.histogram, run.histogram_overflow) {
            writeln!(out, "histogram of {} (us: count)", run.name)?;
            for (bucket, count) in histogram {
                writeln!(out, "{bucket:>7}: {count}")?;
            }
            writeln!(out, "overflow: {overflow}")?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_of_known_samples() {
        let samples: Vec<u64> = (1..=100).map(|us| us * 1_000).collect();
        let report = summarize("t", &samples, Some(50));
        assert_eq!(report.min_us, 1.0);
        assert_eq!(report.max_us, 100.0);
        assert_eq!(report.p50_us, 50.0);
        assert_eq!(report.p99_us, 99.0);
        assert_eq!(report.avg_us, 50.5);
        assert_eq!(report.over_100us, 0);
        assert_eq!(report.histogram_overflow, Some(51));
        assert_eq!(report.histogram.as_ref().map(Vec::len), Some(49));
    }

    #[test]
    fn thresholds_count_strictly_greater() {
        let report = summarize("t", &[100_000, 100_001, 1_000_001], None);
        assert_eq!((report.over_100us, report.over_1ms), (2, 1));
        assert!(report.histogram.is_none());
    }
}
