//! The verdict of `guest-kmod/test-qemu.sh`: the guest module's checks, run in the
//! guest, as the host sees them on the console.
//!
//! The guest's `/init` (written by the script) loads `rtsleep.ko` and runs
//! `test/rtsleep_test.c`, the `rtsleep` command and the unload checks; each prints its
//! own `PASS: ...` or `FAIL: ...` line, `rtsleep_test` ends with `RESULT: PASS` (or
//! `RESULT: FAIL ...`), and the other lines for a reader start with `GUEST`, the last
//! `GUEST: done`. The guest decides each check; the host only collects them. It prints
//! those lines as they are (without Linux's `(d0) ` prefix under Xen), then one verdict:
//! `test-qemu: PASS`, or `test-qemu: FAIL WHY` for the first of: a crash line (under
//! Xen, `XEN_CRASH_RE` of `hypervisor/xen/lib-initramfs.sh`), no `GUEST: done` (the
//! guest did not finish: QEMU's exit status and the log's path follow), a `FAIL` line,
//! no `RESULT: PASS`.
//!
//! The modes of the script (bare QEMU, `--xen SCHED`, `--distro-kernel`) differ in what
//! the guest expects, which the guest knows; here they differ only in the crash
//! pattern, passed under Xen. The crash check is new with this port (the bash verdict
//! had none, and a crash showed only as a guest that did not finish): on a log without
//! a crash line it prints what the bash verdict printed.

use crate::{CrashPattern, Serial};

/// What the script saw: QEMU's exit status and where the console log is, for the
/// message of a guest that did not finish.
#[derive(Debug, Clone)]
pub struct Run {
    pub qemu_rc: i32,
    pub log_path: String,
}

/// The guest's lines for the host, and why the run failed (`None`: it passed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub lines: Vec<String>,
    pub failure: Option<String>,
}

impl Outcome {
    /// The script's output: the guest's lines, then `test-qemu: PASS` or `test-qemu:
    /// FAIL WHY`.
    pub fn report(&self) -> String {
        let mut out: String = self.lines.iter().map(|l| format!("{l}\n")).collect();
        out += &match &self.failure {
            None => "test-qemu: PASS\n".to_owned(),
            Some(why) => format!("test-qemu: FAIL {why}\n"),
        };
        out
    }
}

/// Judges a console log of test-qemu.sh; `crash` is given for a run under Xen.
pub fn judge(log: &Serial, run: &Run, crash: Option<&CrashPattern>) -> Outcome {
    // Under Xen, dom0's console lines carry no prefix with hvc0; strip any anyway.
    let lines: Vec<&str> = log.lines().map(|l| l.strip_prefix("(d0) ").unwrap_or(l)).collect();
    let guest = |prefix: &str| lines.iter().any(|l| l.starts_with(prefix));
    let crashed = crash.and_then(|c| lines.iter().position(|l| c.matches(l)));
    let fails = lines.iter().filter(|l| l.starts_with("FAIL")).count();
    let failure = if let Some(i) = crashed {
        Some(format!("crash in the console log, line {}: {}", i + 1, lines[i]))
    } else if !guest("GUEST: done") {
        Some(format!("guest did not finish (QEMU rc {}; see {})", run.qemu_rc, run.log_path))
    } else if fails > 0 {
        Some(format!("{fails} check(s) failed"))
    } else if !guest("RESULT: PASS") {
        Some("rtsleep_test did not pass".to_owned())
    } else {
        None
    };
    let shown = ["PASS", "FAIL", "RESULT", "GUEST"];
    let lines = lines.iter().filter(|l| shown.iter().any(|p| l.starts_with(p))).map(|l| (*l).to_owned()).collect();
    Outcome { lines, failure }
}
