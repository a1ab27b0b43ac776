//! `rtcredit-judge fault-smoke` on the four serial logs of a real run of
//! `hypervisor/xen/fault-smoke.sh --clock icount` (tests/data, committed as QEMU wrote
//! them), and on those logs changed one line at a time.
//!
//! `fault-smoke-debug-icount.bash-judge.txt` is what the bash judge the binary replaced
//! printed on the same logs (`--rejudge`, its elapsed line included).

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{crash_re, failed, stderr, stdout};
use rtcredit_judge::fault_smoke::{self, Boot, Run};
use rtcredit_judge::{CrashPattern, Serial, Variant};

/// The committed log of `boot`.
fn log_name(boot: Boot) -> String {
    format!("fault-smoke-{boot}-debug-icount.serial.log")
}

fn good_log(boot: Boot) -> Vec<u8> {
    common::read(&log_name(boot))
}

/// QEMU's exit status and run time of each committed boot (its `qemu-status`).
fn qemu_status(boot: Boot) -> (i32, u64) {
    let text = std::fs::read_to_string(common::data("fault-smoke-debug-icount.qemu-status")).unwrap();
    let line = text.lines().find(|l| l.starts_with(&format!("{boot} "))).expect("a line per boot");
    let mut words = line.split(' ').skip(1);
    (words.next().unwrap().parse().unwrap(), words.next().unwrap().parse().unwrap())
}

fn run(boot: Boot) -> Run {
    let (qemu_rc, boot_secs) = qemu_status(boot);
    Run { boot, variant: Variant::Debug, qemu_rc, boot_secs, timeout_secs: 600 }
}

fn judge(boot: Boot, log: &[u8]) -> Vec<String> {
    judge_run(&run(boot), log)
}

fn judge_run(run: &Run, log: &[u8]) -> Vec<String> {
    let crash = CrashPattern::new(&crash_re()).unwrap();
    fault_smoke::judge(&Serial::from_bytes(log), run, &crash).checks.iter().map(ToString::to_string).collect()
}

/// The log of `boot` with its one line `from` replaced by `to` (removed if `None`).
fn with_line(boot: Boot, from: &str, to: Option<&str>) -> Vec<u8> {
    common::with_line(&good_log(boot), from, to)
}

/// Run directories as the script leaves them, under the system's temporary directory,
/// removed when dropped.
struct RunDirs {
    top: PathBuf,
}

impl RunDirs {
    /// `name` is unique among this file's tests; each boot's log and status are the
    /// committed ones unless `logs` names another log for it.
    fn new(name: &str, logs: &[(Boot, Vec<u8>)]) -> RunDirs {
        let top = std::env::temp_dir().join(format!("rtcredit-judge-fault-{}-{name}", std::process::id()));
        for boot in Boot::ALL {
            let dir = top.join(format!("run-{boot}"));
            std::fs::create_dir_all(&dir).unwrap();
            let log = logs.iter().find(|(b, _)| *b == boot).map_or_else(|| good_log(boot), |(_, l)| l.clone());
            std::fs::write(dir.join("serial.log"), log).unwrap();
            let (rc, secs) = qemu_status(boot);
            std::fs::write(dir.join("qemu-status"), format!("{rc} {secs}\n")).unwrap();
        }
        RunDirs { top }
    }

    fn dir(&self, boot: Boot) -> PathBuf {
        self.top.join(format!("run-{boot}"))
    }
}

impl Drop for RunDirs {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.top);
    }
}

/// The binary on `boots` (each with its directory), with the script's other flags and
/// then the words `extra`.
fn binary(boots: &[(&str, &Path)], extra: &[&str]) -> Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_rtcredit-judge"));
    command.arg("fault-smoke");
    for (boot, dir) in boots {
        command.args(["--boot", &format!("{boot}={}", dir.display())]);
    }
    command.args(["--variant", "debug", "--timeout", "600", "--crash-re", &crash_re()]);
    command.args(extra).output().unwrap()
}

/// The bash judge's elapsed time on the committed logs (its `elapsed:` line).
fn bash_text() -> String {
    std::fs::read_to_string(common::data("fault-smoke-debug-icount.bash-judge.txt")).unwrap()
}

/// The one failed check of `lines` (the test fails if there are none or several).
fn only_failure(lines: &[String]) -> &String {
    let failed = failed(lines);
    assert_eq!(failed.len(), 1, "{lines:#?}");
    failed[0]
}

#[test]
fn the_committed_logs_pass_every_path_and_print_what_the_bash_judge_printed() {
    let dirs = RunDirs::new("good", &[]);
    let bash = bash_text();
    let elapsed = bash.lines().find_map(|l| l.strip_prefix("elapsed: ")).unwrap().trim_end_matches('s');
    let boots: Vec<(&str, PathBuf)> = Boot::ALL.iter().map(|b| (b.name(), dirs.dir(*b))).collect();
    let boots: Vec<(&str, &Path)> = boots.iter().map(|(b, d)| (*b, d.as_path())).collect();
    let out = binary(&boots, &["--elapsed-secs", elapsed]);
    let stdout = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert_eq!(stdout, bash);
    for (boot, checks) in [(Boot::Credit, 8), (Boot::Rtcredit, 9), (Boot::Gran, 3), (Boot::Hostile, 4)] {
        let lines = judge(boot, &good_log(boot));
        assert_eq!(lines.len(), checks, "{boot}: {lines:#?}");
        assert!(failed(&lines).is_empty(), "{boot}: {lines:#?}");
    }
    assert!(stdout.ends_with("RESULT: all paths passed (debug Xen)\n"));
}

#[test]
fn carriage_returns_do_not_change_the_verdict() {
    for boot in Boot::ALL {
        let without_cr: Vec<u8> = good_log(boot).into_iter().filter(|&b| b != b'\r').collect();
        assert_eq!(judge(boot, &without_cr), judge(boot, &good_log(boot)), "{boot}");
    }
}

#[test]
fn a_step_with_another_rc_fails_its_path_with_the_steps_output() {
    let log = with_line(Boot::Rtcredit, "FAULT: rm-cpu1 rc=0", Some("FAULT: rm-cpu1 rc=1"));
    let lines = judge(Boot::Rtcredit, &log);
    let failure = only_failure(&lines);
    assert!(failure.starts_with("FAIL: rtcredit/cpu-remove-rtcredit-pool: rm-cpu1 rc=1 (want 0: "), "{failure}");
}

#[test]
fn a_step_that_never_printed_its_rc_is_a_hang_or_a_crash() {
    let log = with_line(Boot::Credit, "FAULT: destroy rc=0", None);
    let lines = judge(Boot::Credit, &log);
    assert_eq!(failed(&lines), ["FAIL: credit/destroy-rt-armed: destroy: no result (hang or crash);"]);
}

#[test]
fn a_path_that_never_started_fails() {
    let log = with_line(Boot::Credit, "FAULT: path pool-destroy-rtcredit", None);
    let lines = judge(Boot::Credit, &log);
    assert!(
        lines.contains(&"FAIL: credit/pool-destroy-rtcredit: never started (a hang or crash before it)".to_owned()),
        "{lines:#?}"
    );
}

#[test]
fn a_crash_line_fails_its_path_and_the_boots_end() {
    let crash =
        "(XEN) [  106.732091] Assertion 'cpumask_test_cpu(cpu, prv->cpus)' failed at common/sched/rtcredit.c:412";
    let log = with_line(Boot::Rtcredit, "FAULT: rm-cpu1 rc=0", Some(&format!("{crash}\r\nFAULT: rm-cpu1 rc=0")));
    let lines = judge(Boot::Rtcredit, &log);
    assert_eq!(
        failed(&lines),
        [
            &format!("FAIL: rtcredit/cpu-remove-rtcredit-pool: crash: {crash} "),
            &format!("FAIL: rtcredit/end: QEMU rc=0, init finished: 1, crash: {crash} "),
        ]
    );
}

#[test]
fn rt_that_was_never_granted_fails_the_path_that_expects_it() {
    let boot = Boot::Credit;
    let log = good_log(boot);
    let text = String::from_utf8_lossy(&log);
    let counters = text
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .find(|l| l.starts_with("FAULT: counters-rt| ") && l.contains(" rt_granted="))
        .expect("the counters of migrate-credit-to-rtcredit")
        .to_owned();
    let granted = rtcredit_judge::field(&counters, "rt_granted").to_owned();
    let zero = counters.replace(&format!(" rt_granted={granted}"), " rt_granted=0");
    let lines = judge(boot, &common::with_line(&log, &counters, Some(&zero)));
    assert_eq!(
        failed(&lines),
        [&format!("FAIL: credit/migrate-credit-to-rtcredit: no RT granted at counters-rt ('{zero}') ")]
    );
}

#[test]
fn a_hostile_guest_above_its_budget_or_with_an_unexpected_answer_fails() {
    let boot = Boot::Hostile;
    let log = good_log(boot);
    let text = String::from_utf8_lossy(&log).replace('\r', "");
    let counters =
        text.lines().find(|l| l.starts_with("FAULT: counters-h1| ")).expect("the counters after the window").to_owned();
    let rt_ns: u64 = rtcredit_judge::field(&counters, "rt_ns").parse().unwrap();
    let more = counters.replace(&format!(" rt_ns={rt_ns}"), &format!(" rt_ns={}", rt_ns + 60_000_000_000));
    let lines = judge(boot, &common::with_line(&log, &counters, Some(&more)));
    let failure = only_failure(&lines);
    assert!(failure.contains("is above the 10% budget"), "{failure}");

    let tally = text
        .lines()
        .rev()
        .find(|l| l.contains("FAULT-DOMU: schedop: hostile cpu=1 "))
        .expect("a tally of CPU 1")
        .to_owned();
    let bad = tally.replace(" unexpected=0", " unexpected=3");
    // The last tally is printed twice (dom0 shows the guest's log twice after it).
    let changed = String::from_utf8(log.clone()).unwrap().replace(&tally, &bad);
    let lines = judge(boot, changed.as_bytes());
    let failure = only_failure(&lines);
    assert!(failure.contains("CPU 1: 3 unexpected answers"), "{failure}");
}

#[test]
fn a_pool_of_core_units_must_refuse_rt_with_eopnotsupp() {
    let boot = Boot::Gran;
    let log = good_log(boot);
    let text = String::from_utf8_lossy(&log).replace('\r', "");
    let rtsleep =
        text.lines().find(|l| l.starts_with("FAULT: rtsleep| ")).expect("the rtsleep step's output").to_owned();
    let granted = rtsleep.replace(" rc=-95", " rc=0");
    let lines = judge(boot, &common::with_line(&log, &rtsleep, Some(&granted)));
    let failure = only_failure(&lines);
    assert!(failure.contains(&format!("rtsleep did not answer -95 ({granted})")), "{failure}");
}

#[test]
fn a_qemu_killed_by_the_timeout_is_a_hang_named_with_the_last_step() {
    let lines = judge_run(&Run { qemu_rc: 124, ..run(Boot::Gran) }, &good_log(Boot::Gran));
    let failure = only_failure(&lines);
    assert!(failure.starts_with("FAIL: gran/end: hang: QEMU killed after 600s (last: FAULT: "), "{failure}");
}

#[test]
fn a_boot_that_left_no_run_fails_and_the_result_counts_it() {
    let dirs = RunDirs::new("missing", &[]);
    std::fs::remove_file(dirs.dir(Boot::Gran).join("qemu-status")).unwrap();
    let out = binary(&[("credit", &dirs.dir(Boot::Credit)), ("gran", &dirs.dir(Boot::Gran))], &["--elapsed-secs", "5"]);
    let stdout = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains(&format!("FAIL: gran: no run in {}\n", dirs.dir(Boot::Gran).display())), "{stdout}");
    assert!(stdout.ends_with("elapsed: 5s\nRESULT: 1 path(s) failed (debug Xen)\n"), "{stdout}");
}

#[test]
fn a_bad_flag_or_status_file_is_an_error_that_names_it() {
    let dirs = RunDirs::new("usage", &[]);
    let credit = dirs.dir(Boot::Credit);
    let good = format!("credit={}", credit.display());
    let re = crash_re();
    let flags = [
        ("--boot", good.as_str()),
        ("--variant", "debug"),
        ("--timeout", "600"),
        ("--elapsed-secs", "1"),
        ("--crash-re", re.as_str()),
    ];
    for (flag, value, named) in [
        ("--boot", "fast=/tmp", "unknown boot 'fast'"),
        ("--boot", "credit", "'credit' is not BOOT=DIR"),
        ("--boot", "credit=", "names no run directory"),
        ("--variant", "fast", "unknown Xen build 'fast'"),
        ("--timeout", "-1", "--timeout"),
        ("--crash-re", "", "the crash pattern is empty"),
    ] {
        let out = common::binary("fault-smoke", &flags, &[(flag, value)], &[]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{flag} {value}: {err}");
        assert!(err.contains(named), "{flag} {value}: {err}");
        assert!(out.stdout.is_empty(), "{flag} {value}");
    }
    std::fs::write(credit.join("qemu-status"), "0\n").unwrap();
    let out = binary(&[("credit", &credit)], &["--elapsed-secs", "1"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("qemu-status: '0' is not \"RC SECONDS\""), "{err}");
}
