//! Scenario files: the committed example parses and runs; every invalid input is an
//! error naming the field and the reason.

use std::path::Path;

use rtcredit_sim::policy::Policy;
use rtcredit_sim::scenario::{render_text, Scenario, ScenarioError};

const MINIMAL: &str = r#"
duration_ms = 200
[[domain]]
name = "task"
workload = { kind = "periodic", period_us = 10000, compute_us = 100 }
"#;

fn example_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/audio-on-busy-host.toml")
}

#[test]
fn the_example_parses_and_runs_every_listed_policy() {
    let scenario = Scenario::load(&example_path()).expect("the example is valid");
    assert_eq!(scenario.host.pcpus, 2);
    assert_eq!(scenario.policies(), vec![Policy::Credit, Policy::Credit1ms, Policy::Rtcredit]);
    let short = Scenario { duration_ms: 300, ..scenario };
    let results = short.run("example").expect("runs");
    assert_eq!(results.runs.len(), 3);
    let rt = &results.runs[2];
    assert_eq!(rt.policy, "rtcredit");
    let audio = &rt.domains[0];
    assert!(audio.rt_granted > 0 && audio.lateness_us.is_some(), "{audio:?}");
    // Under credit nobody is allowed RT.
    assert!(results.runs[0].domains.iter().all(|d| d.rt_granted == 0));
    let text = render_text(&results);
    assert!(text.contains("policy rtcredit") && text.contains("audio"), "{text}");
    let json = serde_json::to_value(&results).expect("encodes");
    assert_eq!(json["runs"][2]["domains"][0]["name"], "audio");
}

#[test]
fn defaults_fill_everything_optional() {
    let s = Scenario::parse(MINIMAL, "minimal").expect("valid");
    assert_eq!((s.seed, s.host.pcpus, s.host.switch_cost_us), (1, 1, 5));
    assert_eq!(s.policies().len(), 6);
    let d = &s.domains[0];
    assert_eq!((d.weight, d.cap_pct, d.rt_allowed, d.vcpus), (256, 0, false, 1));
    assert_eq!((d.rtds_period_us, d.rtds_budget_us, d.rtds_extratime), (10_000, 4_000, true), "RTDS's defaults");
}

fn invalid(text: &str) -> (String, String) {
    match Scenario::parse(text, "test.toml") {
        Err(ScenarioError::Invalid { field, reason, .. }) => (field, reason),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

fn parse_error(text: &str) -> String {
    match Scenario::parse(text, "test.toml") {
        Err(error @ ScenarioError::Parse { .. }) => error.to_string(),
        other => panic!("expected a parse error, got {other:?}"),
    }
}

#[test]
fn unknown_fields_are_refused_by_name() {
    let top = parse_error(&format!("{MINIMAL}\ncolour = 1\n"));
    assert!(top.contains("colour"), "{top}");
    let domain = parse_error(&MINIMAL.replace("name = \"task\"", "name = \"task\"\nwieght = 3"));
    assert!(domain.contains("wieght"), "{domain}");
    let workload = parse_error(&MINIMAL.replace("compute_us = 100", "compute_us = 100, perod_us = 3"));
    assert!(workload.contains("perod_us"), "{workload}");
    let host = parse_error(&format!("{MINIMAL}\n[host]\ncpus = 2\n"));
    assert!(host.contains("cpus"), "{host}");
}

#[test]
fn wrong_types_missing_fields_and_unknown_kinds_are_parse_errors() {
    assert!(parse_error("duration_ms = \"long\"").contains("duration_ms"));
    assert!(parse_error("[[domain]]\nname = \"a\"\nworkload = { kind = \"hog\" }").contains("duration_ms"));
    assert!(parse_error(&MINIMAL.replace("periodic", "sporadic")).contains("sporadic"));
    assert!(parse_error(&format!("policies = [\"cfs\"]\n{MINIMAL}")).contains("cfs"));
    assert!(parse_error(&MINIMAL.replace("compute_us = 100", "compute_us = 100, deadlines = \"sometimes\""))
        .contains("sometimes"));
}

#[test]
fn each_value_rule_names_its_field() {
    let cases: &[(&str, &str, &str)] = &[
        ("duration_ms = 200", "duration_ms = 0", "duration_ms"),
        ("duration_ms = 200", "duration_ms = 200\npolicies = [\"credit\", \"credit\"]", "policies[1]"),
        ("duration_ms = 200", "duration_ms = 200\n[host]\npcpus = 0", "host.pcpus"),
        ("duration_ms = 200", "duration_ms = 200\n[host]\nipi_delay_us = 5000", "host.ipi_delay_us"),
        ("duration_ms = 200", "duration_ms = 200\n[host]\nswitch_cost_us = 5000", "host.switch_cost_us"),
        ("duration_ms = 200", "duration_ms = 200\n[host]\ntimer_slop_us = 5000", "host.timer_slop_us"),
        ("duration_ms = 200", "duration_ms = 200\n[host]\nrt_capacity_pct = 101", "host.rt_capacity_pct"),
        ("name = \"task\"", "name = \" \"", "domain[0].name"),
        ("name = \"task\"", "name = \"task\"\nweight = 0", "domain[0].weight"),
        ("name = \"task\"", "name = \"task\"\ncap_pct = 70000", "domain[0].cap_pct"),
        ("name = \"task\"", "name = \"task\"\nrt_budget_pct = 0", "domain[0].rt_budget_pct"),
        ("name = \"task\"", "name = \"task\"\nrt_rate_per_s = 0", "domain[0].rt_rate_per_s"),
        ("name = \"task\"", "name = \"task\"\nvcpus = 0", "domain[0].vcpus"),
        ("name = \"task\"", "name = \"task\"\nvcpus = 2\ncpus = [0]", "domain[0].cpus"),
        ("name = \"task\"", "name = \"task\"\ncpus = [1]", "domain[0].cpus[0]"),
        ("period_us = 10000", "period_us = 10", "domain[0].workload.period_us"),
        ("compute_us = 100", "compute_us = 20000", "domain[0].workload.compute_us"),
        ("compute_us = 100", "compute_us = 100, periods = 0", "domain[0].workload.periods"),
    ];
    for (from, to, field) in cases {
        let text = MINIMAL.replacen(from, to, 1);
        let (got, reason) = invalid(&text);
        assert_eq!(&got, field, "{to}: {reason}");
        assert!(!reason.is_empty());
    }
    let two = format!("{MINIMAL}\n[[domain]]\nname = \"task\"\nworkload = {{ kind = \"hog\" }}\n");
    assert_eq!(invalid(&two).0, "domain[1].name");
    assert_eq!(invalid("duration_ms = 5").0, "domain");
    let kinds: &[(&str, &str)] = &[
        ("{ kind = \"duty-hog\", share_pct = 0, cycle_ms = 100 }", "domain[0].workload.share_pct"),
        ("{ kind = \"duty-hog\", share_pct = 20, cycle_ms = 0 }", "domain[0].workload.cycle_ms"),
        ("{ kind = \"receiver\", interval_us = 0, compute_us = 10 }", "domain[0].workload.interval_us"),
        ("{ kind = \"receiver\", interval_us = 1000, compute_us = 0 }", "domain[0].workload.compute_us"),
        ("{ kind = \"receiver\", interval_us = 1000, compute_us = 5, packets = 0 }", "domain[0].workload.packets"),
        ("{ kind = \"io-bound\", mean_gap_us = 0, compute_us = 10 }", "domain[0].workload.mean_gap_us"),
        ("{ kind = \"io-bound\", mean_gap_us = 100, compute_us = 10, events = 0 }", "domain[0].workload.events"),
        ("{ kind = \"rt-spammer\", chunk_us = 0 }", "domain[0].workload.chunk_us"),
        ("{ kind = \"rt-spammer\", lead_us = 5 }", "domain[0].workload.lead_us"),
    ];
    for (workload, field) in kinds {
        let text = format!("duration_ms = 10\n[[domain]]\nname = \"x\"\nworkload = {workload}\n");
        assert_eq!(&invalid(&text).0, field, "{workload}");
    }
}

#[test]
fn errors_read_well() {
    let error = Scenario::parse(&MINIMAL.replace("name = \"task\"", "name = \"task\"\nweight = 0"), "my.toml")
        .expect_err("invalid");
    assert_eq!(error.to_string(), "my.toml: field `domain[0].weight`: weight must be in 1..=65535");
    let missing = Scenario::load(Path::new("/nonexistent/scenario.toml")).expect_err("no such file");
    assert!(missing.to_string().starts_with("cannot read /nonexistent/scenario.toml"), "{missing}");
}

#[test]
fn a_scenario_run_is_deterministic() {
    let s = Scenario::parse(MINIMAL, "minimal").expect("valid");
    let a = serde_json::to_string(&s.run("minimal").expect("runs")).expect("encodes");
    let b = serde_json::to_string(&s.run("minimal").expect("runs")).expect("encodes");
    assert_eq!(a, b);
}

/// Three RT domains of `budget_pct` each on a host of `pcpus`, under rtcredit only.
fn rt_domains(pcpus: u32, capacity: Option<u32>, budget_pct: u32) -> Scenario {
    let capacity = capacity.map_or(String::new(), |pct| format!("rt_capacity_pct = {pct}\n"));
    let mut text = format!("duration_ms = 100\npolicies = [\"rtcredit\"]\n[host]\npcpus = {pcpus}\n{capacity}");
    for name in ["audio", "video", "control"] {
        text.push_str(&format!(
            "[[domain]]\nname = \"{name}\"\nrt_allowed = true\nrt_budget_pct = {budget_pct}\n\
             workload = {{ kind = \"periodic\", period_us = 10000, compute_us = 100 }}\n"
        ));
    }
    Scenario::parse(&text, "pool.toml").expect("valid")
}

#[test]
fn a_scenario_that_over_asks_the_hosts_rt_capacity_names_the_domain_and_what_is_left() {
    // One pcpu at the default 50%: audio and video take 40%, control's 20% does not fit.
    let error = rt_domains(1, None, 20).run("pool.toml").expect_err("over the capacity").to_string();
    assert_eq!(
        error,
        "pool.toml: domain control: RT budget of 20% refused: the host's remaining RT capacity is 10% of one CPU \
         (capacity 50% = 50% x 1 pcpus, 40% granted to the domains before it); lower rt_budget_pct or raise \
         [host] rt_capacity_pct"
    );
}

#[test]
fn the_rt_capacity_grows_with_the_pcpus_and_with_rt_capacity_pct() {
    // Exactly at the capacity is allowed: 3 x 20% = 60% of 2 pcpus at 30%.
    let results = rt_domains(2, Some(30), 20).run("pool.toml").expect("fits exactly");
    assert!(results.runs[0].domains.iter().all(|d| d.rt_granted > 0), "{:?}", results.runs[0].domains);
    rt_domains(2, Some(29), 20).run("pool.toml").expect_err("58% < 60%");
    rt_domains(2, None, 20).run("pool.toml").expect("2 pcpus at 50%: 100%");
    rt_domains(1, Some(100), 33).run("pool.toml").expect("one whole pcpu: 99%");
    let error = rt_domains(4, Some(0), 1).run("pool.toml").expect_err("no RT at all").to_string();
    assert!(error.contains("domain audio: RT budget of 1% refused: the host's remaining RT capacity is 0%"), "{error}");
}

#[test]
fn under_credit_the_rt_capacity_is_not_consulted() {
    // Domains are not allowed RT under credit, so nothing is granted and nothing over-asks.
    let mut scenario = rt_domains(1, None, 50);
    scenario.policies = vec![Policy::Credit];
    let results = scenario.run("pool.toml").expect("credit runs");
    assert!(results.runs[0].domains.iter().all(|d| d.rt_granted == 0));
}
