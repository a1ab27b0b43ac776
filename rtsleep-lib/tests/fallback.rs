//! The Rust API on this host, where there is no `/dev/rtsleep`: every call works through
//! the `clock_nanosleep` fallback, and `info()` says so and why.

use rtsleep::{Backend, FallbackReason, MonoTime, Sleeper};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn no_device() -> Sleeper {
    Sleeper::open_path(PathBuf::from("/nonexistent/rtsleep"))
}

#[test]
fn missing_device_selects_the_fallback_and_says_so() {
    let info = no_device().info();
    assert_eq!(info.backend, Backend::Fallback);
    assert_eq!(info.fallback_reason, Some(FallbackReason::NoDevice { path: "/nonexistent/rtsleep".into() }));
    assert!(info.device.is_none());
    let reason = info.fallback_reason.map(|r| r.to_string()).unwrap_or_default();
    assert!(reason.contains("module is not loaded"), "{reason}");
}

#[test]
fn a_file_that_is_not_the_device_selects_the_fallback_with_enotty() {
    let info = Sleeper::open_path(PathBuf::from("/dev/null")).info();
    assert_eq!(info.backend, Backend::Fallback);
    match info.fallback_reason {
        Some(FallbackReason::DeviceUnusable { errno, detail, .. }) => {
            assert_eq!(errno, libc::ENOTTY);
            assert!(detail.contains("not an rtsleep device"), "{detail}");
        }
        other => panic!("expected DeviceUnusable, got {other:?}"),
    }
}

#[test]
fn open_required_fails_without_a_device_and_names_the_fix() {
    std::env::set_var(rtsleep::DEVICE_ENV, "/nonexistent/rtsleep");
    let err = Sleeper::open_required().unwrap_err();
    assert!(err.to_string().contains("modprobe rtsleep"), "{err}");
}

#[test]
fn sleep_lasts_at_least_the_duration() {
    let sleeper = no_device();
    let start = Instant::now();
    sleeper.sleep(Duration::from_millis(15)).expect("sleep");
    assert!(start.elapsed() >= Duration::from_millis(15));
}

#[test]
fn sleep_until_a_past_deadline_returns_at_once() {
    let sleeper = no_device();
    let start = Instant::now();
    sleeper.sleep_until(MonoTime::from_nanos(1)).expect("sleep_until");
    sleeper.sleep(Duration::ZERO).expect("sleep 0");
    assert!(start.elapsed() < Duration::from_millis(5));
}

#[test]
fn sleep_until_wakes_at_or_after_the_deadline() {
    let sleeper = no_device();
    let deadline = MonoTime::now().expect("clock").checked_add(Duration::from_millis(10)).expect("no overflow");
    sleeper.sleep_until(deadline).expect("sleep_until");
    assert!(MonoTime::now().expect("clock") >= deadline);
}

#[test]
fn a_shared_sleeper_serves_threads_concurrently() {
    let sleeper = Arc::new(no_device());
    let start = Instant::now();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let sleeper = Arc::clone(&sleeper);
            std::thread::spawn(move || sleeper.sleep(Duration::from_millis(30)))
        })
        .collect();
    for thread in threads {
        thread.join().expect("thread").expect("sleep");
    }
    let elapsed = start.elapsed();
    assert!(elapsed >= Duration::from_millis(30) && elapsed < Duration::from_millis(119), "{elapsed:?}");
}

#[test]
fn a_signal_does_not_cut_a_sleep_short() {
    extern "C" fn no_op(_: libc::c_int) {}
    // SAFETY: a zeroed sigaction is valid; the handler does nothing (async-signal-safe)
    // and is installed without SA_RESTART, so the sleep's syscall returns EINTR.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = no_op as extern "C" fn(libc::c_int) as usize;
        libc::sigemptyset(&mut action.sa_mask);
        assert_eq!(libc::sigaction(libc::SIGUSR2, &action, std::ptr::null_mut()), 0);
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let sleeper_thread = std::thread::spawn(move || {
        // SAFETY: pthread_self has no preconditions.
        tx.send(unsafe { libc::pthread_self() } as usize).expect("send thread id");
        let start = Instant::now();
        no_device().sleep(Duration::from_millis(60)).map(|()| start.elapsed())
    });
    let target = rx.recv().expect("thread id");
    std::thread::sleep(Duration::from_millis(15));
    // SAFETY: the target thread is alive: it sleeps 60 ms and is joined below.
    unsafe { libc::pthread_kill(target as libc::pthread_t, libc::SIGUSR2) };
    let slept = sleeper_thread.join().expect("thread").expect("sleep");
    assert!(slept >= Duration::from_millis(60), "{slept:?}");
}

#[test]
fn periodic_loop_reports_lateness_per_tick() {
    let sleeper = no_device();
    let mut periodic = sleeper.periodic(Duration::from_millis(2)).expect("periodic");
    for _ in 0..5 {
        let tick = periodic.wait().expect("wait");
        assert_eq!(tick.lateness, tick.woke.saturating_duration_since(tick.deadline));
        assert!(tick.woke >= tick.deadline);
    }
}
