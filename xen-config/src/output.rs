//! Aligned tables like `xl`'s, and JSON.

use rtcredit_abi::control::RtCounters;
use serde::Serialize;

use crate::backend::{DomainId, PoolId};
use crate::params::rt_word;
use crate::xen::{
    XenDomctlSchedRtcredit, XenSysctlRtcreditSchedule, DOMCTL_PRIO_BOOST, DOMCTL_PRIO_OVER, DOMCTL_PRIO_RT,
    DOMCTL_PRIO_UNDER,
};

/// Columns left-aligned (first) or right-aligned (the rest), two spaces apart, no
/// trailing blanks.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let mut out = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i == 0 {
                out.push_str(&format!("{cell:<w$}"));
            } else {
                out.push_str(&format!("  {cell:>w$}"));
            }
        }
        out.trim_end().to_string() + "\n"
    };
    let mut out = line(header.iter().map(|h| h.to_string()).collect());
    for row in rows {
        out.push_str(&line(row.clone()));
    }
    out
}

fn seconds(ns: u64) -> String {
    format!("{}.{:03}", ns / 1_000_000_000, ns % 1_000_000_000 / 1_000_000)
}

/// `rtcredit-ctl dom`.
pub fn dom_table(rows: &[(DomainId, XenDomctlSchedRtcredit)]) -> String {
    let header = [
        "Name", "ID", "Weight", "Cap", "RT", "Budget%", "Rate/s", "RT(s)", "BOOST(s)", "UNDER(s)", "OVER(s)",
        "Requests", "Granted", "Degraded", "Denied", "Fires",
    ];
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|(dom, s)| {
            vec![
                dom.name.clone(),
                dom.id.to_string(),
                s.weight.to_string(),
                s.cap.to_string(),
                rt_word(s.rt_allowed != 0).to_string(),
                s.rt_budget_pct.to_string(),
                s.rt_rate_per_s.to_string(),
                seconds(s.prio_ns[DOMCTL_PRIO_RT]),
                seconds(s.prio_ns[DOMCTL_PRIO_BOOST]),
                seconds(s.prio_ns[DOMCTL_PRIO_UNDER]),
                seconds(s.prio_ns[DOMCTL_PRIO_OVER]),
                s.rt_counters.rt_requests.to_string(),
                s.rt_counters.rt_granted.to_string(),
                s.rt_counters.rt_degraded.to_string(),
                s.rt_counters.rt_denied.to_string(),
                s.rt_counters.rt_fires.to_string(),
            ]
        })
        .collect();
    table(&header, &rows)
}

#[derive(Serialize)]
struct TimeNs {
    rt: u64,
    boost: u64,
    under: u64,
    over: u64,
}

#[derive(Serialize)]
struct DomJson<'a> {
    name: &'a str,
    id: u32,
    weight: u16,
    cap: u16,
    rt_allowed: bool,
    rt_budget_pct: u16,
    rt_rate_per_s: u32,
    time_ns: TimeNs,
    #[serde(flatten)]
    rt: RtCounters,
}

/// `rtcredit-ctl dom --json`: an array, one object per domain.
pub fn dom_json(rows: &[(DomainId, XenDomctlSchedRtcredit)]) -> String {
    let items: Vec<DomJson> = rows
        .iter()
        .map(|(dom, s)| DomJson {
            name: &dom.name,
            id: dom.id,
            weight: s.weight,
            cap: s.cap,
            rt_allowed: s.rt_allowed != 0,
            rt_budget_pct: s.rt_budget_pct,
            rt_rate_per_s: s.rt_rate_per_s,
            time_ns: TimeNs {
                rt: s.prio_ns[DOMCTL_PRIO_RT],
                boost: s.prio_ns[DOMCTL_PRIO_BOOST],
                under: s.prio_ns[DOMCTL_PRIO_UNDER],
                over: s.prio_ns[DOMCTL_PRIO_OVER],
            },
            rt: s.rt_counters,
        })
        .collect();
    serde_json::to_string_pretty(&items).unwrap_or_default() + "\n"
}

#[derive(Serialize)]
struct SchedJson<'a> {
    scheduler: &'static str,
    cpupool: u32,
    cpupool_name: &'a str,
    slice_ms: u32,
    ratelimit_us: u32,
    min_period_us: u32,
    max_lead_ms: u32,
    /// Percent of each CPU of the pool.
    rt_capacity_pct: u32,
    pool_cpus: u32,
    /// The rest in percent of one CPU.
    rt_pool_capacity_pct: u32,
    rt_granted_pct: u32,
    rt_remaining_pct: u32,
}

/// `rtcredit-ctl sched`.
pub fn sched_table(pool: &PoolId, g: &XenSysctlRtcreditSchedule) -> String {
    table(
        &[
            "Cpupool",
            "Scheduler",
            "Slice(ms)",
            "Ratelimit(us)",
            "MinPeriod(us)",
            "MaxLead(ms)",
            "RtCap(%/cpu)",
            "CPUs",
            "RtCapacity(%)",
            "RtGranted(%)",
            "RtLeft(%)",
        ],
        &[vec![
            pool.name.clone(),
            "rtcredit".to_string(),
            g.tslice_ms.to_string(),
            g.ratelimit_us.to_string(),
            g.rt_min_period_us.to_string(),
            g.rt_max_lead_ms.to_string(),
            g.rt_capacity_pct.to_string(),
            g.rt_pool_cpus.to_string(),
            g.rt_pool_capacity_pct.to_string(),
            g.rt_pool_granted_pct.to_string(),
            g.rt_pool_capacity_pct.saturating_sub(g.rt_pool_granted_pct).to_string(),
        ]],
    )
}

/// `rtcredit-ctl sched --json`.
pub fn sched_json(pool: &PoolId, g: &XenSysctlRtcreditSchedule) -> String {
    let value = SchedJson {
        scheduler: "rtcredit",
        cpupool: pool.id,
        cpupool_name: &pool.name,
        slice_ms: g.tslice_ms,
        ratelimit_us: g.ratelimit_us,
        min_period_us: g.rt_min_period_us,
        max_lead_ms: g.rt_max_lead_ms,
        rt_capacity_pct: g.rt_capacity_pct,
        pool_cpus: g.rt_pool_cpus,
        rt_pool_capacity_pct: g.rt_pool_capacity_pct,
        rt_granted_pct: g.rt_pool_granted_pct,
        rt_remaining_pct: g.rt_pool_capacity_pct.saturating_sub(g.rt_pool_granted_pct),
    };
    serde_json::to_string_pretty(&value).unwrap_or_default() + "\n"
}
