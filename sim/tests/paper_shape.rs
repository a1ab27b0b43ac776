//! The paper's shape on a shortened run (300 periods of 10 ms instead of 3,000), every
//! policy, duty-cycle hogs at 20% (and 10/30% for the trend).

use rtcredit_sim::paper::{run_one, HogModel, Measured, PaperConfig, PaperRun};
use rtcredit_sim::policy::Policy;
use rtcredit_sim::report::RunOutcome;
use rtcredit_sim::workload::Release;

fn config() -> PaperConfig {
    PaperConfig { periods: 300, ..PaperConfig::default() }
}

fn run(policy: Policy, share_pct: u32, release: Release) -> RunOutcome {
    run_one(&config(), &PaperRun { policy, share_pct, measured: Measured::Periodic(release) }).expect("simulation runs")
}

#[test]
fn credit_2012_misses_deadlines_by_ten_ms_and_more_with_hogs_at_20_percent() {
    let outcome = run(Policy::Credit2012, 20, Release::Absolute);
    let lateness = outcome.summary.lateness_us;
    assert!(lateness.p99 >= 10_000.0, "credit-2012 p99 {} us", lateness.p99);
    assert_eq!(outcome.lateness_ns.len(), 300);
}

#[test]
fn rtcredit_runs_every_period_on_time_and_completes_as_ideal() {
    let outcome = run(Policy::Rtcredit, 20, Release::Absolute);
    let s = &outcome.summary;
    assert!(s.lateness_us.p99 <= 100.0, "rtcredit p99 {} us", s.lateness_us.p99);
    assert!(
        s.completion_s <= 1.0005 * s.ideal_completion_s,
        "completion {} s, ideal {} s",
        s.completion_s,
        s.ideal_completion_s
    );
    // The measured domain ran every period's work at RT; BOOST only for its boot and,
    // each period, the 2 us from its rtsleep (which ends RT) to the pass its block
    // asks for.
    let measured = &s.domains[0];
    assert_eq!(measured.rt_fires, 300, "{measured:?}");
    assert!(measured.prio_time_ms.rt >= 300.0 * 0.1, "{measured:?}");
    assert!(measured.prio_time_ms.boost <= 0.01 + 300.0 * 0.002 + 0.01, "{measured:?}");
}

#[test]
fn with_the_papers_loop_credit_finishes_late_and_rtcredit_nearly_on_time() {
    let credit = run(Policy::Credit2012, 20, Release::Relative).summary;
    let rt = run(Policy::Rtcredit, 20, Release::Relative).summary;
    assert!(
        credit.completion_s > 1.05 * credit.ideal_completion_s,
        "{} vs {}",
        credit.completion_s,
        credit.ideal_completion_s
    );
    // Each period still pays one IPI and one context switch (7 us of 10.1 ms).
    assert!(rt.completion_s <= 1.001 * rt.ideal_completion_s, "{} vs {}", rt.completion_s, rt.ideal_completion_s);
}

/// Outside RT, RT changes nothing: over the paper's 3,000 periods each hog gets what it
/// gets under credit, to a tenth of a point (RT gives back the queue places it takes;
/// before it did, hogs moved by 0.3 point at 30%). Not over 300: there one hog's share
/// depends on where RT's preemptions fall in its 100 ms windows (credit 29.0%, rtcredit
/// 29.6% at 30% since a preempted hog's slice ends where it would have without RT;
/// 29.92 / 29.92 / 30.02% under both over 3,000). Credit itself leaves a 30% hog below
/// 30%: the duty cycle is the hog's demand, not a promise.
#[test]
fn rtcredit_leaves_each_hog_its_share() {
    let paper_length = PaperConfig::default();
    let run = |policy, share_pct| {
        let measured = Measured::Periodic(Release::Absolute);
        run_one(&paper_length, &PaperRun { policy, share_pct, measured }).expect("simulation runs")
    };
    for share in [10, 20, 30] {
        let credit = run(Policy::Credit, share).summary;
        let rt = run(Policy::Rtcredit, share).summary;
        for (a, b) in credit.hog_cpu_share_pct.iter().zip(&rt.hog_cpu_share_pct) {
            assert!((a - b).abs() <= 0.1, "share {share}%: credit {a}% vs rtcredit {b}%");
            assert!((f64::from(share) - b).abs() <= 1.1, "share {share}%: rtcredit hog got {b}%");
        }
    }
}

#[test]
fn credit_lateness_grows_with_the_hogs_share() {
    let p99: Vec<f64> =
        [10, 20, 30].iter().map(|&s| run(Policy::Credit, s, Release::Absolute).summary.lateness_us.p99).collect();
    assert!(p99[0] < p99[1] && p99[1] < p99[2], "{p99:?}");
}

#[test]
fn a_one_ms_slice_bounds_credits_lateness_by_about_a_tick() {
    let s = run(Policy::Credit1ms, 20, Release::Absolute).summary;
    assert!(s.lateness_us.max <= 2_000.0, "credit-1ms max {} us", s.lateness_us.max);
    let credit = run(Policy::Credit, 20, Release::Absolute).summary;
    assert!(s.context_switches > credit.context_switches, "{} vs {}", s.context_switches, credit.context_switches);
}

#[test]
fn capped_hogs_do_not_delay_a_boosted_wake_up() {
    // The cap model: the hogs never block, so they never hold BOOST; the periodic task
    // wakes at BOOST and preempts them (within the 1 ms rate limit under 4.17's credit).
    let config = PaperConfig { periods: 300, hog_model: HogModel::Cap, ..PaperConfig::default() };
    for policy in [Policy::Credit, Policy::Credit2012] {
        let run = PaperRun { policy, share_pct: 20, measured: Measured::Periodic(Release::Absolute) };
        let s = run_one(&config, &run).expect("simulation runs").summary;
        assert!(s.lateness_us.p99 <= 1_000.0, "{policy}: p99 {} us", s.lateness_us.p99);
        for share in &s.hog_cpu_share_pct {
            assert!((share - 20.0).abs() <= 1.5, "{policy}: capped hog got {share}%");
        }
    }
}
