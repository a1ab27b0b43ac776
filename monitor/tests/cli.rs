//! The `rtcredit-monitor` command on a synthetic trace file: each output format, the
//! plots, and the errors a user can hit.

mod common;

use std::path::PathBuf;
use std::process::{Command, Output};

fn monitor(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rtcredit-monitor")).args(args).output().expect("the binary runs")
}

fn trace_file(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rtcredit-monitor-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write trace");
    path
}

#[test]
fn report_table_json_and_csv() {
    let path = trace_file("good.bin", &common::synthetic_trace(64 * 1024, 2));
    let path = path.to_str().expect("utf-8 path");

    let table = monitor(&["--cpu-hz", "1GHz", "report", path]);
    assert!(table.status.success());
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.contains("TSC at 1000.000 MHz (--cpu-hz)"), "{text}");
    assert!(text.lines().nth(1).is_some_and(|l| l.starts_with("DOM  VCPU")), "{text}");

    let json = monitor(&["--cpu-hz", "1GHz", "report", path, "--json"]);
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).expect("valid JSON");
    assert_eq!(value["time_unit"], "ns");
    assert!(value["rows"].as_array().is_some_and(|rows| !rows.is_empty()));

    let csv = monitor(&["report", path, "--csv"]);
    let text = String::from_utf8_lossy(&csv.stdout);
    assert!(text.starts_with("dom,vcpu,time_unit,"));
    assert!(text.lines().nth(1).is_some_and(|l| l.contains(",tsc_cycles,")), "{text}");
}

#[test]
fn report_of_a_damaged_file_succeeds_and_names_the_offset() {
    let mut bytes = common::synthetic_trace(64 * 1024, 2);
    bytes.truncate(bytes.len() - 3);
    let path = trace_file("cut.bin", &bytes);
    let out = monitor(&["report", path.to_str().expect("utf-8 path"), "--csv"]);
    assert!(out.status.success());
    let notes = String::from_utf8_lossy(&out.stderr);
    assert!(notes.contains("the trace ends inside a record"), "{notes}");
    // The last record (a runstate change: header, TSC, one word) is 16 bytes.
    assert!(notes.contains(&format!("byte {}: the trace ends", bytes.len() - 13)), "{notes}");
}

#[test]
fn plot_writes_two_svg_files() {
    let path = trace_file("plot.bin", &common::synthetic_trace(64 * 1024, 3));
    let out_dir = path.with_file_name("plots");
    let out = monitor(&["plot", path.to_str().expect("utf-8"), "--out", out_dir.to_str().expect("utf-8")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for name in ["timeline.svg", "latency-cdf.svg"] {
        let svg = std::fs::read_to_string(out_dir.join(name)).expect("written");
        assert!(svg.starts_with("<svg") && svg.contains("</svg>"), "{name}");
    }
}

#[test]
fn user_errors_say_what_to_do() {
    let out = monitor(&["report", "/nonexistent/trace.bin"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot open trace /nonexistent/trace.bin"));
    let out = monitor(&["--cpu-hz", "fast", "report", "x"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("k/M/G suffix"));
}
