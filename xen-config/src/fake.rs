//! An in-memory [`Backend`] that behaves like the shim's domctl and sysctl handlers
//! (`hypervisor/xen/src/sched_rtcredit.c`): "unchanged" sentinels, `-EINVAL` for a
//! value the core refuses or for non-zero padding. For tests of everything above the
//! backend without Xen.

use std::collections::VecDeque;
use std::io;
use std::time::Duration;

use rtcredit::DomainParams;

use crate::backend::{Backend, DomainId};
use crate::error::{Error, Result};
use crate::params::{core_params, default_globals};
use crate::xen::{
    XenDomctlSchedRtcredit, XenSysctlRtcreditSchedule, DOMCTL_KEEP_CAP, DOMCTL_KEEP_RT_ALLOWED, XEN_SCHEDULER_RTCREDIT,
};

/// A host with some domains. Fields are public so tests can arrange and inspect.
#[derive(Clone, Debug)]
pub struct FakeBackend {
    pub sched_id: u32,
    pub globals: XenSysctlRtcreditSchedule,
    pub domains: Vec<(DomainId, XenDomctlSchedRtcredit)>,
    /// Domains that appear, one per [`Backend::wait_for_domains`] call; when empty,
    /// waiting ends with [`Error::WatchEnded`].
    pub arriving: VecDeque<DomainId>,
    /// Every putinfo, as `dom ID` / `globals`, in order.
    pub puts: Vec<String>,
}

/// What the shim gives a new domain.
pub fn new_domain_sched() -> XenDomctlSchedRtcredit {
    XenDomctlSchedRtcredit {
        weight: 256,
        cap: 0,
        rt_allowed: 0,
        rt_budget_pct: 10,
        rt_rate_per_s: 1000,
        ..Default::default()
    }
}

fn einval(op: &str) -> Error {
    Error::Hypercall { op: op.to_string(), source: io::Error::from_raw_os_error(libc::EINVAL) }
}

impl FakeBackend {
    /// A `sched=rtcredit` host with the named domains (ids 0, 1, ...), all new.
    pub fn with_domains(names: &[&str]) -> FakeBackend {
        FakeBackend {
            sched_id: XEN_SCHEDULER_RTCREDIT,
            globals: default_globals(),
            domains: names
                .iter()
                .enumerate()
                .map(|(id, name)| (DomainId { id: id as u32, name: name.to_string() }, new_domain_sched()))
                .collect(),
            arriving: VecDeque::new(),
            puts: Vec::new(),
        }
    }

    fn dom_mut(&mut self, id: u32) -> Result<&mut XenDomctlSchedRtcredit> {
        self.domains
            .iter_mut()
            .find(|(dom, _)| dom.id == id)
            .map(|(_, sched)| sched)
            .ok_or_else(|| Error::UnknownDomain(id.to_string()))
    }
}

impl Backend for FakeBackend {
    fn sched_id(&mut self) -> Result<u32> {
        Ok(self.sched_id)
    }

    fn domains(&mut self) -> Result<Vec<DomainId>> {
        Ok(self.domains.iter().map(|(dom, _)| dom.clone()).collect())
    }

    fn get_dom(&mut self, id: u32) -> Result<XenDomctlSchedRtcredit> {
        self.dom_mut(id).copied()
    }

    fn put_dom(&mut self, id: u32, put: &XenDomctlSchedRtcredit) -> Result<XenDomctlSchedRtcredit> {
        let op = "XEN_DOMCTL_scheduler_op putinfo";
        let current = *self.dom_mut(id)?;
        let mut params = DomainParams {
            weight: current.weight.into(),
            cap: current.cap.into(),
            rt_allowed: current.rt_allowed != 0,
            rt_budget_pct: current.rt_budget_pct.into(),
            rt_rate_per_s: current.rt_rate_per_s,
        };
        if put.weight != 0 {
            params.weight = put.weight.into();
        }
        if put.cap != DOMCTL_KEEP_CAP {
            params.cap = put.cap.into();
        }
        if put.rt_allowed != DOMCTL_KEEP_RT_ALLOWED {
            if put.rt_allowed > 1 {
                return Err(einval(op));
            }
            params.rt_allowed = put.rt_allowed == 1;
        }
        if put.rt_budget_pct != 0 {
            params.rt_budget_pct = put.rt_budget_pct.into();
        }
        if put.rt_rate_per_s != 0 {
            params.rt_rate_per_s = put.rt_rate_per_s;
        }
        if put.pad != 0 || put.pad2 != 0 || params.validate().is_err() {
            return Err(einval(op));
        }
        self.puts.push(format!("dom {id}"));
        let sched = self.dom_mut(id)?;
        sched.weight = params.weight as u16;
        sched.cap = params.cap as u16;
        sched.rt_allowed = params.rt_allowed.into();
        sched.rt_budget_pct = params.rt_budget_pct as u16;
        sched.rt_rate_per_s = params.rt_rate_per_s;
        Ok(*sched)
    }

    fn get_globals(&mut self) -> Result<XenSysctlRtcreditSchedule> {
        Ok(self.globals)
    }

    fn put_globals(&mut self, put: &XenSysctlRtcreditSchedule) -> Result<XenSysctlRtcreditSchedule> {
        if core_params(put).validate().is_err() {
            return Err(einval("XEN_SYSCTL_scheduler_op putinfo"));
        }
        self.puts.push("globals".to_string());
        self.globals = *put;
        Ok(self.globals)
    }

    fn wait_for_domains(&mut self, _poll: Option<Duration>) -> Result<()> {
        let dom = self.arriving.pop_front().ok_or(Error::WatchEnded)?;
        self.domains.push((dom, new_domain_sched()));
        Ok(())
    }
}
