//! The core's `SCHEDOP_rtsleep` path through the safe host (`rtcredit::host`), driven
//! the way the Xen shim drives it: random hypercall arguments (deadline, flags, pad),
//! random forward steps of time, fires, schedules and ticks on two CPUs with two
//! RT-allowed domains. No panic, and every refusal is one of the errors
//! `SCHEDOP_rtsleep` documents.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rtcredit::host::Host;
use rtcredit::{DomainParams, Params, RtcError, SchedRtsleep};

fuzz_target!(|ops: Vec<(u8, u64, u32, u32, u32)>| {
    let Ok(mut host) = Host::new(Params::default(), 2, false) else { return };
    let params = DomainParams { weight: 256, cap: 0, rt_allowed: true, rt_budget_pct: 10, rt_rate_per_s: 1000 };
    let mut units = Vec::new();
    for domid in 1..=2 {
        let dom = host.add_domain(domid);
        host.set_domain_params(dom, &params).expect("valid parameters");
        for cpu in 0..2 {
            units.push(host.add_unit(dom, cpu, true, 0).expect("a unit").0);
        }
    }
    let mut now = 0u64;
    for (op, value, flags, pad, pick) in ops.into_iter().take(256) {
        let unit = units[pick as usize % units.len()];
        let cpu = pick % 2;
        match op % 6 {
            0 | 1 => {
                let args = SchedRtsleep { deadline_ns: value, flags, pad };
                match host.rtsleep(unit, &args, now) {
                    Ok(_) => {}
                    Err(error) => assert!(
                        matches!(
                            error,
                            RtcError::BadPadding
                                | RtcError::UnknownFlags
                                | RtcError::NotPermitted
                                | RtcError::PeriodTooShort
                                | RtcError::DeadlineTooFar
                                | RtcError::NotRunning
                                | RtcError::DeadlineDue
                        ),
                        "{error:?}"
                    ),
                }
            }
            2 => now = now.saturating_add(value % 50_000_000),
            3 => {
                let _ = host.rt_fire(unit, now);
            }
            4 => {
                let _ = host.schedule(cpu, now, false);
            }
            _ => {
                let _ = host.tick(cpu, now);
                if value % 8 == 0 {
                    let _ = host.account(now);
                }
            }
        }
    }
});
