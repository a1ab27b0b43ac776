//! The Xen 4.17 structures `libxenctrl` takes, declared by hand (no bindgen, no
//! GPL-3.0 `xenctrl-sys`) and layout-tested against `public/domctl.h` and
//! `public/sysctl.h` of 4.17 (DOMCTL and SYSCTL interface version 0x15). Only the
//! members this tool uses are named; the rest is opaque padding of the right size.
//! The `sched=rtcredit` payloads are the ones of the ABI definition,
//! `rtcredit::abi`.

pub use rtcredit::abi::{
    XenDomctlSchedRtcredit, XenSysctlRtcreditSchedule, DOMCTL_KEEP_CAP, DOMCTL_KEEP_RT_ALLOWED, DOMCTL_PRIO_BOOST,
    DOMCTL_PRIO_OVER, DOMCTL_PRIO_RT, DOMCTL_PRIO_UNDER, XEN_SCHEDULER_RTCREDIT,
};

/// `XEN_DOMCTL_INTERFACE_VERSION` of Xen 4.17 (libxc fills it in itself).
pub const XEN_DOMCTL_INTERFACE_VERSION: u32 = 0x15;
/// `XEN_SYSCTL_INTERFACE_VERSION` of Xen 4.17 (libxc fills it in itself).
pub const XEN_SYSCTL_INTERFACE_VERSION: u32 = 0x15;
/// `XEN_DOMCTL_scheduler_op`.
pub const XEN_DOMCTL_SCHEDULER_OP: u32 = 16;
/// `XEN_SYSCTL_scheduler_op`.
pub const XEN_SYSCTL_SCHEDULER_OP: u32 = 19;
/// `XEN_DOMCTL_SCHEDOP_putinfo` and `XEN_SYSCTL_SCHEDOP_putinfo`.
pub const SCHEDOP_PUTINFO: u32 = 0;
/// `XEN_DOMCTL_SCHEDOP_getinfo` and `XEN_SYSCTL_SCHEDOP_getinfo`.
pub const SCHEDOP_GETINFO: u32 = 1;
/// `XEN_DOMINF_dying` in `xen_domctl_getdomaininfo::flags`.
pub const XEN_DOMINF_DYING: u32 = 1 << 0;

/// The name of a `XEN_SCHEDULER_*` id, as `sched=` spells it.
pub const fn scheduler_name(id: u32) -> &'static str {
    match id {
        5 => "credit",
        6 => "credit2",
        7 => "arinc653",
        8 => "rtds",
        9 => "null",
        XEN_SCHEDULER_RTCREDIT => "rtcredit",
        _ => "an unknown scheduler",
    }
}

/// `struct xen_domctl` (144 bytes) as used for `XEN_DOMCTL_scheduler_op`: the
/// header, then `struct xen_domctl_scheduler_op` (`sched_id`, `cmd`, our payload)
/// at the start of the 128-byte union.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct XenDomctl {
    pub cmd: u32,
    pub interface_version: u32,
    pub domain: u16,
    pub pad: [u16; 3],
    pub sched_id: u32,
    pub sched_cmd: u32,
    pub rtcredit: XenDomctlSchedRtcredit,
    pub rest: [u8; 16],
}

impl XenDomctl {
    /// A `XEN_DOMCTL_scheduler_op` for `sched=rtcredit` on domain `domid`.
    pub fn scheduler_op(domid: u16, cmd: u32, payload: XenDomctlSchedRtcredit) -> XenDomctl {
        XenDomctl {
            cmd: XEN_DOMCTL_SCHEDULER_OP,
            interface_version: XEN_DOMCTL_INTERFACE_VERSION,
            domain: domid,
            pad: [0; 3],
            sched_id: XEN_SCHEDULER_RTCREDIT,
            sched_cmd: cmd,
            rtcredit: payload,
            rest: [0; 16],
        }
    }
}

/// `struct xen_sysctl` (136 bytes) as used for `XEN_SYSCTL_scheduler_op`: the header,
/// then `struct xen_sysctl_scheduler_op` (`cpupool_id`, `sched_id`, `cmd`, padding to
/// the 8-byte-aligned union, our payload) in the 128-byte union.
#[repr(C, align(8))]
#[derive(Clone, Copy, Debug)]
pub struct XenSysctl {
    pub cmd: u32,
    pub interface_version: u32,
    pub cpupool_id: u32,
    pub sched_id: u32,
    pub sched_cmd: u32,
    pub pad: u32,
    pub rtcredit: XenSysctlRtcreditSchedule,
    pub rest: [u8; 80],
}

impl XenSysctl {
    /// A `XEN_SYSCTL_scheduler_op` for `sched=rtcredit` on cpupool `pool`.
    pub fn scheduler_op(pool: u32, cmd: u32, payload: XenSysctlRtcreditSchedule) -> XenSysctl {
        XenSysctl {
            cmd: XEN_SYSCTL_SCHEDULER_OP,
            interface_version: XEN_SYSCTL_INTERFACE_VERSION,
            cpupool_id: pool,
            sched_id: XEN_SCHEDULER_RTCREDIT,
            sched_cmd: cmd,
            pad: 0,
            rtcredit: payload,
            rest: [0; 80],
        }
    }
}

/// `struct xen_domctl_getdomaininfo` (`xc_domaininfo_t`, 112 bytes), what
/// `xc_domain_getinfolist` fills, one per domain.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct XenDomainInfo {
    pub domain: u16,
    pub pad1: u16,
    pub flags: u32,
    pub tot_pages: u64,
    pub max_pages: u64,
    pub outstanding_pages: u64,
    pub shr_pages: u64,
    pub paged_pages: u64,
    pub shared_info_frame: u64,
    pub cpu_time: u64,
    pub nr_online_vcpus: u32,
    pub max_vcpu_id: u32,
    pub ssidref: u32,
    pub handle: [u8; 16],
    pub cpupool: u32,
    pub gpaddr_bits: u8,
    pub pad2: [u8; 7],
    /// `struct xen_arch_domainconfig` on x86: `emulation_flags`, `misc_flags`.
    pub arch_config: [u32; 2],
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{align_of, offset_of, size_of};

    /// Sizes and offsets printed by a C program compiled against Xen 4.17.5's
    /// `public/domctl.h` and `public/sysctl.h` (with patches/0001 for our payload).
    #[test]
    fn layouts_match_xen_4_17() {
        assert_eq!((size_of::<XenDomctl>(), align_of::<XenDomctl>()), (144, 8));
        assert_eq!(offset_of!(XenDomctl, domain), 8);
        assert_eq!(offset_of!(XenDomctl, sched_id), 16);
        assert_eq!(offset_of!(XenDomctl, sched_cmd), 20);
        assert_eq!(offset_of!(XenDomctl, rtcredit), 24);
        assert_eq!((size_of::<XenSysctl>(), align_of::<XenSysctl>()), (136, 8));
        assert_eq!(offset_of!(XenSysctl, cpupool_id), 8);
        assert_eq!(offset_of!(XenSysctl, sched_cmd), 16);
        assert_eq!(offset_of!(XenSysctl, rtcredit), 8 + 16);
        assert_eq!((size_of::<XenDomainInfo>(), align_of::<XenDomainInfo>()), (112, 8));
        assert_eq!(offset_of!(XenDomainInfo, flags), 4);
        assert_eq!(offset_of!(XenDomainInfo, shared_info_frame), 48);
        assert_eq!(offset_of!(XenDomainInfo, nr_online_vcpus), 64);
        assert_eq!(offset_of!(XenDomainInfo, handle), 76);
        assert_eq!(offset_of!(XenDomainInfo, cpupool), 92);
        assert_eq!(offset_of!(XenDomainInfo, arch_config), 104);
    }

    #[test]
    fn scheduler_ids_have_their_sched_names() {
        let names: Vec<_> = (5..=10).map(scheduler_name).collect();
        assert_eq!(names, ["credit", "credit2", "arinc653", "rtds", "null", "rtcredit"]);
        assert_eq!(scheduler_name(42), "an unknown scheduler");
    }
}
