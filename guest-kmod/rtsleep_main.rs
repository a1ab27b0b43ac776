// SPDX-License-Identifier: GPL-2.0-only

//! `/dev/rtsleep`: sleep until a `CLOCK_MONOTONIC` deadline, and on RT-Credit ask Xen to
//! run this VCPU at RT priority at that deadline.
//!
//! # Contract (what user space sees)
//!
//! The ABI is `abi/src/ioctl.rs` (crate `rtcredit-abi`, included below by source, defined
//! only there; its module doc is the full contract and shows the C view):
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
//! * `RTSLEEP_IOC_INFO_EXT` (`0x8070E202`, the same request with 112 bytes): the 64
//!   bytes above followed by the filled size and the per-VCPU registration counters
//!   (hypercalls, deferred, replaced, re-registered, cancels). Any `_IOR(0xE2, 2, n)` with
//!   `n >= 64` gets the first `min(n, 112)` bytes.
//! * Any other command: `ENOTTY`.
//!
//! The wake-up is always a plain `CLOCK_MONOTONIC` hrtimer (no slack), so the ioctl is
//! never worse than `clock_nanosleep`. In addition, when the guest runs on Xen and the
//! deadline is in the future and at most [`MAX_LEAD_NS`] ahead, the module registers
//! it with `SCHEDOP_rtsleep` (converted to Xen system time). There is no minimum lead:
//! Xen admits deadlines by period (a VCPU's consecutive deadlines at least its minimum
//! period apart, 1 ms by default), so the next period after a late wake-up is
//! registered too; a deadline Xen refuses (`-ERANGE`) gets the hrtimer alone. Hypercall failures never
//! fail the ioctl: `-EPERM` (dom0 has not allowed RT), `-ENOSYS`/`-EOPNOTSUPP` (stock
//! Xen or another scheduler), `-ERANGE` only change `rt_state`, `last_result` and the
//! counters.
//!
//! # A refusal does not stick: the re-probe
//!
//! Xen's answer can change while the guest runs (dom0 allows the domain RT; the domain
//! moves to a pool that runs `rtcredit`). After `-EPERM`, `-ENOSYS` or `-EOPNOTSUPP` the
//! module makes no hypercall (and pins no sleeper) for [`REPROBE_NS`] (1 s); the first
//! sleep after that asks Xen again, and its answer starts the next interval or ends the
//! refusal. So a domain without permission makes at most one refused hypercall per
//! second per VCPU, and a grant is seen within a second.
//!
//! # Several sleepers, one VCPU
//!
//! Xen keeps one RT deadline per VCPU; a new `SCHEDOP_rtsleep` replaces the old one, and
//! the hypercall applies to the VCPU that makes it. So the module keeps, per CPU, the
//! pending deadlines that may be registered for that CPU ([`CpuQueue`], one mutex per
//! CPU: sleepers on different CPUs never share a lock; a scan of that CPU's sleepers and
//! at most one hypercall under it) and a mark on the one registered. The rule: **the
//! earliest deadline among a VCPU's sleepers is the one registered with Xen**, since it
//! is the next one due and Xen serves one at a time; a later one is queued
//! (`rt_deferred`), an earlier one replaces the registration (`rt_replaced`). When the
//! sleeper holding a CPU's registration leaves, it registers the next earliest deadline
//! of that CPU (`rt_reregistered`) or, if it was interrupted and none is left (or Xen
//! refuses the next), cancels (`rt_cancels`). After an on-time
//! wake nothing needs cancelling: Xen has consumed the deadline.
//!
//! A sleeper that may be registered is kept on its VCPU for the whole sleep with
//! `migrate_disable()` (see [`CpuPin`]), and its hrtimer is pinned to that CPU, so the
//! registration, the timer interrupt, the wake-up and the re-registration all happen on
//! the VCPU Xen runs at RT priority. `rt_accepted` counts the sleeps whose deadline was
//! registered with Xen (granted or degraded) when they ended; `fell_back` the others.
//!
//! # Unloading
//!
//! The device's `file_operations` name this module as owner ([`OwnedMiscRegistration`]),
//! so an open `/dev/rtsleep` (in particular a thread sleeping in the ioctl) holds the
//! module and `rmmod` fails with `EWOULDBLOCK` until the last file is closed.
//!
//! # Structure
//!
//! This file holds the logic (validation, policy, counters, the device). The kernel and
//! Xen primitives (hypercall, clock conversion, the hrtimer sleep) are in the C helper
//! `rtsleep_xen.c`, linked into the same module; the `unsafe` code here is the calls into
//! it, the byte-view impls of the ABI structs, and the misc device registration.

use core::marker::PhantomData;
use core::sync::atomic::{
    AtomicBool, AtomicI32, AtomicPtr, AtomicU32, AtomicU64,
    Ordering::{AcqRel, Acquire, Relaxed, Release},
};
use kernel::{
    bindings,
    error::to_result,
    fs::File,
    miscdevice::{MiscDevice, MiscDeviceOptions, MiscDeviceRegistration},
    new_mutex, pr_warn_once,
    prelude::*,
    sync::Mutex,
    transmute::{AsBytes, FromBytes},
    types::Opaque,
    uaccess::{UserPtr, UserSlice},
};

/// The ioctl ABI, shared with user space (`include!` cannot take it: it starts with `//!`).
#[allow(dead_code, missing_docs, unreachable_pub)]
#[path = "../abi/src/ioctl.rs"]
mod abi;

/// The hypercall ABI, shared with Xen's side (the same file the core uses).
#[allow(dead_code, missing_docs, unreachable_pub)]
#[path = "../abi/src/hypercall.rs"]
mod hypercall;

module! {
    type: RtSleepModule,
    name: "rtsleep",
    authors: ["RT-Credit"],
    description: "Deadline sleeps with RT-Credit's guest-declared RT wake-up (SCHEDOP_rtsleep)",
    license: "GPL",
}

/// Smallest lead (deadline minus now) for which we ask Xen for RT: none (Xen admits by
/// period, not by lead). Reported in `RTSLEEP_IOC_INFO`'s `min_lead_ns`.
const MIN_LEAD_NS: u64 = 0;
/// Largest lead for which we ask Xen for RT: the hypervisor's default maximum lead.
const MAX_LEAD_NS: u64 = hypercall::DEFAULT_MAX_LEAD_NS;
/// After Xen refused RT (`-EPERM`) or does not support it (`-ENOSYS`, `-EOPNOTSUPP`),
/// how long no hypercall is made; the next sleep then asks again. The same interval as
/// `rtsleep-lib`'s `refusal::REPROBE_INTERVAL`.
const REPROBE_NS: u64 = 1_000_000_000;
/// The hypercall's results and the errnos it can return, as `HYPERVISOR_sched_op`
/// returns them (negated).
const XEN_GRANTED: i32 = hypercall::RTSLEEP_GRANTED;
const XEN_DEGRADED: i32 = hypercall::RTSLEEP_DEGRADED;
const XEN_EPERM: i32 = -hypercall::errno::EPERM;
const XEN_ENOSYS: i32 = -hypercall::errno::ENOSYS;
const XEN_EOPNOTSUPP: i32 = -hypercall::errno::EOPNOTSUPP;

const _: () = assert!(core::mem::size_of::<abi::SleepArgs>() == 24);
const _: () = assert!(core::mem::size_of::<abi::DeviceInfo>() == 64);
const _: () = assert!(core::mem::size_of::<abi::DeviceInfoExt>() == 112);
const _: () = assert!(core::mem::size_of::<hypercall::SchedRtsleep>() == 16);

// SAFETY: `SleepArgs` is `#[repr(C)]` with integer fields only: every bit pattern is a
// valid value and it has no interior mutability.
unsafe impl FromBytes for abi::SleepArgs {}
// SAFETY: `#[repr(C)]`, integer fields only, no padding (8 + 4 + 4 + 8 = 24, checked
// above), so every byte of a value is initialised.
unsafe impl AsBytes for abi::SleepArgs {}
// SAFETY: `#[repr(C)]`, integer fields only, no padding (4 * 4 + 6 * 8 = 64, checked
// above), so every byte of a value is initialised.
unsafe impl AsBytes for abi::DeviceInfo {}
// SAFETY: `#[repr(C)]`, a `DeviceInfo` (no padding, see above) then integer fields only,
// no padding (64 + 4 + 4 + 5 * 8 = 112, checked above).
unsafe impl AsBytes for abi::DeviceInfoExt {}

/// The C helper (`rtsleep_xen.c`).
mod c {
    extern "C" {
        pub(super) fn rtsleep_c_on_xen() -> bool;
        pub(super) fn rtsleep_c_now_ns() -> u64;
        pub(super) fn rtsleep_c_mono_to_xen(cpu: u32, mono_deadline_ns: u64, xen_ns: *mut u64) -> i32;
        pub(super) fn rtsleep_c_sched_op(cpu: u32, cmd: u32, arg: *mut core::ffi::c_void, result: *mut i32) -> i32;
        pub(super) fn rtsleep_c_sleep_until(deadline_ns: i64, pinned: bool) -> i32;
        pub(super) fn rtsleep_c_pin_cpu() -> u32;
        pub(super) fn rtsleep_c_unpin_cpu();
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

/// Sleeps interruptibly until the absolute `CLOCK_MONOTONIC` time `deadline_ns`; with
/// `pin` the hrtimer fires on this CPU.
fn sleep_until(deadline_ns: i64, pin: Option<&CpuPin>) -> Result {
    // SAFETY: called from process context (an ioctl), where sleeping is allowed.
    match unsafe { c::rtsleep_c_sleep_until(deadline_ns, pin.is_some()) } {
        0 => Ok(()),
        _ => Err(EINTR),
    }
}

/// The calling task kept on its current CPU (`migrate_disable()`) until dropped.
///
/// Why this and not the alternatives that 7.2 exports to modules: `set_cpus_allowed_ptr()`
/// with the old mask restored afterwards would overwrite an affinity change made by
/// another thread (or a cpuset) during the sleep, and "re-register if it moves" cannot
/// work, because the CPU a sleeper is woken on is chosen at wake-up, after the moment
/// Xen must already know. `migrate_disable()` keeps the task's own mask: a concurrent
/// `sched_setaffinity()` is applied when the pin is dropped. Its cost: such a call that
/// excludes this CPU, and offlining this CPU, wait until the sleeper wakes. The pin is
/// taken only for sleeps that may be registered, whose lead is at most [`MAX_LEAD_NS`].
struct CpuPin {
    cpu: u32,
    /// Not `Send`: the pin must be dropped by the task that took it.
    _task: PhantomData<*mut ()>,
}

impl CpuPin {
    fn new() -> Self {
        // SAFETY: process context; balanced by `rtsleep_c_unpin_cpu` in `drop`, on the
        // same task (`CpuPin` is not `Send`).
        let cpu = unsafe { c::rtsleep_c_pin_cpu() };
        CpuPin { cpu, _task: PhantomData }
    }
}

impl Drop for CpuPin {
    fn drop(&mut self) {
        // SAFETY: pairs with the `rtsleep_c_pin_cpu` of `new`, on the same task.
        unsafe { c::rtsleep_c_unpin_cpu() }
    }
}

/// `SCHEDOP_rtsleep` for the pinned VCPU: `Some(result)` if the hypercall was made, `None`
/// if the deadline could not be converted to Xen time here. `deadline_ns` is
/// `CLOCK_MONOTONIC` (ignored for a cancel).
fn sched_rtsleep(pin: &CpuPin, deadline_ns: u64, flags: u32) -> Option<i32> {
    let mut arg = hypercall::SchedRtsleep { deadline_ns: 0, flags, pad: 0 };
    if flags & hypercall::RTSLEEP_FLAG_CANCEL == 0 {
        // SAFETY: `arg.deadline_ns` is a valid, writable `u64` for the duration of the
        // call; the task is pinned to `pin.cpu`, which the helper checks again with
        // preemption disabled.
        let ret = unsafe { c::rtsleep_c_mono_to_xen(pin.cpu, deadline_ns, &mut arg.deadline_ns) };
        if ret != 0 {
            return None;
        }
    }
    let mut result = 0i32;
    // SAFETY: `arg` is the `#[repr(C)]` argument SCHEDOP_rtsleep reads and `result` a
    // writable `i32`, both alive for the duration of the call; pinned as above.
    let ret = unsafe {
        c::rtsleep_c_sched_op(pin.cpu, hypercall::SCHEDOP_RTSLEEP, core::ptr::addr_of_mut!(arg).cast(), &mut result)
    };
    if ret == 0 {
        STATE.hypercalls.fetch_add(1, Relaxed);
    }
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
    hypercalls: AtomicU64,
    rt_deferred: AtomicU64,
    rt_replaced: AtomicU64,
    rt_reregistered: AtomicU64,
    rt_cancels: AtomicU64,
    /// While `rt_state` is a refusal: `CLOCK_MONOTONIC` ns before which Xen is not asked
    /// again ([`REPROBE_NS`]).
    refused_until_ns: AtomicU64,
}

static STATE: State = State {
    on_xen: AtomicBool::new(false),
    rt_state: AtomicU32::new(abi::RTSLEEP_RT_UNKNOWN),
    last_result: AtomicI32::new(0),
    requests: AtomicU64::new(0),
    rt_accepted: AtomicU64::new(0),
    fell_back: AtomicU64::new(0),
    interrupted: AtomicU64::new(0),
    hypercalls: AtomicU64::new(0),
    rt_deferred: AtomicU64::new(0),
    rt_replaced: AtomicU64::new(0),
    rt_reregistered: AtomicU64::new(0),
    rt_cancels: AtomicU64::new(0),
    refused_until_ns: AtomicU64::new(0),
};

/// A sleep whose deadline may be registered with Xen for its CPU.
#[derive(Clone, Copy)]
struct Pending {
    ticket: u64,
    deadline: u64,
    /// This deadline is the one registered for the CPU (at most one per CPU).
    registered: bool,
    /// It was registered until its deadline passed (Xen consumed it), and then another
    /// sleeper took the CPU's registration.
    served: bool,
}

/// One CPU's sleeps that may be registered. Only tasks pinned to that CPU (a [`CpuPin`])
/// touch it, so the lock is contended only by sleepers of the same VCPU, and the scans
/// are over that VCPU's sleepers.
struct CpuQueue {
    pending: KVec<Pending>,
    /// Identifies a sleep in `pending`.
    next_ticket: u64,
}

/// One [`CpuQueue`] per possible CPU id (`0..nr_cpu_ids`).
type CpuQueues = KVec<Pin<KBox<Mutex<CpuQueue>>>>;

/// The queues, set by module init before the device is registered and freed by
/// [`QueuesOwner`]'s drop after it is deregistered.
static QUEUES: AtomicPtr<CpuQueues> = AtomicPtr::new(core::ptr::null_mut());

/// The queue of `cpu`, or `None` if there is none (an id beyond `nr_cpu_ids` at load).
fn queue(cpu: u32) -> Option<&'static Mutex<CpuQueue>> {
    // SAFETY: a non-null `QUEUES` points to the `CpuQueues` that `QueuesOwner` owns. It is
    // freed only when the module is unloaded, after the device is deregistered; every
    // caller runs inside an ioctl on an open file, which holds a reference to this
    // module (see `OwnedMiscRegistration`), so the module cannot be unloaded meanwhile.
    let queues = unsafe { QUEUES.load(Acquire).as_ref() }?;
    queues.get(cpu as usize).map(|q| q.as_ref().get_ref())
}

/// Owns the allocation behind [`QUEUES`].
struct QueuesOwner;

impl QueuesOwner {
    fn new() -> Result<QueuesOwner> {
        let cpus = kernel::cpu::nr_cpu_ids() as usize;
        let mut queues = CpuQueues::with_capacity(cpus, GFP_KERNEL)?;
        for _ in 0..cpus {
            let queue = KBox::pin_init(new_mutex!(CpuQueue { pending: KVec::new(), next_ticket: 0 }), GFP_KERNEL)?;
            queues.push(queue, GFP_KERNEL)?;
        }
        QUEUES.store(KBox::into_raw(KBox::new(queues, GFP_KERNEL)?), Release);
        Ok(QueuesOwner)
    }
}

impl Drop for QueuesOwner {
    fn drop(&mut self) {
        let queues = QUEUES.swap(core::ptr::null_mut(), AcqRel);
        if !queues.is_null() {
            // SAFETY: `queues` came from `KBox::into_raw` in `new`, and the swap took it
            // out of `QUEUES`, so it is freed once; no ioctl runs any more (see `queue`).
            drop(unsafe { KBox::from_raw(queues) });
        }
    }
}

/// The absolute `CLOCK_MONOTONIC` deadline of a request made at `now`, or `EINVAL`
/// (the decoding is `abi::absolute_deadline`, shared with the host's tests and fuzzers).
fn absolute_deadline(args: &abi::SleepArgs, now: u64) -> Result<u64> {
    abi::absolute_deadline(args, now).ok_or(EINVAL)
}

/// Whether Xen's last answer was a refusal (`rt_state` EPERM or EOPNOTSUPP).
fn refused() -> bool {
    matches!(STATE.rt_state.load(Relaxed), abi::RTSLEEP_RT_EPERM | abi::RTSLEEP_RT_EOPNOTSUPP)
}

/// Whether a deadline `lead` ns ahead, asked for at `now`, may get an RT registration:
/// on Xen, in the lead window, and not during a refusal's back-off ([`REPROBE_NS`]).
fn rt_possible(lead: u64, now: u64) -> bool {
    STATE.on_xen.load(Relaxed)
        && (MIN_LEAD_NS..=MAX_LEAD_NS).contains(&lead)
        && !(refused() && now < STATE.refused_until_ns.load(Relaxed))
}

/// Asks Xen for an RT wake-up of the pinned VCPU at `deadline` when that can work; true
/// if it accepted (granted or degraded). Xen keeps its previous deadline on any refusal.
fn request_rt(pin: &CpuPin, deadline: u64, now: u64) -> bool {
    if !rt_possible(deadline.saturating_sub(now), now) {
        return false;
    }
    let Some(result) = sched_rtsleep(pin, deadline, 0) else {
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
    if !accepted {
        STATE.refused_until_ns.store(now_ns().saturating_add(REPROBE_NS), Relaxed);
    }
    STATE.rt_state.store(state, Relaxed);
    accepted
}

/// Enters a sleep until `deadline` into the pinned CPU's queue and registers it if it is
/// the CPU's earliest. Returns its ticket, or `None` if there was no memory for the
/// entry or no queue for the CPU (the sleep then falls back).
fn enter(pin: &CpuPin, deadline: u64, now: u64) -> Option<u64> {
    let mut queue = queue(pin.cpu)?.lock();
    let ticket = queue.next_ticket;
    queue.next_ticket += 1;
    let pending = &mut queue.pending;
    let holder = pending.iter().position(|p| p.registered);
    let entry = Pending { ticket, deadline, registered: false, served: false };
    pending.push(entry, GFP_KERNEL).ok()?;
    // A registered deadline that has passed belongs to a sleeper that is waking up: Xen
    // has consumed it, so it does not count as earlier.
    let earlier = holder.filter(|&i| pending[i].deadline <= deadline && pending[i].deadline > now);
    if earlier.is_some() {
        STATE.rt_deferred.fetch_add(1, Relaxed);
    } else if request_rt(pin, deadline, now) {
        if let Some(i) = holder {
            pending[i].registered = false;
            if pending[i].deadline > now {
                STATE.rt_replaced.fetch_add(1, Relaxed);
            } else {
                pending[i].served = true;
            }
        }
        let last = pending.len() - 1;
        pending[last].registered = true;
    }
    Some(ticket)
}

/// Removes the sleep `ticket` from its CPU's queue; if it held the CPU's registration, hands
/// the registration to the CPU's next earliest deadline, or cancels it if the sleep was
/// `interrupted` and no other can take it. True if the sleep's deadline was registered
/// when it ended, or until Xen consumed it.
fn leave(pin: &CpuPin, ticket: u64, interrupted: bool) -> bool {
    let Some(queue) = queue(pin.cpu) else {
        return false;
    };
    let mut queue = queue.lock();
    let pending = &mut queue.pending;
    let Some(i) = pending.iter().position(|p| p.ticket == ticket) else {
        return false;
    };
    let Ok(me) = pending.remove(i) else {
        return false;
    };
    if !me.registered {
        return me.served;
    }
    let now = now_ns();
    let next = pending
        .iter()
        .enumerate()
        .filter(|(_, p)| p.deadline > now)
        .min_by_key(|(_, p)| p.deadline)
        .map(|(j, p)| (j, p.deadline));
    if let Some((j, deadline)) = next {
        if request_rt(pin, deadline, now) {
            pending[j].registered = true;
            STATE.rt_reregistered.fetch_add(1, Relaxed);
            return true;
        }
    }
    // Nothing took over. After an on-time wake-up Xen has consumed our deadline; after a
    // signal it is still pending and must go.
    if interrupted {
        if let Some(result) = sched_rtsleep(pin, 0, hypercall::RTSLEEP_FLAG_CANCEL) {
            STATE.last_result.store(result, Relaxed);
            STATE.rt_cancels.fetch_add(1, Relaxed);
        }
    }
    true
}

/// `RTSLEEP_IOC_SLEEP` after copy-in; on `EINTR`, `args.remaining_ns` is set.
fn sleep(args: &mut abi::SleepArgs) -> Result {
    let now = now_ns();
    let deadline = absolute_deadline(args, now)?;
    if deadline <= now {
        return Ok(());
    }
    // `deadline` fits in `i64`: `absolute_deadline` clamps it to `i64::MAX`.
    let (ret, rt) = if rt_possible(deadline - now, now) {
        let pin = CpuPin::new();
        match enter(&pin, deadline, now) {
            Some(ticket) => {
                let ret = sleep_until(deadline as i64, Some(&pin));
                (ret, leave(&pin, ticket, ret.is_err()))
            }
            None => (sleep_until(deadline as i64, None), false),
        }
    } else {
        (sleep_until(deadline as i64, None), false)
    };
    let counter = if rt { &STATE.rt_accepted } else { &STATE.fell_back };
    counter.fetch_add(1, Relaxed);
    if ret.is_err() {
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

fn info_ext() -> abi::DeviceInfoExt {
    abi::DeviceInfoExt {
        info: info(),
        size: 0,
        reserved: 0,
        hypercalls: STATE.hypercalls.load(Relaxed),
        rt_deferred: STATE.rt_deferred.load(Relaxed),
        rt_replaced: STATE.rt_replaced.load(Relaxed),
        rt_reregistered: STATE.rt_reregistered.load(Relaxed),
        rt_cancels: STATE.rt_cancels.load(Relaxed),
    }
}

/// A misc device registration whose `file_operations` name this module as owner.
///
/// 7.2's `MiscDeviceRegistration` builds the operations with `owner` NULL, so an open
/// `/dev/rtsleep` does not hold the module: `rmmod` then succeeds while a thread sleeps
/// in the ioctl, and the thread later returns into freed module text. This is the same
/// registration (`MiscDeviceOptions::into_raw`, `misc_register`) with a copy of those
/// operations that has `owner` set: `misc_open` takes a module reference (`fops_get`)
/// and the last `fput` drops it after `release` has returned.
#[pin_data(PinnedDrop)]
struct OwnedMiscRegistration {
    #[pin]
    fops: Opaque<bindings::file_operations>,
    #[pin]
    misc: Opaque<bindings::miscdevice>,
}

// SAFETY: `misc_register`/`misc_deregister` may be called from any thread, and nothing
// reads or writes the two C structs through `&self` after registration (the kernel reads
// them under its own locking).
unsafe impl Send for OwnedMiscRegistration {}
// SAFETY: see `Send`; `OwnedMiscRegistration` has no `&self` methods.
unsafe impl Sync for OwnedMiscRegistration {}

impl OwnedMiscRegistration {
    fn register<T: MiscDevice>(opts: MiscDeviceOptions, module: &'static ThisModule) -> impl PinInit<Self, Error> {
        try_pin_init!(&this in Self {
            fops <- Opaque::ffi_init(move |slot: *mut bindings::file_operations| {
                let vtable = opts.into_raw::<T>().fops;
                // SAFETY: `slot` is valid for writing a `file_operations`; `vtable` points
                // to the kernel crate's `'static` operations for `T` (built by `into_raw`).
                unsafe { slot.write(bindings::file_operations { owner: module.as_ptr(), ..*vtable }) };
            }),
            misc <- Opaque::try_ffi_init(move |slot: *mut bindings::miscdevice| {
                let mut raw = opts.into_raw::<T>();
                // `fops` is initialised (fields are initialised in order) and pinned with
                // `self`; `misc` is deregistered in `drop` before either goes away.
                // SAFETY: `this` points to the `Self` being initialised.
                raw.fops = Opaque::cast_into(unsafe { core::ptr::addr_of!((*this.as_ptr()).fops) });
                // SAFETY: `slot` is valid for writing a `miscdevice`.
                unsafe { slot.write(raw) };
                // SAFETY: `slot` holds a complete `miscdevice`, pinned until `drop`. The
                // operations' `open` (the kernel crate's) reads `private_data` as a
                // `MiscDeviceRegistration<T>`, a `#[repr(transparent)]` wrapper of this
                // same `miscdevice`; `RtSleepDevice::open` does not use it anyway.
                to_result(unsafe { bindings::misc_register(slot) })
            }),
        })
    }
}

#[pinned_drop]
impl PinnedDrop for OwnedMiscRegistration {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: `misc` was registered by `register` (a failed init never builds `Self`).
        unsafe { bindings::misc_deregister(self.misc.get()) };
    }
}

/// Fields drop in declaration order: the device is deregistered before the queues go.
#[pin_data]
struct RtSleepModule {
    #[pin]
    _miscdev: OwnedMiscRegistration,
    _queues: QueuesOwner,
}

impl kernel::InPlaceModule for RtSleepModule {
    fn init(module: &'static ThisModule) -> impl PinInit<Self, Error> {
        let xen = on_xen();
        STATE.on_xen.store(xen, Relaxed);
        if !xen {
            STATE.rt_state.store(abi::RTSLEEP_RT_NOT_XEN, Relaxed);
        }
        pr_info!("/dev/rtsleep, ABI {}, on_xen={}\n", abi::RTSLEEP_ABI_VERSION, xen);
        // The queues exist before the device, the only way to reach them, is registered.
        try_pin_init!(Self {
            _queues: QueuesOwner::new()?,
            _miscdev <- OwnedMiscRegistration::register::<RtSleepDevice>(MiscDeviceOptions { name: c"rtsleep" }, module),
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
            _ => {
                let size = abi::info_request_size(cmd).ok_or(ENOTTY)?;
                let mut ext = info_ext();
                let n = size.min(core::mem::size_of::<abi::DeviceInfoExt>());
                ext.size = n as u32;
                let bytes = ext.as_bytes();
                UserSlice::new(ptr, n).writer().write_slice(&bytes[..n])?;
                Ok(0)
            }
        }
    }
}
