//! Cost of the core's per-event operations at 8, 64, 512 and 4,096 units on one CPU,
//! in plain credit mode (RT never requested) and with RT in use.
//!
//! `cargo bench -p rtcredit --bench core_ops`; the medians are in hypervisor/README.md.
//! Each operation is timed alone: set-up steps (putting units to sleep before timing
//! their wake, for instance) are outside the timed region.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};
use rtcredit::host::{Host, UnitId};
use rtcredit::{DomainParams, Params, SchedRtsleep};

const SIZES: [usize; 4] = [8, 64, 512, 4_096];
const MS: u64 = 1_000_000;

/// One CPU, `units` runnable units each in its own domain, the first one running.
fn host(units: usize, rt: bool) -> (Host, Vec<UnitId>) {
    let params = Params { ratelimit_ns: 0, ..Params::default() };
    let mut host = Host::new(params, 1, false).expect("valid params");
    let mut ids = Vec::with_capacity(units);
    for index in 0..units {
        let dom = host.add_domain(index as u32);
        if rt {
            let allowed =
                DomainParams { weight: 256, cap: 0, rt_allowed: true, rt_budget_pct: 100, rt_rate_per_s: 100_000 };
            host.set_domain_params(dom, &allowed).expect("valid domain params");
        }
        ids.push(host.add_unit(dom, 0, true, 0).expect("unit added").0);
    }
    host.schedule(0, 0, false).expect("schedule");
    (host, ids)
}

fn bench_schedule(c: &mut Criterion, rt: bool) {
    let mode = if rt { "rtcredit" } else { "credit" };
    let mut group = c.benchmark_group(format!("{mode}/schedule"));
    for size in SIZES {
        group.bench_with_input(BenchmarkId::from_parameter(size), &size, |b, &size| {
            let (mut host, _) = host(size, rt);
            let mut now = 0u64;
            if !rt {
                // Round robin: the current unit goes back to its queue, the head runs.
                b.iter(|| {
                    now += MS;
                    black_box(host.schedule(0, now, false).expect("schedule"))
                });
                return;
            }
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                let mut left = iters;
                while left > 0 {
                    // Untimed: give up to 64 queued units an RT deadline that is due, so
                    // each timed pass below picks an RT unit.
                    now += MS;
                    let queued = host.queue(0);
                    let batch = (left as usize).min(64).min(queued.len());
                    for unit in &queued[queued.len() - batch..] {
                        let _ = host.rt_fire(*unit, now);
                    }
                    let start = Instant::now();
                    for _ in 0..batch {
                        now += 1_000;
                        black_box(host.schedule(0, now, false).expect("schedule"));
                    }
                    total += start.elapsed();
                    left -= batch as u64;
                }
                total
            });
        });
    }
    group.finish();
}

fn bench_wake(c: &mut Criterion, rt: bool) {
    let mode = if rt { "rtcredit" } else { "credit" };
    let mut group = c.benchmark_group(format!("{mode}/wake"));
    for size in SIZES {
        group.bench_with_input(BenchmarkId::from_parameter(size), &size, |b, &size| {
            let (mut host, ids) = host(size, rt);
            let current = host.current(0);
            let sleepers: Vec<UnitId> =
                ids.into_iter().filter(|id| Some(*id) != current).take(256.min(size - 1)).collect();
            let mut now = 0u64;
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                let mut left = iters;
                while left > 0 {
                    let batch = (left as usize).min(sleepers.len());
                    now += MS;
                    for unit in &sleepers[..batch] {
                        host.sleep(*unit).expect("sleep");
                    }
                    let start = Instant::now();
                    for unit in &sleepers[..batch] {
                        black_box(host.wake(*unit, now).expect("wake"));
                    }
                    total += start.elapsed();
                    left -= batch as u64;
                }
                total
            });
        });
    }
    group.finish();
}

fn bench_tick(c: &mut Criterion, rt: bool) {
    let mode = if rt { "rtcredit" } else { "credit" };
    let mut group = c.benchmark_group(format!("{mode}/tick"));
    for size in SIZES {
        group.bench_with_input(BenchmarkId::from_parameter(size), &size, |b, &size| {
            let (mut host, _) = host(size, rt);
            let mut now = 0u64;
            b.iter(|| {
                now += 10 * MS;
                black_box(host.tick(0, now).expect("tick"))
            });
        });
    }
    group.finish();
}

fn bench_rtsleep(c: &mut Criterion) {
    let mut group = c.benchmark_group("rtcredit/rtsleep");
    for size in SIZES {
        group.bench_with_input(BenchmarkId::from_parameter(size), &size, |b, &size| {
            let (mut host, _) = host(size, true);
            let current = host.current(0).expect("a unit runs");
            let mut now = 0u64;
            b.iter(|| {
                // 100,000 requests per second is the budget: one every 10 us stays in it.
                now += 10_000;
                let args = SchedRtsleep { deadline_ns: now + 6 * MS, flags: 0, pad: 0 };
                black_box(host.rtsleep(current, &args, now).expect("granted"))
            });
        });
    }
    group.finish();
}

fn bench_account(c: &mut Criterion) {
    let mut group = c.benchmark_group("credit/account_period");
    for size in SIZES {
        group.bench_with_input(BenchmarkId::from_parameter(size), &size, |b, &size| {
            b.iter_batched(
                || {
                    // Every unit active (found running at a tick) with credit to spare
                    // below the 300 at which it would stop earning.
                    let (mut host, _) = host(size, false);
                    let mut now = 0u64;
                    for _ in 0..size {
                        now += MS;
                        host.tick(0, now).expect("tick");
                        host.schedule(0, now, false).expect("schedule");
                    }
                    (host, now + 30 * MS)
                },
                |(mut host, now)| black_box(host.account(now)),
                BatchSize::LargeInput,
            );
        });
    }
    group.finish();
}

fn all(c: &mut Criterion) {
    for rt in [false, true] {
        bench_schedule(c, rt);
        bench_wake(c, rt);
        bench_tick(c, rt);
    }
    bench_rtsleep(c);
    bench_account(c);
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    targets = all
}
criterion_main!(benches);
