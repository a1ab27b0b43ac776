//! The checks of `hypervisor/xen/smoke.sh --trace`: a real xentrace trace recorded in
//! dom0, brought out over the serial console, decoded here and read by
//! rtcredit-monitor's library.
//!
//! dom0's `/init` records two traces of the scheduler class (`xentrace -D -e
//! 0x0002f000`): `load`, 2 s into the load, and `idle`, 1 s with dom0 idle after it.
//! For each it prints a status line, `SMOKE: xentrace NAME start_uptime=20.69 exit=0
//! end_uptime=22.96 bytes=55720 md5=6f3b...`, xentrace's own output as `SMOKE: xentrace
//! NAME says: ...`, and `gzip -c | base64` of the file between `SMOKE: TRACE BEGIN NAME
//! (gzip, base64)` and `SMOKE: TRACE END NAME`. The checks decode each block, compare
//! its size and MD5 with the status line, and build the report `rtcredit-monitor
//! --cpu-hz MHZ report` builds ([`Report::build`]), with the TSC rate Xen printed
//! (`Detected 2596.143 MHz processor`: the trace does not carry it). Load trace: every
//! byte read, both of dom0's VCPUs ran and, under rtcredit, dom0 had time at RT and RT
//! fires. Idle trace: under 1 MB and each of dom0's VCPUs blocked for at least half of
//! it (a VCPU re-picked right after `SCHEDOP_block`, a bug the first real trace showed,
//! spins instead and writes megabytes of block/continue records).
//!
//! 4 checks (one, the missing TSC rate, when Xen printed no rate), with the texts of the
//! bash judge they replace. Besides the checks, [`judge`] returns what the bash judge
//! left in the run directory for a reader: the decoded traces (`trace.bin`,
//! `trace-idle.bin`, for `rtcredit-monitor plot` and the like) and the monitor's table
//! of each (`trace-report.txt`, `trace-idle-report.txt`, with the idle domain); the
//! binary writes them. It no longer writes the monitor's JSON or notes: the checks read
//! the report itself, and the table holds the notes.
//!
//! Where this judge differs from the bash one: base64 is decoded in groups of four
//! characters, as GNU `base64 -d` reads it (padding between groups is fine, it stops at
//! the first bad group), and gzip members one after another as `gunzip` does, each
//! keeping what it decoded before an error; on a corrupted block the decoded size can
//! differ from what the bash pipeline produced, the verdict (a size or MD5 mismatch)
//! does not.

use std::io::Read;
use std::path::{Path, PathBuf};

use base64::Engine;
use md5::{Digest, Md5};
use regex::Regex;
use rtcredit_monitor::clock::{parse_hz, Clock};
use rtcredit_monitor::report::Row;
use rtcredit_monitor::{analyze, Report};

use crate::{field, Check, Serial};

/// The idle trace must be smaller than this: credit writes about 15 KB in its second,
/// a spinning VCPU megabytes.
const IDLE_MAX_BYTES: usize = 1_000_000;

/// The checks of the two traces and the files to leave in the run directory.
#[derive(Debug, Clone, Default)]
pub struct Trace {
    pub checks: Vec<Check>,
    /// What to write where: the decoded traces and the monitor's tables.
    pub files: Vec<(PathBuf, Vec<u8>)>,
}

/// Judges the traces in a serial log of smoke.sh --trace under scheduler `sched`; the
/// files go into `dir` (smoke.sh's run directory), and the check texts name them there.
pub fn judge(log: &Serial, sched: &str, dir: &Path) -> Trace {
    let mut trace = Trace::default();
    let Some(mhz) = tsc_mhz(log) else {
        trace.checks.push(Check::fail("no 'Detected ... MHz processor' line from Xen (TSC rate)"));
        return trace;
    };
    let (bin, table) = (dir.join("trace.bin"), dir.join("trace-report.txt"));
    if let Some((report, _)) = trace.decoded(log, "load", &bin, mhz, &table) {
        trace.checks.push(match report {
            Err(why) => Check::fail(format!("load trace: {why}")),
            Ok(report) => load(&report, sched, mhz, &table),
        });
    }
    let (bin, table) = (dir.join("trace-idle.bin"), dir.join("trace-idle-report.txt"));
    if let Some((report, bytes)) = trace.decoded(log, "idle", &bin, mhz, &table) {
        trace.checks.push(match report {
            Err(why) => Check::fail(format!("idle trace: {why}")),
            Ok(report) => idle(&report, bytes),
        });
    }
    trace
}

impl Trace {
    /// Decodes trace `name` into file `bin` and checks it against dom0's status line;
    /// if it matches, the monitor's report of it (its table into file `table`) or why
    /// there is none, and the trace's size. `None` when the decoding check failed.
    fn decoded(
        &mut self,
        log: &Serial,
        name: &str,
        bin: &Path,
        mhz: &str,
        table: &Path,
    ) -> Option<(Result<Report, String>, usize)> {
        let status = log.lines().find(|l| l.starts_with(&format!("SMOKE: xentrace {name} start_uptime=")));
        let bytes = decode(&block(log, name));
        let check = decode_check(log, name, status, &bytes, bin);
        let passed = check.passed;
        self.checks.push(check);
        let report = passed.then(|| (report(&bytes, mhz, bin), bytes.len()));
        self.files.push((bin.to_path_buf(), bytes));
        if let Some((Ok(report), _)) = &report {
            self.files.push((table.to_path_buf(), report.to_table(true).into_bytes()));
        }
        report
    }
}

/// The TSC rate Xen calibrated against the platform timer, as it printed it (`2596.143`).
fn tsc_mhz(log: &Serial) -> Option<&str> {
    let line = Regex::new(r"\(XEN\).*Detected [0-9.]* MHz processor").ok()?;
    let rate = Regex::new(r".*Detected ([0-9.]*) MHz").ok()?;
    let found = log.lines().find(|l| line.is_match(l))?;
    rate.captures(found).and_then(|c| c.get(1)).map(|m| m.as_str()).filter(|mhz| !mhz.is_empty())
}

/// The lines between `SMOKE: TRACE BEGIN NAME ...` and `SMOKE: TRACE END NAME` (as the
/// bash judge's `sed -n '/BEGIN/,/END/p' | sed '1d;$d'`: without an END the block runs
/// to the end of the log, less its last line).
fn block<'l>(log: &'l Serial, name: &str) -> Vec<&'l str> {
    let (begin, end) = (format!("SMOKE: TRACE BEGIN {name} "), format!("SMOKE: TRACE END {name}"));
    let mut lines = Vec::new();
    let mut inside = false;
    for line in log.lines() {
        if inside {
            lines.push(line);
            inside = line != end;
        } else if line.starts_with(&begin) {
            lines.push(line);
            inside = true;
        }
    }
    let inner = lines.len().saturating_sub(1);
    lines.get(1..inner).map_or_else(Vec::new, <[&str]>::to_vec)
}

/// The bytes gzip-and-base64 lines stand for. Lines with any other character are
/// skipped (console noise between them); the rest are read as one text.
fn decode(lines: &[&str]) -> Vec<u8> {
    let base64_line = |l: &&&str| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b));
    let text: Vec<u8> = lines.iter().filter(base64_line).flat_map(|l| l.bytes()).collect();
    // GNU base64 -d: four characters at a time, padded groups anywhere, stop at a bad one.
    let mut gz = Vec::with_capacity(text.len() / 4 * 3);
    for group in text.chunks(4) {
        if base64::engine::general_purpose::STANDARD.decode_vec(group, &mut gz).is_err() {
            break;
        }
    }
    // gunzip: member after member; what came out before an error is kept.
    let mut out = Vec::new();
    let _ = flate2::read::MultiGzDecoder::new(gz.as_slice()).read_to_end(&mut out);
    out
}

/// xentrace exited 0 with a non-empty file, and the decoded bytes have its size and MD5.
fn decode_check(log: &Serial, name: &str, status: Option<&str>, bytes: &[u8], bin: &Path) -> Check {
    let line = status.unwrap_or("");
    let (want_bytes, want_md5) = (field(line, "bytes"), field(line, "md5"));
    let md5 = format!("{:x}", Md5::digest(bytes));
    if field(line, "exit") != "0" {
        let says: String = log
            .lines()
            .filter(|l| l.starts_with(&format!("SMOKE: xentrace {name} says:")))
            .take(3)
            .map(|l| format!("{l} "))
            .collect();
        Check::fail(format!("xentrace ({name}) in dom0: {} {says}", status.unwrap_or("no status line")))
    } else if want_bytes.is_empty() || want_bytes.parse::<u64>().is_ok_and(|n| n == 0) {
        Check::fail(format!("xentrace ({name}) in dom0 wrote an empty trace: {line}"))
    } else if bytes.len().to_string() != want_bytes || md5 != want_md5 {
        Check::fail(format!(
            "trace ({name}) from the console: {} bytes, MD5 {md5}; dom0 said {want_bytes} bytes, MD5 {want_md5}",
            bytes.len()
        ))
    } else {
        Check::pass(format!(
            "xentrace ({name}) in dom0 recorded {} bytes; decoded from the console into {}, MD5 matches",
            bytes.len(),
            bin.display()
        ))
    }
}

/// What `rtcredit-monitor --cpu-hz MHZMHz report` reports on `bytes` (read from file
/// `bin`), or its error as the binary prints it.
fn report(bytes: &[u8], mhz: &str, bin: &Path) -> Result<Report, String> {
    let failed = |why: String| format!("rtcredit-monitor report failed: rtcredit-monitor: {why}");
    let hz = parse_hz(&format!("{mhz}MHz")).map_err(|e| failed(e.to_string()))?;
    let analysis = analyze(bytes, false, |_| {});
    analysis.usable().map_err(|e| failed(format!("{}: {e}", bin.display())))?;
    Ok(Report::build(&analysis, Some(Clock::given(hz))))
}

/// The trace's length in ms, rounded (its times are in ns: the rate is given).
fn duration_ms(report: &Report) -> u64 {
    (report.duration as f64 / 1e6).round() as u64
}

fn dom0_vcpus(report: &Report) -> impl Iterator<Item = &Row> {
    report.rows.iter().filter(|r| r.dom == 0 && r.vcpu.is_some())
}

/// During the load both of dom0's VCPUs run busy loops and nothing else wants the
/// CPUs, so Xen never switches them (only `TRC_SCHED_CONTINUE_RUNNING`, no runstate
/// change); the rtsleep loop on VCPU 0 gets RT fires and runs at RT until its next
/// rtsleep or the 0.5 ms RT quantum. Other schedulers: no RT and none of our events,
/// the runs must still read.
fn load(report: &Report, sched: &str, mhz: &str, table: &Path) -> Check {
    let problems = report.problems.total;
    let vcpus = dom0_vcpus(report).filter(|r| r.cpu_time > 0).count();
    let total = report.rows.iter().find(|r| r.dom == 0 && r.vcpu.is_none());
    let rt_ns = total.map_or(0, |r| r.time_at.rt);
    let (fires, grants) = total.map_or((0, 0), |r| (r.rt.fires, r.rt.grants));
    let ms = duration_ms(report);
    if sched != "rtcredit" && problems == 0 && vcpus == 2 {
        Check::pass(format!(
            "rtcredit-monitor reads the load trace ({ms} ms, TSC {mhz} MHz): all bytes read, dom0's 2 VCPUs ran"
        ))
    } else if problems == 0 && vcpus == 2 && rt_ns > 0 && fires > 0 {
        Check {
            below: vec![format!("      the monitor's table: {}", table.display())],
            ..Check::pass(format!(
                "rtcredit-monitor reads the load trace ({ms} ms, TSC {mhz} MHz): all bytes read, dom0's 2 VCPUs ran, {} ms at RT, {grants} RT grants, {fires} RT fires",
                rt_ns / 1_000_000
            ))
        }
    } else {
        Check::fail(format!(
            "rtcredit-monitor on the load trace: want 0 problems, dom0's 2 VCPUs running, time at RT > 0, RT fires > 0; got problems={problems} vcpus={vcpus} rt_ns={rt_ns} fires={fires}"
        ))
    }
}

/// Idle dom0: its VCPUs block for most of the second; `bytes` is the trace's size.
fn idle(report: &Report, bytes: usize) -> Check {
    // No VCPU at all reads as 0 ms blocked, as the bash judge's arithmetic on jq's null.
    let blocked_ms = dom0_vcpus(report).map(|r| r.blocked_time).min().unwrap_or(0) / 1_000_000;
    let ms = duration_ms(report);
    Check::new(
        bytes < IDLE_MAX_BYTES && blocked_ms >= ms / 2,
        || format!("idle dom0 blocks: each VCPU blocked at least {blocked_ms} of {ms} ms, trace {bytes} bytes"),
        || format!("idle dom0 does not block: trace {bytes} bytes in {ms} ms, least blocked VCPU {blocked_ms} ms"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_is_read_as_sed_s_range_less_its_first_and_last_line() {
        let serial =
            Serial::from_bytes(b"x\nSMOKE: TRACE BEGIN a (gzip)\nQUJD\nnot: base64\nREVG\nSMOKE: TRACE END a\nlast\n");
        assert_eq!(block(&serial, "a"), ["QUJD", "not: base64", "REVG"]);
        let unended = Serial::from_bytes(b"SMOKE: TRACE BEGIN a (gzip)\nQUJD\nREVG\nlast\n");
        assert_eq!(block(&unended, "a"), ["QUJD", "REVG"], "to the end, less the log's last line");
        assert!(block(&serial, "b").is_empty());
    }

    #[test]
    fn base64_is_read_in_groups_of_four_and_gzip_member_after_member() {
        let gzip = |data: &[u8]| {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            std::io::Write::write_all(&mut e, data).unwrap();
            base64::engine::general_purpose::STANDARD.encode(e.finish().unwrap())
        };
        let (a, b) = (gzip(b"first "), gzip(b"second"));
        assert_eq!(decode(&[&a, "noise: x", &b]), b"first second");
        let bad = format!("{a}!!!!{b}");
        assert_eq!(decode(&[&bad]), b"", "a line with a bad character is skipped");
        let cut = &a[..a.len() - 4];
        assert!(b"first ".starts_with(&decode(&[cut])), "what came out before the error is kept");
    }
}
