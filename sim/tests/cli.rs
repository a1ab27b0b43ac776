//! The `rtcredit-sim` command's output edge, and the bounded memory of scenario runs.

use std::process::{Command, Stdio};

use rtcredit_sim::engine::Simulator;
use rtcredit_sim::policy::Policy;
use rtcredit_sim::scenario::Scenario;

const IO_BOUND: &str = r#"
duration_ms = 100
policies = ["rtcredit"]
[host]
pcpus = 2
[[domain]]
name = "net"
vcpus = 4
workload = { kind = "io-bound", mean_gap_us = 10, compute_us = 1 }
"#;

#[test]
fn a_closed_stdout_ends_the_run_quietly() {
    let dir = std::env::temp_dir().join(format!("rtcredit-sim-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("io.toml");
    std::fs::write(&path, IO_BOUND).expect("write scenario");
    for json in [true, false] {
        let mut command = Command::new(env!("CARGO_BIN_EXE_rtcredit-sim"));
        command.arg("run").arg(&path);
        if json {
            command.arg("--json");
        }
        let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("runs");
        // Close the reading end before the simulation has anything to print.
        drop(child.stdout.take());
        let out = child.wait_with_output().expect("ends");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "json {json}: {stderr}");
        assert!(stderr.is_empty(), "json {json}: {stderr}");
    }
}

#[test]
fn scenario_runs_keep_a_histogram_not_every_sample() {
    let scenario = Scenario::parse(IO_BOUND, "io.toml").expect("valid");
    let spec = scenario.spec(Policy::Rtcredit);
    assert!(!spec.keep_series, "scenario runs must not keep per-job series");
    let report = Simulator::new(&spec).and_then(Simulator::run).expect("runs");
    let measurements = &report.domains[0].measurements;
    let jobs: u64 = measurements.iter().map(|m| m.lateness.len()).sum();
    assert!(jobs > 20_000, "4 VCPUs at 100k events/s for 0.1 s: {jobs}");
    assert!(measurements.iter().all(|m| m.lateness_ns.is_empty() && m.starts_ns.is_empty()));
    let results = scenario.run("io.toml").expect("runs");
    let lateness = results.runs[0].domains[0].lateness_us.expect("measured");
    assert!(lateness.p50 <= lateness.p99 && lateness.p99 <= lateness.max, "{lateness:?}");
}

/// `completions SHELL` and `man` print what a package installs, from the command line
/// itself; an unknown shell is refused by name.
#[test]
fn completions_and_the_man_page_name_every_command() {
    let bin = env!("CARGO_BIN_EXE_rtcredit-sim");
    let script = std::process::Command::new(bin).args(["completions", "bash"]).output().unwrap();
    assert!(script.status.success());
    let script = String::from_utf8(script.stdout).unwrap();
    assert!(script.contains("-o default rtcredit-sim"), "{script}");
    let page = std::process::Command::new(bin).arg("man").output().unwrap();
    assert!(page.status.success());
    let page = String::from_utf8(page.stdout).unwrap();
    assert!(page.contains(".TH rtcredit-sim 1"), "{page}");
    for command in ["paper", "periods", "run"] {
        assert!(script.contains(command) && page.contains(command), "{command} missing");
    }
    let bad = std::process::Command::new(bin).args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("invalid value 'tcsh'"));
}
