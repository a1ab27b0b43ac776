//! `rtcredit-judge`: judges the serial log of a QEMU harness (see the crate docs).
//!
//! ```sh
//! rtcredit-judge xl-smoke --log .cache/xl-smoke/run-rtcredit/serial.log --sched rtcredit \
//!     --qemu-rc 0 --boot-secs 37 --timeout 300 --cap 20 --weight 512 --weight2 300 \
//!     --rt-budget 20 --rt-rate 500 --rt-budget2 30 --marker XLSMOKE-DOMU-ALIVE \
//!     --crash-re "$XEN_CRASH_RE"
//! rtcredit-judge smoke --log .cache/smoke/run-rtcredit-release/serial.log --sched rtcredit \
//!     --qemu-rc 0 --boot-secs 58 --timeout 420 --duration 30 --expect-rtsleep-rc -1 \
//!     --crash-re "$XEN_CRASH_RE"
//! rtcredit-judge fault-smoke --boot credit=.cache/fault-smoke/run-credit --variant debug \
//!     --timeout 600 --elapsed-secs 700 --crash-re "$XEN_CRASH_RE"
//! rtcredit-judge test-qemu --log .cache/guest-kmod/qemu-xenrtcredit-icount/console.log \
//!     --qemu-rc 0 --crash-re "$XEN_CRASH_RE"
//! ```
//!
//! Exit status: 0 if every check passed, 1 if one failed, 2 for a bad flag, a file it
//! cannot read or write or a crash pattern it cannot use.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use rtcredit_judge::smoke::{self, trace};
use rtcredit_judge::xl_smoke::{self, Sched};
use rtcredit_judge::{fault_smoke, test_qemu, CrashPattern, Serial, Variant, Verdict};

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
    /// The serial log of hypervisor/xen/smoke.sh (flags named after its variables).
    Smoke(Smoke),
    /// The console log of guest-kmod/test-qemu.sh: the guest's lines and the verdict.
    TestQemu(TestQemu),
    /// The boots of hypervisor/xen/fault-smoke.sh, each from its run directory.
    FaultSmoke(FaultSmoke),
}

/// What every harness passes: the log, what counts as a crash in it, and how QEMU ran.
#[derive(Debug, Args)]
struct Input {
    /// The serial log as QEMU wrote it (CRLF and bytes that are not UTF-8 are fine).
    #[arg(long)]
    log: PathBuf,
    /// What counts as a crash, an extended regular expression (XEN_CRASH_RE of
    /// hypervisor/xen/lib-initramfs.sh).
    #[arg(long)]
    crash_re: String,
    /// QEMU's exit status (124 or 137: killed by timeout).
    #[arg(long, allow_negative_numbers = true)]
    qemu_rc: i32,
    /// How long QEMU ran, seconds.
    #[arg(long)]
    boot_secs: u64,
    /// The seconds QEMU was given.
    #[arg(long)]
    timeout: u64,
    /// The harness's wall time so far (smoke.sh: after a boot): prints `elapsed: Ns
    /// total, QEMU Ms` before the result.
    #[arg(long)]
    elapsed_secs: Option<u64>,
}

#[derive(Debug, Args)]
struct XlSmoke {
    #[command(flatten)]
    input: Input,
    /// Xen's sched= option: rtcredit, credit or credit2.
    #[arg(long)]
    sched: Sched,
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
}

#[derive(Debug, Args)]
struct Smoke {
    #[command(flatten)]
    input: Input,
    /// Xen's sched= option (rtcredit adds its checks; another name is checked as
    /// Xen's choice).
    #[arg(long, value_parser = sched_name)]
    sched: String,
    /// The load phase in dom0, seconds (at least 1).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    duration: u64,
    /// What dom0's first SCHEDOP_rtsleep must return (-1 under rtcredit, -95 under
    /// another scheduler of our Xen, -38 on stock Xen).
    #[arg(long, allow_negative_numbers = true)]
    expect_rtsleep_rc: i64,
    /// smoke.sh --trace: also judge the traces dom0 printed (before `dom0 /init
    /// finished`), writing them and the monitor's tables into this directory (the run
    /// directory: trace.bin, trace-report.txt, trace-idle.bin, trace-idle-report.txt).
    #[arg(long, value_name = "RUN_DIR")]
    trace: Option<PathBuf>,
    /// After a boot, the Xen build it booted: the RESULT line names it and the
    /// scheduler, `(sched=rtcredit, release)`.
    #[arg(long)]
    variant: Option<Variant>,
}

#[derive(Debug, Args)]
struct TestQemu {
    /// The console log as QEMU wrote it.
    #[arg(long)]
    log: PathBuf,
    /// QEMU's exit status (named when the guest did not finish).
    #[arg(long, allow_negative_numbers = true)]
    qemu_rc: i32,
    /// Under Xen: what counts as a crash (XEN_CRASH_RE of
    /// hypervisor/xen/lib-initramfs.sh).
    #[arg(long)]
    crash_re: Option<String>,
}

#[derive(Debug, Args)]
struct FaultSmoke {
    /// A boot and its run directory, `BOOT=DIR` (credit, rtcredit, gran or hostile),
    /// in the order to judge them; DIR holds the boot's serial.log and qemu-status
    /// ("RC SECONDS", QEMU's exit status and run time). Repeatable.
    #[arg(long = "boot", value_name = "BOOT=DIR", required = true, value_parser = boot_dir)]
    boots: Vec<(fault_smoke::Boot, PathBuf)>,
    /// The Xen build booted: release or debug.
    #[arg(long)]
    variant: Variant,
    /// The seconds QEMU was given per boot.
    #[arg(long)]
    timeout: u64,
    /// What counts as a crash (XEN_CRASH_RE of hypervisor/xen/lib-initramfs.sh).
    #[arg(long)]
    crash_re: String,
    /// The harness's wall time so far, printed before the result.
    #[arg(long)]
    elapsed_secs: u64,
}

/// `BOOT=DIR` of `fault-smoke --boot`.
fn boot_dir(text: &str) -> Result<(fault_smoke::Boot, PathBuf), String> {
    let (boot, dir) = text.split_once('=').ok_or_else(|| format!("'{text}' is not BOOT=DIR"))?;
    if dir.is_empty() {
        return Err(format!("'{text}' names no run directory"));
    }
    Ok((boot.parse().map_err(|e: fault_smoke::UnknownBoot| e.to_string())?, PathBuf::from(dir)))
}

/// A Xen scheduler's name as `sched=` takes it: letters, digits and `_`.
fn sched_name(name: &str) -> Result<String, String> {
    if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        Ok(name.to_owned())
    } else {
        Err(format!("'{name}' is not a Xen scheduler name (letters, digits and _, as in sched=rtcredit)"))
    }
}

fn main() -> ExitCode {
    match Cli::parse().harness {
        Harness::XlSmoke(args) => xl_smoke_main(args),
        Harness::Smoke(args) => smoke_main(args),
        Harness::TestQemu(args) => test_qemu_main(args),
        Harness::FaultSmoke(args) => fault_smoke_main(args),
    }
}

fn xl_smoke_main(args: XlSmoke) -> ExitCode {
    let (log, crash) = match read_input(&args.input) {
        Ok(input) => input,
        Err(code) => return code,
    };
    let run = xl_smoke::Run {
        sched: args.sched,
        qemu_rc: args.input.qemu_rc,
        boot_secs: args.input.boot_secs,
        timeout_secs: args.input.timeout,
        cap: args.cap,
        weight: args.weight,
        weight2: args.weight2,
        rt_budget: args.rt_budget,
        rt_rate: args.rt_rate,
        rt_budget2: args.rt_budget2,
        marker: args.marker,
    };
    let verdict = xl_smoke::judge(&log, &run, &crash);
    print_verdict(&verdict, &xl_smoke::report(&verdict, &run, args.input.elapsed_secs))
}

fn smoke_main(args: Smoke) -> ExitCode {
    let (log, crash) = match read_input(&args.input) {
        Ok(input) => input,
        Err(code) => return code,
    };
    let trace = match &args.trace {
        None => Vec::new(),
        Some(dir) => match write_trace_files(trace::judge(&log, &args.sched, dir)) {
            Ok(checks) => checks,
            Err(code) => return code,
        },
    };
    let run = smoke::Run {
        sched: args.sched,
        qemu_rc: args.input.qemu_rc,
        boot_secs: args.input.boot_secs,
        timeout_secs: args.input.timeout,
        duration_secs: args.duration,
        expect_rtsleep_rc: args.expect_rtsleep_rc,
    };
    let verdict = smoke::judge(&log, &run, &crash, &trace);
    print_verdict(&verdict, &smoke::report(&verdict, &run, args.input.elapsed_secs, args.variant))
}

/// The trace's files written into the run directory; its checks, or the exit status of
/// an error already printed.
fn write_trace_files(trace: trace::Trace) -> Result<Vec<rtcredit_judge::Check>, ExitCode> {
    for (path, bytes) in &trace.files {
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)
            .and_then(|()| std::fs::write(path, bytes))
            .map_err(|e| usage_error(&format!("--trace: cannot write {}: {e}", path.display())))?;
    }
    Ok(trace.checks)
}

fn test_qemu_main(args: TestQemu) -> ExitCode {
    let crash = match args.crash_re.as_deref().map(crash_pattern).transpose() {
        Ok(crash) => crash,
        Err(code) => return code,
    };
    let log = match read_log(&args.log) {
        Ok(log) => log,
        Err(code) => return code,
    };
    let run = test_qemu::Run { qemu_rc: args.qemu_rc, log_path: args.log.display().to_string() };
    let outcome = test_qemu::judge(&log, &run, crash.as_ref());
    print_report(outcome.failure.is_none(), &outcome.report())
}

fn fault_smoke_main(args: FaultSmoke) -> ExitCode {
    let crash = match crash_pattern(&args.crash_re) {
        Ok(crash) => crash,
        Err(code) => return code,
    };
    let mut verdicts = Vec::new();
    for (boot, dir) in &args.boots {
        let log = dir.join("serial.log");
        let status = dir.join("qemu-status");
        if !log.is_file() || !status.is_file() {
            // Judged as the bash judge did: a boot that left no run is a failed path.
            let check = rtcredit_judge::Check::fail(format!("{boot}: no run in {}", dir.display()));
            verdicts.push(Verdict { checks: vec![check] });
            continue;
        }
        let (qemu_rc, boot_secs) = match read_qemu_status(&status) {
            Ok(status) => status,
            Err(code) => return code,
        };
        let serial = match read_log(&log) {
            Ok(serial) => serial,
            Err(code) => return code,
        };
        let run =
            fault_smoke::Run { boot: *boot, variant: args.variant, qemu_rc, boot_secs, timeout_secs: args.timeout };
        verdicts.push(fault_smoke::judge(&serial, &run, &crash));
    }
    let failures: usize = verdicts.iter().map(Verdict::failures).sum();
    print_report(failures == 0, &fault_smoke::report(&verdicts, args.elapsed_secs, args.variant))
}

/// A harness's `qemu-status` file: "RC SECONDS".
fn read_qemu_status(path: &Path) -> Result<(i32, u64), ExitCode> {
    let text =
        std::fs::read_to_string(path).map_err(|e| usage_error(&format!("cannot read {}: {e}", path.display())))?;
    let mut words = text.split_whitespace();
    match (words.next().map(str::parse), words.next().map(str::parse), words.next()) {
        (Some(Ok(rc)), Some(Ok(secs)), None) => Ok((rc, secs)),
        _ => Err(usage_error(&format!(
            "{}: '{}' is not \"RC SECONDS\" (QEMU's exit status and run time)",
            path.display(),
            text.trim_end()
        ))),
    }
}

/// The log and the crash pattern, or the exit status of an error already printed.
fn read_input(input: &Input) -> Result<(Serial, CrashPattern), ExitCode> {
    let crash = crash_pattern(&input.crash_re)?;
    Ok((read_log(&input.log)?, crash))
}

fn crash_pattern(re: &str) -> Result<CrashPattern, ExitCode> {
    CrashPattern::new(re).map_err(|e| usage_error(&format!("--crash-re: {e}")))
}

fn read_log(path: &Path) -> Result<Serial, ExitCode> {
    let bytes =
        std::fs::read(path).map_err(|e| usage_error(&format!("cannot read the serial log {}: {e}", path.display())))?;
    Ok(Serial::from_bytes(&bytes))
}

/// Prints the report; the exit status says whether a check failed.
fn print_verdict(verdict: &Verdict, text: &str) -> ExitCode {
    print_report(verdict.failures() == 0, text)
}

/// Prints `text`; exit status 0 if `passed`, else 1.
fn print_report(passed: bool, text: &str) -> ExitCode {
    // A closed standard output (`| head`) does not change the verdict.
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            return usage_error(&format!("cannot write to standard output: {e}"));
        }
    }
    if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("rtcredit-judge: {message}");
    ExitCode::from(2)
}
