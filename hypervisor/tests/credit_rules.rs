//! One small scenario per credit rule, time driven by hand through the safe host.

use rtcredit::host::{DomId, Host, UnitId};
use rtcredit::{ChargeMode, CpuMask, DomainParams, Params, Prio, RtcError, TickCmd};

const MS: u64 = 1_000_000;

fn host(ncpus: u32) -> Host {
    Host::new(Params::default(), ncpus, true).expect("default params are valid")
}

fn no_ratelimit() -> Params {
    Params { ratelimit_ns: 0, ..Params::default() }
}

fn domain_with_unit(host: &mut Host, domid: u32, cpu: u32, runnable: bool) -> (DomId, UnitId) {
    let dom = host.add_domain(domid);
    let (unit, _) = host.add_unit(dom, cpu, runnable, 0).expect("unit added");
    (dom, unit)
}

fn set_weight_cap(host: &mut Host, dom: DomId, weight: u32, cap: u32) {
    let mut params = host.domain_params(dom).expect("domain exists");
    params.weight = weight;
    params.cap = cap;
    host.set_domain_params(dom, &params).expect("valid domain params");
}

#[test]
fn a_woken_under_unit_gets_boost_and_the_tick_that_finds_it_running_drops_it() {
    let mut host = host(1);
    let (_, unit) = domain_with_unit(&mut host, 1, 0, false);
    assert_eq!(host.unit(unit).unwrap().prio, Prio::Under);
    let tickle = host.wake(unit, 0).unwrap();
    assert_eq!(tickle, CpuMask::single(0), "an idle CPU is tickled");
    assert_eq!(host.unit(unit).unwrap().prio, Prio::Boost);
    let run = host.schedule(0, 0, false).unwrap();
    assert_eq!((run.next, run.prio, run.tick), (Some(unit), Prio::Boost, TickCmd::Start));
    assert_eq!(run.tick_at_ns, 10 * MS, "the first tick is aligned to the tick period");
    assert_eq!(host.tick(0, 10 * MS).unwrap(), Some(20 * MS));
    assert_eq!(host.unit(unit).unwrap().prio, Prio::Under);
    assert!(host.unit(unit).unwrap().active, "a unit found running at a tick earns credit");
}

#[test]
fn a_unit_woken_after_a_migration_or_while_over_gets_no_boost() {
    let mut host = host(2);
    let (_, unit) = domain_with_unit(&mut host, 1, 0, false);
    host.migrate(unit, 1).unwrap();
    host.wake(unit, 0).unwrap();
    assert_eq!(host.unit(unit).unwrap().prio, Prio::Under);
}

#[test]
fn queues_are_fifo_within_a_class_and_ordered_across_classes() {
    let mut host = Host::new(no_ratelimit(), 1, false).unwrap();
    let (_, a) = domain_with_unit(&mut host, 1, 0, true);
    let (_, b) = domain_with_unit(&mut host, 2, 0, true);
    let (_, c) = domain_with_unit(&mut host, 3, 0, true);
    assert_eq!(host.queue(0), vec![a, b, c], "BOOST, in wake order");
    // a runs; at the tick it drops to UNDER; at the next pass it goes behind b and c.
    assert_eq!(host.schedule(0, 0, false).unwrap().next, Some(a));
    host.tick(0, 10 * MS).unwrap();
    let next = host.schedule(0, 10 * MS, false).unwrap();
    assert_eq!(next.next, Some(b));
    assert_eq!(host.queue(0), vec![c, a], "BOOST c before UNDER a");
}

#[test]
fn running_costs_ten_credits_per_ms_with_the_remainder_carried() {
    let mut host = Host::new(no_ratelimit(), 1, false).unwrap();
    let (_, unit) = domain_with_unit(&mut host, 1, 0, true);
    let (_, other) = domain_with_unit(&mut host, 2, 0, true);
    host.schedule(0, 0, false).unwrap();
    host.tick(0, 10 * MS).unwrap();
    assert_eq!(host.unit(unit).unwrap().credit, -100);
    // 0.35 ms + 0.35 ms = 7 credits, not 3 + 3.
    host.schedule(0, 10 * MS + 350_000, false).unwrap();
    assert_eq!(host.unit(unit).unwrap().credit, -103);
    host.sleep(other).unwrap();
    host.schedule(0, 10 * MS + 700_000, false).unwrap();
    host.schedule(0, 10 * MS + 1_050_000, false).unwrap();
    assert_eq!(host.unit(unit).unwrap().credit, -107);
}

#[test]
fn tick_sampled_charging_bills_a_whole_tick_to_whoever_runs_at_the_tick() {
    let params = Params { ratelimit_ns: 0, charge_mode: ChargeMode::TickSampled as u32, ..Params::default() };
    let mut host = Host::new(params, 1, false).unwrap();
    let (_, short) = domain_with_unit(&mut host, 1, 0, true);
    host.schedule(0, 0, false).unwrap();
    // It ran 0.1 ms of the tick but is caught running at it: it pays 100.
    host.tick(0, 10 * MS).unwrap();
    host.sleep(short).unwrap();
    host.schedule(0, 10 * MS + 100_000, false).unwrap();
    assert_eq!(host.unit(short).unwrap().credit, -100);
}

#[test]
fn accounting_shares_credit_by_weight() {
    let mut host = Host::new(no_ratelimit(), 1, false).unwrap();
    let (light_dom, light) = domain_with_unit(&mut host, 1, 0, true);
    let (heavy_dom, heavy) = domain_with_unit(&mut host, 2, 0, true);
    set_weight_cap(&mut host, light_dom, 256, 0);
    set_weight_cap(&mut host, heavy_dom, 512, 0);
    // Make both active: each must be found running at a tick.
    host.schedule(0, 0, false).unwrap();
    host.tick(0, 10 * MS).unwrap();
    host.schedule(0, 10 * MS, false).unwrap();
    host.tick(0, 20 * MS).unwrap();
    assert_eq!(host.weight_total(), 768);
    let before = [host.unit(light).unwrap().credit, host.unit(heavy).unwrap().credit];
    host.account(20 * MS);
    let after = [host.unit(light).unwrap().credit, host.unit(heavy).unwrap().credit];
    assert_eq!(after[0] - before[0], 100, "a third of 300");
    assert_eq!(after[1] - before[1], 200, "two thirds of 300");
}

#[test]
fn a_capped_unit_is_parked_below_its_cap_and_unparked_when_it_has_credit_again() {
    let mut host = Host::new(no_ratelimit(), 1, true).unwrap();
    let (dom, hog) = domain_with_unit(&mut host, 1, 0, true);
    set_weight_cap(&mut host, dom, 256, 20);
    let mut now = 0;
    host.schedule(0, now, false).unwrap();
    let mut parked_at = None;
    for _ in 0..30 {
        now += 10 * MS;
        host.tick(0, now).unwrap();
        if now % (30 * MS) == 0 {
            host.account(now);
        }
        let decision = host.schedule(0, now, false).unwrap();
        if host.unit(hog).unwrap().parked {
            parked_at = Some(now);
            assert_eq!(decision.next, None, "a parked unit does not run");
            break;
        }
    }
    let parked_at = parked_at.expect("a hog capped at 20% gets parked");
    assert!(parked_at <= 90 * MS, "parked within a few periods, got {parked_at}");
    // Credit comes back 60 per period (20% of 300); it runs again once non-negative.
    let mut unparked = false;
    for _ in 0..20 {
        now += 30 * MS;
        host.account(now);
        if !host.unit(hog).unwrap().parked {
            unparked = true;
            assert!(host.unit(hog).unwrap().queued, "an unparked runnable unit is queued again");
            break;
        }
    }
    assert!(unparked);
}

#[test]
fn credit_is_clipped_below_and_a_rich_unit_stops_earning_with_half() {
    let mut host = Host::new(no_ratelimit(), 1, false).unwrap();
    let (_, hog) = domain_with_unit(&mut host, 1, 0, true);
    host.schedule(0, 0, false).unwrap();
    let mut now = 0;
    for _ in 0..60 {
        now += 10 * MS;
        host.tick(0, now).unwrap();
    }
    host.account(now);
    // It ran 600 ms (-6000) and got 300: clipped to -300.
    assert_eq!(host.unit(hog).unwrap().credit, -300);
    host.sleep(hog).unwrap();
    host.schedule(0, now, false).unwrap();
    let mut periods = 0;
    while host.unit(hog).unwrap().active {
        now += 30 * MS;
        host.account(now);
        periods += 1;
        assert!(periods < 10);
    }
    // Active with 300 credits it got 300 more (600 > 300): inactive, halved.
    assert_eq!(host.unit(hog).unwrap().credit, 300);
}

#[test]
fn a_yielding_unit_alone_at_its_class_lets_one_lower_unit_run_first() {
    let mut host = Host::new(no_ratelimit(), 1, false).unwrap();
    let (_, over) = domain_with_unit(&mut host, 1, 0, true);
    // Make `over` OVER: run it 100 ms and account.
    host.schedule(0, 0, false).unwrap();
    let mut now = 0;
    for _ in 0..10 {
        now += 10 * MS;
        host.tick(0, now).unwrap();
    }
    host.account(now);
    let (_, under) = domain_with_unit(&mut host, 2, 0, false);
    host.wake(under, now).unwrap();
    host.schedule(0, now, false).unwrap();
    host.tick(0, now + 10 * MS).unwrap();
    assert_eq!(host.current(0), Some(under));
    assert_eq!(host.unit(under).unwrap().prio, Prio::Under);
    assert_eq!(host.unit(over).unwrap().prio, Prio::Over);
    host.yield_unit(under).unwrap();
    let decision = host.schedule(0, now + 11 * MS, false).unwrap();
    assert_eq!(decision.next, Some(over), "the OVER unit gets one turn");
    let decision = host.schedule(0, now + 12 * MS, false).unwrap();
    assert_eq!(decision.next, Some(under), "then the yielder, at the head of UNDER");
}

#[test]
fn the_rate_limit_defers_a_boost_preemption_but_not_past_1ms() {
    let mut host = host(1);
    let (_, hog) = domain_with_unit(&mut host, 1, 0, true);
    let (_, hog2) = domain_with_unit(&mut host, 3, 0, true);
    host.schedule(0, 0, false).unwrap();
    host.tick(0, 10 * MS).unwrap();
    // hog2 is switched in at 10 ms.
    let first = host.schedule(0, 10 * MS, false).unwrap();
    assert_eq!(first.next, Some(hog2));
    let (_, waker) = domain_with_unit(&mut host, 2, 0, false);
    host.wake(waker, 10 * MS + 300_000).unwrap();
    let kept = host.schedule(0, 10 * MS + 300_000, false).unwrap();
    assert_eq!(kept.next, Some(hog2));
    assert_eq!(kept.run_ns, 700_000, "runs until it has had 1 ms");
    assert!(!kept.switched);
    let after = host.schedule(0, 11 * MS, false).unwrap();
    assert_eq!(after.next, Some(waker));
    let _ = hog;
}

#[test]
fn the_slice_is_the_configured_time_slice() {
    let params = Params { tslice_ns: 5 * MS, ratelimit_ns: 0, ..Params::default() };
    let mut host = Host::new(params, 1, false).unwrap();
    let (_, unit) = domain_with_unit(&mut host, 1, 0, true);
    let decision = host.schedule(0, 0, false).unwrap();
    assert_eq!((decision.next, decision.run_ns), (Some(unit), 5 * MS));
    let idle = {
        host.sleep(unit).unwrap();
        host.schedule(0, MS, false).unwrap()
    };
    assert_eq!((idle.next, idle.run_ns, idle.tick), (None, u64::MAX, TickCmd::Stop));
}

#[test]
fn a_wake_on_a_busy_cpu_tickles_an_idle_cpu_that_then_steals_the_unit() {
    let mut host = host(2);
    let (_, hog) = domain_with_unit(&mut host, 1, 0, true);
    host.schedule(0, 0, false).unwrap();
    host.schedule(1, 0, false).unwrap();
    assert!(host.idlers().contains(1));
    let (_, waker) = domain_with_unit(&mut host, 2, 0, false);
    let tickle = host.wake(waker, MS).unwrap();
    assert_eq!(tickle, CpuMask::single(1), "the idle CPU, not the busy one");
    assert!(!host.idlers().contains(1), "a tickled idler leaves the idle set");
    let decision = host.schedule(1, MS, false).unwrap();
    assert_eq!(decision.next, Some(waker));
    assert!(decision.migrated);
    assert_eq!(host.unit(waker).unwrap().cpu, 1);
    assert_eq!(host.current(0), Some(hog));
}

#[test]
fn stealing_respects_hard_affinity() {
    let mut host = host(2);
    let (_, hog) = domain_with_unit(&mut host, 1, 0, true);
    let (_, pinned) = domain_with_unit(&mut host, 2, 0, false);
    host.set_affinity(pinned, CpuMask::single(0)).unwrap();
    host.schedule(0, 0, false).unwrap();
    host.schedule(1, 0, false).unwrap();
    let tickle = host.wake(pinned, MS).unwrap();
    assert!(!tickle.contains(1), "an idler it may not run on is not tickled");
    assert_eq!(host.schedule(1, MS, false).unwrap().next, None);
    assert_eq!(host.unit(pinned).unwrap().cpu, 0);
    let _ = hog;
    assert_eq!(host.set_affinity(pinned, CpuMask::EMPTY), Err(RtcError::EmptyAffinity));
}

#[test]
fn an_idle_cpu_steals_over_work_but_a_busy_one_leaves_it() {
    let mut host = Host::new(no_ratelimit(), 2, false).unwrap();
    let (_, a) = domain_with_unit(&mut host, 1, 0, true);
    let (_, b) = domain_with_unit(&mut host, 2, 0, true);
    host.schedule(0, 0, false).unwrap();
    // CPU 1 is idle: it steals b (UNDER > IDLE) from busy CPU 0.
    let decision = host.schedule(1, 0, false).unwrap();
    assert_eq!(decision.next, Some(b));
    assert_eq!(host.current(0), Some(a));
}

#[test]
fn pick_cpu_prefers_an_idle_allowed_cpu() {
    let mut host = host(3);
    let (_, hog) = domain_with_unit(&mut host, 1, 0, true);
    host.schedule(0, 0, false).unwrap();
    for cpu in 1..3 {
        host.schedule(cpu, 0, false).unwrap();
    }
    let (_, unit) = domain_with_unit(&mut host, 2, 0, false);
    let mut affinity = CpuMask::single(0);
    affinity.set(2);
    host.set_affinity(unit, affinity).unwrap();
    assert_eq!(host.pick_cpu(unit).unwrap(), 2);
    let _ = hog;
}

#[test]
fn weight_and_cap_are_validated_and_nothing_changes_on_error() {
    let mut host = host(1);
    let dom = host.add_domain(1);
    let good = host.domain_params(dom).unwrap();
    let cases = [
        (DomainParams { weight: 0, ..good }, RtcError::BadWeight),
        (DomainParams { weight: 65_536, ..good }, RtcError::BadWeight),
        (DomainParams { cap: 65_536, ..good }, RtcError::BadCap),
        (DomainParams { rt_budget_pct: 0, ..good }, RtcError::BadRtBudget),
        (DomainParams { rt_budget_pct: 101, ..good }, RtcError::BadRtBudget),
        (DomainParams { rt_rate_per_s: 0, ..good }, RtcError::BadRtRate),
    ];
    for (params, error) in cases {
        assert_eq!(host.set_domain_params(dom, &params), Err(error));
        assert_eq!(host.domain_params(dom).unwrap(), good);
    }
    assert_eq!(good.weight, 256);
    assert!(!good.rt_allowed, "no domain is allowed RT by default");
}

#[test]
fn global_parameters_are_validated_and_nothing_changes_on_error() {
    let mut host = host(1);
    let bad = Params { ratelimit_ns: 40 * MS, ..Params::default() };
    assert_eq!(host.set_params(&bad), Err(RtcError::BadRatelimit));
    assert_eq!(host.params(), Params::default());
    let tuned = Params { tslice_ns: MS, ratelimit_ns: 0, ..Params::default() };
    host.set_params(&tuned).unwrap();
    let (_, unit) = domain_with_unit(&mut host, 1, 0, true);
    let decision = host.schedule(0, 0, false).unwrap();
    assert_eq!((decision.next, decision.run_ns), (Some(unit), MS));
    assert_eq!(decision.tick_at_ns, MS, "a 1 ms slice has a 1 ms tick");
}

#[test]
fn a_running_unit_cannot_be_removed_or_migrated() {
    let mut host = host(2);
    let (_, unit) = domain_with_unit(&mut host, 1, 0, true);
    host.schedule(0, 0, false).unwrap();
    assert_eq!(host.remove_unit(unit), Err(RtcError::UnitBusy));
    assert_eq!(host.migrate(unit, 1), Err(RtcError::UnitBusy));
    host.sleep(unit).unwrap();
    host.schedule(0, MS, false).unwrap();
    assert_eq!(host.remove_unit(unit), Ok(()));
}

#[test]
fn forced_idle_runs_nothing_and_keeps_the_cpu_out_of_the_idle_set() {
    let mut host = host(1);
    let (_, unit) = domain_with_unit(&mut host, 1, 0, true);
    host.schedule(0, 0, false).unwrap();
    let decision = host.schedule(0, 5 * MS, true).unwrap();
    assert_eq!(decision.next, None);
    assert!(!host.idlers().contains(0));
    assert!(host.unit(unit).unwrap().queued);
}

#[test]
fn a_unit_being_switched_out_is_not_stolen_until_its_context_is_saved() {
    use rtcredit::{Cpu, Domain, Shared, TraceHook, Unit};
    let params = Params::default();
    let mut acct = rtcredit::Accounting::new(params).unwrap();
    let shared = Shared::new(&params, TraceHook { func: None, ctx: std::ptr::null_mut() });
    let mut cpus = [Box::new(Cpu::new(0)), Box::new(Cpu::new(1))];
    for cpu in cpus.iter_mut() {
        acct.add_cpu(&shared, cpu).unwrap();
    }
    let mut domain = Box::new(Domain::new(1));
    let mut units: Vec<Box<Unit>> =
        (0..2).map(|id| Box::new(Unit::new(&mut *domain, id, std::ptr::null_mut()))).collect();
    let [cpu0, cpu1] = &mut cpus;
    // SAFETY: the units and the domain are boxed and outlive the CPUs' use of them; one
    // thread holds every object, so no other reference exists during the calls.
    unsafe {
        for unit in units.iter_mut() {
            cpu0.insert_unit(&shared, &mut **unit, true, 0).unwrap();
        }
        cpu0.schedule_begin(&shared, 0, false);
        let first = cpu0.current();
        let begin = cpu0.schedule_begin(&shared, 2 * MS, false);
        assert!(!begin.want_steal);
        let second = cpu0.current();
        assert_ne!(first, second, "the other unit runs now; the first is being switched out");
        // CPU 1 cannot take the first unit yet: it is still in CPU 0's switch tail.
        let stolen = cpu1.steal_from(&shared, cpu0, Prio::Idle);
        assert!(stolen.is_null());
        cpu0.context_saved(first).unwrap();
        let stolen = cpu1.steal_from(&shared, cpu0, Prio::Idle);
        assert_eq!(stolen, first);
    }
}

#[test]
fn work_left_waiting_after_a_pass_tickles_an_idle_cpu() {
    // Two hogs on CPU 0 that never block: without this, CPU 1 would idle forever.
    let mut host = Host::new(no_ratelimit(), 2, false).unwrap();
    let (_, a) = domain_with_unit(&mut host, 1, 0, true);
    let (_, b) = domain_with_unit(&mut host, 2, 0, true);
    host.schedule(1, 0, false).unwrap();
    assert!(host.idlers().contains(1));
    // CPU 1 went idle before anything was queued there; CPU 0 now runs a and leaves b.
    let decision = host.schedule(0, 0, false).unwrap();
    assert_eq!(decision.next, Some(a));
    assert_eq!(decision.tickle, CpuMask::single(1));
    let stolen = host.schedule(1, 0, false).unwrap();
    assert_eq!(stolen.next, Some(b));
}

/// Xen's accounting changes a queued unit's priority value but leaves it where it is in
/// the run queue: a unit woken with BOOST that has not run yet stays ahead of the UNDER
/// units (and of those unparked in the same pass). Found in the end-to-end trace, where
/// the measuring domain waited a hog's whole slice after an accounting period.
#[test]
fn accounting_leaves_a_queued_boost_unit_ahead_of_the_under_units() {
    let mut host = host(1);
    let (_, woken) = domain_with_unit(&mut host, 14, 0, true);
    let (_, hog1) = domain_with_unit(&mut host, 1, 0, true);
    let (_, hog2) = domain_with_unit(&mut host, 2, 0, true);
    // Each runs once and is ticked, so all three are active and UNDER.
    assert_eq!(host.schedule(0, 0, false).unwrap().next, Some(woken));
    host.tick(0, MS).unwrap();
    host.sleep(woken).unwrap();
    assert_eq!(host.schedule(0, 1_200_000, false).unwrap().next, Some(hog1));
    host.tick(0, 2 * MS).unwrap();
    assert_eq!(host.schedule(0, 3 * MS, false).unwrap().next, Some(hog2));
    host.tick(0, 4 * MS).unwrap();
    assert_eq!(host.schedule(0, 5 * MS, false).unwrap().next, Some(hog1));
    assert_eq!(host.unit(hog2).unwrap().prio, Prio::Under);
    // The wake (BOOST) and then an accounting period before the pass it asked for.
    host.wake(woken, 20 * MS).unwrap();
    assert_eq!(host.queue(0), vec![woken, hog2]);
    host.account(20 * MS + 50_000);
    assert_eq!(host.queue(0), vec![woken, hog2], "accounting does not re-file the queued BOOST unit");
    assert_eq!(host.schedule(0, 20 * MS + 100_000, false).unwrap().next, Some(woken));
}
