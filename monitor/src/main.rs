//! The `rtcredit-monitor` command: `report`, `plot` and `live` over xentrace output.
//! See the crate docs and README.md for what each shows.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use clap::{CommandFactory, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use rtcredit_monitor::analysis::{analyze, Analysis, Problems, Unusable};
use rtcredit_monitor::clock::{parse_hz, BadFrequency, Clock};
use rtcredit_monitor::merge::{Merger, DEFAULT_LIMIT};
use rtcredit_monitor::model::Model;
use rtcredit_monitor::names::{parse_xl_list, BadNamesLine};
use rtcredit_monitor::plot::{latency_cdf_svg, timeline_svg, PlotError};
use rtcredit_monitor::reader::{ReadStats, Record, TraceError, TraceReader};
use rtcredit_monitor::report::Report;

/// Reads xentrace output of an RT-Credit host: CPU time per priority, switches,
/// wake-to-run latency and RT events, per domain and VCPU.
#[derive(Debug, Parser)]
#[command(name = "rtcredit-monitor", version)]
struct Cli {
    /// TSC frequency of the traced host (e.g. 2.4GHz, 2400MHz, 2400000000). The trace
    /// does not record it; without it the rate is estimated from RT fires if the trace
    /// has enough, else times are reported in TSC cycles.
    #[arg(long, global = true, value_name = "HZ")]
    cpu_hz: Option<String>,
    /// Domain names: a file holding `xl list`'s output from the traced host (the trace
    /// has ids only); the table shows NAME(ID), JSON adds "name".
    #[arg(long, global = true, value_name = "FILE")]
    names: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Summary per domain and VCPU (aligned table, or --json / --csv).
    Report {
        /// The trace file written by xentrace ("-" for standard input).
        trace: PathBuf,
        /// JSON instead of the table.
        #[arg(long, conflicts_with = "csv")]
        json: bool,
        /// CSV instead of the table.
        #[arg(long)]
        csv: bool,
        /// Also show the idle domain (one VCPU per CPU) in the table and CSV.
        #[arg(long)]
        idle: bool,
    },
    /// SVG plots: timeline.svg (per CPU, coloured by priority) and latency-cdf.svg.
    Plot {
        /// The trace file written by xentrace ("-" for standard input).
        trace: PathBuf,
        /// Directory to write the SVG files into (created if missing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Reads `xentrace -D -e 0x0002f000 -` from standard input and refreshes the
    /// summary every interval, like top; prints the final summary at end of input.
    Live {
        /// Seconds between refreshes.
        #[arg(long, default_value_t = 1.0)]
        interval: f64,
        /// Also show the idle domain.
        #[arg(long)]
        idle: bool,
    },
    /// Print a shell completion script (e.g. `rtcredit-monitor completions bash >
    /// /usr/share/bash-completion/completions/rtcredit-monitor`).
    Completions {
        /// The shell: bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Print the man page, rtcredit-monitor(1), as roff.
    Man,
}

#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error("cannot open trace {path}: {source}")]
    Open { path: PathBuf, source: io::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
    #[error(transparent)]
    Frequency(#[from] BadFrequency),
    #[error("cannot read --names {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error(transparent)]
    Names(#[from] BadNamesLine),
    #[error(transparent)]
    Plot(#[from] PlotError),
    #[error("cannot encode JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("--interval {0}: must be a number of seconds in {MIN_INTERVAL_S}..={MAX_INTERVAL_S}")]
    BadInterval(f64),
    #[error("{path}: {source}")]
    Unusable { path: String, source: Unusable },
    /// Standard output was closed (`| head`): not worth a message.
    #[error("standard output closed")]
    StdoutClosed,
}

/// Range of `live --interval`, seconds: a refresh per 10 ms at most, per hour at least.
const MIN_INTERVAL_S: f64 = 0.01;
/// See [`MIN_INTERVAL_S`].
const MAX_INTERVAL_S: f64 = 3600.0;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) | Err(CliError::StdoutClosed) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rtcredit-monitor: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), CliError> {
    let clock = cli.cpu_hz.as_deref().map(parse_hz).transpose()?.map(Clock::given);
    let names = match &cli.names {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| CliError::Read { path: path.clone(), source })?;
            parse_xl_list(&path.display().to_string(), &text)?
        }
        None => Default::default(),
    };
    match cli.command {
        Command::Report { trace, json, csv, idle } => {
            let analysis = read_trace(&trace, false)?;
            let report = Report::build(&analysis, clock).with_names(&names);
            let text = if json {
                report.to_json()? + "\n"
            } else if csv {
                report.to_csv(idle)
            } else {
                report.to_table(idle)
            };
            if json || csv {
                // Keep machine output clean; say on stderr what was skipped.
                let notes = report.notes();
                if !notes.is_empty() {
                    eprint!("{}", notes.trim_start());
                }
            } else if let Some(off) = &report.clock_disagreement {
                // The table ends with it too; stderr makes sure a pipe does not hide it.
                eprintln!("rtcredit-monitor: {off}");
            }
            write_stdout(&text)
        }
        Command::Plot { trace, out } => {
            let analysis = read_trace(&trace, true)?;
            let report = Report::build(&analysis, clock);
            std::fs::create_dir_all(&out).map_err(|source| CliError::Write { path: out.clone(), source })?;
            let timeline = out.join("timeline.svg");
            write_file(&timeline, &timeline_svg(&analysis.model, &report.clock)?)?;
            let cdf = out.join("latency-cdf.svg");
            write_file(&cdf, &latency_cdf_svg(&analysis.model, &report.clock)?)?;
            eprint!("{}", report.notes().trim_start());
            eprintln!("{}\nwrote {} and {}", report.clock_note, timeline.display(), cdf.display());
            Ok(())
        }
        Command::Live { interval, idle } => {
            if !(MIN_INTERVAL_S..=MAX_INTERVAL_S).contains(&interval) {
                return Err(CliError::BadInterval(interval));
            }
            live(Duration::from_secs_f64(interval), clock, idle)
        }
        Command::Completions { shell } => {
            // Rendered first: clap_complete panics on a failed write (`| head`).
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "rtcredit-monitor", &mut script);
            write_stdout(&String::from_utf8_lossy(&script))
        }
        Command::Man => {
            let mut page = Vec::new();
            clap_mangen::Man::new(Cli::command())
                .render(&mut page)
                .map_err(|source| CliError::Write { path: PathBuf::from("standard output"), source })?;
            write_stdout(&String::from_utf8_lossy(&page))
        }
    }
}

/// Writes to standard output; a closed pipe (`| head`) ends the program quietly
/// ([`CliError::StdoutClosed`], exit status 0).
fn write_stdout(text: &str) -> Result<(), CliError> {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Err(CliError::StdoutClosed),
        Err(e) => Err(CliError::Write { path: PathBuf::from("standard output"), source: e }),
        Ok(()) => Ok(()),
    }
}

/// The analysis, or an error naming the input when it is not worth a report.
fn usable(analysis: Analysis, path: &Path) -> Result<Analysis, CliError> {
    let name = if path == Path::new("-") { "standard input".to_string() } else { path.display().to_string() };
    analysis.usable().map_err(|source| CliError::Unusable { path: name, source })?;
    Ok(analysis)
}

fn write_file(path: &Path, text: &str) -> Result<(), CliError> {
    let write = || -> io::Result<()> {
        let mut w = BufWriter::new(File::create(path)?);
        w.write_all(text.as_bytes())?;
        w.flush()
    };
    write().map_err(|source| CliError::Write { path: path.to_path_buf(), source })
}

/// Reads a whole trace, with a progress bar when stderr is a terminal and the size is
/// known.
fn read_trace(path: &Path, keep_segments: bool) -> Result<Analysis, CliError> {
    if path == Path::new("-") {
        return usable(analyze(io::stdin().lock(), keep_segments, |_| {}), path);
    }
    let file = File::open(path).map_err(|source| CliError::Open { path: path.to_path_buf(), source })?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let bar = (io::stderr().is_terminal() && size > 0).then(|| {
        let bar = ProgressBar::new(size);
        if let Ok(style) = ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}") {
            bar.set_style(style);
        }
        bar
    });
    let analysis = analyze(file, keep_segments, |bytes| {
        if let Some(bar) = &bar {
            bar.set_position(bytes);
        }
    });
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    usable(analysis, path)
}

/// Records `live` holds back for ordering CPUs.
const LIVE_HOLD: usize = 1024;

enum Feed {
    Item(Result<Record, TraceError>),
    Stats(ReadStats),
}

/// `live`: a reader thread on stdin, the model on this thread, a refresh per interval.
fn live(interval: Duration, clock: Option<Clock>, idle: bool) -> Result<(), CliError> {
    let (send, receive) = mpsc::sync_channel::<Feed>(65_536);
    thread::spawn(move || {
        let mut reader = TraceReader::new(io::stdin().lock());
        let mut count = 0u32;
        while let Some(item) = reader.next() {
            if send.send(Feed::Item(item)).is_err() {
                return;
            }
            count = count.wrapping_add(1);
            if count % 256 == 0 && send.send(Feed::Stats(reader.stats())).is_err() {
                return;
            }
        }
        let _ = send.send(Feed::Stats(reader.stats()));
    });
    // Hold back fewer records than for a file, so that the screen fills early.
    let mut merger = Merger::new(LIVE_HOLD, DEFAULT_LIMIT);
    let mut model = Model::new();
    let mut problems = Problems::default();
    let mut stats = ReadStats::default();
    let terminal = io::stdout().is_terminal();
    let mut next_refresh = Instant::now() + interval;
    loop {
        let wait = next_refresh.saturating_duration_since(Instant::now());
        let ended = match receive.recv_timeout(wait) {
            Ok(Feed::Item(Ok(record))) => {
                merger.push(record);
                while let Some(ready) = merger.pop() {
                    model.apply(&ready);
                }
                model.limit_hit.is_some()
            }
            Ok(Feed::Item(Err(error))) => {
                problems.add(&error);
                false
            }
            Ok(Feed::Stats(s)) => {
                stats = s;
                false
            }
            Err(mpsc::RecvTimeoutError::Timeout) => false,
            Err(mpsc::RecvTimeoutError::Disconnected) => true,
        };
        if ended {
            merger.finish();
            while let Some(ready) = merger.pop() {
                model.apply(&ready);
            }
            model.finish();
            let analysis = usable(Analysis { model, stats, problems }, Path::new("-"))?;
            let report = Report::build(&analysis, clock);
            return write_stdout(&report.to_table(idle));
        }
        if Instant::now() >= next_refresh {
            next_refresh = Instant::now() + interval;
            let mut snapshot = model.clone();
            snapshot.finish();
            let report = Report::build(&Analysis { model: snapshot, stats, problems: problems.clone() }, clock);
            let mut text = String::new();
            if terminal {
                text.push_str("\x1b[H\x1b[2J");
            }
            text.push_str(&report.to_table(idle));
            text.push_str(&format!("({} records waiting for other CPUs' data)\n", merger.queued()));
            if !terminal {
                text.push('\n');
            }
            write_stdout(&text)?;
        }
    }
}
