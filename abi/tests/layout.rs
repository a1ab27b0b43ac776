//! Layouts and numbers of every wire ABI. A change here is an ABI break: for the ioctl,
//! bump `RTSLEEP_ABI_VERSION` and update the guest module in the same change; for the
//! hypercall and the payloads, the Xen patch's public headers too.

use core::mem::{align_of, offset_of, size_of};

mod ioctl {
    use super::*;
    use rtcredit_abi::ioctl::*;

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
        let states =
            [RTSLEEP_RT_UNKNOWN, RTSLEEP_RT_ACCEPTED, RTSLEEP_RT_NOT_XEN, RTSLEEP_RT_EOPNOTSUPP, RTSLEEP_RT_EPERM];
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
}

mod hypercall {
    use super::*;
    use rtcredit_abi::hypercall::*;

    #[test]
    fn sched_rtsleep_layout_is_fixed() {
        assert_eq!(size_of::<SchedRtsleep>(), 16);
        assert_eq!(align_of::<SchedRtsleep>(), 8);
        assert_eq!(offset_of!(SchedRtsleep, deadline_ns), 0);
        assert_eq!(offset_of!(SchedRtsleep, flags), 8);
        assert_eq!(offset_of!(SchedRtsleep, pad), 12);
    }

    #[test]
    fn results_flags_and_admission_defaults_are_the_documented_ones() {
        assert_eq!(SCHEDOP_RTSLEEP, 8, "SCHEDOP 0..=7 are Xen's own in 4.17");
        assert_eq!((RTSLEEP_GRANTED, RTSLEEP_DEGRADED, RTSLEEP_CANCELLED), (0, 1, 2));
        assert_eq!((RTSLEEP_FLAG_CANCEL, RTSLEEP_FLAGS_KNOWN), (1, 1));
        assert_eq!(
            (DEFAULT_MIN_PERIOD_NS, MIN_PERIOD_FLOOR_NS, DEFAULT_MAX_LEAD_NS),
            (1_000_000, 100_000, 10_000_000_000)
        );
    }

    #[test]
    fn errnos_are_linuxs() {
        // Xen's public/errno.h uses Linux's x86 numbers for these.
        let ours = [
            errno::EPERM,
            errno::EAGAIN,
            errno::EBUSY,
            errno::EINVAL,
            errno::ENOSPC,
            errno::ERANGE,
            errno::ENOSYS,
            errno::ETIME,
            errno::EOPNOTSUPP,
        ];
        let linux = [
            libc::EPERM,
            libc::EAGAIN,
            libc::EBUSY,
            libc::EINVAL,
            libc::ENOSPC,
            libc::ERANGE,
            libc::ENOSYS,
            libc::ETIME,
            libc::EOPNOTSUPP,
        ];
        assert_eq!(ours, linux);
    }
}

mod control {
    use super::*;
    use rtcredit_abi::control::*;

    #[test]
    fn domctl_and_sysctl_payload_layouts_are_fixed() {
        type D = XenDomctlSchedRtcredit;
        assert_eq!((size_of::<D>(), align_of::<D>()), (104, 8));
        let offsets = [
            offset_of!(D, weight),
            offset_of!(D, cap),
            offset_of!(D, rt_allowed),
            offset_of!(D, pad),
            offset_of!(D, rt_budget_pct),
            offset_of!(D, rt_rate_per_s),
            offset_of!(D, pad2),
            offset_of!(D, prio_ns),
            offset_of!(D, rt_counters.rt_requests),
            offset_of!(D, rt_counters.rt_granted),
            offset_of!(D, rt_counters.rt_degraded),
            offset_of!(D, rt_counters.rt_denied),
            offset_of!(D, rt_counters.rt_fires),
            offset_of!(D, rt_counters.rt_demotions),
            offset_of!(D, rt_pool_capacity_pct),
            offset_of!(D, rt_pool_granted_pct),
        ];
        assert_eq!(offsets, [0, 2, 4, 5, 6, 8, 12, 16, 48, 56, 64, 72, 80, 88, 96, 100]);
        type S = XenSysctlRtcreditSchedule;
        assert_eq!((size_of::<S>(), align_of::<S>()), (32, 4));
        assert_eq!(
            [
                offset_of!(S, tslice_ms),
                offset_of!(S, ratelimit_us),
                offset_of!(S, rt_min_period_us),
                offset_of!(S, rt_max_lead_ms),
                offset_of!(S, rt_capacity_pct),
                offset_of!(S, rt_pool_cpus),
                offset_of!(S, rt_pool_capacity_pct),
                offset_of!(S, rt_pool_granted_pct),
            ],
            [0, 4, 8, 12, 16, 20, 24, 28]
        );
        // The domctl payload must fit Xen's scheduler_op union inside xen_domctl's
        // 128-byte union: 8 bytes of sched_id/cmd, then the payload.
        assert!(8 + size_of::<D>() <= 128);
        assert_eq!(XEN_SCHEDULER_RTCREDIT, 10, "5..=9 are Xen's own in 4.17");
        assert_eq!((size_of::<RtCounters>(), align_of::<RtCounters>()), (48, 8));
    }
}

mod trace {
    use rtcredit_abi::trace::*;

    #[test]
    fn ids_follow_xens_class_encoding() {
        // TRC_SCHED_CLASS_EVT(6, 1) in Xen's public/trace.h.
        assert_eq!(trace_event_id(RT_GRANT), 0x0002_2c01);
        assert_eq!(trace_event_id(0x1ff) & !0x1ff, 0x0002_2c00);
        assert_eq!(our_event_number(0x0002_2c0e), Some(IDLE));
        // Credit's TRC_CSCHED_* (scheduler index 0) and credit2's (1) are not ours.
        assert_eq!(our_event_number(0x0002_2001), None);
        assert_eq!(our_event_number(0x0002_2201), None);
    }

    /// One event of each kind, with every word distinct so that a swapped word shows.
    fn one_of_each() -> [Event; 14] {
        [
            Event::RtGrant { dom: 1, unit: 2, deadline_ns: 0x1234_5678_9abc_def0 },
            Event::RtDeny { dom: 3, unit: 4, error_code: 5, untraced: 6 },
            Event::RtDegrade { dom: 7, unit: 8, reason: DegradeReason::Capped as u32 },
            Event::RtFire { dom: 9, unit: 10, state: FireState::Running as u32, late_ns: 11 },
            Event::RtDemote { dom: 12, unit: 13, reason: EndReason::Limit as u32 },
            Event::SwitchIn { dom: 14, unit: 15, prio: 2, cpu: 16 },
            Event::Boost { dom: 17, unit: 18 },
            Event::PrioChange { dom: 19, unit: 20, old_prio: 0, new_prio: 3 },
            Event::Park { dom: 21, unit: 22, credit: -300 },
            Event::Unpark { dom: 23, unit: 24, credit: 5 },
            Event::Account { active_domains: 25, total_weight: 26, credit_balance: -27, now_ns: 0x0000_0001_0000_0002 },
            Event::Tickle { cpu: 28, from_cpu: 29 },
            Event::Steal { from_cpu: 30, to_cpu: 31, dom: 32, unit: 33 },
            Event::Idle { cpu: 34 },
        ]
    }

    #[test]
    fn every_event_decodes_to_what_was_encoded() {
        for event in one_of_each() {
            let encoded = event.encode();
            assert_eq!(encoded.event, event.number());
            assert!(encoded.words().len() <= MAX_WORDS);
            assert_eq!(Event::decode(encoded.event, encoded.words()), Ok(event), "{event:?}");
        }
        let numbers: Vec<u32> = one_of_each().iter().map(Event::number).collect();
        assert_eq!(numbers, (1..=14).collect::<Vec<u32>>(), "each event number once");
    }

    #[test]
    fn the_words_are_in_the_documented_order() {
        let grant = Event::RtGrant { dom: 1, unit: 2, deadline_ns: 0x1234_5678_9abc_def0 }.encode();
        assert_eq!(grant.words(), [1, 2, 0x9abc_def0, 0x1234_5678], "deadline low word first");
        let account =
            Event::Account { active_domains: 3, total_weight: 768, credit_balance: -1, now_ns: 5 << 32 | 7 }.encode();
        assert_eq!(account.words(), [3, 768, u32::MAX, 7, 5]);
        let steal = Event::Steal { from_cpu: 1, to_cpu: 0, dom: 4, unit: 2 }.encode();
        assert_eq!(steal.words(), [1, 0, 4, 2]);
        assert_eq!(Event::Park { dom: 1, unit: 0, credit: -2 }.encode().words(), [1, 0, (-2i32) as u32]);
    }

    #[test]
    fn short_unknown_and_longer_records_decode_as_documented() {
        for event in one_of_each() {
            let encoded = event.encode();
            let words = encoded.words();
            let shortest = if event.number() == RT_DENY { words.len() - 1 } else { words.len() };
            let short = &words[..shortest - 1];
            assert_eq!(
                Event::decode(encoded.event, short),
                Err(DecodeError::TooFewWords { event: encoded.event, needed: shortest, got: short.len() })
            );
            // A newer core may append words: they are ignored.
            let mut longer = words.to_vec();
            longer.push(0xdead);
            assert_eq!(Event::decode(encoded.event, &longer), Ok(event));
        }
        // Older cores wrote RT_DENY without the untraced count.
        assert_eq!(
            Event::decode(RT_DENY, &[1, 2, 3]),
            Ok(Event::RtDeny { dom: 1, unit: 2, error_code: 3, untraced: 0 })
        );
        assert_eq!(Event::decode(0, &[]), Err(DecodeError::UnknownEvent(0)));
        assert_eq!(Event::decode(15, &[1, 2, 3, 4]), Err(DecodeError::UnknownEvent(15)));
    }

    #[test]
    fn the_vcpu_is_named_where_the_event_has_one() {
        let named: Vec<bool> = one_of_each().iter().map(|e| e.vcpu().is_some()).collect();
        let expected = [true, true, true, true, true, true, true, true, true, true, false, false, true, false];
        assert_eq!(named, expected);
        assert_eq!(Event::Steal { from_cpu: 1, to_cpu: 0, dom: 4, unit: 2 }.vcpu(), Some((4, 2)));
    }
}
