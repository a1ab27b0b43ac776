//! Layout and number checks for `abi.rs` (kept out of that file so the guest module
//! includes nothing but the definitions). A change here is an ABI break: bump
//! `RTSLEEP_ABI_VERSION` and update the guest module in the same change.

use crate::abi::*;
use crate::capi::RtsleepInfo;
use core::mem::{align_of, offset_of, size_of};

#[test]
fn sleep_args_layout_is_fixed() {
    assert_eq!(size_of::<SleepArgs>(), 24);
    assert_eq!(align_of::<SleepArgs>(), 8);
    assert_eq!(offset_of!(SleepArgs, deadline_ns), 0);
    assert_eq!(offset_of!(SleepArgs, clock), 8);
    assert_eq!(offset_of!(SleepArgs, flags), 12);
    assert_eq!(offset_of!(SleepArgs, remaining_ns), 16);
}

#[test]
fn device_info_layout_is_fixed() {
    assert_eq!(size_of::<DeviceInfo>(), 64);
    assert_eq!(align_of::<DeviceInfo>(), 8);
    assert_eq!(offset_of!(DeviceInfo, version), 0);
    assert_eq!(offset_of!(DeviceInfo, on_xen), 4);
    assert_eq!(offset_of!(DeviceInfo, rt_state), 8);
    assert_eq!(offset_of!(DeviceInfo, last_result), 12);
    assert_eq!(offset_of!(DeviceInfo, min_lead_ns), 16);
    assert_eq!(offset_of!(DeviceInfo, max_lead_ns), 24);
    assert_eq!(offset_of!(DeviceInfo, requests), 32);
    assert_eq!(offset_of!(DeviceInfo, rt_accepted), 40);
    assert_eq!(offset_of!(DeviceInfo, fell_back), 48);
    assert_eq!(offset_of!(DeviceInfo, interrupted), 56);
}

#[test]
fn device_info_ext_extends_device_info() {
    assert_eq!(size_of::<DeviceInfoExt>(), 112);
    assert_eq!(align_of::<DeviceInfoExt>(), 8);
    assert_eq!(offset_of!(DeviceInfoExt, info), 0);
    assert_eq!(offset_of!(DeviceInfoExt, size), 64);
    assert_eq!(offset_of!(DeviceInfoExt, reserved), 68);
    assert_eq!(offset_of!(DeviceInfoExt, hypercalls), 72);
    assert_eq!(offset_of!(DeviceInfoExt, rt_deferred), 80);
    assert_eq!(offset_of!(DeviceInfoExt, rt_replaced), 88);
    assert_eq!(offset_of!(DeviceInfoExt, rt_reregistered), 96);
    assert_eq!(offset_of!(DeviceInfoExt, rt_cancels), 104);
    // Same type byte, number and direction as RTSLEEP_IOC_INFO; only the size differs.
    let size_mask = ((1u32 << IOC_SIZEBITS) - 1) << IOC_SIZESHIFT;
    assert_eq!(RTSLEEP_IOC_INFO_EXT & !size_mask, RTSLEEP_IOC_INFO & !size_mask);
    assert_eq!(RTSLEEP_IOC_INFO_EXT, 0x8070_E202);
    // The extension does not change the major version old programs check.
    assert_eq!(RTSLEEP_ABI_VERSION, 1);
}

#[test]
fn c_info_layout_is_fixed() {
    assert_eq!(size_of::<RtsleepInfo>(), 80);
    assert_eq!(offset_of!(RtsleepInfo, backend), 0);
    assert_eq!(offset_of!(RtsleepInfo, fallback_reason), 4);
    assert_eq!(offset_of!(RtsleepInfo, fallback_errno), 8);
    assert_eq!(offset_of!(RtsleepInfo, device_present), 12);
    assert_eq!(offset_of!(RtsleepInfo, device), 16);
}

#[test]
fn ioctl_numbers_are_the_documented_ones() {
    assert_eq!(RTSLEEP_IOC_SLEEP, 0xC018_E201);
    assert_eq!(RTSLEEP_IOC_INFO, 0x8040_E202);
    // The encoding itself, against values from Linux headers: TCGETS2 = _IOR('T', 0x2A,
    // struct termios2 /* 44 bytes */) = 0x802C542A; FIONREAD-style _IO has dir 0.
    assert_eq!(ior(b'T' as u32, 0x2A, 44), 0x802C_542A);
    assert_eq!(iow(b'T' as u32, 0x2B, 44), 0x402C_542B);
    assert_eq!(ioc(IOC_NONE, b'T' as u32, 0x01, 0), 0x0000_5401);
}

#[test]
fn rt_states_and_flags_are_distinct() {
    let states = [RTSLEEP_RT_UNKNOWN, RTSLEEP_RT_ACCEPTED, RTSLEEP_RT_NOT_XEN, RTSLEEP_RT_EOPNOTSUPP, RTSLEEP_RT_EPERM];
    for (i, a) in states.iter().enumerate() {
        for b in &states[i + 1..] {
            assert_ne!(a, b);
        }
    }
    assert_eq!(RTSLEEP_F_KNOWN, RTSLEEP_F_ABSOLUTE);
    assert_eq!(RTSLEEP_CLOCK_MONOTONIC, libc::CLOCK_MONOTONIC as u32);
}

#[test]
fn sleep_requests_decode_to_an_absolute_deadline_or_einval() {
    let args = |deadline_ns, clock, flags| SleepArgs { deadline_ns, clock, flags, remaining_ns: 0 };
    let mono = RTSLEEP_CLOCK_MONOTONIC;
    assert_eq!(absolute_deadline(&args(5, mono, 0), 100), Some(105));
    assert_eq!(absolute_deadline(&args(5, mono, RTSLEEP_F_ABSOLUTE), 100), Some(5));
    assert_eq!(absolute_deadline(&args(u64::MAX, mono, RTSLEEP_F_ABSOLUTE), 1), Some(i64::MAX as u64));
    assert_eq!(absolute_deadline(&args(i64::MAX as u64, mono, 0), 1), None, "relative beyond the clock");
    assert_eq!(absolute_deadline(&args(u64::MAX, mono, 0), 1), None, "relative overflow");
    assert_eq!(absolute_deadline(&args(5, 0, 0), 1), None, "CLOCK_REALTIME");
    assert_eq!(absolute_deadline(&args(5, mono, 1 << 7), 1), None, "unknown flag");
}

#[test]
fn info_requests_of_any_size_from_64_are_recognised() {
    assert_eq!(info_request_size(RTSLEEP_IOC_INFO), Some(64));
    assert_eq!(info_request_size(ior(RTSLEEP_IOC_MAGIC, 2, 200)), Some(200));
    assert_eq!(info_request_size(ior(RTSLEEP_IOC_MAGIC, 2, 63)), None, "smaller than the first layout");
    assert_eq!(info_request_size(RTSLEEP_IOC_SLEEP), None);
    assert_eq!(info_request_size(iowr(RTSLEEP_IOC_MAGIC, 2, 64)), None, "another direction");
    assert_eq!(info_request_size(ior(RTSLEEP_IOC_MAGIC + 1, 2, 64)), None, "another magic");
}
