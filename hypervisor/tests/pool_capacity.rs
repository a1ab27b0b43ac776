//! The pool's RT capacity (`rtcredit::rt::budget`): one scenario test per rule, and a
//! property over random sequences of grants, revocations, capacity changes, CPUs
//! leaving and joining, and domains leaving.

use proptest::prelude::*;
use rtcredit::host::{DomId, Host};
use rtcredit::{DomainParams, Params, RtCapacity, RtcError};

const WINDOW_NS: u64 = 1_000_000_000;

fn plain() -> DomainParams {
    DomainParams { weight: 256, cap: 0, rt_allowed: false, rt_budget_pct: 10, rt_rate_per_s: 1000 }
}

fn rt(budget_pct: u32) -> DomainParams {
    DomainParams { rt_allowed: true, rt_budget_pct: budget_pct, ..plain() }
}

fn host(ncpus: u32, per_cpu_pct: u32, domains: usize) -> (Host, Vec<DomId>) {
    let mut host = Host::new(Params { rt_capacity_pct: per_cpu_pct, ..Params::default() }, ncpus, false).unwrap();
    let doms = (0..domains).map(|i| host.add_domain(i as u32 + 1)).collect();
    (host, doms)
}

#[test]
fn the_default_capacity_is_half_of_the_pools_cpus() {
    let (host, _) = host(4, Params::default().rt_capacity_pct, 0);
    assert_eq!(host.rt_capacity(), RtCapacity { per_cpu_pct: 50, nr_cpus: 4, capacity_pct: 200, granted_pct: 0 });
}

#[test]
fn a_grant_over_the_capacity_is_refused_and_changes_nothing() {
    let (mut host, d) = host(1, 50, 3);
    host.set_domain_params(d[0], &rt(30)).unwrap();
    assert_eq!(host.set_domain_params(d[1], &rt(21)), Err(RtcError::RtCapacityExceeded));
    assert_eq!(host.domain_params(d[1]), Some(plain()), "the refused domain is unchanged");
    assert_eq!(host.rt_capacity().remaining_pct(), 20);
    host.set_domain_params(d[1], &rt(20)).expect("exactly what is left");
    // Raising a budget counts only the difference; a weight change of a domain at the
    // capacity is not a grant.
    assert_eq!(host.set_domain_params(d[0], &rt(31)), Err(RtcError::RtCapacityExceeded));
    host.set_domain_params(d[0], &DomainParams { weight: 512, ..rt(30) }).expect("same RT share");
    assert_eq!(RtcError::RtCapacityExceeded.errno(), 28, "ENOSPC");
}

#[test]
fn revoking_or_lowering_is_always_accepted_and_gives_the_share_back() {
    let (mut host, d) = host(2, 50, 2);
    host.set_domain_params(d[0], &rt(100)).unwrap();
    assert_eq!(host.rt_capacity().remaining_pct(), 0);
    host.set_domain_params(d[0], &rt(60)).unwrap();
    host.set_domain_params(d[1], &rt(40)).unwrap();
    host.set_domain_params(d[0], &DomainParams { rt_allowed: false, ..rt(60) }).unwrap();
    assert_eq!(host.rt_capacity().granted_pct, 40, "a domain denied RT holds no share, whatever its budget");
}

#[test]
fn the_capacity_cannot_be_lowered_below_what_is_granted() {
    let (mut host, d) = host(2, 50, 1);
    host.set_domain_params(d[0], &rt(60)).unwrap();
    let params = host.params();
    assert_eq!(host.set_params(&Params { rt_capacity_pct: 29, ..params }), Err(RtcError::RtCapacityBelowGranted));
    assert_eq!(host.params().rt_capacity_pct, 50, "nothing changed");
    host.set_params(&Params { rt_capacity_pct: 30, ..params }).expect("60% of 2 CPUs still fits");
    assert_eq!(host.set_params(&Params { rt_capacity_pct: 101, ..params }), Err(RtcError::BadRtCapacity));
    assert_eq!(RtcError::RtCapacityBelowGranted.errno(), 16, "EBUSY");
}

#[test]
fn a_cpu_leaving_scales_every_allowance_to_the_capacity_until_it_comes_back() {
    let (mut host, d) = host(2, 50, 2);
    host.set_domain_params(d[0], &rt(60)).unwrap();
    host.set_domain_params(d[1], &rt(40)).unwrap();
    assert_eq!(host.rt_allowance_ns(d[0]), Some(600_000_000), "in full while within the capacity");
    host.offline_cpu(1).expect("a CPU leaving cannot be refused");
    assert_eq!(host.rt_capacity(), RtCapacity { per_cpu_pct: 50, nr_cpus: 1, capacity_pct: 50, granted_pct: 100 });
    // Capacity 50 over 100 granted: half of each budget, 50% of one CPU in all.
    assert_eq!((host.rt_allowance_ns(d[0]), host.rt_allowance_ns(d[1])), (Some(300_000_000), Some(200_000_000)));
    assert_eq!(host.domain_params(d[0]), Some(rt(60)), "the configured budget stays");
    // While over, no share may grow; lowering one is accepted and moves the scale.
    assert_eq!(host.set_domain_params(d[1], &rt(41)), Err(RtcError::RtCapacityExceeded));
    host.set_domain_params(d[1], &rt(15)).unwrap();
    assert_eq!(host.rt_allowance_ns(d[0]), Some(400_000_000), "60 x 50 / 75");
    host.online_cpu(1).unwrap();
    assert_eq!(host.rt_allowance_ns(d[0]), Some(600_000_000), "in full again");
}

#[test]
fn a_domain_leaving_the_pool_gives_its_share_back_once() {
    let (mut host, d) = host(1, 50, 2);
    host.set_domain_params(d[0], &rt(50)).unwrap();
    host.release_domain(d[0]).unwrap();
    host.release_domain(d[0]).unwrap();
    assert_eq!(host.rt_capacity().granted_pct, 0);
    assert!(!host.domain_params(d[0]).unwrap().rt_allowed, "it is no longer allowed RT here");
    host.set_domain_params(d[1], &rt(50)).expect("the share is free again");
}

/// One step of the property below.
#[derive(Clone, Debug)]
enum Op {
    Grant { dom: usize, budget_pct: u32 },
    Revoke { dom: usize },
    Capacity { per_cpu_pct: u32 },
    Offline { cpu: u32 },
    Online { cpu: u32 },
    Release { dom: usize },
}

const DOMAINS: usize = 6;
const CPUS: u32 = 4;

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..DOMAINS, 1u32..=100).prop_map(|(dom, budget_pct)| Op::Grant { dom, budget_pct }),
        2 => (0..DOMAINS).prop_map(|dom| Op::Revoke { dom }),
        2 => (0u32..=100).prop_map(|per_cpu_pct| Op::Capacity { per_cpu_pct }),
        2 => (0..CPUS).prop_map(|cpu| Op::Offline { cpu }),
        2 => (0..CPUS).prop_map(|cpu| Op::Online { cpu }),
        1 => (0..DOMAINS).prop_map(|dom| Op::Release { dom }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Whatever the sequence of grants, revocations, capacity changes, CPUs leaving and
    /// joining and domains leaving: the RT time the pool's domains may take per window
    /// (their allowances, in force) never adds up to more than the capacity; a change
    /// that raises a domain's share is accepted exactly when the granted sum stays
    /// within the capacity; the configured granted sum exceeds the capacity only after
    /// a CPU left (never by a grant or a capacity change), and then allowances are
    /// scaled; and the pool's granted sum is always the sum of the domains' shares.
    #[test]
    fn the_rt_in_force_in_a_pool_never_exceeds_its_capacity(ops in proptest::collection::vec(op(), 1..60)) {
        let (mut host, doms) = host(CPUS, 50, DOMAINS);
        let mut online = [true; CPUS as usize];
        for op in ops {
            let before = host.rt_capacity();
            match op {
                Op::Grant { dom, budget_pct } => {
                    let old = host.domain_params(doms[dom]).unwrap();
                    let old_share = if old.rt_allowed { old.rt_budget_pct } else { 0 };
                    let fits = before.granted_pct - old_share + budget_pct <= before.capacity_pct;
                    let result = host.set_domain_params(doms[dom], &rt(budget_pct));
                    if budget_pct <= old_share || fits {
                        prop_assert_eq!(result, Ok(()), "{:?} with {:?}", op, before);
                    } else {
                        prop_assert_eq!(result, Err(RtcError::RtCapacityExceeded), "{:?} with {:?}", op, before);
                        prop_assert_eq!(host.domain_params(doms[dom]).unwrap(), old);
                    }
                    if budget_pct > old_share && result.is_ok() {
                        prop_assert!(host.rt_capacity().granted_pct <= host.rt_capacity().capacity_pct);
                    }
                }
                Op::Revoke { dom } => {
                    let old = host.domain_params(doms[dom]).unwrap();
                    prop_assert_eq!(host.set_domain_params(doms[dom], &DomainParams { rt_allowed: false, ..old }), Ok(()));
                }
                Op::Capacity { per_cpu_pct } => {
                    let params = host.params();
                    let result = host.set_params(&Params { rt_capacity_pct: per_cpu_pct, ..params });
                    let wanted = RtCapacity::new(per_cpu_pct, before.nr_cpus, before.granted_pct);
                    if per_cpu_pct < params.rt_capacity_pct && wanted.granted_pct > wanted.capacity_pct {
                        prop_assert_eq!(result, Err(RtcError::RtCapacityBelowGranted));
                        prop_assert_eq!(host.rt_capacity(), before);
                    } else {
                        prop_assert_eq!(result, Ok(()));
                    }
                }
                Op::Offline { cpu } => {
                    let result = host.offline_cpu(cpu);
                    prop_assert_eq!(result.is_ok(), online[cpu as usize]);
                    online[cpu as usize] = false;
                }
                Op::Online { cpu } => {
                    let result = host.online_cpu(cpu);
                    prop_assert_eq!(result.is_ok(), !online[cpu as usize]);
                    online[cpu as usize] = true;
                }
                Op::Release { dom } => host.release_domain(doms[dom]).unwrap(),
            }
            let after = host.rt_capacity();
            let shares: u32 = doms
                .iter()
                .map(|d| host.domain_params(*d).unwrap())
                .map(|p| if p.rt_allowed { p.rt_budget_pct } else { 0 })
                .sum();
            prop_assert_eq!(after.granted_pct, shares, "the pool's sum is the domains' shares");
            prop_assert_eq!(after.nr_cpus, online.iter().filter(|on| **on).count() as u32);
            let in_force: u64 = doms
                .iter()
                .filter(|d| host.domain_params(**d).unwrap().rt_allowed)
                .map(|d| host.rt_allowance_ns(*d).unwrap())
                .sum();
            prop_assert!(
                in_force <= WINDOW_NS / 100 * u64::from(after.capacity_pct),
                "{} ns of RT per window in force over the capacity {:?}", in_force, after
            );
            if after.granted_pct > after.capacity_pct {
                prop_assert!(
                    matches!(op, Op::Offline { .. })
                        || (before.granted_pct > before.capacity_pct && after.granted_pct <= before.granted_pct),
                    "only a CPU leaving takes the pool over its capacity: {:?} {:?} -> {:?}", op, before, after
                );
            } else {
                for d in &doms {
                    let p = host.domain_params(*d).unwrap();
                    prop_assert_eq!(host.rt_allowance_ns(*d).unwrap(), WINDOW_NS / 100 * u64::from(p.rt_budget_pct));
                }
            }
        }
    }
}
