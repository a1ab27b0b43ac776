//! Reading one boot's serial log.
//!
//! dom0's `/init` (`tests/e2e/dom0/init.sh`) says everything the host needs on lines
//! that start with `E2E`; kernel and Xen messages may surround them, and a line may
//! carry a prefix, so a marker is looked for anywhere in a line. Files come as
//!
//! ```text
//! E2E-FILE-BEGIN name=NAME bytes=N md5=HEX
//! <base64 of the gzip'd file, wrapped>
//! E2E-FILE-END name=NAME
//! ```
//!
//! and are accepted only when the decoded size and MD5 match: a console line broken by
//! a kernel message must not turn into a wrong number.
//!
//! **Bounded memory.** A log is input from a guest-controlled console, so the size a
//! header announces is checked before anything is decompressed: at most
//! [`MAX_FILE_BYTES`] per file and [`MAX_TOTAL_BYTES`] for all files of a log, and the
//! decompressor stops one byte past the announced size, so a gzip bomb costs at most
//! that much memory and is refused with [`SerialError::Size`].

use std::collections::BTreeMap;
use std::io::Read;

use base64::Engine;
use md5::{Digest, Md5};

/// Largest file a log may carry, decoded (dom0 sends JSON results and a short
/// xentrace capture: a few MiB).
pub const MAX_FILE_BYTES: usize = 64 << 20;
/// Largest total of decoded files in one log.
pub const MAX_TOTAL_BYTES: usize = 256 << 20;
/// Largest serial log, after decompression when it is stored gzip'd (`.log.gz`).
pub const MAX_LOG_BYTES: usize = 512 << 20;

/// What is wrong with a serial log. Each names the line (1-based) it is about.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SerialError {
    #[error("line {line}: {what}: missing or malformed field '{field}'")]
    Field { line: usize, what: &'static str, field: &'static str },
    #[error("line {line}: file '{name}' is not valid base64: {reason}")]
    Base64 { line: usize, name: String, reason: String },
    #[error("line {line}: file '{name}' is not valid gzip: {reason}")]
    Gzip { line: usize, name: String, reason: String },
    #[error("line {line}: file '{name}' decodes to {got} bytes, its header says {want}")]
    Size { line: usize, name: String, got: usize, want: usize },
    #[error("line {line}: file '{name}' has MD5 {got}, its header says {want}")]
    Md5 { line: usize, name: String, got: String, want: String },
    #[error("line {line}: file '{name}' starts but never ends (log cut off?)")]
    Unterminated { line: usize, name: String },
    #[error("line {line}: a second file starts ('{name}') inside file '{open}'")]
    Nested { line: usize, name: String, open: String },
    #[error("line {line}: file '{name}' announces {bytes} bytes, above the limit of {limit} ({what})")]
    TooLarge { line: usize, name: String, bytes: usize, limit: usize, what: &'static str },
}

/// One measuring-domU boot as dom0 announced it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunAnnounce {
    pub run: u32,
    /// `alone`, `0` (uncapped) or a cap in percent; `trace` for the traced extra run.
    pub config: String,
    /// `plain` or `rtsleep`.
    pub mode: String,
    pub loops: u64,
    /// The measuring domain's name and id.
    pub domain: String,
    pub domid: u32,
    /// Every domain then: name -> id.
    pub domains: BTreeMap<String, u32>,
    /// Per domain id: (CPU time, wall time) over the measured interval, ns.
    pub shares: BTreeMap<u32, (u64, u64)>,
    /// The guest's own `E2E-GUEST` lines, for diagnosis.
    pub guest_lines: Vec<String>,
    /// dom0 printed the run's closing line.
    pub ended: bool,
}

/// Everything one boot's log says.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BootLog {
    pub runs: Vec<RunAnnounce>,
    /// Decoded files by name.
    pub files: BTreeMap<String, Vec<u8>>,
    /// `E2E:` progress lines (the toolstack's version and scheduler among them).
    pub notes: Vec<String>,
    /// `E2E-FATAL` lines: dom0 gave up.
    pub fatal: Vec<String>,
}

/// The value of `key=` in a marker line (up to the next space).
fn field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let pattern = format!("{key}=");
    text.split_whitespace().find_map(|word| word.strip_prefix(pattern.as_str()))
}

fn number<T: std::str::FromStr>(
    text: &str,
    key: &'static str,
    line: usize,
    what: &'static str,
) -> Result<T, SerialError> {
    field(text, key).and_then(|v| v.parse().ok()).ok_or(SerialError::Field { line, what, field: key })
}

struct OpenFile {
    name: String,
    bytes: usize,
    md5: String,
    start_line: usize,
    base64: String,
}

impl OpenFile {
    fn finish(self, end_line: usize) -> Result<(String, Vec<u8>), SerialError> {
        let name = self.name;
        let gz = base64::engine::general_purpose::STANDARD
            .decode(self.base64.as_bytes())
            .map_err(|e| SerialError::Base64 { line: end_line, name: name.clone(), reason: e.to_string() })?;
        // One byte more than announced is enough to tell that it does not match.
        let mut data = Vec::with_capacity(self.bytes);
        flate2::read::GzDecoder::new(gz.as_slice())
            .take(self.bytes as u64 + 1)
            .read_to_end(&mut data)
            .map_err(|e| SerialError::Gzip { line: end_line, name: name.clone(), reason: e.to_string() })?;
        if data.len() > self.bytes {
            return Err(SerialError::Size { line: end_line, name, got: data.len(), want: self.bytes });
        }
        if data.len() != self.bytes {
            return Err(SerialError::Size { line: end_line, name, got: data.len(), want: self.bytes });
        }
        let got = format!("{:x}", Md5::digest(&data));
        if got != self.md5 {
            return Err(SerialError::Md5 { line: end_line, name, got, want: self.md5 });
        }
        Ok((name, data))
    }
}

/// How much decoded file data a log may carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Per file, decoded.
    pub file_bytes: usize,
    /// All files of one log together, decoded.
    pub total_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { file_bytes: MAX_FILE_BYTES, total_bytes: MAX_TOTAL_BYTES }
    }
}

/// Parses a whole serial log (CR LF or LF line ends) with the default [`Limits`].
pub fn parse(text: &str) -> Result<BootLog, SerialError> {
    parse_with_limits(text, Limits::default())
}

/// Parses a whole serial log, refusing files beyond `limits`.
pub fn parse_with_limits(text: &str, limits: Limits) -> Result<BootLog, SerialError> {
    let mut log = BootLog::default();
    let mut open: Option<OpenFile> = None;
    // Decoded bytes announced by the files accepted or open so far.
    let mut announced_total = 0usize;
    for (index, raw) in text.lines().enumerate() {
        let line_no = index + 1;
        let raw = raw.trim_end_matches('\r');
        if let Some(file) = open.as_mut() {
            if raw.contains("E2E-FILE-END") {
                let file = open.take().expect("a file is open");
                let (name, data) = file.finish(line_no)?;
                log.files.insert(name, data);
            } else if let Some(at) = raw.find("E2E-FILE-BEGIN") {
                let name = field(&raw[at..], "name").unwrap_or("?").to_string();
                return Err(SerialError::Nested { line: line_no, name, open: file.name.clone() });
            } else {
                // base64 lines: keep only the alphabet, so stray CRs or spaces do not count.
                file.base64.extend(raw.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=')));
            }
            continue;
        }
        let Some(at) = raw.find("E2E") else { continue };
        let marker = &raw[at..];
        let what = "E2E marker";
        if let Some(rest) = marker.strip_prefix("E2E-FILE-BEGIN") {
            let name = field(rest, "name").ok_or(SerialError::Field { line: line_no, what, field: "name" })?;
            let bytes: usize = number(rest, "bytes", line_no, "E2E-FILE-BEGIN")?;
            let too_large =
                |limit, what| SerialError::TooLarge { line: line_no, name: name.to_string(), bytes, limit, what };
            if bytes > limits.file_bytes {
                return Err(too_large(limits.file_bytes, "per file"));
            }
            announced_total = announced_total.saturating_add(bytes);
            if announced_total > limits.total_bytes {
                return Err(too_large(limits.total_bytes, "all files of a log"));
            }
            open = Some(OpenFile {
                name: name.to_string(),
                bytes,
                md5: field(rest, "md5")
                    .ok_or(SerialError::Field { line: line_no, what: "E2E-FILE-BEGIN", field: "md5" })?
                    .to_string(),
                start_line: line_no,
                base64: String::new(),
            });
        } else if let Some(rest) = marker.strip_prefix("E2E: run ") {
            // "E2E: run N config=C mode=M loops=L domain=NAME domid=D"
            let run = rest.split_whitespace().next().and_then(|n| n.parse().ok()).ok_or(SerialError::Field {
                line: line_no,
                what: "E2E: run",
                field: "run",
            })?;
            let what = "E2E: run";
            log.runs.push(RunAnnounce {
                run,
                config: field(rest, "config")
                    .ok_or(SerialError::Field { line: line_no, what, field: "config" })?
                    .into(),
                mode: field(rest, "mode").ok_or(SerialError::Field { line: line_no, what, field: "mode" })?.into(),
                loops: number(rest, "loops", line_no, what)?,
                domain: field(rest, "domain")
                    .ok_or(SerialError::Field { line: line_no, what, field: "domain" })?
                    .into(),
                domid: number(rest, "domid", line_no, what)?,
                ..RunAnnounce::default()
            });
        } else if let Some(rest) = marker.strip_prefix("E2E-DOMS") {
            let run: u32 = number(rest, "run", line_no, "E2E-DOMS")?;
            let domains = rest
                .split_whitespace()
                .filter(|w| !w.starts_with("run="))
                .filter_map(|w| w.split_once('='))
                .filter_map(|(name, id)| Some((name.to_string(), id.parse().ok()?)))
                .collect();
            if let Some(r) = log.runs.iter_mut().find(|r| r.run == run) {
                r.domains = domains;
            }
        } else if let Some(rest) = marker.strip_prefix("E2E-SHARE") {
            let what = "E2E-SHARE";
            let run: u32 = number(rest, "run", line_no, what)?;
            let domid: u32 = number(rest, "domid", line_no, what)?;
            let cpu: u64 = number(rest, "cpu_ns", line_no, what)?;
            let wall: u64 = number(rest, "wall_ns", line_no, what)?;
            if let Some(r) = log.runs.iter_mut().find(|r| r.run == run) {
                r.shares.insert(domid, (cpu, wall));
            }
        } else if let Some(rest) = marker.strip_prefix("E2E-RUN-END") {
            let run: u32 = number(rest, "run", line_no, "E2E-RUN-END")?;
            if let Some(r) = log.runs.iter_mut().find(|r| r.run == run) {
                r.ended = true;
            }
        } else if let Some(rest) = marker.strip_prefix("E2E-R") {
            // "E2E-R<run> E2E-GUEST ...": the guest's lines, copied by dom0.
            if let Some((run, text)) = rest.split_once(' ') {
                if let Ok(run) = run.parse::<u32>() {
                    if let Some(r) = log.runs.iter_mut().find(|r| r.run == run) {
                        r.guest_lines.push(text.to_string());
                    }
                }
            }
        } else if let Some(rest) = marker.strip_prefix("E2E-FATAL") {
            log.fatal.push(rest.trim_start_matches(':').trim().to_string());
        } else if let Some(rest) = marker.strip_prefix("E2E: ") {
            log.notes.push(rest.to_string());
        }
    }
    if let Some(file) = open {
        return Err(SerialError::Unterminated { line: file.start_line, name: file.name });
    }
    Ok(log)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_whole_words() {
        assert_eq!(field("run=3 domid=7 cpu_ns=12", "domid"), Some("7"));
        assert_eq!(field("xrun=3 run=4", "run"), Some("4"));
        assert_eq!(field("run=3", "domid"), None);
    }
}
