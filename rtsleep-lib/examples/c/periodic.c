/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * periodic.c: a 10 ms periodic task on librtsleep, the way a C application uses it.
 *
 *   cc periodic.c $(pkg-config --cflags --libs rtsleep) -o periodic
 *   ./periodic [period_us] [loops]
 *
 * Opens the library once, says which backend it got and why, then wakes on absolute
 * deadlines (start + n * period, so lateness never accumulates) and reports the worst
 * and average lateness. Exits non-zero, with the reason, on any library error.
 */
#include <rtsleep.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    uint64_t period_ns = (argc > 1 ? strtoull(argv[1], NULL, 10) : 10000) * 1000;
    unsigned long loops = argc > 2 ? strtoul(argv[2], NULL, 10) : 100;
    if (period_ns == 0 || loops == 0) {
        fprintf(stderr, "usage: %s [period_us >= 1] [loops >= 1]\n", argv[0]);
        return 2;
    }

    struct rtsleep_handle *rt = NULL;
    int err = rtsleep_open(&rt);
    if (err) {
        fprintf(stderr, "rtsleep_open: %s\n", strerror(err));
        return 1;
    }

    struct rtsleep_info info;
    err = rtsleep_info(rt, &info);
    if (err) {
        fprintf(stderr, "rtsleep_info: %s\n", strerror(err));
        rtsleep_close(rt);
        return 1;
    }
    if (info.backend == RTSLEEP_BACKEND_DEVICE) {
        printf("backend: device (rt_state %" PRIu32 ", on_xen %" PRIu32 ")\n", info.device.rt_state,
               info.device.on_xen);
    } else {
        printf("backend: fallback (%s", rtsleep_reason_string(info.fallback_reason));
        if (info.fallback_errno)
            printf(": %s", strerror(info.fallback_errno));
        printf(")\n");
    }

    uint64_t deadline = rtsleep_now_ns();
    uint64_t worst_ns = 0, total_ns = 0;
    for (unsigned long i = 0; i < loops; i++) {
        deadline += period_ns;
        err = rtsleep_sleep_until_ns(rt, deadline);
        if (err) {
            fprintf(stderr, "rtsleep_sleep_until_ns: %s\n", strerror(err));
            rtsleep_close(rt);
            return 1;
        }
        uint64_t now = rtsleep_now_ns();
        uint64_t late = now > deadline ? now - deadline : 0;
        total_ns += late;
        if (late > worst_ns)
            worst_ns = late;
    }

    /* A relative sleep too, so the example exercises every call. */
    err = rtsleep_sleep_ns(rt, period_ns);
    rtsleep_close(rt);
    if (err) {
        fprintf(stderr, "rtsleep_sleep_ns: %s\n", strerror(err));
        return 1;
    }
    printf("loops: %lu period_us: %" PRIu64 " max_late_us: %" PRIu64 " avg_late_us: %" PRIu64 "\n", loops,
           period_ns / 1000, worst_ns / 1000, total_ns / loops / 1000);
    return 0;
}
