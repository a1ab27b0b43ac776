/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Interface of the C helper (rtsleep_xen.c) to the Rust driver (rtsleep_main.rs,
 * `mod c`). Keep both in sync: Rust declares the same seven functions.
 */
#ifndef RTSLEEP_XEN_H
#define RTSLEEP_XEN_H

#include <linux/types.h>

bool rtsleep_c_on_xen(void);
u64 rtsleep_c_now_ns(void);
int rtsleep_c_mono_to_xen(u32 cpu, u64 mono_deadline_ns, u64 *xen_ns);
int rtsleep_c_sched_op(u32 cpu, u32 cmd, void *arg, int *result);
int rtsleep_c_sleep_until(s64 mono_deadline_ns, bool pinned);
u32 rtsleep_c_pin_cpu(void);
void rtsleep_c_unpin_cpu(void);

#endif
