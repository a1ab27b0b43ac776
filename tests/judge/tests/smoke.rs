//! `rtcredit-judge smoke` on two real serial logs of `hypervisor/xen/smoke.sh --sched
//! rtcredit` (tests/data, committed as QEMU wrote them: `--clock host`, run directory
//! `run-rtcredit-release`, and `--clock icount`, `run-rtcredit-release-icount`), and on
//! the first changed one line at a time.
//!
//! `smoke-rtcredit-release*.bash-judge.txt` is what the bash judge the binary replaced
//! printed on the same logs (`--rejudge`, after the `serial log:` line); the FAIL lines
//! the tests expect on changed logs are what it printed on them too.

mod common;

use std::path::Path;
use std::process::Output;

use common::{assert_usage_errors, binary_on, crash_re, data, failed, stdout, with_line};
use rtcredit_judge::smoke::{self, Run};
use rtcredit_judge::{Check, CrashPattern, Serial};

const HOST: &str = "smoke-rtcredit-release.serial.log";
const ICOUNT: &str = "smoke-rtcredit-release-icount.serial.log";

fn good_log() -> Vec<u8> {
    common::read(HOST)
}

/// The values smoke.sh --rejudge ran the committed host log with.
fn run(sched: &str) -> Run {
    Run {
        sched: sched.into(),
        qemu_rc: 0,
        boot_secs: 58,
        timeout_secs: 420,
        duration_secs: 30,
        expect_rtsleep_rc: if sched == "rtcredit" { -1 } else { -95 },
    }
}

fn judge(log: &[u8], run: &Run) -> Vec<String> {
    let crash = CrashPattern::new(&crash_re()).unwrap();
    smoke::judge(&Serial::from_bytes(log), run, &crash, &[]).checks.iter().map(ToString::to_string).collect()
}

/// The lines of the FAIL checks and of the checks that have lines under them.
fn notable(lines: &[String]) -> Vec<&str> {
    lines.iter().filter(|l| l.starts_with("FAIL: ") || l.contains('\n')).map(String::as_str).collect()
}

/// The script's flags for the committed host log, the values of `changed` in place of
/// theirs, then the words `extra`.
fn binary(log: &Path, changed: &[(&str, &str)], extra: &[&str]) -> Output {
    let re = crash_re();
    let flags = [
        ("--log", log.to_str().unwrap()),
        ("--sched", "rtcredit"),
        ("--qemu-rc", "0"),
        ("--boot-secs", "58"),
        ("--timeout", "420"),
        ("--duration", "30"),
        ("--expect-rtsleep-rc", "-1"),
        ("--crash-re", re.as_str()),
    ];
    common::binary("smoke", &flags, changed, extra)
}

/// The tables rtcredit-ctl printed after the load, under their check.
const FINAL_TABLES: &str = "\n      Name      ID  Weight  Cap     RT  Budget%  Rate/s  RT(s)  BOOST(s)  UNDER(s)  OVER(s)  Requests  Granted  Degraded  Denied  Fires\
\n      Domain-0   0     512    0  allow       20    1000  0.757     2.313    45.327   24.179      1004     1004         0       6   1002\
\n      Cpupool  Scheduler  Slice(ms)  Ratelimit(us)  MinPeriod(us)  MaxLead(ms)  RtCap(%/cpu)  CPUs  RtCapacity(%)  RtGranted(%)  RtLeft(%)\
\n      Pool-0    rtcredit         30           1000           1000        10000            50     2            100            20         80";

#[test]
fn both_committed_rtcredit_logs_pass_the_52_checks_and_print_what_the_bash_judge_printed() {
    for (log, boot_secs) in [(HOST, "58"), (ICOUNT, "40")] {
        let out = binary(&data(log), &[("--boot-secs", boot_secs)], &[]);
        let stdout = stdout(&out);
        assert_eq!(out.status.code(), Some(0), "{log}: {stdout}");
        assert_eq!(stdout.lines().filter(|l| l.starts_with("PASS: ")).count(), 52, "{log}");
        assert_eq!(stdout.lines().filter(|l| l.starts_with("FAIL: ")).count(), 0, "{log}");
        let bash = std::fs::read_to_string(data(&log.replace(".serial.log", ".bash-judge.txt"))).unwrap();
        assert_eq!(stdout, bash, "{log}");
    }
}

#[test]
fn after_a_boot_the_report_says_the_elapsed_time_the_scheduler_and_the_build() {
    let out = binary(&data(HOST), &[], &["--elapsed-secs", "61", "--variant", "release"]);
    assert_eq!(out.status.code(), Some(0));
    let bash = std::fs::read_to_string(data("smoke-rtcredit-release.bash-judge.txt")).unwrap();
    let checks = bash.strip_suffix("RESULT: all checks passed\n").unwrap();
    assert_eq!(
        stdout(&out),
        format!("{checks}elapsed: 61s total, QEMU 58s\nRESULT: all checks passed (sched=rtcredit, release)\n")
    );
    let log = with_line(&good_log(), "SMOKE: done uptime=51.00", None);
    let out = binary_on(binary, "no-done.log", &log, &["--elapsed-secs", "61", "--variant", "debug"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).ends_with(
        "FAIL: dom0 /init did not finish\nelapsed: 61s total, QEMU 58s\nRESULT: 1 check(s) failed (sched=rtcredit, debug)\n"
    ));
}

#[test]
fn carriage_returns_and_bytes_that_are_not_utf8_do_not_change_the_verdict() {
    let good = judge(&good_log(), &run("rtcredit"));
    let without_cr: Vec<u8> = good_log().into_iter().filter(|&b| b != b'\r').collect();
    assert_eq!(judge(&without_cr, &run("rtcredit")), good);
    let mut noisy = good_log();
    noisy.extend(b"\xff\xfe garbage after the power-off\r\n");
    assert_eq!(judge(&noisy, &run("rtcredit")), good);
}

#[test]
fn a_crash_line_fails_the_crash_check_and_shows_it_with_its_line_number() {
    let cancel = "SMOKE: case cancel schedop: rtsleep now=10942473853 offset=0 flags=0x1 pad=0 rc=2";
    for crash in [
        "(XEN) [   12.0] Assertion 'is_idle_unit(unit)' failed at common/sched/rtcredit.c:812",
        "(XEN) [   12.0] Xen BUG at common/sched/rtcredit.c:901",
        "[   12.345678] BUG: kernel NULL pointer dereference, address: 0000000000000000",
    ] {
        let log = with_line(&good_log(), cancel, Some(&format!("{crash}\r\n{cancel}")));
        let lines = judge(&log, &run("rtcredit"));
        assert_eq!(notable(&lines), [format!("FAIL: crash in the serial log:\n      525:{crash}"), format!("PASS: after the load, dom0 ran 757 ms at RT with 1002 RT fires (rtcredit-ctl dom, sched below){FINAL_TABLES}")], "{crash}");
    }
}

#[test]
fn a_xen_warning_is_a_note_under_the_crash_check_not_a_failure() {
    let cancel = "SMOKE: case cancel schedop: rtsleep now=10942473853 offset=0 flags=0x1 pad=0 rc=2";
    let log = with_line(&good_log(), cancel, Some(&format!("(XEN) [   12.0] Xen WARN at rtcredit.c:99\r\n{cancel}")));
    let lines = judge(&log, &run("rtcredit"));
    assert!(failed(&lines).is_empty(), "{lines:#?}");
    assert_eq!(
        lines[1],
        "PASS: no Xen panic/ASSERT/FATAL, no dom0 crash\nNOTE: warning at serial line 525:(XEN) [   12.0] Xen WARN at rtcredit.c:99"
    );
}

#[test]
fn a_step_whose_rc_changed_fails_its_check() {
    let too_far = "SMOKE: case too-far schedop: rtsleep now=11030005548 offset=20000000000 flags=0 pad=0 rc=";
    let log = with_line(&good_log(), &format!("{too_far}-34"), Some(&format!("{too_far}0")));
    assert_eq!(failed(&judge(&log, &run("rtcredit"))), ["FAIL: rtsleep too-far: got '0', want -34"]);
    let log = with_line(&good_log(), "SMOKE: ctl deny rc=0", Some("SMOKE: ctl deny rc=1"));
    assert_eq!(
        failed(&judge(&log, &run("rtcredit"))),
        ["FAIL: rtcredit-ctl dom 0 --rt deny: rc=1 (want 0), output: Domain-0 (id 0): rt allow -> deny|"]
    );
    let out = binary_on(binary, "deny-rc1.log", &log, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).ends_with("PASS: dom0 /init finished\nRESULT: 1 check(s) failed\n"));
}

#[test]
fn a_scheduler_that_xen_did_not_run_fails_the_scheduler_checks() {
    let lines = judge(&good_log(), &run("credit"));
    assert_eq!(lines.len(), 12, "no rtcredit checks, and no clock check without a dump for credit");
    assert_eq!(
        failed(&lines),
        [
            "FAIL: Xen did not pick sched=credit, it uses RT-Credit Scheduler (rtcredit)",
            "FAIL: SCHEDOP 8 (rtsleep): got '-1', want -95 (schedop: rtsleep now=10725474614 offset=10000000 flags=0 pad=0 rc=-1)",
            "FAIL: debug key 'r' returned 0 but no run-queue dump for 'credit' appeared",
            "FAIL: rtcredit-ctl refuses another scheduler: rc= (want 1), output: ",
        ]
    );
    let out = binary(&data(HOST), &[("--sched", "credit2"), ("--expect-rtsleep-rc", "-95")], &["--variant", "release"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).ends_with("RESULT: 4 check(s) failed (sched=credit2, release)\n"));
}

#[test]
fn a_missing_rtcredit_ctl_output_line_fails_its_check() {
    let log = with_line(&good_log(), "SMOKE: ctl apply-2| nothing to do: the system matches /tmp/policy.toml", None);
    assert_eq!(
        failed(&judge(&log, &run("rtcredit"))),
        ["FAIL: rtcredit-ctl apply again is a no-op: rc=0 (want 0), output: "]
    );
    let log = with_line(&good_log(), "SMOKE: ctl dom0-json-final|     \"rt_fires\": 1002,", None);
    let lines = judge(&log, &run("rtcredit"));
    assert_eq!(
        notable(&lines),
        ["FAIL: rtcredit-ctl after the load: rc=0 rt_ns='757617826' rt_fires=''"],
        "no tables under a FAIL"
    );
}

#[test]
fn a_qemu_killed_by_the_timeout_or_failing_fails_the_qemu_check() {
    for (qemu_rc, text) in [
        (124, "FAIL: timeout: QEMU killed after 420s"),
        (137, "FAIL: timeout: QEMU killed after 420s"),
        (3, "FAIL: QEMU exited with status 3 after 58s"),
    ] {
        assert_eq!(failed(&judge(&good_log(), &Run { qemu_rc, ..run("rtcredit") })), [text]);
    }
}

#[test]
fn an_empty_log_fails_every_check_that_needs_a_line_of_it() {
    let lines = judge(b"", &run("rtcredit"));
    assert_eq!(lines.len(), 51, "no clock check without a debug-keys line");
    let passed: Vec<&String> = lines.iter().filter(|l| l.starts_with("PASS: ")).collect();
    assert_eq!(
        passed,
        ["PASS: QEMU exited cleanly after 58s (dom0 powered off)", "PASS: no Xen panic/ASSERT/FATAL, no dom0 crash"]
    );
}

#[test]
fn the_trace_checks_go_before_the_last_check_and_count() {
    let crash = CrashPattern::new(&crash_re()).unwrap();
    let trace = [Check::pass("a trace check"), Check::fail("another")];
    let verdict = smoke::judge(&Serial::from_bytes(&good_log()), &run("rtcredit"), &crash, &trace);
    assert_eq!(verdict.checks.len(), 54);
    assert_eq!(verdict.checks[51..53], trace);
    assert_eq!(verdict.failures(), 1);
}

#[test]
fn a_bad_flag_a_missing_file_or_an_unusable_crash_pattern_is_an_error_that_names_it() {
    assert_usage_errors(
        binary,
        &data(HOST),
        &[
            (&[("--duration", "0")][..], &[][..], "--duration"),
            (&[("--duration", "thirty")], &[], "--duration"),
            (&[("--qemu-rc", "timeout")], &[], "--qemu-rc"),
            (&[("--expect-rtsleep-rc", "EPERM")], &[], "--expect-rtsleep-rc"),
            (&[("--sched", "")], &[], "is not a Xen scheduler name"),
            (&[("--sched", "rt credit")], &[], "'rt credit' is not a Xen scheduler name"),
            (&[], &["--variant", "fast"], "unknown Xen build 'fast'"),
            (&[], &["--no-such-flag"], "--no-such-flag"),
            (&[("--crash-re", "")], &[], "the crash pattern is empty"),
            (&[("--crash-re", "Panic(on")], &[], "--crash-re: the crash pattern is not a regular expression"),
        ],
    );
}
