//! `rtsleep`: the guest-side command of RT-Credit.
//!
//! * `rtsleep run -- CMD`: runs an unmodified program with the preload shim, so its
//!   sleeps between `--min` and `--max` become RT wake-ups through `/dev/rtsleep`;
//! * `rtsleep sleep 10ms`: one sleep through the library (a scriptable `sleep`);
//! * `rtsleep bench`: a periodic loop that measures wake-up lateness, cyclictest-like,
//!   optionally A/B against plain `clock_nanosleep` in the same run (`--plain`);
//! * `rtsleep status`: is the device there, is this Xen, is RT accepted, the counters.
//!
//! Logs go to stderr through `tracing`; `RUST_LOG=debug` shows each decision.

mod bench;
mod run;
mod status;

use clap::{CommandFactory, Parser, Subcommand};
use rtsleep::duration::{parse_duration, DurationError};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Everything the command reports as an error (exit status 1).
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Library(#[from] rtsleep::Error),
    #[error("--min {min:?} is above --max {max:?}; the window of routed sleeps would be empty")]
    EmptyWindow { min: Duration, max: Duration },
    #[error(
        "--shim {0}: no such file; build the shim with `cargo build --release -p rtsleep-preload` or fix the path"
    )]
    ShimMissing(PathBuf),
    #[error("RTSLEEP_SHIM={0}: no such file; unset it or point it at librtsleep_preload.so")]
    ShimEnvMissing(PathBuf),
    #[error("librtsleep_preload.so not found (looked in {searched}) and this rtsleep has none embedded; build it with `cargo build --release -p rtsleep-preload`, install it beside the rtsleep binary, or pass --shim PATH")]
    ShimNotFound { searched: String },
    #[error("librtsleep_preload.so not found (looked in {searched}), and the copy embedded in rtsleep cannot be written to the first of {dirs}: {source}; pass --shim PATH", dirs = run::EMBEDDED_DIRS)]
    ShimEmbeddedWrite { searched: String, source: std::io::Error },
    #[error("rtsleep run needs a program: rtsleep run [OPTIONS] -- CMD [ARGS]")]
    NoCommand,
    #[error("cannot run {command:?}: {source}")]
    Spawn { command: String, source: std::io::Error },
    #[error("--period must be at least 1us (got {0:?})")]
    PeriodTooShort(Duration),
    #[error("--period must be at most 10s (got {0:?}); longer periods measure nothing useful")]
    PeriodTooLong(Duration),
    #[error("-l 0 (endless, as in cyclictest) needs -D TIME to end the run")]
    EndlessBench,
    #[error("-m: mlockall failed: {0} (raise RLIMIT_MEMLOCK, or run as root)")]
    Mlockall(std::io::Error),
    #[error("-p {priority}: cannot run at SCHED_FIFO priority {priority}: {source} (needs CAP_SYS_NICE or root)")]
    Priority { priority: u8, source: std::io::Error },
    #[error("--json={}: cannot write the report: {source}", path.display())]
    JsonFile { path: PathBuf, source: std::io::Error },
    #[error("cannot write the report: {0}")]
    Output(#[from] std::io::Error),
    #[error("cannot encode the JSON report: {0}")]
    Json(#[from] serde_json::Error),
}

#[derive(Debug, Parser)]
#[command(name = "rtsleep", version, about = "RT-Credit guest tools: run with RT wake-ups, sleep, measure, status")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run CMD with the preload shim: its absolute-deadline sleeps and its real-time threads'
    /// sleeps (--all: every sleep) inside [--min, --max] go through /dev/rtsleep.
    Run(run::RunArgs),
    /// Sleep for DURATION (e.g. 10ms, 1.5s, 250us) through the library.
    Sleep {
        /// How long: a number and a unit (ns, us, ms, s, m).
        #[arg(value_parser = duration_arg, allow_hyphen_values = true)]
        duration: Duration,
    },
    /// Measure periodic wake-up lateness (cyclictest-like; takes cyclictest's common options).
    #[command(disable_help_flag = true)]
    Bench(bench::BenchArgs),
    /// Show whether the device is present, whether this is Xen, whether RT is accepted.
    Status {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Print a shell completion script (e.g. `rtsleep completions bash >
    /// /usr/share/bash-completion/completions/rtsleep`).
    Completions {
        /// The shell: bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Print the man page, rtsleep(1), as roff (`rtsleep man > rtsleep.1`).
    Man,
}

impl CliError {
    /// Whether this is a write to a closed pipe (the reader went away, e.g. `| head`).
    fn is_closed_stdout(&self) -> bool {
        match self {
            CliError::Output(e) => e.kind() == std::io::ErrorKind::BrokenPipe,
            CliError::Json(e) => e.io_error_kind() == Some(std::io::ErrorKind::BrokenPipe),
            _ => false,
        }
    }
}

/// Writes generated text (a completion script, the man page) to standard output.
fn print_bytes(bytes: &[u8]) -> Result<ExitCode, CliError> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes).and_then(|()| out.flush()).map_err(CliError::Output)?;
    Ok(ExitCode::SUCCESS)
}

/// clap value parser for human durations.
pub fn duration_arg(text: &str) -> Result<Duration, DurationError> {
    parse_duration(text)
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Sleep { duration } => sleep(duration).map(|()| ExitCode::SUCCESS),
        Command::Bench(args) => bench::bench(args).map(|()| ExitCode::SUCCESS),
        Command::Status { json } => status::status(json).map(|()| ExitCode::SUCCESS),
        Command::Completions { shell } => {
            // Rendered first: clap_complete panics on a failed write (`| head`).
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "rtsleep", &mut script);
            print_bytes(&script)
        }
        Command::Man => {
            let mut page = Vec::new();
            clap_mangen::Man::new(Cli::command())
                .render(&mut page)
                .map_err(CliError::Output)
                .and_then(|()| print_bytes(&page))
        }
    };
    match result {
        Ok(code) => code,
        // `rtsleep status | head -1`: a closed standard output ends the command quietly.
        Err(err) if err.is_closed_stdout() => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("rtsleep: {err}");
            ExitCode::FAILURE
        }
    }
}

fn sleep(duration: Duration) -> Result<(), CliError> {
    let sleeper = rtsleep::Sleeper::open();
    let info = sleeper.info();
    match &info.fallback_reason {
        None => tracing::debug!(device = %info.device_path.display(), "sleeping on the device"),
        Some(reason) => tracing::debug!(%reason, "sleeping with clock_nanosleep"),
    }
    sleeper.sleep(duration)?;
    Ok(())
}
