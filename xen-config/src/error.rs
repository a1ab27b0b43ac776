//! Every error a user can hit, each saying what to do about it.

use std::io;

/// What went wrong. The `Display` text is what `rtcredit-ctl` prints after
/// `rtcredit-ctl: error: `.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Xen's libraries are missing, or `xc_interface_open` failed (no privcmd: not
    /// dom0, not root, or the module is not loaded).
    #[error(
        "not dom0 / no /dev/xen/privcmd: {detail}\n  \
         run it as root in dom0 of a Xen host, with the xen-privcmd module loaded \
         (modprobe xen-privcmd) and Xen 4.17's libraries installed (Debian: libxenmisc4.17)"
    )]
    NotDom0 { detail: String },
    /// The host runs another scheduler.
    #[error(
        "the running Xen scheduler is {name} (XEN_SCHEDULER id {id}), not rtcredit\n  \
         boot Xen with sched=rtcredit: `rtcredit-ctl boot-args` prints the command-line words"
    )]
    NotRtcredit { name: &'static str, id: u32 },
    /// No cpupool has this name or id.
    #[error("unknown cpupool '{0}': no cpupool has that name or id (`xl cpupool-list` lists them)")]
    UnknownPool(String),
    /// The cpupool runs another scheduler (Xen refused the rtcredit sysctl on it).
    #[error(
        "cpupool {name} (id {id}) does not run sched=rtcredit (Xen answered {source} to the rtcredit scheduler op)\n  \
         create it with sched=\"rtcredit\" (`xl cpupool-create name=\"{name}\" sched=\"rtcredit\" cpus=...`), or \
         give another pool with -p"
    )]
    PoolNotRtcredit { name: String, id: u32, source: io::Error },
    /// No running domain has this name or id.
    #[error("unknown domain '{0}': no running domain has that name or id (`rtcredit-ctl dom` lists them)")]
    UnknownDomain(String),
    /// A cap above 100% per VCPU: more than the domain can use, and what libxl refuses.
    #[error("{domain} (id {id}): cap = {cap} is out of range: a cap must be at most 100 x the domain's VCPUs ({vcpus} VCPU(s): at most {max}%)")]
    CapAboveVcpus { domain: String, id: u32, cap: u64, vcpus: u32, max: u64 },
    /// A parameter is outside what the scheduler accepts.
    #[error("{what} = {value} is out of range: {rule}")]
    OutOfRange { what: &'static str, value: u64, rule: &'static str },
    /// The policy file does not parse or breaks a rule; `line:column` is 1-based.
    #[error("{file}:{line}:{column}: {message}")]
    Policy { file: String, line: usize, column: usize, message: String },
    /// Xen refused an RT grant (`-ENOSPC`): the RT budgets granted in the domain's
    /// cpupool would exceed the pool's RT capacity. The numbers are Xen's, from the
    /// domctl it copied back; percent of one CPU.
    #[error(
        "{domain}: RT budget of {budget_pct}% refused: the cpupool's remaining RT capacity is \
         {remaining_pct}% of one CPU (capacity {capacity_pct}%, {granted_pct}% granted)\n  \
         lower the budget (--rt-budget), deny RT to another domain, or raise the pool's \
         capacity (rtcredit-ctl sched --rt-capacity-pct)"
    )]
    RtCapacityExceeded { domain: String, budget_pct: u32, remaining_pct: u32, capacity_pct: u32, granted_pct: u32 },
    /// Xen refused to lower a pool's RT capacity below what is granted (`-EBUSY`).
    #[error(
        "rt_capacity_pct = {wanted_pct} refused: the cpupool's {cpus} CPU(s) would have an RT capacity \
         of {capacity_pct}% of one CPU, below the {granted_pct}% already granted\n  \
         deny RT to domains or lower their budgets first (rtcredit-ctl dom)"
    )]
    RtCapacityBelowGranted { wanted_pct: u32, cpus: u32, capacity_pct: u32, granted_pct: u32 },
    /// A domctl or sysctl failed in Xen (or in libxc).
    #[error("{op} failed: {source}")]
    Hypercall { op: String, source: io::Error },
    /// xenstore is not reachable where it is needed (watch).
    #[error("xenstore: {0}")]
    Xenstore(String),
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io { path: String, source: io::Error },
    /// A command line that parses but does not make sense.
    #[error("{0}")]
    Usage(String),
    /// The backend will report no more new domains (only the in-memory backend).
    #[error("no more domain events")]
    WatchEnded,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An RT-capacity refusal of a putinfo, told about the domain by name and the
    /// budget it asked for (the backend knows only the id and what it sent); any other
    /// error is returned as it is.
    pub fn for_domain(self, name: &str, id: u32, budget_pct: u32) -> Error {
        match self {
            Error::RtCapacityExceeded { remaining_pct, capacity_pct, granted_pct, .. } => Error::RtCapacityExceeded {
                domain: format!("{name} (id {id})"),
                budget_pct,
                remaining_pct,
                capacity_pct,
                granted_pct,
            },
            other => other,
        }
    }
}
