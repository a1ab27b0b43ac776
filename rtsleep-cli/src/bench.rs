//! `rtsleep bench`: wake-up lateness of a periodic loop, the way cyclictest measures it.
//!
//! The loop sleeps until absolute deadlines `start + n * period` (the library's
//! [`rtsleep::Periodic`]) and records, for each wake-up, how long after its deadline the
//! sleep returned. The report gives min / avg / p50 / p99 / max in microseconds, how many
//! wake-ups were later than 100 us and 1 ms, and how many periods were skipped because a
//! wake-up came more than a whole period late. `--plain` runs the same loop a second
//! time with plain `clock_nanosleep(TIMER_ABSTIME)` (the library's fallback, never the
//! device) and reports both, for an A/B comparison in one run. `--histogram US` adds a
//! 1 us-bucket histogram up to US microseconds, with an overflow bucket. Progress is
//! shown on stderr only when stderr is a terminal.
//!
//! cyclictest's common options mean what they mean there: `-i US` (interval), `-l N`
//! (loops; 0 = until `-D`), `-D TIME` (duration, seconds or with `m`/`h`/`d`), `-p PRIO`
//! (SCHED_FIFO priority of the measuring thread, 0 = leave it), `-m` (mlockall), `-q`
//! (summary on exit only), `-h US` (histogram), `--json=FILE` (the report into FILE). With
//! `-q` (or `--format cyclictest`) the output is cyclictest's end-of-run layout, so that
//! scripts written for cyclictest read it. cyclictest also holds `/dev/cpu_dma_latency`
//! at 0 for its run unless `--default-system`; this tool does so only with `--latency=US`,
//! so compare `rtsleep bench --latency=0` with `cyclictest`: the `T: 0 (tid) P: .. I: .. C: .. Min: .. Act: ..
//! Avg: .. Max: ..` line, or with a histogram its `# Histogram` block, one thread column
//! per run (thread 0 the library's, thread 1 `--plain`'s), whole microseconds as
//! cyclictest counts them. `--json` (to standard output) keeps this tool's own, richer report.

use crate::{duration_arg, CliError};
use clap::Args;
use rtsleep::{Backend, Sleeper};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
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
    /// Number of wake-ups to measure (per run; `-l` as in cyclictest); 0: until --duration.
    #[arg(short = 'l', long, default_value_t = 3000, value_parser = clap::value_parser!(u64).range(0..=10_000_000))]
    loops: u64,
    /// Stop after TIME (cyclictest's `-D`): seconds, or a number with m, h or d (`-D 90`,
    /// `-D 10m`). The run ends at --loops or TIME, whichever comes first.
    #[arg(short = 'D', long, value_name = "TIME", value_parser = cyclictest_duration)]
    duration: Option<Duration>,
    /// Run the measuring thread at this SCHED_FIFO priority, 1..=99 (cyclictest's `-p`;
    /// 0 leaves its policy alone). Needs CAP_SYS_NICE or root.
    #[arg(short = 'p', long, value_name = "PRIO", default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=99))]
    priority: u8,
    /// Lock current and future memory (cyclictest's `-m`).
    #[arg(short = 'm', long)]
    mlockall: bool,
    /// No progress line on stderr while measuring, and cyclictest's end-of-run layout on
    /// stdout (cyclictest's `-q`, unless --format table).
    #[arg(short = 'q', long)]
    quiet: bool,
    /// The report as JSON: on stdout with `--json`, into FILE with `--json=FILE`
    /// (cyclictest's spelling; stdout then keeps the text layout).
    #[arg(long, value_name = "FILE", num_args = 0..=1, require_equals = true, default_missing_value = "-")]
    json: Option<PathBuf>,
    /// Text layout: `table` (this tool's) or `cyclictest`. Default: cyclictest's with -q,
    /// else the table.
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Add a histogram of lateness with 1 us buckets up to US microseconds (cyclictest's
    /// `-h`/`--histogram`).
    #[arg(short = 'h', long, value_name = "US", value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    histogram: Option<u64>,
    /// Also run the loop with plain clock_nanosleep (no device) and report both.
    #[arg(long)]
    plain: bool,
    /// Hold /dev/cpu_dma_latency at US during the run (cyclictest's `--latency`): keeps
    /// idle CPUs out of deep C-states. cyclictest does this by default (with 0, unless
    /// `--default-system`); here only when asked, so that a guest's bench leaves its power
    /// management as it is.
    #[arg(long, value_name = "US", value_parser = clap::value_parser!(i32).range(0..=2_000_000_000))]
    latency: Option<i32>,
    /// Print help (`-h` is the histogram, as in cyclictest).
    #[arg(long, action = clap::ArgAction::Help)]
    help: Option<bool>,
}

/// The text layouts of the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One row per run with percentiles (this tool's).
    Table,
    /// cyclictest's end-of-run summary and histogram.
    Cyclictest,
}

/// cyclictest's `-D` syntax: a whole number of seconds, or with a unit `s`, `m`, `h`, `d`.
pub fn cyclictest_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit_s) = match text.char_indices().last() {
        Some((at, 's')) => (&text[..at], 1),
        Some((at, 'm')) => (&text[..at], 60),
        Some((at, 'h')) => (&text[..at], 3_600),
        Some((at, 'd')) => (&text[..at], 86_400),
        _ => (text, 1),
    };
    let value: u64 = number.parse().map_err(|_| {
        format!("{text:?} is not a duration: a whole number of seconds, or with m, h or d (e.g. 90, 10m)")
    })?;
    if value == 0 {
        return Err("the duration must be more than 0".to_string());
    }
    value.checked_mul(unit_s).map(Duration::from_secs).ok_or_else(|| format!("{text:?} is too long"))
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
    /// The same run in cyclictest's terms, for its layout.
    #[serde(skip)]
    pub cyclic: CyclicStats,
}

/// What cyclictest prints of a run, in whole microseconds truncated as it counts them
/// (a wake-up 1.9 us late is 1 us).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct CyclicStats {
    pub cycles: u64,
    pub min_us: u64,
    /// The last wake-up's lateness (cyclictest's `Act:`).
    pub act_us: u64,
    /// The integer mean (sum / cycles).
    pub avg_us: u64,
    pub max_us: u64,
    /// The histogram's limit (`-h US`; 0: no histogram). cyclictest prints every bucket
    /// below it, empty ones too.
    pub limit_us: u64,
    /// Counts of the non-empty 1 us buckets below the limit (sparse: `-h 1000000` must
    /// not cost 8 MB per run in a small guest).
    pub buckets: BTreeMap<u64, u64>,
    pub overflows: u64,
    /// Cycle numbers (from 0) of the first overflows: at most as many as the limit, as
    /// cyclictest keeps.
    pub overflow_cycles: Vec<u64>,
}

/// cyclictest's view of samples in wake-up order (ns); `histogram_us` gives the buckets.
pub fn cyclic_stats(samples_ns: &[u64], histogram_us: Option<u64>) -> CyclicStats {
    let samples_us: Vec<u64> = samples_ns.iter().map(|ns| ns / 1_000).collect();
    let cycles = samples_us.len() as u64;
    let limit = histogram_us.unwrap_or(0);
    let mut stats = CyclicStats {
        cycles,
        min_us: samples_us.iter().copied().min().unwrap_or(0),
        act_us: samples_us.last().copied().unwrap_or(0),
        avg_us: samples_us.iter().sum::<u64>().checked_div(cycles).unwrap_or(0),
        max_us: samples_us.iter().copied().max().unwrap_or(0),
        limit_us: limit,
        ..CyclicStats::default()
    };
    for (cycle, &us) in samples_us.iter().enumerate().filter(|_| limit > 0) {
        if us < limit {
            *stats.buckets.entry(us).or_insert(0) += 1;
        } else {
            stats.overflows += 1;
            if (stats.overflow_cycles.len() as u64) < limit {
                stats.overflow_cycles.push(cycle as u64);
            }
        }
    }
    stats
}

#[derive(Debug, Serialize)]
struct Report {
    period_ns: u64,
    loops: u64,
    /// What /dev/cpu_dma_latency was held at during the runs (none: left alone, or it
    /// could not be opened).
    cpu_dma_latency_us: Option<i32>,
    runs: Vec<RunReport>,
}

/// Holds a PM QoS CPU latency request for as long as it lives (the kernel drops it when
/// the file is closed).
fn hold_cpu_dma_latency(latency_us: i32) -> Option<std::fs::File> {
    let path = "/dev/cpu_dma_latency";
    let result = std::fs::OpenOptions::new().write(true).open(path).and_then(|mut file| {
        file.write_all(&latency_us.to_ne_bytes())?;
        Ok(file)
    });
    match result {
        Ok(file) => Some(file),
        Err(error) => {
            tracing::warn!(%error, "--latency: {path} not set (it needs root); measuring without it");
            None
        }
    }
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
    if args.loops == 0 && args.duration.is_none() {
        return Err(CliError::EndlessBench);
    }
    if args.mlockall {
        use nix::sys::mman::{mlockall, MlockAllFlags};
        mlockall(MlockAllFlags::MCL_CURRENT | MlockAllFlags::MCL_FUTURE)
            .map_err(|errno| CliError::Mlockall(std::io::Error::from(errno)))?;
    }
    if args.priority > 0 {
        // nix has no sched_setscheduler: libc's, directly.
        let param = libc::sched_param { sched_priority: i32::from(args.priority) };
        // SAFETY: `param` is a valid sched_param for the call; pid 0 is this thread.
        if unsafe { libc::sched_setscheduler(0, libc::SCHED_FIFO, &param) } != 0 {
            return Err(CliError::Priority { priority: args.priority, source: std::io::Error::last_os_error() });
        }
    }
    // The report's file is opened first, so that a bad path costs no measurement.
    let json_to_stdout = args.json.as_deref() == Some(std::path::Path::new("-"));
    let json_file = match args.json.as_ref().filter(|_| !json_to_stdout) {
        Some(path) => {
            Some(std::fs::File::create(path).map_err(|source| CliError::JsonFile { path: path.clone(), source })?)
        }
        None => None,
    };
    let dma_latency = args.latency.and_then(|latency_us| Some((latency_us, hold_cpu_dma_latency(latency_us)?)));
    let mut runs = vec![measure(LIBRARY, &Sleeper::open(), &args)?];
    if args.plain {
        runs.push(measure(PLAIN, &Sleeper::fallback(), &args)?);
    }
    let report = Report {
        period_ns: u64::try_from(args.period.as_nanos()).unwrap_or(u64::MAX),
        loops: runs[0].loops,
        cpu_dma_latency_us: dma_latency.as_ref().map(|(latency_us, _)| *latency_us),
        runs,
    };
    drop(dma_latency);
    if let Some(file) = json_file {
        let mut file = std::io::BufWriter::new(file);
        serde_json::to_writer_pretty(&mut file, &report)?;
        writeln!(file)?;
        file.flush()?;
    }
    let mut out = std::io::stdout().lock();
    if json_to_stdout {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else if args.format.unwrap_or(if args.quiet { Format::Cyclictest } else { Format::Table }) == Format::Cyclictest {
        let context = CyclicContext {
            tid: i64::from(nix::unistd::gettid().as_raw()),
            priority: args.priority,
            interval_us: u64::try_from(args.period.as_micros()).unwrap_or(u64::MAX),
            summary_lines: !(args.quiet && args.histogram.is_some()),
        };
        print_cyclictest(&mut out, &report, &context)?;
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
    let mut done = 0;
    while args.loops == 0 || done < args.loops {
        if args.duration.is_some_and(|limit| started.elapsed() >= limit) {
            break;
        }
        done += 1;
        let tick = periodic.wait()?;
        lateness_ns.push(u64::try_from(tick.lateness.as_nanos()).unwrap_or(u64::MAX));
        if progress && last_progress.elapsed() >= Duration::from_millis(250) {
            eprint!("\rrtsleep bench ({name}): {done}/{} wake-ups", args.loops);
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
    // One histogram: the JSON's non-empty buckets are cyclictest's view's.
    let cyclic = cyclic_stats(samples_ns, histogram_us);
    let (histogram, histogram_overflow) = match histogram_us {
        None => (None, None),
        Some(_) => (Some(cyclic.buckets.iter().map(|(&us, &n)| (us, n)).collect()), Some(cyclic.overflows)),
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
        cyclic,
    }
}

/// What cyclictest's layout says beside the statistics.
struct CyclicContext {
    tid: i64,
    priority: u8,
    interval_us: u64,
    /// The `T:` lines (cyclictest leaves them out with -q and a histogram).
    summary_lines: bool,
}

/// cyclictest's end-of-run output (`print_stat` with -q, `print_hist`), one thread per run.
fn print_cyclictest(out: &mut impl Write, report: &Report, context: &CyclicContext) -> std::io::Result<()> {
    let runs: Vec<&CyclicStats> = report.runs.iter().map(|run| &run.cyclic).collect();
    if let Some(latency_us) = report.cpu_dma_latency_us {
        writeln!(out, "# /dev/cpu_dma_latency set to {latency_us}us")?;
    }
    if context.summary_lines {
        for (thread, c) in runs.iter().enumerate() {
            writeln!(
                out,
                "T:{thread:2} ({:5}) P:{:2} I:{} C:{:7} Min:{:7} Act:{:5} Avg:{:5} Max:{:8}",
                context.tid, context.priority, context.interval_us, c.cycles, c.min_us, c.act_us, c.avg_us, c.max_us
            )?;
        }
    }
    let Some(first) = runs.first().filter(|c| c.limit_us > 0) else { return Ok(()) };
    writeln!(out, "# Histogram")?;
    for bucket in 0..first.limit_us {
        let counts: Vec<String> = runs.iter().map(|c| format!("{:06}", c.buckets.get(&bucket).unwrap_or(&0))).collect();
        writeln!(out, "{bucket:06} {}", counts.join("\t"))?;
    }
    let row = |label: &str, width: usize, value: &dyn Fn(&CyclicStats) -> u64| {
        let values: String = runs.iter().map(|c| format!(" {:0width$}", value(c))).collect();
        format!("# {label}:{values}")
    };
    writeln!(out, "{}", row("Total", 9, &|c| c.buckets.values().sum()))?;
    writeln!(out, "{}", row("Min Latencies", 5, &|c| c.min_us))?;
    writeln!(out, "{}", row("Avg Latencies", 5, &|c| c.avg_us))?;
    writeln!(out, "{}", row("Max Latencies", 5, &|c| c.max_us))?;
    writeln!(out, "{}", row("Histogram Overflows", 5, &|c| c.overflows))?;
    writeln!(out, "# Histogram Overflow at cycle number:")?;
    for (thread, c) in runs.iter().enumerate() {
        let cycles: String = c.overflow_cycles.iter().map(|n| format!(" {n:05}")).collect();
        let others = c.overflows - c.overflow_cycles.len() as u64;
        let others = if others > 0 { format!(" # {others:05} others") } else { String::new() };
        writeln!(out, "# Thread {thread}:{cycles}{others}")?;
    }
    writeln!(out)
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
    fn cyclictests_view_truncates_to_whole_microseconds_and_keeps_the_first_overflow_cycles() {
        // Wake-up order matters: Act is the last one, overflow cycles count from 0.
        let samples = [1_900, 3_000, 10_500, 2_999, 12_000, 15_000, 11_000];
        let c = cyclic_stats(&samples, Some(10));
        assert_eq!((c.cycles, c.min_us, c.act_us, c.max_us), (7, 1, 11, 15));
        assert_eq!(c.avg_us, (1 + 3 + 10 + 2 + 12 + 15 + 11) / 7, "the mean of the truncated values, truncated");
        assert_eq!(c.limit_us, 10);
        assert_eq!((c.buckets.get(&1), c.buckets.get(&2), c.buckets.get(&3)), (Some(&1), Some(&1), Some(&1)));
        assert_eq!(c.overflows, 4);
        assert_eq!(c.overflow_cycles, [2, 4, 5, 6]);
        // At most as many overflow cycles as buckets, the rest only counted.
        let c = cyclic_stats(&[5_000; 6], Some(2));
        assert_eq!((c.overflows, c.overflow_cycles.as_slice()), (6, &[0, 1][..]));
        assert!(cyclic_stats(&[5_000], None).buckets.is_empty());
        assert_eq!(cyclic_stats(&[5_000], None).limit_us, 0);
    }

    #[test]
    fn cyclictests_duration_syntax() {
        assert_eq!(cyclictest_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(cyclictest_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(cyclictest_duration("2h"), Ok(Duration::from_secs(7_200)));
        assert_eq!(cyclictest_duration("1d"), Ok(Duration::from_secs(86_400)));
        assert_eq!(cyclictest_duration("5s"), Ok(Duration::from_secs(5)));
        for bad in ["", "0", "m", "1.5", "10ms", "-3", "99999999999999999999d"] {
            assert!(cyclictest_duration(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn thresholds_count_strictly_greater() {
        let report = summarize("t", &[100_000, 100_001, 1_000_001], None);
        assert_eq!((report.over_100us, report.over_1ms), (2, 1));
        assert!(report.histogram.is_none());
    }
}
