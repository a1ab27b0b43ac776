//! Requested changes to a domain's or the scheduler's parameters, their validation
//! (the core's own rules: `rtcredit::DomainParams::validate`, `rtcredit::Params::validate`,
//! with `RtcError::describe` for the ranges) and the one-line diffs `apply` and `dom`
//! print.

use serde::Serialize;

use rtcredit::abi::RtcError;
use rtcredit::{DomainParams, Params};

use crate::backend::DomainId;
use crate::error::{Error, Result};
use crate::xen::{XenDomctlSchedRtcredit, XenSysctlRtcreditSchedule, DOMCTL_KEEP_CAP, DOMCTL_KEEP_RT_ALLOWED};

/// Per-domain parameters to set; `None` leaves a value as it is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DomChange {
    pub weight: Option<u64>,
    pub cap: Option<u64>,
    pub rt_allowed: Option<bool>,
    pub rt_budget_pct: Option<u64>,
    pub rt_rate_per_s: Option<u64>,
}

/// A field of [`DomChange`] or [`GlobalsChange`] with its display name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Weight,
    Cap,
    Rt,
    RtBudget,
    RtRate,
    SliceMs,
    RatelimitUs,
    MinPeriodUs,
    MaxLeadMs,
    RtCapacityPct,
}

impl Field {
    pub const fn name(self) -> &'static str {
        match self {
            Field::Weight => "weight",
            Field::Cap => "cap",
            Field::Rt => "rt",
            Field::RtBudget => "rt_budget_pct",
            Field::RtRate => "rt_rate",
            Field::SliceMs => "slice_ms",
            Field::RatelimitUs => "ratelimit_us",
            Field::MinPeriodUs => "min_period_us",
            Field::MaxLeadMs => "max_lead_ms",
            Field::RtCapacityPct => "rt_capacity_pct",
        }
    }

    const fn of_error(error: RtcError) -> Field {
        match error {
            RtcError::BadWeight => Field::Weight,
            RtcError::BadCap => Field::Cap,
            RtcError::BadRtBudget => Field::RtBudget,
            RtcError::BadRtRate => Field::RtRate,
            RtcError::BadTimeslice => Field::SliceMs,
            RtcError::BadRatelimit => Field::RatelimitUs,
            RtcError::BadMinPeriod => Field::MinPeriodUs,
            RtcError::BadRtCapacity => Field::RtCapacityPct,
            _ => Field::MaxLeadMs,
        }
    }
}

const CAP_RULE: &str =
    "cap must be in 0..=65534 (percent of one CPU, 0 = none; 65535 means \"unchanged\" in the domctl)";

fn out_of_range(field: Field, value: u64, rule: &'static str) -> Error {
    Error::OutOfRange { what: field.name(), value, rule }
}

/// `value` as a u32, or the field's range error (values above u32 are never valid).
fn narrow(field: Field, value: u64, rule: RtcError) -> Result<u32> {
    u32::try_from(value).map_err(|_| out_of_range(field, value, rule.describe()))
}

impl DomChange {
    pub fn is_empty(&self) -> bool {
        *self == DomChange::default()
    }

    /// Checks every given value against the core's rules, each on its own (the domain
    /// rules do not depend on each other).
    pub fn validate(&self) -> Result<()> {
        let base = DomainParams { weight: 256, cap: 0, rt_allowed: false, rt_budget_pct: 10, rt_rate_per_s: 1000 };
        let checks: [(Field, Option<u64>, RtcError); 4] = [
            (Field::Weight, self.weight, RtcError::BadWeight),
            (Field::Cap, self.cap, RtcError::BadCap),
            (Field::RtBudget, self.rt_budget_pct, RtcError::BadRtBudget),
            (Field::RtRate, self.rt_rate_per_s, RtcError::BadRtRate),
        ];
        for (field, value, rule) in checks {
            let Some(value) = value else { continue };
            if field == Field::Cap && value == u64::from(DOMCTL_KEEP_CAP) {
                return Err(out_of_range(field, value, CAP_RULE));
            }
            let v = narrow(field, value, rule)?;
            let mut p = base;
            match field {
                Field::Weight => p.weight = v,
                Field::Cap => p.cap = v,
                Field::RtBudget => p.rt_budget_pct = v,
                _ => p.rt_rate_per_s = v,
            }
            if let Err(error) = p.validate() {
                let rule = if field == Field::Cap { CAP_RULE } else { error.describe() };
                return Err(out_of_range(Field::of_error(error), value, rule));
            }
        }
        Ok(())
    }

    /// The rules that depend on the domain: a cap of at most 100 per VCPU (libxl's rule;
    /// a domain of unknown VCPU count is not checked).
    pub fn check_for(&self, dom: &DomainId) -> Result<()> {
        match self.cap {
            Some(cap) if dom.vcpus != 0 && cap > 100 * u64::from(dom.vcpus) => Err(Error::CapAboveVcpus {
                domain: dom.name.clone(),
                id: dom.id,
                cap,
                vcpus: dom.vcpus,
                max: 100 * u64::from(dom.vcpus),
            }),
            _ => Ok(()),
        }
    }

    /// Only the fields that differ from `current`.
    pub fn against(&self, current: &XenDomctlSchedRtcredit) -> DomChange {
        let differs = |want: Option<u64>, have: u64| want.filter(|want| *want != have);
        DomChange {
            weight: differs(self.weight, current.weight.into()),
            cap: differs(self.cap, current.cap.into()),
            rt_allowed: self.rt_allowed.filter(|want| *want != (current.rt_allowed != 0)),
            rt_budget_pct: differs(self.rt_budget_pct, current.rt_budget_pct.into()),
            rt_rate_per_s: differs(self.rt_rate_per_s, current.rt_rate_per_s.into()),
        }
    }

    /// The putinfo payload: the given fields, "unchanged" for the others. Call
    /// [`DomChange::validate`] first (values are truncated otherwise).
    pub fn to_put(&self) -> XenDomctlSchedRtcredit {
        XenDomctlSchedRtcredit {
            weight: self.weight.map_or(0, |v| v as u16),
            cap: self.cap.map_or(DOMCTL_KEEP_CAP, |v| v as u16),
            rt_allowed: self.rt_allowed.map_or(DOMCTL_KEEP_RT_ALLOWED, u8::from),
            rt_budget_pct: self.rt_budget_pct.map_or(0, |v| v as u16),
            rt_rate_per_s: self.rt_rate_per_s.map_or(0, |v| v as u32),
            ..XenDomctlSchedRtcredit::default()
        }
    }

    /// `weight 256 -> 512, rt deny -> allow` for the fields set, from `current`.
    pub fn describe(&self, current: &XenDomctlSchedRtcredit) -> String {
        let mut parts = Vec::new();
        let mut num = |name: &str, want: Option<u64>, have: u64| {
            if let Some(want) = want {
                parts.push(format!("{name} {have} -> {want}"));
            }
        };
        num("weight", self.weight, current.weight.into());
        num("cap", self.cap, current.cap.into());
        if let Some(want) = self.rt_allowed {
            parts.push(format!("rt {} -> {}", rt_word(current.rt_allowed != 0), rt_word(want)));
        }
        let mut num = |name: &str, want: Option<u64>, have: u64| {
            if let Some(want) = want {
                parts.push(format!("{name} {have} -> {want}"));
            }
        };
        num("rt_budget_pct", self.rt_budget_pct, current.rt_budget_pct.into());
        num("rt_rate", self.rt_rate_per_s, current.rt_rate_per_s.into());
        parts.join(", ")
    }
}

/// `allow` / `deny`, as the CLI and the policy spell RT permission.
pub const fn rt_word(allowed: bool) -> &'static str {
    if allowed {
        "allow"
    } else {
        "deny"
    }
}

/// Global parameters to set; `None` keeps the running value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct GlobalsChange {
    pub slice_ms: Option<u64>,
    pub ratelimit_us: Option<u64>,
    pub min_period_us: Option<u64>,
    pub max_lead_ms: Option<u64>,
    /// The pool's RT capacity, percent of each of its CPUs.
    pub rt_capacity_pct: Option<u64>,
}

impl GlobalsChange {
    pub fn is_empty(&self) -> bool {
        *self == GlobalsChange::default()
    }

    /// `current` with the given fields replaced, checked against the core's rules
    /// (which relate the fields: the rate limit may not exceed the slice, the maximum
    /// lead not go below the minimum).
    pub fn merged(&self, current: &XenSysctlRtcreditSchedule) -> Result<XenSysctlRtcreditSchedule> {
        let pick = |field: Field, want: Option<u64>, have: u32, rule: RtcError| -> Result<u32> {
            want.map_or(Ok(have), |v| narrow(field, v, rule))
        };
        let merged = XenSysctlRtcreditSchedule {
            tslice_ms: pick(Field::SliceMs, self.slice_ms, current.tslice_ms, RtcError::BadTimeslice)?,
            ratelimit_us: pick(Field::RatelimitUs, self.ratelimit_us, current.ratelimit_us, RtcError::BadRatelimit)?,
            rt_min_period_us: pick(
                Field::MinPeriodUs,
                self.min_period_us,
                current.rt_min_period_us,
                RtcError::BadMinPeriod,
            )?,
            rt_max_lead_ms: pick(Field::MaxLeadMs, self.max_lead_ms, current.rt_max_lead_ms, RtcError::BadMaxLead)?,
            rt_capacity_pct: pick(
                Field::RtCapacityPct,
                self.rt_capacity_pct,
                current.rt_capacity_pct,
                RtcError::BadRtCapacity,
            )?,
            ..*current
        };
        if let Err(error) = core_params(&merged).validate() {
            let field = Field::of_error(error);
            let value = match field {
                Field::SliceMs => merged.tslice_ms,
                Field::RatelimitUs => merged.ratelimit_us,
                Field::MinPeriodUs => merged.rt_min_period_us,
                Field::RtCapacityPct => merged.rt_capacity_pct,
                _ => merged.rt_max_lead_ms,
            };
            return Err(out_of_range(field, value.into(), error.describe()));
        }
        Ok(merged)
    }

    /// `slice_ms 30 -> 20, ...` for the fields that differ between two settings.
    pub fn describe(from: &XenSysctlRtcreditSchedule, to: &XenSysctlRtcreditSchedule) -> String {
        [
            ("slice_ms", from.tslice_ms, to.tslice_ms),
            ("ratelimit_us", from.ratelimit_us, to.ratelimit_us),
            ("min_period_us", from.rt_min_period_us, to.rt_min_period_us),
            ("max_lead_ms", from.rt_max_lead_ms, to.rt_max_lead_ms),
            ("rt_capacity_pct", from.rt_capacity_pct, to.rt_capacity_pct),
        ]
        .iter()
        .filter(|(_, a, b)| a != b)
        .map(|(name, a, b)| format!("{name} {a} -> {b}"))
        .collect::<Vec<_>>()
        .join(", ")
    }
}

/// The core's `Params` for a sysctl payload (the window and charge mode are not part of
/// the sysctl; their defaults are what Xen uses). The pool's output fields are ignored.
pub fn core_params(g: &XenSysctlRtcreditSchedule) -> Params {
    // The core's reading of the payload, as Xen's shim uses it.
    Params::default().with_sysctl(g)
}

/// The values Xen starts with when no boot parameter changes them.
pub fn default_globals() -> XenSysctlRtcreditSchedule {
    let p = Params::default();
    XenSysctlRtcreditSchedule {
        tslice_ms: (p.tslice_ns / 1_000_000) as u32,
        ratelimit_us: (p.ratelimit_ns / 1_000) as u32,
        rt_min_period_us: (p.rt_min_period_ns / 1_000) as u32,
        rt_max_lead_ms: (p.rt_max_lead_ns / 1_000_000) as u32,
        rt_capacity_pct: p.rt_capacity_pct,
        ..XenSysctlRtcreditSchedule::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dom() -> XenDomctlSchedRtcredit {
        crate::fake::new_domain_sched()
    }

    #[test]
    fn each_domain_range_is_reported_with_its_rule() {
        let cases: [(DomChange, &str, &str); 6] = [
            (DomChange { weight: Some(0), ..Default::default() }, "weight", "1..=65535"),
            (DomChange { weight: Some(70_000), ..Default::default() }, "weight", "1..=65535"),
            (DomChange { cap: Some(65_535), ..Default::default() }, "cap", "0..=65534"),
            (DomChange { rt_budget_pct: Some(0), ..Default::default() }, "rt_budget_pct", "1..=100"),
            (DomChange { rt_budget_pct: Some(101), ..Default::default() }, "rt_budget_pct", "1..=100"),
            (DomChange { rt_rate_per_s: Some(100_001), ..Default::default() }, "rt_rate", "1..=100000"),
        ];
        for (change, field, range) in cases {
            let text = change.validate().expect_err(field).to_string();
            assert!(text.starts_with(&format!("{field} = ")), "{text}");
            assert!(text.contains(range), "{text}");
        }
        assert!(DomChange {
            weight: Some(1),
            cap: Some(65_534),
            rt_allowed: Some(true),
            rt_budget_pct: Some(100),
            rt_rate_per_s: Some(1)
        }
        .validate()
        .is_ok());
    }

    #[test]
    fn the_put_payload_keeps_what_is_not_given() {
        let put = DomChange { rt_allowed: Some(true), ..Default::default() }.to_put();
        assert_eq!((put.weight, put.cap, put.rt_allowed, put.rt_budget_pct, put.rt_rate_per_s), (0, 0xffff, 1, 0, 0));
        let put = DomChange { weight: Some(512), cap: Some(0), rt_allowed: Some(false), ..Default::default() }.to_put();
        assert_eq!((put.weight, put.cap, put.rt_allowed), (512, 0, 0));
    }

    #[test]
    fn against_keeps_only_differences_and_describe_says_them() {
        let want = DomChange { weight: Some(256), cap: Some(50), rt_allowed: Some(true), ..Default::default() };
        let diff = want.against(&dom());
        assert_eq!(diff, DomChange { cap: Some(50), rt_allowed: Some(true), ..Default::default() });
        assert_eq!(diff.describe(&dom()), "cap 0 -> 50, rt deny -> allow");
        assert!(want.against(&XenDomctlSchedRtcredit { cap: 50, rt_allowed: 1, ..dom() }).is_empty());
    }

    #[test]
    fn globals_are_merged_and_checked_together() {
        let now = default_globals();
        assert_eq!(
            (now.tslice_ms, now.ratelimit_us, now.rt_min_period_us, now.rt_max_lead_ms),
            (30, 1000, 1000, 10_000)
        );
        let merged = GlobalsChange { slice_ms: Some(20), ..Default::default() }.merged(&now).unwrap();
        assert_eq!(GlobalsChange::describe(&now, &merged), "slice_ms 30 -> 20");
        let error = GlobalsChange { slice_ms: Some(0), ..Default::default() }.merged(&now).unwrap_err().to_string();
        assert!(error.contains("slice_ms = 0") && error.contains("1..=1000"), "{error}");
        // A rate limit longer than a (shortened) slice is the rate limit's fault.
        let error = GlobalsChange { slice_ms: Some(1), ratelimit_us: Some(2000), ..Default::default() }
            .merged(&now)
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("ratelimit_us = 2000"), "{error}");
        let error =
            GlobalsChange { min_period_us: Some(50), ..Default::default() }.merged(&now).unwrap_err().to_string();
        assert!(error.contains("100us..=1s"), "{error}");
        let error =
            GlobalsChange { max_lead_ms: Some(70_000), ..Default::default() }.merged(&now).unwrap_err().to_string();
        assert!(error.starts_with("max_lead_ms = 70000"), "{error}");
        let error =
            GlobalsChange { slice_ms: Some(1 << 40), ..Default::default() }.merged(&now).unwrap_err().to_string();
        assert!(error.starts_with("slice_ms = 1099511627776"), "{error}");
        let error =
            GlobalsChange { rt_capacity_pct: Some(101), ..Default::default() }.merged(&now).unwrap_err().to_string();
        assert!(error.starts_with("rt_capacity_pct = 101") && error.contains("0..=100 percent of each CPU"), "{error}");
        let merged = GlobalsChange { rt_capacity_pct: Some(75), ..Default::default() }.merged(&now).unwrap();
        assert_eq!(GlobalsChange::describe(&now, &merged), "rt_capacity_pct 50 -> 75");
    }
}
