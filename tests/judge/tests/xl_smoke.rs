//! `rtcredit-judge xl-smoke` on a real serial log of `hypervisor/xen/xl-smoke.sh
//! --sched rtcredit --clock icount` (tests/data, committed as QEMU wrote it: CRLF line
//! ends, the firmware's escape sequences), and on that log changed one line at a time.
//!
//! `xl-smoke-rtcredit-icount.bash-judge.txt` is what the bash judge the binary replaced
//! printed on the same log (`--rejudge`, after the `serial log:` line).

mod common;

use std::path::Path;
use std::process::Output;

use common::{assert_usage_errors, binary_on, crash_re, data, failed, stdout};
use rtcredit_judge::xl_smoke::{self, Run, Sched};
use rtcredit_judge::{CrashPattern, Serial};

const LOG: &str = "xl-smoke-rtcredit-icount.serial.log";

fn good_log() -> Vec<u8> {
    common::read(LOG)
}

/// The values xl-smoke.sh ran the committed log with.
fn run(sched: Sched) -> Run {
    Run {
        sched,
        qemu_rc: 0,
        boot_secs: 37,
        timeout_secs: 300,
        cap: 20,
        weight: 512,
        weight2: 300,
        rt_budget: 20,
        rt_rate: 500,
        rt_budget2: 30,
        marker: "XLSMOKE-DOMU-ALIVE".into(),
    }
}

fn judge(log: &[u8], run: &Run) -> Vec<String> {
    let crash = CrashPattern::new(&crash_re()).unwrap();
    xl_smoke::judge(&Serial::from_bytes(log), run, &crash).checks.iter().map(ToString::to_string).collect()
}

/// The log with its one line `from` replaced by `to`.
fn with_line(from: &str, to: &str) -> Vec<u8> {
    common::with_line(&good_log(), from, Some(to))
}

/// The binary with the script's flags for the committed log, the values of `changed`
/// in place of theirs, then the words `extra`.
fn binary(log: &Path, changed: &[(&str, &str)], extra: &[&str]) -> Output {
    let re = crash_re();
    let flags = [
        ("--log", log.to_str().unwrap()),
        ("--sched", "rtcredit"),
        ("--qemu-rc", "0"),
        ("--boot-secs", "37"),
        ("--timeout", "300"),
        ("--cap", "20"),
        ("--weight", "512"),
        ("--weight2", "300"),
        ("--rt-budget", "20"),
        ("--rt-rate", "500"),
        ("--rt-budget2", "30"),
        ("--marker", "XLSMOKE-DOMU-ALIVE"),
        ("--crash-re", re.as_str()),
    ];
    common::binary("xl-smoke", &flags, changed, extra)
}

#[test]
fn the_committed_rtcredit_log_passes_the_29_checks_and_prints_what_the_bash_judge_printed() {
    let out = binary(&data(LOG), &[], &["--elapsed-secs", "0"]);
    let stdout = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert_eq!(stdout.lines().filter(|l| l.starts_with("PASS: ")).count(), 29);
    assert_eq!(stdout.lines().filter(|l| l.starts_with("FAIL: ")).count(), 0);
    let bash = std::fs::read_to_string(data("xl-smoke-rtcredit-icount.bash-judge.txt")).unwrap();
    assert_eq!(stdout, bash);
    assert!(stdout.ends_with("RESULT: all checks passed (sched=rtcredit)\n"));
}

#[test]
fn carriage_returns_and_bytes_that_are_not_utf8_do_not_change_the_verdict() {
    let good = judge(&good_log(), &run(Sched::Rtcredit));
    let without_cr: Vec<u8> = good_log().into_iter().filter(|&b| b != b'\r').collect();
    assert_eq!(judge(&without_cr, &run(Sched::Rtcredit)), good);
    let mut noisy = b"\xff\xfe garbage from the firmware\r\n".to_vec();
    noisy.extend(good_log());
    assert_eq!(judge(&noisy, &run(Sched::Rtcredit)), good);
}

#[test]
fn a_crash_line_fails_the_crash_check_and_only_it() {
    for crash in [
        "(XEN) Assertion 'is_idle_unit(unit)' failed at common/sched/rtcredit.c:812",
        "(XEN) domain_crash called from sched.c:1234",
        "[   12.345678] BUG: kernel NULL pointer dereference, address: 0000000000000000",
    ] {
        let log = with_line("XLSMOKE: xl-create rc=0", &format!("{crash}\r\nXLSMOKE: xl-create rc=0"));
        let lines = judge(&log, &run(Sched::Rtcredit));
        assert_eq!(failed(&lines), [&format!("FAIL: crash in the log: {crash}")], "{crash}");
    }
}

#[test]
fn an_xl_create_that_returned_1_fails_the_create_check() {
    let log = with_line("XLSMOKE: xl-create rc=0", "XLSMOKE: xl-create rc=1");
    let lines = judge(&log, &run(Sched::Rtcredit));
    assert_eq!(
        failed(&lines),
        ["FAIL: xl create: XLSMOKE: xl-create| Parsing config from /etc/xen/domu.cfg XLSMOKE: xl-create rc=1"]
    );
    let out = binary_on(binary, "create-rc1.log", &log, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).ends_with("RESULT: 1 check(s) failed (sched=rtcredit)\n"));
}

#[test]
fn a_scheduler_that_xen_did_not_run_fails_the_scheduler_check() {
    let lines = judge(&good_log(), &run(Sched::Credit));
    assert_eq!(lines.len(), 16, "credit has no RT or cpupool checks");
    let using = "(XEN) [000000000f96a2a8] Using scheduler: RT-Credit Scheduler (rtcredit)";
    assert!(lines.contains(&format!("FAIL: Xen does not use scheduler 'credit': {using}")), "{lines:#?}");
    assert!(lines.contains(&"FAIL: xl info: XLSMOKE: xl-info-sched| nr_cpus                : 2 XLSMOKE: xl-info-sched| xen_version            : 4.17.5 XLSMOKE: xl-info-sched| xen_scheduler          : rtcredit XLSMOKE: xl-info-sched rc=0".to_owned()));
    let out = binary(&data(LOG), &[("--sched", "credit2")], &[]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = stdout(&out);
    assert!(stdout.contains("FAIL: Xen does not use scheduler 'credit2': "), "{stdout}");
    assert!(stdout.ends_with("(sched=credit2)\n"));
}

#[test]
fn a_qemu_killed_by_the_timeout_fails_the_qemu_check() {
    let lines = judge(&good_log(), &Run { qemu_rc: 124, ..run(Sched::Rtcredit) });
    assert_eq!(failed(&lines), ["FAIL: QEMU timed out after 300s"]);
}

#[test]
fn an_empty_log_fails_every_check_that_needs_a_line_of_it() {
    let lines = judge(b"", &run(Sched::Rtcredit));
    assert_eq!(lines.len(), 29);
    let passed: Vec<&String> = lines.iter().filter(|l| l.starts_with("PASS: ")).collect();
    assert_eq!(passed, ["PASS: QEMU exited cleanly after 37s", "PASS: no Xen panic/ASSERT, no dom0 or domU crash"]);
}

#[test]
fn a_bad_flag_a_missing_log_or_an_unusable_crash_pattern_is_an_error_that_names_it() {
    assert_usage_errors(
        binary,
        &data(LOG),
        &[
            (&[("--weight", "heavy")][..], &[][..], "--weight"),
            (&[("--sched", "rt")], &[], "unknown scheduler 'rt'"),
            (&[], &["--no-such-flag"], "--no-such-flag"),
            (&[("--crash-re", "")], &[], "the crash pattern is empty"),
            (&[("--crash-re", "Panic(on")], &[], "--crash-re: the crash pattern is not a regular expression"),
        ],
    );
}
