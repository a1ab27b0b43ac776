//! Overhead of one library sleep call against a bare `clock_nanosleep`, both asked to
//! sleep until a deadline that has already passed, so only the call path is measured.
//! The bare call enters the kernel; the library reads the clock (vDSO) and returns
//! without a system call. `deadline_now` asks both for a deadline equal to the clock
//! read just before: the kernel then arms a timer and the thread pays the timer slack,
//! which the library avoids. On this host the library uses its fallback; with
//! `/dev/rtsleep` the same calls would also return before the ioctl.

use criterion::{criterion_group, criterion_main, Criterion};
use rtsleep::{MonoTime, Sleeper};
use std::hint::black_box;
use std::time::Duration;

fn sleep_call_overhead(c: &mut Criterion) {
    let past = MonoTime::from_nanos(1);
    let sleeper = Sleeper::open();
    let mut group = c.benchmark_group("sleep_until_past_deadline");
    group.measurement_time(Duration::from_secs(2)).warm_up_time(Duration::from_millis(500));
    group.bench_function("bare_clock_nanosleep", |b| {
        let ts = past.to_timespec();
        b.iter(|| {
            // SAFETY: `ts` is a valid timespec; no remainder is requested with TIMER_ABSTIME.
            let rc = unsafe {
                libc::clock_nanosleep(libc::CLOCK_MONOTONIC, libc::TIMER_ABSTIME, black_box(&ts), std::ptr::null_mut())
            };
            black_box(rc)
        })
    });
    group.bench_function("bare_clock_nanosleep_deadline_now", |b| {
        b.iter(|| {
            let ts = MonoTime::now().map(MonoTime::to_timespec).unwrap_or(libc::timespec { tv_sec: 0, tv_nsec: 0 });
            // SAFETY: as above.
            let rc = unsafe {
                libc::clock_nanosleep(libc::CLOCK_MONOTONIC, libc::TIMER_ABSTIME, black_box(&ts), std::ptr::null_mut())
            };
            black_box(rc)
        })
    });
    group.bench_function("rtsleep_sleep_until", |b| b.iter(|| sleeper.sleep_until(black_box(past))));
    group.bench_function("rtsleep_sleep_until_deadline_now", |b| {
        b.iter(|| sleeper.sleep_until(black_box(MonoTime::now().unwrap_or(past))))
    });
    group.bench_function("rtsleep_sleep_zero", |b| b.iter(|| sleeper.sleep(black_box(Duration::ZERO))));
    group.finish();
}

/// A sleep that really happens (100 us, relative): the library's cost is whatever it adds
/// to the kernel's sleep, timer slack and wake-up included in both.
fn real_sleep_overhead(c: &mut Criterion) {
    const SLEEP: Duration = Duration::from_micros(100);
    let sleeper = Sleeper::open();
    let mut group = c.benchmark_group("sleep_100us");
    group.measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_millis(500));
    group.bench_function("bare_clock_nanosleep", |b| {
        let ts = libc::timespec { tv_sec: 0, tv_nsec: SLEEP.as_nanos() as libc::c_long };
        b.iter(|| {
            // SAFETY: `ts` is a valid timespec; the remainder is not requested.
            let rc = unsafe { libc::clock_nanosleep(libc::CLOCK_MONOTONIC, 0, black_box(&ts), std::ptr::null_mut()) };
            black_box(rc)
        })
    });
    group.bench_function("rtsleep_sleep", |b| b.iter(|| sleeper.sleep(black_box(SLEEP))));
    group.finish();
}

criterion_group!(benches, sleep_call_overhead, real_sleep_overhead);
criterion_main!(benches);
