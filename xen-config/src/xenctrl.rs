//! The real [`Backend`]: Xen's LGPL libraries `libxenctrl.so.4.17` and
//! `libxenstore.so.4`, loaded at run time with `libloading`, so the tool builds and
//! its tests run on hosts without Xen, and links nothing GPL-3.0.
//!
//! The declarations below are written from Xen 4.17's `xenctrl.h` and `xenstore.h`:
//!
//! ```c
//! xc_interface *xc_interface_open(xentoollog_logger *logger,
//!                                 xentoollog_logger *dombuild_logger, unsigned open_flags);
//! int xc_interface_close(xc_interface *xch);
//! int xc_domctl(xc_interface *xch, struct xen_domctl *domctl);   /* sets interface_version */
//! int xc_sysctl(xc_interface *xch, struct xen_sysctl *sysctl);   /* sets interface_version */
//! int xc_sched_id(xc_interface *xch, int *sched_id);
//! int xc_domain_getinfolist(xc_interface *xch, uint32_t first_domain,
//!                           unsigned int max_domains, xc_domaininfo_t *info);
//! struct xs_handle *xs_open(unsigned long flags);
//! void xs_close(struct xs_handle *xsh);
//! void *xs_read(struct xs_handle *h, xs_transaction_t t, const char *path, unsigned int *len);
//! bool xs_watch(struct xs_handle *h, const char *path, const char *token);
//! char **xs_read_watch(struct xs_handle *h, unsigned int *num);
//! int xs_fileno(struct xs_handle *h);
//! ```
//!
//! Results of `xs_read` and `xs_read_watch` are `malloc`ed and released with libc's
//! `free`. The struct layouts are in [`crate::xen`], tested there.

use std::ffi::{c_char, c_int, c_uint, c_ulong, c_void, CStr, CString};
use std::io;
use std::path::Path;
use std::ptr::NonNull;
use std::sync::mpsc;
use std::time::Duration;

use libloading::Library;
use tracing::{debug, warn};

use crate::backend::{Backend, DomainId, PoolId};
use crate::error::{Error, Result};
use crate::xen::{
    XenDomainInfo, XenDomctl, XenDomctlSchedRtcredit, XenSysctl, XenSysctlRtcreditSchedule, SCHEDOP_GETINFO,
    SCHEDOP_PUTINFO, XEN_DOMINF_DYING,
};

/// The soname Debian's `libxenmisc4.17` installs.
pub const LIBXENCTRL: &str = "libxenctrl.so.4.17";
/// The soname of `libxenstore4`.
pub const LIBXENSTORE: &str = "libxenstore.so.4";

type XcInterfaceOpen = unsafe extern "C" fn(*mut c_void, *mut c_void, c_uint) -> *mut c_void;
type XcInterfaceClose = unsafe extern "C" fn(*mut c_void) -> c_int;
type XcDomctl = unsafe extern "C" fn(*mut c_void, *mut XenDomctl) -> c_int;
type XcSysctl = unsafe extern "C" fn(*mut c_void, *mut XenSysctl) -> c_int;
type XcSchedId = unsafe extern "C" fn(*mut c_void, *mut c_int) -> c_int;
type XcDomainGetinfolist = unsafe extern "C" fn(*mut c_void, u32, c_uint, *mut XenDomainInfo) -> c_int;
type XsOpen = unsafe extern "C" fn(c_ulong) -> *mut c_void;
type XsClose = unsafe extern "C" fn(*mut c_void);
type XsRead = unsafe extern "C" fn(*mut c_void, u32, *const c_char, *mut c_uint) -> *mut c_void;
type XsWatch = unsafe extern "C" fn(*mut c_void, *const c_char, *const c_char) -> bool;
type XsReadWatch = unsafe extern "C" fn(*mut c_void, *mut c_uint) -> *mut *mut c_char;
type XsFileno = unsafe extern "C" fn(*mut c_void) -> c_int;

/// `XS_OPEN_SOCKETONLY`: talk to xenstored's socket, never the kernel device.
const XS_OPEN_SOCKETONLY: c_ulong = 1 << 1;
/// `XBT_NULL`: no transaction.
const XBT_NULL: u32 = 0;
/// How long the kernel device may take to answer a first read before xenstore is
/// considered absent (with no xenstored running, a read through it never returns).
const XENBUS_PROBE: Duration = Duration::from_secs(2);
/// The highest cpupool id looked up in xenstore for names (`xl` numbers them from 0).
const MAX_POOL_ID: u32 = 63;

/// Copies a symbol out of a library; the library must outlive every use.
///
/// # Safety
/// `T` is the symbol's true type.
unsafe fn symbol<T: Copy>(lib: &Library, name: &str) -> Result<T> {
    // SAFETY: per the contract.
    unsafe { lib.get::<T>(name.as_bytes()) }
        .map(|sym| *sym)
        .map_err(|error| Error::NotDom0 { detail: format!("{name} not found in Xen's library: {error}") })
}

struct Xc {
    open: XcInterfaceOpen,
    close: XcInterfaceClose,
    domctl: XcDomctl,
    sysctl: XcSysctl,
    sched_id: XcSchedId,
    getinfolist: XcDomainGetinfolist,
}

#[derive(Clone, Copy)]
struct Xs {
    open: XsOpen,
    close: XsClose,
    read: XsRead,
    watch: XsWatch,
    read_watch: XsReadWatch,
    fileno: XsFileno,
}

/// An open xenstore connection.
struct Store {
    fns: Xs,
    handle: NonNull<c_void>,
    watching: bool,
    _lib: Library,
}

/// libxenctrl (and libxenstore when it is reachable).
pub struct XenBackend {
    xc: Xc,
    xch: NonNull<c_void>,
    /// Opened on first use (`None` until then; `Some(None)`: unreachable).
    store: Option<Option<Store>>,
    _lib: Library,
}

impl XenBackend {
    /// Loads the libraries and opens the control interface. Fails with
    /// [`Error::NotDom0`] when the library is missing or `xc_interface_open` returns
    /// NULL (libxc then also prints its own reason on stderr).
    pub fn open() -> Result<XenBackend> {
        // SAFETY: loading Xen's library runs its (trivial) initialisers only.
        let lib = unsafe { Library::new(LIBXENCTRL) }
            .map_err(|error| Error::NotDom0 { detail: format!("cannot load {LIBXENCTRL}: {error}") })?;
        // SAFETY: the types are the prototypes quoted in the module documentation.
        let xc = unsafe {
            Xc {
                open: symbol(&lib, "xc_interface_open")?,
                close: symbol(&lib, "xc_interface_close")?,
                domctl: symbol(&lib, "xc_domctl")?,
                sysctl: symbol(&lib, "xc_sysctl")?,
                sched_id: symbol(&lib, "xc_sched_id")?,
                getinfolist: symbol(&lib, "xc_domain_getinfolist")?,
            }
        };
        // SAFETY: NULL loggers make libxc use its default (stderr) logger.
        let xch = unsafe { (xc.open)(std::ptr::null_mut(), std::ptr::null_mut(), 0) };
        let xch = NonNull::new(xch).ok_or_else(|| Error::NotDom0 {
            detail: format!("xc_interface_open failed: {}", io::Error::last_os_error()),
        })?;
        Ok(XenBackend { xc, xch, store: None, _lib: lib })
    }

    fn hypercall_error(op: String) -> Error {
        Error::Hypercall { op, source: io::Error::last_os_error() }
    }

    fn domctl(&mut self, id: u32, cmd: u32, payload: XenDomctlSchedRtcredit) -> Result<XenDomctlSchedRtcredit> {
        let domid = u16::try_from(id).map_err(|_| Error::UnknownDomain(id.to_string()))?;
        let mut op = XenDomctl::scheduler_op(domid, cmd, payload);
        // SAFETY: `op` is a complete struct xen_domctl (layout tested) and xch is open.
        if unsafe { (self.xc.domctl)(self.xch.as_ptr(), &mut op) } < 0 {
            let what = if cmd == SCHEDOP_GETINFO { "getinfo" } else { "putinfo" };
            let error = io::Error::last_os_error();
            if error.raw_os_error() == Some(libc::ESRCH) {
                return Err(Error::UnknownDomain(id.to_string()));
            }
            if cmd == SCHEDOP_PUTINFO && error.raw_os_error() == Some(libc::ENOSPC) {
                // Xen copies the domctl back on error: the pool's numbers are there.
                let pool = op.rtcredit;
                return Err(Error::RtCapacityExceeded {
                    domain: format!("domain {id}"),
                    budget_pct: payload.rt_budget_pct.into(),
                    remaining_pct: pool.rt_pool_capacity_pct.saturating_sub(pool.rt_pool_granted_pct),
                    capacity_pct: pool.rt_pool_capacity_pct,
                    granted_pct: pool.rt_pool_granted_pct,
                });
            }
            return Err(Error::Hypercall {
                op: format!("XEN_DOMCTL_scheduler_op {what} for domain {id}"),
                source: error,
            });
        }
        Ok(op.rtcredit)
    }

    fn sysctl(
        &mut self,
        pool: &PoolId,
        cmd: u32,
        payload: XenSysctlRtcreditSchedule,
    ) -> Result<XenSysctlRtcreditSchedule> {
        let mut op = XenSysctl::scheduler_op(pool.id, cmd, payload);
        // SAFETY: `op` is a complete struct xen_sysctl (layout tested) and xch is open.
        if unsafe { (self.xc.sysctl)(self.xch.as_ptr(), &mut op) } < 0 {
            let what = if cmd == SCHEDOP_GETINFO { "getinfo" } else { "putinfo" };
            let source = io::Error::last_os_error();
            if cmd == SCHEDOP_PUTINFO && source.raw_os_error() == Some(libc::EBUSY) {
                if let Some(error) = self.capacity_below_granted(pool, payload.rt_capacity_pct) {
                    return Err(error);
                }
            }
            // Xen's sched_adjust_global: -EINVAL when the pool's scheduler is not the
            // one the op names (ESRCH: no such pool). Pool 0's is checked up front.
            if cmd == SCHEDOP_GETINFO && pool.id != 0 && source.raw_os_error() == Some(libc::EINVAL) {
                return Err(Error::PoolNotRtcredit { name: pool.name.clone(), id: pool.id, source });
            }
            if source.raw_os_error() == Some(libc::ESRCH) {
                return Err(Error::UnknownPool(pool.name.clone()));
            }
            return Err(Error::Hypercall { op: format!("XEN_SYSCTL_scheduler_op {what}"), source });
        }
        Ok(op.rtcredit)
    }

    /// The refusal of an RT capacity below what is granted, with the pool's numbers
    /// read back (the sysctl is not copied back on error).
    fn capacity_below_granted(&mut self, pool: &PoolId, wanted_pct: u32) -> Option<Error> {
        let mut op = XenSysctl::scheduler_op(pool.id, SCHEDOP_GETINFO, XenSysctlRtcreditSchedule::default());
        // SAFETY: as in `sysctl`.
        if unsafe { (self.xc.sysctl)(self.xch.as_ptr(), &mut op) } < 0 {
            return None;
        }
        let pool = op.rtcredit;
        Some(Error::RtCapacityBelowGranted {
            wanted_pct,
            cpus: pool.rt_pool_cpus,
            capacity_pct: wanted_pct.saturating_mul(pool.rt_pool_cpus),
            granted_pct: pool.rt_pool_granted_pct,
        })
    }

    fn store(&mut self) -> Option<&mut Store> {
        self.store.get_or_insert_with(open_store).as_mut()
    }

    fn name_of(&mut self, id: u32) -> String {
        let from_store = self.store().and_then(|store| store.read(&format!("/local/domain/{id}/name")));
        match from_store {
            Some(name) => name,
            None if id == 0 => "Domain-0".to_string(),
            None => "(null)".to_string(),
        }
    }
}

impl Drop for XenBackend {
    fn drop(&mut self) {
        // SAFETY: xch came from xc_interface_open and is closed once.
        unsafe { (self.xc.close)(self.xch.as_ptr()) };
    }
}

impl Backend for XenBackend {
    fn sched_id(&mut self) -> Result<u32> {
        let mut id: c_int = 0;
        // SAFETY: xch is open; `id` is a valid out pointer.
        if unsafe { (self.xc.sched_id)(self.xch.as_ptr(), &mut id) } < 0 {
            return Err(Self::hypercall_error("xc_sched_id".to_string()));
        }
        Ok(id as u32)
    }

    fn domains(&mut self) -> Result<Vec<DomainId>> {
        let mut out = Vec::new();
        let mut first = 0u32;
        let mut batch = vec![XenDomainInfo::default(); 256];
        loop {
            // SAFETY: `batch` holds `len` xc_domaininfo_t (layout tested).
            let n =
                unsafe { (self.xc.getinfolist)(self.xch.as_ptr(), first, batch.len() as c_uint, batch.as_mut_ptr()) };
            if n < 0 {
                return Err(Self::hypercall_error("xc_domain_getinfolist".to_string()));
            }
            let got = &batch[..n as usize];
            for info in got.iter().filter(|info| info.flags & XEN_DOMINF_DYING == 0) {
                out.push(DomainId {
                    id: info.domain.into(),
                    name: String::new(),
                    vcpus: info.max_vcpu_id.saturating_add(1),
                });
            }
            match got.last() {
                Some(last) if got.len() == batch.len() => first = u32::from(last.domain) + 1,
                _ => break,
            }
        }
        for dom in &mut out {
            dom.name = self.name_of(dom.id);
        }
        Ok(out)
    }

    fn get_dom(&mut self, id: u32) -> Result<XenDomctlSchedRtcredit> {
        self.domctl(id, SCHEDOP_GETINFO, XenDomctlSchedRtcredit::default())
    }

    fn put_dom(&mut self, id: u32, put: &XenDomctlSchedRtcredit) -> Result<XenDomctlSchedRtcredit> {
        self.domctl(id, SCHEDOP_PUTINFO, *put)
    }

    fn pools(&mut self) -> Result<Vec<PoolId>> {
        // libxl names each cpupool at /local/pool/<id>/name; pool ids are small.
        let mut pools = vec![PoolId::zero()];
        if let Some(store) = self.store() {
            for id in 0..=MAX_POOL_ID {
                if let Some(name) = store.read(&format!("/local/pool/{id}/name")) {
                    match pools.iter_mut().find(|pool| pool.id == id) {
                        Some(pool) => pool.name = name,
                        None => pools.push(PoolId { id, name }),
                    }
                }
            }
        }
        Ok(pools)
    }

    fn get_globals(&mut self, pool: &PoolId) -> Result<XenSysctlRtcreditSchedule> {
        self.sysctl(pool, SCHEDOP_GETINFO, XenSysctlRtcreditSchedule::default())
    }

    fn put_globals(&mut self, pool: &PoolId, put: &XenSysctlRtcreditSchedule) -> Result<XenSysctlRtcreditSchedule> {
        self.sysctl(pool, SCHEDOP_PUTINFO, *put)
    }

    fn wait_for_domains(&mut self, poll: Option<Duration>) -> Result<()> {
        let Some(store) = self.store() else {
            return match poll {
                Some(interval) => {
                    std::thread::sleep(interval);
                    Ok(())
                }
                None => Err(Error::Xenstore(
                    "cannot reach xenstore to watch @introduceDomain (is xenstored running?); \
                     use --poll SECONDS to poll instead"
                        .to_string(),
                )),
            };
        };
        store.wait_introduce(poll)
    }
}

/// Opens xenstore: xenstored's socket first; then the kernel's `/dev/xen/xenbus`
/// (xenstore in a stub domain), probed with a read that must answer within
/// [`XENBUS_PROBE`]. `None` (with a warning) when neither works: names are then
/// unknown and `watch` needs `--poll`.
fn open_store() -> Option<Store> {
    // SAFETY: as for libxenctrl.
    let lib = match unsafe { Library::new(LIBXENSTORE) } {
        Ok(lib) => lib,
        Err(error) => {
            warn!("cannot load {LIBXENSTORE} ({error}): domain names unknown");
            return None;
        }
    };
    // SAFETY: the types are the prototypes quoted in the module documentation.
    let fns = unsafe {
        Xs {
            open: symbol(&lib, "xs_open").ok()?,
            close: symbol(&lib, "xs_close").ok()?,
            read: symbol(&lib, "xs_read").ok()?,
            watch: symbol(&lib, "xs_watch").ok()?,
            read_watch: symbol(&lib, "xs_read_watch").ok()?,
            fileno: symbol(&lib, "xs_fileno").ok()?,
        }
    };
    // SAFETY: xs_open takes flags only.
    if let Some(handle) = NonNull::new(unsafe { (fns.open)(XS_OPEN_SOCKETONLY) }) {
        debug!("xenstore: xenstored socket");
        return Some(Store { fns, handle, watching: false, _lib: lib });
    }
    if !Path::new("/dev/xen/xenbus").exists() {
        warn!("xenstore unreachable (no xenstored socket, no /dev/xen/xenbus): domain names unknown");
        return None;
    }
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        // SAFETY: as above; the probe read's result is freed here.
        let handle = unsafe { (fns.open)(0) };
        if !handle.is_null() {
            let mut len = 0;
            // SAFETY: handle is open, the path is NUL-terminated.
            let value = unsafe { (fns.read)(handle, XBT_NULL, c"/local/domain/0/name".as_ptr(), &mut len) };
            // SAFETY: malloc'ed by libxenstore (or NULL).
            unsafe { libc::free(value) };
        }
        let _ = tx.send(handle as usize);
    });
    match rx.recv_timeout(XENBUS_PROBE) {
        Ok(handle) => {
            let handle = NonNull::new(handle as *mut c_void)?;
            debug!("xenstore: /dev/xen/xenbus");
            Some(Store { fns, handle, watching: false, _lib: lib })
        }
        Err(_) => {
            warn!("xenstore does not answer through /dev/xen/xenbus (no xenstored?): domain names unknown");
            // The probe thread stays blocked; it holds nothing we need.
            std::mem::forget(lib);
            None
        }
    }
}

impl Store {
    fn read(&self, path: &str) -> Option<String> {
        let path = CString::new(path).ok()?;
        let mut len: c_uint = 0;
        // SAFETY: handle is open, path NUL-terminated, len a valid out pointer.
        let value = unsafe { (self.fns.read)(self.handle.as_ptr(), XBT_NULL, path.as_ptr(), &mut len) };
        if value.is_null() {
            return None;
        }
        // SAFETY: xs_read returns `len` bytes (plus a NUL) it malloc'ed.
        let bytes = unsafe { std::slice::from_raw_parts(value as *const u8, len as usize) }.to_vec();
        // SAFETY: malloc'ed by libxenstore, freed once.
        unsafe { libc::free(value) };
        Some(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Waits for the next `@introduceDomain` event (the first call registers the
    /// watch, which fires once at once: the caller then applies to what exists).
    fn wait_introduce(&mut self, poll: Option<Duration>) -> Result<()> {
        if !self.watching {
            // SAFETY: handle is open, strings are NUL-terminated.
            if !unsafe {
                (self.fns.watch)(self.handle.as_ptr(), c"@introduceDomain".as_ptr(), c"rtcredit-ctl".as_ptr())
            } {
                return Err(Error::Xenstore(format!("xs_watch @introduceDomain: {}", io::Error::last_os_error())));
            }
            self.watching = true;
        }
        if let Some(interval) = poll {
            // SAFETY: handle is open; xs_fileno returns a pipe readable when an event waits.
            let fd = unsafe { (self.fns.fileno)(self.handle.as_ptr()) };
            let mut pfd = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
            let ms = c_int::try_from(interval.as_millis()).unwrap_or(c_int::MAX);
            // SAFETY: one valid pollfd.
            if fd < 0 || unsafe { libc::poll(&mut pfd, 1, ms) } <= 0 {
                return Ok(());
            }
        }
        let mut num: c_uint = 0;
        // SAFETY: handle is open; blocks until an event (readable per the poll above).
        let event = unsafe { (self.fns.read_watch)(self.handle.as_ptr(), &mut num) };
        if event.is_null() {
            return Err(Error::Xenstore(format!("xs_read_watch: {}", io::Error::last_os_error())));
        }
        if num > 0 {
            // SAFETY: a vector of `num` strings, path first.
            let path = unsafe { CStr::from_ptr(*event) };
            debug!("xenstore event {}", path.to_string_lossy());
        }
        // SAFETY: one malloc'ed block holding the vector and its strings.
        unsafe { libc::free(event as *mut c_void) };
        Ok(())
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        // SAFETY: the handle came from xs_open and is closed once.
        unsafe { (self.fns.close)(self.handle.as_ptr()) };
    }
}
