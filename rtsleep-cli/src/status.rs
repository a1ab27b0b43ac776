//! `rtsleep status`: what an administrator needs to know about RT in this guest.
//!
//! Reads, without changing anything: whether the device node exists and answers
//! (`$RTSLEEP_DEVICE` or `/dev/rtsleep`), what `/sys/hypervisor/type` says, what the
//! device says about RT (accepted, or why not) and its counters, and which backend the
//! library would choose, with the reason.

use crate::CliError;
use rtsleep::abi;
use rtsleep::{Backend, Device, Sleeper};
use serde::Serialize;
use std::io::Write;

/// Where Linux says which hypervisor it runs on (`xen` on Xen).
const HYPERVISOR_TYPE: &str = "/sys/hypervisor/type";

#[derive(Debug, Serialize)]
struct Status {
    device_path: String,
    /// `present`, `absent` or `unusable`.
    device: &'static str,
    /// Why the device is unusable, when it is.
    device_error: Option<String>,
    /// Contents of /sys/hypervisor/type, if the file exists.
    hypervisor: Option<String>,
    /// `device` or `fallback`: what `Sleeper::open()` would use.
    backend: &'static str,
    fallback_reason: Option<String>,
    rt: Option<DeviceStatus>,
}

#[derive(Debug, Serialize)]
struct DeviceStatus {
    version: u32,
    on_xen: bool,
    rt_state: &'static str,
    last_result: i32,
    min_lead_ns: u64,
    max_lead_ns: u64,
    requests: u64,
    rt_accepted: u64,
    fell_back: u64,
    interrupted: u64,
    /// From `RTSLEEP_IOC_INFO_EXT`; absent with an older module.
    registrations: Option<Registrations>,
}

/// How the module shared each VCPU's single Xen deadline between its sleepers.
#[derive(Debug, Serialize)]
struct Registrations {
    hypercalls: u64,
    deferred: u64,
    replaced: u64,
    reregistered: u64,
    cancels: u64,
}

fn rt_state_name(state: u32) -> &'static str {
    match state {
        abi::RTSLEEP_RT_UNKNOWN => "unknown (no RT request yet)",
        abi::RTSLEEP_RT_ACCEPTED => "accepted",
        abi::RTSLEEP_RT_NOT_XEN => "unavailable: not running on Xen",
        abi::RTSLEEP_RT_EOPNOTSUPP => "unavailable: Xen does not run the rtcredit scheduler (boot with sched=rtcredit)",
        abi::RTSLEEP_RT_EPERM => "refused: dom0 has not allowed this domain RT",
        _ => "unknown state (newer guest module?)",
    }
}

pub fn status(json: bool) -> Result<(), CliError> {
    let path = rtsleep::device::default_path();
    let (device, device_error, rt) = match Device::open(&path) {
        Ok(dev) => match dev.info() {
            Ok(info) => (
                "present",
                None,
                Some(DeviceStatus {
                    version: info.version,
                    on_xen: info.on_xen != 0,
                    rt_state: rt_state_name(info.rt_state),
                    last_result: info.last_result,
                    min_lead_ns: info.min_lead_ns,
                    max_lead_ns: info.max_lead_ns,
                    requests: info.requests,
                    rt_accepted: info.rt_accepted,
                    fell_back: info.fell_back,
                    interrupted: info.interrupted,
                    registrations: dev.info_ext().ok().flatten().map(|ext| Registrations {
                        hypercalls: ext.hypercalls,
                        deferred: ext.rt_deferred,
                        replaced: ext.rt_replaced,
                        reregistered: ext.rt_reregistered,
                        cancels: ext.rt_cancels,
                    }),
                }),
            ),
            Err(err) => ("unusable", Some(err.to_string()), None),
        },
        Err(rtsleep::Error::DeviceOpen { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            ("absent", None, None)
        }
        Err(err) => ("unusable", Some(err.to_string()), None),
    };
    let hypervisor = std::fs::read_to_string(HYPERVISOR_TYPE).ok().map(|t| t.trim().to_string());
    let info = Sleeper::open_path(path.clone()).info();
    let status = Status {
        device_path: path.display().to_string(),
        device,
        device_error,
        hypervisor,
        backend: match info.backend {
            Backend::Device => "device",
            Backend::Fallback => "fallback",
        },
        fallback_reason: info.fallback_reason.map(|r| r.to_string()),
        rt,
    };
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &status)?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(out, "device:     {} ({})", status.device_path, status.device)?;
    if let Some(err) = &status.device_error {
        writeln!(out, "            {err}")?;
    }
    writeln!(out, "hypervisor: {}", status.hypervisor.as_deref().unwrap_or("none (no /sys/hypervisor/type)"))?;
    match &status.fallback_reason {
        None => writeln!(out, "sleeps:     through the device")?,
        Some(reason) => writeln!(out, "sleeps:     clock_nanosleep fallback, because {reason}")?,
    }
    if let Some(rt) = &status.rt {
        writeln!(out, "RT:         {} (last hypercall result {})", rt.rt_state, rt.last_result)?;
        writeln!(out, "on Xen:     {}", if rt.on_xen { "yes" } else { "no" })?;
        writeln!(out, "lead:       {} ns ..= {} ns", rt.min_lead_ns, rt.max_lead_ns)?;
        writeln!(
            out,
            "counters:   requests {} rt_accepted {} fell_back {} interrupted {}",
            rt.requests, rt.rt_accepted, rt.fell_back, rt.interrupted
        )?;
        if let Some(reg) = &rt.registrations {
            writeln!(
                out,
                "per VCPU:   hypercalls {} deferred {} replaced {} reregistered {} cancels {}",
                reg.hypercalls, reg.deferred, reg.replaced, reg.reregistered, reg.cancels
            )?;
        }
    }
    Ok(())
}
