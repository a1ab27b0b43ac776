//! `rtcredit-e2e`: the report of `tests/e2e/run.sh` (see `tests/e2e/README.md`).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// Builds summary.md, summary.json and the plots of an end-to-end run.
#[derive(Debug, Parser)]
#[command(name = "rtcredit-e2e", version, about)]
struct Cli {
    /// Directory of the serial logs (SCHED-bK.log) and run.json.
    #[arg(long)]
    raw: PathBuf,
    /// Where the report goes.
    #[arg(long)]
    out: PathBuf,
    /// Simulator scenario of the same setup, reported side by side.
    #[arg(long)]
    scenario: Option<PathBuf>,
    /// Markdown appended to summary.md (the explanation of a committed run).
    #[arg(long)]
    notes: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match rtcredit_e2e::report(&cli.raw, &cli.out, cli.scenario.as_deref(), cli.notes.as_deref()) {
        Ok(targets) => {
            let mut text = String::new();
            for t in targets {
                text.push_str(&format!("{}: {} ({})\n", if t.met { "met" } else { "MISSED" }, t.what, t.detail));
            }
            text.push_str(&format!("report: {}\n", cli.out.join("summary.md").display()));
            // A closed standard output (`| head`) is not an error: the report is written.
            let mut out = std::io::stdout().lock();
            match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    eprintln!("rtcredit-e2e: cannot write to standard output: {e}");
                    ExitCode::FAILURE
                }
                _ => ExitCode::SUCCESS,
            }
        }
        Err(error) => {
            eprintln!("rtcredit-e2e: {error}");
            ExitCode::FAILURE
        }
    }
}
