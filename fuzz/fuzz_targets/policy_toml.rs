//! Any text as an `rtcredit-ctl` policy file: no panic; an error always carries a
//! line and column inside the text; an accepted policy's rules are all valid.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rtcredit_config::policy::Policy;
use rtcredit_config::Error;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match Policy::parse("fuzz.toml", text) {
        Ok(policy) => {
            for rule in &policy.rules {
                assert!(rule.change.validate().is_ok(), "{rule:?}");
                assert!(rule.line >= 1 && rule.line <= text.lines().count().max(1));
            }
        }
        Err(Error::Policy { line, column, .. }) => {
            assert!(line >= 1 && line <= text.split('\n').count(), "line {line}");
            assert!(column >= 1);
        }
        Err(other) => panic!("a parse error that is not a policy error: {other}"),
    }
});
