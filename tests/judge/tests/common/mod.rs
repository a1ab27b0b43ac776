//! What the tests of each harness share: the committed data, the crash patterns of
//! the shell harnesses, a log changed one line at a time, a temporary file, the binary.

#![allow(dead_code)] // each test crate uses its own part

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

pub fn read(name: &str) -> Vec<u8> {
    std::fs::read(data(name)).unwrap()
}

/// XEN_CRASH_RE as hypervisor/xen/lib-initramfs.sh defines it for every harness.
pub fn crash_re() -> String {
    let lib = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../hypervisor/xen/lib-initramfs.sh");
    let text = std::fs::read_to_string(lib).unwrap();
    let line =
        text.lines().find_map(|l| l.strip_prefix("XEN_CRASH_RE='")).expect("XEN_CRASH_RE='...' in lib-initramfs.sh");
    line.strip_suffix('\'').expect("XEN_CRASH_RE on one line, in single quotes").to_owned()
}

/// `log` with its one line `from` (its CRs aside: the console ends lines with CR LF
/// or CR CR LF) replaced by `to` (no line at all if `to` is `None`).
pub fn with_line(log: &[u8], from: &str, to: Option<&str>) -> Vec<u8> {
    let text = String::from_utf8(log.to_vec()).unwrap();
    let mut found = 0;
    let mut out = String::new();
    for line in text.split_inclusive('\n') {
        if line.trim_end_matches(['\r', '\n']) == from {
            found += 1;
            if let Some(to) = to {
                out += &format!("{to}\r\n");
            }
        } else {
            out += line;
        }
    }
    assert_eq!(found, 1, "the committed log has one line '{from}'");
    out.into_bytes()
}

pub fn failed(lines: &[String]) -> Vec<&String> {
    lines.iter().filter(|l| l.starts_with("FAIL: ")).collect()
}

/// A file under the system's temporary directory, removed when dropped.
pub struct TempFile {
    dir: PathBuf,
    pub path: PathBuf,
}

impl TempFile {
    /// `name` is unique among the tests of a crate (they run in parallel).
    pub fn new(name: &str, bytes: &[u8]) -> TempFile {
        let dir = std::env::temp_dir().join(format!("rtcredit-judge-test-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        TempFile { dir, path }
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `rtcredit-judge SUBCOMMAND` with the flags `flags`, the values of `changed` in
/// place of theirs, then the words `extra`.
pub fn binary(subcommand: &str, flags: &[(&str, &str)], changed: &[(&str, &str)], extra: &[&str]) -> Output {
    let mut flags = flags.to_vec();
    for &(flag, value) in changed {
        flags.iter_mut().find(|(f, _)| *f == flag).expect("a flag of the script").1 = value;
    }
    let mut command = Command::new(env!("CARGO_BIN_EXE_rtcredit-judge"));
    command.arg(subcommand);
    for (flag, value) in flags {
        command.args([flag, value]);
    }
    command.args(extra).output().unwrap()
}

/// A run of the binary on a log with flags changed and words added (a test file's
/// `binary`).
pub type Binary = fn(&Path, &[(&str, &str)], &[&str]) -> Output;

/// `binary` with the script's flags and the words `extra` on `log`, written to a
/// temporary file `name` for the run.
pub fn binary_on(binary: Binary, name: &str, log: &[u8], extra: &[&str]) -> Output {
    let file = TempFile::new(name, log);
    binary(&file.path, &[], extra)
}

/// A case of [`assert_usage_errors`]: flags changed, words added, what the error names.
pub type UsageCase<'a> = (&'a [(&'a str, &'a str)], &'a [&'a str], &'a str);

/// Each case on the `good` log, and a log that is not there, exits 2 with nothing on
/// standard output and an error that names the problem.
pub fn assert_usage_errors(binary: Binary, good: &Path, cases: &[UsageCase]) {
    for &(changed, extra, named) in cases {
        let out = binary(good, changed, extra);
        let stderr = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{changed:?} {extra:?}: {stderr}");
        assert!(stderr.contains(named), "{changed:?} {extra:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{changed:?} {extra:?}");
    }
    let missing = good.with_file_name("no-such.serial.log");
    let out = binary(&missing, &[], &[]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = stderr(&out);
    assert!(stderr.contains("cannot read the serial log") && stderr.contains("no-such.serial.log"), "{stderr}");
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}
