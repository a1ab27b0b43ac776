// SPDX-License-Identifier: GPL-2.0-only
/*
 * C half of the rtsleep module: the parts that are kernel/Xen primitives rather than
 * logic. The Rust half (rtsleep_main.rs) decides what to do; this file only
 *
 *   - tells whether we run on Xen,
 *   - converts a CLOCK_MONOTONIC deadline to Xen system time and issues
 *     HYPERVISOR_sched_op(SCHEDOP_rtsleep, ...),
 *   - reads CLOCK_MONOTONIC and sleeps interruptibly on an absolute hrtimer,
 *   - keeps the calling task on its CPU (migrate_disable) for a sleep.
 *
 * Clock conversion. Xen system time is what the PV clock reports.
 * xen_clocksource_read() is static in arch/x86/xen/time.c and
 * pvclock_clocksource_read()/xen_vcpu are not exported in 7.2. So we read Xen time
 * from the vcpu0 pvclock page when Xen declares the TSC stable, else we take a
 * simultaneous snapshot of CLOCK_MONOTONIC and the clocksource counter with
 * ktime_get_snapshot_id() (EXPORT_SYMBOL_GPL) and use
 *     xen_deadline = mono_deadline - snap.systime + snap.cycles
 * which is valid only while the current clocksource is "xen" (cycles == Xen ns). We
 * check that as well as we can without the clocksource's name: its id must be
 * CSID_GENERIC (not tsc/kvm-clock), and the counter must not be earlier than the time
 * at which this VCPU entered its running state (VCPUOP_get_runstate_info, Xen system
 * time), which jiffies, HPET or ACPI PM counters are not.
 * NTP frequency correction between the snapshot and the deadline (at most the 10 s
 * max lead, at most 500 ppm) is ignored.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/errno.h>
#include <linux/hrtimer.h>
#include <linux/ktime.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/smp.h>
#include <linux/timekeeping.h>
#include <linux/types.h>

#include <xen/xen.h>
#include <xen/interface/xen.h>
#include <xen/interface/vcpu.h>
#include <asm/xen/hypercall.h>
#include <asm/xen/hypervisor.h>
#include <asm/pvclock.h>
#include <asm/tsc.h>
#include <xen/xen-ops.h>

#include "rtsleep_xen.h"

/* Rust: extern "C" fn rtsleep_c_on_xen() -> bool */
bool rtsleep_c_on_xen(void)
{
	return xen_domain();
}

/* Rust: extern "C" fn rtsleep_c_now_ns() -> u64 (CLOCK_MONOTONIC) */
u64 rtsleep_c_now_ns(void)
{
	return ktime_get_ns();
}

#ifdef CONFIG_XEN
/* How far the xen clocksource may trail Xen's switch time (see rtsleep_mono_to_xen). */
#define RTSLEEP_CLOCK_SLACK_NS 1000000ULL

/*
 * Xen system time of @mono_deadline_ns, or -EOPNOTSUPP when this guest gives no way to
 * read Xen system time. Must run with preemption disabled. Two sources, first that
 * works:
 *  1. Xen's pvclock page for vcpu0 (the vDSO's; pvclock_get_pvti_cpu0_va() is
 *     exported), valid from any CPU when Xen sets PVCLOCK_TSC_STABLE_BIT.
 *  2. The "xen" clocksource through ktime_get_snapshot_id() (the default in domUs;
 *     dom0 prefers tsc unless booted with clocksource=xen).
 */
static int rtsleep_mono_to_xen(u64 mono_deadline_ns, u64 *xen_ns)
{
	struct pvclock_vsyscall_time_info *ti = pvclock_get_pvti_cpu0_va();
	struct system_time_snapshot snap;
	struct vcpu_runstate_info rs;

	if (ti && (ti->pvti.flags & PVCLOCK_TSC_STABLE_BIT)) {
		u64 mono_now, xen_now;
		unsigned int version;

		do {
			version = pvclock_read_begin(&ti->pvti);
			mono_now = ktime_get_ns();
			xen_now = __pvclock_read_cycles(&ti->pvti, rdtsc_ordered());
		} while (pvclock_read_retry(&ti->pvti, version));
		pr_info_once("Xen system time from the pvclock page\n");
		*xen_ns = xen_now + (mono_deadline_ns - mono_now);
		return 0;
	}

	/*
	 * The runstate first, then the snapshot: Xen may deschedule this VCPU between the
	 * two (disabled preemption holds only the guest's scheduler), and the entry time
	 * read first belongs to a stay that began before the snapshot, so "now" >= it
	 * whatever happens in between. Read the other way round, a reschedule in between
	 * moved the entry time past the snapshot and the check refused a good clock (seen
	 * once under a loaded host: "cannot read Xen system time", one sleep fell back).
	 */
	if (HYPERVISOR_vcpu_op(VCPUOP_get_runstate_info, xen_vcpu_nr(smp_processor_id()), &rs))
		return -EOPNOTSUPP;
	ktime_get_snapshot_id(CLOCK_MONOTONIC, &snap);
	if (!snap.valid || snap.cs_id != CSID_GENERIC)
		return -EOPNOTSUPP;
	/*
	 * We are running, so Xen "now" >= the time we entered the running state: a check
	 * that the clocksource counts Xen system time at all, which a wrong clock fails by
	 * far more than the slack. The slack is for the guest's own reading, extrapolated
	 * from the VCPU's time info, which can trail the NOW() Xen stamped the switch with:
	 * without it one conversion of ~400 in the module's QEMU test was refused (Xen
	 * under TCG, no stable TSC), and that sleep fell back.
	 */
	if (snap.cycles + RTSLEEP_CLOCK_SLACK_NS < rs.state_entry_time)
		return -EOPNOTSUPP;
	pr_info_once("Xen system time from the xen clocksource\n");
	*xen_ns = snap.cycles + (mono_deadline_ns - (u64)ktime_to_ns(snap.systime));
	return 0;
}

/*
 * Rust: extern "C" fn rtsleep_c_mono_to_xen(cpu: u32, mono_deadline_ns: u64,
 *                                           xen_ns: *mut u64) -> i32
 * Writes the Xen system time of the CLOCK_MONOTONIC deadline. 0, -EOPNOTSUPP when it
 * cannot be converted here (not on Xen, clocksource not Xen), -EXDEV when the caller is
 * not on @cpu (it must be pinned there: a bug otherwise).
 */
int rtsleep_c_mono_to_xen(u32 cpu, u64 mono_deadline_ns, u64 *xen_ns)
{
	int ret;

	if (!xen_domain())
		return -EOPNOTSUPP;
	preempt_disable();
	ret = WARN_ON_ONCE(smp_processor_id() != cpu) ? -EXDEV
						       : rtsleep_mono_to_xen(mono_deadline_ns, xen_ns);
	preempt_enable();
	return ret;
}

/*
 * Rust: extern "C" fn rtsleep_c_sched_op(cpu: u32, cmd: u32, arg: *mut c_void,
 *                                        result: *mut i32) -> i32
 * HYPERVISOR_sched_op(@cmd, @arg) on @cpu's VCPU: the command and its argument are the
 * Rust half's (abi/src/hypercall.rs), this helper only reaches the hypercall page.
 * Returns 0 when the hypercall was issued (its result in *result), -EOPNOTSUPP when not
 * on Xen, -EXDEV when the caller is not on @cpu.
 */
int rtsleep_c_sched_op(u32 cpu, u32 cmd, void *arg, int *result)
{
	int ret = 0;

	if (!xen_domain())
		return -EOPNOTSUPP;
	/* SCHEDOP_rtsleep applies to the calling VCPU: issue it on the pinned one. */
	preempt_disable();
	if (WARN_ON_ONCE(smp_processor_id() != cpu))
		ret = -EXDEV;
	else
		*result = HYPERVISOR_sched_op(cmd, arg);
	preempt_enable();
	return ret;
}
#else
int rtsleep_c_mono_to_xen(u32 cpu, u64 mono_deadline_ns, u64 *xen_ns)
{
	return -EOPNOTSUPP;
}

int rtsleep_c_sched_op(u32 cpu, u32 cmd, void *arg, int *result)
{
	return -EOPNOTSUPP;
}
#endif

/*
 * Rust: extern "C" fn rtsleep_c_sleep_until(mono_deadline_ns: i64, pinned: bool) -> i32
 * Sleeps interruptibly until the absolute CLOCK_MONOTONIC time; no timer slack (the
 * caller asked for a precise wake-up). With @pinned the hrtimer is queued on this CPU
 * (HRTIMER_MODE_PINNED: not moved to a busy CPU by timer migration), so the interrupt
 * comes on the VCPU whose deadline was registered. 0 at/after the deadline, -EINTR on a
 * signal.
 */
int rtsleep_c_sleep_until(s64 mono_deadline_ns, bool pinned)
{
	ktime_t expires = ns_to_ktime(mono_deadline_ns);
	enum hrtimer_mode mode = pinned ? HRTIMER_MODE_ABS_PINNED : HRTIMER_MODE_ABS;

	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (!schedule_hrtimeout_range(&expires, 0, mode))
			return 0;
		if (signal_pending(current))
			return -EINTR;
		/* Spurious wake-up: sleep again until the same deadline. */
	}
}

/*
 * Rust: extern "C" fn rtsleep_c_pin_cpu() -> u32 (CpuPin::new)
 * Keeps the calling task on its CPU until rtsleep_c_unpin_cpu(), across sleeps, and
 * returns that CPU. migrate_disable() keeps the task's affinity mask: an affinity change
 * made meanwhile is applied by migrate_enable().
 */
u32 rtsleep_c_pin_cpu(void)
{
	migrate_disable();
	return smp_processor_id();
}

/* Rust: extern "C" fn rtsleep_c_unpin_cpu() (CpuPin::drop) */
void rtsleep_c_unpin_cpu(void)
{
	migrate_enable();
}
