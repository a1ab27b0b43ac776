//! `librtsleep_preload.so`: RT-Credit wake-ups for programs that cannot be changed.
//!
//! Loaded with `LD_PRELOAD` (usually by `rtsleep run -- ./app`), this library defines
//! `nanosleep`, `clock_nanosleep` and `usleep`, so the program's calls land here first.
//! A sleep is *routed*, one `RTSLEEP_IOC_SLEEP` ioctl on `/dev/rtsleep` with an absolute
//! `CLOCK_MONOTONIC` deadline so that the hypervisor runs the VCPU at that deadline, when
//! both hold:
//!
//! * its length (or, for `TIMER_ABSTIME`, its distance from now) lies inside the window;
//! * the routing policy selects it. Policy `rt` (the default): a `clock_nanosleep` with
//!   `TIMER_ABSTIME` (a thread that sleeps to absolute deadlines keeps a period), or any
//!   sleep of a thread whose scheduling policy is `SCHED_FIFO` or `SCHED_RR` (a thread
//!   someone made real-time). Policy `all`: every sleep in the window.
//!
//! Why a policy: a VCPU has one RT registration with Xen. When every thread's sleeps are
//! routed, a housekeeping thread's sleeps compete with the real-time thread's for it
//! (measured on Xen: a worker's maximum lateness 6.3 ms wrapped against 1.1 ms
//! unwrapped), so by default only the sleeps whose deadline is likely to matter are.
//!
//! Every other call, and every call when the device is absent or RT is unavailable, goes
//! to the real libc function (found with `dlsym(RTLD_NEXT)`) with the original arguments,
//! so the program sees exactly what it would have seen without the shim. A refusal of RT
//! (`rt_state` EPERM or EOPNOTSUPP) does not stick: it holds for 1 s, then one sleep goes
//! to the device again (`rtsleep::refusal`), so a grant made while the program runs is
//! picked up.
//!
//! The contract kept on the routed path is the callee's own: `nanosleep` and `usleep`
//! return -1 and set `errno`; `clock_nanosleep` returns the error number and leaves
//! `errno` alone; on `EINTR` the remaining time is written to `rem` for relative sleeps
//! (never for `TIMER_ABSTIME`). A `CLOCK_REALTIME` absolute deadline is converted to the
//! monotonic clock when the sleep starts, and the real `clock_nanosleep` is called with
//! the original deadline afterwards, so the call never returns before it (a clock step
//! during the sleep is seen only at the end: the routed sleep does not follow it). The
//! shim's own work (reading the clock, opening the device) never leaves a changed
//! `errno` behind.
//!
//! Configuration, read once when the library is loaded:
//! * `RTSLEEP_MIN` (default `1ms`, the hypervisor's default minimum period) and `RTSLEEP_MAX`
//!   (default `1s`): the window of sleep lengths that are routed. Human durations.
//! * `RTSLEEP_ROUTE`: the routing policy, `rt` (default) or `all`.
//! * `RTSLEEP_DEVICE`: the device path (default `/dev/rtsleep`).
//! * `RTSLEEP_STATS=PATH`: at exit, write the counters below to PATH (`%p` becomes the
//!   process id), one `name=value` per line.
//!
//! Counters: `intercepted` (every call that reached the shim) = `routed` (slept on the
//! device) + `fell_back` (selected, but no usable device, RT refused for now, or the
//! device failed: the real function slept) + `not_selected` (inside the window, but the
//! policy `rt` does not select it: the real function was called untouched) +
//! `passed_through` (outside the window, or arguments the shim does not route: the real
//! function was called untouched). `interrupted` counts calls that returned `EINTR` on
//! any path.
//!
//! Limits: calls made through the raw system call, from statically linked programs, or
//! inside libc itself (`sleep()` uses libc's internal `__nanosleep`) are not seen; only
//! `CLOCK_MONOTONIC` and `CLOCK_REALTIME` are routed.

use rtsleep::abi::{self, SleepArgs};
use rtsleep::duration::parse_duration;
use rtsleep::refusal::{Decision, Refusal};
use rtsleep::{Device, MonoTime};
use std::ffi::{c_int, c_void, CStr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

type NanosleepFn = unsafe extern "C" fn(*const libc::timespec, *mut libc::timespec) -> c_int;
type ClockNanosleepFn =
    unsafe extern "C" fn(libc::clockid_t, c_int, *const libc::timespec, *mut libc::timespec) -> c_int;
type UsleepFn = unsafe extern "C" fn(libc::useconds_t) -> c_int;

/// glibc's `RTLD_NEXT` (`(void *) -1l`); the libc crate does not define it for glibc.
const RTLD_NEXT: *mut c_void = -1isize as *mut c_void;

/// Default window: the hypervisor's default minimum period (1 ms) up to 1 s. Xen admits
/// deadlines by period, not by lead, so any sleep may be routed; a shorter one is seldom
/// a periodic deadline, and routing it would take the VCPU's one registration.
const DEFAULT_MIN: Duration = Duration::from_millis(1);
const DEFAULT_MAX: Duration = Duration::from_secs(1);

/// Which sleeps inside the window are routed (`RTSLEEP_ROUTE`); see the crate doc.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Policy {
    /// Absolute-deadline sleeps and the sleeps of `SCHED_FIFO`/`SCHED_RR` threads.
    Rt,
    /// Every sleep.
    All,
}

impl Policy {
    fn name(self) -> &'static str {
        match self {
            Policy::Rt => "rt",
            Policy::All => "all",
        }
    }

    /// Whether a sleep (absolute deadline or not) is selected; `thread_is_rt` is asked
    /// only when the answer depends on it.
    fn selects(self, absolute: bool, thread_is_rt: impl FnOnce() -> bool) -> bool {
        match self {
            Policy::All => true,
            Policy::Rt => absolute || thread_is_rt(),
        }
    }
}

fn policy_from_env() -> Policy {
    match std::env::var("RTSLEEP_ROUTE") {
        Err(_) => Policy::Rt,
        Ok(text) => match text.as_str() {
            "rt" | "" => Policy::Rt,
            "all" => Policy::All,
            _ => {
                eprintln!("rtsleep-preload: ignoring RTSLEEP_ROUTE={text:?}: not 'rt' or 'all'; using rt");
                Policy::Rt
            }
        },
    }
}

/// Whether the calling thread runs under `SCHED_FIFO` or `SCHED_RR`.
fn calling_thread_is_rt() -> bool {
    // SAFETY: no preconditions; pid 0 is the calling thread (Linux: policies are per
    // thread). The result may carry SCHED_RESET_ON_FORK, masked off.
    let policy = unsafe { libc::sched_getscheduler(0) };
    policy >= 0 && matches!(policy & !libc::SCHED_RESET_ON_FORK, libc::SCHED_FIFO | libc::SCHED_RR)
}

/// The shim's configuration and device, set up once.
struct Shim {
    min_ns: u64,
    max_ns: u64,
    policy: Policy,
    /// Asks whether the calling thread is real-time ([`calling_thread_is_rt`]; the unit
    /// tests give their own answer).
    thread_is_rt: fn() -> bool,
    device: Option<Box<dyn SleepDevice>>,
    device_state: &'static str,
    /// A refusal of RT the device reported: sleeps fall back while it holds.
    refusal: Refusal,
    stats_path: Option<String>,
    real_nanosleep: Option<NanosleepFn>,
    real_clock_nanosleep: Option<ClockNanosleepFn>,
    real_usleep: Option<UsleepFn>,
    counters: Counters,
}

/// What the shim needs of `/dev/rtsleep`: one `RTSLEEP_IOC_SLEEP`, errno as is. A trait so
/// the unit tests can drive the routed path with a scripted device.
trait SleepDevice: Send + Sync {
    fn sleep_once(&self, args: &mut SleepArgs) -> Result<(), c_int>;
    /// The device's `rt_state` now, if it answers.
    fn rt_state(&self) -> Option<u32>;
}

impl SleepDevice for Device {
    fn sleep_once(&self, args: &mut SleepArgs) -> Result<(), c_int> {
        Device::sleep_once(self, args)
    }

    fn rt_state(&self) -> Option<u32> {
        self.info().ok().map(|info| info.rt_state)
    }
}

/// The counters of the stats file; see the crate doc.
#[derive(Default)]
struct Counters {
    intercepted: AtomicU64,
    routed: AtomicU64,
    fell_back: AtomicU64,
    not_selected: AtomicU64,
    passed_through: AtomicU64,
    interrupted: AtomicU64,
}

impl Counters {
    fn interrupted_if(&self, interrupted: bool) {
        if interrupted {
            count(&self.interrupted);
        }
    }
}

static SHIM: OnceLock<Shim> = OnceLock::new();

/// Runs when the library is loaded (before `main`), so that a sleep in a signal handler
/// later finds everything set up and does not allocate.
#[used]
#[link_section = ".init_array"]
static INIT_ON_LOAD: extern "C" fn() = init_on_load;

extern "C" fn init_on_load() {
    let shim = shim();
    if shim.stats_path.is_some() {
        // SAFETY: `write_stats_at_exit` is an `extern "C" fn()` that lives as long as the
        // process (this library is never unloaded while LD_PRELOADed).
        unsafe { libc::atexit(write_stats_at_exit) };
    }
}

fn shim() -> &'static Shim {
    SHIM.get_or_init(|| {
        let errno = get_errno();
        let shim = Shim::from_env();
        set_errno(errno);
        shim
    })
}

fn window_bound(name: &str, default: Duration) -> u64 {
    let value = match std::env::var(name) {
        Ok(text) => match parse_duration(&text) {
            Ok(d) => d,
            Err(err) => {
                eprintln!("rtsleep-preload: ignoring {name}={text:?}: {err}; using {default:?}");
                default
            }
        },
        Err(_) => default,
    };
    u64::try_from(value.as_nanos()).unwrap_or(u64::MAX)
}

fn real_symbol(name: &CStr) -> *mut c_void {
    // SAFETY: RTLD_NEXT is a valid pseudo-handle for dlsym and `name` is NUL-terminated.
    unsafe { libc::dlsym(RTLD_NEXT, name.as_ptr()) }
}

impl Shim {
    fn from_env() -> Shim {
        let min_ns = window_bound("RTSLEEP_MIN", DEFAULT_MIN);
        let max_ns = window_bound("RTSLEEP_MAX", DEFAULT_MAX);
        let policy = policy_from_env();
        let refusal = Refusal::new();
        let (device, device_state) = match Device::open(&rtsleep::device::default_path()) {
            Err(rtsleep::Error::DeviceOpen { .. }) => (None, "absent"),
            Err(_) => (None, "unusable"),
            Ok(device) => match device.info() {
                Ok(info) if info.rt_state == abi::RTSLEEP_RT_NOT_XEN => (None, "rt-unavailable"),
                Ok(info) => {
                    // A refusal: kept, and asked again after the interval.
                    refusal.note(info.rt_state, clock_now_ns(libc::CLOCK_MONOTONIC).unwrap_or(0));
                    (Some(Box::new(device) as Box<dyn SleepDevice>), "present")
                }
                Err(_) => (None, "unusable"),
            },
        };
        let stats_path = std::env::var("RTSLEEP_STATS").ok().filter(|p| !p.is_empty());
        let mut shim = Shim::new(min_ns, max_ns, policy, device, device_state, stats_path);
        shim.refusal = refusal;
        shim
    }

    fn new(
        min_ns: u64,
        max_ns: u64,
        policy: Policy,
        device: Option<Box<dyn SleepDevice>>,
        device_state: &'static str,
        stats_path: Option<String>,
    ) -> Shim {
        let nanosleep = real_symbol(c"nanosleep");
        let clock_nanosleep = real_symbol(c"clock_nanosleep");
        let usleep = real_symbol(c"usleep");
        Shim {
            min_ns,
            max_ns,
            policy,
            thread_is_rt: calling_thread_is_rt,
            device,
            device_state,
            refusal: Refusal::new(),
            stats_path,
            // SAFETY: each symbol is libc's function of that name, whose C signature is
            // the one of the function pointer type it is converted to.
            real_nanosleep: (!nanosleep.is_null())
                .then(|| unsafe { std::mem::transmute::<*mut c_void, NanosleepFn>(nanosleep) }),
            // SAFETY: as above.
            real_clock_nanosleep: (!clock_nanosleep.is_null())
                .then(|| unsafe { std::mem::transmute::<*mut c_void, ClockNanosleepFn>(clock_nanosleep) }),
            // SAFETY: as above.
            real_usleep: (!usleep.is_null()).then(|| unsafe { std::mem::transmute::<*mut c_void, UsleepFn>(usleep) }),
            counters: Counters::default(),
        }
    }

    fn in_window(&self, ns: u64) -> bool {
        (self.min_ns..=self.max_ns).contains(&ns)
    }

    /// The real `nanosleep` (or the system call if libc's could not be found).
    fn nanosleep(&self, req: *const libc::timespec, rem: *mut libc::timespec) -> c_int {
        match self.real_nanosleep {
            // SAFETY: the caller's pointers are passed on unchanged, as the caller passed
            // them to us; libc's function has this exact signature.
            Some(real) => unsafe { real(req, rem) },
            // SAFETY: the nanosleep system call takes the same two pointers.
            None => unsafe { libc::syscall(libc::SYS_nanosleep, req, rem) as c_int },
        }
    }

    fn clock_nanosleep(
        &self,
        clock: libc::clockid_t,
        flags: c_int,
        req: *const libc::timespec,
        rem: *mut libc::timespec,
    ) -> c_int {
        match self.real_clock_nanosleep {
            // SAFETY: the caller's arguments are passed on unchanged.
            Some(real) => unsafe { real(clock, flags, req, rem) },
            None => {
                // SAFETY: the system call takes the same arguments; it returns -errno
                // through libc's wrapper as -1 + errno, which clock_nanosleep returns as is.
                let rc = unsafe { libc::syscall(libc::SYS_clock_nanosleep, clock, flags, req, rem) };
                if rc == 0 {
                    0
                } else {
                    get_errno()
                }
            }
        }
    }

    fn usleep(&self, usec: libc::useconds_t) -> c_int {
        match self.real_usleep {
            // SAFETY: libc's usleep has this signature.
            Some(real) => unsafe { real(usec) },
            None => {
                let ts = timespec_from_ns(u64::from(usec) * 1_000);
                self.nanosleep(&ts, std::ptr::null_mut())
            }
        }
    }

    /// Sleeps on the device until `deadline`. `Ok` at the deadline; `Err(EINTR)` with
    /// the time that was left; `Err(other)` if the device failed (the caller falls back).
    /// A `probe` (the refusal's interval was over) notes what the device says after it.
    fn device_sleep(&self, route: &Routed<'_>) -> Result<(), (c_int, u64)> {
        let mut args = SleepArgs {
            deadline_ns: route.deadline.as_nanos(),
            clock: abi::RTSLEEP_CLOCK_MONOTONIC,
            flags: abi::RTSLEEP_F_ABSOLUTE,
            remaining_ns: 0,
        };
        let result = route.device.sleep_once(&mut args).map_err(|errno| (errno, args.remaining_ns));
        if route.probe {
            let errno = get_errno();
            let state = route.device.rt_state().or(self.refusal.current()).unwrap_or(abi::RTSLEEP_RT_EPERM);
            self.refusal.note(state, clock_now_ns(libc::CLOCK_MONOTONIC).unwrap_or(0));
            set_errno(errno);
        }
        result
    }
}

fn get_errno() -> c_int {
    // SAFETY: __errno_location returns this thread's errno slot, always valid.
    unsafe { *libc::__errno_location() }
}

fn set_errno(value: c_int) {
    // SAFETY: as in get_errno.
    unsafe { *libc::__errno_location() = value };
}

fn timespec_to_ns(ts: &libc::timespec) -> Option<u64> {
    if ts.tv_sec < 0 || !(0..1_000_000_000).contains(&ts.tv_nsec) {
        return None;
    }
    u64::try_from(ts.tv_sec).ok()?.checked_mul(1_000_000_000)?.checked_add(ts.tv_nsec as u64)
}

fn timespec_from_ns(ns: u64) -> libc::timespec {
    MonoTime::from_nanos(ns).to_timespec()
}

fn clock_now_ns(clock: libc::clockid_t) -> Option<u64> {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is valid and writable for the call.
    if unsafe { libc::clock_gettime(clock, &mut ts) } != 0 {
        return None;
    }
    timespec_to_ns(&ts)
}

/// Reads `*req` if the pointer is non-null and the value a valid timespec.
fn read_request(req: *const libc::timespec) -> Option<u64> {
    // SAFETY: a non-null `req` is, by the sleep functions' contract, a readable timespec.
    // (A program that passes an invalid pointer and counts on the kernel's EFAULT would
    // fault here instead: see the limits in the README.)
    let ts = unsafe { req.as_ref() }?;
    timespec_to_ns(ts)
}

/// Where an intercepted call goes.
enum Route<'a> {
    /// To the device.
    Device(Routed<'a>),
    /// Selected, but no usable device or RT refused for now.
    FallBack,
    /// Inside the window, not selected by the policy.
    NotSelected,
    /// Not a sleep the shim routes.
    PassThrough,
}

/// A sleep on the device until the monotonic `deadline`; `probe`: the first since a
/// refusal's interval ended.
struct Routed<'a> {
    device: &'a dyn SleepDevice,
    deadline: MonoTime,
    probe: bool,
}

/// Decides the route of a sleep of `length_ns` from now (`absolute`: a `TIMER_ABSTIME`
/// deadline); the deadline is computed only when a device is there to use it.
fn route(shim: &Shim, length_ns: Option<u64>, absolute: bool) -> Route<'_> {
    let Some(length_ns) = length_ns.filter(|ns| shim.in_window(*ns)) else {
        return Route::PassThrough;
    };
    if !shim.policy.selects(absolute, shim.thread_is_rt) {
        return Route::NotSelected;
    }
    let Some(device) = shim.device.as_deref() else {
        return Route::FallBack;
    };
    let Some(now) = clock_now_ns(libc::CLOCK_MONOTONIC) else {
        return Route::FallBack;
    };
    let probe = match shim.refusal.decide(now) {
        Decision::Device => false,
        Decision::Probe => true,
        Decision::Fallback => return Route::FallBack,
    };
    match now.checked_add(length_ns) {
        Some(deadline) => Route::Device(Routed { device, deadline: MonoTime::from_nanos(deadline), probe }),
        None => Route::FallBack,
    }
}

fn count(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// Interposed `nanosleep(2)`.
///
/// # Safety
/// Same contract as libc's `nanosleep`: `req` readable, `rem` null or writable.
#[no_mangle]
pub unsafe extern "C" fn nanosleep(req: *const libc::timespec, rem: *mut libc::timespec) -> c_int {
    shim_nanosleep(shim(), req, rem)
}

fn shim_nanosleep(shim: &Shim, req: *const libc::timespec, rem: *mut libc::timespec) -> c_int {
    let saved_errno = get_errno();
    count(&shim.counters.intercepted);
    let real = |req: *const libc::timespec, rem: *mut libc::timespec| {
        set_errno(saved_errno);
        let rc = shim.nanosleep(req, rem);
        shim.counters.interrupted_if(rc == -1 && get_errno() == libc::EINTR);
        rc
    };
    match route(shim, read_request(req), false) {
        Route::PassThrough => {
            count(&shim.counters.passed_through);
            real(req, rem)
        }
        Route::NotSelected => {
            count(&shim.counters.not_selected);
            real(req, rem)
        }
        Route::FallBack => {
            count(&shim.counters.fell_back);
            real(req, rem)
        }
        Route::Device(routed) => match shim.device_sleep(&routed) {
            Ok(()) => {
                count(&shim.counters.routed);
                set_errno(saved_errno);
                0
            }
            Err((libc::EINTR, remaining_ns)) => {
                count(&shim.counters.routed);
                count(&shim.counters.interrupted);
                // SAFETY: a non-null `rem` is writable by nanosleep's contract.
                if let Some(rem) = unsafe { rem.as_mut() } {
                    *rem = timespec_from_ns(remaining_ns);
                }
                set_errno(libc::EINTR);
                -1
            }
            Err(_) => {
                // The device failed: sleep the rest with the real function.
                count(&shim.counters.fell_back);
                let now = clock_now_ns(libc::CLOCK_MONOTONIC).unwrap_or(0);
                let rest = timespec_from_ns(routed.deadline.as_nanos().saturating_sub(now));
                real(&rest, rem)
            }
        },
    }
}

/// Interposed `clock_nanosleep(3)`.
///
/// # Safety
/// Same contract as libc's `clock_nanosleep`.
#[no_mangle]
pub unsafe extern "C" fn clock_nanosleep(
    clock: libc::clockid_t,
    flags: c_int,
    req: *const libc::timespec,
    rem: *mut libc::timespec,
) -> c_int {
    shim_clock_nanosleep(shim(), clock, flags, req, rem)
}

fn shim_clock_nanosleep(
    shim: &Shim,
    clock: libc::clockid_t,
    flags: c_int,
    req: *const libc::timespec,
    rem: *mut libc::timespec,
) -> c_int {
    let saved_errno = get_errno();
    count(&shim.counters.intercepted);
    let routable_clock = clock == libc::CLOCK_MONOTONIC || clock == libc::CLOCK_REALTIME;
    let absolute = flags == libc::TIMER_ABSTIME;
    // Read the request only for calls the shim may route; the rest go through untouched.
    let request = if routable_clock && (flags == 0 || absolute) { read_request(req) } else { None };
    // Distance from now to the deadline on the caller's clock.
    let length_ns = match (request, absolute) {
        (Some(ns), false) => Some(ns),
        (Some(deadline), true) => clock_now_ns(clock).map(|now| deadline.saturating_sub(now)),
        (None, _) => None,
    };
    let decision = route(shim, length_ns, absolute);
    let real = |req: *const libc::timespec, rem: *mut libc::timespec| {
        set_errno(saved_errno);
        let rc = shim.clock_nanosleep(clock, flags, req, rem);
        set_errno(saved_errno);
        shim.counters.interrupted_if(rc == libc::EINTR);
        rc
    };
    match decision {
        Route::PassThrough => {
            count(&shim.counters.passed_through);
            real(req, rem)
        }
        Route::NotSelected => {
            count(&shim.counters.not_selected);
            real(req, rem)
        }
        Route::FallBack => {
            count(&shim.counters.fell_back);
            real(req, rem)
        }
        Route::Device(mut routed) => {
            // A monotonic absolute deadline is used exactly as given.
            if let (true, true, Some(ns)) = (absolute, clock == libc::CLOCK_MONOTONIC, request) {
                routed.deadline = MonoTime::from_nanos(ns);
            }
            let deadline = routed.deadline;
            match shim.device_sleep(&routed) {
                Ok(()) => {
                    count(&shim.counters.routed);
                    if absolute && clock == libc::CLOCK_REALTIME {
                        // Never return before the caller's own deadline on its own clock.
                        return real(req, rem);
                    }
                    set_errno(saved_errno);
                    0
                }
                Err((libc::EINTR, remaining_ns)) => {
                    count(&shim.counters.routed);
                    count(&shim.counters.interrupted);
                    if !absolute {
                        // SAFETY: a non-null `rem` is writable by clock_nanosleep's contract.
                        if let Some(rem) = unsafe { rem.as_mut() } {
                            *rem = timespec_from_ns(remaining_ns);
                        }
                    }
                    set_errno(saved_errno);
                    libc::EINTR
                }
                Err(_) => {
                    count(&shim.counters.fell_back);
                    if absolute {
                        real(req, rem)
                    } else {
                        let now = clock_now_ns(libc::CLOCK_MONOTONIC).unwrap_or(0);
                        let rest = timespec_from_ns(deadline.as_nanos().saturating_sub(now));
                        real(&rest, rem)
                    }
                }
            }
        }
    }
}

/// Interposed `usleep(3)`.
///
/// # Safety
/// Same contract as libc's `usleep` (none beyond the argument).
#[no_mangle]
pub unsafe extern "C" fn usleep(usec: libc::useconds_t) -> c_int {
    shim_usleep(shim(), usec)
}

fn shim_usleep(shim: &Shim, usec: libc::useconds_t) -> c_int {
    let saved_errno = get_errno();
    count(&shim.counters.intercepted);
    let length_ns = u64::from(usec) * 1_000;
    let real = |usec: libc::useconds_t| {
        set_errno(saved_errno);
        let rc = shim.usleep(usec);
        shim.counters.interrupted_if(rc == -1 && get_errno() == libc::EINTR);
        rc
    };
    match route(shim, Some(length_ns), false) {
        Route::PassThrough => {
            count(&shim.counters.passed_through);
            real(usec)
        }
        Route::NotSelected => {
            count(&shim.counters.not_selected);
            real(usec)
        }
        Route::FallBack => {
            count(&shim.counters.fell_back);
            real(usec)
        }
        Route::Device(routed) => match shim.device_sleep(&routed) {
            Ok(()) => {
                count(&shim.counters.routed);
                set_errno(saved_errno);
                0
            }
            Err((libc::EINTR, _)) => {
                count(&shim.counters.routed);
                count(&shim.counters.interrupted);
                set_errno(libc::EINTR);
                -1
            }
            Err(_) => {
                count(&shim.counters.fell_back);
                let now = clock_now_ns(libc::CLOCK_MONOTONIC).unwrap_or(0);
                let rest_us = routed.deadline.as_nanos().saturating_sub(now) / 1_000;
                real(libc::useconds_t::try_from(rest_us).unwrap_or(usec))
            }
        },
    }
}

/// The counters, as written to `RTSLEEP_STATS`.
pub fn stats_text() -> String {
    shim().stats_text()
}

impl Shim {
    fn stats_text(&self) -> String {
        format!(
        "intercepted={}\nrouted={}\nfell_back={}\nnot_selected={}\npassed_through={}\ninterrupted={}\ndevice={}\nroute={}\nmin_ns={}\nmax_ns={}\n",
        self.counters.intercepted.load(Ordering::Relaxed),
        self.counters.routed.load(Ordering::Relaxed),
        self.counters.fell_back.load(Ordering::Relaxed),
        self.counters.not_selected.load(Ordering::Relaxed),
        self.counters.passed_through.load(Ordering::Relaxed),
        self.counters.interrupted.load(Ordering::Relaxed),
        self.device_state,
        self.policy.name(),
        self.min_ns,
        self.max_ns,
    )
    }
}

extern "C" fn write_stats_at_exit() {
    let saved_errno = get_errno();
    if let Some(path) = &shim().stats_path {
        // SAFETY: getpid has no preconditions.
        let pid = unsafe { libc::getpid() };
        let path = PathBuf::from(path.replace("%p", &pid.to_string()));
        if let Err(err) = std::fs::write(&path, stats_text()) {
            eprintln!("rtsleep-preload: cannot write RTSLEEP_STATS file {}: {err}", path.display());
        }
    }
    set_errno(saved_errno);
}

#[cfg(test)]
mod tests {
    //! The routed path, which needs `/dev/rtsleep`, driven by a scripted device. (This
    //! unit-test binary defines `nanosleep` etc. itself; with no device in the
    //! environment its global shim just calls libc, so the harness is unaffected.)

    use super::*;
    use std::sync::{Arc, Mutex};
    use std::time::Instant;

    /// Answers each sleep with the next scripted result (`Err((errno, remaining_ns))`)
    /// at once, and records what it was asked.
    #[derive(Default)]
    struct ScriptedDevice {
        results: Mutex<Vec<Result<(), (c_int, u64)>>>,
        requests: Mutex<Vec<SleepArgs>>,
    }

    struct Shared(Arc<ScriptedDevice>);

    /// The `rt_state` the scripted device reports after a sleep.
    static SCRIPTED_RT_STATE: AtomicU64 = AtomicU64::new(abi::RTSLEEP_RT_ACCEPTED as u64);

    impl SleepDevice for Shared {
        fn rt_state(&self) -> Option<u32> {
            Some(SCRIPTED_RT_STATE.load(Ordering::Relaxed) as u32)
        }

        fn sleep_once(&self, args: &mut SleepArgs) -> Result<(), c_int> {
            self.0.requests.lock().expect("lock").push(*args);
            let mut results = self.0.results.lock().expect("lock");
            match if results.is_empty() { Ok(()) } else { results.remove(0) } {
                Ok(()) => Ok(()),
                Err((errno, remaining_ns)) => {
                    args.remaining_ns = remaining_ns;
                    Err(errno)
                }
            }
        }
    }

    fn shim_with(results: Vec<Result<(), (c_int, u64)>>) -> (Shim, Arc<ScriptedDevice>) {
        shim_with_policy(Policy::All, results)
    }

    fn shim_with_policy(policy: Policy, results: Vec<Result<(), (c_int, u64)>>) -> (Shim, Arc<ScriptedDevice>) {
        let device = Arc::new(ScriptedDevice { results: Mutex::new(results), requests: Mutex::default() });
        let shim =
            Shim::new(5_000_000, 1_000_000_000, policy, Some(Box::new(Shared(Arc::clone(&device)))), "present", None);
        (shim, device)
    }

    fn requests(device: &ScriptedDevice) -> usize {
        device.requests.lock().expect("lock").len()
    }

    fn ms(n: i64) -> libc::timespec {
        libc::timespec { tv_sec: n / 1000, tv_nsec: (n % 1000) * 1_000_000 }
    }

    fn counter(c: &AtomicU64) -> u64 {
        c.load(Ordering::Relaxed)
    }

    fn mono_now() -> u64 {
        clock_now_ns(libc::CLOCK_MONOTONIC).expect("clock")
    }

    #[test]
    fn a_routed_nanosleep_sends_an_absolute_monotonic_deadline_and_keeps_errno() {
        let (shim, device) = shim_with(vec![Ok(())]);
        let before = mono_now();
        set_errno(1234);
        assert_eq!(shim_nanosleep(&shim, &ms(10), std::ptr::null_mut()), 0);
        assert_eq!(get_errno(), 1234);
        let request = device.requests.lock().expect("lock")[0];
        assert_eq!((request.clock, request.flags), (abi::RTSLEEP_CLOCK_MONOTONIC, abi::RTSLEEP_F_ABSOLUTE));
        assert!(request.deadline_ns >= before + 10_000_000 && request.deadline_ns <= mono_now() + 10_000_000);
        assert_eq!(counter(&shim.counters.routed), 1);
        assert_eq!(counter(&shim.counters.intercepted), 1);
    }

    #[test]
    fn an_interrupted_routed_nanosleep_returns_eintr_and_the_remaining_time() {
        let (shim, _) = shim_with(vec![Err((libc::EINTR, 7_000_123))]);
        let mut rem = ms(0);
        assert_eq!(shim_nanosleep(&shim, &ms(10), &mut rem), -1);
        assert_eq!(get_errno(), libc::EINTR);
        assert_eq!((rem.tv_sec, rem.tv_nsec), (0, 7_000_123));
        assert_eq!(counter(&shim.counters.interrupted), 1);
    }

    #[test]
    fn an_interrupted_relative_clock_nanosleep_returns_the_error_and_leaves_errno() {
        let (shim, _) = shim_with(vec![Err((libc::EINTR, 3_000_000))]);
        let mut rem = ms(0);
        set_errno(1234);
        assert_eq!(shim_clock_nanosleep(&shim, libc::CLOCK_MONOTONIC, 0, &ms(10), &mut rem), libc::EINTR);
        assert_eq!(get_errno(), 1234);
        assert_eq!((rem.tv_sec, rem.tv_nsec), (0, 3_000_000));
    }

    #[test]
    fn an_absolute_monotonic_deadline_is_passed_exactly_and_rem_is_untouched() {
        let (shim, device) = shim_with(vec![Err((libc::EINTR, 1))]);
        let deadline = mono_now() + 20_000_000;
        let request = timespec_from_ns(deadline);
        let mut rem = libc::timespec { tv_sec: 7, tv_nsec: 7 };
        let rc = shim_clock_nanosleep(&shim, libc::CLOCK_MONOTONIC, libc::TIMER_ABSTIME, &request, &mut rem);
        assert_eq!(rc, libc::EINTR);
        assert_eq!((rem.tv_sec, rem.tv_nsec), (7, 7));
        assert_eq!(device.requests.lock().expect("lock")[0].deadline_ns, deadline);
    }

    #[test]
    fn a_realtime_absolute_sleep_never_returns_before_its_deadline() {
        // The scripted device returns at once; the shim must still wait for the caller's
        // CLOCK_REALTIME deadline with the real function.
        let (shim, _) = shim_with(vec![Ok(())]);
        let deadline = clock_now_ns(libc::CLOCK_REALTIME).expect("clock") + 15_000_000;
        let start = Instant::now();
        let rc = shim_clock_nanosleep(
            &shim,
            libc::CLOCK_REALTIME,
            libc::TIMER_ABSTIME,
            &timespec_from_ns(deadline),
            std::ptr::null_mut(),
        );
        assert_eq!(rc, 0);
        assert!(clock_now_ns(libc::CLOCK_REALTIME).expect("clock") >= deadline);
        assert!(start.elapsed() >= Duration::from_millis(14));
        assert_eq!(counter(&shim.counters.routed), 1);
    }

    #[test]
    fn a_failing_device_falls_back_to_the_real_sleep_for_the_rest() {
        let (shim, _) = shim_with(vec![Err((libc::EIO, 0)), Err((libc::EIO, 0)), Err((libc::EIO, 0))]);
        let start = Instant::now();
        assert_eq!(shim_nanosleep(&shim, &ms(10), std::ptr::null_mut()), 0);
        assert!(start.elapsed() >= Duration::from_millis(9));
        assert_eq!(shim_usleep(&shim, 10_000), 0);
        assert_eq!(shim_clock_nanosleep(&shim, libc::CLOCK_MONOTONIC, 0, &ms(10), std::ptr::null_mut()), 0);
        assert!(start.elapsed() >= Duration::from_millis(29));
        assert_eq!(counter(&shim.counters.fell_back), 3);
        assert_eq!(counter(&shim.counters.routed), 0);
    }

    #[test]
    fn an_interrupted_routed_usleep_is_minus_one_with_eintr() {
        let (shim, _) = shim_with(vec![Err((libc::EINTR, 5))]);
        assert_eq!(shim_usleep(&shim, 10_000), -1);
        assert_eq!(get_errno(), libc::EINTR);
    }

    #[test]
    fn sleeps_outside_the_window_and_bad_arguments_never_reach_the_device() {
        let (shim, device) = shim_with(vec![]);
        assert_eq!(shim_nanosleep(&shim, &ms(1), std::ptr::null_mut()), 0);
        assert_eq!(shim_usleep(&shim, 100), 0);
        let bad = libc::timespec { tv_sec: 0, tv_nsec: 2_000_000_000 };
        assert_eq!(shim_nanosleep(&shim, &bad, std::ptr::null_mut()), -1);
        assert_eq!(get_errno(), libc::EINVAL);
        assert_eq!(
            shim_clock_nanosleep(&shim, libc::CLOCK_THREAD_CPUTIME_ID, 0, &ms(10), std::ptr::null_mut()),
            libc::EINVAL
        );
        assert!(device.requests.lock().expect("lock").is_empty());
        assert_eq!(counter(&shim.counters.passed_through), 4);
    }

    #[test]
    fn policy_rt_routes_absolute_deadlines_and_leaves_relative_sleeps_of_normal_threads_alone() {
        let (mut shim, device) = shim_with_policy(Policy::Rt, vec![]);
        shim.thread_is_rt = || false;
        assert_eq!(shim_nanosleep(&shim, &ms(10), std::ptr::null_mut()), 0);
        assert_eq!(shim_usleep(&shim, 10_000), 0);
        assert_eq!(shim_clock_nanosleep(&shim, libc::CLOCK_MONOTONIC, 0, &ms(10), std::ptr::null_mut()), 0);
        assert_eq!(requests(&device), 0, "a relative sleep of a SCHED_OTHER thread reached the device");
        assert_eq!(counter(&shim.counters.not_selected), 3);
        let deadline = timespec_from_ns(mono_now() + 10_000_000);
        assert_eq!(
            shim_clock_nanosleep(&shim, libc::CLOCK_MONOTONIC, libc::TIMER_ABSTIME, &deadline, std::ptr::null_mut()),
            0
        );
        assert_eq!(requests(&device), 1);
        assert_eq!((counter(&shim.counters.routed), counter(&shim.counters.intercepted)), (1, 4));
    }

    #[test]
    fn policy_rt_routes_every_sleep_of_a_real_time_thread() {
        let (mut shim, device) = shim_with_policy(Policy::Rt, vec![]);
        shim.thread_is_rt = || true;
        assert_eq!(shim_nanosleep(&shim, &ms(10), std::ptr::null_mut()), 0);
        assert_eq!(shim_usleep(&shim, 10_000), 0);
        assert_eq!(shim_clock_nanosleep(&shim, libc::CLOCK_MONOTONIC, 0, &ms(10), std::ptr::null_mut()), 0);
        assert_eq!(requests(&device), 3);
        assert_eq!(counter(&shim.counters.not_selected), 0);
    }

    #[test]
    fn policy_all_routes_relative_sleeps_of_normal_threads() {
        let (mut shim, device) = shim_with_policy(Policy::All, vec![]);
        shim.thread_is_rt = || false;
        assert_eq!(shim_nanosleep(&shim, &ms(10), std::ptr::null_mut()), 0);
        assert_eq!(requests(&device), 1);
    }

    #[test]
    fn the_window_applies_before_the_policy() {
        let (mut shim, device) = shim_with_policy(Policy::Rt, vec![]);
        shim.thread_is_rt = || true;
        assert_eq!(shim_nanosleep(&shim, &ms(1), std::ptr::null_mut()), 0);
        assert_eq!(requests(&device), 0);
        assert_eq!(counter(&shim.counters.passed_through), 1);
    }

    #[test]
    fn the_thread_policy_is_read_from_the_calling_thread() {
        assert!(!calling_thread_is_rt(), "the test harness thread is SCHED_OTHER");
        let answers = std::thread::spawn(|| {
            let param = libc::sched_param { sched_priority: 1 };
            // SAFETY: `param` is valid; changes this new thread's policy only.
            let rc = unsafe { libc::pthread_setschedparam(libc::pthread_self(), libc::SCHED_FIFO, &param) };
            (rc, calling_thread_is_rt())
        })
        .join()
        .expect("thread");
        match answers {
            (0, is_rt) => assert!(is_rt, "a SCHED_FIFO thread was not seen as real-time"),
            // Without CAP_SYS_NICE the policy cannot be set; nothing to check then.
            (libc::EPERM, _) => eprintln!("SCHED_FIFO not permitted here: only the SCHED_OTHER side was checked"),
            (rc, _) => panic!("pthread_setschedparam: {rc}"),
        }
        assert!(!calling_thread_is_rt(), "another thread's policy leaked into this one");
    }

    #[test]
    fn a_refusal_falls_back_then_a_probe_that_finds_rt_accepted_routes_again() {
        let (shim, device) = shim_with_policy(Policy::All, vec![]);
        SCRIPTED_RT_STATE.store(u64::from(abi::RTSLEEP_RT_ACCEPTED), Ordering::Relaxed);
        // Refused just now: the sleep falls back.
        shim.refusal.note(abi::RTSLEEP_RT_EPERM, mono_now());
        assert_eq!(shim_nanosleep(&shim, &ms(10), std::ptr::null_mut()), 0);
        assert_eq!((requests(&device), counter(&shim.counters.fell_back)), (0, 1));
        // Refused long ago (the interval is over): this sleep probes the device, which now
        // says RT is accepted, so the next one is routed as well.
        shim.refusal.note(abi::RTSLEEP_RT_EPERM, 0);
        assert_eq!(shim_nanosleep(&shim, &ms(10), std::ptr::null_mut()), 0);
        assert_eq!(shim.refusal.current(), None);
        assert_eq!(shim_nanosleep(&shim, &ms(10), std::ptr::null_mut()), 0);
        assert_eq!((requests(&device), counter(&shim.counters.routed)), (2, 2));
    }
}
