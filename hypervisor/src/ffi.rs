//! The C ABI: what Xen's shim calls. `include/rtcredit.h` is generated from this file
//! (and `abi`, `params`, `sched`, `rt`, `acct`) by cbindgen; a test fails when the
//! committed header is stale.
//!
//! The host allocates the storage (`struct rtcredit_unit` etc., sizes fixed in the header),
//! zeroed or not, and initialises it with the matching `*_init` call before any other
//! use. Every function checks its pointers for null and returns a negative
//! `RtcError` code (`-code`; `rtcredit_errno()` maps it to an errno) instead of panicking.
//!
//! Locks (see the crate docs): functions taking a `rtcredit_cpu` need that CPU's schedule
//! lock; functions taking a `rtcredit_acct` need the private lock; functions taking both
//! need both, the private lock taken first. `rtcredit_shared` needs no lock.
//!
//! **The wrapper rule**, which the `SAFETY` comments below refer to: every pointer a
//! function takes is null (the helpers `shared`, `acct`, `cpu`, `unit` and `write`
//! refuse null) or storage its `*_init` initialised, and the caller holds the locks the
//! function's docs name; so each reference made from those pointers is the only live
//! one to its object for the call. Where two `Cpu`s are involved, the comment also says
//! why they are distinct.

use core::ffi::c_void;
use core::mem::{align_of, size_of};
use core::ptr;

use crate::abi::{
    RtcError, SchedRtsleep, XenDomctlSchedRtcredit, XenSysctlRtcreditSchedule, DOMCTL_PRIO_BOOST, DOMCTL_PRIO_OVER,
    DOMCTL_PRIO_RT, DOMCTL_PRIO_UNDER,
};
use crate::acct::{domain_counters, DomainCounters, DomainParams};
use crate::cpumask::CpuMask;
use crate::params::Params;
use crate::prio::Prio;
use crate::rt::budget::RtCapacity;
use crate::rt::RtsleepOutcome;
use crate::sched::{Decision, ScheduleBegin};
use crate::state::{Accounting, Cpu, Domain, Shared, TraceHook, Unit, RELAXED};

/// Storage for one unit, in 8-byte words.
pub const RTCREDIT_UNIT_WORDS: usize = 40;
/// Storage for one domain, in 8-byte words.
pub const RTCREDIT_DOM_WORDS: usize = 24;
/// Storage for one CPU, in 8-byte words.
pub const RTCREDIT_CPU_WORDS: usize = 32;
/// Storage for the accounting state, in 8-byte words.
pub const RTCREDIT_ACCT_WORDS: usize = 16;
/// Storage for the shared state, in 8-byte words.
pub const RTCREDIT_SHARED_WORDS: usize = 128;

/// Storage for a unit (`rtcredit_unit_init`). Opaque to C.
#[repr(C)]
#[derive(Debug)]
pub struct rtcredit_unit {
    pub opaque: [u64; RTCREDIT_UNIT_WORDS],
}
/// Storage for a domain (`rtcredit_dom_init`). Opaque to C.
#[repr(C)]
#[derive(Debug)]
pub struct rtcredit_dom {
    pub opaque: [u64; RTCREDIT_DOM_WORDS],
}
/// Storage for a CPU (`rtcredit_cpu_init`). Opaque to C.
#[repr(C)]
#[derive(Debug)]
pub struct rtcredit_cpu {
    pub opaque: [u64; RTCREDIT_CPU_WORDS],
}
/// Storage for the accounting state (`rtcredit_init`). Opaque to C.
#[repr(C)]
#[derive(Debug)]
pub struct rtcredit_acct {
    pub opaque: [u64; RTCREDIT_ACCT_WORDS],
}
/// Storage for the shared state (`rtcredit_init`). Opaque to C.
#[repr(C)]
#[derive(Debug)]
pub struct rtcredit_shared {
    pub opaque: [u64; RTCREDIT_SHARED_WORDS],
}

// The storage must hold the real objects; the host allocates it with 8-byte alignment.
const _: () = assert!(size_of::<Unit>() <= size_of::<rtcredit_unit>() && align_of::<Unit>() <= 8);
const _: () = assert!(size_of::<Domain>() <= size_of::<rtcredit_dom>() && align_of::<Domain>() <= 8);
const _: () = assert!(size_of::<Cpu>() <= size_of::<rtcredit_cpu>() && align_of::<Cpu>() <= 8);
const _: () = assert!(size_of::<Accounting>() <= size_of::<rtcredit_acct>() && align_of::<Accounting>() <= 8);
const _: () = assert!(size_of::<Shared>() <= size_of::<rtcredit_shared>() && align_of::<Shared>() <= 8);

/// What a dump (Xen's debug key 'r') prints for a unit.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct rtcredit_unit_info {
    pub cpu: u32,
    /// A `Prio` value.
    pub prio: u8,
    pub running: bool,
    pub queued: bool,
    pub runnable: bool,
    pub parked: bool,
    pub active: bool,
    pub credit: i32,
    /// Registered RT deadline, 0 for none.
    pub rt_deadline_ns: u64,
    /// Nanoseconds run at OVER, UNDER, BOOST, RT.
    pub over_ns: u64,
    pub under_ns: u64,
    pub boost_ns: u64,
    pub rt_ns: u64,
    pub runs: u64,
    pub boosts: u64,
    pub rt_fires: u64,
}

/// What a dump prints for a CPU.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct rtcredit_cpu_info {
    pub id: u32,
    pub online: bool,
    /// Units waiting at RT, BOOST, UNDER, OVER.
    pub queued: [u32; 4],
    pub resident: u32,
    /// The running unit's host pointer, null when idle.
    pub current_host: *mut c_void,
}

macro_rules! try_c {
    ($expr:expr) => {
        match $expr {
            Ok(value) => value,
            Err(error) => return RtcError::to_c(error),
        }
    };
}

fn nonnull<T>(pointer: *mut T) -> Result<*mut T, RtcError> {
    if pointer.is_null() {
        Err(RtcError::NullPointer)
    } else {
        Ok(pointer)
    }
}

/// # Safety
/// Null or storage initialised by `rtcredit_init`.
unsafe fn shared<'a>(pointer: *const rtcredit_shared) -> Result<&'a Shared, RtcError> {
    // SAFETY: null (`as_ref` gives `None`) or a `Shared` written by `rtcredit_init` into
    // storage that fits it (the const asserts above); `Shared` is atomics and a trace
    // hook written once at initialisation, so a shared reference needs no lock.
    unsafe { (pointer as *const Shared).as_ref().ok_or(RtcError::NullPointer) }
}
/// # Safety
/// Null or storage initialised by `rtcredit_init`, private lock held.
unsafe fn acct<'a>(pointer: *mut rtcredit_acct) -> Result<&'a mut Accounting, RtcError> {
    // SAFETY: null or an `Accounting` written by `rtcredit_init`; the caller holds the
    // private lock, so this is the only reference while it lives.
    unsafe { (pointer as *mut Accounting).as_mut().ok_or(RtcError::NullPointer) }
}
/// # Safety
/// Null or storage initialised by `rtcredit_cpu_init`, its lock held.
unsafe fn cpu<'a>(pointer: *mut rtcredit_cpu) -> Result<&'a mut Cpu, RtcError> {
    // SAFETY: null or a `Cpu` written by `rtcredit_cpu_init`; the caller holds that CPU's
    // schedule lock, so this is the only reference while it lives.
    unsafe { (pointer as *mut Cpu).as_mut().ok_or(RtcError::NullPointer) }
}
fn unit(pointer: *mut rtcredit_unit) -> Result<*mut Unit, RtcError> {
    nonnull(pointer as *mut Unit)
}
fn write<T>(out: *mut T, value: T) -> Result<(), RtcError> {
    let out = nonnull(out)?;
    // SAFETY: non-null; the caller passes writable storage for a `T`.
    unsafe { out.write(value) };
    Ok(())
}

/// Initialises the shared and accounting state with `params` (validated) and the
/// trace hook (`trace` may be null). Nothing is written on error.
///
/// # Safety
/// Pointers are null or valid storage of their type.
#[no_mangle]
pub unsafe extern "C" fn rtcredit_init(
    shared_out: *mut rtcredit_shared,
    acct_out: *mut rtcredit_acct,
    params: *const Params,
    trace: Option<unsafe extern "C" fn(ctx: *mut c_void, event: u32, data: *const u32, len: u32)>,
    trace_ctx: *mut c_void,
) -> i32 {
    let shared_out = try_c!(nonnull(shared_out));
    let acct_out = try_c!(nonnull(acct_out));
    // SAFETY: null or a valid `Params`.
    let params = try_c!(unsafe { params.as_ref() }.ok_or(RtcError::NullPointer));
    let accounting = try_c!(Accounting::new(*params));
    // SAFETY: valid storage of sufficient size and alignment (const asserts above).
    unsafe {
        (acct_out as *mut Accounting).write(accounting);
        (shared_out as *mut Shared).write(Shared::new(params, TraceHook { func: trace, ctx: trace_ctx }));
    }
    0
}

/// Initialises a CPU's storage (offline until `rtcredit_cpu_add`).
///
/// # Safety
/// `out` is null or valid storage.
#[no_mangle]
pub unsafe extern "C" fn rtcredit_cpu_init(out: *mut rtcredit_cpu, id: u32) -> i32 {
    try_c!(write(out as *mut Cpu, Cpu::new(id)));
    0
}

/// Brings a CPU online. Private lock.
///
/// # Safety
/// Pointers are null or initialised storage.
#[no_mangle]
pub unsafe extern "C" fn rtcredit_cpu_add(
    shared_ptr: *const rtcredit_shared,
    acct_ptr: *mut rtcredit_acct,
    cpu_ptr: *mut rtcredit_cpu,
) -> i32 {
    // SAFETY: the wrapper rule (module docs); the caller holds the private lock (the CPU
    // is not online yet: no schedule path uses it).
    unsafe {
        let shared = try_c!(shared(shared_ptr));
        try_c!(try_c!(acct(acct_ptr)).add_cpu(shared, try_c!(cpu(cpu_ptr))));
    }
    0
}

/// Takes an empty CPU offline. Private lock, then the CPU's lock.
///
/// # Safety
/// Pointers are null or initialised storage.
#[no_mangle]
pub unsafe extern "C" fn rtcredit_cpu_remove(
    shared_ptr: *const rtcredit_shared,
    acct_ptr: *mut rtcredit_acct,
    cpu_ptr: *mut rtcredit_cpu,
) -> i32 {
    // SAFETY: the wrapper rule (module docs); the caller holds the private lock and then
    // the CPU's lock.
    unsafe {
        let shared = try_c!(shared(shared_ptr));
        try_c!(try_c!(acct(acct_ptr)).remove_cpu(shared, try_c!(cpu(cpu_ptr))));
    }
    0
}

/// Initialises a domain's storage: weight 256, no cap, RT not allowed.
///
/// # Safety
/// `out` is null or valid storage.
#[no_mangle]
pub unsafe extern "C" fn rtcredit_dom_init(out: *mut rtcredit_dom, domid: u32) -> i32 {
    try_c!(write(out as *mut Domain, Domain::new(domid)));
    0
}

/// 0 if the domain's storage may be freed, `-DomainBusy` if it still has units.
/// Private lock.
///
/// # Safety
/// Pointers are null or initialised storage.
#[no_mangle]
pub unsafe extern "C" fn rtcredit_dom_removable(acct_ptr: *mut rtcredit_acct, dom: *const rtcredit_dom) -> i32 {
    // SAFETY: `dom` is null or a `Domain` written by `rtcredit_dom_init`, read only; the
    // caller holds the private lock, which `acct` needs.
    unsafe {
        let domain = try_c!((dom as *const Domain).as_ref().ok_or(RtcError::NullPointer));
        try_c!(try_c!(acct(acct_ptr)).domain_removable(domain));
    }
    0
}

/// Initialises a unit's storage: a VCPU of `dom`, blocked, resident nowhere.
///
/// # Safety
/// `out` is null or valid storage; `dom` is null or an initialised domain that
/// outlives the unit.
#[no_mangle]
pub unsafe extern "C" fn rtcredit_unit_init(
    out: *mut rtcredit_unit,
    dom: *mut rtcredit_dom,
    unit_id: u32,
    host: *mut c_void,
) -> i32 {
    let domain = try_c!(nonnull(dom as *mut Domain));
    try_c!(write(out as *mut Unit, Unit::new(domain, unit_id, host)));
    0
}

/// Makes a unit resident on `cpu` (Xen's `insert_unit`). CPU lock.
///
/// # Safety
/// Pointers are null or initialised storage; `tickle` is null or writable.
#[no_mangle]
pub unsafe extern "C" fn rtcredit_unit_insert(
    shared_ptr: *const rtcredit_shared,
    cpu_ptr: *mut rtcredit_cpu,
    unit_ptr: *mut rtcredit_unit,
    runnable: bool,
    now: u64,
    tickle: *mut CpuMask,
) -> i32 {
    // SAFETY: the wrapper rule (module docs); the caller holds the CPU's lock (the unit
    // is resident nowhere yet).
    unsafe {
        let mask =
            try_c!(try_c!(cpu(cpu_ptr)).insert_unit(try_c!(shared(shared_ptr)), try_c!(unit(unit_ptr)), runnable, now));
        try_c!(write(tickle, mask));
    }
    0
}

/// Forgets a unit that is not running (Xen's `remove_unit`). Private lock, then CPU lock.
///
/// # Safety
/// Pointers are null or initialised storage.
#[no_mangle]
pub unsafe extern "C" fn rtcredit_unit_remove(
    shared_ptr: *const rtcredit_shared,
    acct_ptr: *mut rtcredit_acct,
    cpu_ptr: *mut rtcredit_cpu,
    unit_ptr: *mut rtcredit_unit,
) -> i32 {
    // SAFETY: the wrapper rule (module docs); the caller holds the private lock and then
    // the CPU's lock.
    unsafe {
        let shared = try_c!(shared(shared_ptr));
        try_c!(try_c!(acct(acct_ptr)).remove_unit(shared, try_c!(cpu(cpu_ptr)), try_c!(unit(unit_ptr))));
    }
    0
}

/// The unit became runnable. CPU lock. Writes the CPUs to tickle.
///
/// # Safety
/// Pointers are null or initialised storage.
#[no_mangle]
pub unsafe extern "C" fn rtcredit_wake(
    shared_ptr: *const rtcredit_shared,
    cpu_ptr: *mut rtcredit_cpu,
    unit_ptr: *mut rtcredit_unit,
    now: u64,
    tickle: *mut CpuMask,
) -> i32 {
    // SAFETY: the wrapper rule (module docs); the caller holds the unit's CPU's lock.
    unsafe {
        let mask = try_c!(try_c!(cpu(cpu_ptr)).wake(try_c!(shared(shared_ptr)), try_c!(unit(unit_ptr)), now));
        try_c!(write(tickle, mask));
    }
    0
}

/// The unit is no longer runnable. CPU lock. Writes the CPUs to tickle.
///
/// # Safety
/// Pointers are null or initialised storage.
#[no_mangle]
pub unsafe extern "C" fn rtcredit_sleep(
    shared_ptr: *const rtcredit_shared,
    cpu_ptr: *mut rtcredit_cpu,
    unit_ptr: *mut rtcredit_unit,
    tickle: *mut CpuMask,
) -> i32 {
    // SAFETY: the wrapper rule (module docs); the caller holds the unit's CPU's lock.
    unsafe {
        let mask = try_c!(try_c!(cpu(cpu_ptr)).sleep(try_c!(shared(shared_ptr)), try_c!(unit(unit_ptr))));
        try_c!(write(tickle, mask));
    }
    0
}

/// The running unit yields. CPU lock.
///
/// # Safety
/// Pointers are null or initialised storage.
#[no_mangle]
pub unsafe extern "C" fn rtcredit_yield(cpu_ptr: *mut rtcredit_cpu, unit_ptr: *mut rtcredit_unit) -> i32 {
    // SAFETY: the wrapper rule (module docs); the caller holds the CPU's lock.
    unsafe {
        try_c!(try_c!(cpu(cpu_ptr)).yield_unit(try_c!(unit(unit_ptr))));
    }
    0
}

/// The host finished switching the unit out (Xen's `context_saved`). CPU lock.
///
/// # Safety
/// Pointers are null or initialised storage.
#[no_mangle]
pub unsafe extern "C" fn rtcredit_context_saved(cpu_ptr: *mut rtcredit_cpu, unit_ptr: *mut rtcredit_unit) -> i32 {
    // SAFETY: the wrapper rule (module docs); the caller holds the CPU's lock.
    unsafe {
        try_c!(try_c!(cpu(cpu_ptr)).context_saved(try_c!(unit(unit_ptr))));
    }
    0
}

/// First half of a scheduling pass. CPU lock (held until `rtcredit_schedule_finish`).
///
/// # Safety
/// Pointers are null or initialised storage.
#[no_mangle]
pub unsafe extern "C" fn rtcredit_schedule_begin(
    shared_ptr: *const rtcredit_shared,
    cpu_ptr: *mut rtcredit_cpu,
    now: u64,
    force_idle: bool,
    out: *mut ScheduleBegin,
) -> i32 {
    let out = try_c!(nonnull(out));
    // SAFETY: the wrapper rule (module docs); the caller holds the CPU's lock, until
    // `rtcredit_schedule_finish`.
    unsafe {
        let begin = try_c!(cpu(cpu_ptr)).schedule_begin(try_c!(shared(shared_ptr)), now, force_idle);
        out.write(begin);
    }
    0
}

/// Steals a unit above `min_prio` from `peer` (its lock taken with try-lock).
/// Returns the stolen unit's storage, or null.
///
/// # Safety
/// Pointers are null or initialised storage.
#[no_mangle]
pub unsafe extern "C" fn rtcredit_steal(
    shared_ptr: *const rtcredit_shared,
    cpu_ptr: *mut rtcredit_cpu,
    peer_ptr: *mut rtcredit_cpu,
    min_prio: u8,
) -> *mut rtcredit_unit {
    if cpu_ptr == peer_ptr {
        return ptr::null_mut();
    }
    let Some(min_prio) = Prio::from_u8(min_prio) else {
        return ptr::null_mut();
    };
    // SAFETY: the pointers are null (each helper refuses null) or initialised storage;
    // the caller holds this CPU's lock and took the peer's with a try-lock, and the two
    // CPUs are distinct (checked above), so the two `&mut Cpu` do not alias.
    unsafe {
        match (shared(shared_ptr), cpu(cpu_ptr), cpu(peer_ptr)) {
            (Ok(shared), Ok(local), Ok(peer)) => local.steal_from(shared, peer, min_prio) as *mut rtcredit_unit,
            _ => ptr::null_mut(),
        }
    }
}

/// Second half of a scheduling pass: `stolen` is what `rtcredit_steal` returned, or null.
///
/// # Safety
/// Pointers are null or initialised storage.
#[no_mangle]
pub unsafe extern "C" fn rtcredit_schedule_finish(
    shared_ptr: *const rtcredit_shared,
    cpu_ptr: *mut rtcredit_cpu,
    stolen: *mut rtcredit_unit,
    now: u64,
    out: *mut Decision,
) -> i32 {
    let out = try_c!(nonnull(out));
    // SAFETY: the wrapper rule (module docs); the caller holds the CPU's lock since
    // `rtcredit_schedule_begin`.
    unsafe {
        let decision = try_c!(cpu(cpu_ptr)).schedule_finish(try_c!(shared(shared_ptr)), stolen as *mut Unit, now);
        out.write(decision);
    }
    0
}

/// The CPU's tick. Private lock, then CPU lock. Writes the next tick time (0: stop).
///
/// # Safety
/// Pointers are null or initialised storage.
#[no_mangle]
pub unsafe extern "C" fn rtcredit_tick(
    shared_ptr: *const rtcredit_shared,
    acct_ptr: *mut rtcredit_acct,
    cpu_ptr: *mut rtcredit_cpu,
    now: u64,
    next_ns: *mut u64,
) -> i32 {
    // SAFETY: the wrapper rule (module docs); the caller holds the private lock and then
    // the CPU's lock.
    unsafe {
        let shared = try_c!(shared(shared_ptr));
        let next = try_c!(acct(acct_ptr)).tick(shared, try_c!(cpu(cpu_ptr)), now);
        try_c!(write(next_ns, next.unwrap_or(0)));
    }
    0
}

/// Accounting, phase one. Private lock (held until `rtcredit_account_end`).
///
/// # Safety
/// Pointers are null or initialised storage.
#[no_mangle]
pub unsafe extern "C" fn rtcredit_account_begin(
    shared_ptr: *const rtcredit_shared,
    acct_ptr: *mut rtcredit_acct,
) -> i32 {
    // SAFETY: the wrapper rule (module docs); the caller holds the private lock, until
    // `rtcredit_account_end`.
    unsafe {
        try_c!(acct(acct_ptr)).account_begin(try_c!(shared(shared_ptr)));
    }
    0
}

/// Accounting, phase two, for one CPU (call for every online CPU). Private lock, then
/// the CPU's lock. Writes the CPUs to tickle.
///
/// # Safety
/// Pointers are null or initialised storage.
#[no_mangle]
pub unsafe extern "C" fn rtcredit_account_cpu(
    shared_ptr: *const rtcredit_shared,
    acct_ptr: *mut rtcredit_acct,
    cpu_ptr: *mut rtcredit_cpu,
    now: u64,
    tickle: *mut CpuMask,
) -> i32 {
    // SAFETY: the wrapper rule (module docs); the caller holds the private lock and then
    // this CPU's lock.
    unsafe {
        let shared = try_c!(shared(shared_ptr));
        let mask = try_c!(acct(acct_ptr)).account_cpu(shared, try_c!(cpu(cpu_ptr)), now);
        try_c!(write(tickle, mask));
    }
    0
}

/// Accounting, phase three. Private lock. Writes when the next period is due.
///
/// # Safety
/// Pointers are null or initialised storage.
#[no_mangle]
pub unsafe extern "C" fn rtcredit_account_end(
    shared_ptr: *const rtcredit_shared,
    acct_ptr: *mut rtcredit_acct,
    now: u64,
    next_ns: *mut u64,
) -> i32 {
    // SAFETY: the wrapper rule (module docs); the caller holds the private lock.
    unsafe {
        let next = try_c!(acct(acct_ptr)).account_end(try_c!(shared(shared_ptr)), now);
        try_c!(write(next_ns, next));
    }
    0
}

/// `SCHEDOP_rtsleep` from the unit running on `cpu`. CPU lock. On success writes the
/// outcome (hypercall result, timer to arm) and returns 0; on refusal returns `-code`
/// and still writes the outcome, with the hypercall's `-errno` as `result`, `arm_at_ns`
/// 0 (the unit's timer stays as it was) and `reschedule` set if the call ended the
/// caller's RT: the host runs that pass either way.
///
/// # Safety
/// Pointers are null or initialised storage; `args` was copied from the guest.
#[no_mangle]
pub unsafe extern "C" fn rtcredit_rtsleep(
    shared_ptr: *const rtcredit_shared,
    cpu_ptr: *mut rtcredit_cpu,
    unit_ptr: *mut rtcredit_unit,
    args: *const SchedRtsleep,
    now: u64,
    out: *mut RtsleepOutcome,
) -> i32 {
    // SAFETY: the wrapper rule (module docs); the caller holds the lock of the CPU the
    // unit runs on.
    unsafe {
        let args = try_c!(args.as_ref().ok_or(RtcError::NullPointer));
        let out = try_c!(nonnull(out));
        match try_c!(cpu(cpu_ptr)).rtsleep(try_c!(shared(shared_ptr)), try_c!(unit(unit_ptr)), args, now) {
            Ok(outcome) => out.write(outcome),
            Err(refused) => {
                let result = -refused.error.errno();
                out.write(RtsleepOutcome { result, reschedule: refused.reschedule, arm_at_ns: 0 });
                return refused.error.to_c();
            }
        }
    }
    0
}

/// The unit's RT timer fired. CPU lock. Writes the CPUs to tickle and `rearm_at_ns`:
/// when to arm the unit's RT timer again (0: leave it stopped), as
/// [`rtcredit_rt_timer_at`] would say. A timer that came early or for a deadline no
/// longer registered returns `-STALE_TIMER` and still writes `rearm_at_ns`.
///
/// # Safety
/// Pointers are null or initialised storage.
#[no_mangle]
pub unsafe extern "C" fn rtcredit_rt_fire(
    shared_ptr: *const rtcredit_shared,
    cpu_ptr: *mut rtcredit_cpu,
    unit_ptr: *mut rtcredit_unit,
    now: u64,
    tickle: *mut CpuMask,
    rearm_at_ns: *mut u64,
) -> i32 {
    // SAFETY: the wrapper rule (module docs); the caller holds the unit's CPU's lock.
    unsafe {
        let unit_ptr = try_c!(unit(unit_ptr));
        let fired = try_c!(cpu(cpu_ptr)).rt_fire(try_c!(shared(shared_ptr)), unit_ptr, now);
        try_c!(write(rearm_at_ns, Cpu::rt_timer_at_ns(&*unit_ptr)));
        try_c!(write(tickle, try_c!(fired)));
    }
    0
}

/// When the unit's RT timer should be armed now (0: stopped): its registered deadline
/// while it is runnable, none while it sleeps (its wake serves the deadline; see
/// `rtcredit::rt`). The host re-reads it after `rtcredit_sleep`, `rtcredit_wake` and a
/// pass that told the core of a block. The unit's CPU lock.
///
/// # Safety
/// Pointers are null or initialised storage.
#[no_mangle]
pub unsafe extern "C" fn rtcredit_rt_timer_at(unit_ptr: *const rtcredit_unit, at_ns: *mut u64) -> i32 {
    // SAFETY: null or a `Unit` written by `rtcredit_unit_init`, read only; the caller
    // holds its CPU's lock, under which its RT fields change.
    let u = try_c!(unsafe { (unit_ptr as *const Unit).as_ref() }.ok_or(RtcError::NullPointer));
    try_c!(write(at_ns, Cpu::rt_timer_at_ns(u)));
    0
}

/// Moves a unit that is not running from `from` to `to`. Both CPUs' locks.
///
/// # Safety
/// Pointers are null or initialised storage; `from` and `to` are distinct or equal
/// pointers to the same CPU.
#[no_mangle]
pub unsafe extern "C" fn rtcredit_migrate(
    shared_ptr: *const rtcredit_shared,
    from: *mut rtcredit_cpu,
    to: *mut rtcredit_cpu,
    unit_ptr: *mut rtcredit_unit,
    tickle: *mut CpuMask,
) -> i32 {
    if from == to {
        try_c!(write(tickle, CpuMask::EMPTY));
        return 0;
    }
    // SAFETY: the pointers are null (each helper refuses null) or initialised storage;
    // the caller holds both CPUs' locks, and `from != to` (returned above when equal), so
    // the two `&mut Cpu` do not alias.
    unsafe {
        let mask =
            try_c!(try_c!(cpu(from)).migrate(try_c!(shared(shared_ptr)), try_c!(cpu(to)), try_c!(unit(unit_ptr))));
        try_c!(write(tickle, mask));
    }
    0
}

/// Where the unit should live (Xen's `pick_resource`); the unit's CPU lock. Returns the
/// CPU id, or `-code`.
///
/// # Safety
/// Pointers are null or initialised storage.
#[no_mangle]
pub unsafe extern "C" fn rtcredit_pick_cpu(shared_ptr: *const rtcredit_shared, unit_ptr: *const rtcredit_unit) -> i32 {
    // SAFETY: the wrapper rule (module docs); the caller holds the unit's CPU's lock.
    unsafe {
        let shared = try_c!(shared(shared_ptr));
        let unit = try_c!((unit_ptr as *const Unit).as_ref().ok_or(RtcError::NullPointer));
        crate::sched::pick_cpu(shared, unit) as i32
    }
}

/// Sets a unit's hard affinity. The unit's CPU lock.
///
/// # Safety
/// Pointers are null or initialised storage.
#[no_mangle]
pub unsafe extern "C" fn rtcredit_set_affinity(
    shared_ptr: *const rtcredit_shared,
    unit_ptr: *mut rtcredit_unit,
    affinity: *const CpuMask,
) -> i32 {
    // SAFETY: the wrapper rule (module docs); the caller holds the unit's CPU's lock.
    unsafe {
        let affinity = try_c!(affinity.as_ref().ok_or(RtcError::NullPointer));
        let unit = &mut *try_c!(unit(unit_ptr));
        try_c!(crate::sched::set_affinity(try_c!(shared(shared_ptr)), unit, *affinity));
    }
    0
}

/// Sets a domain's parameters (validated; nothing changes on error). Private lock. A
/// grant that would take the RT budgets granted in the pool above its RT capacity is
/// refused with `-RTCREDIT_ERROR_RT_CAPACITY_EXCEEDED` (errno `ENOSPC`).
///
/// # Safety
/// Pointers are null or initialised storage.
#[no_mangle]
pub unsafe extern "C" fn rtcredit_dom_set_params(
    shared_ptr: *const rtcredit_shared,
    acct_ptr: *mut rtcredit_acct,
    dom: *mut rtcredit_dom,
    params: *const DomainParams,
) -> i32 {
    // SAFETY: the wrapper rule (module docs); the caller holds the private lock.
    unsafe {
        let params = try_c!(params.as_ref().ok_or(RtcError::NullPointer));
        let domain = try_c!((dom as *mut Domain).as_mut().ok_or(RtcError::NullPointer));
        try_c!(try_c!(acct(acct_ptr)).set_domain_params(try_c!(shared(shared_ptr)), domain, params));
    }
    0
}

/// `XEN_DOMCTL_SCHEDOP_putinfo` for `dom`: reads the payload as
/// [`DomainParams::with_domctl`] says and sets the result (as `rtcredit_dom_set_params`:
/// nothing changes on error), then writes the answer as `rtcredit_domctl_getinfo`. A
/// grant over the pool's RT capacity returns `-RTCREDIT_ERROR_RT_CAPACITY_EXCEEDED`
/// with the pool fields written (Xen copies the payload back on error too). Private
/// lock.
///
/// # Safety
/// Pointers are null or initialised storage; `arg` was copied from the caller.
#[no_mangle]
pub unsafe extern "C" fn rtcredit_domctl_putinfo(
    shared_ptr: *const rtcredit_shared,
    acct_ptr: *mut rtcredit_acct,
    dom: *mut rtcredit_dom,
    arg: *mut XenDomctlSchedRtcredit,
) -> i32 {
    // SAFETY: the wrapper rule (module docs); the caller holds the private lock.
    unsafe {
        let out = try_c!(arg.as_mut().ok_or(RtcError::NullPointer));
        let domain = try_c!((dom as *mut Domain).as_mut().ok_or(RtcError::NullPointer));
        let accounting = try_c!(acct(acct_ptr));
        let params = try_c!(accounting.domain_params(domain).with_domctl(out));
        if let Err(error) = accounting.set_domain_params(try_c!(shared(shared_ptr)), domain, &params) {
            if error == RtcError::RtCapacityExceeded {
                accounting.rt_capacity().write_domctl(out);
            }
            return error.to_c();
        }
    }
    // SAFETY: as above.
    unsafe { rtcredit_domctl_getinfo(acct_ptr, dom, arg) }
}

/// `XEN_DOMCTL_SCHEDOP_getinfo` for `dom` (and putinfo's answer): the parameters in
/// force, the six RT counters and the pool's RT capacity, the reserved fields and
/// `prio_ns` zeroed; the caller adds each unit's times with
/// `rtcredit_unit_add_prio_ns` (the host knows the domain's units). Private lock.
///
/// # Safety
/// Pointers are null or initialised storage.
#[no_mangle]
pub unsafe extern "C" fn rtcredit_domctl_getinfo(
    acct_ptr: *mut rtcredit_acct,
    dom: *const rtcredit_dom,
    arg: *mut XenDomctlSchedRtcredit,
) -> i32 {
    // SAFETY: the wrapper rule (module docs); the caller holds the private lock.
    unsafe {
        let out = try_c!(arg.as_mut().ok_or(RtcError::NullPointer));
        let domain = try_c!((dom as *const Domain).as_ref().ok_or(RtcError::NullPointer));
        let accounting = try_c!(acct(acct_ptr));
        accounting.domain_params(domain).write_domctl(out);
        out.rt_counters = domain_counters(domain).rt;
        accounting.rt_capacity().write_domctl(out);
        out.prio_ns = [0; 4];
    }
    0
}

/// The domain leaves this scheduler (Xen's `free_domdata`, also when it moves to another
/// cpupool): its RT share goes back to the pool. Private lock.
///
/// # Safety
/// Pointers are null or initialised storage.
#[no_mangle]
pub unsafe extern "C" fn rtcredit_dom_release(
    shared_ptr: *const rtcredit_shared,
    acct_ptr: *mut rtcredit_acct,
    dom: *mut rtcredit_dom,
) -> i32 {
    // SAFETY: the wrapper rule (module docs); the caller holds the private lock.
    unsafe {
        let domain = try_c!((dom as *mut Domain).as_mut().ok_or(RtcError::NullPointer));
        try_c!(acct(acct_ptr)).release_domain(try_c!(shared(shared_ptr)), domain);
    }
    0
}

/// The pool's RT capacity and how much of it is granted (percent of one CPU). Private
/// lock. After `rtcredit_dom_set_params` refused a grant with
/// `-RTCREDIT_ERROR_RT_CAPACITY_EXCEEDED`, this says what is left.
///
/// # Safety
/// Pointers are null or initialised storage.
#[no_mangle]
pub unsafe extern "C" fn rtcredit_get_rt_capacity(acct_ptr: *mut rtcredit_acct, out: *mut RtCapacity) -> i32 {
    // SAFETY: the wrapper rule (module docs); the caller holds the private lock.
    unsafe {
        let capacity = try_c!(acct(acct_ptr)).rt_capacity();
        try_c!(write(out, capacity));
    }
    0
}

/// Reads a domain's parameters. Private lock.
///
/// # Safety
/// Pointers are null or initialised storage.
#[no_mangle]
pub unsafe extern "C" fn rtcredit_dom_get_params(
    acct_ptr: *mut rtcredit_acct,
    dom: *const rtcredit_dom,
    out: *mut DomainParams,
) -> i32 {
    // SAFETY: the wrapper rule (module docs); the caller holds the private lock.
    unsafe {
        let domain = try_c!((dom as *const Domain).as_ref().ok_or(RtcError::NullPointer));
        let params = try_c!(acct(acct_ptr)).domain_params(domain);
        try_c!(write(out, params));
    }
    0
}

/// Reads a domain's RT counters. No lock.
///
/// # Safety
/// Pointers are null or initialised storage.
#[no_mangle]
pub unsafe extern "C" fn rtcredit_dom_get_counters(dom: *const rtcredit_dom, out: *mut DomainCounters) -> i32 {
    // SAFETY: `dom` is null or a `Domain` written by `rtcredit_dom_init`; only its atomic
    // counters are read, so no lock is needed.
    unsafe {
        let domain = try_c!((dom as *const Domain).as_ref().ok_or(RtcError::NullPointer));
        try_c!(write(out, domain_counters(domain)));
    }
    0
}

/// Writes the core's default parameters (`Params::default`) to `out`: the shim starts
/// from these and overrides only what the boot command line gives, so the defaults live
/// in the core alone. No lock: nothing shared is read.
///
/// # Safety
/// `out` is null or points to writable storage for the struct.
#[no_mangle]
pub unsafe extern "C" fn rtcredit_params_default(out: *mut Params) -> i32 {
    // `write` checks `out` for null; the caller's contract above covers the rest.
    try_c!(write(out, Params::default()));
    0
}

/// Sets the global parameters (validated; nothing changes on error). Private lock.
///
/// # Safety
/// Pointers are null or initialised storage.
#[no_mangle]
pub unsafe extern "C" fn rtcredit_set_params(
    shared_ptr: *const rtcredit_shared,
    acct_ptr: *mut rtcredit_acct,
    params: *const Params,
) -> i32 {
    // SAFETY: the wrapper rule (module docs); the caller holds the private lock.
    unsafe {
        let params = try_c!(params.as_ref().ok_or(RtcError::NullPointer));
        try_c!(try_c!(acct(acct_ptr)).set_params(try_c!(shared(shared_ptr)), params));
    }
    0
}

/// `XEN_SYSCTL_SCHEDOP_putinfo`: the five settable parameters from the payload in its
/// units ([`Params::with_sysctl`]), set as `rtcredit_set_params` does (validated,
/// nothing changes on error), then the answer as `rtcredit_sysctl_getinfo`. Private
/// lock.
///
/// # Safety
/// Pointers are null or initialised storage; `arg` was copied from the caller.
#[no_mangle]
pub unsafe extern "C" fn rtcredit_sysctl_putinfo(
    shared_ptr: *const rtcredit_shared,
    acct_ptr: *mut rtcredit_acct,
    arg: *mut XenSysctlRtcreditSchedule,
) -> i32 {
    // SAFETY: the wrapper rule (module docs); the caller holds the private lock.
    unsafe {
        let put = try_c!(arg.as_ref().ok_or(RtcError::NullPointer));
        let accounting = try_c!(acct(acct_ptr));
        let params = accounting.params().with_sysctl(put);
        try_c!(accounting.set_params(try_c!(shared(shared_ptr)), &params));
    }
    // SAFETY: as above.
    unsafe { rtcredit_sysctl_getinfo(acct_ptr, arg) }
}

/// `XEN_SYSCTL_SCHEDOP_getinfo` (and putinfo's answer): the parameters in force in the
/// payload's units and the pool's CPUs, RT capacity and grants. Private lock.
///
/// # Safety
/// Pointers are null or initialised storage.
#[no_mangle]
pub unsafe extern "C" fn rtcredit_sysctl_getinfo(
    acct_ptr: *mut rtcredit_acct,
    arg: *mut XenSysctlRtcreditSchedule,
) -> i32 {
    // SAFETY: the wrapper rule (module docs); the caller holds the private lock.
    unsafe {
        let out = try_c!(arg.as_mut().ok_or(RtcError::NullPointer));
        let accounting = try_c!(acct(acct_ptr));
        accounting.params().write_sysctl(out);
        accounting.rt_capacity().write_sysctl(out);
    }
    0
}

/// Reads the global parameters. Private lock.
///
/// # Safety
/// Pointers are null or initialised storage.
#[no_mangle]
pub unsafe extern "C" fn rtcredit_get_params(acct_ptr: *mut rtcredit_acct, out: *mut Params) -> i32 {
    // SAFETY: the wrapper rule (module docs); the caller holds the private lock.
    unsafe {
        let params = try_c!(acct(acct_ptr)).params();
        try_c!(write(out, params));
    }
    0
}

/// Adds a unit's time at each priority to `out.prio_ns` (RT, BOOST, UNDER, OVER, the
/// `DOMCTL_PRIO_*` order) and leaves every other field alone: the shim calls it for each
/// of a domain's units to fill the domctl's per-domain sums. No lock: the times are
/// atomics, so a concurrent update is either counted whole or not yet.
///
/// # Safety
/// Pointers are null or initialised storage.
#[no_mangle]
pub unsafe extern "C" fn rtcredit_unit_add_prio_ns(
    unit_ptr: *const rtcredit_unit,
    out: *mut XenDomctlSchedRtcredit,
) -> i32 {
    // SAFETY: null or a `Unit` written by `rtcredit_unit_init`; only its atomic times are
    // read, so no lock is needed.
    let u = try_c!(unsafe { (unit_ptr as *const Unit).as_ref() }.ok_or(RtcError::NullPointer));
    // SAFETY: null or the caller's writable payload, which nothing else touches during
    // the call.
    let out = try_c!(unsafe { out.as_mut() }.ok_or(RtcError::NullPointer));
    for (slot, prio) in [
        (DOMCTL_PRIO_RT, Prio::Rt),
        (DOMCTL_PRIO_BOOST, Prio::Boost),
        (DOMCTL_PRIO_UNDER, Prio::Under),
        (DOMCTL_PRIO_OVER, Prio::Over),
    ] {
        out.prio_ns[slot] = out.prio_ns[slot].wrapping_add(u.stats.prio_ns[prio as usize].load(RELAXED));
    }
    0
}

/// A unit's state and counters, for dumps. The unit's CPU lock for a consistent view.
///
/// # Safety
/// Pointers are null or initialised storage.
#[no_mangle]
pub unsafe extern "C" fn rtcredit_unit_get_info(unit_ptr: *const rtcredit_unit, out: *mut rtcredit_unit_info) -> i32 {
    // SAFETY: null or a `Unit` written by `rtcredit_unit_init`; the caller holds its
    // CPU's lock for a consistent view (the atomics are whole values without it).
    let u = try_c!(unsafe { (unit_ptr as *const Unit).as_ref() }.ok_or(RtcError::NullPointer));
    let prio_ns = |prio: Prio| u.stats.prio_ns[prio as usize].load(RELAXED);
    let info = rtcredit_unit_info {
        cpu: u.cpu,
        prio: u.prio as u8,
        running: u.running,
        queued: u.queued,
        runnable: u.runnable,
        parked: u.parked,
        active: u.active,
        credit: u.credit(),
        rt_deadline_ns: u.rt_deadline_ns,
        over_ns: prio_ns(Prio::Over),
        under_ns: prio_ns(Prio::Under),
        boost_ns: prio_ns(Prio::Boost),
        rt_ns: prio_ns(Prio::Rt),
        runs: u.stats.runs.load(RELAXED),
        boosts: u.stats.boosts.load(RELAXED),
        rt_fires: u.stats.rt_fires.load(RELAXED),
    };
    try_c!(write(out, info));
    0
}

/// A CPU's queue lengths and current unit, for dumps. The CPU's lock.
///
/// # Safety
/// Pointers are null or initialised storage.
#[no_mangle]
pub unsafe extern "C" fn rtcredit_cpu_get_info(cpu_ptr: *const rtcredit_cpu, out: *mut rtcredit_cpu_info) -> i32 {
    // SAFETY: null or a `Cpu` written by `rtcredit_cpu_init`, read only; the caller holds
    // its lock.
    let c = try_c!(unsafe { (cpu_ptr as *const Cpu).as_ref() }.ok_or(RtcError::NullPointer));
    let current_host = if c.current.is_null() {
        ptr::null_mut()
    } else {
        // SAFETY: the current unit is live.
        unsafe { (*c.current).host_data }
    };
    let info = rtcredit_cpu_info {
        id: c.id,
        online: c.online,
        queued: [
            c.nr_queued_at(Prio::Rt),
            c.nr_queued_at(Prio::Boost),
            c.nr_queued_at(Prio::Under),
            c.nr_queued_at(Prio::Over),
        ],
        resident: c.resident,
        current_host,
    };
    try_c!(write(out, info));
    0
}

/// The errno for a negative code returned by this API (positive), 0 for 0.
#[no_mangle]
pub extern "C" fn rtcredit_errno(code: i32) -> i32 {
    if code >= 0 {
        return 0;
    }
    error_from_code(code).map_or(crate::abi::errno::EINVAL, RtcError::errno)
}

/// The `RtcError` a negative code stands for.
pub fn error_from_code(code: i32) -> Option<RtcError> {
    use RtcError::*;
    const ALL: [RtcError; 31] = [
        BadPadding,
        UnknownFlags,
        NotPermitted,
        PeriodTooShort,
        DeadlineTooFar,
        NotRunning,
        DeadlineDue,
        BadTimeslice,
        BadRatelimit,
        BadMinPeriod,
        BadMaxLead,
        BadBudgetWindow,
        BadChargeMode,
        BadRtCapacity,
        RtCapacityBelowGranted,
        BadWeight,
        BadCap,
        BadRtBudget,
        BadRtRate,
        RtCapacityExceeded,
        BadDomctl,
        CpuOutOfRange,
        CpuNotEmpty,
        CpuNotOnline,
        WrongCpu,
        UnitBusy,
        DomainBusy,
        NullPointer,
        StaleTimer,
        CpuAlreadyOnline,
        EmptyAffinity,
    ];
    ALL.into_iter().find(|error| error.to_c() == code)
}
