//! Any text as a human duration (`rtsleep` arguments, the preload shim's environment):
//! no panic, and an accepted duration prints back (in ns) to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rtsleep::duration::parse_duration;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(duration) = parse_duration(text) {
        let nanos = u64::try_from(duration.as_nanos()).expect("at most u64::MAX ns");
        assert_eq!(parse_duration(&format!("{nanos}ns")), Ok(duration));
    }
});
