//! Reading speed on a large synthetic trace (32 MiB, 4 CPUs, 32 KiB windows), in MB/s:
//! the reader alone, and the whole analysis (reader, merge, model).
//!
//! `cargo bench -p rtcredit-monitor --bench read_speed`; the numbers are in README.md.

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rtcredit_monitor::{analyze, TraceReader};

fn read_speed(c: &mut Criterion) {
    let trace = common::synthetic_trace(32 << 20, 4);
    let mut group = c.benchmark_group("read");
    group.throughput(Throughput::Bytes(trace.len() as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("reader_only", |b| {
        b.iter(|| {
            let mut events = 0u64;
            for record in TraceReader::new(black_box(&trace[..])).flatten() {
                events = events.wrapping_add(u64::from(record.event));
            }
            events
        })
    });
    group.bench_function("reader_merge_model", |b| b.iter(|| analyze(black_box(&trace[..]), false, |_| {}).stats));
    group.finish();
}

criterion_group!(benches, read_speed);
criterion_main!(benches);
