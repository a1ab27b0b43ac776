//! A streaming reader of xentrace output (a file or a pipe), record by record.
//!
//! [`TraceReader`] wraps any [`Read`] and yields `Result<Record, TraceError>`. It
//! keeps only a small buffer (256 KiB), so it reads `xentrace ... -` from a pipe as
//! well as a multi-gigabyte file. It follows the per-CPU windows (see
//! [`crate::format`]): each CPU-change record says which CPU the next bytes belong to
//! and how many there are, so the reader knows where every window ends and expects the
//! next CPU-change record exactly there.
//!
//! **Bad input never stops it** (only an I/O error does). A corrupted header inside a
//! window costs the rest of that window; a missing or implausible CPU-change record
//! makes it scan forward, byte by byte, for the next plausible one; a file cut short
//! ends the iteration with a message saying how many bytes are missing. Each of these
//! is yielded once as an `Err` carrying the byte offset, and iteration goes on.
//! [`ReadStats`] counts what was read and what was skipped.
//!
//! Records keep their CPU's order; [`crate::merge`] puts several CPUs on one time line.

use std::io::{self, Read};

use crate::format::{
    Header, CPU_CHANGE_BYTES, CPU_CHANGE_HEADER, MAX_CPUS, MAX_EXTRA_WORDS, MAX_RECORD_BYTES, MAX_WINDOW_BYTES,
    TRC_TRACE_WRAP_BUFFER,
};

/// Size of the read buffer.
const BUFFER_BYTES: usize = 256 * 1024;

/// One trace record of one CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record {
    /// Byte offset of the record's header in the stream.
    pub offset: u64,
    /// The physical CPU whose buffer the record came from.
    pub cpu: u32,
    /// Event id (28 bits).
    pub event: u32,
    /// When it happened, in TSC cycles: its own timestamp, or, for a record written
    /// without one, that of the previous record of the same CPU. `None` while the CPU
    /// has had no record with a timestamp yet.
    pub tsc: Option<u64>,
    /// Whether the record carried its own timestamp.
    pub tsc_included: bool,
    words: [u32; MAX_EXTRA_WORDS],
    word_count: u8,
}

impl Record {
    /// A record built by hand (tests, the model's users).
    pub fn new(offset: u64, cpu: u32, event: u32, tsc: Option<u64>, data: &[u32]) -> Record {
        let mut words = [0; MAX_EXTRA_WORDS];
        let word_count = data.len().min(MAX_EXTRA_WORDS);
        words[..word_count].copy_from_slice(&data[..word_count]);
        Record { offset, cpu, event, tsc, tsc_included: tsc.is_some(), words, word_count: word_count as u8 }
    }

    /// The data words (0 to 7).
    pub fn data(&self) -> &[u32] {
        &self.words[..usize::from(self.word_count)]
    }
}

/// What went wrong at one place of the input. Only [`TraceError::Io`] ends the
/// reading; after any other the reader has skipped to a place it trusts.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// The input could not be read.
    #[error("byte {offset}: cannot read the trace: {source}")]
    Io {
        /// Bytes consumed before the failure.
        offset: u64,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The input ends inside a record.
    #[error(
        "byte {offset}: the trace ends inside a record: its header announces {needed} bytes, only {available} are left \
         (the file was cut short)"
    )]
    TruncatedRecord {
        /// Offset of the record's header.
        offset: u64,
        /// The record's size by its header.
        needed: usize,
        /// Bytes left in the input.
        available: usize,
    },
    /// The input ends before the end of a CPU's window.
    #[error(
        "byte {offset}: the trace ends inside CPU {cpu}'s window, {missing} bytes before its announced end \
         (the file was cut short, e.g. xentrace was killed while writing)"
    )]
    TruncatedWindow {
        /// Where the input ends.
        offset: u64,
        /// The window's CPU.
        cpu: u32,
        /// Bytes of the window that are not there.
        missing: u64,
    },
    /// A record header inside a window is not one Xen writes; the rest of the window
    /// was skipped.
    #[error(
        "byte {offset}: corrupted record header 0x{header:08x} in CPU {cpu}'s window ({reason}); skipped {skipped} \
         bytes to the end of the window (or of the input)"
    )]
    CorruptHeader {
        /// Offset of the bad header.
        offset: u64,
        /// The header word as read.
        header: u32,
        /// The window's CPU.
        cpu: u32,
        /// What is wrong with it.
        reason: &'static str,
        /// Bytes skipped (to the end of the window, or of the input).
        skipped: u64,
    },
    /// A CPU-change record was expected (at the start, or where the previous window
    /// ended) but something else was there; the reader scanned for the next one.
    #[error(
        "byte {offset}: expected a CPU-change record (header 0x2001f003) but found 0x{found:08x}{detail}; skipped \
         {skipped} bytes, resuming at byte {resume}"
    )]
    MissingCpuChange {
        /// Where the CPU-change record should have been.
        offset: u64,
        /// The word found there.
        found: u32,
        /// What was wrong, if it looked like a CPU-change record.
        detail: String,
        /// Bytes skipped.
        skipped: u64,
        /// Offset of the next plausible CPU-change record (or the end of the input).
        resume: u64,
    },
    /// A CPU-change record sits inside the previous window: that window's size was
    /// wrong. The reader takes the record as the start of a new window.
    #[error(
        "byte {offset}: CPU-change record inside CPU {cpu}'s window, {left} bytes before the window's announced end; \
         starting a new window here"
    )]
    UnexpectedCpuChange {
        /// Offset of the CPU-change record.
        offset: u64,
        /// The window it interrupted.
        cpu: u32,
        /// Bytes the interrupted window still announced.
        left: u64,
    },
}

impl TraceError {
    /// Byte offset in the input where the problem is.
    pub fn offset(&self) -> u64 {
        match self {
            TraceError::Io { offset, .. }
            | TraceError::TruncatedRecord { offset, .. }
            | TraceError::TruncatedWindow { offset, .. }
            | TraceError::CorruptHeader { offset, .. }
            | TraceError::MissingCpuChange { offset, .. }
            | TraceError::UnexpectedCpuChange { offset, .. } => *offset,
        }
    }

    /// Whether reading stopped here.
    pub fn is_fatal(&self) -> bool {
        matches!(self, TraceError::Io { .. })
    }
}

/// Counts kept while reading.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ReadStats {
    /// Bytes consumed from the input.
    pub bytes: u64,
    /// Records yielded.
    pub records: u64,
    /// CPU-change records (windows) read.
    pub windows: u64,
    /// Wrap-buffer padding records skipped.
    pub wrap_records: u64,
    /// Bytes skipped because they could not be read as records.
    pub skipped_bytes: u64,
    /// Errors yielded.
    pub errors: u64,
}

#[derive(Clone, Copy, Debug)]
struct Window {
    cpu: u32,
    /// Stream offset just past the window's last byte.
    end: u64,
}

/// Reads xentrace output record by record; see the module docs.
#[derive(Debug)]
pub struct TraceReader<R> {
    input: R,
    buf: Vec<u8>,
    /// Unconsumed bytes are `buf[start..end]`.
    start: usize,
    end: usize,
    /// Stream offset of `buf[start]`.
    offset: u64,
    eof: bool,
    done: bool,
    window: Option<Window>,
    /// Last timestamp seen per CPU.
    last_tsc: Vec<Option<u64>>,
    stats: ReadStats,
}

impl<R: Read> TraceReader<R> {
    /// A reader over `input`, which starts at the beginning of xentrace's output.
    pub fn new(input: R) -> TraceReader<R> {
        TraceReader {
            input,
            buf: vec![0; BUFFER_BYTES],
            start: 0,
            end: 0,
            offset: 0,
            eof: false,
            done: false,
            window: None,
            last_tsc: Vec::new(),
            stats: ReadStats::default(),
        }
    }

    /// What has been read so far.
    pub fn stats(&self) -> ReadStats {
        self.stats
    }

    /// Bytes consumed so far (the offset of the next unread byte).
    pub fn position(&self) -> u64 {
        self.offset
    }

    fn available(&self) -> usize {
        self.end - self.start
    }

    /// Makes at least `wanted` bytes available unless the input ends first.
    fn fill(&mut self, wanted: usize) -> Result<(), TraceError> {
        if self.available() >= wanted || self.eof {
            return Ok(());
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        while self.end < wanted {
            match self.input.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => self.end += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(source) => {
                    self.done = true;
                    return Err(TraceError::Io { offset: self.offset, source });
                }
            }
        }
        Ok(())
    }

    fn consume(&mut self, bytes: usize) {
        self.start += bytes;
        self.offset += bytes as u64;
        self.stats.bytes += bytes as u64;
    }

    fn word(&self, index: usize) -> u32 {
        let at = self.start + 4 * index;
        u32::from_le_bytes([self.buf[at], self.buf[at + 1], self.buf[at + 2], self.buf[at + 3]])
    }

    /// Skips `bytes` bytes (or up to the end of the input); returns how many.
    fn skip(&mut self, bytes: u64) -> Result<u64, TraceError> {
        let mut skipped = 0;
        while skipped < bytes {
            self.fill(1)?;
            let step = (self.available() as u64).min(bytes - skipped);
            if step == 0 {
                break;
            }
            self.consume(step as usize);
            skipped += step;
        }
        self.stats.skipped_bytes += skipped;
        Ok(skipped)
    }

    /// Whether the 12 bytes at `at` (relative to `start`) are a plausible CPU-change
    /// record; `Err` says why not when the header matches.
    fn cpu_change_at(&self, at: usize) -> Result<(u32, u32), Option<String>> {
        let word = |i: usize| {
            let p = self.start + at + 4 * i;
            u32::from_le_bytes([self.buf[p], self.buf[p + 1], self.buf[p + 2], self.buf[p + 3]])
        };
        if word(0) != CPU_CHANGE_HEADER {
            return Err(None);
        }
        let (cpu, size) = (word(1), word(2));
        if cpu >= MAX_CPUS {
            return Err(Some(format!(" (a CPU-change record for CPU {cpu}, above the limit {MAX_CPUS})")));
        }
        if size % 4 != 0 || size > MAX_WINDOW_BYTES {
            return Err(Some(format!(" (a CPU-change record with an implausible window size {size})")));
        }
        Ok((cpu, size))
    }

    /// Scans forward for the next plausible CPU-change record and stops at it (or at
    /// the end of the input). Returns the number of bytes skipped.
    fn resync(&mut self) -> Result<u64, TraceError> {
        let mut skipped = 0u64;
        loop {
            self.fill(CPU_CHANGE_BYTES)?;
            let available = self.available();
            if available < CPU_CHANGE_BYTES {
                self.consume(available);
                skipped += available as u64;
                break;
            }
            let last = available - CPU_CHANGE_BYTES;
            match (0..=last).find(|&at| self.cpu_change_at(at).is_ok()) {
                Some(at) => {
                    self.consume(at);
                    skipped += at as u64;
                    break;
                }
                None => {
                    self.consume(last + 1);
                    skipped += last as u64 + 1;
                }
            }
        }
        self.stats.skipped_bytes += skipped;
        Ok(skipped)
    }

    /// Reads the CPU-change record that must be at the current position.
    fn next_window(&mut self) -> Option<Result<(), TraceError>> {
        if let Err(e) = self.fill(CPU_CHANGE_BYTES) {
            return Some(Err(e));
        }
        let available = self.available();
        if available == 0 {
            self.done = true;
            return None;
        }
        if available < CPU_CHANGE_BYTES {
            self.done = true;
            let offset = self.offset;
            self.consume(available);
            self.stats.skipped_bytes += available as u64;
            return Some(Err(TraceError::TruncatedRecord { offset, needed: CPU_CHANGE_BYTES, available }));
        }
        match self.cpu_change_at(0) {
            Ok((cpu, size)) => {
                self.consume(CPU_CHANGE_BYTES);
                self.stats.windows += 1;
                self.window = Some(Window { cpu, end: self.offset + u64::from(size) });
                Some(Ok(()))
            }
            Err(detail) => {
                let offset = self.offset;
                let found = self.word(0);
                // Step over the bad word so that the scan does not find it again.
                self.consume(1);
                self.stats.skipped_bytes += 1;
                let skipped = match self.resync() {
                    Ok(n) => n + 1,
                    Err(e) => return Some(Err(e)),
                };
                Some(Err(TraceError::MissingCpuChange {
                    offset,
                    found,
                    detail: detail.unwrap_or_default(),
                    skipped,
                    resume: self.offset,
                }))
            }
        }
    }

    fn tsc_slot(&mut self, cpu: u32) -> &mut Option<u64> {
        let index = cpu as usize;
        if self.last_tsc.len() <= index {
            self.last_tsc.resize(index + 1, None);
        }
        &mut self.last_tsc[index]
    }

    fn next_record(&mut self) -> Option<Result<Record, TraceError>> {
        loop {
            if self.done {
                return None;
            }
            let window = match self.window {
                Some(w) if w.end > self.offset => w,
                _ => {
                    self.window = None;
                    match self.next_window()? {
                        Ok(()) => continue,
                        Err(e) => return Some(Err(e)),
                    }
                }
            };
            let left_in_window = window.end - self.offset;
            if let Err(e) = self.fill(MAX_RECORD_BYTES.min(left_in_window as usize)) {
                return Some(Err(e));
            }
            let available = self.available();
            if available < 4 {
                self.done = true;
                self.consume(available);
                self.stats.skipped_bytes += available as u64;
                return Some(Err(TraceError::TruncatedWindow {
                    offset: self.offset - available as u64,
                    cpu: window.cpu,
                    missing: left_in_window - available as u64,
                }));
            }
            let offset = self.offset;
            let raw = self.word(0);
            let header = Header::decode(raw);
            let size = header.record_bytes();
            let problem = if raw == CPU_CHANGE_HEADER {
                self.window = None;
                return Some(Err(TraceError::UnexpectedCpuChange { offset, cpu: window.cpu, left: left_in_window }));
            } else if let Some(reason) = header.implausible() {
                Some(reason)
            } else if size as u64 > left_in_window {
                Some("the record would run past the end of its window")
            } else {
                None
            };
            if let Some(reason) = problem {
                let skipped = match self.skip(left_in_window) {
                    Ok(n) => n,
                    Err(e) => return Some(Err(e)),
                };
                self.window = None;
                return Some(Err(TraceError::CorruptHeader { offset, header: raw, cpu: window.cpu, reason, skipped }));
            }
            if available < size {
                self.done = true;
                self.consume(available);
                self.stats.skipped_bytes += available as u64;
                return Some(Err(TraceError::TruncatedRecord { offset, needed: size, available }));
            }
            let (own_tsc, first_data) = if header.has_tsc {
                (Some(u64::from(self.word(1)) | (u64::from(self.word(2)) << 32)), 3)
            } else {
                (None, 1)
            };
            let mut words = [0; MAX_EXTRA_WORDS];
            for (i, slot) in words.iter_mut().enumerate().take(header.extra_words) {
                *slot = self.word(first_data + i);
            }
            self.consume(size);
            let slot = self.tsc_slot(window.cpu);
            if own_tsc.is_some() {
                *slot = own_tsc;
            }
            let tsc = *slot;
            if header.event == TRC_TRACE_WRAP_BUFFER {
                self.stats.wrap_records += 1;
                continue;
            }
            self.stats.records += 1;
            return Some(Ok(Record {
                offset,
                cpu: window.cpu,
                event: header.event,
                tsc,
                tsc_included: header.has_tsc,
                words,
                word_count: header.extra_words as u8,
            }));
        }
    }
}

impl<R: Read> Iterator for TraceReader<R> {
    type Item = Result<Record, TraceError>;

    fn next(&mut self) -> Option<Self::Item> {
        let item = self.next_record();
        if matches!(item, Some(Err(_))) {
            self.stats.errors += 1;
        }
        item
    }
}
