//! The C API's own struct (the device ABI's layouts are fixed by `rtcredit-abi`'s tests).

use crate::capi::RtsleepInfo;
use core::mem::offset_of;
use core::mem::size_of;

#[test]
fn c_info_layout_is_fixed() {
    assert_eq!(size_of::<RtsleepInfo>(), 80);
    assert_eq!(offset_of!(RtsleepInfo, backend), 0);
    assert_eq!(offset_of!(RtsleepInfo, fallback_reason), 4);
    assert_eq!(offset_of!(RtsleepInfo, fallback_errno), 8);
    assert_eq!(offset_of!(RtsleepInfo, device_present), 12);
    assert_eq!(offset_of!(RtsleepInfo, device), 16);
}
