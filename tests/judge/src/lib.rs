//! The PASS/FAIL judging of the serial logs of RT-Credit's QEMU harnesses, in Rust and
//! tested on committed logs (issue #16).
//!
//! A harness (a script under `hypervisor/xen/`) builds an initramfs, boots Xen under
//! QEMU and saves the serial console to a file; dom0 prints one line per step it runs,
//! tagged with the harness's name (`XLSMOKE: xl-create rc=0`). This crate reads that
//! file afterwards and decides: one [`Check`] per property, printed as `PASS: ...` or
//! `FAIL: ...`, then a summary line; the binary exits 1 if any check failed.
//!
//! It reads a log and nothing else: no QEMU, no clock, no files besides the log. The
//! values the run was configured with (scheduler, weights, the QEMU exit status) come
//! from the harness on the command line, and so does the list of crash patterns, which
//! the shell harnesses share (`XEN_CRASH_RE` in `hypervisor/xen/lib-initramfs.sh`):
//! it is kept there, once, and passed in ([`CrashPattern`]).
//!
//! One module per harness: [`xl_smoke`] for `hypervisor/xen/xl-smoke.sh`. The other
//! harnesses (smoke.sh, fault-smoke.sh, tests/e2e/run.sh) still judge in bash.

pub mod xl_smoke;

use std::fmt;

/// A serial log as the checks read it: lines, with every carriage return removed (the
/// console writes CRLF) and bytes that are not UTF-8 replaced by U+FFFD.
#[derive(Debug, Clone, Default)]
pub struct Serial {
    lines: Vec<String>,
}

impl Serial {
    /// The log as QEMU wrote it (`serial.log`).
    pub fn from_bytes(bytes: &[u8]) -> Serial {
        let text = String::from_utf8_lossy(bytes).replace('\r', "");
        Serial { lines: text.lines().map(str::to_owned).collect() }
    }

    pub fn lines(&self) -> impl Iterator<Item = &str> {
        self.lines.iter().map(String::as_str)
    }
}

/// What counts as a crash in a serial log: an extended regular expression, one line at
/// a time. The harnesses pass `XEN_CRASH_RE` of `hypervisor/xen/lib-initramfs.sh`.
///
/// Read with the `regex` crate, not POSIX `grep -E`: whether a line matches is the
/// same for the alternations of literals and `.*` that the list holds; back-references
/// and `\<`/`\>` are not supported (an error, not a silent difference).
#[derive(Debug, Clone)]
pub struct CrashPattern {
    re: regex::Regex,
}

/// Why a crash pattern cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PatternError {
    /// An empty expression matches every line: an unset variable, not a pattern.
    #[error(
        "the crash pattern is empty (it matches every line); pass XEN_CRASH_RE of hypervisor/xen/lib-initramfs.sh"
    )]
    Empty,
    #[error("the crash pattern is not a regular expression the judge can read: {0}")]
    Invalid(#[from] regex::Error),
}

impl CrashPattern {
    pub fn new(re: &str) -> Result<CrashPattern, PatternError> {
        if re.is_empty() {
            return Err(PatternError::Empty);
        }
        Ok(CrashPattern { re: regex::Regex::new(re)? })
    }

    pub fn matches(&self, line: &str) -> bool {
        self.re.is_match(line)
    }
}

/// One property of a run, decided: `PASS: text` or `FAIL: text` when displayed. The
/// text says what was seen (a PASS) or what was there instead (a FAIL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub passed: bool,
    pub text: String,
}

impl Check {
    /// PASS with `pass` if `ok`, else FAIL with `fail` (built only then).
    pub fn new(ok: bool, pass: impl FnOnce() -> String, fail: impl FnOnce() -> String) -> Check {
        if ok {
            Check { passed: true, text: pass() }
        } else {
            Check { passed: false, text: fail() }
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", if self.passed { "PASS" } else { "FAIL" }, self.text)
    }
}

/// The checks of one run, in the order they were made.
#[derive(Debug, Clone, Default)]
pub struct Verdict {
    pub checks: Vec<Check>,
}

impl Verdict {
    pub fn failures(&self) -> usize {
        self.checks.iter().filter(|c| !c.passed).count()
    }
}
