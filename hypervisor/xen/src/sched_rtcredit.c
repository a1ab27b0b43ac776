/* SPDX-License-Identifier: GPL-2.0-only */
/****************************************************************************
 * RT-Credit: Xen's credit scheduler plus a guest-declared real-time wake-up.
 *
 * This file is only the adapter between Xen's `struct scheduler` and the
 * scheduling core, which is written in Rust (hypervisor/src in the RT-Credit
 * repository) and linked in as rtcredit_core.o. The core holds the whole
 * policy and never touches Xen: it is told the time and returns what to do.
 * This file owns everything that is Xen's: memory, locks, timers, softirqs,
 * cpumasks, hypercall and domctl/sysctl plumbing, tracing and the dump.
 *
 * Locks. Each CPU's schedule lock (Xen's per-CPU runqueue lock, the one the
 * generic code holds when it calls sleep/wake/do_schedule) guards that CPU's
 * struct rtcredit_cpu and the units resident on it. The private lock (prv->lock)
 * guards struct rtcredit_acct and the domains' parameters. Order: private lock
 * first, then one CPU lock, exactly as Xen's credit. Code running under a CPU
 * lock never takes the private lock, and takes a peer CPU's lock only with
 * try-lock (work stealing in do_schedule).
 *
 * Timers. Per CPU, the tick (10 ms by default): started and stopped as the
 * core says when the CPU leaves or enters idle. Per unit, the RT timer, armed
 * at the deadline the guest registered with SCHEDOP_rtsleep and migrated with
 * the unit. One accounting timer, every time slice, on the first CPU.
 *
 * CPU removal and cpupool moves: Xen moves every unit off a CPU before it
 * calls deinit_pdata, so the core only checks the CPU is empty (and says so
 * in the log if not). CPUs with ids of RTCREDIT_MAX_CPUS (256) or more are refused
 * in alloc_pdata. What makes these paths safe is explained where it applies: a
 * unit may have no CPU yet in alloc_udata (sched_move_domain); the pool's CPU
 * mask, not the core's, bounds every placement (rtcx_pick_cpu); timer handlers
 * find their scheduler in their own data, and their timers are killed outside the
 * private lock (rtcx_deinit_pdata); the picked unit's VCPU states are set with
 * unit_runnable_state (rtcx_schedule). With sched-gran above 1, SCHEDOP_rtsleep
 * is refused (rtcx_switch_sched).
 ****************************************************************************/

#include <xen/cpumask.h>
#include <xen/errno.h>
#include <xen/init.h>
#include <xen/lib.h>
#include <xen/param.h>
#include <xen/sched.h>
#include <xen/softirq.h>
#include <xen/time.h>
#include <xen/timer.h>
#include <xen/trace.h>
#include <xen/xmalloc.h>
#include <public/sched.h>

#include "private.h"
#include "rtcredit.h"

/*
 * Boot parameters (the sysctl can change them later). OPT_UNSET: not on the command
 * line, the core's default (rtcredit_params_default) stands; 0 is a real value for the
 * rate limit (off), so it cannot mean "unset".
 */
#define OPT_UNSET UINT_MAX
static unsigned int __read_mostly opt_tslice_ms = OPT_UNSET;
integer_param("rtcredit_tslice_ms", opt_tslice_ms);
static unsigned int __read_mostly opt_ratelimit_us = OPT_UNSET;
integer_param("rtcredit_ratelimit_us", opt_ratelimit_us);
static unsigned int __read_mostly opt_min_period_us = OPT_UNSET;
integer_param("rtcredit_min_period_us", opt_min_period_us);
/*
 * RT capacity of every cpupool at boot, in percent of each of its CPUs (the RT
 * budgets granted in a pool may add up to this x its CPUs, in % of one CPU); the
 * sysctl changes it per pool.
 */
static unsigned int __read_mostly opt_rt_capacity_pct = OPT_UNSET;
integer_param("rtcredit_rt_capacity_pct", opt_rt_capacity_pct);
/* Allow dom0 RT from boot (testing); otherwise only a domctl grants RT. */
static bool __read_mostly opt_dom0_rt;
boolean_param("rtcredit_dom0_rt", opt_dom0_rt);

struct rtcx_private {
    spinlock_t lock;            /* the private lock */
    struct rtcredit_shared shared;
    struct rtcredit_acct acct;       /* under lock */
    cpumask_var_t cpus;         /* CPUs added, under lock */
    unsigned int master;        /* CPU running the accounting timer */
    struct timer acct_timer;
};

struct rtcx_pcpu {
    struct rtcredit_cpu core;        /* under this CPU's schedule lock */
    struct rtcx_private *prv;        /* the scheduler (pool) the CPU was made for */
    struct timer ticker;
    unsigned int cpu;
};

struct rtcx_dom {
    struct rtcredit_dom core;
    struct domain *dom;
};

struct rtcx_unit {
    struct rtcredit_unit core;       /* under its CPU's schedule lock */
    struct sched_unit *unit;
    struct rtcx_private *prv;
    struct timer rt_timer;
    bool idle;                  /* Xen's idle unit: unknown to the core */
};

#define RTCX_PRIV(ops)  ((struct rtcx_private *)(ops)->sched_data)
#define RTCX_PCPU(cpu)  ((struct rtcx_pcpu *)get_sched_res(cpu)->sched_priv)
#define RTCX_UNIT(unit) ((struct rtcx_unit *)(unit)->priv)

/*
 * The locking rule the core relies on (its module docs): a call on a CPU's state
 * holds that CPU's schedule lock, a call on the accounting the private lock. The
 * hooks Xen calls with a lock already taken assert it (debug builds), as
 * credit2.c does; the others take it themselves.
 */
#define RTCX_ASSERT_CPU_LOCKED(cpu) \
    ASSERT(spin_is_locked(get_sched_res(cpu)->schedule_lock))

/*
 * The CPU's data if the CPU is still this scheduler's; its schedule lock is held.
 * A timer handler can run on a CPU after schedule_cpu_rm() gave it to the idle
 * scheduler (sr->scheduler and sr->sched_priv replaced under the lock we now hold)
 * and before deinit_pdata() took it out of prv->cpus: there is nothing of ours
 * left to account or tick then.
 */
static struct rtcx_pcpu *rtcx_pcpu_if_ours(const struct rtcx_private *prv,
                                           unsigned int cpu)
{
    const struct sched_resource *sr = get_sched_res(cpu);

    if ( sr == NULL || sr->scheduler == NULL ||
         RTCX_PRIV(sr->scheduler) != prv || sr->sched_priv == NULL )
        return NULL;
    return sr->sched_priv;
}

static const char *rtcx_error(int rc)
{
    switch ( -rc )
    {
    case RTCREDIT_ERROR_CPU_NOT_EMPTY:   return "CPU not empty";
    case RTCREDIT_ERROR_UNIT_BUSY:       return "unit busy";
    case RTCREDIT_ERROR_WRONG_CPU:       return "unit not on that CPU";
    case RTCREDIT_ERROR_CPU_OUT_OF_RANGE:return "CPU id out of range";
    default:                        return "error";
    }
}

/* The core's trace hook: forward to xentrace under our scheduler class. */
static void cf_check rtcx_trace(void *ctx, uint32_t event, const uint32_t *data,
                                uint32_t len)
{
    if ( likely(!tb_init_done) )
        return;
    __trace_var(RTCREDIT_TRC_SCHED_CLASS | ((RTCREDIT_TRC_SCHED_RTCREDIT & 0x7) << 9) |
                (event & 0x1ff), 1, len * sizeof(uint32_t), data);
}

/*
 * Send the schedule softirq to the CPUs the core named. This runs at every wake and
 * pass, so it visits only the set bits: when it tested all 256 of them, the wake-up
 * of a task on /dev/rtsleep took 20 us longer at p50 (Xen under QEMU, one pCPU,
 * 0.17 against 0.15 ms; docs/results/e2e-rt-tickle/).
 */
static void rtcx_tickle(const struct rtcredit_cpumask *tickle)
{
    cpumask_t mask;
    unsigned int word;
    uint64_t bits;

    cpumask_clear(&mask);
    for ( word = 0; word < ARRAY_SIZE(tickle->bits); word++ )
        for ( bits = tickle->bits[word]; bits; bits &= bits - 1 )
        {
            unsigned int cpu = word * 64 + __builtin_ctzll(bits);

            if ( cpu < nr_cpu_ids )
                __cpumask_set_cpu(cpu, &mask);
        }
    if ( !cpumask_empty(&mask) )
        cpumask_raise_softirq(&mask, SCHEDULE_SOFTIRQ);
}

static void rtcx_mask_from_xen(struct rtcredit_cpumask *out, const cpumask_t *in)
{
    unsigned int cpu;

    memset(out, 0, sizeof(*out));
    for_each_cpu ( cpu, in )
        if ( cpu < RTCREDIT_MAX_CPUS )
            out->bits[cpu / 64] |= 1ULL << (cpu % 64);
}

static struct rtcredit_params rtcx_boot_params(void)
{
    struct rtcredit_params p;

    BUG_ON(rtcredit_params_default(&p) < 0);
    if ( opt_tslice_ms != OPT_UNSET )
        p.tslice_ns = MILLISECS(opt_tslice_ms);
    if ( opt_ratelimit_us != OPT_UNSET )
        p.ratelimit_ns = MICROSECS(opt_ratelimit_us);
    if ( opt_min_period_us != OPT_UNSET )
        p.rt_min_period_ns = MICROSECS(opt_min_period_us);
    if ( opt_rt_capacity_pct != OPT_UNSET )
        p.rt_capacity_pct = opt_rt_capacity_pct;
    return p;
}

/* ---- accounting and ticks ------------------------------------------------ */

static void cf_check rtcx_account(void *data)
{
    struct rtcx_private *prv = data;
    struct rtcredit_cpumask tickle, all;
    unsigned long flags;
    unsigned int cpu, word;
    uint64_t next = 0;
    s_time_t now = NOW();

    memset(&all, 0, sizeof(all));
    spin_lock_irqsave(&prv->lock, flags);
    rtcredit_account_begin(&prv->shared, &prv->acct);
    for_each_cpu ( cpu, prv->cpus )
    {
        spinlock_t *lock = pcpu_schedule_lock(cpu);
        struct rtcx_pcpu *spc = rtcx_pcpu_if_ours(prv, cpu);

        if ( spc != NULL &&
             rtcredit_account_cpu(&prv->shared, &prv->acct, &spc->core, now,
                                  &tickle) == 0 )
            for ( word = 0; word < ARRAY_SIZE(all.bits); word++ )
                all.bits[word] |= tickle.bits[word];
        pcpu_schedule_unlock(lock, cpu);
    }
    rtcredit_account_end(&prv->shared, &prv->acct, now, &next);
    /* The pool's last CPU left while we waited for the lock: deinit_pdata kills us. */
    if ( prv->master == UINT_MAX )
        next = 0;
    spin_unlock_irqrestore(&prv->lock, flags);

    rtcx_tickle(&all);
    if ( next )
        set_timer(&prv->acct_timer, next);
}

/*
 * The CPU's tick. The scheduler comes from spc, not from the CPU's sched_resource:
 * once schedule_cpu_rm() has switched the CPU to the idle scheduler, the resource
 * no longer names us (and its sched_data is NULL), while deinit_pdata(), which
 * kills this timer, has not run yet.
 */
static void cf_check rtcx_tick(void *data)
{
    struct rtcx_pcpu *spc = data;
    struct rtcx_private *prv = spc->prv;
    unsigned long flags;
    spinlock_t *lock;
    uint64_t next = 0;

    spin_lock_irqsave(&prv->lock, flags);
    lock = pcpu_schedule_lock(spc->cpu);
    if ( cpumask_test_cpu(spc->cpu, prv->cpus) &&
         rtcx_pcpu_if_ours(prv, spc->cpu) == spc )
        rtcredit_tick(&prv->shared, &prv->acct, &spc->core, NOW(), &next);
    pcpu_schedule_unlock(lock, spc->cpu);
    spin_unlock_irqrestore(&prv->lock, flags);

    if ( next )
        set_timer(&spc->ticker, next);
}

/* ---- RT timer and the hypercall ----------------------------------------- */

/*
 * The unit's RT timer where the core wants it now: at its deadline while the unit is
 * runnable, stopped while it sleeps, when its wake serves the deadline. A second timer
 * due a few microseconds before the guest's own one-shot timer (set for the same
 * deadline) pushed that one back by timer_slop: after each timer interrupt Xen
 * programs the next at least that far ahead. Called, with the unit's schedule lock
 * held, after every core call that may change whether the unit is runnable.
 */
static void rtcx_sync_rt_timer(struct rtcx_unit *svc)
{
    uint64_t at_ns = 0;

    if ( rtcredit_rt_timer_at(&svc->core, &at_ns) != 0 || at_ns == 0 )
        stop_timer(&svc->rt_timer);
    else if ( !timer_is_active(&svc->rt_timer) || svc->rt_timer.expires != at_ns )
        set_timer(&svc->rt_timer, at_ns);
}

static void cf_check rtcx_rt_timer(void *data)
{
    struct rtcx_unit *svc = data;
    struct sched_unit *unit = svc->unit;
    struct rtcx_private *prv = svc->prv;
    struct rtcx_pcpu *spc;
    struct rtcredit_cpumask tickle;
    uint64_t rearm_at_ns = 0;
    unsigned long flags;
    spinlock_t *lock;
    int rc;

    lock = unit_schedule_lock_irqsave(unit, &flags);
    spc = rtcx_pcpu_if_ours(prv, sched_unit_master(unit));
    /*
     * The unit blocked and its CPU's schedule softirq has not run yet (the timer
     * softirq runs first): tell the core now, as rtcx_schedule would, so that the
     * deadline waits for the wake instead of starting RT on a blocked unit.
     */
    if ( spc != NULL && !unit_runnable(unit) &&
         curr_on_cpu(sched_unit_master(unit)) == unit )
    {
        struct rtcredit_cpumask ignored;

        rtcredit_sleep(&prv->shared, &spc->core, &svc->core, &ignored);
    }
    /* A unit being moved to another pool or destroyed: remove_unit cleared it. */
    rc = spc == NULL ? -RTCREDIT_ERROR_WRONG_CPU
                     : rtcredit_rt_fire(&prv->shared, &spc->core, &svc->core, NOW(),
                                        &tickle, &rearm_at_ns);
    /* Fired early (timer slop): the core names the deadline to wait for, if the unit
     * is runnable (a sleeping unit's wake serves it). */
    if ( rearm_at_ns )
        set_timer(&svc->rt_timer, rearm_at_ns);
    unit_schedule_unlock_irqrestore(lock, flags, unit);

    if ( rc == 0 )
        rtcx_tickle(&tickle);
}

/* SCHEDOP_rtsleep for the calling unit; its schedule lock is held. */
static int cf_check rtcx_rtsleep(const struct scheduler *ops,
                                 struct sched_unit *unit,
                                 const struct sched_rtsleep *arg)
{
    struct rtcx_private *prv = RTCX_PRIV(ops);
    struct rtcx_unit *svc = RTCX_UNIT(unit);
    struct rtcredit_sched_rtsleep args = {
        .deadline_ns = arg->deadline_ns,
        .flags = arg->flags,
        .pad = arg->pad,
    };
    struct rtcredit_rtsleep_outcome outcome = { 0 };
    int rc;

    RTCX_ASSERT_CPU_LOCKED(sched_unit_master(unit));
    if ( svc->idle )
        return -EINVAL;
    /* See rtcx_switch_sched: one deadline per unit cannot serve several VCPUs. */
    if ( cpupool_get_granularity(ops->cpupool) > 1 )
        return -EOPNOTSUPP;
    rc = rtcredit_rtsleep(&prv->shared, &RTCX_PCPU(sched_unit_master(unit))->core,
                     &svc->core, &args, NOW(), &outcome);
    /* The call ended the caller's RT (refused or not: its task has reached its
     * sleep): a pass here puts it behind its equals. */
    if ( outcome.reschedule )
        raise_softirq(SCHEDULE_SOFTIRQ);
    if ( rc < 0 )
        return -rtcredit_errno(rc);
    /* A deadline already due comes back with arm_at_ns in the past: the
     * timer fires at once and the core serves the deadline at RT there. */
    if ( outcome.arm_at_ns )
        set_timer(&svc->rt_timer, outcome.arm_at_ns);
    else
        stop_timer(&svc->rt_timer);
    return outcome.result;
}

/* ---- global and per-CPU data --------------------------------------------- */

static int cf_check rtcx_init(struct scheduler *ops)
{
    struct rtcx_private *prv = xzalloc(struct rtcx_private);
    struct rtcredit_params params = rtcx_boot_params();
    int rc;

    if ( prv == NULL )
        return -ENOMEM;
    if ( !zalloc_cpumask_var(&prv->cpus) )
    {
        xfree(prv);
        return -ENOMEM;
    }

    rc = rtcredit_init(&prv->shared, &prv->acct, &params, rtcx_trace, NULL);
    if ( rc < 0 )
    {
        printk(XENLOG_WARNING "rtcredit: bad boot parameters (error %d), "
               "using the defaults\n", rc);
        BUG_ON(rtcredit_params_default(&params) < 0);
        rc = rtcredit_init(&prv->shared, &prv->acct, &params, rtcx_trace, NULL);
        BUG_ON(rc < 0);
    }

    spin_lock_init(&prv->lock);
    prv->master = UINT_MAX;
    ops->sched_data = prv;
    return 0;
}

static void cf_check rtcx_deinit(struct scheduler *ops)
{
    struct rtcx_private *prv = RTCX_PRIV(ops);

    if ( prv == NULL )
        return;
    ops->sched_data = NULL;
    free_cpumask_var(prv->cpus);
    xfree(prv);
}

static void *cf_check rtcx_alloc_pdata(const struct scheduler *ops, int cpu)
{
    struct rtcx_pcpu *spc;

    if ( cpu >= RTCREDIT_MAX_CPUS )
    {
        printk(XENLOG_ERR "rtcredit: CPU%d is beyond the %d CPUs supported\n",
               cpu, RTCREDIT_MAX_CPUS);
        return ERR_PTR(-EINVAL);
    }
    spc = xzalloc(struct rtcx_pcpu);
    if ( spc == NULL )
        return ERR_PTR(-ENOMEM);
    rtcredit_cpu_init(&spc->core, cpu);
    spc->prv = RTCX_PRIV(ops);
    spc->cpu = cpu;
    return spc;
}

static void cf_check rtcx_free_pdata(const struct scheduler *ops, void *pcpu,
                                     int cpu)
{
    xfree(pcpu);
}

/*
 * The CPU joins this scheduler. Xen holds the CPU's (old) schedule lock with
 * interrupts off; the CPU is not yet in prv->cpus, so nobody takes the two
 * locks the other way round for it.
 */
static spinlock_t *cf_check rtcx_switch_sched(struct scheduler *new_ops,
                                             unsigned int cpu, void *pdata,
                                             void *vdata)
{
    struct rtcx_private *prv = RTCX_PRIV(new_ops);
    struct rtcx_pcpu *spc = pdata;
    struct sched_resource *sr = get_sched_res(cpu);
    int rc;

    sched_idle_unit(cpu)->priv = vdata;

    spin_lock(&prv->lock);
    rc = rtcredit_cpu_add(&prv->shared, &prv->acct, &spc->core);
    if ( rc < 0 )
        printk(XENLOG_ERR "rtcredit: CPU%u not added: %s\n", cpu, rtcx_error(rc));
    cpumask_set_cpu(cpu, prv->cpus);
    init_timer(&spc->ticker, rtcx_tick, spc, cpu);
    if ( prv->master == UINT_MAX )
    {
        struct rtcredit_params params;

        /*
         * sched-gran=core or socket: a unit is several VCPUs scheduled together,
         * and the core keeps one RT deadline per unit, so sibling VCPUs would
         * overwrite each other's. SCHEDOP_rtsleep is refused (-EOPNOTSUPP, the
         * answer of a scheduler without RT) rather than served wrongly. Such
         * pools are not supported yet as a whole: a boot with sched-gran=core
         * under QEMU never reached dom0's first line (README, "sched-gran").
         */
        if ( cpupool_get_granularity(new_ops->cpupool) > 1 )
            printk(XENLOG_WARNING "rtcredit: cpupool %d: %u CPUs per scheduling "
                   "unit (sched-gran): SCHEDOP_rtsleep is refused with -EOPNOTSUPP "
                   "in this pool (one RT deadline per unit cannot serve several "
                   "VCPUs)\n",
                   new_ops->cpupool ? (int)new_ops->cpupool->cpupool_id : -1,
                   cpupool_get_granularity(new_ops->cpupool));
        prv->master = cpu;
        rtcredit_get_params(&prv->acct, &params);
        init_timer(&prv->acct_timer, rtcx_account, prv, cpu);
        set_timer(&prv->acct_timer, NOW() + params.tslice_ns);
    }
    spin_unlock(&prv->lock);

    return &sr->_lock;
}

/*
 * The CPU leaves this scheduler (cpupool-cpu-remove, CPU offline). Xen has already
 * moved every unit away and switched the CPU to the idle scheduler.
 *
 * kill_timer() waits for a handler running on another CPU to finish, and both the
 * tick and the accounting handler take the private lock first: killing either timer
 * while holding that lock deadlocks against a handler spinning on it. So the CPU is
 * taken out of prv->cpus under the lock (a handler that then gets the lock finds it
 * gone and does nothing) and the timers are killed after it is dropped.
 */
static void cf_check rtcx_deinit_pdata(const struct scheduler *ops, void *pcpu,
                                       int cpu)
{
    struct rtcx_private *prv = RTCX_PRIV(ops);
    struct rtcx_pcpu *spc = pcpu;
    unsigned long flags;
    bool last = false;
    int rc;

    spin_lock_irqsave(&prv->lock, flags);
    rc = rtcredit_cpu_remove(&prv->shared, &prv->acct, &spc->core);
    if ( rc < 0 )
        printk(XENLOG_ERR "rtcredit: CPU%d removed while %s\n", cpu,
               rtcx_error(rc));
    cpumask_clear_cpu(cpu, prv->cpus);
    if ( prv->master == cpu )
    {
        if ( cpumask_empty(prv->cpus) )
        {
            prv->master = UINT_MAX;
            last = true;
        }
        else
        {
            prv->master = cpumask_first(prv->cpus);
            migrate_timer(&prv->acct_timer, prv->master);
        }
    }
    spin_unlock_irqrestore(&prv->lock, flags);

    kill_timer(&spc->ticker);
    if ( last )
        kill_timer(&prv->acct_timer);
}

static void cf_check rtcx_move_timers(const struct scheduler *ops,
                                      struct sched_resource *sr)
{
    struct rtcx_private *prv = RTCX_PRIV(ops);
    struct rtcx_pcpu *spc = sr->sched_priv;

    if ( sr->master_cpu == prv->master )
        migrate_timer(&prv->acct_timer, prv->master);
    migrate_timer(&spc->ticker, sr->master_cpu);
}

/* ---- domains and units --------------------------------------------------- */

/*
 * A domain arriving in this pool: from another rtcredit pool (a cpupool move:
 * Xen allocates the new domdata while d->cpupool and d->sched_priv are still
 * the old pool's), it asks for its old parameters here, RT grant included,
 * through the same admission as a domctl; if the RT grant does not fit this
 * pool's RT capacity, it arrives with its weight and cap but without RT, and
 * the log says what was left. The old pool gets the share back when Xen frees
 * the old domdata. A new domain starts without RT (dom0 with rtcredit_dom0_rt).
 */
static void rtcx_dom_arrive(const struct scheduler *ops, struct rtcx_dom *sdom,
                            struct domain *d)
{
    struct rtcx_private *prv = RTCX_PRIV(ops);
    const struct scheduler *old_ops = d->cpupool != NULL ? d->cpupool->sched : NULL;
    struct rtcredit_dom_params params;
    struct rtcredit_rt_capacity capacity;
    bool moved = d->sched_priv != NULL && old_ops != NULL && old_ops != ops &&
                 old_ops->sched_id == XEN_SCHEDULER_RTCREDIT;
    unsigned long flags;
    int rc;

    if ( moved )
    {
        struct rtcx_private *old = RTCX_PRIV(old_ops);
        const struct rtcx_dom *old_sdom = d->sched_priv;

        spin_lock_irqsave(&old->lock, flags);
        rtcredit_dom_get_params(&old->acct, &old_sdom->core, &params);
        spin_unlock_irqrestore(&old->lock, flags);
    }
    else if ( opt_dom0_rt && is_hardware_domain(d) )
    {
        spin_lock_irqsave(&prv->lock, flags);
        rtcredit_dom_get_params(&prv->acct, &sdom->core, &params);
        spin_unlock_irqrestore(&prv->lock, flags);
        params.rt_allowed = true;
    }
    else
        return;

    spin_lock_irqsave(&prv->lock, flags);
    rc = rtcredit_dom_set_params(&prv->shared, &prv->acct, &sdom->core, &params);
    if ( rc == -RTCREDIT_ERROR_RT_CAPACITY_EXCEEDED )
    {
        params.rt_allowed = false;
        rc = rtcredit_dom_set_params(&prv->shared, &prv->acct, &sdom->core,
                                     &params);
        rtcredit_get_rt_capacity(&prv->acct, &capacity);
        printk(XENLOG_WARNING "rtcredit: %pd arrives without RT: its RT budget "
               "of %u%% exceeds the pool's remaining RT capacity of %u%% "
               "(capacity %u%%, granted %u%%)\n", d, params.rt_budget_pct,
               capacity.capacity_pct > capacity.granted_pct ?
               capacity.capacity_pct - capacity.granted_pct : 0,
               capacity.capacity_pct, capacity.granted_pct);
    }
    spin_unlock_irqrestore(&prv->lock, flags);
    if ( rc < 0 )
        printk(XENLOG_ERR "rtcredit: %pd: parameters not carried over (error %d)\n",
               d, rc);
}

static void *cf_check rtcx_alloc_domdata(const struct scheduler *ops,
                                         struct domain *d)
{
    struct rtcx_dom *sdom = xzalloc(struct rtcx_dom);

    if ( sdom == NULL )
        return ERR_PTR(-ENOMEM);
    rtcredit_dom_init(&sdom->core, d->domain_id);
    sdom->dom = d;
    rtcx_dom_arrive(ops, sdom, d);
    return sdom;
}

/* The domain leaves the pool (destroyed or moved): its RT share goes back. */
static void cf_check rtcx_free_domdata(const struct scheduler *ops, void *data)
{
    struct rtcx_private *prv = RTCX_PRIV(ops);
    struct rtcx_dom *sdom = data;
    unsigned long flags;

    if ( sdom == NULL )
        return;
    spin_lock_irqsave(&prv->lock, flags);
    rtcredit_dom_release(&prv->shared, &prv->acct, &sdom->core);
    spin_unlock_irqrestore(&prv->lock, flags);
    xfree(sdom);
}

static void *cf_check rtcx_alloc_udata(const struct scheduler *ops,
                                       struct sched_unit *unit, void *dd)
{
    struct rtcx_unit *svc = xzalloc(struct rtcx_unit);

    if ( svc == NULL )
        return NULL;
    svc->unit = unit;
    svc->prv = RTCX_PRIV(ops);
    svc->idle = is_idle_unit(unit);
    if ( !svc->idle )
    {
        struct rtcx_dom *sdom = dd;

        rtcredit_unit_init(&svc->core, &sdom->core, unit->unit_id, svc);
        /*
         * The unit may have no CPU yet: sched_move_domain() allocates the units
         * for the new pool before it gives them a sched_resource (unit->res is
         * NULL). The timer starts on the CPU running this code, which is online,
         * and follows the unit from insert_unit on (insert_unit, migrate and a
         * steal in do_schedule each move it). Its handler takes the unit's lock
         * wherever it runs, so the CPU it fires on is a matter of cache only.
         */
        init_timer(&svc->rt_timer, rtcx_rt_timer, svc, smp_processor_id());
    }
    return svc;
}

static void cf_check rtcx_free_udata(const struct scheduler *ops, void *priv)
{
    struct rtcx_unit *svc = priv;

    if ( svc && !svc->idle )
        kill_timer(&svc->rt_timer);
    xfree(svc);
}

/*
 * Where the unit may live: the core's choice if the unit's pool still offers that
 * CPU and its hard affinity allows it, else the next such CPU after its current one.
 * The core's set of CPUs lags behind the pool's: cpupool-cpu-remove takes the CPU
 * out of the pool's res_valid, then moves every unit off it (pick_resource), and
 * only then calls deinit_pdata, which takes it out of the core. Answering the
 * CPU being removed there makes sched_unit_migrate_finish() ask again forever
 * (it loops until the answer is in cpu_valid): the hang of cpupool-cpu-remove.
 */
static unsigned int rtcx_pick_cpu(const struct rtcx_private *prv,
                                  const struct sched_unit *unit)
{
    const cpumask_t *pool = cpupool_domain_master_cpumask(unit->domain);
    int cpu = rtcredit_pick_cpu(&prv->shared, &RTCX_UNIT(unit)->core);
    unsigned int cur = unit->res ? sched_unit_master(unit) : cpumask_first(pool);
    cpumask_t allowed;

    if ( cpu >= 0 && cpumask_test_cpu(cpu, pool) &&
         cpumask_test_cpu(cpu, unit->cpu_hard_affinity) )
        return cpu;
    cpumask_and(&allowed, pool, unit->cpu_hard_affinity);
    /* No pool CPU in the hard affinity: Xen breaks the affinity (as for credit). */
    if ( cpumask_empty(&allowed) )
        cpumask_copy(&allowed, pool);
    /* An empty pool holds no running domain (cpupool refuses that); stay put. */
    if ( cpumask_empty(&allowed) || cpumask_test_cpu(cur, &allowed) )
        return cur;
    return cpumask_cycle(cur, &allowed);
}

static void cf_check rtcx_insert_unit(const struct scheduler *ops,
                                      struct sched_unit *unit)
{
    struct rtcx_private *prv = RTCX_PRIV(ops);
    struct rtcx_unit *svc = RTCX_UNIT(unit);
    struct rtcredit_cpumask affinity, tickle;
    spinlock_t *lock;
    int cpu, rc;

    ASSERT(!svc->idle);

    /* Place it first (pick_resource looks at its current CPU's state). */
    lock = unit_schedule_lock_irq(unit);
    rtcx_mask_from_xen(&affinity, unit->cpu_hard_affinity);
    rtcredit_set_affinity(&prv->shared, &svc->core, &affinity);
    cpu = rtcx_pick_cpu(prv, unit);
    sched_set_res(unit, get_sched_res(cpu));
    migrate_timer(&svc->rt_timer, cpu);
    spin_unlock_irq(lock);

    lock = unit_schedule_lock_irq(unit);
    rc = rtcredit_unit_insert(&prv->shared, &RTCX_PCPU(sched_unit_master(unit))->core,
                         &svc->core, unit_runnable(unit) && !unit->is_running,
                         NOW(), &tickle);
    unit_schedule_unlock_irq(lock, unit);

    if ( rc == 0 )
        rtcx_tickle(&tickle);
    else
        printk(XENLOG_ERR "rtcredit: %pdv%u not inserted: %s\n",
               unit->domain, unit->unit_id, rtcx_error(rc));
}

static void cf_check rtcx_remove_unit(const struct scheduler *ops,
                                      struct sched_unit *unit)
{
    struct rtcx_private *prv = RTCX_PRIV(ops);
    struct rtcx_unit *svc = RTCX_UNIT(unit);
    unsigned long flags;
    spinlock_t *lock;
    int rc;

    ASSERT(!svc->idle);
    stop_timer(&svc->rt_timer);
    spin_lock_irqsave(&prv->lock, flags);
    lock = unit_schedule_lock(unit);
    rc = rtcredit_unit_remove(&prv->shared, &prv->acct,
                         &RTCX_PCPU(sched_unit_master(unit))->core, &svc->core);
    unit_schedule_unlock(lock, unit);
    spin_unlock_irqrestore(&prv->lock, flags);
    if ( rc < 0 )
        printk(XENLOG_ERR "rtcredit: %pdv%u not removed: %s\n",
               unit->domain, unit->unit_id, rtcx_error(rc));
}

/* The unit's schedule lock is held by the caller in sleep/wake/yield. */
static void cf_check rtcx_sleep(const struct scheduler *ops,
                                struct sched_unit *unit)
{
    struct rtcx_private *prv = RTCX_PRIV(ops);
    struct rtcredit_cpumask tickle;

    RTCX_ASSERT_CPU_LOCKED(sched_unit_master(unit));
    if ( rtcredit_sleep(&prv->shared, &RTCX_PCPU(sched_unit_master(unit))->core,
                   &RTCX_UNIT(unit)->core, &tickle) == 0 )
        rtcx_tickle(&tickle);
    rtcx_sync_rt_timer(RTCX_UNIT(unit));
}

static void cf_check rtcx_wake(const struct scheduler *ops,
                               struct sched_unit *unit)
{
    struct rtcx_private *prv = RTCX_PRIV(ops);
    struct rtcredit_cpumask tickle;

    RTCX_ASSERT_CPU_LOCKED(sched_unit_master(unit));
    if ( rtcredit_wake(&prv->shared, &RTCX_PCPU(sched_unit_master(unit))->core,
                  &RTCX_UNIT(unit)->core, NOW(), &tickle) == 0 )
        rtcx_tickle(&tickle);
    rtcx_sync_rt_timer(RTCX_UNIT(unit));
}

static void cf_check rtcx_yield(const struct scheduler *ops,
                                struct sched_unit *unit)
{
    RTCX_ASSERT_CPU_LOCKED(sched_unit_master(unit));
    rtcredit_yield(&RTCX_PCPU(sched_unit_master(unit))->core, &RTCX_UNIT(unit)->core);
}

static void cf_check rtcx_context_saved(const struct scheduler *ops,
                                        struct sched_unit *unit)
{
    struct rtcx_unit *svc = RTCX_UNIT(unit);
    spinlock_t *lock;

    if ( svc->idle )
        return;
    lock = unit_schedule_lock_irq(unit);
    rtcredit_context_saved(&RTCX_PCPU(sched_unit_master(unit))->core, &svc->core);
    unit_schedule_unlock_irq(lock, unit);
}

static struct sched_resource *cf_check
rtcx_pick_resource(const struct scheduler *ops, const struct sched_unit *unit)
{
    return get_sched_res(rtcx_pick_cpu(RTCX_PRIV(ops), unit));
}

/* Both CPUs' schedule locks are held by the caller. */
static void cf_check rtcx_migrate(const struct scheduler *ops,
                                  struct sched_unit *unit, unsigned int new_cpu)
{
    struct rtcx_private *prv = RTCX_PRIV(ops);
    struct rtcx_unit *svc = RTCX_UNIT(unit);
    unsigned int old_cpu = sched_unit_master(unit);
    struct rtcredit_cpumask tickle;
    int rc;

    RTCX_ASSERT_CPU_LOCKED(old_cpu);
    RTCX_ASSERT_CPU_LOCKED(new_cpu);
    rc = rtcredit_migrate(&prv->shared, &RTCX_PCPU(old_cpu)->core,
                     &RTCX_PCPU(new_cpu)->core, &svc->core, &tickle);
    if ( rc < 0 )
    {
        printk(XENLOG_ERR "rtcredit: %pdv%u not moved to CPU%u: %s\n",
               unit->domain, unit->unit_id, new_cpu, rtcx_error(rc));
        return;
    }
    sched_set_res(unit, get_sched_res(new_cpu));
    migrate_timer(&svc->rt_timer, new_cpu);
    rtcx_tickle(&tickle);
}

static void cf_check rtcx_adjust_affinity(const struct scheduler *ops,
                                          struct sched_unit *unit,
                                          const cpumask_t *hard,
                                          const cpumask_t *soft)
{
    struct rtcx_private *prv = RTCX_PRIV(ops);
    struct rtcredit_cpumask affinity;

    if ( !hard || RTCX_UNIT(unit)->idle )
        return;
    rtcx_mask_from_xen(&affinity, hard);
    /* An affinity without any of our CPUs keeps the old one; Xen migrates. */
    rtcredit_set_affinity(&prv->shared, &RTCX_UNIT(unit)->core, &affinity);
}

/* ---- scheduling ---------------------------------------------------------- */

static void cf_check rtcx_schedule(const struct scheduler *ops,
                                   struct sched_unit *currunit, s_time_t now,
                                   bool tasklet_work_scheduled)
{
    struct rtcx_private *prv = RTCX_PRIV(ops);
    const unsigned int cpu = sched_get_resource_cpu(smp_processor_id());
    struct rtcx_pcpu *spc = RTCX_PCPU(cpu);
    struct rtcredit_schedule_begin_out begin;
    struct rtcredit_decision decision;
    struct rtcredit_unit *stolen = NULL;
    struct sched_unit *next;

    RTCX_ASSERT_CPU_LOCKED(cpu);
    /*
     * A unit that blocked (SCHEDOP_block, vcpu_block()) is not reported through the
     * sleep hook: Xen only sets _VPF_blocked and raises the softirq, and expects the
     * scheduler to look (credit checks unit_runnable() here too). Tell the core
     * before it decides, or it would run the blocked unit again at once.
     */
    if ( !is_idle_unit(currunit) && !unit_runnable(currunit) )
    {
        struct rtcredit_cpumask ignored;

        rtcredit_sleep(&prv->shared, &spc->core, &RTCX_UNIT(currunit)->core, &ignored);
        rtcx_sync_rt_timer(RTCX_UNIT(currunit));
    }

    rtcredit_schedule_begin(&prv->shared, &spc->core, now, tasklet_work_scheduled,
                       &begin);
    if ( !begin.want_steal )
        decision = begin.decision;
    else
    {
        const rtcredit_prio round_prio[2] = { begin.min_prio, begin.fallback_min_prio };
        const struct rtcredit_cpumask *round_cpus[2] = { &begin.candidates,
                                                         &begin.fallback_candidates };
        unsigned int round, offset;

        /*
         * Better work may wait elsewhere: in each of the core's rounds, try each
         * candidate in turn, starting after this CPU, never waiting for a lock (as
         * credit's load balancer).
         */
        for ( round = 0; round < 2 && stolen == NULL; round++ )
            for ( offset = 1; offset < nr_cpu_ids && stolen == NULL; offset++ )
            {
                unsigned int peer = (cpu + offset) % nr_cpu_ids;
                spinlock_t *peer_lock;

                if ( peer >= RTCREDIT_MAX_CPUS ||
                     !((round_cpus[round]->bits[peer / 64] >> (peer % 64)) & 1) ||
                     !cpumask_test_cpu(peer, prv->cpus) )
                    continue;
                peer_lock = pcpu_schedule_trylock(peer);
                if ( peer_lock == NULL )
                    continue;
                stolen = rtcredit_steal(&prv->shared, &spc->core,
                                        &RTCX_PCPU(peer)->core, round_prio[round]);
                if ( stolen )
                    sched_set_res(((struct rtcx_unit *)stolen)->unit,
                                  get_sched_res(cpu));
                pcpu_schedule_unlock(peer_lock, peer);
            }
        rtcredit_schedule_finish(&prv->shared, &spc->core, stolen, now, &decision);
    }

    if ( decision.next == NULL )
        next = sched_idle_unit(cpu);
    else
        next = ((struct rtcx_unit *)decision.next_host)->unit;

    /*
     * unit_runnable_state() sets each VCPU's new_state, which Xen's switch uses to
     * find the VCPU to run (a VCPU whose new_state is not "running" is replaced by
     * the idle VCPU while sr->curr already names the unit). Every scheduler must call
     * it on the unit it picks. Without it a unit that came from another pool kept
     * the new_state its old scheduler left (blocked): Xen recorded the switch but
     * stayed on the idle VCPU, and the next pass failed ASSERT(unit_running(prev)).
     * The core queues only runnable units (sleep and block are reported), so "not
     * runnable" here means a change Xen did not report: run idle, tell the core,
     * and decide again at once.
     */
    if ( decision.next != NULL && !unit_runnable_state(next) )
    {
        struct rtcredit_cpumask ignored;

        rtcredit_sleep(&prv->shared, &spc->core, decision.next, &ignored);
        rtcx_sync_rt_timer(RTCX_UNIT(next));
        next = sched_idle_unit(cpu);
        decision.next = NULL;
        decision.migrated = false;
        raise_softirq(SCHEDULE_SOFTIRQ);
    }

    /* An idle CPU the core wants to take the work left waiting here. */
    rtcx_tickle(&decision.tickle);

    currunit->next_task = next;
    currunit->next_time = decision.next == NULL ? -1 : (s_time_t)decision.run_ns;
    next->migrated = decision.migrated;
    if ( decision.migrated )
        migrate_timer(&((struct rtcx_unit *)decision.next_host)->rt_timer, cpu);

    if ( decision.tick == RTCREDIT_TICK_CMD_START )
        set_timer(&spc->ticker, decision.tick_at_ns);
    else if ( decision.tick == RTCREDIT_TICK_CMD_STOP )
        stop_timer(&spc->ticker);
}

/* ---- control: domctl, sysctl --------------------------------------------- */

/*
 * XEN_DOMCTL_scheduler_op. The core reads and answers the payload (the keep
 * markers, the reserved fields, the ranges, the counters, the pool's RT
 * capacity); the shim adds its units' time at each priority, as it holds the
 * domain's unit list (the domctl lock keeps it; the times are atomics, so no CPU
 * lock is needed).
 */
static int cf_check rtcx_adjust(const struct scheduler *ops, struct domain *d,
                                struct xen_domctl_scheduler_op *op)
{
    struct rtcx_private *prv = RTCX_PRIV(ops);
    struct rtcx_dom *sdom = d->sched_priv;
    struct rtcredit_domctl_sched *arg =
        (struct rtcredit_domctl_sched *)&op->u.rtcredit;
    struct sched_unit *unit;
    unsigned long flags;
    int rc;

    /* The public struct and the core's view of it are the same 104 bytes. */
    BUILD_BUG_ON(sizeof(op->u.rtcredit) != sizeof(*arg));
    BUILD_BUG_ON(offsetof(struct xen_domctl_sched_rtcredit, prio_ns) !=
                 offsetof(struct rtcredit_domctl_sched, prio_ns));
    BUILD_BUG_ON(offsetof(struct xen_domctl_sched_rtcredit, rt_demotions) !=
                 offsetof(struct rtcredit_domctl_sched, rt_counters.rt_demotions));
    BUILD_BUG_ON(offsetof(struct xen_domctl_sched_rtcredit, rt_pool_granted_pct) !=
                 offsetof(struct rtcredit_domctl_sched, rt_pool_granted_pct));
    if ( op->cmd != XEN_DOMCTL_SCHEDOP_putinfo &&
         op->cmd != XEN_DOMCTL_SCHEDOP_getinfo )
        return -EINVAL;

    spin_lock_irqsave(&prv->lock, flags);
    /*
     * A grant over the pool's RT capacity fails with the pool's fields written:
     * Xen copies the domctl back even on error, so the caller learns what is left.
     */
    rc = op->cmd == XEN_DOMCTL_SCHEDOP_putinfo
         ? rtcredit_domctl_putinfo(&prv->shared, &prv->acct, &sdom->core, arg)
         : rtcredit_domctl_getinfo(&prv->acct, &sdom->core, arg);
    if ( rc == 0 )
        for_each_sched_unit ( sdom->dom, unit )
            rtcredit_unit_add_prio_ns(&RTCX_UNIT(unit)->core, arg);
    spin_unlock_irqrestore(&prv->lock, flags);
    return rc < 0 ? -rtcredit_errno(rc) : 0;
}

/* XEN_SYSCTL_scheduler_op: the core reads and answers the payload (units, ranges). */
static int cf_check rtcx_adjust_global(const struct scheduler *ops,
                                       struct xen_sysctl_scheduler_op *sc)
{
    struct rtcx_private *prv = RTCX_PRIV(ops);
    struct rtcredit_sysctl_sched *arg =
        (struct rtcredit_sysctl_sched *)&sc->u.sched_rtcredit;
    unsigned long flags;
    int rc;

    BUILD_BUG_ON(sizeof(sc->u.sched_rtcredit) != sizeof(*arg));
    BUILD_BUG_ON(offsetof(struct xen_sysctl_rtcredit_schedule, rt_pool_granted_pct) !=
                 offsetof(struct rtcredit_sysctl_sched, rt_pool_granted_pct));
    if ( sc->cmd != XEN_SYSCTL_SCHEDOP_putinfo &&
         sc->cmd != XEN_SYSCTL_SCHEDOP_getinfo )
        return -EINVAL;

    spin_lock_irqsave(&prv->lock, flags);
    rc = sc->cmd == XEN_SYSCTL_SCHEDOP_putinfo
         ? rtcredit_sysctl_putinfo(&prv->shared, &prv->acct, arg)
         : rtcredit_sysctl_getinfo(&prv->acct, arg);
    spin_unlock_irqrestore(&prv->lock, flags);
    return rc < 0 ? -rtcredit_errno(rc) : 0;
}

/* ---- debug key 'r' ------------------------------------------------------- */

static const char *const rtcx_prio_name[] = {
    [RTCREDIT_PRIO_IDLE] = "IDLE", [RTCREDIT_PRIO_OVER] = "OVER",
    [RTCREDIT_PRIO_UNDER] = "UNDER", [RTCREDIT_PRIO_BOOST] = "BOOST",
    [RTCREDIT_PRIO_RT] = "RT",
};

static void rtcx_dump_unit(const struct rtcx_unit *svc)
{
    struct rtcredit_unit_info info;

    if ( rtcredit_unit_get_info(&svc->core, &info) < 0 )
        return;
    printk("%pdv%u prio=%s credit=%d%s%s%s rt_deadline=%"PRIu64
           " runs=%"PRIu64" rt_fires=%"PRIu64" ns[rt=%"PRIu64" boost=%"PRIu64
           " under=%"PRIu64" over=%"PRIu64"]\n",
           svc->unit->domain, svc->unit->unit_id,
           info.prio < ARRAY_SIZE(rtcx_prio_name) ? rtcx_prio_name[info.prio] : "?",
           info.credit, info.running ? " running" : "",
           info.queued ? " queued" : "", info.parked ? " parked" : "",
           info.rt_deadline_ns, info.runs, info.rt_fires, info.rt_ns,
           info.boost_ns, info.under_ns, info.over_ns);
}

static void cf_check rtcx_dump_cpu_state(const struct scheduler *ops, int cpu)
{
    struct rtcx_private *prv = RTCX_PRIV(ops);
    struct rtcredit_cpu_info info;
    struct domain *d;
    unsigned long flags;
    spinlock_t *lock;

    spin_lock_irqsave(&prv->lock, flags);
    lock = pcpu_schedule_lock(cpu);
    rtcredit_cpu_get_info(&RTCX_PCPU(cpu)->core, &info);
    printk("CPU[%02d] queued: rt=%u boost=%u under=%u over=%u resident=%u\n",
           cpu, info.queued[0], info.queued[1], info.queued[2], info.queued[3],
           info.resident);
    rcu_read_lock(&domlist_read_lock);
    for_each_domain ( d )
    {
        struct sched_unit *unit;

        for_each_sched_unit ( d, unit )
        {
            struct rtcx_unit *svc;

            /* A unit resident on this CPU belongs to this scheduler. */
            if ( sched_unit_master(unit) != cpu )
                continue;
            svc = RTCX_UNIT(unit);
            if ( svc && !svc->idle )
            {
                printk("\t");
                rtcx_dump_unit(svc);
            }
        }
    }
    rcu_read_unlock(&domlist_read_lock);
    pcpu_schedule_unlock(lock, cpu);
    spin_unlock_irqrestore(&prv->lock, flags);
}

static void cf_check rtcx_dump_settings(const struct scheduler *ops)
{
    struct rtcx_private *prv = RTCX_PRIV(ops);
    struct rtcredit_params params;
    struct rtcredit_rt_capacity capacity;
    unsigned long flags;

    spin_lock_irqsave(&prv->lock, flags);
    rtcredit_get_params(&prv->acct, &params);
    rtcredit_get_rt_capacity(&prv->acct, &capacity);
    printk("rtcredit: tslice=%"PRIu64"us ratelimit=%"PRIu64"us "
           "rt_min_period=%"PRIu64"us rt_max_lead=%"PRIu64"ms cpus=%*pbl "
           "rt_capacity=%u%% (%u%% x %u CPUs) rt_granted=%u%%\n",
           params.tslice_ns / 1000, params.ratelimit_ns / 1000,
           params.rt_min_period_ns / 1000, params.rt_max_lead_ns / 1000000,
           CPUMASK_PR(prv->cpus), capacity.capacity_pct, capacity.per_cpu_pct,
           capacity.nr_cpus, capacity.granted_pct);
    spin_unlock_irqrestore(&prv->lock, flags);
}

/* The core's panic handler lands here (it never returns). */
void noreturn rtcredit_host_panic(const uint8_t *message, size_t len)
{
    panic("%.*s\n", (int)len, (const char *)message);
}

static const struct scheduler sched_rtcredit_def = {
    .name           = "RT-Credit Scheduler",
    .opt_name       = "rtcredit",
    .sched_id       = XEN_SCHEDULER_RTCREDIT,
    .sched_data     = NULL,

    .init           = rtcx_init,
    .deinit         = rtcx_deinit,
    .alloc_pdata    = rtcx_alloc_pdata,
    .free_pdata     = rtcx_free_pdata,
    .deinit_pdata   = rtcx_deinit_pdata,
    .switch_sched   = rtcx_switch_sched,
    .move_timers    = rtcx_move_timers,
    .alloc_domdata  = rtcx_alloc_domdata,
    .free_domdata   = rtcx_free_domdata,
    .alloc_udata    = rtcx_alloc_udata,
    .free_udata     = rtcx_free_udata,

    .insert_unit    = rtcx_insert_unit,
    .remove_unit    = rtcx_remove_unit,
    .sleep          = rtcx_sleep,
    .wake           = rtcx_wake,
    .yield          = rtcx_yield,
    .context_saved  = rtcx_context_saved,
    .do_schedule    = rtcx_schedule,
    .pick_resource  = rtcx_pick_resource,
    .migrate        = rtcx_migrate,
    .adjust_affinity= rtcx_adjust_affinity,

    .adjust         = rtcx_adjust,
    .adjust_global  = rtcx_adjust_global,
    .dump_settings  = rtcx_dump_settings,
    .dump_cpu_state = rtcx_dump_cpu_state,

    .rtsleep        = rtcx_rtsleep,
};

REGISTER_SCHEDULER(sched_rtcredit_def);
