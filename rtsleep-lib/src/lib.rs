//! Sleep until a deadline, and on RT-Credit ask Xen to run this VCPU right then.
//!
//! An application opens a [`Sleeper`] once and calls [`Sleeper::sleep`],
//! [`Sleeper::sleep_until`] or a [`Periodic`] loop. Each sleep becomes one ioctl on
//! `/dev/rtsleep`, the guest module's device, which registers the deadline with the
//! hypervisor (`SCHEDOP_rtsleep`) and sleeps on an hrtimer; at the deadline the VCPU gets
//! the RT priority and is scheduled at once, even while other domains burn CPU.
//!
//! Without the device (not loaded, not a guest of RT-Credit) or when the device reports
//! that RT is unavailable (not on Xen, Xen without the `rtcredit` scheduler, domain not
//! allowed RT by dom0), the same calls sleep with `clock_nanosleep(CLOCK_MONOTONIC,
//! TIMER_ABSTIME)`, and [`Sleeper::info`] says which backend is in use and why. Nothing
//! is silent: an application that must have RT checks [`Info::backend`].
//!
//! All deadlines are absolute `CLOCK_MONOTONIC` times ([`MonoTime`], nanoseconds), so a
//! sleep interrupted by a signal resumes toward the same deadline and a periodic loop does
//! not drift. A [`Sleeper`] is `Send + Sync`: threads may share one.
//!
//! The pieces:
//! * [`abi`]: the ioctl ABI of `/dev/rtsleep` (`rtcredit-abi`'s `ioctl`, which the guest
//!   module compiles from the same file);
//! * [`device`]: the device itself, one ioctl per call, for the preload shim and tools;
//! * [`capi`]: the C API (`include/rtsleep.h`, `librtsleep.so`/`librtsleep.a`);
//! * [`duration`]: the human duration syntax (`10ms`, `1.5s`) of the command and the shim;
//! * [`refusal`]: how long a refusal of RT holds before the device is tried again.

pub use rtcredit_abi::ioctl as abi;
pub mod capi;
pub mod device;
pub mod duration;
mod periodic;
pub mod refusal;
mod sleeper;
mod time;

#[cfg(test)]
mod abi_layout_tests;

pub use device::Device;
pub use periodic::{Periodic, Tick};
pub use sleeper::{Backend, FallbackReason, Info, Sleeper};
pub use time::MonoTime;

use std::io;
use std::path::PathBuf;
use std::time::Duration;

/// Environment variable that overrides the device path (default [`abi::RTSLEEP_DEVICE_PATH`]).
pub const DEVICE_ENV: &str = "RTSLEEP_DEVICE";

/// Everything that can go wrong. Each message names the cause and what to do.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The device node could not be opened.
    #[error("cannot open {path}: {source}; load the guest module (modprobe rtsleep) or use Sleeper::open(), which falls back to clock_nanosleep")]
    DeviceOpen { path: PathBuf, source: io::Error },
    /// The file opened does not answer `RTSLEEP_IOC_INFO`.
    #[error("{path} is not an rtsleep device (RTSLEEP_IOC_INFO: {source}); point {env} at /dev/rtsleep or unset it", env = DEVICE_ENV)]
    NotRtsleepDevice { path: PathBuf, source: io::Error },
    /// The module speaks another ABI version.
    #[error("{path} speaks rtsleep ABI version {found}, this library speaks {expected}; install a guest module and librtsleep of the same release")]
    AbiVersion { path: PathBuf, found: u32, expected: u32 },
    /// An ioctl failed with an error other than `EINTR`.
    #[error("ioctl {request} on {path} failed: {source}; this is a bug in the guest module or the library, please report it")]
    Ioctl { request: &'static str, path: PathBuf, source: io::Error },
    /// [`Sleeper::open_required`]: the device is there but RT cannot work in this guest.
    #[error(
        "RT wake-ups are unavailable: {reason}; fix that, or use Sleeper::open(), which falls back to clock_nanosleep"
    )]
    RtUnavailable { reason: String },
    /// `clock_nanosleep` or `clock_gettime` failed.
    #[error("{call} failed: {source}")]
    Clock { call: &'static str, source: io::Error },
    /// now + duration does not fit in 64-bit nanoseconds.
    #[error("a sleep of {0:?} would put the deadline beyond 2^64 ns of CLOCK_MONOTONIC (about 584 years); sleep in shorter steps")]
    DeadlineOverflow(Duration),
    /// A periodic loop needs a period of at least 1 ns.
    #[error("the period of a periodic loop must be at least 1 ns")]
    ZeroPeriod,
}
