//! The PASS/FAIL judging of the serial logs of RT-Credit's QEMU harnesses, in Rust and
//! tested on committed logs (issue #16).
//!
//! A harness (a script under `hypervisor/xen/`) builds an initramfs, boots Xen under
//! QEMU and saves the serial console to a file; dom0 prints one line per step it runs,
//! tagged with the harness's name (`XLSMOKE: xl-create rc=0`). This crate reads that
//! file afterwards and decides: one [`Check`] per property, printed as `PASS: ...` or
//! `FAIL: ...`, then a summary line; the binary exits 1 if any check failed.
//!
//! It reads a log and nothing else: no QEMU, no clock, no files besides the log
//! (fault-smoke.sh's boots are judged from their run directories: the log and the
//! `qemu-status` the script wrote beside it). (For
//! smoke.sh --trace it decodes the traces dom0 printed into the log and reads them with
//! rtcredit-monitor's library; the binary leaves them and the monitor's tables in the
//! run directory, [`smoke::trace`].) The values the run
//! was configured with (scheduler, weights, the QEMU exit status) come from the harness
//! on the command line, and so does the list of crash patterns, which the shell
//! harnesses share (`XEN_CRASH_RE` in `hypervisor/xen/lib-initramfs.sh`): it is kept
//! there, once, and passed in ([`CrashPattern`]).
//!
//! One module per harness: [`xl_smoke`] for `hypervisor/xen/xl-smoke.sh`, [`smoke`] for
//! `hypervisor/xen/smoke.sh` (with [`smoke::trace`] for its `--trace` checks),
//! [`test_qemu`] for the verdict of `guest-kmod/test-qemu.sh` (whose guest makes the
//! checks itself), [`fault_smoke`] for `hypervisor/xen/fault-smoke.sh`. tests/e2e/run.sh
//! has its own report crate (`tests/e2e/report`). What the modules share is
//! here: the log, the crash pattern, a check and a verdict with its report, and the
//! small text functions that stand for the bash judges' `sed`s.

pub mod fault_smoke;
pub mod smoke;
pub mod test_qemu;
pub mod xl_smoke;

use std::fmt;
use std::str::FromStr;

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

/// One property of a run, decided: `PASS: text` or `FAIL: text` when displayed, and
/// under it the lines of `below` as they are. The text says what was seen (a PASS) or
/// what was there instead (a FAIL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub passed: bool,
    pub text: String,
    /// Lines printed under the check's own: the details a bash judge indented (the
    /// crash lines, a table) and its `NOTE:` lines. Not part of the verdict.
    pub below: Vec<String>,
}

impl Check {
    pub fn pass(text: impl Into<String>) -> Check {
        Check { passed: true, text: text.into(), below: Vec::new() }
    }

    pub fn fail(text: impl Into<String>) -> Check {
        Check { passed: false, text: text.into(), below: Vec::new() }
    }

    /// PASS with `pass` if `ok`, else FAIL with `fail` (built only then).
    pub fn new(ok: bool, pass: impl FnOnce() -> String, fail: impl FnOnce() -> String) -> Check {
        if ok {
            Check::pass(pass())
        } else {
            Check::fail(fail())
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", if self.passed { "PASS" } else { "FAIL" }, self.text)?;
        for line in &self.below {
            write!(f, "\n{line}")?;
        }
        Ok(())
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

    /// What a harness prints after the serial log's path: each check (with the lines
    /// under it), then with `elapsed` = (the harness's wall time so far, QEMU's) the
    /// line `elapsed: Ns total, QEMU Ms`, then `RESULT: all checks passed` or `RESULT:
    /// N check(s) failed`, followed by `context` (` (sched=rtcredit)`, or nothing).
    pub fn report(&self, elapsed: Option<(u64, u64)>, context: &str) -> String {
        let mut out = String::new();
        for check in &self.checks {
            out += &format!("{check}\n");
        }
        if let Some((total, qemu)) = elapsed {
            out += &format!("elapsed: {total}s total, QEMU {qemu}s\n");
        }
        out += &match self.failures() {
            0 => format!("RESULT: all checks passed{context}\n"),
            n => format!("RESULT: {n} check(s) failed{context}\n"),
        };
        out
    }
}

/// The Xen build a run booted (smoke.sh's `--debug`, fault-smoke.sh's `--release`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    Release,
    Debug,
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Variant::Release => "release",
            Variant::Debug => "debug",
        })
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown Xen build '{0}': a harness boots release or debug")]
pub struct UnknownVariant(String);

impl FromStr for Variant {
    type Err = UnknownVariant;
    fn from_str(s: &str) -> Result<Variant, UnknownVariant> {
        match s {
            "release" => Ok(Variant::Release),
            "debug" => Ok(Variant::Debug),
            _ => Err(UnknownVariant(s.to_owned())),
        }
    }
}

/// What follows the last `pat` in `line`, or the whole line (`sed 's/.*PAT//'`).
pub fn after_last<'l>(line: &'l str, pat: &str) -> &'l str {
    line.rfind(pat).map_or(line, |i| &line[i + pat.len()..])
}

/// The value of the last ` KEY=VALUE` in a line, up to the next space; `None` if the
/// line has no ` KEY=` (`sed -n 's/.* KEY=\([^ ]*\).*/\1/p'`).
pub fn key_value<'l>(line: &'l str, key: &str) -> Option<&'l str> {
    let start = format!(" {key}=");
    line.rfind(&start).map(|i| line[i + start.len()..].split(' ').next().unwrap_or(""))
}

/// The same, empty if there is none (the bash judges' `field`).
pub fn field<'l>(line: &'l str, key: &str) -> &'l str {
    key_value(line, key).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_helpers_do_what_the_sed_of_the_bash_judges_did() {
        assert_eq!(after_last("XLSMOKE: a| b| c", "| "), "c");
        assert_eq!(after_last("no bar", "| "), "no bar");
        assert_eq!(field("x weight=512 cap=20 rc=0", "weight"), "512");
        assert_eq!(field("x weight=512 cap=20 rc=0", "rc"), "0");
        assert_eq!(field("x weight=512", "cap"), "");
        assert_eq!(field("x xweight=1", "weight"), "");
        assert_eq!(field("a rc=1 b rc=2", "rc"), "2", "the last, as sed's greedy .*");
        assert_eq!(key_value("x rc= y", "rc"), Some(""));
        assert_eq!(key_value("rc=0", "rc"), None, "a key needs a space before it");
    }

    #[test]
    fn a_check_is_displayed_with_the_lines_under_it() {
        let check = Check { below: vec!["      table: x".into()], ..Check::pass("a") };
        assert_eq!(check.to_string(), "PASS: a\n      table: x");
        assert_eq!(Check::fail("b").to_string(), "FAIL: b");
    }

    #[test]
    fn the_report_counts_the_failures_and_names_the_context() {
        let verdict = Verdict { checks: vec![Check::pass("a"), Check::fail("b"), Check::fail("c")] };
        assert_eq!(verdict.report(None, ""), "PASS: a\nFAIL: b\nFAIL: c\nRESULT: 2 check(s) failed\n");
        let verdict = Verdict { checks: vec![Check::pass("a")] };
        assert_eq!(
            verdict.report(Some((61, 58)), " (sched=x)"),
            "PASS: a\nelapsed: 61s total, QEMU 58s\nRESULT: all checks passed (sched=x)\n"
        );
    }
}
