//! One small scenario per RT rule: validation, the fire in each state, demotion,
//! charging, budgets, permission, tracing.

use rtcredit::abi::{RTSLEEP_CANCELLED, RTSLEEP_DEGRADED, RTSLEEP_FLAG_CANCEL, RTSLEEP_GRANTED};
use rtcredit::host::{DomId, Host, Scheduled, UnitId};
use rtcredit::params::RT_QUANTUM_NS;
use rtcredit::{trace, CpuMask, DomainParams, Params, Prio, RtcError, RtsleepRefused, SchedRtsleep};

const MS: u64 = 1_000_000;

fn rt_params() -> DomainParams {
    DomainParams { weight: 256, cap: 0, rt_allowed: true, rt_budget_pct: 10, rt_rate_per_s: 1000 }
}

fn deadline(at: u64) -> SchedRtsleep {
    SchedRtsleep { deadline_ns: at, flags: 0, pad: 0 }
}

/// One CPU; an RT-allowed domain with one unit, plus `hogs` always-runnable hogs. The
/// RT unit is running at time 0.
fn setup(hogs: usize) -> (Host, DomId, UnitId, Vec<UnitId>) {
    let mut host = Host::new(Params::default(), 1, true).unwrap();
    let dom = host.add_domain(1);
    host.set_domain_params(dom, &rt_params()).unwrap();
    let (rt, _) = host.add_unit(dom, 0, true, 0).unwrap();
    let mut hog_units = Vec::new();
    for index in 0..hogs {
        let hog_dom = host.add_domain(10 + index as u32);
        hog_units.push(host.add_unit(hog_dom, 0, true, 0).unwrap().0);
    }
    assert_eq!(host.schedule(0, 0, false).unwrap().next, Some(rt));
    (host, dom, rt, hog_units)
}

/// `n` RT grants on the lone running unit `rt`, from `now`: each registers a deadline
/// 1 ms ahead, fires there and runs its whole quantum. Returns the time after the last.
fn run_rt_quanta(host: &mut Host, rt: UnitId, mut now: u64, n: u32) -> u64 {
    for _ in 0..n {
        let at = now + MS;
        assert_eq!(host.rtsleep(rt, &deadline(at), now).unwrap().result, RTSLEEP_GRANTED);
        host.rt_fire(rt, at).unwrap();
        let pass = host.schedule(0, at, false).unwrap();
        assert_eq!((pass.prio, pass.run_ns), (Prio::Rt, RT_QUANTUM_NS));
        host.schedule(0, at + RT_QUANTUM_NS, false).unwrap();
        now = at + RT_QUANTUM_NS;
    }
    now
}

/// A task that sleeps to its deadlines on CPU 0, first half: at `now` the running
/// `unit` registers `at` (which ends any RT it has) and blocks; the CPU passes to
/// another. Returns its class right after the registration.
fn sleep_to(host: &mut Host, unit: UnitId, now: u64, at: u64) -> Prio {
    host.rtsleep(unit, &deadline(at), now).unwrap();
    let class = host.unit(unit).unwrap().prio;
    host.sleep(unit).unwrap();
    host.schedule(0, now, false).unwrap();
    class
}

/// Second half: at `at` its deadline fires and wakes it. Returns the pass at `at`.
fn wake_at_deadline(host: &mut Host, unit: UnitId, at: u64) -> Scheduled {
    host.rt_fire(unit, at).unwrap();
    host.wake(unit, at).unwrap();
    host.schedule(0, at, false).unwrap()
}

/// One CPU, two RT-allowed domains A and B with one unit each (A running at time 0),
/// and `hogs` hogs.
fn two_rt_domains(hogs: usize) -> (Host, UnitId, UnitId, Vec<UnitId>) {
    let (mut host, a, b) = rt_pair(1);
    let mut hog_units = Vec::new();
    for index in 0..hogs {
        let hog_dom = host.add_domain(10 + index as u32);
        hog_units.push(host.add_unit(hog_dom, 0, true, 0).unwrap().0);
    }
    assert_eq!(host.schedule(0, 0, false).unwrap().next, Some(a));
    (host, a, b, hog_units)
}

/// Both RT units of `two_rt_domains` register while they run and then block: A its
/// deadline at 10 ms at time 0, B (which then runs) `b_deadline` at 0.1 ms. Returns what
/// CPU 0 runs at 0.2 ms, after B's block.
fn both_register_and_block(host: &mut Host, a: UnitId, b: UnitId, b_deadline: u64) -> Option<UnitId> {
    host.rtsleep(a, &deadline(10 * MS), 0).unwrap();
    host.sleep(a).unwrap();
    assert_eq!(host.schedule(0, 100_000, false).unwrap().next, Some(b));
    host.rtsleep(b, &deadline(b_deadline), 100_000).unwrap();
    host.sleep(b).unwrap();
    host.schedule(0, 200_000, false).unwrap().next
}

/// `ncpus` CPUs and two RT-allowed domains (ids 1, 2) with one runnable unit each on
/// CPU 0.
fn rt_pair(ncpus: u32) -> (Host, UnitId, UnitId) {
    let mut host = Host::new(Params::default(), ncpus, true).unwrap();
    let mut rt = Vec::new();
    for domid in [1, 2] {
        let dom = host.add_domain(domid);
        host.set_domain_params(dom, &rt_params()).unwrap();
        rt.push(host.add_unit(dom, 0, true, 0).unwrap().0);
    }
    (host, rt[0], rt[1])
}

#[test]
fn each_validation_rule_has_its_own_error() {
    let (mut host, dom, rt, hogs) = setup(1);
    let now = MS;
    // A deadline came due at 0.5 ms: the next must be at least 1 ms (the default minimum
    // period) after it.
    host.rtsleep(rt, &deadline(MS / 2), 0).unwrap();
    host.rt_fire(rt, MS / 2).unwrap();
    let cases = [
        (SchedRtsleep { pad: 1, ..deadline(now + 10 * MS) }, RtcError::BadPadding),
        (SchedRtsleep { flags: 1 << 7, ..deadline(now + 10 * MS) }, RtcError::UnknownFlags),
        (deadline(MS / 2 + MS - 1), RtcError::PeriodTooShort),
        (deadline(now + 10_000 * MS + 1), RtcError::DeadlineTooFar),
    ];
    for (args, error) in cases {
        assert_eq!(host.rtsleep(rt, &args, now), Err(error), "{args:?}");
    }
    assert_eq!(host.rtsleep(hogs[0], &deadline(now + 10 * MS), now), Err(RtcError::NotRunning));
    // The bounds themselves are accepted.
    assert_eq!(host.rtsleep(rt, &deadline(MS / 2 + MS), now).unwrap().result, RTSLEEP_GRANTED);
    assert_eq!(host.rtsleep(rt, &deadline(now + 10_000 * MS), now).unwrap().result, RTSLEEP_GRANTED);
    let mut params = rt_params();
    params.rt_allowed = false;
    host.set_domain_params(dom, &params).unwrap();
    assert_eq!(host.rtsleep(rt, &deadline(now + 10 * MS), now), Err(RtcError::NotPermitted));
    // The NotRunning refusal is counted against the hog's domain.
    assert_eq!(host.domain_counters(dom).unwrap().rt.rt_denied, 5);
    // All six at one instant: one record per unit (rate limited), the others counted in
    // the record's fourth word until the next one.
    let records: Vec<_> = host.take_trace().into_iter().filter(|r| r.event == trace::RT_DENY).collect();
    assert_eq!(records.len(), 2, "one RT_DENY record per unit per interval: {records:?}");
    assert_eq!(
        records.iter().map(|r| r.data[2]).collect::<Vec<_>>(),
        [RtcError::BadPadding as u32, RtcError::NotRunning as u32]
    );
}

#[test]
fn refusal_records_are_rate_limited_per_unit_and_carry_the_untraced_count() {
    let (mut host, dom, rt, _) = setup(0);
    let mut params = rt_params();
    params.rt_allowed = false;
    host.set_domain_params(dom, &params).unwrap();
    host.take_trace();
    // A guest without permission asks every 100 us for one second: 10,000 refusals.
    let step = MS / 10;
    let mut now = MS;
    for _ in 0..10_000 {
        assert_eq!(host.rtsleep(rt, &deadline(now + 10 * MS), now), Err(RtcError::NotPermitted));
        now += step;
    }
    // One more after a quiet interval: its record carries the rest.
    now += rtcredit::rt::DENY_TRACE_INTERVAL_NS;
    assert_eq!(host.rtsleep(rt, &deadline(now + 10 * MS), now), Err(RtcError::NotPermitted));
    let records: Vec<_> = host.take_trace().into_iter().filter(|r| r.event == trace::RT_DENY).collect();
    // One record per 100 ms of the flood (10) and the last one.
    assert_eq!(records.len(), 11, "{} records for 10,001 refusals", records.len());
    assert!(records.iter().all(|r| r.data[2] == RtcError::NotPermitted as u32));
    let covered: u64 = records.iter().map(|r| 1 + u64::from(r.data[3])).sum();
    assert_eq!(covered, 10_001, "each record counts the refusals it stands for");
    assert_eq!(host.domain_counters(dom).unwrap().rt.rt_denied, 10_001, "the counter counts every refusal");
}

#[test]
fn a_new_request_replaces_the_old_one_and_cancel_drops_it() {
    let (mut host, _, rt, _) = setup(0);
    let first = host.rtsleep(rt, &deadline(20 * MS), 0).unwrap();
    assert_eq!(first.arm_at_ns, 20 * MS);
    let second = host.rtsleep(rt, &deadline(15 * MS), 0).unwrap();
    assert_eq!(second.arm_at_ns, 15 * MS);
    assert_eq!(host.unit(rt).unwrap().rt_deadline_ns, Some(15 * MS));
    let cancel = SchedRtsleep { deadline_ns: 0, flags: RTSLEEP_FLAG_CANCEL, pad: 0 };
    let outcome = host.rtsleep(rt, &cancel, 0).unwrap();
    assert_eq!((outcome.result, outcome.arm_at_ns), (RTSLEEP_CANCELLED, 0));
    assert_eq!(host.unit(rt).unwrap().rt_deadline_ns, None);
    assert_eq!(host.rt_fire(rt, 15 * MS), Err(RtcError::StaleTimer));
}

#[test]
fn a_deadline_reached_while_blocked_makes_the_wake_rt_and_preempts_hogs() {
    let (mut host, dom, rt, hogs) = setup(3);
    host.rtsleep(rt, &deadline(10 * MS), 100_000).unwrap();
    host.sleep(rt).unwrap();
    let hog = host.schedule(0, 100_000, false).unwrap();
    assert_eq!(hog.next, Some(hogs[0]));
    // The timer fires first, then the guest's own timer wakes the VCPU.
    assert_eq!(host.rt_fire(rt, 10 * MS), Ok(CpuMask::EMPTY));
    let tickle = host.wake(rt, 10 * MS).unwrap();
    assert_eq!(tickle, CpuMask::single(0));
    assert_eq!(host.queue(0)[0], rt, "RT goes to the head of the queue");
    // The hog was switched in 9.9 ms ago, so the rate limit does not matter here.
    let decision = host.schedule(0, 10 * MS + 10_000, false).unwrap();
    assert_eq!((decision.next, decision.prio), (Some(rt), Prio::Rt));
    assert_eq!(host.domain_counters(dom).unwrap().rt.rt_fires, 1);
}

/// The shim stops a sleeping unit's RT timer (on Xen a second timer a few us before
/// the guest's own pushed the guest's wake back by `timer_slop`): the wake at the
/// deadline serves it, as the fire would have, and a wake before it re-arms the timer.
#[test]
fn a_sleeping_units_rt_timer_is_stopped_and_its_wake_at_the_deadline_serves_it() {
    let (mut host, dom, rt, hogs) = setup(3);
    host.rtsleep(rt, &deadline(10 * MS), 100_000).unwrap();
    assert_eq!(host.rt_timer_at(rt), 10 * MS, "armed while it runs");
    host.block(rt).unwrap();
    assert_eq!(host.rt_timer_at(rt), 10 * MS, "still armed until the pass hears of the block");
    assert_eq!(host.schedule(0, 100_000, false).unwrap().next, Some(hogs[0]));
    assert_eq!(host.rt_timer_at(rt), 0, "stopped while it sleeps");
    // An event wakes it 1 ms early: no RT yet, the timer is armed again; it blocks again.
    host.wake(rt, 9 * MS).unwrap();
    assert_eq!((host.unit(rt).unwrap().prio, host.rt_timer_at(rt)), (Prio::Boost, 10 * MS));
    host.schedule(0, 9 * MS, false).unwrap();
    host.block(rt).unwrap();
    host.schedule(0, 9 * MS + 50_000, false).unwrap();
    assert_eq!(host.rt_timer_at(rt), 0);
    // The guest's own timer wakes it 3 us after the deadline, with no RT fire before.
    let tickle = host.wake(rt, 10 * MS + 3_000).unwrap();
    assert_eq!(tickle, CpuMask::single(0));
    let view = host.unit(rt).unwrap();
    assert_eq!((view.prio, view.rt_fires, view.rt_deadline_ns), (Prio::Rt, 1, None));
    assert_eq!(host.rt_timer_at(rt), 0, "served: nothing left to arm");
    let decision = host.schedule(0, 10 * MS + 5_000, false).unwrap();
    assert_eq!((decision.next, decision.prio), (Some(rt), Prio::Rt));
    assert_eq!(host.domain_counters(dom).unwrap().rt.rt_fires, 1);
    let fires: Vec<_> = host.take_trace().into_iter().filter(|r| r.event == trace::RT_FIRE).collect();
    assert_eq!(fires.len(), 1);
    assert_eq!(fires[0].data[3], 3_000, "traced with its lateness, from the deadline");
}

/// A wake long after the deadline (more than a tick) is counted as its fire but gets
/// no RT, as a pending grant older than a tick is dropped.
#[test]
fn a_wake_more_than_a_tick_after_the_deadline_fires_it_without_rt() {
    let (mut host, _, rt, _) = setup(1);
    host.rtsleep(rt, &deadline(10 * MS), 0).unwrap();
    host.sleep(rt).unwrap();
    host.schedule(0, 0, false).unwrap();
    host.wake(rt, 50 * MS).unwrap();
    let view = host.unit(rt).unwrap();
    assert_eq!((view.prio, view.rt_fires, view.rt_deadline_ns), (Prio::Boost, 1, None));
}

#[test]
fn a_deadline_reached_while_queued_moves_the_unit_to_rt_and_tickles() {
    let (mut host, _, rt, hogs) = setup(3);
    host.rtsleep(rt, &deadline(10 * MS), 0).unwrap();
    // Make it OVER and queued behind hogs: the paper's failure case.
    host.tick(0, 10 * MS - 1).unwrap();
    assert_eq!(host.schedule(0, 10 * MS - 1, false).unwrap().next, Some(hogs[0]));
    assert_eq!(host.queue(0).last(), Some(&rt));
    let tickle = host.rt_fire(rt, 10 * MS).unwrap();
    assert_eq!(tickle, CpuMask::single(0));
    assert_eq!(host.queue(0)[0], rt);
    assert_eq!(host.unit(rt).unwrap().prio, Prio::Rt);
}

#[test]
fn rt_overrides_the_rate_limit() {
    let (mut host, _, rt, hogs) = setup(1);
    host.rtsleep(rt, &deadline(10 * MS), 0).unwrap();
    host.sleep(rt).unwrap();
    // The hog is switched in just before the deadline: within its 1 ms rate limit.
    let switched = host.schedule(0, 10 * MS - 200_000, false).unwrap();
    assert_eq!(switched.next, Some(hogs[0]));
    host.rt_fire(rt, 10 * MS).unwrap();
    host.wake(rt, 10 * MS).unwrap();
    let decision = host.schedule(0, 10 * MS, false).unwrap();
    assert_eq!(decision.next, Some(rt), "a BOOST wake would have waited 0.8 ms more");
}

#[test]
fn an_rt_wake_prefers_an_idle_cpu_over_preempting() {
    let mut host = Host::new(Params::default(), 2, true).unwrap();
    let dom = host.add_domain(1);
    host.set_domain_params(dom, &rt_params()).unwrap();
    let (rt, _) = host.add_unit(dom, 0, true, 0).unwrap();
    let hog_dom = host.add_domain(2);
    let (hog, _) = host.add_unit(hog_dom, 0, true, 0).unwrap();
    host.schedule(0, 0, false).unwrap();
    host.rtsleep(rt, &deadline(10 * MS), 0).unwrap();
    host.sleep(rt).unwrap();
    host.schedule(0, 100_000, false).unwrap();
    assert_eq!(host.current(0), Some(hog));
    host.schedule(1, 100_000, false).unwrap();
    assert!(host.idlers().contains(1));
    assert_eq!(host.rt_fire(rt, 10 * MS), Ok(CpuMask::EMPTY), "blocked: nothing to tickle yet");
    let tickle = host.wake(rt, 10 * MS).unwrap();
    assert_eq!(tickle, CpuMask::single(1), "the idle CPU, not the hog's");
    let decision = host.schedule(1, 10 * MS, false).unwrap();
    assert_eq!((decision.next, decision.prio, decision.migrated), (Some(rt), Prio::Rt, true));
    assert_eq!(host.current(0), Some(hog), "the hog was not preempted");
}

#[test]
fn rt_ends_after_the_quantum_and_when_the_unit_blocks_to_the_class_its_credit_earns() {
    let (mut host, dom, rt, _) = setup(0);
    // Asked 1 ms ahead: its grant's limit is the quantum (10% of 1 ms is less).
    host.rtsleep(rt, &deadline(10 * MS), 9 * MS).unwrap();
    host.rt_fire(rt, 10 * MS).unwrap();
    assert_eq!(host.unit(rt).unwrap().prio, Prio::Rt, "running: it just becomes RT");
    // Its slice ends at the quantum: 0.5 ms at RT.
    assert_eq!(host.schedule(0, 10 * MS, false).unwrap().run_ns, RT_QUANTUM_NS);
    // It has run 10.5 ms on no credit: -105, so RT ends (quantum) to OVER, not UNDER.
    host.tick(0, 10 * MS).unwrap();
    host.schedule(0, 10 * MS + RT_QUANTUM_NS, false).unwrap();
    let view = host.unit(rt).unwrap();
    assert_eq!((view.credit, view.prio), (-105, Prio::Over));
    // Accounting gives it the CPU's 300 (the only active unit): UNDER again.
    host.account(20 * MS);
    assert_eq!(host.unit(rt).unwrap().prio, Prio::Under);
    host.schedule(0, 20 * MS, false).unwrap();
    assert_eq!(host.current(0), Some(rt));
    host.rtsleep(rt, &deadline(25 * MS), 20 * MS).unwrap();
    host.rt_fire(rt, 25 * MS).unwrap();
    host.sleep(rt).unwrap();
    host.schedule(0, 25 * MS + 100_000, false).unwrap();
    let view = host.unit(rt).unwrap();
    assert!(view.credit >= 0);
    assert_eq!(view.prio, Prio::Under, "blocked with credit left: UNDER");
    assert_eq!(host.domain_counters(dom).unwrap().rt.rt_demotions, 2);
    let demotions: Vec<u32> =
        host.take_trace().iter().filter(|r| r.event == trace::RT_DEMOTE).map(|r| r.data[2]).collect();
    assert_eq!(demotions, vec![5, 1], "reason: quantum, then block");
}

#[test]
fn rt_run_time_is_charged_as_credit_and_counted_as_rt_time() {
    let (mut host, dom, rt, _) = setup(1);
    sleep_to(&mut host, rt, 0, 10 * MS);
    wake_at_deadline(&mut host, rt, 10 * MS);
    let before = host.unit(rt).unwrap().credit;
    host.sleep(rt).unwrap();
    host.schedule(0, 12 * MS, false).unwrap();
    let view = host.unit(rt).unwrap();
    assert_eq!(before - view.credit, 20, "2 ms at RT cost 20 credits");
    assert_eq!(view.prio_ns[Prio::Rt as usize], 2 * MS);
    assert_eq!(host.domain_counters(dom).unwrap().window_rt_ns, 2 * MS);
}

#[test]
fn over_the_request_rate_a_request_degrades_to_a_normal_wake() {
    let (mut host, dom, rt, _) = setup(0);
    let mut params = rt_params();
    params.rt_rate_per_s = 3;
    host.set_domain_params(dom, &params).unwrap();
    for _ in 0..3 {
        assert_eq!(host.rtsleep(rt, &deadline(20 * MS), 0).unwrap().result, RTSLEEP_GRANTED);
    }
    let outcome = host.rtsleep(rt, &deadline(20 * MS), 0).unwrap();
    assert_eq!((outcome.result, outcome.arm_at_ns), (RTSLEEP_DEGRADED, 0));
    assert_eq!(host.unit(rt).unwrap().rt_deadline_ns, None, "the degraded request replaced the old one");
    // A new window (1 s) restores the allowance.
    assert_eq!(host.rtsleep(rt, &deadline(1_020 * MS), 1_000 * MS).unwrap().result, RTSLEEP_GRANTED);
    assert_eq!(host.domain_counters(dom).unwrap().rt.rt_degraded, 1);
}

#[test]
fn over_the_cpu_budget_the_rt_slice_is_cut_and_requests_degrade() {
    let (mut host, dom, rt, _) = setup(0);
    let mut params = rt_params();
    params.rt_budget_pct = 1; // 10 ms per 1 s window: 19 quanta and 0.3 ms more
    host.set_domain_params(dom, &params).unwrap();
    let now = run_rt_quanta(&mut host, rt, 0, 19);
    // One more grant whose task sleeps after 0.3 ms: 9.8 ms used, 0.2 ms left.
    host.rtsleep(rt, &deadline(now + MS), now).unwrap();
    host.rt_fire(rt, now + MS).unwrap();
    host.rtsleep(rt, &deadline(now + 2 * MS), now + MS + 300_000).unwrap();
    assert_eq!(host.domain_counters(dom).unwrap().window_rt_ns, 9_800_000);
    host.rt_fire(rt, now + 2 * MS).unwrap();
    let pass = host.schedule(0, now + 2 * MS, false).unwrap();
    assert_eq!((pass.prio, pass.run_ns), (Prio::Rt, 200_000), "0.2 ms of budget left: the slice ends there");
    let now = now + 2 * MS + 200_000;
    host.schedule(0, now, false).unwrap();
    assert_ne!(host.unit(rt).unwrap().prio, Prio::Rt, "budget spent");
    let outcome = host.rtsleep(rt, &deadline(now + 2 * MS), now).unwrap();
    assert_eq!(outcome.result, RTSLEEP_DEGRADED);
    assert!(host.domain_counters(dom).unwrap().window_rt_ns >= 10 * MS);
}

#[test]
fn a_fire_after_rt_permission_was_revoked_does_not_grant_rt() {
    let (mut host, dom, rt, _) = setup(1);
    host.rtsleep(rt, &deadline(10 * MS), 0).unwrap();
    let mut params = rt_params();
    params.rt_allowed = false;
    host.set_domain_params(dom, &params).unwrap();
    host.rt_fire(rt, 10 * MS).unwrap();
    assert_ne!(host.unit(rt).unwrap().prio, Prio::Rt);
    assert_eq!(host.domain_counters(dom).unwrap().rt.rt_fires, 0);
}

#[test]
fn early_and_unregistered_fires_are_stale() {
    let (mut host, _, rt, _) = setup(0);
    assert_eq!(host.rt_fire(rt, 10 * MS), Err(RtcError::StaleTimer));
    host.rtsleep(rt, &deadline(10 * MS), 0).unwrap();
    assert_eq!(host.rt_fire(rt, 10 * MS - 1), Err(RtcError::StaleTimer));
    assert_eq!(host.unit(rt).unwrap().rt_deadline_ns, Some(10 * MS), "an early fire keeps the deadline");
    // Running: it becomes RT and its CPU reschedules to cut its slice to the budget.
    assert_eq!(host.rt_fire(rt, 10 * MS), Ok(CpuMask::single(0)));
}

#[test]
fn a_stale_pending_grant_is_not_applied_to_a_much_later_wake() {
    let (mut host, _, rt, _) = setup(1);
    host.rtsleep(rt, &deadline(10 * MS), 0).unwrap();
    host.sleep(rt).unwrap();
    host.schedule(0, 0, false).unwrap();
    host.rt_fire(rt, 10 * MS).unwrap();
    host.wake(rt, 50 * MS).unwrap();
    assert_eq!(host.unit(rt).unwrap().prio, Prio::Boost);
}

#[test]
fn grant_fire_and_switch_in_are_traced_with_their_data() {
    let (mut host, _, rt, _) = setup(1);
    host.take_trace();
    host.rtsleep(rt, &deadline(10 * MS), 0).unwrap();
    host.sleep(rt).unwrap();
    host.schedule(0, 0, false).unwrap();
    host.rt_fire(rt, 10 * MS + 2_000).unwrap();
    host.wake(rt, 10 * MS + 2_000).unwrap();
    host.schedule(0, 10 * MS + 3_000, false).unwrap();
    let records = host.take_trace();
    let grant = records.iter().find(|r| r.event == trace::RT_GRANT).unwrap();
    assert_eq!(&grant.data[..4], &[1, 0, (10 * MS) as u32, 0]);
    let fire = records.iter().find(|r| r.event == trace::RT_FIRE).unwrap();
    assert_eq!(&fire.data[..4], &[1, 0, 0, 2_000], "blocked, 2 us late");
    let switch_in = records.iter().rev().find(|r| r.event == trace::SWITCH_IN).unwrap();
    assert_eq!(&switch_in.data[..4], &[1, 0, Prio::Rt as u32, 0]);
}

/// The mixed-work case: the VCPU keeps running other work after its periodic task has
/// done its period's work. The tick does not end RT (it would have cut the deadline's
/// work at an arbitrary point); the task's next `rtsleep` does, at once, although the
/// VCPU keeps running.
#[test]
fn the_tick_does_not_end_rt_but_the_next_rtsleep_does_while_the_vcpu_keeps_running() {
    let (mut host, dom, rt, _) = setup(1);
    host.rtsleep(rt, &deadline(9 * MS + 900_000), 0).unwrap();
    host.rt_fire(rt, 9 * MS + 900_000).unwrap();
    host.tick(0, 10 * MS).unwrap();
    assert_eq!(host.unit(rt).unwrap().prio, Prio::Rt, "0.1 ms at RT: the tick keeps it");
    host.take_trace();
    host.rtsleep(rt, &deadline(19 * MS + 900_000), 10 * MS + 200_000).unwrap();
    let view = host.unit(rt).unwrap();
    assert!(view.running);
    assert_ne!(view.prio, Prio::Rt, "its next deadline is registered: RT ends");
    assert_eq!(view.prio_ns[Prio::Rt as usize], 300_000, "RT covered the 0.3 ms of the deadline's work");
    let demote = host.take_trace().into_iter().find(|r| r.event == trace::RT_DEMOTE).unwrap();
    assert_eq!(demote.data[2], 4, "reason: rtsleep");
    assert_eq!(host.domain_counters(dom).unwrap().rt.rt_demotions, 1);
}

/// The RT fire on a unit that is already running asks for a pass (to cut its slice to
/// the quantum and the budget). Inside the rate-limit window that pass keeps the unit
/// for the rest of its quantum, not for the rest of the rate limit.
#[test]
fn a_fire_on_a_running_unit_gets_the_rest_of_its_quantum() {
    let (mut host, _, rt, hogs) = setup(1);
    host.rtsleep(rt, &deadline(9 * MS + 400_000), 500_000).unwrap();
    host.tick(0, MS).unwrap();
    host.sleep(rt).unwrap();
    assert_eq!(host.schedule(0, 1_200_000, false).unwrap().next, Some(hogs[0]));
    host.account(3 * MS);
    // The guest wakes shortly before its deadline (BOOST) and preempts the hog.
    host.wake(rt, 9 * MS).unwrap();
    assert_eq!(host.schedule(0, 9 * MS, false).unwrap().next, Some(rt));
    assert_eq!(host.rt_fire(rt, 9 * MS + 400_000).unwrap(), CpuMask::single(0));
    let pass = host.schedule(0, 9 * MS + 450_000, false).unwrap();
    assert_eq!((pass.next, pass.prio, pass.run_ns), (Some(rt), Prio::Rt, RT_QUANTUM_NS - 50_000));
}

/// Every end of RT goes the same way (`end_rt`): an `RT_DEMOTE` with its reason, then a
/// `PRIO_CHANGE` from RT to the class its credit earns, whether the quantum, an
/// `rtsleep`, blocking or a spent budget ends it.
#[test]
fn every_end_of_rt_is_traced_the_same_way() {
    let (mut host, dom, rt, _) = setup(0);
    host.set_domain_params(dom, &DomainParams { rt_budget_pct: 1, ..rt_params() }).unwrap();
    host.take_trace();
    // Quantum, 18 times: 9 ms of the 10 ms budget.
    let now = run_rt_quanta(&mut host, rt, 0, 18);
    // Rtsleep: 0.1 ms into the next grant, its next request ends RT.
    host.rtsleep(rt, &deadline(now + MS), now).unwrap();
    host.rt_fire(rt, now + MS).unwrap();
    host.rtsleep(rt, &deadline(now + 2 * MS), now + MS + 100_000).unwrap();
    // Blocked, 0.1 ms into that one: 9.2 ms used.
    host.rt_fire(rt, now + 2 * MS).unwrap();
    host.sleep(rt).unwrap();
    host.schedule(0, now + 2 * MS + 100_000, false).unwrap();
    let now = now + 3 * MS;
    host.wake(rt, now).unwrap();
    host.schedule(0, now, false).unwrap();
    // One more quantum (9.7 ms), then the budget ends the next grant after 0.3 ms.
    let now = run_rt_quanta(&mut host, rt, now, 1);
    host.rtsleep(rt, &deadline(now + MS), now).unwrap();
    host.rt_fire(rt, now + MS).unwrap();
    host.schedule(0, now + MS + 300_000, false).unwrap();
    let records = host.take_trace();
    let mut ends = Vec::new();
    for (index, record) in records.iter().enumerate() {
        if record.event == trace::RT_DEMOTE {
            let next = records[index + 1];
            assert_eq!(next.event, trace::PRIO_CHANGE, "RT_DEMOTE is followed by PRIO_CHANGE: {records:?}");
            assert_eq!(next.data[2], Prio::Rt as u32);
            assert_ne!(next.data[3], Prio::Rt as u32);
            ends.push(record.data[2]);
        }
    }
    let mut want = vec![5; 18];
    want.extend([4, 1, 5, 3]);
    assert_eq!(ends, want, "reasons: quantum, rtsleep, blocked, quantum, budget spent");
    assert_eq!(host.domain_counters(dom).unwrap().rt.rt_demotions, 22);
}

/// Admission by period (RT v2): a deadline only 2 ms ahead is granted (the old 5 ms
/// minimum lead refused it), and so is a periodic task's whole run at a 1 ms period.
#[test]
fn a_deadline_2_ms_ahead_is_granted_and_a_1_ms_period_gets_every_grant() {
    let (mut host, dom, rt, _) = setup(0);
    let outcome = host.rtsleep(rt, &deadline(2 * MS), 0).unwrap();
    assert_eq!((outcome.result, outcome.arm_at_ns), (RTSLEEP_GRANTED, 2 * MS));
    host.rt_fire(rt, 2 * MS).unwrap();
    // A 1 ms periodic loop: each deadline registered 0.9 ms ahead, right after the last.
    for k in 3..100 {
        let now = (k - 1) * MS + 100_000;
        assert_eq!(host.rtsleep(rt, &deadline(k * MS), now).unwrap().result, RTSLEEP_GRANTED, "period {k}");
        host.rt_fire(rt, k * MS).unwrap();
    }
    let counters = host.domain_counters(dom).unwrap();
    assert_eq!((counters.rt.rt_granted, counters.rt.rt_fires, counters.rt.rt_denied), (98, 98, 0));
}

/// A deadline less than the minimum period after the last one that came due is refused
/// (-ERANGE), whatever its lead; one replaced or cancelled before it came due does not
/// count; the minimum period is a global parameter with a 100 us floor.
#[test]
fn a_deadline_closer_than_the_minimum_period_to_the_last_one_is_refused() {
    let (mut host, _, rt, _) = setup(0);
    host.rtsleep(rt, &deadline(10 * MS), 0).unwrap();
    host.rt_fire(rt, 10 * MS).unwrap();
    let too_close = host.rtsleep(rt, &deadline(10 * MS + 999_999), 10 * MS);
    assert_eq!(too_close, Err(RtcError::PeriodTooShort));
    assert_eq!(RtcError::PeriodTooShort.errno(), 34, "-ERANGE");
    assert_eq!(host.rtsleep(rt, &deadline(11 * MS), 10 * MS).unwrap().result, RTSLEEP_GRANTED);
    // Replaced before it came due: the replacement is measured from 10 ms, not 11 ms.
    assert_eq!(host.rtsleep(rt, &deadline(11 * MS + 500_000), 10 * MS).unwrap().result, RTSLEEP_GRANTED);
    host.rt_fire(rt, 11 * MS + 500_000).unwrap();
    // A longer minimum period (sysctl), then the floor.
    let params = Params { rt_min_period_ns: 100 * MS, ..Params::default() };
    host.set_params(&params).unwrap();
    assert_eq!(host.rtsleep(rt, &deadline(50 * MS), 12 * MS), Err(RtcError::PeriodTooShort));
    assert_eq!(host.rtsleep(rt, &deadline(111 * MS + 500_000), 12 * MS).unwrap().result, RTSLEEP_GRANTED);
    let floor = Params { rt_min_period_ns: 99_999, ..Params::default() };
    assert_eq!(host.set_params(&floor), Err(RtcError::BadMinPeriod));
}

/// A periodic task whose wake-up was late can always register its next deadline, even
/// one that is now only 0.1 ms away (the old minimum lead sent that period to a plain
/// sleep, served like credit's).
#[test]
fn after_a_late_wake_up_the_next_period_is_still_granted() {
    let (mut host, _, rt, _) = setup(2);
    host.rtsleep(rt, &deadline(10 * MS), 0).unwrap();
    host.sleep(rt).unwrap();
    host.schedule(0, 0, false).unwrap();
    host.rt_fire(rt, 10 * MS).unwrap();
    // Woken 9.9 ms late (a stale pending grant is dropped after a tick): BOOST, no RT.
    host.wake(rt, 19 * MS + 900_000).unwrap();
    let decision = host.schedule(0, 19 * MS + 900_000, false).unwrap();
    assert_eq!(decision.next, Some(rt));
    let outcome = host.rtsleep(rt, &deadline(20 * MS), 19 * MS + 900_000).unwrap();
    assert_eq!(outcome.result, RTSLEEP_GRANTED);
}

/// A deadline already due is served at once at RT if the budget allows: granted, with
/// the RT timer to arm at the deadline (in the past), whose fire makes it RT; over the
/// budget it is refused with its own error (-ETIME), not degraded.
#[test]
fn a_deadline_already_due_is_served_at_once_or_refused_with_its_own_error() {
    let (mut host, dom, rt, _) = setup(1);
    let outcome = host.rtsleep(rt, &deadline(4 * MS), 5 * MS).unwrap();
    assert_eq!((outcome.result, outcome.arm_at_ns), (RTSLEEP_GRANTED, 4 * MS));
    assert_eq!(host.rt_fire(rt, 5 * MS), Ok(CpuMask::single(0)), "the timer in the past fires at once");
    assert_eq!(host.unit(rt).unwrap().prio, Prio::Rt);
    // Over the request rate: a future deadline degrades, a due one is refused.
    host.set_domain_params(dom, &DomainParams { rt_rate_per_s: 2, ..rt_params() }).unwrap();
    assert_eq!(host.rtsleep(rt, &deadline(20 * MS), 6 * MS).unwrap().result, RTSLEEP_GRANTED);
    assert_eq!(host.rtsleep(rt, &deadline(20 * MS), 6 * MS).unwrap().result, RTSLEEP_DEGRADED);
    assert_eq!(host.rtsleep(rt, &deadline(6 * MS), 7 * MS), Err(RtcError::DeadlineDue));
    assert_eq!(RtcError::DeadlineDue.errno(), 62, "-ETIME");
    assert_eq!(host.unit(rt).unwrap().rt_deadline_ns, None, "nothing registered");
    let counters = host.domain_counters(dom).unwrap();
    assert_eq!((counters.rt.rt_requests, counters.rt.rt_denied, counters.rt.rt_fires), (3, 1, 1));
}

/// Outside RT, RT changes nothing. A VCPU that RT put on the CPU (it was queued behind
/// a hog when its deadline fired) and keeps running after its rtsleep ends RT: the call
/// asks for a pass, which sends it behind the hog, rate limit or not. A VCPU that was
/// running anyway when its deadline fired keeps the rest of its slice.
#[test]
fn after_rt_a_vcpu_gets_what_it_would_have_had_without_rt() {
    let (mut host, _, rt, hogs) = setup(1);
    host.rtsleep(rt, &deadline(10 * MS), 0).unwrap();
    host.tick(0, MS).unwrap();
    assert_eq!(host.schedule(0, MS, false).unwrap().next, Some(hogs[0]), "the VCPU waits, runnable");
    assert_eq!(host.rt_fire(rt, 10 * MS).unwrap(), CpuMask::single(0));
    assert_eq!(host.schedule(0, 10 * MS, false).unwrap().next, Some(rt));
    let outcome = host.rtsleep(rt, &deadline(20 * MS), 10 * MS + 200_000).unwrap();
    assert!(outcome.reschedule, "its RT ended: a pass");
    let pass = host.schedule(0, 10 * MS + 202_000, false).unwrap();
    assert_eq!(pass.next, Some(hogs[0]), "behind the hog again, although within the rate limit");

    // Running anyway: the hog has run since 10.2 ms; the VCPU gets the CPU back at the
    // slice end, its deadline fires while it runs, and RT's passes keep its slice.
    host.tick(0, 20 * MS).unwrap();
    host.account(30 * MS);
    assert_eq!(host.schedule(0, 40 * MS + 202_000, false).unwrap().next, Some(rt));
    let fired = host.rtsleep(rt, &deadline(45 * MS), 41 * MS).unwrap();
    assert!(!fired.reschedule);
    host.rt_fire(rt, 45 * MS).unwrap();
    assert_eq!(host.schedule(0, 45 * MS, false).unwrap().run_ns, RT_QUANTUM_NS);
    // Its grant's limit: 10% of the 35 ms since its previous deadline that came due
    // (10 ms; the one at 20 ms was replaced before it did), 3.5 ms.
    let overtime = host.schedule(0, 45 * MS + RT_QUANTUM_NS, false).unwrap();
    assert_eq!((overtime.prio, overtime.run_ns), (Prio::Rt, 3 * MS), "past the quantum, to its limit");
    let after = host.schedule(0, 48 * MS + RT_QUANTUM_NS, false).unwrap();
    assert_ne!(after.prio, Prio::Rt, "limit used");
    assert_eq!((after.next, after.switched), (Some(rt), false), "it keeps its slice");
    assert_eq!(after.run_ns, 40 * MS + 202_000 + 30 * MS - (48 * MS + RT_QUANTUM_NS), "to the end of its slice");
}

/// RT's passes neither cut nor renew the slice of a unit that was running anyway. Its
/// slice is the one the last pass that picked it gave it (here renewed at 30 ms, when
/// nothing else waited), not its stay: a peer that came at 35 ms waits to that slice's
/// end at 60 ms, as without RT. Measured on the stay (40.5 ms > one slice), the pass at
/// the end of its RT quantum sent it behind the peer: once a period for a VCPU that runs
/// alone, which on 8 pCPUs left RT's never-blocking domains 1.9 points short of credit's
/// share and gave the lightest hog 2-5 points more (`rtcredit-sim periods --pool-seeds`).
#[test]
fn rt_passes_keep_the_slice_a_running_unit_had_without_cutting_or_renewing_it() {
    let (mut host, _, rt, _) = setup(0);
    let renewed = host.schedule(0, 30 * MS, false).unwrap();
    assert_eq!((renewed.next, renewed.switched, renewed.run_ns), (Some(rt), false, 30 * MS));
    let peer_dom = host.add_domain(10);
    let (peer, _) = host.add_unit(peer_dom, 0, true, 35 * MS).unwrap();
    assert_eq!(host.queue(0), vec![peer], "same class: it waits");
    host.rtsleep(rt, &deadline(40 * MS), 36 * MS).unwrap();
    host.rt_fire(rt, 40 * MS).unwrap();
    assert_eq!(host.schedule(0, 40 * MS, false).unwrap().prio, Prio::Rt);
    assert!(!host.rtsleep(rt, &deadline(50 * MS), 40 * MS + 100_000).unwrap().reschedule);
    let quantum_end = host.schedule(0, 40 * MS + RT_QUANTUM_NS, false).unwrap();
    assert_eq!((quantum_end.next, quantum_end.switched), (Some(rt), false), "the rest of its slice");
    assert_eq!(quantum_end.run_ns, 60 * MS - (40 * MS + RT_QUANTUM_NS), "to its end, not renewed");
    assert_eq!(host.schedule(0, 60 * MS, false).unwrap().next, Some(peer), "then the peer, at 60 ms");
}

/// A refused `rtsleep` from a unit at RT ends its RT all the same (its task has reached
/// its sleep whatever it asked) and asks for the same pass as an accepted one, which
/// sends it behind the hog it preempted. The refusal used to drop the pass: the unit
/// then kept the CPU, without RT, to the end of its RT slice.
#[test]
fn a_refused_rtsleep_still_ends_rt_and_asks_for_the_pass() {
    let (mut host, _, rt, hogs) = setup(1);
    host.rtsleep(rt, &deadline(10 * MS), 0).unwrap();
    host.tick(0, MS).unwrap();
    assert_eq!(host.schedule(0, MS, false).unwrap().next, Some(hogs[0]));
    host.rt_fire(rt, 10 * MS).unwrap();
    assert_eq!(host.schedule(0, 10 * MS, false).unwrap().prio, Prio::Rt);
    // 0.5 ms after the deadline that came due: closer than the 1 ms minimum period.
    let refused = host.rtsleep_call(rt, &deadline(10 * MS + 500_000), 10 * MS + 200_000).unwrap_err();
    assert_eq!(refused, RtsleepRefused { error: RtcError::PeriodTooShort, reschedule: true });
    assert_ne!(host.unit(rt).unwrap().prio, Prio::Rt, "RT ended");
    assert_eq!(host.schedule(0, 10 * MS + 202_000, false).unwrap().next, Some(hogs[0]), "behind the hog");
    // A refused call from a unit that is not at RT asks for nothing.
    let not_rt = host.rtsleep_call(hogs[0], &deadline(30 * MS), 20 * MS).unwrap_err();
    assert_eq!(not_rt, RtsleepRefused { error: RtcError::NotPermitted, reschedule: false });
}

/// The way to sleep (issue #19 item 6): a VCPU whose credit is spent (OVER, below the
/// hog) blocks between its periods; woken without BOOST it waits behind the hog, its
/// deadline fires there, RT gets it the CPU, and after its rtsleep its guest still has
/// to reach the block (run the thread its timer woke). Sent back at the rtsleep it
/// would stay runnable at OVER and run only at its RT fires (a second thread of its
/// guest then waited 80 ms on Xen); now the pass leaves it the rest of its quantum and
/// it blocks there. (A VCPU that never blocks is sent back at once: the test above.)
#[test]
fn after_its_rtsleep_a_vcpu_that_sleeps_between_periods_keeps_the_cpu_to_its_block() {
    let (mut host, dom, rt, hogs) = setup(1);
    // Weight 1 against the hog's 256: it burns its whole first slice (a tick finds it
    // running, so it earns credit) and, accounted at 36 ms, is OVER.
    host.set_domain_params(dom, &DomainParams { weight: 1, ..rt_params() }).unwrap();
    host.tick(0, 10 * MS).unwrap();
    host.rtsleep(rt, &deadline(40 * MS), 29 * MS).unwrap();
    assert_eq!(host.schedule(0, 30 * MS, false).unwrap().next, Some(hogs[0]));
    host.tick(0, 35 * MS).unwrap(); // the hog earns credit too
    host.account(36 * MS);
    host.sleep(rt).unwrap();
    host.wake(rt, 38 * MS).unwrap();
    assert_eq!((host.unit(rt).unwrap().prio, host.unit(rt).unwrap().queued), (Prio::Over, true), "no BOOST");
    host.rt_fire(rt, 40 * MS).unwrap();
    assert_eq!(host.schedule(0, 40 * MS, false).unwrap().next, Some(rt));
    assert!(host.rtsleep(rt, &deadline(50 * MS), 40 * MS + 150_000).unwrap().reschedule);
    let grace = host.schedule(0, 40 * MS + 152_000, false).unwrap();
    assert_eq!((grace.next, grace.prio, grace.switched), (Some(rt), Prio::Over, false), "to its block");
    assert_eq!(grace.run_ns, RT_QUANTUM_NS - 152_000);
    // The guest's other thread runs its 100 us, then the VCPU blocks: the hog runs.
    host.sleep(rt).unwrap();
    assert_eq!(host.schedule(0, 40 * MS + 260_000, false).unwrap().next, Some(hogs[0]));

    // Next period it again wakes behind the hog, but this time its guest keeps running
    // after the rtsleep: the pass at the end of its quantum sends it back.
    host.wake(rt, 48 * MS).unwrap();
    host.rt_fire(rt, 50 * MS).unwrap();
    assert_eq!(host.schedule(0, 50 * MS, false).unwrap().next, Some(rt));
    host.rtsleep(rt, &deadline(60 * MS), 50 * MS + 100_000).unwrap();
    assert_eq!(host.schedule(0, 50 * MS + 100_000, false).unwrap().next, Some(rt));
    assert_eq!(host.schedule(0, 50 * MS + RT_QUANTUM_NS, false).unwrap().next, Some(hogs[0]));
}

/// A deadline that comes due after the VCPU blocked but before the pass that takes it
/// off the CPU (in Xen the timer softirq runs before the schedule softirq the block
/// raised) is served as for a blocked VCPU: RT at its wake. Started at once instead, RT
/// ended at that pass with the deadline spent, and the wake got BOOST (found by the
/// late-wake property with 1 ms periods and wakes 2.9 ms late).
#[test]
fn a_deadline_between_the_block_and_the_pass_is_served_at_the_wake() {
    let (mut host, _, rt, hogs) = setup(1);
    host.rtsleep(rt, &deadline(10 * MS), 10 * MS - 4_000).unwrap();
    host.sleep(rt).unwrap();
    host.rt_fire(rt, 10 * MS).unwrap();
    assert_ne!(host.unit(rt).unwrap().prio, Prio::Rt, "not RT while it blocks");
    assert_eq!(host.schedule(0, 10 * MS + 2_000, false).unwrap().next, Some(hogs[0]));
    host.wake(rt, 12 * MS).unwrap();
    let pass = host.schedule(0, 12 * MS, false).unwrap();
    assert_eq!((pass.next, pass.prio), (Some(rt), Prio::Rt), "RT at its wake");
}

/// A woken task whose work is longer than its grant's RT limit (10% of the 10 ms from
/// its request to its deadline: 1 ms): its first 1 ms runs at RT (a pass at the quantum
/// on the way), the rest at BOOST, the class its wake would have given it without RT.
#[test]
fn a_woken_task_longer_than_its_rt_limit_finishes_at_boost() {
    let (mut host, _, rt, hogs) = setup(1);
    host.rtsleep(rt, &deadline(10 * MS), 0).unwrap();
    host.sleep(rt).unwrap();
    assert_eq!(host.schedule(0, 0, false).unwrap().next, Some(hogs[0]));
    host.tick(0, 5 * MS).unwrap(); // the hog's boot BOOST ends
    host.rt_fire(rt, 10 * MS).unwrap();
    host.wake(rt, 10 * MS).unwrap();
    assert_eq!(host.schedule(0, 10 * MS, false).unwrap().run_ns, RT_QUANTUM_NS);
    let overtime = host.schedule(0, 10 * MS + RT_QUANTUM_NS, false).unwrap();
    assert_eq!((overtime.next, overtime.prio, overtime.run_ns), (Some(rt), Prio::Rt, MS - RT_QUANTUM_NS));
    let pass = host.schedule(0, 11 * MS, false).unwrap();
    assert_eq!((pass.next, pass.prio), (Some(rt), Prio::Boost), "ahead of the UNDER hog");
}

/// Two RT domains on one CPU (and a hog). A deadline that comes due while another RT
/// unit runs waits at most for that unit's quantum (here: A ignores its own deadline
/// and keeps computing); an RT unit with an earlier deadline preempts a running one
/// with a later deadline (EDF within RT).
#[test]
fn among_rt_units_the_earliest_deadline_runs_and_a_later_one_waits_at_most_a_quantum() {
    let (mut host, a, b, hogs) = two_rt_domains(1);
    let hog = hogs[0];
    // Both register while they run, then B blocks and A keeps computing.
    assert_eq!(both_register_and_block(&mut host, a, b, 10 * MS + 100_000), Some(hog));
    host.wake(a, 9 * MS).unwrap();
    host.schedule(0, 9 * MS, false).unwrap();
    host.rt_fire(a, 10 * MS).unwrap();
    assert_eq!(host.schedule(0, 10 * MS, false).unwrap().next, Some(a));
    // B's deadline: it waits for A's quantum (A's deadline is earlier), not for the tick.
    host.rt_fire(b, 10 * MS + 100_000).unwrap();
    assert_eq!(host.wake(b, 10 * MS + 100_000).unwrap(), CpuMask::EMPTY, "a later deadline does not preempt");
    let next = host.schedule(0, 10 * MS + RT_QUANTUM_NS, false).unwrap();
    assert_eq!((next.next, next.prio), (Some(b), Prio::Rt), "A's quantum is over: B, 0.4 ms late");
}

/// EDF within RT: B's deadline (9.9 ms) came due while B was blocked; when B wakes at
/// RT, A is running at RT for a later deadline (10 ms): B preempts A, and A waits at RT.
#[test]
fn an_rt_unit_with_an_earlier_deadline_preempts_a_running_rt_unit() {
    let (mut host, a, b, _) = two_rt_domains(0);
    both_register_and_block(&mut host, a, b, 9 * MS + 900_000);
    host.wake(a, 9 * MS).unwrap();
    assert_eq!(host.schedule(0, 9 * MS, false).unwrap().next, Some(a));
    host.rt_fire(b, 9 * MS + 900_000).unwrap();
    host.rt_fire(a, 10 * MS).unwrap();
    assert_eq!(host.schedule(0, 10 * MS, false).unwrap().prio, Prio::Rt);
    assert_eq!(host.wake(b, 10 * MS + 100_000).unwrap(), CpuMask::single(0), "an earlier deadline preempts");
    let pass = host.schedule(0, 10 * MS + 102_000, false).unwrap();
    assert_eq!((pass.next, pass.prio), (Some(b), Prio::Rt));
    assert_eq!(host.queue(0), vec![a], "A waits, still RT");
    assert_eq!(host.unit(a).unwrap().prio, Prio::Rt);
}

/// On SMP, a deadline that would wait behind another RT unit on its CPU is taken by a
/// CPU that runs no RT: the tickle picks it, and its pass steals the RT unit although
/// what it runs there (an UNDER hog) is not OVER.
#[test]
fn an_rt_unit_waiting_behind_rt_is_taken_by_a_cpu_running_no_rt() {
    let (mut host, a, b) = rt_pair(2);
    let hog_dom = host.add_domain(3);
    let (hog, _) = host.add_unit(hog_dom, 1, true, 0).unwrap();
    assert_eq!(host.schedule(1, 0, false).unwrap().next, Some(hog));
    host.tick(1, 5 * MS).unwrap(); // the hog's boot BOOST ends: it runs UNDER
    assert_eq!(host.schedule(0, 0, false).unwrap().next, Some(a));
    host.rtsleep(a, &deadline(10 * MS), 0).unwrap();
    host.sleep(a).unwrap();
    assert_eq!(host.schedule(0, 100_000, false).unwrap().next, Some(b));
    host.rtsleep(b, &deadline(10 * MS + 100_000), 100_000).unwrap();
    // A wakes (BOOST) and preempts B, which waits on CPU 0, runnable.
    host.wake(a, 9 * MS).unwrap();
    assert_eq!(host.schedule(0, 9 * MS, false).unwrap().next, Some(a));
    host.rt_fire(a, 10 * MS).unwrap();
    assert_eq!(host.schedule(0, 10 * MS, false).unwrap().prio, Prio::Rt);
    // B's deadline: A (earlier deadline) keeps CPU 0; CPU 1, running the hog, is tickled.
    assert_eq!(host.rt_fire(b, 10 * MS + 100_000).unwrap(), CpuMask::single(1));
    let taken = host.schedule(1, 10 * MS + 102_000, false).unwrap();
    assert_eq!((taken.next, taken.prio, taken.migrated), (Some(b), Prio::Rt, true));
    assert_eq!(host.current(0), Some(a));
}

/// Outside RT, RT changes nothing in the queue: a unit whose deadline fires while it
/// waits goes back to its place in its class when its RT ends (not to the tail), and
/// the unit RT preempted resumes first with the rest of its slice. Without this a VCPU
/// with a periodic task beside a CPU burner lost its place every period, and half its
/// share beside three hogs.
#[test]
fn rt_gives_back_the_places_it_took_in_the_queue() {
    let (mut host, _dom, rt, hogs) = setup(2);
    let (h0, h1) = (hogs[0], hogs[1]);
    assert_eq!(host.rtsleep(rt, &deadline(40 * MS), MS).unwrap().result, RTSLEEP_GRANTED);
    // Its slice ends at 30 ms: it waits behind the hogs, and h0 runs.
    let pass = host.schedule(0, 30 * MS, false).unwrap();
    assert_eq!(pass.next, Some(h0));
    assert_eq!(host.queue(0), vec![h1, rt]);
    // Its deadline fires while it waits: RT preempts h0, which goes back to the head.
    host.rt_fire(rt, 40 * MS).unwrap();
    let pass = host.schedule(0, 40 * MS, false).unwrap();
    assert_eq!((pass.next, pass.prio), (Some(rt), Prio::Rt));
    assert_eq!(host.queue(0), vec![h0, h1]);
    // Its task's work done, it registers the next deadline: RT ends, it goes back
    // behind h1 (where it waited), and h0 resumes its slice to the slice's end at
    // 60 ms (the 100 us at RT came out of it, as a preemption's time does in credit).
    let outcome = host.rtsleep(rt, &deadline(80 * MS), 40 * MS + 100_000).unwrap();
    assert!(outcome.reschedule);
    let pass = host.schedule(0, 40 * MS + 100_000, false).unwrap();
    assert_eq!((pass.next, pass.run_ns), (Some(h0), 20 * MS - 100_000));
    assert_eq!(host.queue(0), vec![h1, rt]);
    // Then h1 and the unit, in credit's order and at credit's times.
    assert_eq!(host.schedule(0, 60 * MS, false).unwrap().next, Some(h1));
    assert_eq!(host.schedule(0, 90 * MS, false).unwrap().next, Some(rt));
}

/// The rest of a slice that RT cut belongs to the stay it interrupted: a unit that
/// stops waiting (paused while queued) gets a whole slice when it next runs.
#[test]
fn a_cut_slice_is_not_carried_past_a_sleep() {
    let (mut host, _dom, rt, hogs) = setup(2);
    let h0 = hogs[0];
    assert_eq!(host.rtsleep(rt, &deadline(40 * MS), MS).unwrap().result, RTSLEEP_GRANTED);
    assert_eq!(host.schedule(0, 30 * MS, false).unwrap().next, Some(h0));
    host.rt_fire(rt, 40 * MS).unwrap();
    assert_eq!(host.schedule(0, 40 * MS, false).unwrap().next, Some(rt));
    // h0, preempted 10 ms into its slice, is paused while it waits, then woken.
    host.sleep(h0).unwrap();
    host.wake(h0, 41 * MS).unwrap();
    host.sleep(rt).unwrap();
    host.sleep(hogs[1]).unwrap();
    let pass = host.schedule(0, 41 * MS, false).unwrap();
    assert_eq!((pass.next, pass.run_ns), (Some(h0), 30 * MS));
}

/// A VCPU that runs only at its RT fires, at the same point of every period, is never
/// found running by the tick, and in Xen's credit only the tick makes a unit earn
/// credit once it is not earning (new, or stopped when it had plenty). Its RT time is
/// charged all the same: its credit ran down, unseen while it did not earn, and the
/// tick that finally caught it running brought it back with that debt, OVER for the
/// next accounting periods. Measured on Xen: a wrapped program's SCHED_OTHER thread woke
/// the VCPU at OVER and waited 9-9.5 ms for the next RT fire, for 160 ms at a time. So
/// the first tick after its RT ends makes it earn credit.
#[test]
fn a_vcpu_that_runs_only_at_rt_keeps_earning_credit() {
    let (mut host, _, rt, _hogs) = setup(3);
    // Ticks every 10 ms at k x 10 ms, accounting every 30 ms; the RT task's deadlines at
    // k x 10 ms + 2 ms, 200 us of work each, then it blocks until the next. Once (period
    // 150) a tick comes while it runs, as a drifting tick does.
    let mut now = 0;
    let mut over_after_rt = Vec::new();
    for period in 0..300u64 {
        let base = period * 10 * MS;
        let fire = base + 2 * MS;
        let class = sleep_to(&mut host, rt, now, fire);
        // From the first accounting on, its credit must have it UNDER after its RT.
        if period >= 4 && class == Prio::Over {
            over_after_rt.push(period - 1);
        }
        if period > 0 {
            host.tick(0, base).unwrap();
            if period % 3 == 0 {
                host.account(base + 1);
            }
        }
        let pass = wake_at_deadline(&mut host, rt, fire);
        assert_eq!((pass.next, pass.prio), (Some(rt), Prio::Rt), "period {period}: RT at its deadline");
        if period == 150 {
            host.tick(0, fire + 100_000).unwrap();
        }
        now = fire + 200_000;
    }
    assert_eq!(over_after_rt, Vec::<u64>::new(), "periods whose RT ended at OVER");
}

/// The unit an RT end left waiting for the tick to make it earn credit follows a move
/// to another CPU (that CPU's tick does it) and leaves no trace when it is removed.
#[test]
fn a_unit_waiting_to_earn_credit_moves_and_is_removed_cleanly() {
    let (mut host, a, b) = rt_pair(2);
    host.schedule(0, 0, false).unwrap();
    for unit in [a, b] {
        assert!(!host.unit(unit).unwrap().active);
    }
    // a runs at RT and its RT ends at its rtsleep; it blocks and moves to CPU 1.
    sleep_to(&mut host, a, 0, 2 * MS);
    assert_eq!(wake_at_deadline(&mut host, a, 2 * MS).next, Some(a));
    sleep_to(&mut host, a, 2 * MS + 100_000, 12 * MS);
    host.migrate(a, 1).unwrap();
    host.tick(0, 10 * MS).unwrap();
    assert!(!host.unit(a).unwrap().active, "CPU 0's tick: not its CPU any more");
    host.tick(1, 10 * MS).unwrap();
    assert!(host.unit(a).unwrap().active, "CPU 1's tick");

    // The same on one CPU, the unit then removed before any tick: the tick finds nothing.
    let (mut host, a, b) = rt_pair(1);
    assert_eq!(host.schedule(0, 0, false).unwrap().next, Some(a));
    host.sleep(b).unwrap();
    sleep_to(&mut host, a, 0, 2 * MS);
    assert_eq!(wake_at_deadline(&mut host, a, 2 * MS).next, Some(a));
    sleep_to(&mut host, a, 2 * MS + 100_000, 12 * MS);
    host.remove_unit(a).unwrap();
    host.tick(0, 10 * MS).unwrap();
    assert!(!host.unit(a).unwrap().active, "a removed unit does not start earning");
    assert_eq!(host.weight_total(), 0, "no domain earns");
}

/// A task whose work per period is longer than the quantum gets all of it at RT when
/// its budget's share of the period covers it (here 50% of 10 ms = 5 ms for 2 ms of
/// work): past the quantum its RT goes on (overtime) until its next `rtsleep`, and the
/// first grant measures its period from the request.
#[test]
fn work_longer_than_the_quantum_stays_at_rt_up_to_the_budget_share_of_the_period() {
    let (mut host, dom, rt, hogs) = setup(1);
    host.set_domain_params(dom, &DomainParams { rt_budget_pct: 50, ..rt_params() }).unwrap();
    host.rtsleep(rt, &deadline(10 * MS), 0).unwrap();
    host.sleep(rt).unwrap();
    assert_eq!(host.schedule(0, 0, false).unwrap().next, Some(hogs[0]));
    host.rt_fire(rt, 10 * MS).unwrap();
    host.wake(rt, 10 * MS).unwrap();
    assert_eq!(host.schedule(0, 10 * MS, false).unwrap().run_ns, RT_QUANTUM_NS);
    let first = host.schedule(0, 10 * MS + RT_QUANTUM_NS, false).unwrap();
    assert_eq!((first.next, first.prio), (Some(rt), Prio::Rt), "the first grant too: 10 ms from the request");
    // The period's work done at 12 ms: the next deadline, and the task sleeps to it.
    sleep_to(&mut host, rt, 12 * MS, 20 * MS);
    host.rt_fire(rt, 20 * MS).unwrap();
    host.wake(rt, 20 * MS).unwrap();
    let first = host.schedule(0, 20 * MS, false).unwrap();
    assert_eq!((first.next, first.prio, first.run_ns), (Some(rt), Prio::Rt, RT_QUANTUM_NS), "a pass at the quantum");
    let overtime = host.schedule(0, 20 * MS + RT_QUANTUM_NS, false).unwrap();
    assert_eq!((overtime.next, overtime.prio), (Some(rt), Prio::Rt), "past the quantum, still RT");
    assert_eq!(overtime.run_ns, 5 * MS - RT_QUANTUM_NS, "to the grant's limit");
    host.rtsleep(rt, &deadline(30 * MS), 22 * MS).unwrap();
    assert_ne!(host.unit(rt).unwrap().prio, Prio::Rt, "the next rtsleep ends it");
    let ends: Vec<u32> = host
        .take_trace()
        .iter()
        .filter(|record| record.event == trace::RT_DEMOTE)
        .map(|record| record.data[2])
        .collect();
    assert_eq!(ends, vec![4, 4], "both grants end at the task's rtsleep");
}

/// A unit in overtime (past the quantum, within its grant's limit) never delays a
/// fired deadline beyond the quantum: B's deadline comes due during A's quantum and
/// waits (A's deadline is earlier), then runs at A's quantum's end although A keeps RT;
/// A resumes at RT when B is done and ends at its limit (10% of 10 ms = 1 ms).
#[test]
fn a_unit_in_overtime_lets_a_fired_deadline_go_first() {
    let (mut host, a, b, _) = two_rt_domains(0);
    both_register_and_block(&mut host, a, b, 20 * MS + 300_000);
    host.rt_fire(a, 10 * MS).unwrap();
    host.wake(a, 10 * MS).unwrap();
    host.schedule(0, 10 * MS, false).unwrap();
    // A's second deadline, registered while it computes on (it never blocks here).
    host.rtsleep(a, &deadline(20 * MS), 10 * MS + 100_000).unwrap();
    host.schedule(0, 10 * MS + 100_000, false).unwrap();
    host.rt_fire(a, 20 * MS).unwrap();
    assert_eq!(host.schedule(0, 20 * MS, false).unwrap().run_ns, RT_QUANTUM_NS);
    host.rt_fire(b, 20 * MS + 300_000).unwrap();
    assert_eq!(host.wake(b, 20 * MS + 300_000).unwrap(), CpuMask::EMPTY, "A is within its quantum, deadline earlier");
    let pass = host.schedule(0, 20 * MS + RT_QUANTUM_NS, false).unwrap();
    assert_eq!((pass.next, pass.prio), (Some(b), Prio::Rt), "A is in overtime: B first, 0.2 ms late");
    assert_eq!(host.unit(a).unwrap().prio, Prio::Rt, "A keeps RT, queued");
    sleep_to(&mut host, b, 20 * MS + 600_000, 30 * MS + 300_000);
    let resumed = host.schedule(0, 20 * MS + 600_000, false).unwrap();
    assert_eq!((resumed.next, resumed.prio, resumed.run_ns), (Some(a), Prio::Rt, MS - RT_QUANTUM_NS));
    let after = host.schedule(0, 20 * MS + 600_000 + MS - RT_QUANTUM_NS, false).unwrap();
    assert_ne!(host.unit(a).unwrap().prio, Prio::Rt, "A's limit is used: RT ends");
    assert_eq!(after.next, Some(a), "alone with B asleep, A runs on at its credit class");
}

/// An OVER unit (credit spent) that is granted RT at its deadline goes back to OVER when
/// RT ends, not to UNDER: RT must not lift it out of OVER for the rest of the
/// accounting period (BOOST never can, because only an UNDER unit is boosted). The
/// adversary in the simulator used this to get CPU above its fair share plus its RT
/// budget (`the_rt_spammer_gets_at_most_its_fair_share_plus_its_rt_budget` in
/// sim/tests/workloads.rs; the simulator found the bug, see sim/README.md).
#[test]
fn rt_demotion_returns_an_over_unit_to_over() {
    let mut host = Host::new(Params::default(), 1, false).expect("host");
    let rt_domain = host.add_domain(1);
    let params = DomainParams { rt_allowed: true, ..host.domain_params(rt_domain).expect("params") };
    host.set_domain_params(rt_domain, &params).expect("allowed RT");
    let other_domain = host.add_domain(2);
    let (rt_unit, _) = host.add_unit(rt_domain, 0, true, 0).expect("unit");
    let (other_unit, _) = host.add_unit(other_domain, 0, true, 0).expect("unit");

    // Both units run once at a tick, so both are active and share the credit.
    let first = host.schedule(0, 0, false).expect("schedule").next.expect("a unit");
    host.tick(0, 10 * MS).expect("tick");
    let second = host.schedule(0, 10 * MS, false).expect("schedule").next.expect("a unit");
    assert_ne!(first, second);
    host.tick(0, 20 * MS).expect("tick");
    if second != rt_unit {
        host.schedule(0, 20 * MS, false).expect("schedule");
    }
    assert_eq!(host.current(0), Some(rt_unit));
    // The RT unit keeps the CPU (no slice expiry delivered) and overspends.
    for t in (30..=90).step_by(10) {
        host.tick(0, t * MS).expect("tick");
        if t % 30 == 0 {
            host.account(t * MS);
        }
    }
    let before = host.unit(rt_unit).expect("unit");
    assert!(before.credit < 0 && before.prio == Prio::Over, "set-up: the unit is OVER: {before:?}");
    let _ = other_unit;

    // It asks for RT at 100 ms; the timer fires; the tick at the same instant keeps RT
    // (no RT time used yet), the next one (10 ms at RT, past the grant's limit) ends it.
    let args = SchedRtsleep { deadline_ns: 100 * MS, flags: 0, pad: 0 };
    host.rtsleep(rt_unit, &args, 91 * MS).expect("granted");
    host.rt_fire(rt_unit, 100 * MS).expect("fired");
    assert_eq!(host.unit(rt_unit).expect("unit").prio, Prio::Rt);
    host.tick(0, 100 * MS).expect("tick");
    assert_eq!(host.unit(rt_unit).expect("unit").prio, Prio::Rt);
    host.tick(0, 110 * MS).expect("tick");
    let after = host.unit(rt_unit).expect("unit");
    assert!(after.credit < 0, "{after:?}");
    assert_eq!(after.prio, Prio::Over, "RT must fall back to the class its credit gives (OVER), got {after:?}");
}

/// `ncpus` CPUs; RT-allowed units `names.len()` on `cpu`, each of its own domain, that
/// register `deadlines[i]` and block in turn, so that `cpu` ends idle. Returns them.
fn rt_units_blocked_on(host: &mut Host, cpu: u32, first_domid: u32, deadlines: &[u64]) -> Vec<UnitId> {
    let mut units = Vec::new();
    for (index, _) in deadlines.iter().enumerate() {
        let dom = host.add_domain(first_domid + index as u32);
        host.set_domain_params(dom, &rt_params()).unwrap();
        units.push(host.add_unit(dom, cpu, true, 0).unwrap().0);
    }
    for (unit, at) in units.iter().zip(deadlines) {
        assert_eq!(host.schedule(cpu, 0, false).unwrap().next, Some(*unit));
        assert_eq!(host.rtsleep(*unit, &deadline(*at), 0).unwrap().result, RTSLEEP_GRANTED);
        host.sleep(*unit).unwrap();
    }
    assert_eq!(host.schedule(cpu, 0, false).unwrap().next, None);
    units
}

/// A hog (own domain) running on `cpu`, past its boot BOOST.
fn hog_running_on(host: &mut Host, cpu: u32, domid: u32) -> UnitId {
    let dom = host.add_domain(domid);
    let (hog, _) = host.add_unit(dom, cpu, true, 0).unwrap();
    assert_eq!(host.schedule(cpu, 0, false).unwrap().next, Some(hog));
    host.tick(cpu, 5 * MS).unwrap();
    hog
}

/// Two deadlines due together on a CPU that runs no RT: that CPU takes one, and the
/// second is not left behind it for an RT turn while another CPU runs a hog: its wake
/// tickles that CPU, whose pass steals it.
#[test]
fn two_deadlines_due_together_on_one_cpu_are_served_side_by_side() {
    let mut host = Host::new(Params::default(), 2, true).unwrap();
    let rt = rt_units_blocked_on(&mut host, 0, 1, &[10 * MS, 10 * MS + 1_000]);
    let hog0 = hog_running_on(&mut host, 0, 10);
    hog_running_on(&mut host, 1, 11);
    host.rt_fire(rt[0], 10 * MS).unwrap();
    assert_eq!(host.wake(rt[0], 10 * MS).unwrap(), CpuMask::single(0), "the first preempts the hog here");
    host.rt_fire(rt[1], 10 * MS + 1_000).unwrap();
    assert_eq!(host.wake(rt[1], 10 * MS + 1_000).unwrap(), CpuMask::single(1), "the second: the other CPU");
    let here = host.schedule(0, 10 * MS + 2_000, false).unwrap();
    assert_eq!((here.next, here.prio), (Some(rt[0]), Prio::Rt));
    let there = host.schedule(1, 10 * MS + 2_000, false).unwrap();
    assert_eq!((there.next, there.prio, there.migrated), (Some(rt[1]), Prio::Rt, true));
    assert_eq!(host.queue(0), vec![hog0]);
}

/// A CPU with nothing better than OVER to run steals RT work before anything else:
/// the host tries peers in turn, and the first peer holding an UNDER unit must not hand
/// that one over while an RT unit waits behind RT on a later peer.
#[test]
fn a_stealing_cpu_takes_rt_work_before_a_nearer_peers_under_unit() {
    let mut host = Host::new(Params::default(), 3, true).unwrap();
    let rt = rt_units_blocked_on(&mut host, 1, 1, &[10 * MS, 10 * MS + 100_000]);
    hog_running_on(&mut host, 0, 10);
    // CPU 2 is idle; a second hog waits on CPU 0 (its wake tickled CPU 2, whose pass
    // has not run yet).
    assert_eq!(host.schedule(2, 0, false).unwrap().next, None);
    let hog_dom = host.add_domain(11);
    let (waiting_hog, _) = host.add_unit(hog_dom, 0, true, 0).unwrap();
    host.tick(0, 5 * MS).unwrap();
    assert_eq!(host.queue(0), vec![waiting_hog]);
    // CPU 1 runs the first RT unit; the second's deadline comes while it runs.
    host.rt_fire(rt[0], 10 * MS).unwrap();
    host.wake(rt[0], 10 * MS).unwrap();
    assert_eq!(host.schedule(1, 10 * MS, false).unwrap().next, Some(rt[0]));
    host.rt_fire(rt[1], 10 * MS + 100_000).unwrap();
    host.wake(rt[1], 10 * MS + 100_000).unwrap();
    let pass = host.schedule(2, 10 * MS + 102_000, false).unwrap();
    assert_eq!((pass.next, pass.prio, pass.migrated), (Some(rt[1]), Prio::Rt, true));
    assert_eq!(host.queue(0), vec![waiting_hog], "the hog is left for a later pass");
}

/// A CPU tickled to take an RT unit waiting elsewhere that finds an RT unit of its own
/// runs that one and passes the tickle on to a CPU that runs no RT.
#[test]
fn a_cpu_that_runs_its_own_rt_passes_the_tickle_on() {
    let mut host = Host::new(Params::default(), 3, true).unwrap();
    let on0 = rt_units_blocked_on(&mut host, 0, 1, &[10 * MS, 10 * MS + 100_000]);
    let on1 = rt_units_blocked_on(&mut host, 1, 3, &[10 * MS + 100_000]);
    hog_running_on(&mut host, 1, 10);
    hog_running_on(&mut host, 2, 11);
    host.rt_fire(on0[0], 10 * MS).unwrap();
    host.wake(on0[0], 10 * MS).unwrap();
    assert_eq!(host.schedule(0, 10 * MS, false).unwrap().next, Some(on0[0]));
    // The second unit of CPU 0 waits behind RT there: CPU 1 or 2 is tickled; make it
    // CPU 1 by firing CPU 1's own RT unit first.
    host.rt_fire(on1[0], 10 * MS + 100_000).unwrap();
    host.wake(on1[0], 10 * MS + 100_000).unwrap();
    host.rt_fire(on0[1], 10 * MS + 100_000).unwrap();
    host.wake(on0[1], 10 * MS + 100_000).unwrap();
    let pass = host.schedule(1, 10 * MS + 102_000, false).unwrap();
    assert_eq!((pass.next, pass.prio), (Some(on1[0]), Prio::Rt));
    assert_eq!(pass.tickle, CpuMask::single(2), "the tickle goes on to the CPU running a hog");
    let taken = host.schedule(2, 10 * MS + 104_000, false).unwrap();
    assert_eq!((taken.next, taken.prio, taken.migrated), (Some(on0[1]), Prio::Rt, true));
}

/// A unit that was running when its deadline fired keeps its CPU to its slice's end
/// after its RT ends, but not while an RT unit waits behind RT on another CPU: that
/// pass is the chance to take it.
#[test]
fn a_unit_kept_to_its_slice_end_gives_way_to_rt_waiting_elsewhere() {
    let mut host = Host::new(Params::default(), 2, true).unwrap();
    let on0 = rt_units_blocked_on(&mut host, 0, 1, &[10 * MS, 10 * MS + 50_000]);
    let dom = host.add_domain(5);
    host.set_domain_params(dom, &rt_params()).unwrap();
    let (mixed, _) = host.add_unit(dom, 1, true, 0).unwrap();
    assert_eq!(host.schedule(1, 0, false).unwrap().next, Some(mixed));
    host.tick(1, 5 * MS).unwrap();
    assert_eq!(host.rtsleep(mixed, &deadline(10 * MS), 5 * MS).unwrap().result, RTSLEEP_GRANTED);
    // Its deadline fires while it runs (its burner keeps the VCPU busy): RT on CPU 1.
    assert_eq!(host.rt_fire(mixed, 10 * MS).unwrap(), CpuMask::single(1));
    assert_eq!(host.schedule(1, 10 * MS, false).unwrap().prio, Prio::Rt);
    // CPU 0 serves one deadline; the second waits behind it.
    host.rt_fire(on0[0], 10 * MS).unwrap();
    host.wake(on0[0], 10 * MS).unwrap();
    assert_eq!(host.schedule(0, 10 * MS, false).unwrap().next, Some(on0[0]));
    host.rt_fire(on0[1], 10 * MS + 50_000).unwrap();
    host.wake(on0[1], 10 * MS + 50_000).unwrap();
    // The mixed task's work is done: it registers its next deadline and RT ends.
    assert!(host.rtsleep(mixed, &deadline(20 * MS), 10 * MS + 100_000).unwrap().reschedule);
    let pass = host.schedule(1, 10 * MS + 100_000, false).unwrap();
    assert_eq!((pass.next, pass.prio, pass.migrated), (Some(on0[1]), Prio::Rt, true));
    assert_eq!(host.queue(1), vec![mixed], "it resumes after, first in its class");
}

/// One CPU, no rate limit: a domain of `vcpus` units (`rt_allowed` as given) whose
/// last unit has run alone for 100 ms and is OVER, blocked; then a hog runs. Returns
/// the host, the domain, that unit and the hog, at 100 ms.
fn over_unit_beside_a_hog(vcpus: u32, rt_allowed: bool) -> (Host, DomId, UnitId, UnitId) {
    over_unit_beside_a_hog_on(1, vcpus, rt_allowed)
}

/// The same on a host of `ncpus` CPUs (everything on CPU 0).
fn over_unit_beside_a_hog_on(ncpus: u32, vcpus: u32, rt_allowed: bool) -> (Host, DomId, UnitId, UnitId) {
    let mut host = Host::new(Params { ratelimit_ns: 0, ..Params::default() }, ncpus, true).unwrap();
    let dom = host.add_domain(1);
    host.set_domain_params(dom, &DomainParams { rt_allowed, ..rt_params() }).unwrap();
    let mut unit = None;
    for index in 0..vcpus {
        // Only the last one runs; its siblings stay blocked.
        unit = Some(host.add_unit(dom, 0, index + 1 == vcpus, 0).unwrap().0);
    }
    let unit = unit.unwrap();
    host.schedule(0, 0, false).unwrap();
    for tick in 1..=10 {
        host.tick(0, tick * 10 * MS).unwrap();
    }
    host.account(100 * MS);
    assert_eq!(host.unit(unit).unwrap().prio, Prio::Over);
    let hog_dom = host.add_domain(10);
    let (hog, _) = host.add_unit(hog_dom, 0, true, 100 * MS).unwrap();
    host.sleep(unit).unwrap();
    assert_eq!(host.schedule(0, 100 * MS, false).unwrap().next, Some(hog));
    (host, dom, unit, hog)
}

#[test]
fn an_over_sibling_of_an_rt_domain_wakes_with_boost_paid_from_the_rt_budget() {
    // Credit's rule where it does not apply: one VCPU, or a domain not allowed RT.
    for (vcpus, rt_allowed) in [(1, true), (2, false)] {
        let (mut host, _, unit, hog) = over_unit_beside_a_hog(vcpus, rt_allowed);
        host.wake(unit, 101 * MS).unwrap();
        assert_eq!(host.unit(unit).unwrap().prio, Prio::Over, "{vcpus} VCPUs, RT allowed: {rt_allowed}");
        assert_eq!(host.schedule(0, 101 * MS, false).unwrap().next, Some(hog));
    }
    // A sibling: BOOST, it preempts the hog, and its time at BOOST is RT budget spent.
    let (mut host, dom, unit, hog) = over_unit_beside_a_hog(2, true);
    let budget_ns = 100 * MS; // 10% of the 1 s window
    let mut now = 101 * MS;
    let mut cycles = 0;
    while host.domain_counters(dom).unwrap().window_rt_ns < budget_ns {
        host.wake(unit, now).unwrap();
        assert_eq!(host.unit(unit).unwrap().prio, Prio::Boost, "wake {cycles}");
        let pass = host.schedule(0, now, false).unwrap();
        assert_eq!((pass.next, pass.prio), (Some(unit), Prio::Boost));
        // 5 ms at BOOST, then it blocks and the hog runs 1 ms.
        host.sleep(unit).unwrap();
        assert_eq!(host.schedule(0, now + 5 * MS, false).unwrap().next, Some(hog));
        assert_eq!(host.domain_counters(dom).unwrap().window_rt_ns, (cycles + 1) * 5 * MS);
        assert_eq!(host.unit(unit).unwrap().prio, Prio::Boost, "it keeps BOOST while it sleeps, as in credit");
        cycles += 1;
        now += 6 * MS;
    }
    assert_eq!(cycles, 20, "100 ms of budget, 5 ms a wake");
    assert!(host.unit(unit).unwrap().credit < 0, "credit is charged as always");
    // Budget spent: the BOOST it kept while asleep ends at this wake, credit's again.
    host.wake(unit, now).unwrap();
    assert_eq!(host.unit(unit).unwrap().prio, Prio::Over);
    assert_eq!(host.schedule(0, now, false).unwrap().next, Some(hog));
}

#[test]
fn a_boost_paid_from_the_rt_budget_is_kept_across_a_migration_as_any_boost() {
    // Credit does not BOOST a wake after a migration, but a BOOST the unit already has
    // stays; so does one paid from the RT budget while the budget lasts.
    let (mut host, dom, unit, _) = over_unit_beside_a_hog_on(2, 2, true);
    host.wake(unit, 101 * MS).unwrap();
    assert_eq!(host.schedule(0, 101 * MS, false).unwrap().next, Some(unit));
    host.sleep(unit).unwrap();
    host.schedule(0, 102 * MS, false).unwrap();
    assert_eq!(host.unit(unit).unwrap().prio, Prio::Boost);
    host.migrate(unit, 1).unwrap();
    host.wake(unit, 103 * MS).unwrap();
    assert_eq!(host.unit(unit).unwrap().prio, Prio::Boost, "kept across the migration");
    assert_eq!(host.schedule(1, 103 * MS, false).unwrap().next, Some(unit));
    host.sleep(unit).unwrap();
    host.schedule(1, 104 * MS, false).unwrap();
    assert_eq!(host.domain_counters(dom).unwrap().window_rt_ns, 2 * MS, "both stays paid from the budget");
}
