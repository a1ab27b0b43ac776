//! [`Sleeper`]: the device when RT can work, `clock_nanosleep` otherwise, and [`Info`]
//! that says which and why.
//!
//! At [`Sleeper::open`]: no device or an unusable one, or a device that says the guest
//! does not run on Xen, selects the fallback for good. A device in state "unknown" (no
//! request yet) or "accepted" is used. A device that says RT is refused (no `rtcredit`
//! scheduler, not permitted) selects the fallback for a while only: the refusal holds
//! for [`crate::refusal::REPROBE_INTERVAL`] (1 s), then one sleep goes through the device
//! again and what the device says after it decides (see [`crate::refusal`]), so a grant
//! made while the program runs is picked up. [`Sleeper::info`] re-reads the device's
//! counters.

use crate::abi::{self, DeviceInfo};
use crate::device::{self, Device};
use crate::refusal::{Decision, Refusal};
use crate::{Error, MonoTime, Periodic};
use std::io;
use std::path::PathBuf;
use std::time::Duration;

/// Sleeps until deadlines; see the module doc. `Send + Sync`.
#[derive(Debug)]
pub struct Sleeper {
    device: Option<Device>,
    /// A reason that cannot change (no device, not on Xen, asked for the fallback).
    reason: Option<FallbackReason>,
    /// A refusal the device reported, which holds for a while only.
    refusal: Refusal,
}

/// Which mechanism a [`Sleeper`] sleeps with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// `/dev/rtsleep`: the deadline is registered with the hypervisor.
    Device,
    /// `clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME)`; see [`Info::fallback_reason`].
    Fallback,
}

/// Why a [`Sleeper`] falls back to `clock_nanosleep`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FallbackReason {
    /// The device node does not exist (guest module not loaded).
    NoDevice { path: PathBuf },
    /// The device exists but could not be used; `detail` is the full error.
    DeviceUnusable { path: PathBuf, errno: i32, detail: String },
    /// The guest does not run on Xen.
    NotXen,
    /// Xen without the `rtcredit` scheduler (the hypercall is not supported).
    NoRtScheduler,
    /// Dom0 has not allowed this domain RT.
    NotPermitted,
    /// The caller asked for the fallback ([`Sleeper::fallback`]).
    Requested,
}

impl std::fmt::Display for FallbackReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FallbackReason::NoDevice { path } => {
                write!(f, "{} does not exist: the rtsleep guest module is not loaded", path.display())
            }
            FallbackReason::DeviceUnusable { detail, .. } => f.write_str(detail),
            FallbackReason::NotXen => f.write_str("the guest does not run on Xen"),
            FallbackReason::NoRtScheduler => {
                f.write_str("Xen does not run the rtcredit scheduler (boot Xen with sched=rtcredit)")
            }
            FallbackReason::NotPermitted => f.write_str("dom0 has not allowed this domain RT (see xen-config)"),
            FallbackReason::Requested => f.write_str("the fallback was requested by the caller"),
        }
    }
}

/// What a [`Sleeper`] uses and what the device says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Info {
    pub backend: Backend,
    /// Set exactly when `backend` is [`Backend::Fallback`].
    pub fallback_reason: Option<FallbackReason>,
    /// The device's state and counters, when a device is open (even if RT is unavailable,
    /// the device is read for this report but not used for sleeping).
    pub device: Option<DeviceInfo>,
    /// The device path that was tried.
    pub device_path: PathBuf,
}

impl Sleeper {
    /// Opens `$RTSLEEP_DEVICE` or `/dev/rtsleep`, or selects the fallback (never fails for
    /// a missing or unusable device: see [`Sleeper::info`]).
    pub fn open() -> Sleeper {
        Sleeper::open_path(device::default_path())
    }

    /// [`Sleeper::open`] with an explicit device path.
    pub fn open_path(path: PathBuf) -> Sleeper {
        match Device::open(&path) {
            Ok(device) => {
                let refusal = Refusal::new();
                let reason = match device.info() {
                    Ok(info) if crate::refusal::is_refusal(info.rt_state) => {
                        refusal.note(info.rt_state, now_ns());
                        None
                    }
                    Ok(info) => reason_from_rt_state(info.rt_state),
                    Err(err) => Some(unusable(&path, &err)),
                };
                Sleeper { device: Some(device), reason, refusal }
            }
            Err(Error::DeviceOpen { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
                Sleeper { device: None, reason: Some(FallbackReason::NoDevice { path }), refusal: Refusal::new() }
            }
            Err(err) => Sleeper { device: None, reason: Some(unusable(&path, &err)), refusal: Refusal::new() },
        }
    }

    /// Opens the device and fails unless it can be used for RT sleeps: for programs that
    /// would rather stop than run without RT.
    pub fn open_required() -> Result<Sleeper, Error> {
        let path = device::default_path();
        let device = Device::open(&path)?;
        let info = device.info()?;
        match reason_from_rt_state(info.rt_state) {
            None => Ok(Sleeper { device: Some(device), reason: None, refusal: Refusal::new() }),
            Some(reason) => Err(Error::RtUnavailable { reason: reason.to_string() }),
        }
    }

    /// A sleeper that never touches the device (`clock_nanosleep` only), e.g. for A/B runs.
    pub fn fallback() -> Sleeper {
        Sleeper { device: None, reason: Some(FallbackReason::Requested), refusal: Refusal::new() }
    }

    /// The backend this sleeper uses now (a refusal makes it the fallback until a probe
    /// finds RT accepted).
    pub fn backend(&self) -> Backend {
        if self.fallback_reason().is_none() {
            Backend::Device
        } else {
            Backend::Fallback
        }
    }

    fn fallback_reason(&self) -> Option<FallbackReason> {
        self.reason.clone().or_else(|| self.refusal.current().and_then(reason_from_rt_state))
    }

    /// Which backend, why, and the device's counters (re-read now).
    pub fn info(&self) -> Info {
        let device_path = self.device.as_ref().map(|d| d.path().to_path_buf()).unwrap_or_else(|| match &self.reason {
            Some(FallbackReason::NoDevice { path }) | Some(FallbackReason::DeviceUnusable { path, .. }) => path.clone(),
            _ => device::default_path(),
        });
        Info {
            backend: self.backend(),
            fallback_reason: self.fallback_reason(),
            device: self.device.as_ref().and_then(|d| d.info().ok()),
            device_path,
        }
    }

    /// Sleeps for `duration` (measured from now), resuming after signals. A zero
    /// duration returns at once.
    pub fn sleep(&self, duration: Duration) -> Result<(), Error> {
        if duration.is_zero() {
            return Ok(());
        }
        let deadline = MonoTime::now()?.checked_add(duration).ok_or(Error::DeadlineOverflow(duration))?;
        self.sleep_until(deadline)
    }

    /// Sleeps until `deadline` on `CLOCK_MONOTONIC`, resuming after signals. Returns at
    /// once, without a system call, if the deadline has passed: the kernel would arm a
    /// timer anyway and the thread would pay the timer slack (50 us by default) for a
    /// wake-up that is already late.
    pub fn sleep_until(&self, deadline: MonoTime) -> Result<(), Error> {
        if MonoTime::now()? >= deadline {
            return Ok(());
        }
        let (Some(device), None) = (&self.device, &self.reason) else {
            return clock_sleep_until(deadline);
        };
        match self.refusal.decide(now_ns()) {
            Decision::Device => device.sleep_until(deadline),
            Decision::Fallback => clock_sleep_until(deadline),
            Decision::Probe => {
                let slept = device.sleep_until(deadline);
                match device.info() {
                    Ok(info) => self.refusal.note(info.rt_state, now_ns()),
                    // The device failed: keep the refusal; the next probe asks again.
                    Err(_) => self.refusal.note(self.refusal.current().unwrap_or(abi::RTSLEEP_RT_EPERM), now_ns()),
                }
                slept
            }
        }
    }

    /// A periodic loop whose first deadline is one `period` from now.
    pub fn periodic(&self, period: Duration) -> Result<Periodic<'_>, Error> {
        Periodic::new(self, period)
    }
}

/// `CLOCK_MONOTONIC` now in ns for the refusal's interval (0 if the clock fails: the
/// refusal then holds until the clock works, which it always does on Linux).
fn now_ns() -> u64 {
    MonoTime::now().map(MonoTime::as_nanos).unwrap_or(0)
}

fn reason_from_rt_state(rt_state: u32) -> Option<FallbackReason> {
    match rt_state {
        abi::RTSLEEP_RT_NOT_XEN => Some(FallbackReason::NotXen),
        abi::RTSLEEP_RT_EOPNOTSUPP => Some(FallbackReason::NoRtScheduler),
        abi::RTSLEEP_RT_EPERM => Some(FallbackReason::NotPermitted),
        // Unknown (nothing asked yet), accepted, or a state from a newer module: use it;
        // the module itself falls back to an hrtimer sleep when RT does not work.
        _ => None,
    }
}

fn unusable(path: &std::path::Path, err: &Error) -> FallbackReason {
    let errno = match err {
        Error::DeviceOpen { source, .. } | Error::NotRtsleepDevice { source, .. } | Error::Ioctl { source, .. } => {
            source.raw_os_error().unwrap_or(0)
        }
        _ => 0,
    };
    FallbackReason::DeviceUnusable { path: path.to_path_buf(), errno, detail: err.to_string() }
}

/// `clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, deadline)`, resumed after signals.
pub(crate) fn clock_sleep_until(deadline: MonoTime) -> Result<(), Error> {
    use nix::time::{clock_nanosleep, ClockId, ClockNanosleepFlags};
    let ts = nix::sys::time::TimeSpec::from(deadline.to_timespec());
    loop {
        match clock_nanosleep(ClockId::CLOCK_MONOTONIC, ClockNanosleepFlags::TIMER_ABSTIME, &ts) {
            Ok(_) => return Ok(()),
            Err(nix::errno::Errno::EINTR) => continue,
            Err(errno) => {
                return Err(Error::Clock {
                    call: "clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME)",
                    source: io::Error::from(errno),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sleeper_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Sleeper>();
    }

    #[test]
    fn rt_states_that_cannot_work_select_the_fallback() {
        assert_eq!(reason_from_rt_state(abi::RTSLEEP_RT_NOT_XEN), Some(FallbackReason::NotXen));
        assert_eq!(reason_from_rt_state(abi::RTSLEEP_RT_EOPNOTSUPP), Some(FallbackReason::NoRtScheduler));
        assert_eq!(reason_from_rt_state(abi::RTSLEEP_RT_EPERM), Some(FallbackReason::NotPermitted));
        assert_eq!(reason_from_rt_state(abi::RTSLEEP_RT_UNKNOWN), None);
        assert_eq!(reason_from_rt_state(abi::RTSLEEP_RT_ACCEPTED), None);
    }
}
