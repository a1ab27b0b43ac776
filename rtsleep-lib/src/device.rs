//! `/dev/rtsleep` itself: open, `RTSLEEP_IOC_INFO`, `RTSLEEP_IOC_SLEEP`, nothing more.
//!
//! [`Device::open`] checks that the file answers `RTSLEEP_IOC_INFO` with this library's
//! ABI version, so a wrong path (say `/dev/null`) is reported at open, not at the first
//! sleep. [`Device::sleep_once`] is one ioctl with the kernel's errno returned as is, for
//! callers that must reproduce an exact contract (the preload shim); most code wants
//! [`crate::Sleeper`], which resumes after signals and falls back when needed.

use crate::abi::{self, DeviceInfo, DeviceInfoExt, SleepArgs};
use crate::{Error, MonoTime, DEVICE_ENV};
use nix::errno::Errno;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

/// The device's requests as nix's ioctl wrappers, with the numbers of the ABI (the
/// `_bad` forms take a request number as it is, encoding included).
mod ioctls {
    use crate::abi::{self, DeviceInfo, DeviceInfoExt, SleepArgs};
    nix::ioctl_read_bad!(info, abi::RTSLEEP_IOC_INFO, DeviceInfo);
    nix::ioctl_read_bad!(info_ext, abi::RTSLEEP_IOC_INFO_EXT, DeviceInfoExt);
    nix::ioctl_readwrite_bad!(sleep, abi::RTSLEEP_IOC_SLEEP, SleepArgs);
}

/// An open `/dev/rtsleep`. Thread-safe: each ioctl is independent.
#[derive(Debug)]
pub struct Device {
    fd: OwnedFd,
    path: PathBuf,
}

/// The device path to use: `$RTSLEEP_DEVICE` if set and not empty, else `/dev/rtsleep`.
pub fn default_path() -> PathBuf {
    match std::env::var_os(DEVICE_ENV) {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => PathBuf::from(abi::RTSLEEP_DEVICE_PATH),
    }
}

impl Device {
    /// Opens the device at `path` and checks its ABI version.
    pub fn open(path: &Path) -> Result<Device, Error> {
        // Read and write, close-on-exec (std's default), as the device expects.
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(|source| Error::DeviceOpen { path: path.to_path_buf(), source })?;
        let device = Device { fd: OwnedFd::from(file), path: path.to_path_buf() };
        let info = device.read_info().map_err(|source| Error::NotRtsleepDevice { path: path.to_path_buf(), source })?;
        if info.version != abi::RTSLEEP_ABI_VERSION {
            return Err(Error::AbiVersion {
                path: path.to_path_buf(),
                found: info.version,
                expected: abi::RTSLEEP_ABI_VERSION,
            });
        }
        Ok(device)
    }

    /// The path this device was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `RTSLEEP_IOC_INFO`.
    pub fn info(&self) -> Result<DeviceInfo, Error> {
        self.read_info().map_err(|source| Error::Ioctl { request: "RTSLEEP_IOC_INFO", path: self.path.clone(), source })
    }

    /// `RTSLEEP_IOC_INFO_EXT`: the info plus the per-VCPU registration counters, or
    /// `None` from a module that predates them (it answers `ENOTTY`).
    pub fn info_ext(&self) -> Result<Option<DeviceInfoExt>, Error> {
        let mut ext = DeviceInfoExt::default();
        // SAFETY: RTSLEEP_IOC_INFO_EXT writes at most size_of::<DeviceInfoExt>() bytes
        // (encoded in the request number) into `ext`, which is valid and writable.
        match unsafe { ioctls::info_ext(self.fd.as_raw_fd(), &mut ext) } {
            Ok(_) => Ok(Some(ext)),
            Err(Errno::ENOTTY) => Ok(None),
            Err(errno) => Err(Error::Ioctl {
                request: "RTSLEEP_IOC_INFO_EXT",
                path: self.path.clone(),
                source: io::Error::from(errno),
            }),
        }
    }

    fn read_info(&self) -> io::Result<DeviceInfo> {
        let mut info = DeviceInfo::default();
        // SAFETY: RTSLEEP_IOC_INFO writes exactly size_of::<DeviceInfo>() bytes (encoded in
        // the request number) into `info`, which is valid and writable for the call.
        unsafe { ioctls::info(self.fd.as_raw_fd(), &mut info) }.map_err(io::Error::from)?;
        Ok(info)
    }

    /// One `RTSLEEP_IOC_SLEEP` ioctl. `Err(errno)` is the kernel's error as is (`EINTR`
    /// with `args.remaining_ns` written, `EINVAL`, ...). The caller's `errno` variable is
    /// left as the ioctl set it.
    pub fn sleep_once(&self, args: &mut SleepArgs) -> Result<(), i32> {
        // SAFETY: RTSLEEP_IOC_SLEEP reads and writes exactly size_of::<SleepArgs>() bytes
        // of `args`, a valid, writable, exclusively borrowed struct.
        unsafe { ioctls::sleep(self.fd.as_raw_fd(), args) }.map(drop).map_err(|errno| errno as i32)
    }

    /// Sleeps until `deadline`, re-issuing the same absolute deadline after signals.
    pub fn sleep_until(&self, deadline: MonoTime) -> Result<(), Error> {
        loop {
            let mut args = SleepArgs {
                deadline_ns: deadline.as_nanos(),
                clock: abi::RTSLEEP_CLOCK_MONOTONIC,
                flags: abi::RTSLEEP_F_ABSOLUTE,
                remaining_ns: 0,
            };
            match self.sleep_once(&mut args) {
                Ok(()) => return Ok(()),
                Err(libc::EINTR) => continue,
                Err(errno) => {
                    return Err(Error::Ioctl {
                        request: "RTSLEEP_IOC_SLEEP",
                        path: self.path.clone(),
                        source: io::Error::from_raw_os_error(errno),
                    })
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_device_is_an_open_error_naming_the_path_and_the_fix() {
        let err = Device::open(Path::new("/nonexistent/rtsleep")).unwrap_err();
        assert!(matches!(err, Error::DeviceOpen { .. }));
        let message = err.to_string();
        assert!(message.contains("/nonexistent/rtsleep") && message.contains("modprobe"), "{message}");
    }

    #[test]
    fn a_file_that_is_not_the_device_is_refused_at_open() {
        let err = Device::open(Path::new("/dev/null")).unwrap_err();
        match err {
            Error::NotRtsleepDevice { source, .. } => assert_eq!(source.raw_os_error(), Some(libc::ENOTTY)),
            other => panic!("expected NotRtsleepDevice, got {other:?}"),
        }
    }
}
