// SPDX-License-Identifier: GPL-2.0-only

//! `/dev/rtsleep`: sleep until a `CLOCK_MONOTONIC` deadline, and on RT-Credit ask Xen to
//! run this VCPU at RT priority at that deadline.
//!
//! # Contract (what user space sees)
//!
//! The ABI is `rtsleep-lib/src/abi.rs` (included below by source, defined only there;
//! its module doc is the full contract and shows the C view):
//!
//! * `RTSLEEP_IOC_SLEEP` (`0xC018E201`, `struct rtsleep_sleep_args`, 24 bytes): sleep
//!   interruptibly until `deadline_ns`, an absolute `CLOCK_MONOTONIC` time with
//!   `RTSLEEP_F_ABSOLUTE`, else a duration from now. Returns 0 at or after the deadline
//!   (at once if it has passed). `EINVAL`: `clock` is not `CLOCK_MONOTONIC` (1), an
//!   unknown flag bit, or a duration that overflows the clock. `EFAULT`: bad pointer.
//!   `EINTR`: a signal came first; `remaining_ns` is written back (never restarted, so
//!   the caller always sees it; an absolute request can be re-issued unchanged).
//! * `RTSLEEP_IOC_INFO` (`0x8040E202`, `struct rtsleep_device_info`, 64 bytes): ABI
//!   version (1), whether we run on Xen, what Xen said last (`rt_state`, `last_result`),
//!   the lead window, and counters since load.
//! * Any other command: `ENOTTY`.
//!
//! The wake-up is always a plain `CLOCK_MONOTONIC` hrtimer (no slack), so the ioctl is
//! never worse than `clock_nanosleep`. In addition, when the guest runs on Xen and the
//! deadline is between [`MIN_LEAD_NS`] and [`MAX_LEAD_NS`] ahead, the module registers
//! it with `SCHEDOP_rtsleep` (converted to Xen system time). Hypercall failures never
//! fail the ioctl: `-EPERM` (dom0 has not allowed RT), `-ENOSYS`/`-EOPNOTSUPP` (stock
//! Xen or another scheduler; then no further hypercalls are made), `-ERANGE` only change
//! `rt_state`, `last_result` and the counters. A signal cancels a registered deadline
//! (`RTSLEEP_FLAG_CANCEL`).
//!
//! # Structure
//!
//! This file holds the logic (validation, policy, counters, the device). The kernel and
//! Xen primitives (hypercall, clock conversion, the hrtimer sleep) are in the C helper
//! `rtsleep_xen.c`, linked into the same module; the only `unsafe` code here is the call
//! into it and the byte-view impls of the ABI structs.

use core::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, AtomicU64, Ordering::Relaxed};
use kernel::{
    fs::File,
    miscdevice::{MiscDevice, MiscDeviceOptions, MiscDeviceRegistration},
    pr_warn_once,
    prelude::*,
    transmute::{AsBytes, FromBytes},
    uaccess::{UserPtr, UserSlice},
};

/// The ioctl ABI, shared with user space (`include!` cannot take it: it starts with `//!`).
#[allow(dead_code, missing_docs, unreachable_pub)]
#[path = "../rtsleep-lib/src/abi.rs"]
mod abi;

module! {
    type: RtSleepModule,
    name: "rtsleep",
    authors: ["RT-Credit"],
    description: "Deadline sleeps with RT-Credit's guest-declared RT wake-up (SCHEDOP_rtsleep)",
    license: "GPL",
}

/// Smallest lead (deadline minus now) for which we ask Xen for RT: the hypervisor's
/// default minimum lead. Closer deadlines get the plain hrtimer only.
const MIN_LEAD_NS: u64 = 5_000_000;
/// Largest lead for which we ask Xen for RT: the hypervisor's default maximum lead.
const MAX_LEAD_NS: u64 = 10_000_000_000;
/// `RTSLEEP_FLAG_CANCEL` of `hypervisor/src/abi.rs`.
const XEN_FLAG_CANCEL: u32 = 1;
/// Hypercall results (`hypervisor/src/abi.rs`) and the errnos it can return (Xen's
/// `public/errno.h`, the same numbers as Linux x86).
const XEN_GRANTED: i32 = 0;
const XEN_DEGRADED: i32 = 1;
const XEN_EPERM: i32 = -1;
const XEN_ENOSYS: i32 = -38;
const XEN_EOPNOTSUPP: i32 = -95;

const _: () = assert!(core::mem::size_of::<abi::SleepArgs>() == 24);
const _: () = assert!(core::mem::size_of::<abi::DeviceInfo>() == 64);

// SAFETY: `SleepArgs` is `#[repr(C)]` with integer fields only: every bit pattern is a
// valid value and it has no interior mutability.
unsafe impl FromBytes for abi::SleepArgs {}
// SAFETY: `#[repr(C)]`, integer fields only, no padding (8 + 4 + 4 + 8 = 24, checked
// above), so every byte of a value is initialised.
unsafe impl AsBytes for abi::SleepArgs {}
// SAFETY: `#[repr(C)]`, integer fields only, no padding (4 * 4 + 6 * 8 = 64, checked
// above), so every byte of a value is initialised.
unsafe impl AsBytes for abi::DeviceInfo {}

/// The C helper (`rtsleep_xen.c`).
mod c {
    extern "C" {
        pub(super) fn rtsleep_c_on_xen() -> bool;
        pub(super) fn rtsleep_c_now_ns() -> u64;
        pub(super) fn rtsleep_c_sched_rtsleep(deadline_ns: u64, flags: u32, result: *mut i32) -> i32;
        pub(super) fn rtsleep_c_sleep_until(deadline_ns: i64) -> i32;
    }
}

fn on_xen() -> bool {
    // SAFETY: no preconditions; reads `xen_domain_type`.
    unsafe { c::rtsleep_c_on_xen() }
}

/// `CLOCK_MONOTONIC` now, in ns.
fn now_ns() -> u64 {
    // SAFETY: no preconditions; `ktime_get_ns()`.
    unsafe { c::rtsleep_c_now_ns() }
}

/// Sleeps interruptibly until the absolute `CLOCK_MONOTONIC` time `deadline_ns`.
fn sleep_until(deadline_ns: i64) -> Result {
    // SAFETY: called from process context (an ioctl), where sleeping is allowed.
    match unsafe { c::rtsleep_c_sleep_until(deadline_ns) } {
        0 => Ok(()),
        _ => Err(EINTR),
    }
}

/// `SCHEDOP_rtsleep` for the calling VCPU: `Some(result)` if the hypercall was made,
/// `None` if the deadline could not be converted to Xen time here.
fn sched_rtsleep(deadline_ns: u64, flags: u32) -> Option<i32> {
    let mut result = 0i32;
    // SAFETY: `result` is a valid, writable `i32` for the duration of the call.
    let ret = unsafe { c::rtsleep_c_sched_rtsleep(deadline_ns, flags, &mut result) };
    (ret == 0).then_some(result)
}

/// Module-wide state; what `RTSLEEP_IOC_INFO` reports.
struct State {
    on_xen: AtomicBool,
    rt_state: AtomicU32,
    last_result: AtomicI32,
    requests: AtomicU64,
    rt_accepted: AtomicU64,
    fell_back: AtomicU64,
    interrupted: AtomicU64,
}

static STATE: State = State {
    on_xen: AtomicBool::new(false),
    rt_state: AtomicU32::new(abi::RTSLEEP_RT_UNKNOWN),
    last_result: AtomicI32::new(0),
    requests: AtomicU64::new(0),
    rt_accepted: AtomicU64::new(0),
    fell_back: AtomicU64::new(0),
    interrupted: AtomicU64::new(0),
};

/// The absolute `CLOCK_MONOTONIC` deadline of a request made at `now`, or `EINVAL`.
/// Absolute deadlines beyond the clock's range are clamped (a sleep "forever").
fn absolute_deadline(args: &abi::SleepArgs, now: u64) -> Result<u64> {
    const CLOCK_MAX: u64 = i64::MAX as u64;
    if args.clock != abi::RTSLEEP_CLOCK_MONOTONIC || args.flags & !abi::RTSLEEP_F_KNOWN != 0 {
        return Err(EINVAL);
    }
    if args.flags & abi::RTSLEEP_F_ABSOLUTE != 0 {
        return Ok(args.deadline_ns.min(CLOCK_MAX));
    }
    match now.checked_add(args.deadline_ns) {
        Some(d) if d <= CLOCK_MAX => Ok(d),
        _ => Err(EINVAL),
    }
}

/// Asks Xen for an RT wake-up at `deadline` when that can work; true if it accepted.
fn request_rt(deadline: u64, lead: u64) -> bool {
    if !STATE.on_xen.load(Relaxed)
        || STATE.rt_state.load(Relaxed) == abi::RTSLEEP_RT_EOPNOTSUPP
        || !(MIN_LEAD_NS..=MAX_LEAD_NS).contains(&lead)
    {
        return false;
    }
    let Some(result) = sched_rtsleep(deadline, 0) else {
        pr_warn_once!(
            "cannot read Xen system time (no stable-TSC pvclock page, clocksource not xen): no RT requests\n"
        );
        return false;
    };
    STATE.last_result.store(result, Relaxed);
    let (state, accepted) = match result {
        XEN_GRANTED | XEN_DEGRADED => (abi::RTSLEEP_RT_ACCEPTED, true),
        XEN_EPERM => (abi::RTSLEEP_RT_EPERM, false),
        XEN_ENOSYS | XEN_EOPNOTSUPP => (abi::RTSLEEP_RT_EOPNOTSUPP, false),
        // -ERANGE, -EINVAL: this request only; what we know about RT is unchanged.
        _ => return false,
    };
    STATE.rt_state.store(state, Relaxed);
    accepted
}

/// `RTSLEEP_IOC_SLEEP` after copy-in; on `EINTR`, `args.remaining_ns` is set.
fn sleep(args: &mut abi::SleepArgs) -> Result {
    let now = now_ns();
    let deadline = absolute_deadline(args, now)?;
    if deadline <= now {
        return Ok(());
    }
    let rt = request_rt(deadline, deadline - now);
    let counter = if rt { &STATE.rt_accepted } else { &STATE.fell_back };
    counter.fetch_add(1, Relaxed);

    // `deadline` fits in `i64`: `absolute_deadline` clamps it to `i64::MAX`.
    let ret = sleep_until(deadline as i64);
    if ret.is_err() {
        if rt {
            if let Some(result) = sched_rtsleep(0, XEN_FLAG_CANCEL) {
                STATE.last_result.store(result, Relaxed);
            }
        }
        STATE.interrupted.fetch_add(1, Relaxed);
        args.remaining_ns = deadline.saturating_sub(now_ns());
    }
    ret
}

fn info() -> abi::DeviceInfo {
    abi::DeviceInfo {
        version: abi::RTSLEEP_ABI_VERSION,
        on_xen: STATE.on_xen.load(Relaxed).into(),
        rt_state: STATE.rt_state.load(Relaxed),
        last_result: STATE.last_result.load(Relaxed),
        min_lead_ns: MIN_LEAD_NS,
        max_lead_ns: MAX_LEAD_NS,
        requests: STATE.requests.load(Relaxed),
        rt_accepted: STATE.rt_accepted.load(Relaxed),
        fell_back: STATE.fell_back.load(Relaxed),
        interrupted: STATE.interrupted.load(Relaxed),
    }
}

#[pin_data]
struct RtSleepModule {
    #[pin]
    _miscdev: MiscDeviceRegistration<RtSleepDevice>,
}

impl kernel::InPlaceModule for RtSleepModule {
    fn init(_module: &'static ThisModule) -> impl PinInit<Self, Error> {
        let xen = on_xen();
        STATE.on_xen.store(xen, Relaxed);
        if !xen {
            STATE.rt_state.store(abi::RTSLEEP_RT_NOT_XEN, Relaxed);
        }
        pr_info!("/dev/rtsleep, ABI {}, on_xen={}\n", abi::RTSLEEP_ABI_VERSION, xen);
        try_pin_init!(Self {
            _miscdev <- MiscDeviceRegistration::register(MiscDeviceOptions { name: c"rtsleep" }),
        })
    }
}

/// The device has no state per open file: everything is per call or module-wide.
struct RtSleepDevice;

#[vtable]
impl MiscDevice for RtSleepDevice {
    type Ptr = ();

    fn open(_file: &File, _misc: &MiscDeviceRegistration<Self>) -> Result<()> {
        Ok(())
    }

    fn ioctl(_device: (), _file: &File, cmd: u32, arg: usize) -> Result<isize> {
        let ptr = UserPtr::from_addr(arg);
        match cmd {
            abi::RTSLEEP_IOC_SLEEP => {
                STATE.requests.fetch_add(1, Relaxed);
                let user = UserSlice::new(ptr, core::mem::size_of::<abi::SleepArgs>());
                let (mut reader, mut writer) = user.reader_writer();
                let mut args: abi::SleepArgs = reader.read()?;
                match sleep(&mut args) {
                    Err(e) if e == EINTR => {
                        writer.write(&args)?;
                        Err(EINTR)
                    }
                    ret => ret.map(|()| 0),
                }
            }
            abi::RTSLEEP_IOC_INFO => {
                let user = UserSlice::new(ptr, core::mem::size_of::<abi::DeviceInfo>());
                user.writer().write(&info())?;
                Ok(0)
            }
            _ => Err(ENOTTY),
        }
    }
}
