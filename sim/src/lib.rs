//! `rtcredit-sim`: a deterministic discrete-event simulator of a Xen host that runs the
//! real RT-Credit scheduling core (`rtcredit`, through [`rtcredit::host::Host`]) in
//! virtual time, and reproduces the experiments of Kim and Ko (2012), "Timer-based
//! Credit Scheduler for Supporting Low Latency Task".
//!
//! The core decides; this crate plays everything around it that Xen would: the timers
//! (tick, slice, accounting, RT, guest), the schedule softirq and its IPI, context
//! switches, and the guests' software (CPU hogs, periodic tasks, packet receivers, an RT
//! adversary). Time is integer nanoseconds; events are ordered by (time, sequence
//! number); randomness comes from a seeded SplitMix64. The same configuration and seed
//! always give the same result, byte for byte.
//!
//! * [`engine`]: the host model and event loop ([`engine::Simulator`]).
//! * [`workload`]: the guest workloads.
//! * [`policy`]: the compared policies (`credit`, `credit-2012`, `credit-1ms`,
//!   `credit2`, `rtds`, `rtcredit`).
//! * [`sched`]: the scheduler interface the engine calls: the real core, or the models
//!   of Xen's credit2 ([`credit2`]) and RTDS ([`rtds`]).
//! * [`paper`]: the paper's experiments; [`output`] writes their CSV, SVG and summaries.
//! * [`scenario`]: user scenarios from TOML files.
//! * [`periods`]: the RT v2 experiment at 1-20 ms periods (also part of `paper`).
//! * [`report`], [`stats`]: the published numbers.

pub mod credit2;
pub mod engine;
pub mod output;
pub mod paper;
pub mod periods;
pub mod plot;
pub mod policy;
pub mod report;
pub mod rng;
pub mod rtds;
pub mod scenario;
pub mod sched;
pub mod stats;
pub mod workload;
