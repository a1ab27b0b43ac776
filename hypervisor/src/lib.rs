//! `rtcredit`: the whole scheduling policy of RT-Credit (Xen's credit scheduler plus a
//! guest-declared real-time wake-up), as a library.
//!
//! It is fully deterministic and does no I/O: it never reads a clock, arms a timer,
//! sends an interrupt or allocates memory. The caller passes the time in (`now`, in
//! nanoseconds of Xen system time) and gets back what must happen: which unit runs
//! next and for how long, which timers to arm and when, which CPUs to tickle. Two
//! drivers run the same code: Xen's C shim (`hypervisor/xen/`, through the C ABI in
//! [`ffi`] and `include/rtcredit.h`) and the simulator (`sim/`, through [`host`], timed by [`framework`]).
//!
//! # The algorithm
//!
//! **Units and domains.** A unit is a VCPU; units belong to domains. A domain has a
//! weight (default 256) that sets its share against other domains, and optionally a
//! cap (percent of one CPU). Each CPU has its own run queue.
//!
//! **Priorities.** Runnable units wait in one FIFO per class, most urgent first: RT
//! (ours), BOOST, UNDER (has credit), OVER (credit spent); a CPU with nothing runs idle.
//! A unit that wakes while UNDER gets BOOST and preempts less urgent work: this is why
//! Xen serves I/O (external events) well.
//!
//! **Credit.** Running costs 10 credits per ms. Every time slice (30 ms) each CPU's
//! 300 credits are shared among the domains that have been running, by weight, with
//! caps enforced by parking; a unit with credit is UNDER, without it OVER. A 10 ms tick
//! charges the running unit and drops BOOST back to UNDER, so a unit that keeps the CPU
//! cannot keep a boost. See [`acct`].
//!
//! **RT.** A guest that must run at a known time (a 10 ms periodic task) tells the
//! hypervisor the deadline with the `SCHEDOP_rtsleep` hypercall. At the deadline its
//! VCPU gets RT, goes ahead of every other class, and its CPU (or an idle CPU it may run
//! on) is tickled, overriding the rate limit. RT covers the deadline's work: it ends when
//! the VCPU calls `rtsleep` again, blocks, or has run the RT quantum (500 us) at RT
//! (back to UNDER, or OVER if its credit is spent), never at the tick; its run time is charged
//! like any other, so nobody starves. Only domains dom0 allowed may ask, within a
//! per-domain budget; a VCPU's consecutive deadlines must be at least the minimum
//! period (1 ms) apart, but may be as close to now as they like (a deadline already due
//! is served at once). Among RT units the earliest deadline runs first, so another
//! domain's RT delays a deadline by at most one quantum per other RT VCPU on the CPU.
//! The RT budgets granted in one scheduler instance (a cpupool) add up to at most its
//! RT capacity, half of its CPUs by default. See [`rt`] and [`rt::budget`].
//!
//! **SMP.** A CPU whose best local work is OVER, or that has none, steals more urgent
//! work from busy peers; a unit's hard affinity limits where it may run. See [`sched`].
//!
//! **Units of numbers.** Times are nanoseconds (`u64`), credits are Xen's credits (10 per
//! ms of CPU, `i32`), weights are relative, caps and RT budgets are percent of one CPU.
//!
//! # The handles and their locks
//!
//! * [`Cpu`]: one CPU's run queues and resident units, under that CPU's schedule lock.
//!   Wake, sleep, schedule, `rtsleep` and RT fire take `&mut Cpu` only.
//! * [`Accounting`]: credit shares and domain weights, under the private lock. Tick and
//!   accounting take `&mut Accounting` **and** `&mut Cpu`: the private lock, then the
//!   CPU lock, never the other way (Xen credit's order).
//! * [`Unit`] and [`Domain`]: allocated by the host, guarded by the locks above field
//!   by field (see [`state`]); their counters are atomics, readable any time.
//! * [`Shared`]: parameters, the idle-CPU set and queue summaries: atomics, no lock.
//!
//! # What the core promises
//!
//! No allocation anywhere; no floating point; every per-event operation is O(1) in the
//! number of units except stealing (which may skip units a CPU may not run), queueing at
//! RT (deadline order: O(1) when deadlines come due in order, at worst O(RT units queued
//! on that CPU)) and the accounting period (O(active units), once per 30 ms, as Xen's). The C ABI never
//! panics through: bad arguments are error codes. Built for Xen (feature `xen`), a
//! panic aborts through the host's `rtcredit_host_panic`.

#![no_std]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_debug_implementations)]

#[cfg(any(feature = "std", test))]
extern crate std;

pub mod abi;
pub mod acct;
pub mod cpumask;
pub mod ffi;
pub mod list;
pub mod params;
pub mod prio;
pub mod rt;
pub mod runq;
pub mod sched;
pub mod state;
pub mod trace;

#[cfg(feature = "std")]
pub mod framework;
#[cfg(feature = "std")]
pub mod host;

pub use abi::{RtcError, SchedRtsleep};
pub use acct::{DomainCounters, DomainParams};
pub use cpumask::{CpuMask, MAX_CPUS};
pub use params::{ChargeMode, Params};
pub use prio::Prio;
pub use rt::budget::RtCapacity;
pub use rt::{RtsleepOutcome, RtsleepRefused};
pub use sched::{pick_cpu, set_affinity, Decision, ScheduleBegin, TickCmd};
pub use state::{Accounting, Cpu, Domain, Shared, TraceHook, Unit};

#[cfg(feature = "xen")]
mod panic_handler {
    extern "C" {
        /// Provided by the host (the Xen shim calls Xen's `panic()`); never returns.
        fn rtcredit_host_panic(message: *const u8, len: usize) -> !;
    }

    #[panic_handler]
    fn panic(_info: &core::panic::PanicInfo<'_>) -> ! {
        // Formatting the message would pull `core::fmt` into Xen; the backtrace Xen
        // prints names the Rust function.
        const MESSAGE: &str = "rtcredit: Rust core panicked";
        // SAFETY: the host provides this function; the message is a static string.
        unsafe { rtcredit_host_panic(MESSAGE.as_ptr(), MESSAGE.len()) }
    }
}
