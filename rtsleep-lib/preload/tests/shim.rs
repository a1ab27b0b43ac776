//! The shim, loaded with `LD_PRELOAD` into real programs on this host (no
//! `/dev/rtsleep`): a C program built here from `tests/c/sleeper.c`, and this test binary
//! itself re-run as a Rust child program. Each run is compared with a run without the
//! shim (return values, errno, remaining time on `EINTR`), and `RTSLEEP_STATS` shows
//! what the shim did: with no device, sleeps inside the window are intercepted and fall
//! back to the real function, the others pass through.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

fn shim_path() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let deps = exe.parent().expect("test binary directory");
    for candidate in [deps.join("librtsleep_preload.so"), deps.join("../librtsleep_preload.so")] {
        if candidate.exists() {
            return candidate;
        }
    }
    panic!("librtsleep_preload.so not found next to {}: cargo test -p rtsleep-preload builds it", exe.display());
}

fn sleeper_program() -> &'static Path {
    static PROGRAM: OnceLock<PathBuf> = OnceLock::new();
    PROGRAM.get_or_init(|| {
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c/sleeper.c");
        let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("sleeper");
        let status = Command::new("cc")
            .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-o"])
            .arg(&out)
            .arg(&source)
            .status()
            .expect("run cc (install gcc: apt-get install gcc libc6-dev)");
        assert!(status.success(), "cc failed on {}", source.display());
        out
    })
}

struct Run {
    stdout: String,
    stderr: String,
    stats: BTreeMap<String, String>,
}

fn stats_file(name: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}.stats"));
    let _ = std::fs::remove_file(&path);
    path
}

fn parse_stats(path: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    text.lines()
        .filter_map(|line| line.split_once('='))
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect()
}

fn run(mut command: Command, name: &str, with_shim: bool, env: &[(&str, &str)]) -> Run {
    let stats = stats_file(name);
    command.env_remove("LD_PRELOAD").env_remove("RTSLEEP_MIN").env_remove("RTSLEEP_MAX").env_remove("RTSLEEP_ROUTE");
    command.env("RTSLEEP_DEVICE", "/nonexistent/rtsleep");
    for (key, value) in env {
        command.env(key, value);
    }
    if with_shim {
        command.env("LD_PRELOAD", shim_path()).env("RTSLEEP_STATS", &stats);
    }
    let output = command.output().expect("run the test program");
    let run = Run {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        stats: if with_shim { parse_stats(&stats) } else { BTreeMap::new() },
    };
    assert!(output.status.success(), "{name} failed: {}{}", run.stdout, run.stderr);
    run
}

fn sleeper(mode: &str) -> Command {
    let mut command = Command::new(sleeper_program());
    command.arg(mode);
    command
}

fn stat(run: &Run, key: &str) -> u64 {
    run.stats.get(key).and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("no {key} in {:?}", run.stats))
}

#[test]
fn c_program_sees_identical_results_and_sleeps_in_the_window_are_intercepted() {
    let plain = run(sleeper("window"), "window-plain", false, &[]);
    let shimmed = run(sleeper("window"), "window-shim", true, &[]);
    assert_eq!(plain.stdout, shimmed.stdout, "the shim changed a result or errno");
    assert!(shimmed.stdout.contains("nanosleep_bad_nsec rc=-1 errno=22"), "{}", shimmed.stdout);
    assert!(shimmed.stdout.contains("clock_bad_nsec rc=22 errno=12345"), "{}", shimmed.stdout);
    // 6 sleeps of 10 ms (each function, both clocks, relative and absolute) are inside
    // the default 1 ms..1 s window; 7 calls (short, past, bad arguments) are not. The
    // default policy (rt) selects the 2 absolute ones from this SCHED_OTHER thread.
    assert_eq!(stat(&shimmed, "intercepted"), 13);
    assert_eq!(stat(&shimmed, "fell_back"), 2);
    assert_eq!(stat(&shimmed, "not_selected"), 4);
    assert_eq!(stat(&shimmed, "passed_through"), 7);
    assert_eq!(stat(&shimmed, "routed"), 0);
    assert_eq!(shimmed.stats["device"], "absent");
    assert_eq!(shimmed.stats["route"], "rt");
}

#[test]
fn route_all_selects_every_sleep_in_the_window() {
    let all = run(sleeper("window"), "window-all", true, &[("RTSLEEP_ROUTE", "all")]);
    assert_eq!(stat(&all, "fell_back"), 6);
    assert_eq!(stat(&all, "not_selected"), 0);
    assert_eq!(all.stats["route"], "all");
}

#[test]
fn a_bad_route_is_reported_and_the_default_used() {
    let bad = run(sleeper("window"), "window-bad-route", true, &[("RTSLEEP_ROUTE", "everything")]);
    assert!(bad.stderr.contains("rtsleep-preload: ignoring RTSLEEP_ROUTE=\"everything\""), "{}", bad.stderr);
    assert_eq!(bad.stats["route"], "rt");
    assert_eq!(stat(&bad, "not_selected"), 4);
}

#[test]
fn route_rt_selects_every_sleep_of_a_sched_fifo_thread() {
    let mut probe = sleeper("window");
    probe.arg("fifo");
    let output = probe.output().expect("run the sleeper");
    if output.status.code() == Some(3) {
        // Without CAP_SYS_NICE the thread cannot be made real-time: nothing to check.
        eprintln!("skipped: {}", String::from_utf8_lossy(&output.stdout).trim());
        return;
    }
    let mut plain = sleeper("window");
    plain.arg("fifo");
    let plain = run(plain, "window-fifo-plain", false, &[]);
    let mut shimmed = sleeper("window");
    shimmed.arg("fifo");
    let shimmed = run(shimmed, "window-fifo-shim", true, &[]);
    assert_eq!(plain.stdout, shimmed.stdout);
    assert_eq!(stat(&shimmed, "fell_back"), 6, "{:?}", shimmed.stats);
    assert_eq!(stat(&shimmed, "not_selected"), 0);
}

#[test]
fn c_program_interrupted_sleeps_keep_eintr_errno_and_remaining_time() {
    let plain = run(sleeper("eintr"), "eintr-plain", false, &[]);
    let shimmed = run(sleeper("eintr"), "eintr-shim", true, &[]);
    assert_eq!(plain.stdout, shimmed.stdout);
    for line in [
        "nanosleep_eintr rc=-1 errno=4 rem_ok=yes",
        "clock_rel_eintr rc=4 errno=0 rem_ok=yes",
        "clock_abs_eintr rc=4 errno=0 rem_untouched=yes",
        "usleep_eintr rc=-1 errno=4",
    ] {
        assert!(shimmed.stdout.contains(line), "missing {line:?} in:\n{}", shimmed.stdout);
    }
    assert_eq!(stat(&shimmed, "interrupted"), 4);
    // The absolute one is selected by the default policy, the three relative ones not.
    assert_eq!(stat(&shimmed, "fell_back"), 1);
    assert_eq!(stat(&shimmed, "not_selected"), 3);
}

#[test]
fn the_window_comes_from_the_environment_and_bad_values_are_reported() {
    let narrow = run(sleeper("window"), "window-narrow", true, &[("RTSLEEP_MIN", "20ms"), ("RTSLEEP_MAX", "30ms")]);
    assert_eq!(stat(&narrow, "fell_back"), 0);
    assert_eq!(stat(&narrow, "not_selected"), 0);
    assert_eq!(stat(&narrow, "passed_through"), 13);
    assert_eq!(stat(&narrow, "min_ns"), 20_000_000);

    let bad = run(sleeper("window"), "window-bad-env", true, &[("RTSLEEP_MIN", "fast")]);
    assert!(bad.stderr.contains("rtsleep-preload: ignoring RTSLEEP_MIN=\"fast\""), "{}", bad.stderr);
    assert_eq!(stat(&bad, "min_ns"), 1_000_000);
    assert_eq!(stat(&bad, "fell_back"), 2);
}

#[test]
fn a_file_that_is_not_the_device_is_never_used() {
    let plain = run(sleeper("window"), "unusable-plain", false, &[]);
    let shimmed = run(sleeper("window"), "unusable-shim", true, &[("RTSLEEP_DEVICE", "/dev/null")]);
    assert_eq!(plain.stdout, shimmed.stdout);
    assert_eq!(shimmed.stats["device"], "unusable");
    assert_eq!(stat(&shimmed, "routed"), 0);
}

const CHILD_ENV: &str = "RTSLEEP_PRELOAD_RUST_CHILD";

/// The Rust test program, run only as the child of `rust_program_sleeps_are_intercepted`
/// (this binary again, with the shim preloaded and `--ignored`): on its own it would
/// pass without testing anything, so it is ignored in a normal run and refuses to run
/// without the parent's environment.
#[test]
#[ignore = "the child program of rust_program_sleeps_are_intercepted, not a test on its own"]
fn rust_child_program() {
    assert!(
        std::env::var_os(CHILD_ENV).is_some(),
        "run by rust_program_sleeps_are_intercepted (with {CHILD_ENV} and the shim preloaded)"
    );
    for _ in 0..3 {
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_micros(200));

    extern "C" fn no_op(_: libc::c_int) {}
    // SAFETY: a zeroed sigaction is valid; the handler is async-signal-safe (does nothing)
    // and installed without SA_RESTART so the sleep below returns EINTR.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = no_op as extern "C" fn(libc::c_int) as usize;
        libc::sigemptyset(&mut action.sa_mask);
        assert_eq!(libc::sigaction(libc::SIGUSR1, &action, std::ptr::null_mut()), 0);
    }
    // SAFETY: pthread_self has no preconditions.
    let target = unsafe { libc::pthread_self() } as usize;
    let interrupter = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(30));
        // SAFETY: the target thread is alive: it is blocked in the sleep below, which
        // lasts 500 ms, and joins this thread only after it.
        unsafe { libc::pthread_kill(target as libc::pthread_t, libc::SIGUSR1) };
    });
    let request = libc::timespec { tv_sec: 0, tv_nsec: 500_000_000 };
    let mut remaining = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: both pointers are valid for the call.
    let rc = unsafe { libc::nanosleep(&request, &mut remaining) };
    let errno = std::io::Error::last_os_error().raw_os_error();
    interrupter.join().expect("interrupter thread");
    assert_eq!((rc, errno), (-1, Some(libc::EINTR)));
    let left = Duration::new(remaining.tv_sec as u64, remaining.tv_nsec as u32);
    assert!(left > Duration::from_millis(300) && left < Duration::from_millis(500), "remaining {left:?}");
}

#[test]
fn rust_program_sleeps_are_intercepted() {
    let mut child = Command::new(std::env::current_exe().expect("test binary path"));
    child.args(["--exact", "rust_child_program", "--ignored", "--nocapture", "--test-threads=1"]).env(CHILD_ENV, "1");
    let shimmed = run(child, "rust-child", true, &[]);
    // 3 x 10 ms + the interrupter's 30 ms + the interrupted 500 ms: inside the window,
    // relative, from SCHED_OTHER threads: not selected by the default policy.
    assert!(stat(&shimmed, "not_selected") >= 5, "{:?}", shimmed.stats);
    assert!(stat(&shimmed, "passed_through") >= 1, "{:?}", shimmed.stats);
    assert!(stat(&shimmed, "interrupted") >= 1, "{:?}", shimmed.stats);
    assert!(shimmed.stdout.contains("1 passed"), "{}", shimmed.stdout);
}
