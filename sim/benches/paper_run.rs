//! Wall time of the paper's experiments (every policy, every figure) on a shortened run
//! and of one full-length simulation; `rtcredit-sim paper --timing` reports the whole
//! 3,000-period run with events per second.

use criterion::{criterion_group, criterion_main, Criterion};
use rtcredit_sim::paper::{run_one, run_paper, Measured, PaperConfig, PaperRun};
use rtcredit_sim::policy::Policy;
use rtcredit_sim::workload::Release;

fn paper(c: &mut Criterion) {
    let mut group = c.benchmark_group("paper");
    group.sample_size(10);
    let short = PaperConfig { periods: 300, ..PaperConfig::default() };
    group.bench_function("all figures, 300 periods", |b| b.iter(|| run_paper(&short, &|| {})));
    let full = PaperConfig::default();
    let run = PaperRun { policy: Policy::Credit, share_pct: 20, measured: Measured::Periodic(Release::Absolute) };
    group.bench_function("one simulation, 3000 periods", |b| b.iter(|| run_one(&full, &run)));
    group.finish();
}

criterion_group!(benches, paper);
criterion_main!(benches);
