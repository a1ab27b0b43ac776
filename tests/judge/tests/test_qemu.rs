//! `rtcredit-judge test-qemu` on a real console log of `guest-kmod/test-qemu.sh --xen
//! rtcredit --clock icount` (tests/data/test-qemu-xenrtcredit-icount.console.log, as
//! QEMU wrote it, run directory `qemu-xenrtcredit-icount`), and on it changed one line
//! at a time. `test-qemu-xenrtcredit-icount.bash-judge.txt` is what the script printed
//! on standard output with the bash verdict this subcommand replaced.

mod common;

use std::path::Path;
use std::process::Output;

use common::{crash_re, data, stdout, with_line, TempFile};
use rtcredit_judge::test_qemu::{self, Run};
use rtcredit_judge::{CrashPattern, Serial};

const CONSOLE: &str = "test-qemu-xenrtcredit-icount.console.log";

fn good_log() -> Vec<u8> {
    common::read(CONSOLE)
}

fn binary(log: &Path, changed: &[(&str, &str)], extra: &[&str]) -> Output {
    let re = crash_re();
    let flags = [("--log", log.to_str().unwrap()), ("--qemu-rc", "0"), ("--crash-re", re.as_str())];
    common::binary("test-qemu", &flags, changed, extra)
}

/// Why the run on `log` failed, under Xen (with the crash pattern) or not.
fn failure(log: &[u8], xen: bool) -> Option<String> {
    let crash = CrashPattern::new(&crash_re()).unwrap();
    let run = Run { qemu_rc: 0, log_path: "console.log".into() };
    test_qemu::judge(&Serial::from_bytes(log), &run, xen.then_some(&crash)).failure
}

#[test]
fn the_committed_log_passes_and_prints_what_the_bash_verdict_printed() {
    let out = binary(&data(CONSOLE), &[], &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert_eq!(text.lines().filter(|l| l.starts_with("PASS")).count(), 45);
    assert_eq!(text, std::fs::read_to_string(data("test-qemu-xenrtcredit-icount.bash-judge.txt")).unwrap());
}

#[test]
fn a_failed_guest_check_fails_the_run_and_is_counted() {
    let log = with_line(&good_log(), "PASS: insmod rtsleep.ko", Some("FAIL: insmod rtsleep.ko"));
    assert_eq!(failure(&log, true).as_deref(), Some("1 check(s) failed"));
    let file = TempFile::new("fail-line.console.log", &log);
    let out = binary(&file.path, &[], &[]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("\nFAIL: insmod rtsleep.ko\n") && text.ends_with("\ntest-qemu: FAIL 1 check(s) failed\n"));
}

#[test]
fn a_guest_that_did_not_finish_fails_with_qemu_s_status_and_the_log() {
    let log = with_line(&good_log(), "GUEST: done", None);
    assert_eq!(failure(&log, true).as_deref(), Some("guest did not finish (QEMU rc 0; see console.log)"));
    let file = TempFile::new("no-done.console.log", &log);
    let out = binary(&file.path, &[("--qemu-rc", "124")], &[]);
    assert_eq!(out.status.code(), Some(1));
    let want = format!("test-qemu: FAIL guest did not finish (QEMU rc 124; see {})\n", file.path.display());
    assert!(stdout(&out).ends_with(&want));
}

#[test]
fn without_rtsleep_test_s_result_pass_the_run_fails() {
    let log = with_line(&good_log(), "RESULT: PASS (0 failures)", None);
    assert_eq!(failure(&log, true).as_deref(), Some("rtsleep_test did not pass"));
}

#[test]
fn under_xen_a_crash_line_fails_the_run_and_is_shown() {
    let crash = "(XEN) [   12.0] Xen BUG at common/sched/rtcredit.c:901";
    let log = with_line(&good_log(), "GUEST: done", Some(&format!("{crash}\r\nGUEST: done")));
    assert_eq!(failure(&log, true), Some(format!("crash in the console log, line 508: {crash}")));
    assert_eq!(failure(&log, false), None, "bare QEMU: no Xen, no crash pattern");
}

#[test]
fn a_bad_crash_pattern_or_a_missing_log_is_an_error_that_names_it() {
    let out = binary(&data(CONSOLE), &[("--crash-re", "Panic(on")], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(common::stderr(&out).contains("--crash-re: the crash pattern is not a regular expression"));
    let out = binary(&data("no-such.console.log"), &[], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(common::stderr(&out).contains("cannot read the serial log") && out.stdout.is_empty());
}
