//! The C API: `include/rtsleep.h`, `librtsleep.so` and `librtsleep.a`.
//!
//! ```c
//! #include <rtsleep.h>
//!
//! struct rtsleep_handle *rt;
//! int err = rtsleep_open(&rt);                 /* never fails for a missing device */
//! uint64_t next = rtsleep_now_ns();
//! for (;;) {
//!     next += 10000000;                         /* 10 ms period, absolute: no drift */
//!     err = rtsleep_sleep_until_ns(rt, next);
//!     if (err) { fprintf(stderr, "rtsleep: %s\n", strerror(err)); break; }
//!     /* work */
//! }
//! rtsleep_close(rt);
//! ```
//!
//! Every function that can fail returns 0 or a positive `errno` value (as
//! `clock_nanosleep` and pthreads do) and never sets `errno`: `EINVAL` for a null
//! pointer, `ERANGE` when now + a duration overflows 64-bit nanoseconds, or the error of
//! the failed ioctl or clock call. Sleeps resume after signals until their deadline, as
//! the Rust API does. A handle may be shared by threads; `rtsleep_close` must be called
//! once, after every other call on the handle has returned.

use crate::abi::DeviceInfo;
use crate::{Backend, Error, FallbackReason, MonoTime, Sleeper};
use std::ffi::{c_char, c_int};
use std::time::Duration;

/// An open library handle (opaque to C).
pub struct RtsleepHandle {
    sleeper: Sleeper,
}

/// `rtsleep_info.backend`: sleeps go through `/dev/rtsleep`.
pub const RTSLEEP_BACKEND_DEVICE: u32 = 1;
/// `rtsleep_info.backend`: sleeps use `clock_nanosleep`; see `fallback_reason`.
pub const RTSLEEP_BACKEND_FALLBACK: u32 = 2;

/// `rtsleep_info.fallback_reason`: not falling back.
pub const RTSLEEP_REASON_NONE: u32 = 0;
/// The device node does not exist (guest module not loaded).
pub const RTSLEEP_REASON_NO_DEVICE: u32 = 1;
/// The device could not be opened or is not an rtsleep device; see `fallback_errno`.
pub const RTSLEEP_REASON_DEVICE_UNUSABLE: u32 = 2;
/// The guest does not run on Xen.
pub const RTSLEEP_REASON_NOT_XEN: u32 = 3;
/// Xen does not run the `rtcredit` scheduler.
pub const RTSLEEP_REASON_NO_RT_SCHEDULER: u32 = 4;
/// Dom0 has not allowed this domain RT.
pub const RTSLEEP_REASON_NOT_PERMITTED: u32 = 5;
/// The program asked for the fallback.
pub const RTSLEEP_REASON_REQUESTED: u32 = 6;

/// What `rtsleep_info` reports (`struct rtsleep_info`, 80 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RtsleepInfo {
    /// `RTSLEEP_BACKEND_*`.
    pub backend: u32,
    /// `RTSLEEP_REASON_*`; `RTSLEEP_REASON_NONE` when the backend is the device.
    pub fallback_reason: u32,
    /// With `RTSLEEP_REASON_DEVICE_UNUSABLE`: the errno of the failed open or ioctl.
    pub fallback_errno: i32,
    /// 1 when a device is open and `device` is filled, else 0.
    pub device_present: u32,
    /// The device's own report (all zero without a device).
    pub device: DeviceInfo,
}

fn errno_of(err: &Error) -> c_int {
    match err {
        Error::DeviceOpen { source, .. }
        | Error::NotRtsleepDevice { source, .. }
        | Error::Ioctl { source, .. }
        | Error::Clock { source, .. } => source.raw_os_error().unwrap_or(libc::EIO),
        Error::AbiVersion { .. } => libc::EPROTO,
        Error::RtUnavailable { .. } => libc::EOPNOTSUPP,
        Error::DeadlineOverflow(_) => libc::ERANGE,
        Error::ZeroPeriod => libc::EINVAL,
    }
}

fn result_code(result: Result<(), Error>) -> c_int {
    match result {
        Ok(()) => 0,
        Err(err) => errno_of(&err),
    }
}

/// Opens the library: the device if RT can work, else the `clock_nanosleep` fallback
/// (see `rtsleep_info`). Stores a handle in `*out`. Returns 0, or `EINVAL` if `out` is null.
///
/// # Safety
/// `out` must be null or valid for writing one pointer.
#[no_mangle]
pub unsafe extern "C" fn rtsleep_open(out: *mut *mut RtsleepHandle) -> c_int {
    if out.is_null() {
        return libc::EINVAL;
    }
    let handle = Box::new(RtsleepHandle { sleeper: Sleeper::open() });
    // SAFETY: `out` is non-null and, by this function's contract, valid for writing.
    unsafe { out.write(Box::into_raw(handle)) };
    0
}

/// Sleeps `duration_ns` nanoseconds from now. Returns 0 or an errno (see the header).
///
/// # Safety
/// `handle` must be null or a live handle from `rtsleep_open`.
#[no_mangle]
pub unsafe extern "C" fn rtsleep_sleep_ns(handle: *const RtsleepHandle, duration_ns: u64) -> c_int {
    // SAFETY: by this function's contract the pointer is null or a live handle.
    match unsafe { handle.as_ref() } {
        None => libc::EINVAL,
        Some(h) => result_code(h.sleeper.sleep(Duration::from_nanos(duration_ns))),
    }
}

/// Sleeps until `deadline_ns`, an absolute `CLOCK_MONOTONIC` time in nanoseconds (see
/// `rtsleep_now_ns`). Returns at once if it has passed. Returns 0 or an errno.
///
/// # Safety
/// `handle` must be null or a live handle from `rtsleep_open`.
#[no_mangle]
pub unsafe extern "C" fn rtsleep_sleep_until_ns(handle: *const RtsleepHandle, deadline_ns: u64) -> c_int {
    // SAFETY: by this function's contract the pointer is null or a live handle.
    match unsafe { handle.as_ref() } {
        None => libc::EINVAL,
        Some(h) => result_code(h.sleeper.sleep_until(MonoTime::from_nanos(deadline_ns))),
    }
}

/// The current `CLOCK_MONOTONIC` time in nanoseconds (0 if the clock fails, which Linux
/// does not do).
#[no_mangle]
pub extern "C" fn rtsleep_now_ns() -> u64 {
    MonoTime::now().map(MonoTime::as_nanos).unwrap_or(0)
}

/// Fills `*out` with the backend in use, why, and the device's counters. Returns 0, or
/// `EINVAL` for a null argument.
///
/// # Safety
/// `handle` must be null or a live handle; `out` null or valid for writing one struct.
#[no_mangle]
pub unsafe extern "C" fn rtsleep_info(handle: *const RtsleepHandle, out: *mut RtsleepInfo) -> c_int {
    // SAFETY: by this function's contract the pointer is null or a live handle.
    let Some(h) = (unsafe { handle.as_ref() }) else {
        return libc::EINVAL;
    };
    if out.is_null() {
        return libc::EINVAL;
    }
    let info = h.sleeper.info();
    let (fallback_reason, fallback_errno) = match &info.fallback_reason {
        None => (RTSLEEP_REASON_NONE, 0),
        Some(FallbackReason::NoDevice { .. }) => (RTSLEEP_REASON_NO_DEVICE, libc::ENOENT),
        Some(FallbackReason::DeviceUnusable { errno, .. }) => (RTSLEEP_REASON_DEVICE_UNUSABLE, *errno),
        Some(FallbackReason::NotXen) => (RTSLEEP_REASON_NOT_XEN, 0),
        Some(FallbackReason::NoRtScheduler) => (RTSLEEP_REASON_NO_RT_SCHEDULER, 0),
        Some(FallbackReason::NotPermitted) => (RTSLEEP_REASON_NOT_PERMITTED, 0),
        Some(FallbackReason::Requested) => (RTSLEEP_REASON_REQUESTED, 0),
    };
    let report = RtsleepInfo {
        backend: match info.backend {
            Backend::Device => RTSLEEP_BACKEND_DEVICE,
            Backend::Fallback => RTSLEEP_BACKEND_FALLBACK,
        },
        fallback_reason,
        fallback_errno,
        device_present: u32::from(info.device.is_some()),
        device: info.device.unwrap_or_default(),
    };
    // SAFETY: `out` is non-null and, by this function's contract, valid for writing.
    unsafe { out.write(report) };
    0
}

/// A static, NUL-terminated English description of a `RTSLEEP_REASON_*` value.
#[no_mangle]
pub extern "C" fn rtsleep_reason_string(reason: u32) -> *const c_char {
    let text: &'static [u8] = match reason {
        RTSLEEP_REASON_NONE => b"using /dev/rtsleep\0",
        RTSLEEP_REASON_NO_DEVICE => b"no /dev/rtsleep: the rtsleep guest module is not loaded\0",
        RTSLEEP_REASON_DEVICE_UNUSABLE => b"the rtsleep device could not be used (see fallback_errno)\0",
        RTSLEEP_REASON_NOT_XEN => b"the guest does not run on Xen\0",
        RTSLEEP_REASON_NO_RT_SCHEDULER => b"Xen does not run the rtcredit scheduler\0",
        RTSLEEP_REASON_NOT_PERMITTED => b"dom0 has not allowed this domain RT\0",
        RTSLEEP_REASON_REQUESTED => b"the fallback was requested\0",
        _ => b"unknown reason\0",
    };
    text.as_ptr().cast()
}

/// Closes a handle from `rtsleep_open`. Null is ignored.
///
/// # Safety
/// `handle` must be null or a live handle, not used by any call after this one.
#[no_mangle]
pub unsafe extern "C" fn rtsleep_close(handle: *mut RtsleepHandle) {
    if !handle.is_null() {
        // SAFETY: the handle came from Box::into_raw in rtsleep_open and, by this
        // function's contract, is closed once and not used afterwards.
        drop(unsafe { Box::from_raw(handle) });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;
    use std::ptr;

    #[test]
    fn null_arguments_are_einval_not_crashes() {
        // SAFETY: null pointers are part of each function's contract.
        unsafe {
            assert_eq!(rtsleep_open(ptr::null_mut()), libc::EINVAL);
            assert_eq!(rtsleep_sleep_ns(ptr::null(), 1), libc::EINVAL);
            assert_eq!(rtsleep_sleep_until_ns(ptr::null(), 1), libc::EINVAL);
            assert_eq!(rtsleep_info(ptr::null(), ptr::null_mut()), libc::EINVAL);
            rtsleep_close(ptr::null_mut());
        }
    }

    #[test]
    fn reasons_have_descriptions() {
        for reason in 0..=7 {
            // SAFETY: rtsleep_reason_string returns a static NUL-terminated string.
            let text = unsafe { CStr::from_ptr(rtsleep_reason_string(reason)) };
            assert!(!text.to_bytes().is_empty());
        }
    }

    #[test]
    fn overflowing_duration_is_erange() {
        let mut handle = ptr::null_mut();
        // SAFETY: `handle` is a valid out pointer; the handle is used then closed once.
        unsafe {
            assert_eq!(rtsleep_open(&mut handle), 0);
            assert_eq!(rtsleep_sleep_ns(handle, u64::MAX), libc::ERANGE);
            rtsleep_close(handle);
        }
    }
}
