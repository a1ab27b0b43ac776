//! The `periods` experiment's targets (issue #19, RT v2) on the runs that are quick
//! enough for a test: one pCPU at 1 and 5 ms, eight pCPUs at 5 ms.

use rtcredit_sim::periods::scenario_text;
use rtcredit_sim::policy::Policy;
use rtcredit_sim::report::DomainSummary;
use rtcredit_sim::scenario::{Scenario, ScenarioResults};

fn run(host: &str, period_us: u64) -> ScenarioResults {
    let name = format!("{host}-{period_us}");
    let mut scenario = Scenario::parse(&scenario_text(host, period_us, 1), &name).unwrap();
    // The targets compare rtcredit with credit; the other policies would only cost time.
    scenario.policies = vec![Policy::Credit, Policy::Rtcredit];
    scenario.run(&name).unwrap()
}

fn domains<'a>(results: &'a ScenarioResults, policy: &str) -> &'a [DomainSummary] {
    &results.runs.iter().find(|r| r.policy == policy).unwrap().domains
}

fn domain<'a>(results: &'a ScenarioResults, policy: &str, name: &str) -> &'a DomainSummary {
    domains(results, policy).iter().find(|d| d.name == name).unwrap()
}

#[test]
fn on_one_cpu_rtcredit_serves_1_and_5_ms_periods_and_mixed_work_within_the_targets() {
    for period_us in [1_000, 5_000] {
        let results = run("1cpu", period_us);
        for name in ["rt", "mixed"] {
            let d = domain(&results, "rtcredit", name);
            let late = d.lateness_us.unwrap();
            assert!(late.p99 <= 50.0 && late.max <= 500.0, "{period_us} us {name}: {late:?}");
            assert_eq!(d.rtsleep_refused + d.rt_degraded, 0, "{period_us} us {name}: no fallbacks");
            assert!(d.rt_fires as f64 >= 0.99 * d.jobs as f64, "{period_us} us {name}: every period at RT");
        }
        // Shares: every non-RT domain within 1 point of its credit share, the mixed-work
        // domain within 2 (the targets).
        for d in domains(&results, "rtcredit") {
            let credit = domain(&results, "credit", &d.name).cpu_share_pct;
            let slack = if d.name == "mixed" { 2.0 } else { 1.0 };
            assert!(
                (d.cpu_share_pct - credit).abs() <= slack,
                "{period_us} us {}: {} vs {credit}",
                d.name,
                d.cpu_share_pct
            );
        }
    }
}

#[test]
fn on_eight_cpus_with_a_spammer_rt_lateness_stays_within_the_isolation_bound() {
    let results = run("8cpu", 5_000);
    for name in ["rt", "rt-b", "mixed"] {
        let d = domain(&results, "rtcredit", name);
        let late = d.lateness_us.unwrap();
        // Taken by a CPU running no RT when one is (p99), else one quantum plus a
        // switch at most (the isolation bound).
        assert!(late.p99 <= 50.0 && late.max <= 510.0, "{name}: {late:?}");
        assert_eq!(d.rtsleep_refused + d.rt_degraded, 0, "{name}: no fallbacks");
        let credit = domain(&results, "credit", name).lateness_us.unwrap();
        assert!(late.p99 < credit.p99 / 10.0, "{name}: {late:?} against credit {credit:?}");
    }
}
