//! The C side and the Rust side agree: struct layouts as a C compiler sees the
//! generated header, and the behaviour of the `extern "C"` functions (null pointers,
//! bad arguments, a scheduling round trip).

use std::collections::HashMap;
use std::mem::{align_of, offset_of, size_of, MaybeUninit};
use std::path::PathBuf;
use std::process::Command;
use std::ptr;

use rtcredit::abi::{
    RtCounters, RtcError, SchedRtsleep, XenDomctlSchedRtcredit, XenSysctlRtcreditSchedule, DOMCTL_KEEP_CAP,
    DOMCTL_KEEP_RT_ALLOWED, RTSLEEP_GRANTED, SCHEDOP_RTSLEEP, XEN_SCHEDULER_RTCREDIT,
};
use rtcredit::ffi::*;
use rtcredit::rt::budget::RtCapacity;
use rtcredit::{CpuMask, Decision, DomainCounters, DomainParams, Params, Prio, RtsleepOutcome, ScheduleBegin};

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Compiles tests/c/layout.c against include/rtcredit.h and returns what it printed.
fn c_layout() -> HashMap<String, Vec<usize>> {
    let out_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let binary = out_dir.join("rtcredit-layout");
    let status = Command::new("cc")
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-o"])
        .arg(&binary)
        .arg("-I")
        .arg(crate_dir().join("include"))
        .arg(crate_dir().join("tests/c/layout.c"))
        .status()
        .expect("a C compiler (cc) is installed");
    assert!(status.success(), "tests/c/layout.c compiles against the header");
    let output = Command::new(&binary).output().expect("layout program runs");
    let text = String::from_utf8(output.stdout).expect("UTF-8");
    text.lines()
        .map(|line| {
            let mut words = line.split_whitespace();
            let name = words.next().expect("a name").to_string();
            (name, words.map(|w| w.parse().expect("a number")).collect())
        })
        .collect()
}

#[test]
fn the_header_compiles_as_gnu99_like_xen_and_as_c11() {
    for std in ["-std=gnu99", "-std=c11"] {
        let status = Command::new("cc")
            .args([std, "-Wall", "-Wextra", "-Werror", "-fsyntax-only", "-x", "c"])
            .arg(crate_dir().join("include/rtcredit.h"))
            .status()
            .expect("cc runs");
        assert!(status.success(), "rtcredit.h compiles with {std}");
    }
}

#[test]
fn c_and_rust_agree_on_every_layout_and_constant() {
    let c = c_layout();
    let expect = |name: &str, values: &[usize]| {
        assert_eq!(c.get(name).map(Vec::as_slice), Some(values), "{name}");
    };
    expect("rtcredit_sched_rtsleep", &[size_of::<SchedRtsleep>(), align_of::<SchedRtsleep>()]);
    expect("rtcredit_sched_rtsleep.deadline_ns", &[offset_of!(SchedRtsleep, deadline_ns)]);
    expect("rtcredit_sched_rtsleep.flags", &[offset_of!(SchedRtsleep, flags)]);
    expect("rtcredit_sched_rtsleep.pad", &[offset_of!(SchedRtsleep, pad)]);
    type D = XenDomctlSchedRtcredit;
    expect("rtcredit_domctl_sched", &[size_of::<D>(), align_of::<D>()]);
    expect("rtcredit_domctl_sched.rt_allowed", &[offset_of!(D, rt_allowed)]);
    expect("rtcredit_domctl_sched.rt_budget_pct", &[offset_of!(D, rt_budget_pct)]);
    expect("rtcredit_domctl_sched.rt_rate_per_s", &[offset_of!(D, rt_rate_per_s)]);
    expect("rtcredit_domctl_sched.pad2", &[offset_of!(D, pad2)]);
    expect("rtcredit_domctl_sched.prio_ns", &[offset_of!(D, prio_ns)]);
    expect("rtcredit_domctl_sched.rt_counters.rt_requests", &[offset_of!(D, rt_counters.rt_requests)]);
    expect("rtcredit_domctl_sched.rt_counters.rt_demotions", &[offset_of!(D, rt_counters.rt_demotions)]);
    expect("rtcredit_rt_counters", &[size_of::<RtCounters>(), align_of::<RtCounters>()]);
    expect("rtcredit_domctl_sched.rt_pool_capacity_pct", &[offset_of!(D, rt_pool_capacity_pct)]);
    expect("rtcredit_domctl_sched.rt_pool_granted_pct", &[offset_of!(D, rt_pool_granted_pct)]);
    type S = XenSysctlRtcreditSchedule;
    expect("rtcredit_sysctl_sched", &[size_of::<S>(), align_of::<S>()]);
    expect("rtcredit_sysctl_sched.rt_max_lead_ms", &[offset_of!(S, rt_max_lead_ms)]);
    expect("rtcredit_sysctl_sched.rt_capacity_pct", &[offset_of!(S, rt_capacity_pct)]);
    expect("rtcredit_sysctl_sched.rt_pool_granted_pct", &[offset_of!(S, rt_pool_granted_pct)]);
    expect("rtcredit_params", &[size_of::<Params>(), align_of::<Params>()]);
    expect("rtcredit_params.tslice_ns", &[offset_of!(Params, tslice_ns)]);
    expect("rtcredit_params.ratelimit_ns", &[offset_of!(Params, ratelimit_ns)]);
    expect("rtcredit_params.rt_min_period_ns", &[offset_of!(Params, rt_min_period_ns)]);
    expect("rtcredit_params.rt_max_lead_ns", &[offset_of!(Params, rt_max_lead_ns)]);
    expect("rtcredit_params.rt_budget_window_ns", &[offset_of!(Params, rt_budget_window_ns)]);
    expect("rtcredit_params.charge_mode", &[offset_of!(Params, charge_mode)]);
    expect("rtcredit_params.rt_capacity_pct", &[offset_of!(Params, rt_capacity_pct)]);
    expect("rtcredit_rt_capacity", &[size_of::<RtCapacity>(), align_of::<RtCapacity>()]);
    expect("rtcredit_rt_capacity.capacity_pct", &[offset_of!(RtCapacity, capacity_pct)]);
    expect("rtcredit_rt_capacity.granted_pct", &[offset_of!(RtCapacity, granted_pct)]);
    expect("rtcredit_dom_params", &[size_of::<DomainParams>(), align_of::<DomainParams>()]);
    expect("rtcredit_dom_params.cap", &[offset_of!(DomainParams, cap)]);
    expect("rtcredit_dom_params.rt_allowed", &[offset_of!(DomainParams, rt_allowed)]);
    expect("rtcredit_dom_params.rt_budget_pct", &[offset_of!(DomainParams, rt_budget_pct)]);
    expect("rtcredit_dom_params.rt_rate_per_s", &[offset_of!(DomainParams, rt_rate_per_s)]);
    expect("rtcredit_decision", &[size_of::<Decision>(), align_of::<Decision>()]);
    expect("rtcredit_decision.run_ns", &[offset_of!(Decision, run_ns)]);
    expect("rtcredit_decision.prio", &[offset_of!(Decision, prio)]);
    expect("rtcredit_decision.switched", &[offset_of!(Decision, switched)]);
    expect("rtcredit_decision.migrated", &[offset_of!(Decision, migrated)]);
    expect("rtcredit_decision.tick", &[offset_of!(Decision, tick)]);
    expect("rtcredit_decision.tick_at_ns", &[offset_of!(Decision, tick_at_ns)]);
    expect("rtcredit_schedule_begin_out", &[size_of::<ScheduleBegin>(), align_of::<ScheduleBegin>()]);
    expect("rtcredit_schedule_begin_out.min_prio", &[offset_of!(ScheduleBegin, min_prio)]);
    expect("rtcredit_schedule_begin_out.candidates", &[offset_of!(ScheduleBegin, candidates)]);
    expect("rtcredit_schedule_begin_out.fallback_min_prio", &[offset_of!(ScheduleBegin, fallback_min_prio)]);
    expect("rtcredit_schedule_begin_out.fallback_candidates", &[offset_of!(ScheduleBegin, fallback_candidates)]);
    expect("rtcredit_schedule_begin_out.decision", &[offset_of!(ScheduleBegin, decision)]);
    expect("rtcredit_rtsleep_outcome", &[size_of::<RtsleepOutcome>(), align_of::<RtsleepOutcome>()]);
    expect("rtcredit_rtsleep_outcome.reschedule", &[offset_of!(RtsleepOutcome, reschedule)]);
    expect("rtcredit_rtsleep_outcome.arm_at_ns", &[offset_of!(RtsleepOutcome, arm_at_ns)]);
    expect("rtcredit_cpumask", &[size_of::<CpuMask>(), align_of::<CpuMask>()]);
    expect("rtcredit_dom_counters", &[size_of::<DomainCounters>(), align_of::<DomainCounters>()]);
    expect("rtcredit_unit_info", &[size_of::<rtcredit_unit_info>(), align_of::<rtcredit_unit_info>()]);
    expect("rtcredit_unit_info.credit", &[offset_of!(rtcredit_unit_info, credit)]);
    expect("rtcredit_unit_info.rt_deadline_ns", &[offset_of!(rtcredit_unit_info, rt_deadline_ns)]);
    expect("rtcredit_unit_info.rt_fires", &[offset_of!(rtcredit_unit_info, rt_fires)]);
    expect("rtcredit_cpu_info", &[size_of::<rtcredit_cpu_info>(), align_of::<rtcredit_cpu_info>()]);
    expect("rtcredit_cpu_info.queued", &[offset_of!(rtcredit_cpu_info, queued)]);
    expect("rtcredit_cpu_info.current_host", &[offset_of!(rtcredit_cpu_info, current_host)]);
    expect("rtcredit_unit", &[size_of::<rtcredit_unit>(), 8]);
    expect("rtcredit_dom", &[size_of::<rtcredit_dom>(), 8]);
    expect("rtcredit_cpu", &[size_of::<rtcredit_cpu>(), 8]);
    expect("rtcredit_acct", &[size_of::<rtcredit_acct>(), 8]);
    expect("rtcredit_shared", &[size_of::<rtcredit_shared>(), 8]);
    expect("RTCREDIT_SCHEDOP_RTSLEEP", &[SCHEDOP_RTSLEEP as usize]);
    expect("RTCREDIT_XEN_SCHEDULER_RTCREDIT", &[XEN_SCHEDULER_RTCREDIT as usize]);
    expect("RTCREDIT_PRIO_RT", &[Prio::Rt as usize]);
    expect("RTCREDIT_ERROR_NOT_PERMITTED", &[RtcError::NotPermitted as usize]);
}

/// Storage the way the C host allocates it.
struct Storage {
    shared: Box<MaybeUninit<rtcredit_shared>>,
    acct: Box<MaybeUninit<rtcredit_acct>>,
    cpu: Box<MaybeUninit<rtcredit_cpu>>,
    dom: Box<MaybeUninit<rtcredit_dom>>,
    units: [Box<MaybeUninit<rtcredit_unit>>; 2],
}

impl Storage {
    fn new() -> Storage {
        Storage {
            shared: Box::new(MaybeUninit::uninit()),
            acct: Box::new(MaybeUninit::uninit()),
            cpu: Box::new(MaybeUninit::uninit()),
            dom: Box::new(MaybeUninit::uninit()),
            units: [Box::new(MaybeUninit::uninit()), Box::new(MaybeUninit::uninit())],
        }
    }
}

#[test]
fn null_pointers_and_bad_arguments_are_error_codes() {
    let mut s = Storage::new();
    let params = Params::default();
    let null_cpu: *mut rtcredit_cpu = ptr::null_mut();
    // SAFETY: every pointer is null on purpose or storage of its type that the calls
    // above (or the first call here) initialised; one thread, so the locks are implicit.
    unsafe {
        assert_eq!(
            rtcredit_init(ptr::null_mut(), s.acct.as_mut_ptr(), &params, None, ptr::null_mut()),
            RtcError::NullPointer.to_c()
        );
        let bad = Params { tslice_ns: 0, ..params };
        assert_eq!(
            rtcredit_init(s.shared.as_mut_ptr(), s.acct.as_mut_ptr(), &bad, None, ptr::null_mut()),
            RtcError::BadTimeslice.to_c()
        );
        assert_eq!(rtcredit_init(s.shared.as_mut_ptr(), s.acct.as_mut_ptr(), &params, None, ptr::null_mut()), 0);
        let mut tickle = CpuMask::EMPTY;
        assert_eq!(
            rtcredit_wake(s.shared.as_ptr(), null_cpu, ptr::null_mut(), 0, &mut tickle),
            RtcError::NullPointer.to_c()
        );
        assert_eq!(rtcredit_cpu_init(s.cpu.as_mut_ptr(), 300), 0);
        assert_eq!(
            rtcredit_cpu_add(s.shared.as_ptr(), s.acct.as_mut_ptr(), s.cpu.as_mut_ptr()),
            RtcError::CpuOutOfRange.to_c()
        );
        assert!(rtcredit_steal(s.shared.as_ptr(), null_cpu, null_cpu, 9).is_null());
        assert_eq!(
            rtcredit_unit_init(s.units[0].as_mut_ptr(), ptr::null_mut(), 0, ptr::null_mut()),
            RtcError::NullPointer.to_c()
        );
    }
    assert_eq!(rtcredit_errno(RtcError::NotPermitted.to_c()), 1);
    assert_eq!(rtcredit_errno(RtcError::DeadlineTooFar.to_c()), 34);
    assert_eq!(rtcredit_errno(-999), 22);
    assert_eq!(rtcredit_errno(0), 0);
}

/// The shim starts from the core's defaults (sched_rtcredit.c has none of its own).
#[test]
fn the_default_parameters_come_from_the_core_and_pass_its_own_validation() {
    let mut out = std::mem::MaybeUninit::<Params>::uninit();
    // SAFETY: `out` is writable storage for one Params; null is refused.
    unsafe {
        assert_eq!(rtcredit_params_default(out.as_mut_ptr()), 0);
        assert_eq!(rtcredit_params_default(ptr::null_mut()), RtcError::NullPointer.to_c());
    }
    // SAFETY: written by the call above (it returned 0).
    let params = unsafe { out.assume_init() };
    assert_eq!(params, Params::default());
    assert_eq!(params.validate(), Ok(()));
}

/// One CPU with the default parameters and two domains (ids 1 and 2, `s.dom` and
/// `other`), for the pool-capacity tests; the shared, accounting and domain pointers.
///
/// # Safety
/// The storage is used only through the returned pointers afterwards.
unsafe fn one_cpu_two_domains(
    s: &mut Storage,
    other: &mut MaybeUninit<rtcredit_dom>,
) -> (*mut rtcredit_shared, *mut rtcredit_acct, *mut rtcredit_dom, *mut rtcredit_dom) {
    let (sh, acct, cpu, dom, other) =
        (s.shared.as_mut_ptr(), s.acct.as_mut_ptr(), s.cpu.as_mut_ptr(), s.dom.as_mut_ptr(), other.as_mut_ptr());
    // SAFETY: each pointer is storage of its type; the calls initialise it in order.
    unsafe {
        assert_eq!(rtcredit_init(sh, acct, &Params::default(), None, ptr::null_mut()), 0);
        assert_eq!(rtcredit_cpu_init(cpu, 0), 0);
        assert_eq!(rtcredit_cpu_add(sh, acct, cpu), 0);
        assert_eq!(rtcredit_dom_init(dom, 1), 0);
        assert_eq!(rtcredit_dom_init(other, 2), 0);
    }
    (sh, acct, dom, other)
}

/// The domctl as the shim passes it: the core reads the payload (keep markers, reserved
/// fields, ranges, the pool's capacity) and writes the answer; the shim adds only its
/// units' times.
#[test]
fn the_domctl_payload_is_read_and_answered_by_the_core() {
    let mut s = Storage::new();
    let mut other = Box::new(MaybeUninit::<rtcredit_dom>::uninit());
    // SAFETY: storage of the right types, initialised by the helper's calls.
    let (sh, acct, dom, other) = unsafe { one_cpu_two_domains(&mut s, &mut other) };
    let keep_all =
        XenDomctlSchedRtcredit { cap: DOMCTL_KEEP_CAP, rt_allowed: DOMCTL_KEEP_RT_ALLOWED, ..Default::default() };
    // SAFETY: every pointer is null on purpose or storage of its type that the calls
    // above (or the first call here) initialised; one thread, so the locks are implicit.
    unsafe {
        let mut answer = XenDomctlSchedRtcredit { prio_ns: [7; 4], pad: 9, ..Default::default() };
        assert_eq!(rtcredit_domctl_getinfo(acct, dom, &mut answer), 0);
        assert_eq!((answer.weight, answer.cap, answer.rt_allowed, answer.rt_budget_pct), (256, 0, 0, 10));
        assert_eq!((answer.pad, answer.prio_ns, answer.rt_pool_capacity_pct), (0, [0; 4], 50), "zeroed, pool filled");
        // Everything kept but the weight and an RT grant of 40%.
        let mut put = XenDomctlSchedRtcredit { weight: 512, rt_allowed: 1, rt_budget_pct: 40, ..keep_all };
        assert_eq!(rtcredit_domctl_putinfo(sh, acct, dom, &mut put), 0);
        assert_eq!((put.weight, put.cap, put.rt_allowed, put.rt_budget_pct), (512, 0, 1, 40));
        assert_eq!((put.rt_pool_capacity_pct, put.rt_pool_granted_pct), (50, 40));
        // Refusals change nothing: a reserved field, an rt_allowed of 2, a range.
        for bad in [
            XenDomctlSchedRtcredit { pad2: 1, ..keep_all },
            XenDomctlSchedRtcredit { rt_allowed: 2, ..keep_all },
            XenDomctlSchedRtcredit { rt_budget_pct: 101, ..keep_all },
        ] {
            let mut arg = bad;
            assert!(rtcredit_domctl_putinfo(sh, acct, dom, &mut arg) < 0, "{bad:?}");
        }
        let mut pad = XenDomctlSchedRtcredit { pad: 1, ..keep_all };
        assert_eq!(rtcredit_domctl_putinfo(sh, acct, dom, &mut pad), RtcError::BadDomctl.to_c());
        assert_eq!(rtcredit_errno(RtcError::BadDomctl.to_c()), 22, "EINVAL");
        let mut after = keep_all;
        assert_eq!(rtcredit_domctl_getinfo(acct, dom, &mut after), 0);
        assert_eq!((after.weight, after.rt_budget_pct), (512, 40), "unchanged by the refusals");
        // Over the pool's capacity: ENOSPC, and the answer says what is left.
        let mut greedy = XenDomctlSchedRtcredit { rt_allowed: 1, rt_budget_pct: 20, ..keep_all };
        assert_eq!(rtcredit_domctl_putinfo(sh, acct, other, &mut greedy), RtcError::RtCapacityExceeded.to_c());
        assert_eq!((greedy.rt_pool_capacity_pct, greedy.rt_pool_granted_pct), (50, 40));
        assert_eq!(rtcredit_domctl_getinfo(acct, ptr::null(), &mut after), RtcError::NullPointer.to_c());
    }
}

/// The sysctl as the shim passes it: the core converts the payload's ms and us, checks
/// the ranges and answers with the values in force and the pool's numbers.
#[test]
fn the_sysctl_payload_is_read_and_answered_by_the_core() {
    let mut s = Storage::new();
    let mut other = Box::new(MaybeUninit::<rtcredit_dom>::uninit());
    // SAFETY: storage of the right types, initialised by the helper's calls.
    let (sh, acct, dom, _) = unsafe { one_cpu_two_domains(&mut s, &mut other) };
    // SAFETY: every pointer is null on purpose or storage of its type that the calls
    // above (or the first call here) initialised; one thread, so the locks are implicit.
    unsafe {
        let mut answer = XenSysctlRtcreditSchedule::default();
        assert_eq!(rtcredit_sysctl_getinfo(acct, &mut answer), 0);
        let defaults = XenSysctlRtcreditSchedule {
            tslice_ms: 30,
            ratelimit_us: 1000,
            rt_min_period_us: 1000,
            rt_max_lead_ms: 10_000,
            rt_capacity_pct: 50,
            rt_pool_cpus: 1,
            rt_pool_capacity_pct: 50,
            rt_pool_granted_pct: 0,
        };
        assert_eq!(answer, defaults);
        let mut put = XenSysctlRtcreditSchedule { tslice_ms: 10, rt_min_period_us: 250, ..defaults };
        assert_eq!(rtcredit_sysctl_putinfo(sh, acct, &mut put), 0);
        assert_eq!((put.tslice_ms, put.rt_min_period_us, put.ratelimit_us), (10, 250, 1000));
        let mut in_force = MaybeUninit::<Params>::uninit();
        assert_eq!(rtcredit_get_params(acct, in_force.as_mut_ptr()), 0);
        let in_force = in_force.assume_init();
        assert_eq!((in_force.tslice_ns, in_force.rt_min_period_ns), (10_000_000, 250_000));
        // A range broken: refused, nothing changes.
        let mut bad = XenSysctlRtcreditSchedule { rt_min_period_us: 50, ..put };
        assert_eq!(rtcredit_sysctl_putinfo(sh, acct, &mut bad), RtcError::BadMinPeriod.to_c());
        // The capacity cannot go below what is granted (EBUSY).
        let mut dp = MaybeUninit::<DomainParams>::uninit();
        assert_eq!(rtcredit_dom_get_params(acct, dom, dp.as_mut_ptr()), 0);
        let grant = DomainParams { rt_allowed: true, rt_budget_pct: 40, ..dp.assume_init() };
        assert_eq!(rtcredit_dom_set_params(sh, acct, dom, &grant), 0);
        let mut lower = XenSysctlRtcreditSchedule { rt_capacity_pct: 30, ..put };
        assert_eq!(rtcredit_sysctl_putinfo(sh, acct, &mut lower), RtcError::RtCapacityBelowGranted.to_c());
        assert_eq!(rtcredit_sysctl_getinfo(acct, &mut answer), 0);
        assert_eq!((answer.rt_min_period_us, answer.rt_capacity_pct, answer.rt_pool_granted_pct), (250, 50, 40));
        assert_eq!(rtcredit_sysctl_getinfo(acct, ptr::null_mut()), RtcError::NullPointer.to_c());
    }
}

#[test]
fn a_grant_over_the_pools_rt_capacity_is_refused_with_enospc_and_the_capacity_says_what_is_left() {
    let mut s = Storage::new();
    let mut other = Box::new(MaybeUninit::<rtcredit_dom>::uninit());
    // SAFETY: storage of the right types, initialised by the helper's calls.
    let (sh, acct, dom, other) = unsafe { one_cpu_two_domains(&mut s, &mut other) };
    // SAFETY: every pointer is null on purpose or storage of its type that the calls
    // above (or the first call here) initialised; one thread, so the locks are implicit.
    unsafe {
        let mut dp = MaybeUninit::<DomainParams>::uninit();
        assert_eq!(rtcredit_dom_get_params(acct, dom, dp.as_mut_ptr()), 0);
        let grant = |pct| DomainParams { rt_allowed: true, rt_budget_pct: pct, ..dp.assume_init() };
        assert_eq!(rtcredit_dom_set_params(sh, acct, dom, &grant(40)), 0);
        let refused = rtcredit_dom_set_params(sh, acct, other, &grant(20));
        assert_eq!(refused, RtcError::RtCapacityExceeded.to_c());
        assert_eq!(rtcredit_errno(refused), 28, "ENOSPC");
        let mut capacity = MaybeUninit::<RtCapacity>::uninit();
        assert_eq!(rtcredit_get_rt_capacity(acct, capacity.as_mut_ptr()), 0);
        let capacity = capacity.assume_init();
        assert_eq!((capacity.capacity_pct, capacity.granted_pct, capacity.remaining_pct()), (50, 40, 10));
        assert_eq!(rtcredit_dom_set_params(sh, acct, other, &grant(10)), 0, "what is left can be granted");
        assert_eq!(rtcredit_dom_release(sh, acct, dom), 0);
        let mut after = MaybeUninit::<RtCapacity>::uninit();
        assert_eq!(rtcredit_get_rt_capacity(acct, after.as_mut_ptr()), 0);
        assert_eq!(after.assume_init().granted_pct, 10, "a released domain gives its share back");
        assert_eq!(rtcredit_dom_release(sh, ptr::null_mut(), dom), RtcError::NullPointer.to_c());
        assert_eq!(rtcredit_get_rt_capacity(acct, ptr::null_mut()), RtcError::NullPointer.to_c());
    }
}

#[test]
fn a_scheduling_round_trip_through_the_c_abi() {
    let mut s = Storage::new();
    let params = Params::default();
    let (sh, acct, cpu, dom) = (s.shared.as_mut_ptr(), s.acct.as_mut_ptr(), s.cpu.as_mut_ptr(), s.dom.as_mut_ptr());
    let [u0, u1] = &mut s.units;
    let (u0, u1) = (u0.as_mut_ptr(), u1.as_mut_ptr());
    // SAFETY: every pointer is null on purpose or storage of its type that the calls
    // above (or the first call here) initialised; one thread, so the locks are implicit.
    unsafe {
        assert_eq!(rtcredit_init(sh, acct, &params, None, ptr::null_mut()), 0);
        assert_eq!(rtcredit_cpu_init(cpu, 0), 0);
        assert_eq!(rtcredit_cpu_add(sh, acct, cpu), 0);
        assert_eq!(rtcredit_dom_init(dom, 7), 0);
        let mut dp = MaybeUninit::<DomainParams>::uninit();
        assert_eq!(rtcredit_dom_get_params(acct, dom, dp.as_mut_ptr()), 0);
        let mut dp = dp.assume_init();
        dp.rt_allowed = true;
        assert_eq!(rtcredit_dom_set_params(sh, acct, dom, &dp), 0);
        assert_eq!(rtcredit_unit_init(u0, dom, 0, 0x1000 as *mut _), 0);
        assert_eq!(rtcredit_unit_init(u1, dom, 1, 0x2000 as *mut _), 0);
        let mut tickle = CpuMask::EMPTY;
        assert_eq!(rtcredit_unit_insert(sh, cpu, u0, true, 0, &mut tickle), 0);
        assert_eq!(rtcredit_unit_insert(sh, cpu, u1, true, 0, &mut tickle), 0);
        let mut begin = MaybeUninit::<ScheduleBegin>::uninit();
        assert_eq!(rtcredit_schedule_begin(sh, cpu, 0, false, begin.as_mut_ptr()), 0);
        let begin = begin.assume_init();
        assert!(!begin.want_steal);
        assert_eq!(begin.decision.next_host as usize, 0x1000);
        assert_eq!(begin.decision.prio, Prio::Boost);
        let args = SchedRtsleep { deadline_ns: 10_000_000, flags: 0, pad: 0 };
        let mut outcome = MaybeUninit::<RtsleepOutcome>::uninit();
        assert_eq!(rtcredit_rtsleep(sh, cpu, u0, &args, 0, outcome.as_mut_ptr()), 0);
        assert_eq!(
            outcome.assume_init(),
            RtsleepOutcome { result: RTSLEEP_GRANTED, reschedule: false, arm_at_ns: 10_000_000 }
        );
        let bad = SchedRtsleep { flags: 0x80, ..args };
        assert_eq!(rtcredit_rtsleep(sh, cpu, u1, &bad, 0, outcome.as_mut_ptr()), RtcError::UnknownFlags.to_c());
        // A refusal still writes the outcome: the hypercall's -errno, no timer, and
        // whether the pass is due (not here: the caller was not at RT).
        assert_eq!(
            outcome.assume_init(),
            RtsleepOutcome { result: -RtcError::UnknownFlags.errno(), reschedule: false, arm_at_ns: 0 }
        );
        assert_eq!(rtcredit_rtsleep(sh, cpu, u1, &args, 0, outcome.as_mut_ptr()), RtcError::NotRunning.to_c());
        let mut next = 0u64;
        assert_eq!(rtcredit_tick(sh, acct, cpu, 10_000_000, &mut next), 0);
        assert_eq!(next, 20_000_000);
        let mut rearm = u64::MAX;
        // 1 ns early (Xen's timers may be): stale, and armed again for the deadline.
        assert_eq!(rtcredit_rt_fire(sh, cpu, u0, 9_999_999, &mut tickle, &mut rearm), RtcError::StaleTimer.to_c());
        assert_eq!(rearm, 10_000_000);
        assert_eq!(rtcredit_rt_fire(sh, cpu, u0, 10_000_000, &mut tickle, &mut rearm), 0);
        assert_eq!(rearm, 0);
        // Served: nothing registered any more, so a second expiry leaves the timer off.
        assert_eq!(rtcredit_rt_fire(sh, cpu, u0, 10_000_001, &mut tickle, &mut rearm), RtcError::StaleTimer.to_c());
        assert_eq!(rearm, 0);
        let mut info = MaybeUninit::<rtcredit_unit_info>::uninit();
        assert_eq!(rtcredit_unit_get_info(u0, info.as_mut_ptr()), 0);
        let info = info.assume_init();
        assert_eq!((info.prio, info.running, info.rt_fires), (Prio::Rt as u8, true, 1));
        let mut cpu_info = MaybeUninit::<rtcredit_cpu_info>::uninit();
        assert_eq!(rtcredit_cpu_get_info(cpu, cpu_info.as_mut_ptr()), 0);
        let cpu_info = cpu_info.assume_init();
        assert_eq!(cpu_info.queued, [0, 1, 0, 0]);
        assert_eq!(cpu_info.current_host as usize, 0x1000);
        assert_eq!(rtcredit_account_begin(sh, acct), 0);
        assert_eq!(rtcredit_account_cpu(sh, acct, cpu, 30_000_000, &mut tickle), 0);
        assert_eq!(rtcredit_account_end(sh, acct, 30_000_000, &mut next), 0);
        assert_eq!(next, 60_000_000);
        let mut counters = MaybeUninit::<DomainCounters>::uninit();
        assert_eq!(rtcredit_dom_get_counters(dom, counters.as_mut_ptr()), 0);
        let counters = counters.assume_init();
        assert_eq!((counters.rt.rt_granted, counters.rt.rt_fires, counters.rt.rt_denied), (1, 1, 2));
        assert_eq!(rtcredit_dom_removable(acct, dom), RtcError::DomainBusy.to_c());
        assert_eq!(rtcredit_cpu_remove(sh, acct, cpu), RtcError::CpuNotEmpty.to_c());
    }
}
