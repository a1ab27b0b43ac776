/* SPDX-License-Identifier: GPL-2.0-only */
/* Prints the C view of every struct in rtcredit.h, one "name size align offsets..." per
 * line, for tests/c_abi.rs to compare with the Rust layout. */
#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>

#include "rtcredit.h"

#define SHOW(type) printf("%s %zu %zu\n", #type, sizeof(type), alignof(type))
#define FIELD(type, field) printf("%s.%s %zu\n", #type, #field, offsetof(type, field))

int main(void)
{
    SHOW(rtcredit_sched_rtsleep);
    FIELD(rtcredit_sched_rtsleep, deadline_ns);
    FIELD(rtcredit_sched_rtsleep, flags);
    FIELD(rtcredit_sched_rtsleep, pad);
    SHOW(rtcredit_domctl_sched);
    FIELD(rtcredit_domctl_sched, rt_allowed);
    FIELD(rtcredit_domctl_sched, rt_budget_pct);
    FIELD(rtcredit_domctl_sched, rt_rate_per_s);
    FIELD(rtcredit_domctl_sched, pad2);
    FIELD(rtcredit_domctl_sched, prio_ns);
    FIELD(rtcredit_domctl_sched, rt_counters.rt_requests);
    FIELD(rtcredit_domctl_sched, rt_counters.rt_demotions);
    SHOW(rtcredit_rt_counters);
    FIELD(rtcredit_domctl_sched, rt_pool_capacity_pct);
    FIELD(rtcredit_domctl_sched, rt_pool_granted_pct);
    SHOW(rtcredit_sysctl_sched);
    FIELD(rtcredit_sysctl_sched, rt_max_lead_ms);
    FIELD(rtcredit_sysctl_sched, rt_capacity_pct);
    FIELD(rtcredit_sysctl_sched, rt_pool_granted_pct);
    SHOW(rtcredit_params);
    FIELD(rtcredit_params, tslice_ns);
    FIELD(rtcredit_params, ratelimit_ns);
    FIELD(rtcredit_params, rt_min_period_ns);
    FIELD(rtcredit_params, rt_max_lead_ns);
    FIELD(rtcredit_params, rt_budget_window_ns);
    FIELD(rtcredit_params, charge_mode);
    FIELD(rtcredit_params, rt_capacity_pct);
    SHOW(rtcredit_rt_capacity);
    FIELD(rtcredit_rt_capacity, capacity_pct);
    FIELD(rtcredit_rt_capacity, granted_pct);
    SHOW(rtcredit_dom_params);
    FIELD(rtcredit_dom_params, cap);
    FIELD(rtcredit_dom_params, rt_allowed);
    FIELD(rtcredit_dom_params, rt_budget_pct);
    FIELD(rtcredit_dom_params, rt_rate_per_s);
    SHOW(rtcredit_decision);
    FIELD(rtcredit_decision, run_ns);
    FIELD(rtcredit_decision, prio);
    FIELD(rtcredit_decision, switched);
    FIELD(rtcredit_decision, migrated);
    FIELD(rtcredit_decision, tick);
    FIELD(rtcredit_decision, tick_at_ns);
    SHOW(rtcredit_schedule_begin_out);
    FIELD(rtcredit_schedule_begin_out, min_prio);
    FIELD(rtcredit_schedule_begin_out, candidates);
    FIELD(rtcredit_schedule_begin_out, fallback_min_prio);
    FIELD(rtcredit_schedule_begin_out, fallback_candidates);
    FIELD(rtcredit_schedule_begin_out, decision);
    SHOW(rtcredit_rtsleep_outcome);
    FIELD(rtcredit_rtsleep_outcome, reschedule);
    FIELD(rtcredit_rtsleep_outcome, arm_at_ns);
    SHOW(rtcredit_cpumask);
    SHOW(rtcredit_dom_counters);
    SHOW(rtcredit_unit_info);
    FIELD(rtcredit_unit_info, credit);
    FIELD(rtcredit_unit_info, rt_deadline_ns);
    FIELD(rtcredit_unit_info, rt_fires);
    SHOW(rtcredit_cpu_info);
    FIELD(rtcredit_cpu_info, queued);
    FIELD(rtcredit_cpu_info, current_host);
    SHOW(rtcredit_unit);
    SHOW(rtcredit_dom);
    SHOW(rtcredit_cpu);
    SHOW(rtcredit_acct);
    SHOW(rtcredit_shared);
    printf("RTCREDIT_SCHEDOP_RTSLEEP %d\n", RTCREDIT_SCHEDOP_RTSLEEP);
    printf("RTCREDIT_XEN_SCHEDULER_RTCREDIT %d\n", RTCREDIT_XEN_SCHEDULER_RTCREDIT);
    printf("RTCREDIT_PRIO_RT %d\n", (int)RTCREDIT_PRIO_RT);
    printf("RTCREDIT_ERROR_NOT_PERMITTED %d\n", (int)RTCREDIT_ERROR_NOT_PERMITTED);
    return 0;
}
