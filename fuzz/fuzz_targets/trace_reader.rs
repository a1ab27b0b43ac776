//! Any bytes through the reader, the merge, the model and the report: no panic, and
//! the reader accounts for every byte (read as records or skipped) unless the model's
//! VCPU limit stopped it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rtcredit_monitor::{analyze, Report};

fuzz_target!(|data: &[u8]| {
    let analysis = analyze(data, true, |_| {});
    let stats = analysis.stats;
    if analysis.model.limit_hit.is_none() {
        assert_eq!(stats.bytes, data.len() as u64, "every byte consumed");
    }
    assert!(analysis.model.vcpus.len() <= rtcredit_monitor::model::MAX_TRACKED_VCPUS);
    let _ = analysis.usable();
    assert!(stats.skipped_bytes <= stats.bytes);
    let report = Report::build(&analysis, None);
    let _ = report.to_table(true);
    let _ = report.to_csv(true);
    let _ = report.to_json();
});
