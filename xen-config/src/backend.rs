//! What the tool needs from Xen, as a small trait: the real implementation is
//! [`crate::xenctrl::XenBackend`] (libxenctrl and libxenstore loaded at run time), the
//! test one [`crate::fake::FakeBackend`] (in memory).

use std::time::Duration;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::xen::{scheduler_name, XenDomctlSchedRtcredit, XenSysctlRtcreditSchedule, XEN_SCHEDULER_RTCREDIT};

/// A running domain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DomainId {
    pub id: u32,
    /// From xenstore `/local/domain/<id>/name`; `Domain-0` for dom0 and `(null)` for a
    /// domain without a name (as `xl list`) when xenstore cannot be read.
    pub name: String,
    /// Its VCPUs (`max_vcpu_id + 1`), 0 when not known: a cap above 100 per VCPU is
    /// refused (`DomChange::check_for`), as libxl refuses it.
    pub vcpus: u32,
}

/// A cpupool: its id and its name (`Pool-0` for pool 0, as `xl cpupool-list`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PoolId {
    pub id: u32,
    pub name: String,
}

impl PoolId {
    /// Pool 0, where Xen starts every CPU and domain.
    pub fn zero() -> PoolId {
        PoolId { id: 0, name: "Pool-0".to_string() }
    }
}

/// Access to one Xen host's `sched=rtcredit`.
pub trait Backend {
    /// `XEN_SCHEDULER_*` id of cpupool 0's scheduler.
    fn sched_id(&mut self) -> Result<u32>;
    /// Every domain that is not dying, by id.
    fn domains(&mut self) -> Result<Vec<DomainId>>;
    /// `XEN_DOMCTL_SCHEDOP_getinfo`: parameters and counters.
    fn get_dom(&mut self, id: u32) -> Result<XenDomctlSchedRtcredit>;
    /// `XEN_DOMCTL_SCHEDOP_putinfo` (0 / `DOMCTL_KEEP_*` leave a field alone); returns
    /// what is in force afterwards.
    fn put_dom(&mut self, id: u32, put: &XenDomctlSchedRtcredit) -> Result<XenDomctlSchedRtcredit>;
    /// The cpupools the host names (at least pool 0).
    fn pools(&mut self) -> Result<Vec<PoolId>>;
    /// `XEN_SYSCTL_SCHEDOP_getinfo` on the cpupool; [`Error::PoolNotRtcredit`] if it
    /// runs another scheduler.
    fn get_globals(&mut self, pool: &PoolId) -> Result<XenSysctlRtcreditSchedule>;
    /// `XEN_SYSCTL_SCHEDOP_putinfo` on the cpupool (sets the five parameters); returns
    /// what is in force.
    fn put_globals(&mut self, pool: &PoolId, put: &XenSysctlRtcreditSchedule) -> Result<XenSysctlRtcreditSchedule>;
    /// Blocks until domains may have been created: a xenstore watch on
    /// `@introduceDomain`, or, with `poll`, at most that long.
    fn wait_for_domains(&mut self, poll: Option<Duration>) -> Result<()>;
}

/// Fails unless the host runs `sched=rtcredit`, naming the scheduler it does run.
pub fn require_rtcredit(backend: &mut dyn Backend) -> Result<()> {
    let id = backend.sched_id()?;
    if id == XEN_SCHEDULER_RTCREDIT {
        Ok(())
    } else {
        Err(Error::NotRtcredit { name: scheduler_name(id), id })
    }
}

/// Finds a cpupool by id (all digits) or by exact name, as `xl sched-credit -p` takes
/// it. An id the host does not name is still tried (Xen says whether it exists).
pub fn resolve_pool(pools: &[PoolId], spec: &str) -> Result<PoolId> {
    if let Ok(id) = spec.parse::<u32>() {
        return Ok(pools.iter().find(|pool| pool.id == id).cloned().unwrap_or(PoolId { id, name: format!("#{id}") }));
    }
    pools.iter().find(|pool| pool.name == spec).cloned().ok_or_else(|| Error::UnknownPool(spec.to_string()))
}

/// Finds a domain by id (all digits) or by exact name.
pub fn resolve(domains: &[DomainId], spec: &str) -> Result<DomainId> {
    let by_id = spec.parse::<u32>().ok();
    domains
        .iter()
        .find(|dom| Some(dom.id) == by_id)
        .or_else(|| domains.iter().find(|dom| dom.name == spec))
        .cloned()
        .ok_or_else(|| Error::UnknownDomain(spec.to_string()))
}
