//! An in-memory [`Backend`] that behaves like the shim's domctl and sysctl handlers
//! (`hypervisor/xen/src/sched_rtcredit.c`): "unchanged" sentinels, `-EINVAL` for a
//! value the core refuses or for non-zero padding, the pool's RT capacity (the core's
//! own rule, `rtcredit::rt::budget::admit`: `-ENOSPC` with the pool's numbers for a
//! grant over it, `-EBUSY` for a capacity below what is granted). For tests of
//! everything above the backend without Xen.

use std::collections::VecDeque;
use std::io;
use std::time::Duration;

use rtcredit::rt::budget::{admit, rt_share_pct};
use rtcredit::{DomainParams, RtCapacity};

use crate::backend::{Backend, DomainId, PoolId};
use crate::error::{Error, Result};
use crate::params::{core_params, default_globals};
use crate::xen::{XenDomctlSchedRtcredit, XenSysctlRtcreditSchedule, XEN_SCHEDULER_RTCREDIT};

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
    /// CPUs in pool 0 (every domain's): with `globals.rt_capacity_pct`, its RT capacity.
    pub pool_cpus: u32,
    /// More cpupools, without domains: their parameters, or `None` for one that runs
    /// another scheduler (Xen answers `-EINVAL`).
    pub other_pools: Vec<(PoolId, Option<XenSysctlRtcreditSchedule>)>,
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

/// The five fields a sysctl putinfo sets, from `put`; the output fields from `rest`.
fn settable(put: &XenSysctlRtcreditSchedule, rest: XenSysctlRtcreditSchedule) -> XenSysctlRtcreditSchedule {
    XenSysctlRtcreditSchedule {
        tslice_ms: put.tslice_ms,
        ratelimit_us: put.ratelimit_us,
        rt_min_period_us: put.rt_min_period_us,
        rt_max_lead_ms: put.rt_max_lead_ms,
        rt_capacity_pct: put.rt_capacity_pct,
        ..rest
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
                .map(|(id, name)| (DomainId { id: id as u32, name: name.to_string(), vcpus: 1 }, new_domain_sched()))
                .collect(),
            arriving: VecDeque::new(),
            puts: Vec::new(),
            pool_cpus: 2,
            other_pools: Vec::new(),
        }
    }

    /// The pool's RT capacity with the domains' grants as they are.
    pub fn rt_capacity(&self) -> RtCapacity {
        let granted = self.domains.iter().map(|(_, s)| rt_share_pct(s.rt_allowed != 0, s.rt_budget_pct.into())).sum();
        RtCapacity::new(self.globals.rt_capacity_pct, self.pool_cpus, granted)
    }

    /// `globals` with the pool's output fields filled, as Xen returns them.
    fn globals_out(&self) -> XenSysctlRtcreditSchedule {
        let capacity = self.rt_capacity();
        XenSysctlRtcreditSchedule {
            rt_pool_cpus: capacity.nr_cpus,
            rt_pool_capacity_pct: capacity.capacity_pct,
            rt_pool_granted_pct: capacity.granted_pct,
            ..self.globals
        }
    }

    /// A pool other than 0 as Xen answers for it: `-ESRCH` if there is none, `-EINVAL`
    /// if it runs another scheduler.
    fn other_pool(&self, pool: &PoolId) -> Result<XenSysctlRtcreditSchedule> {
        match self.other_pools.iter().find(|(p, _)| p.id == pool.id) {
            None => Err(Error::UnknownPool(pool.name.clone())),
            Some((_, None)) => Err(Error::PoolNotRtcredit {
                name: pool.name.clone(),
                id: pool.id,
                source: io::Error::from_raw_os_error(libc::EINVAL),
            }),
            Some((_, Some(globals))) => Ok(*globals),
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
        let in_force = DomainParams {
            weight: current.weight.into(),
            cap: current.cap.into(),
            rt_allowed: current.rt_allowed != 0,
            rt_budget_pct: current.rt_budget_pct.into(),
            rt_rate_per_s: current.rt_rate_per_s,
        };
        // The core's reading of the payload, as Xen's shim uses it.
        let params = in_force.with_domctl(put).map_err(|_| einval(op))?;
        let capacity = self.rt_capacity();
        let old_share = rt_share_pct(current.rt_allowed != 0, current.rt_budget_pct.into());
        if admit(&capacity, old_share, rt_share_pct(params.rt_allowed, params.rt_budget_pct)).is_err() {
            return Err(Error::RtCapacityExceeded {
                domain: format!("domain {id}"),
                budget_pct: params.rt_budget_pct,
                remaining_pct: capacity.remaining_pct(),
                capacity_pct: capacity.capacity_pct,
                granted_pct: capacity.granted_pct,
            });
        }
        self.puts.push(format!("dom {id}"));
        let sched = self.dom_mut(id)?;
        params.write_domctl(sched);
        Ok(*sched)
    }

    fn pools(&mut self) -> Result<Vec<PoolId>> {
        Ok(std::iter::once(PoolId::zero()).chain(self.other_pools.iter().map(|(pool, _)| pool.clone())).collect())
    }

    fn get_globals(&mut self, pool: &PoolId) -> Result<XenSysctlRtcreditSchedule> {
        if pool.id == 0 {
            return Ok(self.globals_out());
        }
        self.other_pool(pool)
    }

    fn put_globals(&mut self, pool: &PoolId, put: &XenSysctlRtcreditSchedule) -> Result<XenSysctlRtcreditSchedule> {
        if core_params(put).validate().is_err() {
            return Err(einval("XEN_SYSCTL_scheduler_op putinfo"));
        }
        if pool.id != 0 {
            self.other_pool(pool)?;
            self.puts.push(format!("globals pool {}", pool.id));
            let slot = self.other_pools.iter_mut().find(|(p, _)| p.id == pool.id).and_then(|(_, g)| g.as_mut());
            if let Some(globals) = slot {
                *globals = settable(put, *globals);
            }
            return self.other_pool(pool);
        }
        let now = self.rt_capacity();
        let wanted = RtCapacity::new(put.rt_capacity_pct, self.pool_cpus, now.granted_pct);
        if put.rt_capacity_pct < now.per_cpu_pct && wanted.granted_pct > wanted.capacity_pct {
            return Err(Error::RtCapacityBelowGranted {
                wanted_pct: put.rt_capacity_pct,
                cpus: self.pool_cpus,
                capacity_pct: wanted.capacity_pct,
                granted_pct: wanted.granted_pct,
            });
        }
        self.puts.push("globals".to_string());
        self.globals = settable(put, XenSysctlRtcreditSchedule::default());
        Ok(self.globals_out())
    }

    fn wait_for_domains(&mut self, _poll: Option<Duration>) -> Result<()> {
        let dom = self.arriving.pop_front().ok_or(Error::WatchEnded)?;
        self.domains.push((dom, new_domain_sched()));
        Ok(())
    }
}
