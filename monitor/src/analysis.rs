//! Reading a whole input into a [`Model`]: reader, merger and model together.
//!
//! Bad input does not stop the analysis: each problem the reader reports is kept as a
//! [`Problem`] (byte offset and message) and the model gets every record that could be
//! read. Only an I/O error, or a trace naming more VCPUs than the model tracks
//! ([`crate::model::MAX_TRACKED_VCPUS`]), ends the reading early, and then too the
//! analysis returns what it had; [`Analysis::usable`] says whether that is worth a
//! report.

use std::io::Read;

use crate::merge::{Merger, DEFAULT_HOLD, DEFAULT_LIMIT};
use crate::model::{Model, TooManyVcpus};
use crate::reader::{ReadStats, TraceError, TraceReader};

/// Most problems kept with their message; the rest are only counted.
pub const MAX_PROBLEMS_KEPT: usize = 1000;

/// A place in the input that could not be read as records.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    /// Byte offset in the input.
    pub offset: u64,
    /// What was wrong and what was skipped.
    pub message: String,
}

/// The problems of one input.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Problems {
    /// The first [`MAX_PROBLEMS_KEPT`] problems.
    pub kept: Vec<Problem>,
    /// All problems, kept or not.
    pub total: u64,
    /// Whether reading stopped at an I/O error.
    pub stopped_early: bool,
}

impl Problems {
    /// Records one reader error.
    pub fn add(&mut self, error: &TraceError) {
        self.total += 1;
        self.stopped_early |= error.is_fatal();
        if self.kept.len() < MAX_PROBLEMS_KEPT {
            self.kept.push(Problem { offset: error.offset(), message: error.to_string() });
        }
    }
}

/// The result of reading one input.
#[derive(Debug)]
pub struct Analysis {
    /// What happened, finished at the last timestamp.
    pub model: Model,
    /// Byte and record counts.
    pub stats: ReadStats,
    /// What could not be read.
    pub problems: Problems,
}

/// Why an analysis has nothing trustworthy to report.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Unusable {
    /// Reading stopped at the VCPU limit.
    #[error(transparent)]
    TooManyVcpus(#[from] TooManyVcpus),
    /// Not one record in `bytes` bytes of input.
    #[error(
        "no trace record in {bytes} bytes: all of the input was unreadable (is it xentrace's binary output, \
         e.g. `xentrace -D -e 0x0002f000 FILE`?)"
    )]
    NoRecords {
        /// Bytes read.
        bytes: u64,
    },
}

impl Analysis {
    /// An error when the input was cut short at the VCPU limit, or when it was not
    /// empty but not one record could be read from it.
    pub fn usable(&self) -> Result<(), Unusable> {
        if let Some(hit) = self.model.limit_hit {
            return Err(hit.into());
        }
        if self.stats.records == 0 && self.stats.bytes > 0 {
            return Err(Unusable::NoRecords { bytes: self.stats.bytes });
        }
        Ok(())
    }
}

/// Reads all of `input` into a model. `keep_segments` keeps every running stretch
/// (for plots); `progress` is called now and then with the bytes read so far.
pub fn analyze<R: Read>(input: R, keep_segments: bool, mut progress: impl FnMut(u64)) -> Analysis {
    let mut reader = TraceReader::new(input);
    let mut merger = Merger::new(DEFAULT_HOLD, DEFAULT_LIMIT);
    let mut model = Model::new().keep_segments(keep_segments);
    let mut problems = Problems::default();
    let mut since_progress = 0u32;
    while let Some(item) = reader.next() {
        match item {
            Ok(record) => {
                merger.push(record);
                while let Some(ready) = merger.pop() {
                    model.apply(&ready);
                }
                if model.limit_hit.is_some() {
                    break;
                }
            }
            Err(error) => problems.add(&error),
        }
        since_progress += 1;
        if since_progress == 65_536 {
            since_progress = 0;
            progress(reader.position());
        }
    }
    progress(reader.position());
    merger.finish();
    while let Some(ready) = merger.pop() {
        model.apply(&ready);
    }
    model.finish();
    Analysis { model, stats: reader.stats(), problems }
}
