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
    SHOW(rtc_sched_rtsleep);
    FIELD(rtc_sched_rtsleep, deadline_ns);
    FIELD(rtc_sched_rtsleep, flags);
    FIELD(rtc_sched_rtsleep, pad);
    SHOW(rtc_params);
    FIELD(rtc_params, tslice_ns);
    FIELD(rtc_params, ratelimit_ns);
    FIELD(rtc_params, rt_min_lead_ns);
    FIELD(rtc_params, rt_max_lead_ns);
    FIELD(rtc_params, rt_budget_window_ns);
    FIELD(rtc_params, charge_mode);
    SHOW(rtc_dom_params);
    FIELD(rtc_dom_params, cap);
    FIELD(rtc_dom_params, rt_allowed);
    FIELD(rtc_dom_params, rt_budget_pct);
    FIELD(rtc_dom_params, rt_rate_per_s);
    SHOW(rtc_decision);
    FIELD(rtc_decision, run_ns);
    FIELD(rtc_decision, prio);
    FIELD(rtc_decision, switched);
    FIELD(rtc_decision, migrated);
    FIELD(rtc_decision, tick);
    FIELD(rtc_decision, tick_at_ns);
    SHOW(rtc_schedule_begin_out);
    FIELD(rtc_schedule_begin_out, min_prio);
    FIELD(rtc_schedule_begin_out, candidates);
    FIELD(rtc_schedule_begin_out, decision);
    SHOW(rtc_rtsleep_outcome);
    FIELD(rtc_rtsleep_outcome, arm_at_ns);
    SHOW(rtc_cpumask);
    SHOW(rtc_dom_counters);
    SHOW(rtc_unit_info);
    FIELD(rtc_unit_info, credit);
    FIELD(rtc_unit_info, rt_deadline_ns);
    FIELD(rtc_unit_info, rt_fires);
    SHOW(rtc_cpu_info);
    FIELD(rtc_cpu_info, queued);
    FIELD(rtc_cpu_info, current_host);
    SHOW(rtc_unit);
    SHOW(rtc_dom);
    SHOW(rtc_cpu);
    SHOW(rtc_acct);
    SHOW(rtc_shared);
    printf("RTC_SCHEDOP_RTSLEEP %d\n", RTC_SCHEDOP_RTSLEEP);
    printf("RTC_XEN_SCHEDULER_RTCREDIT %d\n", RTC_XEN_SCHEDULER_RTCREDIT);
    printf("RTC_PRIO_RT %d\n", (int)RTC_PRIO_RT);
    printf("RTC_ERROR_NOT_PERMITTED %d\n", (int)RTC_ERROR_NOT_PERMITTED);
    return 0;
}
