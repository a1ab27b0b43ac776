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
        // domain within 2 (the issue's targets).
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

/// Credit2's unsolved case on one pCPU: a VCPU running a 10 ms periodic task beside a
/// CPU burner, and three hogs that never block. RT must serve the task without costing
/// the domain its share: RT takes it out of its place in the queue each period, and
/// must give that place back (before, its share fell from 25% to 12.6%).
#[test]
fn mixed_work_beside_three_busy_hogs_keeps_its_credit_share() {
    let text = r#"
seed = 1
duration_ms = 6000
policies = ["credit", "rtcredit"]

[host]
pcpus = 1
ipi_delay_us = 2
switch_cost_us = 20

[[domain]]
name = "mixed"
rt_allowed = true
workload = { kind = "mixed-work", period_us = 10000, compute_us = 100, rtsleep = true, start_ms = 100 }

[[domain]]
name = "hog1"
workload = { kind = "hog" }

[[domain]]
name = "hog2"
workload = { kind = "hog" }

[[domain]]
name = "hog3"
workload = { kind = "hog" }
"#;
    let results = Scenario::parse(text, "mixed-busy").unwrap().run("mixed-busy").unwrap();
    let mixed = domain(&results, "rtcredit", "mixed");
    let late = mixed.lateness_us.unwrap();
    assert!(late.p99 <= 50.0, "served at RT: {late:?}");
    for d in domains(&results, "rtcredit") {
        let credit = domain(&results, "credit", &d.name).cpu_share_pct;
        assert!((d.cpu_share_pct - credit).abs() <= 1.0, "{}: {} vs credit {credit}", d.name, d.cpu_share_pct);
    }
}

/// Work longer than the RT quantum (RT's grant limit): a 10 ms task doing 1.5 ms of work
/// per period beside a CPU burner in its VCPU, granted 50%, on two pCPUs with six busy
/// hogs, gets all of its period's work at RT (its grant's limit is 5 ms) and meets its
/// deadlines, while its domain keeps its credit share. With the quantum as RT's end it
/// got 0.5 ms at RT and waited for the rest at OVER behind the hogs: p99 94.6 ms.
#[test]
fn work_longer_than_the_quantum_is_served_at_rt_within_the_budget_share() {
    let mut text = String::from(
        r#"
seed = 1
duration_ms = 6000
policies = ["credit", "rtcredit"]

[host]
pcpus = 2

[[domain]]
name = "task"
rt_allowed = true
rt_budget_pct = 50
workload = { kind = "mixed-work", period_us = 10000, compute_us = 1500, start_ms = 100 }
"#,
    );
    for index in 1..=6 {
        text.push_str(&format!("\n[[domain]]\nname = \"hog{index}\"\nworkload = {{ kind = \"hog\" }}\n"));
    }
    let results = Scenario::parse(&text, "long-work").unwrap().run("long-work").unwrap();
    let task = domain(&results, "rtcredit", "task");
    let late = task.lateness_us.unwrap();
    assert!(late.p99 <= 50.0, "served at RT: {late:?}");
    let credit = domain(&results, "credit", "task").cpu_share_pct;
    assert!((task.cpu_share_pct - credit).abs() <= 2.0, "share {} vs credit {credit}", task.cpu_share_pct);
}

/// BOOST I/O domains keep their latency (issue #19, item 5): with the RT domains inside
/// their budgets (and the pool's RT capacity), an I/O-bound domain's p99 wake latency
/// under rtcredit is at most 1.25 x its p99 under credit in the same scenario, at every
/// period of the eight-pCPU mixed host.
///
/// One run cannot say it: the I/O
/// domains' p99 (2 ms mean gap, about 1,500 wake-ups in 3 s) is bimodal under both
/// policies: about 1-2 ms, or 15-60 ms when a few long waits fall into the top 1%.
/// Which run gets the long tail changes with the seed and the period, not with the
/// policy: seed 1 (ms, credit / rtcredit) io-a 1.22/1.24, 9.12/17.27, 1.12/1.32,
/// 1.08/20.66, 16.98/28.47 at 1, 2.5, 5, 10, 20 ms; seed 2 at 2.5 ms credit 14.93/46.03
/// against rtcredit 1.36/1.50 (`rtcredit-sim periods --seed N`, "Every domain" table,
/// before "RT is seen by the tick").
///
/// Pooled over seeds 1-300 (`rtcredit-sim periods --pool-seeds 300`, also in `paper`'s
/// output as `periods-pooled.md`) the tail is the same under both: rtcredit's p99 is
/// 0.86-1.09x credit's at every period (2026-12-02). 100 seeds were too few: credit's
/// own p99 for the two identical I/O domains at 10 ms was 17.4 and 12.1 ms there. This
/// test asserts the 1.25x bound pooled over 300 seeds; it takes about 27 s in release
/// and far longer in the default debug build, so it stays out of the default run
/// (`cargo test -p rtcredit-sim --release --test periods -- --ignored`).
#[test]
#[ignore = "300 pooled seeds: ~27 s in release on 2 threads, much longer in debug; run with --release -- --ignored"]
fn at_every_period_io_domains_keep_their_boost_latency_beside_rt_domains() {
    for period_us in rtcredit_sim::periods::PERIODS_US {
        let results = run("8cpu", period_us);
        for name in ["rt", "rt-b", "mixed"] {
            assert_eq!(domain(&results, "rtcredit", name).rt_degraded, 0, "{period_us} us: {name} in budget");
        }
    }
    let mut violations = Vec::new();
    let pooled = rtcredit_sim::periods::pooled(300).unwrap();
    // The isolation bound over every job of every seed: before RT waiting behind RT on
    // one CPU was handed to a CPU running no RT, these maxima were 0.46-0.51 ms, and
    // 2.1 ms for the mixed-work task at 1 ms.
    for tail in &pooled.rt_tails {
        let max_us = tail.policies.iter().find(|p| p.0 == "rtcredit").map(|p| p.4).unwrap();
        if max_us > 500.0 {
            violations.push(format!("{} us {}: RT task's max lateness {max_us:.0} us", tail.period_us, tail.domain));
        }
    }
    for tail in pooled.tails {
        let p99 = |policy: &str| tail.policies.iter().find(|p| p.0 == policy).map(|p| p.3).unwrap();
        let (credit, rtcredit) = (p99("credit"), p99("rtcredit"));
        if rtcredit > 1.25 * credit {
            violations.push(format!(
                "{} us {}: pooled p99 {rtcredit:.0} us against {credit:.0} us under credit",
                tail.period_us, tail.domain
            ));
        }
    }
    assert!(violations.is_empty(), "over 1.25x credit's pooled p99: {violations:#?}");
}
