//! `rtcredit-monitor`: reads what `xentrace` recorded on an RT-Credit host and says,
//! per domain and VCPU, how much CPU it got at each priority (RT, BOOST, UNDER,
//! OVER), how often it was scheduled, how long it waited from wake-up to running, and
//! what happened to its RT requests: the monitoring of the paper's section 3.2, made
//! aware of the RT priority.
//!
//! It runs in dom0 (or anywhere, on a copied trace file) and needs nothing from Xen
//! but the trace bytes. The pipeline, one module each:
//!
//! 1. [`format`](mod@format): the facts of the binary format (Xen 4.17's `public/trace.h` and
//!    `xentrace`): 32-bit header word (event id in 28 bits, number of data words in
//!    3, TSC flag in 1), optional 64-bit TSC, up to seven 32-bit data words, per-CPU
//!    windows announced by CPU-change records.
//! 2. [`reader`]: [`TraceReader`] turns any byte stream (file or pipe) into
//!    [`Record`]s of one CPU at a time, reporting bad input with its byte offset and
//!    skipping to the next place it can trust.
//! 3. [`merge`]: [`Merger`] puts all CPUs' records on one time line by TSC.
//! 4. [`model`]: [`Model`] rebuilds each VCPU's runstate intervals (from Xen's generic
//!    runstate-change events) and priorities (from our scheduler's `SWITCH_IN` and
//!    `PRIO_CHANGE`), wake-to-run latencies and RT counters.
//! 5. [`clock`]: TSC cycles to nanoseconds (`--cpu-hz`, or estimated from RT fires;
//!    otherwise times stay in cycles and the report says so).
//! 6. [`report`] (table, JSON, CSV) and [`plot`] (SVG timeline and latency CDF).
//!
//! [`analysis::analyze`] runs steps 2 to 4 over a whole input.
//!
//! Units: timestamps are TSC cycles until [`clock::Clock`] converts them; our own
//! events' data carry nanoseconds of Xen system time (deadlines, lateness). Domain and
//! VCPU ids are Xen's; domain 32767 is the idle domain, whose VCPU n is CPU n idling.

#![deny(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations)]

pub mod analysis;
pub mod clock;
pub mod format;
pub mod merge;
pub mod model;
pub mod names;
pub mod plot;
pub mod reader;
pub mod report;

pub use analysis::{analyze, Analysis};
pub use clock::Clock;
pub use merge::Merger;
pub use model::Model;
pub use reader::{Record, TraceError, TraceReader};
pub use report::Report;
