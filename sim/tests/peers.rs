//! The models of Xen's credit2 and RTDS: one test per rule, driven through the
//! scheduler interface the engine uses, and each model's fairness property over a
//! whole simulation.

use rtcredit::host::UnitId;
use rtcredit::CpuMask;
use rtcredit_sim::credit2::{Credit2, CARRYOVER_MAX, CREDIT_INIT, DEFAULT_RATELIMIT_NS};
use rtcredit_sim::engine::{DomainSpec, VcpuSpec};
use rtcredit_sim::paper::default_domain_params;
use rtcredit_sim::rtds::{Rtds, RtdsParams};
use rtcredit_sim::scenario::{Scenario, ScenarioResults};
use rtcredit_sim::sched::{Scheduler, SimScheduler};
use rtcredit_sim::workload::WorkloadSpec;

const US: u64 = 1_000;
const MS: u64 = 1_000_000;

fn domain_spec(weight: u32, rtds: RtdsParams) -> DomainSpec {
    DomainSpec {
        name: "d".to_string(),
        params: rtcredit::DomainParams { weight, ..default_domain_params() },
        rtds,
        vcpus: vec![VcpuSpec { cpu: 0, workload: WorkloadSpec::Hog }],
    }
}

/// Adds one domain with one unit on `cpu`.
fn add(sched: &mut dyn SimScheduler, cpu: u32, rtds: RtdsParams) -> UnitId {
    let dom = sched.add_domain(1, &domain_spec(256, rtds)).expect("domain");
    sched.add_unit(dom, cpu, 0).expect("unit").0
}

/// Two pCPUs, one runqueue. C (home CPU 0) runs 0-2 ms and blocks, leaving 8 ms of
/// credit; A then runs on CPU 0 (credit 12 ms - t), B has run on CPU 1 since 0
/// (credit 10 ms - t). At `wake_ns` C wakes: it beats A nowhere before 4 ms, and beats
/// B by `wake_ns` - 2 ms. Returns the tickle mask of the wake and the model.
fn credit2_wake_against_other_cpu(wake_ns: u64) -> (CpuMask, Credit2, [UnitId; 3]) {
    let mut model = Credit2::new(2, DEFAULT_RATELIMIT_NS).expect("model");
    let c = add(&mut model, 0, RtdsParams::default());
    let b = add(&mut model, 1, RtdsParams::default());
    let a = add(&mut model, 0, RtdsParams::default());
    assert_eq!(model.schedule(0, 0).expect("pass").next, Some(c));
    assert_eq!(model.schedule(1, 0).expect("pass").next, Some(b));
    model.block(c, 2 * MS).expect("block");
    assert_eq!(model.schedule(0, 2 * MS).expect("pass").next, Some(a));
    assert_eq!(model.credit(c), Some(8 * MS as i64));
    let mask = model.wake(c, wake_ns).expect("wake");
    (mask, model, [a, b, c])
}

#[test]
fn credit2_a_waking_unit_takes_another_cpu_only_past_the_migrate_resist_margin() {
    // 0.3 ms more credit than B: below the 0.5 ms resist, nobody is tickled.
    let (mask, model, [_, b, c]) = credit2_wake_against_other_cpu(2_300 * US);
    assert!(model.credit(c) > model.credit(b));
    assert!(mask.is_empty(), "tickled {:?}", mask.iter().collect::<Vec<_>>());
    // 1 ms more: past the margin, CPU 1 is tickled and its pass takes C over.
    let (mask, mut model, [_, _, c]) = credit2_wake_against_other_cpu(3 * MS);
    assert_eq!(mask.iter().collect::<Vec<_>>(), vec![1]);
    let pass = model.schedule(1, 3 * MS).expect("pass");
    assert_eq!((pass.next, pass.migrated), (Some(c), true));
}

#[test]
fn credit2_on_its_own_cpu_any_credit_lead_preempts_once_the_rate_limit_has_passed() {
    let mut model = Credit2::new(1, DEFAULT_RATELIMIT_NS).expect("model");
    let sleeper = add(&mut model, 0, RtdsParams::default());
    let hog = add(&mut model, 0, RtdsParams::default());
    assert_eq!(model.schedule(0, 0).expect("pass").next, Some(sleeper));
    model.block(sleeper, 100 * US).expect("block");
    assert_eq!(model.schedule(0, 100 * US).expect("pass").next, Some(hog));
    // 0.5 ms after the hog started: more credit (9.9 vs 9.5 ms) but within the rate limit.
    assert!(model.wake(sleeper, 600 * US).expect("wake").is_empty());
    // Blocked again, woken past the rate limit with a 1.1 ms lead (9.9 vs 8.8 ms):
    // preempts at once.
    model.block(sleeper, 600 * US).expect("block");
    let mask = model.wake(sleeper, 1_300 * US).expect("wake");
    assert_eq!(mask.iter().collect::<Vec<_>>(), vec![0]);
    assert_eq!(model.schedule(0, 1_300 * US).expect("pass").next, Some(sleeper));
}

#[test]
fn credit2_resets_every_credit_when_the_next_unit_has_none_left_and_clips_the_carry_over() {
    let mut model = Credit2::new(1, DEFAULT_RATELIMIT_NS).expect("model");
    let hog = add(&mut model, 0, RtdsParams::default());
    let sleeper = add(&mut model, 0, RtdsParams::default());
    model.block(sleeper, 0).expect("block");
    let first = model.schedule(0, 0).expect("pass");
    assert_eq!((first.next, first.run_ns), (Some(hog), 10 * MS), "alone: run until its credit is gone");
    model.schedule(0, 9 * MS).expect("pass");
    assert_eq!(model.credit(hog), Some(MS as i64), "1 ms left: no reset yet");
    model.schedule(0, 10 * MS).expect("pass");
    assert_eq!(model.credit(hog), Some(CREDIT_INIT), "0 left: reset adds CREDIT_INIT");
    assert_eq!(model.credit(sleeper), Some(CREDIT_INIT + CARRYOVER_MAX), "unspent credit carries over, clipped");
}

fn rtds(budget_ms: u64, period_ms: u64, extratime: bool) -> RtdsParams {
    RtdsParams { period_ns: period_ms * MS, budget_ns: budget_ms * MS, extratime }
}

#[test]
fn rtds_a_depleted_unit_waits_for_its_replenishment_unless_it_has_extratime() {
    let mut model = Rtds::new(1).expect("model");
    let unit = add(&mut model, 0, rtds(2, 10, false));
    let pass = model.schedule(0, 0).expect("pass");
    assert_eq!((pass.next, pass.run_ns), (Some(unit), 2 * MS));
    assert_eq!(model.schedule(0, 2 * MS).expect("pass").next, None, "depleted: idle");
    // The depleted unit, put back, tickles the idle CPU once more: still nothing to run.
    assert_eq!(model.schedule(0, 2 * MS + 2 * US).expect("pass").next, None);
    assert_eq!(model.timer_at(), Some(10 * MS));
    assert_eq!(model.timer_fire(10 * MS).iter().collect::<Vec<_>>(), vec![0]);
    let pass = model.schedule(0, 10 * MS).expect("pass");
    assert_eq!((pass.next, pass.run_ns), (Some(unit), 2 * MS));

    let mut model = Rtds::new(1).expect("model");
    let unit = add(&mut model, 0, rtds(2, 10, true));
    model.schedule(0, 0).expect("pass");
    let pass = model.schedule(0, 2 * MS).expect("pass");
    assert_eq!((pass.next, pass.run_ns), (Some(unit), 2 * MS), "extratime: runs on, a level lower");
}

#[test]
fn rtds_runs_the_earliest_deadline_first_and_extratime_behind_every_budgeted_unit() {
    let mut model = Rtds::new(1).expect("model");
    let slow = add(&mut model, 0, rtds(1, 20, false));
    let fast = add(&mut model, 0, rtds(1, 5, false));
    let middle = add(&mut model, 0, rtds(1, 10, false));
    assert_eq!(model.schedule(0, 0).expect("pass").next, Some(fast));
    assert_eq!(model.schedule(0, MS).expect("pass").next, Some(middle));
    assert_eq!(model.schedule(0, 2 * MS).expect("pass").next, Some(slow));

    // A unit in extratime (level 1, deadline 10 ms) yields to a budgeted one whose
    // deadline (20 ms) is later.
    let mut model = Rtds::new(1).expect("model");
    let extra = add(&mut model, 0, rtds(1, 10, true));
    let late = add(&mut model, 0, rtds(1, 20, false));
    model.block(late, 0).expect("block");
    assert_eq!(model.schedule(0, 0).expect("pass").next, Some(extra));
    assert_eq!(model.schedule(0, MS).expect("pass").next, Some(extra), "extratime, nobody else");
    let mask = model.wake(late, 1_500 * US).expect("wake");
    assert_eq!(mask.iter().collect::<Vec<_>>(), vec![0], "the budgeted unit preempts");
    assert_eq!(model.schedule(0, 1_500 * US).expect("pass").next, Some(late));
}

fn run(text: &str) -> ScenarioResults {
    Scenario::parse(text, "test.toml").expect("scenario").run("test.toml").expect("runs")
}

fn shares(results: &ScenarioResults) -> Vec<f64> {
    results.runs[0].domains.iter().map(|d| d.cpu_share_pct).collect()
}

#[test]
fn credit2_gives_always_busy_domains_shares_proportional_to_their_weights() {
    let mut text = String::from("duration_ms = 3000\npolicies = [\"credit2\"]\n");
    for weight in [128, 256, 512] {
        text.push_str(&format!(
            "[[domain]]\nname = \"w{weight}\"\nweight = {weight}\nworkload = {{ kind = \"hog\" }}\n"
        ));
    }
    let got = shares(&run(&text));
    // Ideal 1:2:4 of the CPU; 2 points of tolerance (epoch boundaries, switch cost).
    for (share, ideal) in got.iter().zip([100.0 / 7.0, 200.0 / 7.0, 400.0 / 7.0]) {
        assert!((share - ideal).abs() < 2.0, "shares {got:?}");
    }
}

#[test]
fn rtds_without_extratime_no_unit_exceeds_its_budget_over_its_period() {
    let mut text = String::from("duration_ms = 2000\npolicies = [\"rtds\"]\n");
    let reservations = [(3000, 10_000), (1000, 5000), (2500, 20_000), (7000, 7000)];
    for (index, (budget, period)) in reservations.iter().enumerate() {
        let extratime = index == 3;
        text.push_str(&format!(
            "[[domain]]\nname = \"d{index}\"\nrtds_budget_us = {budget}\nrtds_period_us = {period}\n\
             rtds_extratime = {extratime}\nworkload = {{ kind = \"hog\" }}\n"
        ));
    }
    let got = shares(&run(&text));
    // d0-d2 have no extratime: never above budget / period; d3 (extratime, the whole
    // CPU reserved) takes what is left.
    for (share, (budget, period)) in got.iter().zip(reservations).take(3) {
        let bound = budget as f64 * 100.0 / period as f64;
        assert!(*share <= bound + 0.01, "shares {got:?}");
    }
    assert!(got.iter().sum::<f64>() > 99.0, "the CPU stays busy: {got:?}");
}

#[test]
fn rtds_fields_are_checked_and_named() {
    let base = "duration_ms = 10\n[[domain]]\nname = \"a\"\nworkload = { kind = \"hog\" }\n";
    let error = |extra: &str| Scenario::parse(&format!("{base}{extra}\n"), "x.toml").expect_err("refused").to_string();
    let budget = error("rtds_budget_us = 20000");
    assert!(budget.contains("domain[0].rtds_budget_us"), "{budget}");
    let period = error("rtds_period_us = 5");
    assert!(period.contains("domain[0].rtds_period_us"), "{period}");
    let small = error("rtds_budget_us = 5");
    assert!(small.contains("domain[0].rtds_budget_us"), "{small}");
    assert!(error("rtds_extratime = 1").contains("rtds_extratime"));
}
