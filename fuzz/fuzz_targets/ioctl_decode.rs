//! The guest module's ioctl decoding (shared with it through `rtsleep::abi`) on any
//! command word, sleep arguments and clock reading: no panic, and the decoded values
//! keep their promises (a deadline within the clock's range and, when relative, at
//! `now + deadline`; an info size of at least 64 from an `_IOR(0xE2, 2, n)` command).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rtsleep::abi::{absolute_deadline, info_request_size, ior, SleepArgs, RTSLEEP_F_ABSOLUTE, RTSLEEP_IOC_MAGIC};

fuzz_target!(|input: (u32, u64, u32, u32, u64)| {
    let (cmd, deadline_ns, clock, flags, now) = input;
    if let Some(size) = info_request_size(cmd) {
        assert!(size >= 64);
        assert_eq!(cmd, ior(RTSLEEP_IOC_MAGIC, 2, size));
    }
    let args = SleepArgs { deadline_ns, clock, flags, remaining_ns: 0 };
    if let Some(deadline) = absolute_deadline(&args, now) {
        assert!(deadline <= i64::MAX as u64);
        if flags & RTSLEEP_F_ABSOLUTE == 0 {
            assert_eq!(Some(deadline), now.checked_add(deadline_ns));
        } else {
            assert_eq!(deadline, deadline_ns.min(i64::MAX as u64));
        }
    }
});
