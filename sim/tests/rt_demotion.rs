//! Regression test for a core bug the simulator found (see sim/README.md, "Findings
//! about the core"): RT granted to a unit with no credit used to drop back to UNDER.

use rtcredit::host::Host;
use rtcredit::{DomainParams, Params, Prio, SchedRtsleep};

const MS: u64 = 1_000_000;

/// An OVER unit (credit spent) that is granted RT at its deadline goes back to OVER when
/// RT ends, not to UNDER: RT must not lift it out of OVER for the rest of the
/// accounting period (BOOST never can, because only an UNDER unit is boosted). The
/// adversary in the simulator used this to get CPU above its fair share plus its RT
/// budget (see `the_rt_spammer_gets_at_most_its_fair_share_plus_its_rt_budget`).
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
    // (no RT time used yet), the next one (10 ms at RT, over the 0.5 ms quantum) ends it.
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
