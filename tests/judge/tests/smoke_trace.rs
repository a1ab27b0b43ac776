//! `rtcredit-judge smoke --trace` on a real serial log of `hypervisor/xen/smoke.sh
//! --sched rtcredit --trace` (tests/data/smoke-rtcredit-release-trace.serial.log, as
//! QEMU wrote it, 83 KB: run directory `run-rtcredit-release-trace`), and on it changed
//! one line at a time.
//!
//! `smoke-rtcredit-release-trace.bash-judge.txt` is what the bash judge the binary
//! replaced printed on that log (`--rejudge --trace`, after the `serial log:` line). Its
//! texts name the files it wrote in that run's directory ([`bash_run_dir`]); the binary
//! writes them into a temporary directory here, and the tests put the bash judge's
//! directory in its place before comparing. The FAIL lines the tests expect on changed
//! logs are what the bash judge printed on them too.

mod common;

use std::path::Path;
use std::process::Output;

use common::{crash_re, data, stdout, with_line, TempFile};
use md5::{Digest, Md5};
use rtcredit_judge::smoke::trace;
use rtcredit_judge::Serial;

const TRACED: &str = "smoke-rtcredit-release-trace.serial.log";

/// Where the bash judge wrote the decoded traces and tables: the directory its text
/// names for the load trace (the clone it ran in, not this one).
fn bash_run_dir(bash: &str) -> &str {
    let marker = "decoded from the console into ";
    let line = bash.lines().find(|l| l.contains(marker)).expect("the bash judge names the decoded trace");
    let path = &line[line.find(marker).unwrap() + marker.len()..];
    path.split("/trace.bin").next().unwrap()
}

/// dom0's status line of the load trace, less its `exit=0 ` (`-` in its place).
const LOAD_STATUS: &str =
    "SMOKE: xentrace load start_uptime=20.69 - end_uptime=22.96 bytes=55720 md5=6f3b732c50ff9fa89bddc4c5b308280b";

/// The script's flags for the committed log, `--trace DIR`, the values of `changed` in
/// place of theirs.
fn binary(log: &Path, dir: &Path, changed: &[(&str, &str)]) -> Output {
    let re = crash_re();
    let flags = [
        ("--log", log.to_str().unwrap()),
        ("--sched", "rtcredit"),
        ("--qemu-rc", "0"),
        ("--boot-secs", "56"),
        ("--timeout", "420"),
        ("--duration", "30"),
        ("--expect-rtsleep-rc", "-1"),
        ("--crash-re", re.as_str()),
        ("--trace", dir.to_str().unwrap()),
    ];
    common::binary("smoke", &flags, changed, &[])
}

/// The trace checks on `log` under `sched`, displayed (files named in `/run`).
fn checks(log: &[u8], sched: &str) -> Vec<String> {
    trace::judge(&Serial::from_bytes(log), sched, Path::new("/run")).checks.iter().map(ToString::to_string).collect()
}

fn good_log() -> Vec<u8> {
    common::read(TRACED)
}

#[test]
fn the_committed_traced_log_passes_56_checks_as_the_bash_judge_printed_and_leaves_the_traces() {
    let dir = TempFile::new("run-dir-marker", b"");
    let run_dir = dir.path.parent().unwrap();
    let out = binary(&data(TRACED), run_dir, &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert_eq!(text.lines().filter(|l| l.starts_with("PASS: ")).count(), 56);
    let bash = std::fs::read_to_string(data("smoke-rtcredit-release-trace.bash-judge.txt")).unwrap();
    assert_eq!(text.replace(run_dir.to_str().unwrap(), bash_run_dir(&bash)), bash);
    // The decoded trace is the file dom0 recorded; the table is the monitor's.
    let load = std::fs::read(run_dir.join("trace.bin")).unwrap();
    assert_eq!((load.len(), format!("{:x}", Md5::digest(&load))), (55720, "6f3b732c50ff9fa89bddc4c5b308280b".into()));
    assert_eq!(std::fs::read(run_dir.join("trace-idle.bin")).unwrap().len(), 15464);
    let table = std::fs::read_to_string(run_dir.join("trace-report.txt")).unwrap();
    assert!(
        table.starts_with("trace: 1989.833 ms on 2 CPU(s), 2261 records, 55720 bytes; TSC at 2596.143 MHz"),
        "{table}"
    );
    let idle = std::fs::read_to_string(run_dir.join("trace-idle-report.txt")).unwrap();
    assert!(idle.lines().any(|l| l.starts_with("idle  all ")), "the idle domain is in the table: {idle}");
}

#[test]
fn a_corrupted_base64_line_fails_the_size_and_md5_check_of_its_trace_only() {
    let line = "EZxaYVOEz5ZDtG9yXbgrHrkl6cJmOXaRux0yrot1J48DNuuretrRqdhF1jPKmPue1SEgV+PdqDRz";
    let log = with_line(&good_log(), line, Some(&line.replacen("z5Z", "z5A", 1)));
    let lines = checks(&log, "rtcredit");
    assert_eq!(
        lines,
        [
            "FAIL: trace (load) from the console: 55720 bytes, MD5 28b4d5b1307d68bd624638caf91e8e2f; dom0 said 55720 bytes, MD5 6f3b732c50ff9fa89bddc4c5b308280b",
            "PASS: xentrace (idle) in dom0 recorded 15464 bytes; decoded from the console into /run/trace-idle.bin, MD5 matches",
            "PASS: idle dom0 blocks: each VCPU blocked at least 981 of 1004 ms, trace 15464 bytes",
        ]
    );
}

#[test]
fn a_missing_trace_end_runs_the_block_into_the_next_trace_and_fails_the_size_check() {
    let log = with_line(&good_log(), "SMOKE: TRACE END load", None);
    assert_eq!(
        checks(&log, "rtcredit")[0],
        "FAIL: trace (load) from the console: 71184 bytes, MD5 52b9a06e8ad2cf4628cbdb3e4ccb1e89; dom0 said 55720 bytes, MD5 6f3b732c50ff9fa89bddc4c5b308280b",
        "both gzip members, 55720 + 15464 bytes"
    );
}

#[test]
fn xentrace_exiting_1_or_no_status_line_fails_the_trace_and_shows_what_dom0_said() {
    let status = LOAD_STATUS.replace(" - ", " exit=0 ");
    let log = with_line(&good_log(), &status, Some(&LOAD_STATUS.replace(" - ", " exit=1 ")));
    let lines = checks(&log, "rtcredit");
    assert_eq!(
        lines[0],
        format!(
            "FAIL: xentrace (load) in dom0: {} SMOKE: xentrace load says: change evtmask to 0x2f000 ",
            LOAD_STATUS.replace(" - ", " exit=1 ")
        )
    );
    assert_eq!(lines.len(), 3, "the idle trace is still checked");
    let log = with_line(&good_log(), &status, None);
    assert_eq!(
        checks(&log, "rtcredit")[0],
        "FAIL: xentrace (load) in dom0: no status line SMOKE: xentrace load says: change evtmask to 0x2f000 "
    );
}

#[test]
fn without_xen_s_tsc_rate_there_is_one_failed_check() {
    let log = with_line(&good_log(), "(XEN) [    0.446180] Detected 2596.143 MHz processor.", None);
    assert_eq!(checks(&log, "rtcredit"), ["FAIL: no 'Detected ... MHz processor' line from Xen (TSC rate)"]);
    let dir = TempFile::new("no-mhz.serial.log", &log);
    let out = binary(&dir.path, dir.path.parent().unwrap(), &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).ends_with(
        "FAIL: no 'Detected ... MHz processor' line from Xen (TSC rate)\nPASS: dom0 /init finished\nRESULT: 1 check(s) failed\n"
    ));
}

#[test]
fn under_another_scheduler_the_load_trace_needs_no_rt() {
    assert_eq!(
        checks(&good_log(), "credit")[1],
        "PASS: rtcredit-monitor reads the load trace (1990 ms, TSC 2596.143 MHz): all bytes read, dom0's 2 VCPUs ran"
    );
}

#[test]
fn a_run_directory_that_cannot_be_written_is_an_error_that_names_it() {
    let not_a_dir = data(TRACED).join("run");
    let out = binary(&data(TRACED), &not_a_dir, &[]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = common::stderr(&out);
    assert!(stderr.contains("--trace: cannot write") && stderr.contains("trace.bin"), "{stderr}");
    assert!(out.stdout.is_empty());
}
