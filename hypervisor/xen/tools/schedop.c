/*
 * schedop: issue Xen scheduler hypercalls from a PV dom0, for the RT-Credit smoke test.
 *
 *   schedop yield [COUNT]              SCHEDOP_yield (0) COUNT times (default 1)
 *   schedop rtsleep OFFSET_NS FLAGS    SCHEDOP_rtsleep (8), deadline = Xen now + OFFSET_NS
 *   schedop now                        print the current Xen system time (ns)
 *   schedop debugkeys KEYS             XEN_SYSCTL_debug_keys: as if KEYS were typed
 *                                      on Xen's console (e.g. "r" dumps run queues)
 *   schedop hostile SECONDS SEED       from an unprivileged domU: one process per CPU
 *                                      issues random SCHEDOP_rtsleep calls (deadlines,
 *                                      flags, padding, bursts, cancels) and tries the
 *                                      rtcredit domctl and sysctl, for SECONDS; prints a
 *                                      tally every 5 s (see cmd_hostile)
 *
 * Every command prints one line that ends in `rc=<n>`, where n is the hypercall's
 * return value (0 or a negative errno, e.g. -38 for -ENOSYS). The exit status is 0
 * when rc == 0, 1 when the hypercall returned an error, 2 when the tool could not
 * even issue it (no /dev/xen/privcmd, bad arguments, ...).
 *
 * Build (static, so it runs in a bare busybox initramfs):
 *   gcc -O2 -static -Wall -Wextra -o schedop schedop.c
 *
 * All hypercalls go through the Linux privcmd driver: ioctl(IOCTL_PRIVCMD_HYPERCALL)
 * makes the kernel issue the hypercall on our behalf with our arguments. Pointers we
 * pass are user addresses; Xen copies from them while dom0's page tables are live,
 * so the memory must be present: all argument buffers live in one locked page.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/timex.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- Linux privcmd ABI -------------------------------------------------------------
 * Defined here because the installed <xen/privcmd.h> (linux-libc-dev) includes
 * <xen/interface/xen.h>, which is not shipped to userspace. Source of truth: the
 * kernel's include/uapi/xen/privcmd.h (struct privcmd_hypercall,
 * struct privcmd_mmapbatch_v2, IOCTL_PRIVCMD_HYPERCALL = _IOC(_IOC_NONE, 'P', 0, ...),
 * IOCTL_PRIVCMD_MMAPBATCH_V2 = _IOC(_IOC_NONE, 'P', 4, ...)).
 */
struct pc_hypercall {
    uint64_t op;
    uint64_t arg[5];
};
struct pc_mmapbatch_v2 {
    unsigned int num;       /* pages to map */
    uint16_t dom;           /* domid_t of the pages' owner */
    uint64_t addr;          /* start of a VMA created by mmap() on the privcmd fd */
    const unsigned long *arr; /* frame numbers (xen_pfn_t is unsigned long on x86_64) */
    int *err;               /* per-page error codes */
};
#define PC_IOCTL_HYPERCALL    _IOC(_IOC_NONE, 'P', 0, sizeof(struct pc_hypercall))
#define PC_IOCTL_MMAPBATCH_V2 _IOC(_IOC_NONE, 'P', 4, sizeof(struct pc_mmapbatch_v2))

/* ---- Xen public ABI (Xen 4.17, xen/include/public/) ----------------------------------
 * Only the numbers and layouts this tool needs, checked against the 4.17.5 headers:
 * xen.h (hypercall numbers, DOMID_SELF, shared_info), sched.h (SCHEDOP_*),
 * sysctl.h and domctl.h (commands, interface versions, payload layouts).
 */
#define HC_SCHED_OP 29                  /* __HYPERVISOR_sched_op */
#define HC_SYSCTL   35                  /* __HYPERVISOR_sysctl */
#define HC_DOMCTL   36                  /* __HYPERVISOR_domctl */
#define HC_VCPU_OP  24                  /* __HYPERVISOR_vcpu_op */
#define VCPUOP_GET_RUNSTATE_INFO 4

/* struct vcpu_runstate_info (public/vcpu.h): state, then Xen system time when the
 * VCPU entered it, then the time spent in each state. */
struct runstate_info {
    int32_t state;
    uint64_t state_entry_time;
    uint64_t time[4];
};
_Static_assert(sizeof(struct runstate_info) == 48, "vcpu_runstate_info size");

#define SCHEDOP_YIELD   0

#define SYSCTL_IFACE_VERSION 0x00000015 /* XEN_SYSCTL_INTERFACE_VERSION in 4.17 */
#define SYSCTL_DEBUG_KEYS    7
#define SYSCTL_SCHEDULER_OP  19
#define SYSCTL_SCHEDOP_PUTINFO 0
#define SYSCTL_SCHEDOP_GETINFO 1
#define DOMCTL_IFACE_VERSION 0x00000015 /* XEN_DOMCTL_INTERFACE_VERSION in 4.17 */
#define DOMCTL_GETDOMAININFO 5
#define DOMCTL_SCHEDULER_OP  16
#define DOMCTL_SCHEDOP_PUTINFO 0
#define DOMCTL_SCHEDOP_GETINFO 1
#define DOMID_SELF_ 0x7FF0

/* The hypercall's number and argument, and the scheduler id, come from RT-Credit's
 * one ABI definition (hypervisor/include/rtcredit.h, generated from abi.rs). */
#include "rtcredit.h"

/* struct xen_domctl_sched_rtcredit and struct xen_sysctl_rtcredit_schedule, as
 * patches/0001 adds them to public/{domctl,sysctl}.h, are rtcredit.h's
 * rtcredit_domctl_sched and rtcredit_sysctl_sched (abi/src/control.rs). */
_Static_assert(sizeof(struct rtcredit_domctl_sched) == 104, "domctl rtcredit size");
_Static_assert(_Alignof(struct rtcredit_domctl_sched) == 8, "domctl rtcredit alignment");
_Static_assert(offsetof(struct rtcredit_domctl_sched, prio_ns) == 16, "domctl rtcredit layout");
_Static_assert(offsetof(struct rtcredit_domctl_sched, rt_counters.rt_demotions) == 88, "domctl rtcredit layout");
_Static_assert(sizeof(struct rtcredit_sysctl_sched) == 32, "sysctl rtcredit size");

/* struct xen_sysctl: cmd, interface_version, then a 128-byte union. The debug_keys
 * member is a 64-bit guest handle (pointer to the keys) and a 32-bit count. */
struct sysctl_op {
    uint32_t cmd;
    uint32_t interface_version;
    union {
        struct {
            uint64_t keys;              /* XEN_GUEST_HANDLE_64(const_char) */
            uint32_t nr_keys;
        } debug_keys;
        struct {
            uint32_t cpupool_id;
            uint32_t sched_id;
            uint32_t cmd;
            uint32_t pad;               /* the union below is 8-byte aligned */
            struct rtcredit_sysctl_sched rtcredit;
        } scheduler_op;
        uint8_t pad[128];
    } u;
};
_Static_assert(offsetof(struct sysctl_op, u) == 8, "sysctl layout");
_Static_assert(sizeof(struct sysctl_op) == 136, "sysctl size");
_Static_assert(offsetof(struct sysctl_op, u.scheduler_op.rtcredit) == 8 + 16, "scheduler_op layout");

/* struct xen_domctl: cmd, interface_version, domain, 3 x u16 padding, then the
 * union at offset 16. In getdomaininfo the only field we use is shared_info_frame
 * (the machine frame of the domain's shared_info page for a PV guest), at offset 48
 * of the payload: domain(2) pad(2) flags(4) then six uint64 page counters/frames. */
struct domctl_op {
    uint32_t cmd;
    uint32_t interface_version;
    uint16_t domain;
    uint16_t pad[3];
    union {
        struct {
            uint16_t domain;
            uint16_t pad1;
            uint32_t flags;
            uint64_t tot_pages, max_pages, outstanding_pages, shr_pages, paged_pages;
            uint64_t shared_info_frame;
        } getdomaininfo;
        struct {
            uint32_t sched_id;
            uint32_t cmd;
            union {
                struct rtcredit_domctl_sched rtcredit;
                uint64_t align[2];
            } u;
        } scheduler_op;
        uint8_t pad[128];
    } u;
};
_Static_assert(offsetof(struct domctl_op, u) == 16, "domctl layout");
_Static_assert(offsetof(struct domctl_op, u.scheduler_op.u) == 16 + 8, "scheduler_op layout");
_Static_assert(sizeof(struct domctl_op) == 144, "domctl size");
_Static_assert(offsetof(struct domctl_op, u.getdomaininfo.shared_info_frame) == 16 + 48,
               "getdomaininfo layout");

/* In struct shared_info (x86_64): 32 vcpu_info slots of 64 bytes, then two event
 * channel bitmaps of 64 longs each, then the wallclock: wc_version, wc_sec, wc_nsec,
 * wc_sec_hi (all uint32). The wallclock is "Unix time at Xen system time 0". */
#define SHINFO_WC_OFFSET (32 * 64 + 2 * 64 * 8)
struct shinfo_wc {
    uint32_t version;
    uint32_t sec;
    uint32_t nsec;
    uint32_t sec_hi;
};

/* ---- plumbing ---------------------------------------------------------------------- */

static int privcmd_fd = -1;

/* One locked page holds every buffer a hypercall reads or writes. Separate members,
 * not a union: reading the Xen clock (a domctl) may happen between filling in
 * another call's arguments and issuing it. */
#define KEYS_MAX 255
static struct {
    struct rtcredit_sched_rtsleep rtsleep;
    struct sysctl_op sysctl;
    struct domctl_op domctl;
    struct runstate_info runstate;
    char keys[KEYS_MAX + 1];
} *hbuf;
_Static_assert(sizeof(*hbuf) <= 4096, "hypercall buffers exceed one page");

static void die_setup(const char *what)
{
    fprintf(stderr, "schedop: %s: %s\n", what, strerror(errno));
    exit(2);
}

/* A locked page for hbuf (a forked child calls it again: locks are not inherited). */
static void map_hbuf(void)
{
    void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE | MAP_LOCKED, -1, 0);
    if (p == MAP_FAILED)
        die_setup("mmap hypercall buffer");
    memset(p, 0, 4096);
    hbuf = p;
}

static void setup(void)
{
    privcmd_fd = open("/dev/xen/privcmd", O_RDWR | O_CLOEXEC);
    if (privcmd_fd < 0)
        die_setup("open /dev/xen/privcmd (is xen-privcmd loaded? are we dom0?)");
    map_hbuf();
}

/* Returns the hypercall's own return value, or -errno if the ioctl itself failed.
 * Linux reports negative hypercall results as ioctl errors (errno = -result), so the
 * two are indistinguishable; for the calls made here that does not matter. The raw
 * syscall is used because glibc's ioctl() returns int and the kernel returns long. */
static long hypercall3(uint64_t op, uint64_t a0, uint64_t a1, uint64_t a2)
{
    struct pc_hypercall h = { .op = op, .arg = { a0, a1, a2, 0, 0 } };
    long r = syscall(SYS_ioctl, privcmd_fd, PC_IOCTL_HYPERCALL, &h);
    return r < 0 ? -errno : r;
}

static long hypercall(uint64_t op, uint64_t a0, uint64_t a1)
{
    return hypercall3(op, a0, a1, 0);
}

/* ---- Xen system time from dom0 userspace ---------------------------------------------
 * Xen's scheduler deadlines are in Xen system time (ns since Xen booted), which
 * userspace cannot read directly: the per-VCPU time records that the kernel uses live
 * in kernel memory (Linux registers its vcpu_info elsewhere), and a vDSO pvclock page
 * exists only when Xen declares the TSC stable, which cannot be relied on here.
 *
 * What userspace can get is the shared_info page's wallclock (Unix time at Xen system
 * time 0). A PV dom0 kernel initialises CLOCK_REALTIME from that same wallclock, runs
 * it on the Xen clocksource afterwards, and pushes clock steps back into Xen
 * (XENPF_settime64 from its pvclock_gtod notifier), so
 *     Xen now = CLOCK_REALTIME - wallclock
 * as long as nothing slews the clock (no NTP in the smoke initramfs).
 *
 * One catch, seen in practice (3.7 ms off): the kernel's first push happens from a
 * timer tick and sends the realtime of the last timekeeping update together with the
 * Xen time of "now", so the wallclock can be off by up to one tick (4 ms at HZ=250).
 * Before the first reading we therefore step CLOCK_REALTIME by zero a few times
 * (adjtimex ADJ_SETOFFSET): each step brings the kernel's clock up to date and pushes
 * it to Xen at once, and anchor_wallclock() keeps the best of the results. That needs
 * CAP_SYS_TIME and resets NTP state; if it fails we warn and carry on with up to a
 * tick of error.
 * The smoke test checks the result against the NOW= line of Xen's run-queue dump.
 * The guest kernel module will read pvclock directly instead.
 *
 * The page is found with XEN_DOMCTL_getdomaininfo (dom0 only) and mapped read-only
 * through privcmd with DOMID_SELF (Xen refuses our own domid as a "foreign" owner).
 */
static volatile const struct shinfo_wc *wallclock;

static int map_wallclock(void)
{
    if (wallclock)
        return 0;
    memset(&hbuf->domctl, 0, sizeof(hbuf->domctl));
    hbuf->domctl.cmd = DOMCTL_GETDOMAININFO;
    hbuf->domctl.interface_version = DOMCTL_IFACE_VERSION;
    hbuf->domctl.domain = 0;    /* returns the first domain with id >= 0: dom0 */
    long rc = hypercall(HC_DOMCTL, (uint64_t)(uintptr_t)&hbuf->domctl, 0);
    if (rc != 0 || hbuf->domctl.u.getdomaininfo.domain != 0) {
        fprintf(stderr, "schedop: domctl getdomaininfo failed: rc=%ld\n", rc);
        return -1;
    }
    unsigned long frame = hbuf->domctl.u.getdomaininfo.shared_info_frame;

    void *page = mmap(NULL, 4096, PROT_READ, MAP_SHARED, privcmd_fd, 0);
    if (page == MAP_FAILED) {
        perror("schedop: mmap privcmd");
        return -1;
    }
    int err = 0;
    struct pc_mmapbatch_v2 m = {
        .num = 1, .dom = DOMID_SELF_, .addr = (uint64_t)(uintptr_t)page,
        .arr = &frame, .err = &err,
    };
    if (ioctl(privcmd_fd, PC_IOCTL_MMAPBATCH_V2, &m) < 0 || err != 0) {
        fprintf(stderr, "schedop: mapping shared_info frame %#lx failed: %s (err=%d)\n",
                frame, strerror(errno), err);
        munmap(page, 4096);
        return -1;
    }
    wallclock = (const struct shinfo_wc *)((const char *)page + SHINFO_WC_OFFSET);
    return 0;
}

/* Wallclock in ns since the Unix epoch, read consistently (Xen makes the version odd
 * while it updates the fields). */
static int read_wallclock(uint64_t *wc)
{
    for (int tries = 0; tries < 1000; tries++) {
        uint32_t v = wallclock->version;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        uint64_t w = ((uint64_t)wallclock->sec_hi << 32 | wallclock->sec) * 1000000000ull
                     + wallclock->nsec;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (!(v & 1) && v == wallclock->version) {
            *wc = w;
            return 0;
        }
    }
    fprintf(stderr, "schedop: wallclock kept changing\n");
    return -1;
}

/* The wallclock value used for all readings of this process; see the comment above.
 * Every push from the kernel makes the wallclock too small by however long passed
 * between the kernel reading its clock and reading Xen's time (microseconds, or
 * more if Xen deschedules the VCPU in between). It is never too large, and zero
 * steps do not move CLOCK_REALTIME, so the largest value seen over a few pushes
 * is the most accurate one. */
static uint64_t anchor_wc;
static uint64_t anchor_spread;  /* largest minus smallest value seen: the uncertainty */

static int anchor_wallclock(void)
{
    static int done;
    if (done)
        return 0;
    uint64_t wc, lo;
    if (read_wallclock(&wc) < 0)
        return -1;
    anchor_wc = lo = wc;
    for (int i = 0; i < 5; i++) {
        struct timex tx = { .modes = ADJ_SETOFFSET | ADJ_NANO };   /* step by 0 s 0 ns */
        if (clock_adjtime(CLOCK_REALTIME, &tx) < 0) {
            fprintf(stderr, "schedop: warning: zero clock step failed (%s); Xen time may "
                            "be off by up to one kernel tick\n", strerror(errno));
            break;
        }
        if (read_wallclock(&wc) < 0)
            return -1;
        if (wc > anchor_wc)
            anchor_wc = wc;
        if (wc < lo)
            lo = wc;
    }
    anchor_spread = anchor_wc - lo;
    done = 1;
    return 0;
}

static int xen_now(uint64_t *now)
{
    if (map_wallclock() < 0 || anchor_wallclock() < 0)
        return -1;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t rt = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    if (rt < anchor_wc) {
        fprintf(stderr, "schedop: CLOCK_REALTIME is before Xen's wallclock\n");
        return -1;
    }
    *now = rt - anchor_wc;
    return 0;
}

/* ---- commands ---------------------------------------------------------------------- */

static int finish(long rc)
{
    return rc == 0 ? 0 : 1;
}

static int cmd_yield(int argc, char **argv)
{
    long count = argc > 0 ? strtol(argv[0], NULL, 0) : 1;
    long rc = 0, n;
    if (count < 1)
        count = 1;
    /* Stop at the first failure so its code is what gets reported. */
    for (n = 0; n < count && rc == 0; n++)
        rc = hypercall(HC_SCHED_OP, SCHEDOP_YIELD, 0);
    printf("schedop: yield calls=%ld rc=%ld\n", n, rc);
    return finish(rc);
}

/* One SCHEDOP_rtsleep for a deadline OFFSET_NS (signed) from Xen's now. */
static long do_rtsleep(int64_t offset, uint32_t flags, uint32_t pad, uint64_t *now_out)
{
    uint64_t now;
    if (xen_now(&now) < 0)
        return -EIO;
    hbuf->rtsleep = (struct rtcredit_sched_rtsleep){
        .deadline_ns = now + (uint64_t)offset, .flags = flags, .pad = pad };
    *now_out = now;
    return hypercall(HC_SCHED_OP, RTCREDIT_SCHEDOP_RTSLEEP, (uint64_t)(uintptr_t)&hbuf->rtsleep);
}

static int cmd_rtsleep(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: schedop rtsleep DEADLINE_OFFSET_NS FLAGS [PAD]\n");
        return 2;
    }
    int64_t offset = strtoll(argv[0], NULL, 0);
    uint32_t flags = (uint32_t)strtoul(argv[1], NULL, 0);
    uint32_t pad = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 0) : 0;
    uint64_t now = 0;
    long rc = do_rtsleep(offset, flags, pad, &now);
    if (rc == -EIO && now == 0) {
        fprintf(stderr, "schedop: cannot read Xen system time, not issuing rtsleep\n");
        return 2;
    }
    printf("schedop: rtsleep now=%" PRIu64 " offset=%" PRId64 " flags=%#x pad=%u rc=%ld\n",
           now, offset, flags, pad, rc);
    return rc < 0 ? 1 : 0;
}

/* A periodic loop like the guest module's: register the next deadline, then sleep
 * until it (the VCPU blocks if dom0 has nothing else to run). */
static int cmd_rtsleep_loop(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: schedop rtsleep-loop COUNT PERIOD_NS\n");
        return 2;
    }
    long count = strtol(argv[0], NULL, 0);
    int64_t period = strtoll(argv[1], NULL, 0);
    long granted = 0, degraded = 0, too_late = 0, errors = 0, last_error = 0, n;
    for (n = 0; n < count; n++) {
        uint64_t now;
        long rc = do_rtsleep(period, 0, 0, &now);
        if (rc == RTCREDIT_RTSLEEP_GRANTED)
            granted++;
        else if (rc == RTCREDIT_RTSLEEP_DEGRADED)
            degraded++;
        else if (rc == -ERANGE || rc == -ETIME)
            /* Preempted between reading the clock and the call for so long that
             * the deadline is less than the minimum period after the last one
             * (-ERANGE, possible only for a period near the minimum) or already
             * due while the domain is over its RT budget (-ETIME, seen once under
             * smoke.sh --clock icount, most likely dom0's own load holding this
             * process off its VCPU for a whole period); it sleeps plainly. */
            too_late++;
        else {
            errors++;
            last_error = rc;
        }
        struct timespec ts = { .tv_sec = period / 1000000000, .tv_nsec = period % 1000000000 };
        nanosleep(&ts, NULL);
    }
    printf("schedop: rtsleep-loop calls=%ld granted=%ld degraded=%ld too_late=%ld errors=%ld "
           "last_error=%ld rc=0\n", n, granted, degraded, too_late, errors, last_error);
    return errors ? 1 : 0;
}

/* XEN_SYSCTL_scheduler_op for sched=rtcredit (cpupool 0): read the global parameters,
 * or set them: TSLICE_MS RATELIMIT_US MIN_PERIOD_US MAX_LEAD_MS [RT_CAPACITY_PCT] (the
 * RT capacity, read first, is kept when not given). */
static int cmd_rtcredit_sys(int argc, char **argv)
{
    if (argc < 1 || (strcmp(argv[0], "get") && (strcmp(argv[0], "set") || argc < 5))) {
        fprintf(stderr, "usage: schedop rtcredit-sys get | set TSLICE_MS RATELIMIT_US MIN_PERIOD_US MAX_LEAD_MS\n");
        return 2;
    }
    memset(&hbuf->sysctl, 0, sizeof(hbuf->sysctl));
    hbuf->sysctl.cmd = SYSCTL_SCHEDULER_OP;
    hbuf->sysctl.interface_version = SYSCTL_IFACE_VERSION;
    hbuf->sysctl.u.scheduler_op.cpupool_id = 0;
    hbuf->sysctl.u.scheduler_op.sched_id = RTCREDIT_XEN_SCHEDULER_RTCREDIT;
    hbuf->sysctl.u.scheduler_op.cmd = SYSCTL_SCHEDOP_GETINFO;
    if (strcmp(argv[0], "get")) {
        long got = hypercall(HC_SYSCTL, (uint64_t)(uintptr_t)&hbuf->sysctl, 0);
        if (got < 0) {
            printf("schedop: rtcredit-sys op=get rc=%ld\n", got);
            return 1;
        }
        hbuf->sysctl.interface_version = SYSCTL_IFACE_VERSION;
        hbuf->sysctl.u.scheduler_op.cmd = SYSCTL_SCHEDOP_PUTINFO;
        if (argc > 5)
            hbuf->sysctl.u.scheduler_op.rtcredit.rt_capacity_pct = (uint32_t)strtoul(argv[5], NULL, 0);
        hbuf->sysctl.u.scheduler_op.rtcredit.tslice_ms = (uint32_t)strtoul(argv[1], NULL, 0);
        hbuf->sysctl.u.scheduler_op.rtcredit.ratelimit_us = (uint32_t)strtoul(argv[2], NULL, 0);
        hbuf->sysctl.u.scheduler_op.rtcredit.rt_min_period_us = (uint32_t)strtoul(argv[3], NULL, 0);
        hbuf->sysctl.u.scheduler_op.rtcredit.rt_max_lead_ms = (uint32_t)strtoul(argv[4], NULL, 0);
    }
    long rc = hypercall(HC_SYSCTL, (uint64_t)(uintptr_t)&hbuf->sysctl, 0);
    const struct rtcredit_sysctl_sched *out = &hbuf->sysctl.u.scheduler_op.rtcredit;
    printf("schedop: rtcredit-sys op=%s tslice_ms=%u ratelimit_us=%u rt_min_period_us=%u "
           "rt_max_lead_ms=%u rt_capacity_pct=%u rt_pool_cpus=%u rt_pool_capacity_pct=%u "
           "rt_pool_granted_pct=%u rc=%ld\n", argv[0], out->tslice_ms, out->ratelimit_us,
           out->rt_min_period_us, out->rt_max_lead_ms, out->rt_capacity_pct, out->rt_pool_cpus,
           out->rt_pool_capacity_pct, out->rt_pool_granted_pct, rc);
    return rc < 0 ? 1 : 0;
}

/* XEN_DOMCTL_scheduler_op for sched=rtcredit: read, or allow/deny RT. */
static int cmd_rtcredit_dom(int argc, char **argv)
{
    if (argc < 2 || (strcmp(argv[1], "get") && strcmp(argv[1], "allow") && strcmp(argv[1], "deny"))) {
        fprintf(stderr, "usage: schedop rtcredit-dom DOMID get|allow|deny\n");
        return 2;
    }
    memset(&hbuf->domctl, 0, sizeof(hbuf->domctl));
    hbuf->domctl.cmd = DOMCTL_SCHEDULER_OP;
    hbuf->domctl.interface_version = DOMCTL_IFACE_VERSION;
    hbuf->domctl.domain = (uint16_t)strtoul(argv[0], NULL, 0);
    hbuf->domctl.u.scheduler_op.sched_id = RTCREDIT_XEN_SCHEDULER_RTCREDIT;
    struct rtcredit_domctl_sched *p = &hbuf->domctl.u.scheduler_op.u.rtcredit;
    if (!strcmp(argv[1], "get")) {
        hbuf->domctl.u.scheduler_op.cmd = DOMCTL_SCHEDOP_GETINFO;
    } else {
        /* 0 and ~0 leave the other values as they are. */
        hbuf->domctl.u.scheduler_op.cmd = DOMCTL_SCHEDOP_PUTINFO;
        p->weight = 0;
        p->cap = RTCREDIT_DOMCTL_KEEP_CAP;
        p->rt_allowed = !strcmp(argv[1], "allow");
    }
    long rc = hypercall(HC_DOMCTL, (uint64_t)(uintptr_t)&hbuf->domctl, 0);
    printf("schedop: rtcredit-dom dom=%s op=%s weight=%u cap=%u rt_allowed=%u rt_budget_pct=%u "
           "rt_rate_per_s=%u rt_ns=%" PRIu64 " boost_ns=%" PRIu64 " under_ns=%" PRIu64
           " over_ns=%" PRIu64 " rt_requests=%" PRIu64 " rt_granted=%" PRIu64
           " rt_denied=%" PRIu64 " rt_fires=%" PRIu64 " rc=%ld\n", argv[0], argv[1], p->weight,
           p->cap, p->rt_allowed, p->rt_budget_pct, p->rt_rate_per_s,
           p->prio_ns[RTCREDIT_DOMCTL_PRIO_RT], p->prio_ns[RTCREDIT_DOMCTL_PRIO_BOOST],
           p->prio_ns[RTCREDIT_DOMCTL_PRIO_UNDER], p->prio_ns[RTCREDIT_DOMCTL_PRIO_OVER],
           p->rt_counters.rt_requests, p->rt_counters.rt_granted, p->rt_counters.rt_denied,
           p->rt_counters.rt_fires, rc);
    return rc < 0 ? 1 : 0;
}

static int cmd_now(void)
{
    uint64_t now;
    if (xen_now(&now) < 0) {
        printf("schedop: now rc=-1\n");
        return 2;
    }
    printf("schedop: now xen_ns=%" PRIu64 " anchor_spread_ns=%" PRIu64 " rc=0\n", now,
           anchor_spread);
    return 0;
}

static int cmd_debugkeys(int argc, char **argv)
{
    if (argc < 1 || strlen(argv[0]) == 0 || strlen(argv[0]) > KEYS_MAX) {
        fprintf(stderr, "usage: schedop debugkeys KEYS   (1..255 characters)\n");
        return 2;
    }
    size_t n = strlen(argv[0]);
    memcpy(hbuf->keys, argv[0], n);
    memset(&hbuf->sysctl, 0, sizeof(hbuf->sysctl));
    hbuf->sysctl.cmd = SYSCTL_DEBUG_KEYS;
    hbuf->sysctl.interface_version = SYSCTL_IFACE_VERSION;
    hbuf->sysctl.u.debug_keys.keys = (uint64_t)(uintptr_t)hbuf->keys;
    hbuf->sysctl.u.debug_keys.nr_keys = (uint32_t)n;

    /* Bracket the call with Xen time so the caller can match Xen's NOW= output
     * (key 'r') against our clock. Optional: without it only rc is printed. */
    uint64_t before = 0, after = 0;
    int have_time = xen_now(&before) == 0;
    long rc = hypercall(HC_SYSCTL, (uint64_t)(uintptr_t)&hbuf->sysctl, 0);
    if (have_time)
        have_time = xen_now(&after) == 0;
    if (have_time)
        printf("schedop: debugkeys keys=%s xen_before=%" PRIu64 " xen_after=%" PRIu64
               " rc=%ld\n", argv[0], before, after, rc);
    else
        printf("schedop: debugkeys keys=%s rc=%ld\n", argv[0], rc);
    return finish(rc);
}

/* ---- hostile: an unprivileged guest doing its worst within the ABI ----------------------
 * Issue #20 item 2. Run as root in a PV domU (privcmd is open to the guest's root; Xen
 * decides what the domain may do). Each process stays on one CPU (= one VCPU) and
 * draws, per step: an rtsleep (60%) with a deadline near Xen's now (its VCPU's
 * runstate entry time just after a yield: within microseconds here), at 0, at
 * UINT64_MAX, anywhere in the maximum lead or anywhere at all, flags 0, CANCEL or
 * random bits, padding mostly 0; a burst of 50 rtsleeps (the request rate); the
 * rtcredit domctl (allow itself RT with a 100% budget, on DOMID_SELF and on dom0) and
 * sysctl (set the global parameters), both of which must fail with -EPERM (-ESRCH for
 * the domctl on DOMID_SELF, which Xen does not look up); a yield.
 * Between steps it blocks (nanosleep) or spins for up to 3 ms. "unexpected" counts a
 * domctl/sysctl that did not fail with -EPERM and an rtsleep result outside the ABI's
 * (a result code, -EINVAL, -EPERM, -ERANGE, -ETIME, -EOPNOTSUPP). The tally line
 * comes every 5 s because dom0 may destroy the domain mid-run. */
struct tally {
    long steps, rtsleeps, granted, degraded, cancelled, einval, eperm, erange, etime, eopnotsupp;
    long domctl, sysctl, yields, unexpected, last_unexpected;
};

static uint64_t rng_state;
static uint64_t rnd(void)
{
    /* xorshift64*: deterministic per seed and process. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1DULL;
}

static uint64_t xen_now_from_runstate(int cpu)
{
    hypercall(HC_SCHED_OP, SCHEDOP_YIELD, 0);
    if (hypercall3(HC_VCPU_OP, VCPUOP_GET_RUNSTATE_INFO, (uint64_t)cpu, (uint64_t)(uintptr_t)&hbuf->runstate) < 0)
        return 0;
    return hbuf->runstate.state_entry_time;
}

static void hostile_rtsleep(struct tally *t, int cpu)
{
    uint64_t now = xen_now_from_runstate(cpu), r = rnd() % 100, deadline;
    if (r < 40)
        deadline = now - 2000000 + rnd() % 32000000;       /* -2 ms .. +30 ms */
    else if (r < 50)
        deadline = 0;
    else if (r < 60)
        deadline = UINT64_MAX;
    else if (r < 70)
        deadline = rnd();
    else
        deadline = now + rnd() % 11000000000ULL;            /* up to 11 s ahead */
    r = rnd() % 100;
    uint32_t flags = r < 70 ? 0 : r < 85 ? RTCREDIT_RTSLEEP_FLAG_CANCEL : (uint32_t)rnd();
    uint32_t pad = rnd() % 10 ? 0 : (uint32_t)rnd();
    hbuf->rtsleep = (struct rtcredit_sched_rtsleep){ .deadline_ns = deadline, .flags = flags, .pad = pad };
    long rc = hypercall(HC_SCHED_OP, RTCREDIT_SCHEDOP_RTSLEEP, (uint64_t)(uintptr_t)&hbuf->rtsleep);
    t->rtsleeps++;
    switch (rc) {
    case RTCREDIT_RTSLEEP_GRANTED: t->granted++; break;
    case RTCREDIT_RTSLEEP_DEGRADED: t->degraded++; break;
    case RTCREDIT_RTSLEEP_CANCELLED: t->cancelled++; break;
    case -EINVAL: t->einval++; break;
    case -EPERM: t->eperm++; break;
    case -ERANGE: t->erange++; break;
    case -ETIME: t->etime++; break;
    case -EOPNOTSUPP: t->eopnotsupp++; break;
    default: t->unexpected++; t->last_unexpected = rc; break;
    }
}

static void hostile_control(struct tally *t)
{
    long rc, also_ok = -EPERM;
    if (rnd() % 2) {
        memset(&hbuf->domctl, 0, sizeof(hbuf->domctl));
        hbuf->domctl.cmd = DOMCTL_SCHEDULER_OP;
        hbuf->domctl.interface_version = DOMCTL_IFACE_VERSION;
        hbuf->domctl.domain = rnd() % 2 ? DOMID_SELF_ : 0;
        /* domctl takes no DOMID_SELF: Xen looks the domain up (-ESRCH) before the
         * permission check. Dom0 as the target must meet the permission check. */
        if (hbuf->domctl.domain == DOMID_SELF_)
            also_ok = -ESRCH;
        hbuf->domctl.u.scheduler_op.sched_id = RTCREDIT_XEN_SCHEDULER_RTCREDIT;
        hbuf->domctl.u.scheduler_op.cmd = DOMCTL_SCHEDOP_PUTINFO;
        struct rtcredit_domctl_sched *p = &hbuf->domctl.u.scheduler_op.u.rtcredit;
        p->cap = RTCREDIT_DOMCTL_KEEP_CAP;
        p->rt_allowed = 1;
        p->rt_budget_pct = 100;
        rc = hypercall(HC_DOMCTL, (uint64_t)(uintptr_t)&hbuf->domctl, 0);
        t->domctl++;
    } else {
        memset(&hbuf->sysctl, 0, sizeof(hbuf->sysctl));
        hbuf->sysctl.cmd = SYSCTL_SCHEDULER_OP;
        hbuf->sysctl.interface_version = SYSCTL_IFACE_VERSION;
        hbuf->sysctl.u.scheduler_op.sched_id = RTCREDIT_XEN_SCHEDULER_RTCREDIT;
        hbuf->sysctl.u.scheduler_op.cmd = SYSCTL_SCHEDOP_PUTINFO;
        hbuf->sysctl.u.scheduler_op.rtcredit.tslice_ms = 1;
        rc = hypercall(HC_SYSCTL, (uint64_t)(uintptr_t)&hbuf->sysctl, 0);
        t->sysctl++;
    }
    if (rc != -EPERM && rc != also_ok) {
        t->unexpected++;
        t->last_unexpected = rc;
    }
}

static void hostile_print(const struct tally *t, int cpu, long secs)
{
    printf("schedop: hostile cpu=%d t=%lds steps=%ld rtsleeps=%ld granted=%ld degraded=%ld "
           "cancelled=%ld einval=%ld eperm=%ld erange=%ld etime=%ld eopnotsupp=%ld domctl=%ld "
           "sysctl=%ld yields=%ld unexpected=%ld last_unexpected=%ld rc=%d\n", cpu, secs, t->steps,
           t->rtsleeps, t->granted, t->degraded, t->cancelled, t->einval, t->eperm, t->erange,
           t->etime, t->eopnotsupp, t->domctl, t->sysctl, t->yields, t->unexpected,
           t->last_unexpected, t->unexpected ? 1 : 0);
}

static int hostile_child(int cpu, long seconds, uint64_t seed)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof(set), &set) < 0)
        die_setup("sched_setaffinity");
    map_hbuf();
    rng_state = seed * 0x9E3779B97F4A7C15ULL + (uint64_t)cpu + 1;
    struct tally t = { 0 };
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    long next_print = 5, elapsed = 0;
    while (elapsed < seconds) {
        uint64_t r = rnd() % 100;
        if (r < 60)
            hostile_rtsleep(&t, cpu);
        else if (r < 70)
            for (int i = 0; i < 50; i++)
                hostile_rtsleep(&t, cpu);
        else if (r < 80)
            hostile_control(&t);
        else {
            hypercall(HC_SCHED_OP, SCHEDOP_YIELD, 0);
            t.yields++;
        }
        t.steps++;
        uint64_t pause_ns = rnd() % 3000000;
        if (rnd() % 2) {
            struct timespec ts = { 0, (long)pause_ns };
            nanosleep(&ts, NULL);
        } else {
            struct timespec spin_start, spin_now;
            clock_gettime(CLOCK_MONOTONIC, &spin_start);
            do
                clock_gettime(CLOCK_MONOTONIC, &spin_now);
            while ((uint64_t)((spin_now.tv_sec - spin_start.tv_sec) * 1000000000LL +
                              (spin_now.tv_nsec - spin_start.tv_nsec)) < pause_ns);
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        elapsed = now.tv_sec - start.tv_sec;
        if (elapsed >= next_print) {
            hostile_print(&t, cpu, elapsed);
            next_print += 5;
        }
    }
    hostile_print(&t, cpu, elapsed);
    return t.unexpected ? 1 : 0;
}

static int cmd_hostile(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: schedop hostile SECONDS SEED\n");
        return 2;
    }
    char *end;
    long seconds = strtol(argv[0], &end, 10);
    if (*end || seconds < 1 || seconds > 86400) {
        fprintf(stderr, "schedop: hostile: SECONDS must be 1..86400 (got '%s')\n", argv[0]);
        return 2;
    }
    uint64_t seed = strtoull(argv[1], &end, 0);
    if (*end) {
        fprintf(stderr, "schedop: hostile: SEED must be a number (got '%s')\n", argv[1]);
        return 2;
    }
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    for (int cpu = 0; cpu < cpus; cpu++) {
        pid_t pid = fork();
        if (pid < 0)
            die_setup("fork");
        if (pid == 0)
            exit(hostile_child(cpu, seconds, seed));
    }
    int worst = 0, status;
    while (wait(&status) > 0)
        if (!WIFEXITED(status) || WEXITSTATUS(status))
            worst = 1;
    printf("schedop: hostile done cpus=%ld rc=%d\n", cpus, worst);
    return worst;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: schedop yield [COUNT]\n"
            "       schedop rtsleep DEADLINE_OFFSET_NS FLAGS [PAD]\n"
            "       schedop rtsleep-loop COUNT PERIOD_NS\n"
            "       schedop rtcredit-dom DOMID get|allow|deny\n"
            "       schedop rtcredit-sys get | set TSLICE_MS RATELIMIT_US MIN_PERIOD_US MAX_LEAD_MS\n"
            "       schedop now\n"
            "       schedop debugkeys KEYS\n"
            "       schedop hostile SECONDS SEED\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage();
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    setup();
    const char *cmd = argv[1];
    if (!strcmp(cmd, "yield"))
        return cmd_yield(argc - 2, argv + 2);
    if (!strcmp(cmd, "rtsleep"))
        return cmd_rtsleep(argc - 2, argv + 2);
    if (!strcmp(cmd, "rtsleep-loop"))
        return cmd_rtsleep_loop(argc - 2, argv + 2);
    if (!strcmp(cmd, "rtcredit-sys"))
        return cmd_rtcredit_sys(argc - 2, argv + 2);
    if (!strcmp(cmd, "rtcredit-dom"))
        return cmd_rtcredit_dom(argc - 2, argv + 2);
    if (!strcmp(cmd, "now"))
        return cmd_now();
    if (!strcmp(cmd, "debugkeys"))
        return cmd_debugkeys(argc - 2, argv + 2);
    if (!strcmp(cmd, "hostile"))
        return cmd_hostile(argc - 2, argv + 2);
    usage();
    return 2;
}
