//! Random and mutated input never makes the reader, model, report or plots panic, and the
//! reader accounts for every byte. (The cargo-fuzz target in `fuzz/` does the same
//! with coverage guidance; this runs on stable in `cargo test`.)

mod common;

use proptest::prelude::*;
use rtcredit_monitor::{analyze, plot, Report};

fn check(bytes: &[u8]) {
    let analysis = analyze(bytes, true, |_| {});
    assert_eq!(analysis.stats.bytes, bytes.len() as u64);
    assert!(analysis.stats.skipped_bytes <= analysis.stats.bytes);
    let report = Report::build(&analysis, None);
    let _ = report.to_table(true);
    let _ = report.to_csv(true);
    assert!(report.to_json().is_ok());
    assert!(plot::timeline_svg(&analysis.model, &report.clock).is_ok());
    assert!(plot::latency_cdf_svg(&analysis.model, &report.clock).is_ok());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        check(&bytes);
    }

    #[test]
    fn mutated_trace(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..16),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = common::synthetic_trace(4096, 3);
        for (at, value) in flips {
            let i = at.index(bytes.len());
            bytes[i] ^= value;
        }
        let len = cut.index(bytes.len() + 1);
        check(&bytes[..len]);
    }
}

/// A trace without a measured wake gives a CDF that says so, not a blank chart that
/// reads as "no latency".
#[test]
fn an_empty_latency_cdf_says_there_were_no_wake_ups() {
    let analysis = analyze(&[][..], true, |_| {});
    let report = Report::build(&analysis, None);
    let svg = plot::latency_cdf_svg(&analysis.model, &report.clock).unwrap();
    assert!(svg.contains(plot::NO_WAKES_NOTE), "{svg}");
}
