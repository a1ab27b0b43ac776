/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * abi_check.c: the C view of the ABI agrees with the Rust one. Compiled (not run) by
 * tests/c_abi.rs: every check is a static assertion against the generated header and
 * the kernel's own <linux/ioctl.h> encoding.
 */
#include <rtsleep.h>

#include <linux/ioctl.h>
#include <stddef.h>

_Static_assert(sizeof(struct rtsleep_sleep_args) == 24, "rtsleep_sleep_args size");
_Static_assert(offsetof(struct rtsleep_sleep_args, deadline_ns) == 0, "deadline_ns");
_Static_assert(offsetof(struct rtsleep_sleep_args, clock) == 8, "clock");
_Static_assert(offsetof(struct rtsleep_sleep_args, flags) == 12, "flags");
_Static_assert(offsetof(struct rtsleep_sleep_args, remaining_ns) == 16, "remaining_ns");

_Static_assert(sizeof(struct rtsleep_device_info) == 64, "rtsleep_device_info size");
_Static_assert(offsetof(struct rtsleep_device_info, last_result) == 12, "last_result");
_Static_assert(offsetof(struct rtsleep_device_info, min_lead_ns) == 16, "min_lead_ns");
_Static_assert(offsetof(struct rtsleep_device_info, interrupted) == 56, "interrupted");

_Static_assert(sizeof(struct rtsleep_info) == 80, "rtsleep_info size");
_Static_assert(offsetof(struct rtsleep_info, device) == 16, "rtsleep_info.device");

_Static_assert(RTSLEEP_IOC_SLEEP == _IOWR(RTSLEEP_IOC_MAGIC, 1, struct rtsleep_sleep_args), "RTSLEEP_IOC_SLEEP");
_Static_assert(RTSLEEP_IOC_INFO == _IOR(RTSLEEP_IOC_MAGIC, 2, struct rtsleep_device_info), "RTSLEEP_IOC_INFO");
_Static_assert(RTSLEEP_CLOCK_MONOTONIC == 1, "CLOCK_MONOTONIC");
