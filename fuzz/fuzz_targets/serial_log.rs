//! Any text as a serial log of an end-to-end boot: no panic, and no decoded file
//! beyond the limits (small here, so that the fuzzer reaches them).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rtcredit_e2e::serial::{parse_with_limits, Limits};

const LIMITS: Limits = Limits { file_bytes: 4096, total_bytes: 16384 };

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(log) = parse_with_limits(text, LIMITS) {
        let total: usize = log.files.values().map(Vec::len).sum();
        assert!(log.files.values().all(|f| f.len() <= LIMITS.file_bytes));
        assert!(total <= LIMITS.total_bytes);
    }
});
