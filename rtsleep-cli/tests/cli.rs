//! The `rtsleep` binary as a user runs it, on this host (no `/dev/rtsleep`): every
//! subcommand's normal use, and each rule for bad input with its message.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn rtsleep(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rtsleep"))
        .args(args)
        .env("RTSLEEP_DEVICE", "/nonexistent/rtsleep")
        .env_remove("RTSLEEP_SHIM")
        .env_remove("RUST_LOG")
        .output()
        .expect("run rtsleep")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn json(output: &Output) -> serde_json::Value {
    assert!(output.status.success(), "failed: {}", stderr(output));
    serde_json::from_slice(&output.stdout).expect("valid JSON")
}

#[test]
fn sleep_sleeps_for_the_duration() {
    let start = Instant::now();
    let output = rtsleep(&["sleep", "20ms"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(start.elapsed() >= Duration::from_millis(20));
}

#[test]
fn bad_durations_are_refused_with_the_rule_and_an_example() {
    for (input, expected) in [
        ("10", "has no unit"),
        ("1.5x", "unknown unit \"x\""),
        ("fast", "does not start with a number"),
        ("-5ms", "does not start with a number"),
        ("", "empty duration"),
    ] {
        let output = rtsleep(&["sleep", input]);
        assert_eq!(output.status.code(), Some(2), "{input:?}");
        assert!(stderr(&output).contains(expected), "{input:?}: {}", stderr(&output));
    }
}

#[test]
fn unknown_flags_and_subcommands_are_usage_errors() {
    assert_eq!(rtsleep(&["bench", "--perod", "1ms"]).status.code(), Some(2));
    assert_eq!(rtsleep(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(rtsleep(&["run"]).status.code(), Some(2));
}

#[test]
fn run_passes_the_exit_code_through() {
    assert_eq!(rtsleep(&["run", "--", "sh", "-c", "exit 7"]).status.code(), Some(7));
    assert_eq!(rtsleep(&["run", "--", "true"]).status.code(), Some(0));
}

#[test]
fn run_reports_death_by_signal_as_128_plus_the_signal() {
    assert_eq!(rtsleep(&["run", "--", "sh", "-c", "kill -TERM $$"]).status.code(), Some(128 + 15));
}

#[test]
fn run_of_a_missing_program_is_127_with_its_name() {
    let output = rtsleep(&["run", "--", "/nonexistent/program"]);
    assert_eq!(output.status.code(), Some(127));
    assert!(stderr(&output).contains("cannot run \"/nonexistent/program\""), "{}", stderr(&output));
}

#[test]
fn run_preloads_the_shim_into_the_program() {
    let stats = Path::new(env!("CARGO_TARGET_TMPDIR")).join("run-sleep.stats");
    let _ = std::fs::remove_file(&stats);
    let stats_arg = stats.to_str().expect("UTF-8 path");
    // coreutils `sleep` calls nanosleep through libc: 20 ms is inside the window, but a
    // relative sleep of a SCHED_OTHER thread, which the default policy leaves alone.
    let output = rtsleep(&["run", "--stats", stats_arg, "--", "sleep", "0.02"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = std::fs::read_to_string(&stats).expect("the shim wrote its stats");
    assert!(text.contains("intercepted=1\n") && text.contains("not_selected=1\n"), "{text}");
    assert!(text.contains("device=absent") && text.contains("route=rt\n"), "{text}");
    // --all selects it (no device here, so it falls back to libc).
    let output = rtsleep(&["run", "--all", "--stats", stats_arg, "--", "sleep", "0.02"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = std::fs::read_to_string(&stats).expect("the shim wrote its stats");
    assert!(text.contains("fell_back=1\n") && text.contains("route=all\n"), "{text}");
    // A window that excludes 20 ms: passed through.
    let output = rtsleep(&["run", "--min", "50ms", "--stats", stats_arg, "--", "sleep", "0.02"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = std::fs::read_to_string(&stats).expect("the shim wrote its stats");
    assert!(text.contains("passed_through=1\n") && text.contains("min_ns=50000000\n"), "{text}");
}

#[test]
fn run_refuses_an_empty_window_and_a_missing_shim() {
    let output = rtsleep(&["run", "--min", "2s", "--max", "1s", "--", "true"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("--min 2s is above --max 1s"), "{}", stderr(&output));

    let output = rtsleep(&["run", "--shim", "/nonexistent/librtsleep_preload.so", "--", "true"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("cargo build --release -p rtsleep-preload"), "{}", stderr(&output));

    let output = rtsleep(&["run", "--max", "soon", "--", "true"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("does not start with a number"), "{}", stderr(&output));
}

#[test]
fn bench_reports_lateness_as_json_and_both_runs_with_plain() {
    let report =
        json(&rtsleep(&["bench", "--period", "1ms", "--loops", "30", "--json", "--plain", "--histogram", "5000"]));
    assert_eq!(report["period_ns"], 1_000_000);
    let runs = report["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0]["name"], "rtsleep");
    assert_eq!(runs[0]["backend"], "fallback");
    assert!(runs[0]["fallback_reason"].as_str().is_some_and(|r| r.contains("does not exist")));
    assert_eq!(runs[1]["name"], "plain");
    assert_eq!(runs[1]["backend"], "clock_nanosleep");
    for run in runs {
        assert_eq!(run["loops"], 30);
        let (min, p50, max) = (run["min_us"].as_f64(), run["p50_us"].as_f64(), run["max_us"].as_f64());
        assert!(min <= p50 && p50 <= max, "{run}");
        let in_histogram: u64 =
            run["histogram"].as_array().expect("histogram").iter().map(|b| b[1].as_u64().unwrap_or(0)).sum();
        assert_eq!(in_histogram + run["histogram_overflow"].as_u64().unwrap_or(0), 30);
    }
}

#[test]
fn bench_text_report_has_a_row_per_run() {
    let output = rtsleep(&["bench", "--period", "1ms", "--loops", "10"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains("p99") && text.contains("rtsleep  fallback "), "{text}");
    assert!(!stderr(&output).contains("wake-ups"), "progress must not be shown when stderr is not a terminal");
}

#[test]
fn bench_refuses_bad_periods_and_loop_counts() {
    let output = rtsleep(&["bench", "--period", "0s", "--loops", "1"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("--period must be at least 1us"), "{}", stderr(&output));
    let output = rtsleep(&["bench", "--period", "11s", "--loops", "1"]);
    assert!(stderr(&output).contains("--period must be at most 10s"), "{}", stderr(&output));
    let output = rtsleep(&["bench", "--loops", "10000001"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--loops"), "{}", stderr(&output));
    let output = rtsleep(&["bench", "--period", "10"]);
    assert!(stderr(&output).contains("has no unit"), "{}", stderr(&output));
}

#[test]
fn status_says_the_device_is_absent_and_why_sleeps_fall_back() {
    let report = json(&rtsleep(&["status", "--json"]));
    assert_eq!(report["device"], "absent");
    assert_eq!(report["device_path"], "/nonexistent/rtsleep");
    assert_eq!(report["backend"], "fallback");
    assert!(report["rt"].is_null());
    let text = stdout(&rtsleep(&["status"]));
    assert!(text.contains("clock_nanosleep fallback, because"), "{text}");
}

#[test]
fn status_reports_a_file_that_is_not_the_device() {
    let output = Command::new(env!("CARGO_BIN_EXE_rtsleep"))
        .args(["status", "--json"])
        .env("RTSLEEP_DEVICE", "/dev/null")
        .output()
        .expect("run rtsleep");
    let report = json(&output);
    assert_eq!(report["device"], "unusable");
    assert!(report["device_error"].as_str().is_some_and(|e| e.contains("not an rtsleep device")), "{report}");
}

#[test]
fn a_closed_stdout_ends_quietly() {
    for args in [&["status"][..], &["status", "--json"], &["bench", "--loops", "50", "--period", "1ms"]] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_rtsleep"))
            .args(args)
            .env("RTSLEEP_DEVICE", "/nonexistent/rtsleep")
            .env_remove("RUST_LOG")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run rtsleep");
        drop(child.stdout.take());
        let out = child.wait_with_output().expect("ends");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        assert!(!stderr(&out).contains("panicked") && !stderr(&out).contains("Broken pipe"), "{args:?}");
    }
}

/// A latency tester's cyclictest habits: `-i INTERVAL_US -l LOOPS -q`.
#[test]
fn bench_takes_cyclictests_interval_loops_and_quiet_flags() {
    let report = json(&rtsleep(&["bench", "-i", "2000", "-l", "12", "-q", "--json"]));
    assert_eq!(report["period_ns"], 2_000_000);
    assert_eq!(report["loops"], 12);
    assert_eq!(report["runs"][0]["loops"], 12);
    // -i and --period are the same setting: both at once is a usage error.
    let output = rtsleep(&["bench", "-i", "2000", "--period", "1ms", "-l", "1"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--interval") && stderr(&output).contains("--period"), "{}", stderr(&output));
    let output = rtsleep(&["bench", "-i", "0", "-l", "1"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--interval"), "{}", stderr(&output));
}

/// `completions SHELL` and `man` print what a package installs, from the command line
/// itself; an unknown shell is refused by name.
#[test]
fn completions_and_the_man_page_name_every_command() {
    let bin = env!("CARGO_BIN_EXE_rtsleep");
    let script = std::process::Command::new(bin).args(["completions", "bash"]).output().unwrap();
    assert!(script.status.success());
    let script = String::from_utf8(script.stdout).unwrap();
    assert!(script.contains("-o default rtsleep"), "{script}");
    let page = std::process::Command::new(bin).arg("man").output().unwrap();
    assert!(page.status.success());
    let page = String::from_utf8(page.stdout).unwrap();
    assert!(page.contains(".TH rtsleep 1"), "{page}");
    for command in ["run", "sleep", "bench", "status"] {
        assert!(script.contains(command) && page.contains(command), "{command} missing");
    }
    let bad = std::process::Command::new(bin).args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("invalid value 'tcsh'"));
}

/// A `cargo install` puts `rtsleep` alone in a bin directory: no shim beside it, none in
/// a prefix. `rtsleep run` then writes the copy embedded at build time to the user's
/// cache directory and the program runs with it (the shim's own counters prove it
/// loaded); with nowhere to write it says so.
#[test]
fn an_installed_rtsleep_alone_runs_with_its_embedded_shim() {
    let root = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("installed-alone");
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("bin")).unwrap();
    let bin = root.join("bin/rtsleep");
    // A hard link, not a copy: a copy's write descriptor can be inherited by a child
    // another test thread forks at that moment, and exec then fails with ETXTBSY
    // (seen once in .ci/run). A copy only where a link cannot be made.
    if std::fs::hard_link(env!("CARGO_BIN_EXE_rtsleep"), &bin).is_err() {
        std::fs::copy(env!("CARGO_BIN_EXE_rtsleep"), &bin).unwrap();
    }
    let stats = root.join("stats.txt");
    let out = std::process::Command::new(&bin)
        .args(["run", "--stats"])
        .arg(&stats)
        .args(["--", "sleep", "0.01"])
        .env("HOME", root.join("home"))
        .env_remove("XDG_RUNTIME_DIR")
        .env_remove("XDG_CACHE_HOME")
        .env_remove("RTSLEEP_SHIM")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let counters = std::fs::read_to_string(&stats).expect("the shim wrote its counters");
    assert!(counters.contains("intercepted=1"), "{counters}");
    let written: Vec<_> =
        std::fs::read_dir(root.join("home/.cache/rtsleep")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(written.len(), 1, "{written:?}");
    assert!(written[0].to_string_lossy().starts_with("librtsleep_preload-"), "{written:?}");

    let out = std::process::Command::new(&bin)
        .args(["run", "--", "true"])
        .env_remove("HOME")
        .env_remove("XDG_RUNTIME_DIR")
        .env_remove("XDG_CACHE_HOME")
        .env_remove("RTSLEEP_SHIM")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("the copy embedded in rtsleep cannot be written")
            && stderr.contains("none of their variables is set"),
        "{stderr}"
    );
}

/// `s` with every run of blanks and digits as one " N": the shape of a line, whatever
/// its numbers and their widths.
fn shape(text: &str) -> Vec<String> {
    text.lines()
        .filter(|line| !line.starts_with("# /dev/cpu_dma_latency"))
        .map(|line| {
            let mut out = String::new();
            let mut in_number = false;
            let chars: Vec<char> = line.chars().collect();
            for (i, &ch) in chars.iter().enumerate() {
                let number_ahead = ch.is_whitespace()
                    && chars[i..].iter().find(|c| !c.is_whitespace()).is_some_and(char::is_ascii_digit);
                if ch.is_ascii_digit() || number_ahead {
                    if !in_number {
                        out.push_str(" N");
                        in_number = true;
                    }
                } else {
                    in_number = false;
                    out.push(ch);
                }
            }
            out
        })
        .collect()
}

/// What a latency tester's script reads: with `-q`, cyclictest's end-of-run layout. The
/// same command lines run through the real cyclictest (rt-tests, which scripts/test.sh
/// installs) give the same lines but for the numbers.
#[test]
fn bench_with_cyclictests_options_prints_cyclictests_layout() {
    for args in [&["-i", "1000", "-l", "20", "-q"][..], &["-i", "1000", "-l", "20", "-q", "-h", "1"]] {
        let ours = rtsleep(&[&["bench", "--latency=0"][..], args].concat());
        assert!(ours.status.success(), "{args:?}: {}", stderr(&ours));
        let theirs = Command::new("cyclictest").args(args).output().expect("cyclictest (rt-tests) is installed");
        assert!(theirs.status.success(), "cyclictest {args:?}: {}", stderr(&theirs));
        assert_eq!(shape(&stdout(&ours)), shape(&stdout(&theirs)), "{args:?}:\n{}\n{}", stdout(&ours), stdout(&theirs));
    }
}

/// One thread column per run (`--plain` is thread 1), every bucket printed, each run's
/// samples either in a bucket or an overflow; no `T:` line with -q and a histogram.
#[test]
fn bench_histogram_in_cyclictests_layout_accounts_for_every_wake_up() {
    let output = rtsleep(&["bench", "-i", "500", "-l", "20", "-q", "-h", "50", "--plain"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().filter(|line| !line.starts_with("# /dev/cpu_dma_latency")).collect();
    assert_eq!(lines[0], "# Histogram");
    assert!(!text.contains("T: 0"), "{text}");
    let buckets: Vec<Vec<u64>> = lines[1..51]
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let (bucket, counts) = line.split_once(' ').expect("bucket and counts");
            assert_eq!(bucket, format!("{i:06}"));
            counts.split('\t').map(|n| n.parse().expect("a count")).collect()
        })
        .collect();
    let field = |label: &str| -> Vec<u64> {
        let line = lines.iter().find_map(|l| l.strip_prefix(&format!("# {label}:"))).expect(label);
        line.split_whitespace().map(|n| n.parse().expect("a number")).collect()
    };
    let overflows = field("Histogram Overflows");
    let totals = field("Total");
    assert_eq!((overflows.len(), totals.len()), (2, 2), "two runs, two threads");
    for run in 0..2 {
        let binned: u64 = buckets.iter().map(|row| row[run]).sum();
        assert_eq!(binned, totals[run]);
        assert_eq!(binned + overflows[run], 20, "run {run}");
    }
    assert!(lines.iter().any(|l| l.starts_with("# Thread 1:")), "{text}");
}

/// cyclictest's -D, -l 0, -p, -m and --json=FILE: each with its meaning, bad values refused
/// before anything is measured.
#[test]
fn bench_takes_cyclictests_duration_priority_mlockall_and_json_file() {
    let output = rtsleep(&["bench", "-l", "0", "-D", "1", "-i", "100000", "-q"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let count: u64 = stdout(&output)
        .split("C:")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("a C: count");
    assert!((5..=11).contains(&count), "-D 1 at 100 ms: about 10 wake-ups, got {count}");
    let output = rtsleep(&["bench", "-l", "0", "-i", "1000"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("-l 0") && stderr(&output).contains("-D"), "{}", stderr(&output));
    for (flag, value) in [("-D", "10x"), ("-D", "0"), ("-p", "100")] {
        let output = rtsleep(&["bench", flag, value, "-l", "1"]);
        assert_eq!(output.status.code(), Some(2), "{flag} {value}");
    }

    let dir = std::env::temp_dir().join(format!("rtsleep-bench-json-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("report.json");
    let output = rtsleep(&["bench", "-i", "1000", "-l", "5", "-m", &format!("--json={}", file.display())]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("p99"), "stdout keeps the table: {}", stdout(&output));
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(report["runs"][0]["loops"], 5);
    assert!(report["cpu_dma_latency_us"].is_null(), "left alone unless --latency: {report}");
    // --latency=0: held where this user may (root), else a warning and none.
    let output = rtsleep(&["bench", "-i", "1000", "-l", "2", "--latency=0", "--json"]);
    let report = json(&output);
    match report["cpu_dma_latency_us"].as_i64() {
        Some(latency) => assert_eq!(latency, 0),
        None => assert!(stderr(&output).contains("--latency"), "{}", stderr(&output)),
    }
    std::fs::remove_dir_all(&dir).unwrap();
    // A report that cannot be written is refused before the run: at once, not after it.
    let started = std::time::Instant::now();
    let output = rtsleep(&["bench", "-i", "1000000", "-l", "5", "--json=/nonexistent/dir/report.json"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("/nonexistent/dir/report.json"), "{}", stderr(&output));
    assert!(started.elapsed() < std::time::Duration::from_secs(4), "the 5 s run was not started");
}
