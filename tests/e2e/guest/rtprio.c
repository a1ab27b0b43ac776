// SPDX-License-Identifier: GPL-2.0-only
//
// `rtprio PRIO CMD [ARG...]`: runs CMD under SCHED_FIFO at priority PRIO (1..99), the
// way an audio or control thread runs inside a guest; for the measuring domU of
// tests/e2e/run.sh, whose busybox has no `chrt`. Exits 2 on bad arguments, 1 if the
// policy cannot be set or CMD cannot be run.
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    struct sched_param param;
    char *end;
    long prio;

    if (argc < 3) {
        fprintf(stderr, "usage: rtprio PRIO CMD [ARG...]\n");
        return 2;
    }
    prio = strtol(argv[1], &end, 10);
    if (*argv[1] == '\0' || *end != '\0' || prio < 1 || prio > 99) {
        fprintf(stderr, "rtprio: PRIO must be 1..99, not '%s'\n", argv[1]);
        return 2;
    }
    memset(&param, 0, sizeof(param));
    param.sched_priority = (int)prio;
    if (sched_setscheduler(0, SCHED_FIFO, &param) != 0) {
        fprintf(stderr, "rtprio: sched_setscheduler(SCHED_FIFO, %ld): %s\n", prio, strerror(errno));
        return 1;
    }
    execvp(argv[2], &argv[2]);
    fprintf(stderr, "rtprio: cannot run %s: %s\n", argv[2], strerror(errno));
    return 1;
}
