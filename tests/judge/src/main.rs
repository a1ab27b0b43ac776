//! `rtcredit-judge`: judges the serial log of a QEMU harness (see the crate docs).
//!
//! ```sh
//! rtcredit-judge xl-smoke --log .cache/xl-smoke/run-rtcredit/serial.log --sched rtcredit \
//!     --qemu-rc 0 --boot-secs 37 --timeout 300 --cap 20 --weight 512 --weight2 300 \
//!     --rt-budget 20 --rt-rate 500 --rt-budget2 30 --marker XLSMOKE-DOMU-ALIVE \
//!     --crash-re "$XEN_CRASH_RE"
//! ```
//!
//! Exit status: 0 if every check passed, 1 if one failed, 2 for a bad flag, a log it
//! cannot read or a crash pattern it cannot use.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use rtcredit_judge::xl_smoke::{self, Sched};
use rtcredit_judge::{CrashPattern, Serial};

#[derive(Debug, Parser)]
#[command(name = "rtcredit-judge", version, about)]
struct Cli {
    #[command(subcommand)]
    harness: Harness,
}

#[derive(Debug, Subcommand)]
enum Harness {
    /// The serial log of hypervisor/xen/xl-smoke.sh (flags named after its variables).
    XlSmoke(XlSmoke),
}

#[derive(Debug, Args)]
struct XlSmoke {
    /// The serial log as QEMU wrote it (CRLF and bytes that are not UTF-8 are fine).
    #[arg(long)]
    log: PathBuf,
    /// Xen's sched= option: rtcredit, credit or credit2.
    #[arg(long)]
    sched: Sched,
    /// QEMU's exit status (124 or 137: killed by timeout).
    #[arg(long, allow_negative_numbers = true)]
    qemu_rc: i32,
    /// How long QEMU ran, seconds.
    #[arg(long)]
    boot_secs: u64,
    /// The seconds QEMU was given.
    #[arg(long)]
    timeout: u64,
    /// The domU's xl.cfg cap.
    #[arg(long)]
    cap: u32,
    /// The domU's xl.cfg cpu_weight.
    #[arg(long)]
    weight: u32,
    /// The weight set afterwards with `xl sched-* -w`.
    #[arg(long)]
    weight2: u32,
    /// xl.cfg's rtcredit_rt_budget.
    #[arg(long)]
    rt_budget: u32,
    /// xl.cfg's rtcredit_rt_rate.
    #[arg(long)]
    rt_rate: u32,
    /// The budget set afterwards with `xl sched-rtcredit -b`.
    #[arg(long)]
    rt_budget2: u32,
    /// What the domU prints once it has made its RT request.
    #[arg(long)]
    marker: String,
    /// What counts as a crash, an extended regular expression (XEN_CRASH_RE of
    /// hypervisor/xen/lib-initramfs.sh).
    #[arg(long)]
    crash_re: String,
    /// The harness's wall time so far: prints `elapsed: Ns total, QEMU Ms` before the result.
    #[arg(long)]
    elapsed_secs: Option<u64>,
}

fn main() -> ExitCode {
    let Harness::XlSmoke(args) = Cli::parse().harness;
    let crash = match CrashPattern::new(&args.crash_re) {
        Ok(crash) => crash,
        Err(e) => return usage_error(&format!("--crash-re: {e}")),
    };
    let bytes = match std::fs::read(&args.log) {
        Ok(bytes) => bytes,
        Err(e) => return usage_error(&format!("cannot read the serial log {}: {e}", args.log.display())),
    };
    let run = xl_smoke::Run {
        sched: args.sched,
        qemu_rc: args.qemu_rc,
        boot_secs: args.boot_secs,
        timeout_secs: args.timeout,
        cap: args.cap,
        weight: args.weight,
        weight2: args.weight2,
        rt_budget: args.rt_budget,
        rt_rate: args.rt_rate,
        rt_budget2: args.rt_budget2,
        marker: args.marker,
    };
    let verdict = xl_smoke::judge(&Serial::from_bytes(&bytes), &run, &crash);
    let text = xl_smoke::report(&verdict, &run, args.elapsed_secs);
    // A closed standard output (`| head`) does not change the verdict.
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            return usage_error(&format!("cannot write to standard output: {e}"));
        }
    }
    if verdict.failures() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("rtcredit-judge: {message}");
    ExitCode::from(2)
}
