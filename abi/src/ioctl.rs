//! The ioctl ABI of `/dev/rtsleep`, defined once, for both sides.
//!
//! This file is the contract between user space (`rtsleep-lib`, its preload shim, the
//! `rtsleep` command) and the guest kernel module (`guest-kmod`, Rust-for-Linux), which
//! compiles this same file as a module (`#[path = "../abi/src/ioctl.rs"] mod abi;`). It
//! therefore uses nothing but `core` types: `#[repr(C)]` structs of fixed-width
//! integers, `pub const` numbers, and the Linux `_IOC` encoding written as `const fn`s
//! below. No `use`, no attributes beyond `repr`/`derive` of core traits, no dependency.
//!
//! # The contract, as a user-space C program sees it
//!
//! ```c
//! #include <errno.h>
//! #include <fcntl.h>
//! #include <stdint.h>
//! #include <stdio.h>
//! #include <sys/ioctl.h>
//! #include <time.h>
//!
//! struct rtsleep_sleep_args { uint64_t deadline_ns; uint32_t clock; uint32_t flags; uint64_t remaining_ns; };
//! struct rtsleep_device_info {
//!     uint32_t version, on_xen, rt_state; int32_t last_result;
//!     uint64_t min_lead_ns, max_lead_ns, requests, rt_accepted, fell_back, interrupted;
//! };
//! #define RTSLEEP_IOC_SLEEP 0xC018E201u /* _IOWR(0xE2, 1, struct rtsleep_sleep_args) */
//! #define RTSLEEP_IOC_INFO  0x8040E202u /* _IOR (0xE2, 2, struct rtsleep_device_info) */
//!
//! int main(void) {
//!     int fd = open("/dev/rtsleep", O_RDWR | O_CLOEXEC);
//!     if (fd < 0) { perror("open /dev/rtsleep (fall back to clock_nanosleep)"); return 1; }
//!
//!     struct rtsleep_device_info info;
//!     if (ioctl(fd, RTSLEEP_IOC_INFO, &info) < 0 || info.version != 1) return 1;
//!     printf("on_xen=%u rt_state=%u\n", info.on_xen, info.rt_state);
//!
//!     struct timespec now;
//!     clock_gettime(CLOCK_MONOTONIC, &now);
//!     struct rtsleep_sleep_args req = {
//!         .deadline_ns = now.tv_sec * 1000000000ull + now.tv_nsec + 10000000, /* +10 ms */
//!         .clock = 1 /* CLOCK_MONOTONIC */, .flags = 1 /* RTSLEEP_F_ABSOLUTE */,
//!     };
//!     while (ioctl(fd, RTSLEEP_IOC_SLEEP, &req) < 0) {
//!         if (errno != EINTR) { perror("RTSLEEP_IOC_SLEEP"); return 1; }
//!         /* interrupted: req.remaining_ns says how much was left; an absolute
//!            deadline can simply be re-issued unchanged */
//!     }
//!     return 0;
//! }
//! ```
//!
//! # `RTSLEEP_IOC_SLEEP`
//!
//! Sleep the calling thread until `deadline_ns` on `CLOCK_MONOTONIC`. With
//! [`RTSLEEP_F_ABSOLUTE`] the deadline is an absolute `CLOCK_MONOTONIC` time in
//! nanoseconds; without it, it is a duration from now (the module converts it to an
//! absolute deadline on entry). When the calling VCPU runs on Xen with the `rtcredit`
//! scheduler, the module registers the deadline with `SCHEDOP_rtsleep` (converted to Xen
//! system time) when it is in the future and at most 10 s ahead (Xen admits deadlines by
//! period, not by lead: a VCPU's consecutive deadlines at least its minimum period, 1 ms
//! by default, apart), so the VCPU runs at RT priority at the deadline. Then it
//! sleeps interruptibly on a `CLOCK_MONOTONIC` hrtimer until the deadline, whether or not
//! the hypercall was granted: the ioctl is always at least as good as `clock_nanosleep`.
//!
//! * returns 0 at or after the deadline (immediately if it has already passed);
//! * `EINVAL`: `clock` is not [`RTSLEEP_CLOCK_MONOTONIC`], `flags` has a bit other than
//!   [`RTSLEEP_F_ABSOLUTE`], or a relative duration overflows the clock;
//! * `EFAULT`: the argument pointer cannot be read or written;
//! * `EINTR`: a signal arrived first; `remaining_ns` is written with the time that was left
//!   until the deadline (0 if none), the pending RT deadline is cancelled
//!   (`RTSLEEP_FLAG_CANCEL`), and the caller may re-issue (unchanged if absolute). The
//!   module must not use `-ERESTARTSYS`, so that `remaining_ns` always reaches the caller;
//! * `ENOTTY`: unknown ioctl command.
//!
//! Hypercall errors never fail the ioctl: `-EPERM`, `-ERANGE`, `-ENOSYS`/`-EOPNOTSUPP`
//! only change `rt_state`, `last_result` and the counters below. After `-EPERM`,
//! `-ENOSYS` or `-EOPNOTSUPP` the module asks Xen again after 1 s at the earliest (a
//! refusal does not stick).
//!
//! # `RTSLEEP_IOC_INFO`
//!
//! Fills [`DeviceInfo`]: the ABI version ([`RTSLEEP_ABI_VERSION`]; user space refuses any
//! other), whether the guest runs on Xen, what the hypervisor said the last time RT was
//! requested ([`DeviceInfo::rt_state`], one of `RTSLEEP_RT_*`), the raw hypercall result,
//! the lead window the module applies, and counters since the module was loaded.
//! Errors: `EFAULT`, `ENOTTY`.
//!
//! # `RTSLEEP_IOC_INFO_EXT` (added without an ABI break)
//!
//! The same request number (`nr` 2, read) with a larger size: [`DeviceInfoExt`], which is
//! [`DeviceInfo`] unchanged followed by [`DeviceInfoExt::size`] (how many bytes of the
//! struct the module filled) and counters of the per-VCPU registrations. Old programs keep
//! using the 64-byte `RTSLEEP_IOC_INFO` and see `version` 1 as before; a module older than
//! this extension answers `RTSLEEP_IOC_INFO_EXT` with `ENOTTY`, so a new program falls back
//! to the 64-byte call. The module accepts any `_IOR(0xE2, 2, n)` with `n >= 64` and writes
//! `min(n, its own size)` bytes, so later additions go at the end of [`DeviceInfoExt`] and
//! are announced by `size`; [`RTSLEEP_ABI_VERSION`] changes only for an incompatible change.
//!
//! # Several sleepers on one VCPU
//!
//! Xen keeps one RT deadline per VCPU and a new registration replaces the old one. The
//! module therefore keeps the pending deadlines of each VCPU and registers the earliest: a
//! sleeper whose deadline is later than the registered one is queued behind it
//! ([`DeviceInfoExt::rt_deferred`]), an earlier one replaces it
//! ([`DeviceInfoExt::rt_replaced`]), and when the sleeper holding the registration leaves
//! (wakes or is interrupted) the next earliest deadline of that VCPU is registered
//! ([`DeviceInfoExt::rt_reregistered`]), or, if it was interrupted and none is left, the
//! registration is cancelled ([`DeviceInfoExt::rt_cancels`]). A sleeper whose deadline may
//! be registered stays on its VCPU for the sleep.
//!
//! The ioctl numbers use the generic Linux encoding (`include/uapi/asm-generic/ioctl.h`:
//! x86, arm64, riscv; not powerpc, mips, sparc or alpha, which lay the bits out
//! differently). The type byte `0xE2` was chosen for this device.

/// Version of this ABI; [`DeviceInfo::version`] must equal it.
pub const RTSLEEP_ABI_VERSION: u32 = 1;

/// Where the guest module's misc device appears.
pub const RTSLEEP_DEVICE_PATH: &str = "/dev/rtsleep";

/// The ioctl type byte of the device (`_IOC_TYPE`).
pub const RTSLEEP_IOC_MAGIC: u32 = 0xE2;

/// `_IOC_NRBITS` etc. of `asm-generic/ioctl.h`.
pub const IOC_NRBITS: u32 = 8;
pub const IOC_TYPEBITS: u32 = 8;
pub const IOC_SIZEBITS: u32 = 14;
pub const IOC_NRSHIFT: u32 = 0;
pub const IOC_TYPESHIFT: u32 = IOC_NRSHIFT + IOC_NRBITS;
pub const IOC_SIZESHIFT: u32 = IOC_TYPESHIFT + IOC_TYPEBITS;
pub const IOC_DIRSHIFT: u32 = IOC_SIZESHIFT + IOC_SIZEBITS;
/// `_IOC_NONE`, `_IOC_WRITE` (user to kernel), `_IOC_READ` (kernel to user).
pub const IOC_NONE: u32 = 0;
pub const IOC_WRITE: u32 = 1;
pub const IOC_READ: u32 = 2;

/// `_IOC(dir, type, nr, size)`. `size` must fit in 14 bits (checked at compile time
/// where the result is a `const`).
pub const fn ioc(dir: u32, ty: u32, nr: u32, size: usize) -> u32 {
    assert!(size < (1 << IOC_SIZEBITS), "ioctl argument too large for _IOC");
    (dir << IOC_DIRSHIFT) | (ty << IOC_TYPESHIFT) | (nr << IOC_NRSHIFT) | ((size as u32) << IOC_SIZESHIFT)
}

/// `_IOR(type, nr, size)`: the kernel writes the argument.
pub const fn ior(ty: u32, nr: u32, size: usize) -> u32 {
    ioc(IOC_READ, ty, nr, size)
}

/// `_IOW(type, nr, size)`: the kernel reads the argument.
pub const fn iow(ty: u32, nr: u32, size: usize) -> u32 {
    ioc(IOC_WRITE, ty, nr, size)
}

/// `_IOWR(type, nr, size)`: the kernel reads and writes the argument.
pub const fn iowr(ty: u32, nr: u32, size: usize) -> u32 {
    ioc(IOC_READ | IOC_WRITE, ty, nr, size)
}

/// Argument of [`RTSLEEP_IOC_SLEEP`] (`struct rtsleep_sleep_args`, 24 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SleepArgs {
    /// Absolute `CLOCK_MONOTONIC` time in ns with [`RTSLEEP_F_ABSOLUTE`], else a duration.
    pub deadline_ns: u64,
    /// Must be [`RTSLEEP_CLOCK_MONOTONIC`].
    pub clock: u32,
    /// `RTSLEEP_F_*`; unknown bits are rejected with `EINVAL`.
    pub flags: u32,
    /// Out, on `EINTR` only: nanoseconds that were left until the deadline.
    pub remaining_ns: u64,
}

/// The absolute `CLOCK_MONOTONIC` deadline of a [`RTSLEEP_IOC_SLEEP`] request made at
/// `now` (ns), or `None` when the module answers `EINVAL`: another clock, an unknown
/// flag, or a relative deadline beyond the clock's range (`i64::MAX` ns). Absolute
/// deadlines beyond that range are clamped to it (a sleep "forever"). Pure, so that the
/// module's decoding is tested and fuzzed on the host.
pub fn absolute_deadline(args: &SleepArgs, now: u64) -> Option<u64> {
    const CLOCK_MAX: u64 = i64::MAX as u64;
    if args.clock != RTSLEEP_CLOCK_MONOTONIC || args.flags & !RTSLEEP_F_KNOWN != 0 {
        return None;
    }
    if args.flags & RTSLEEP_F_ABSOLUTE != 0 {
        return Some(if args.deadline_ns < CLOCK_MAX { args.deadline_ns } else { CLOCK_MAX });
    }
    match now.checked_add(args.deadline_ns) {
        Some(d) if d <= CLOCK_MAX => Some(d),
        _ => None,
    }
}

/// The user size of an `_IOR(0xE2, 2, n)` request with `n >= 64` (`RTSLEEP_IOC_INFO`,
/// `RTSLEEP_IOC_INFO_EXT` and any later extension), else `None`: how the module tells
/// an info request of any later, larger layout from every other command.
pub fn info_request_size(cmd: u32) -> Option<usize> {
    let size_mask = (1u32 << IOC_SIZEBITS) - 1;
    let size = ((cmd >> IOC_SIZESHIFT) & size_mask) as usize;
    let rest = ior(RTSLEEP_IOC_MAGIC, 2, 0);
    if cmd & !(size_mask << IOC_SIZESHIFT) == rest && size >= core::mem::size_of::<DeviceInfo>() {
        Some(size)
    } else {
        None
    }
}

/// The only clock the device accepts (Linux's `CLOCK_MONOTONIC`).
pub const RTSLEEP_CLOCK_MONOTONIC: u32 = 1;
/// `deadline_ns` is absolute, not relative.
pub const RTSLEEP_F_ABSOLUTE: u32 = 1 << 0;
/// Every flag this version understands.
pub const RTSLEEP_F_KNOWN: u32 = RTSLEEP_F_ABSOLUTE;

/// Result of [`RTSLEEP_IOC_INFO`] (`struct rtsleep_device_info`, 64 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeviceInfo {
    /// [`RTSLEEP_ABI_VERSION`] of the module.
    pub version: u32,
    /// 1 when the guest runs on Xen (the module saw a Xen hypervisor), else 0.
    pub on_xen: u32,
    /// `RTSLEEP_RT_*`: what the hypervisor said the last time RT was requested.
    pub rt_state: u32,
    /// Raw result of the last `SCHEDOP_rtsleep` hypercall: 0 granted, 1 degraded,
    /// 2 cancelled, or a negative errno (`-EPERM`, `-ERANGE`, `-ENOSYS`, ...); 0 if none.
    pub last_result: i32,
    /// Smallest lead (deadline minus now) for which the module asks for RT, in ns (0: any
    /// future deadline; Xen admits by period).
    pub min_lead_ns: u64,
    /// Largest lead for which the module asks for RT, in ns.
    pub max_lead_ns: u64,
    /// `RTSLEEP_IOC_SLEEP` calls since the module was loaded.
    pub requests: u64,
    /// Sleeps for which the hypervisor granted (or degraded) the RT deadline.
    pub rt_accepted: u64,
    /// Sleeps served by a plain hrtimer only (outside the window, not on Xen, refused).
    pub fell_back: u64,
    /// Sleeps that ended with `EINTR`.
    pub interrupted: u64,
}

/// Result of [`RTSLEEP_IOC_INFO_EXT`] (`struct rtsleep_device_info_ext`, 112 bytes):
/// [`DeviceInfo`], then the size the module filled and the registration counters.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeviceInfoExt {
    /// The 64 bytes of `RTSLEEP_IOC_INFO`, unchanged.
    pub info: DeviceInfo,
    /// Bytes of this struct the module filled (112 for this layout); fields beyond it
    /// were not written.
    pub size: u32,
    /// Zero.
    pub reserved: u32,
    /// `SCHEDOP_rtsleep` hypercalls made (registrations and cancels).
    pub hypercalls: u64,
    /// Sleeps that found an earlier (or equal) deadline registered for their VCPU and were
    /// queued behind it instead of replacing it.
    pub rt_deferred: u64,
    /// Registrations that replaced a later deadline of another sleeper on the same VCPU.
    pub rt_replaced: u64,
    /// Registrations of a queued deadline, made when the sleeper holding the VCPU's
    /// registration woke or was interrupted.
    pub rt_reregistered: u64,
    /// Cancels (`RTSLEEP_FLAG_CANCEL`): a registered sleeper was interrupted and no other
    /// deadline was pending on its VCPU.
    pub rt_cancels: u64,
}

/// No RT request has been made yet, so nothing is known.
pub const RTSLEEP_RT_UNKNOWN: u32 = 0;
/// The hypervisor accepted the last request (granted or degraded to a normal wake).
pub const RTSLEEP_RT_ACCEPTED: u32 = 1;
/// The guest does not run on Xen: no hypercall is made.
pub const RTSLEEP_RT_NOT_XEN: u32 = 2;
/// Xen without the `rtcredit` scheduler: the hypercall said `-ENOSYS`/`-EOPNOTSUPP`.
pub const RTSLEEP_RT_EOPNOTSUPP: u32 = 3;
/// Dom0 has not allowed this domain RT: the hypercall said `-EPERM`.
pub const RTSLEEP_RT_EPERM: u32 = 4;

/// Sleep until a deadline (`_IOWR(0xE2, 1, struct rtsleep_sleep_args)` = `0xC018E201`).
pub const RTSLEEP_IOC_SLEEP: u32 = iowr(RTSLEEP_IOC_MAGIC, 1, core::mem::size_of::<SleepArgs>());
/// Read the device's state (`_IOR(0xE2, 2, struct rtsleep_device_info)` = `0x8040E202`).
pub const RTSLEEP_IOC_INFO: u32 = ior(RTSLEEP_IOC_MAGIC, 2, core::mem::size_of::<DeviceInfo>());
/// Read [`DeviceInfoExt`] (`_IOR(0xE2, 2, struct rtsleep_device_info_ext)` = `0x8070E202`).
pub const RTSLEEP_IOC_INFO_EXT: u32 = ior(RTSLEEP_IOC_MAGIC, 2, core::mem::size_of::<DeviceInfoExt>());
