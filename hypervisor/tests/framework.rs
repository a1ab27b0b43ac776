//! The framework's own rules (`rtcredit::framework`), on the real core: a pending
//! softirq is raised once, a re-armed timer's older expiry never comes out, RT timers
//! follow the latest `rtsleep`, and the periodic timers' slop stays within its bound.

use rtcredit::framework::{Due, Fired, Framework, TimerEvent, Timing};
use rtcredit::host::{Host, UnitId};
use rtcredit::{CpuMask, DomainParams, Params, SchedRtsleep};

const MS: u64 = 1_000_000;
const US: u64 = 1_000;

type Xen = Framework<Host, ()>;

/// One CPU, `units` runnable hogs (RT allowed), the host started.
fn host(units: usize, slop_ns: u64) -> (Xen, Vec<UnitId>) {
    let params = Params { rt_capacity_pct: 100, ..Params::default() };
    let mut host = Host::new(params, 1, false).expect("host");
    let mut ids = Vec::new();
    for index in 0..units {
        let dom = host.add_domain(index as u32 + 1);
        let allowed = DomainParams { rt_allowed: true, rt_budget_pct: 50, ..host.domain_params(dom).expect("params") };
        host.set_domain_params(dom, &allowed).expect("params");
        ids.push(host.add_unit(dom, 0, true, 0).expect("unit").0);
    }
    let timing = Timing { ipi_delay_ns: 2 * US, timer_slop_ns: slop_ns };
    // A fixed draw at the top of the range: every slopped timer is as late as allowed.
    let draw = Box::new(|bound: u64| bound - 1);
    let mut xen = Framework::new(host, 1, timing, Some(draw));
    xen.start(CpuMask::EMPTY);
    (xen, ids)
}

/// Pops and fires everything due by `until_ns`; the framework's events, in order.
fn run(xen: &mut Xen, until_ns: u64) -> Vec<(u64, TimerEvent)> {
    let mut seen = Vec::new();
    while let Some((at, due)) = xen.pop(until_ns) {
        let Due::Timer(event) = due else { continue };
        seen.push((at, event));
        xen.fire(event).expect("fire");
    }
    seen
}

#[test]
fn a_softirq_raised_while_pending_runs_one_pass() {
    let (mut xen, _) = host(1, 0);
    xen.raise(CpuMask::single(0));
    xen.raise(CpuMask::single(0));
    let passes = run(&mut xen, 10 * US).into_iter().filter(|(_, e)| matches!(e, TimerEvent::Softirq { .. })).count();
    assert_eq!(passes, 1, "start's raise and two more while pending: one pass");
}

#[test]
fn a_new_pass_makes_the_slice_timer_of_the_last_one_stale() {
    let (mut xen, _) = host(2, 0);
    // The boot pass picks a unit for a slice (30 ms): its slice timer is queued.
    let (at, due) = xen.pop(MS).expect("boot softirq");
    assert_eq!((at, due), (2 * US, Due::Timer(TimerEvent::Softirq { cpu: 0 })));
    let Due::Timer(event) = due else { unreachable!() };
    let Fired::Pass { decision, .. } = xen.fire(event).expect("pass") else { panic!("a pass") };
    assert!(decision.next.is_some() && decision.run_ns != u64::MAX);
    // A guest event 1 ms later raises another pass, which re-arms the slice timer;
    // the first expiry never comes out.
    xen.push(MS, ());
    let mut slices = Vec::new();
    while let Some((at, due)) = xen.pop(100 * MS) {
        match due {
            Due::Guest(()) => xen.raise(CpuMask::single(0)),
            Due::Timer(event) => {
                if let TimerEvent::Slice { .. } = event {
                    slices.push(at);
                }
                xen.fire(event).expect("fire");
            }
        }
    }
    let stale = 2 * US + decision.run_ns;
    assert!(!slices.is_empty() && !slices.contains(&stale), "slices at {slices:?}, the stale one at {stale}");
}

#[test]
fn only_the_latest_rtsleep_arms_the_rt_timer() {
    let (mut xen, units) = host(1, 0);
    run(&mut xen, 10 * US);
    let unit = units[0];
    assert_eq!(xen.sched().current(0), Some(unit));
    for deadline_ns in [20 * MS, 25 * MS] {
        xen.rtsleep(unit, &SchedRtsleep { deadline_ns, flags: 0, pad: 0 }).expect("granted");
    }
    let fires: Vec<u64> = run(&mut xen, 40 * MS)
        .into_iter()
        .filter(|(_, e)| matches!(e, TimerEvent::RtTimer { .. }))
        .map(|(at, _)| at)
        .collect();
    assert_eq!(fires, vec![25 * MS]);
}

#[test]
fn periodic_timers_fire_at_most_the_slop_late_and_rt_timers_on_time() {
    let slop = 50 * US;
    let (mut xen, units) = host(1, slop);
    run(&mut xen, 10 * US);
    xen.rtsleep(units[0], &SchedRtsleep { deadline_ns: 7 * MS, flags: 0, pad: 0 }).expect("granted");
    let seen = run(&mut xen, 100 * MS);
    // The draw is always its maximum: the first accounting timer comes slop late.
    let accounts: Vec<u64> = seen.iter().filter(|(_, e)| *e == TimerEvent::Account).map(|(at, _)| *at).collect();
    assert_eq!(accounts.first(), Some(&(30 * MS + slop)));
    let ticks: Vec<u64> =
        seen.iter().filter(|(_, e)| matches!(e, TimerEvent::Tick { .. })).map(|(at, _)| *at).collect();
    assert!(ticks.len() >= 5, "{ticks:?}");
    for pair in ticks.windows(2) {
        assert_eq!(pair[1] - pair[0], 10 * MS + slop, "re-armed from the handler, each one slop late: {ticks:?}");
    }
    let rt: Vec<u64> =
        seen.iter().filter(|(_, e)| matches!(e, TimerEvent::RtTimer { .. })).map(|(at, _)| *at).collect();
    assert_eq!(rt, vec![7 * MS], "the RT timer has no slop");
}
