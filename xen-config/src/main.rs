//! `rtcredit-ctl`: see the crate documentation and README.md.

use std::process::ExitCode;

use clap::Parser;
use rtcredit_config::cli::{run, Cli};
use rtcredit_config::xenctrl::XenBackend;
use rtcredit_config::Backend;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let level = match cli.verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).without_time().init();
    let mut open = || XenBackend::open().map(|backend| Box::new(backend) as Box<dyn Backend>);
    let mut stdout = std::io::stdout().lock();
    match run(cli, &mut open, &mut stdout) {
        Ok(status) => ExitCode::from(status as u8),
        // `rtcredit-ctl boot-args | head -0`: a closed standard output ends it quietly.
        Err(error) if error.is_closed_stdout() => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("rtcredit-ctl: error: {error}");
            ExitCode::FAILURE
        }
    }
}
