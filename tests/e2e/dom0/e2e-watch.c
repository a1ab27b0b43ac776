// SPDX-License-Identifier: GPL-2.0-only
//
// e2e-watch LOG RUN DOMID TIMEOUT_S [COMMAND ARGS...]
//
// Runs in dom0 while the measuring domU of tests/e2e/run.sh works, and keeps dom0 quiet:
// one process, no forks, blocked in inotify on the guest's console log (written by
// xenconsoled) with a 1 s timeout, so dom0 wakes only when the guest writes a line
// (under TCG each dom0 wake-up costs about a millisecond of the one pCPU). At the guest's "E2E-BEGIN" and "E2E-END" lines it samples every domain's
// CPU time from Xen (XEN_DOMCTL_getdomaininfo through libxenctrl) and, at "E2E-END",
// prints one line per domain:
//   E2E-SHARE run=RUN domid=ID cpu_ns=N wall_ns=N
// so the host can compute each domain's CPU share over exactly the measured interval.
// COMMAND, if given, is started at E2E-BEGIN (e.g. xentrace for a few seconds, so the
// capture covers the measured loop, not the guest's boot) and waited for before exit.
// With E2E_HOGS=ID,ID,... in the environment it unpauses those domains at the guest's
// "E2E-READY" line and pauses them again at "E2E-END" (after the sample), so the hogs
// burn CPU only around the measured loop and not through the domU's boot and teardown
// (under QEMU's icount clock every emulated second a hog burns costs wall time).
// Returns 0 at the guest's "E2E-DONE" line; 1 on a timeout, when domain DOMID is gone
// without saying E2E-DONE (it crashed or never booted), or on an error (said on stderr).
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <sys/inotify.h>
#include <unistd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xenctrl.h>

#define MAX_DOMAINS 64

struct sample {
    uint64_t at_ns;                  // CLOCK_MONOTONIC in dom0
    unsigned int count;
    uint32_t domid[MAX_DOMAINS];
    uint64_t cpu_ns[MAX_DOMAINS];
};

static uint64_t monotonic_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int take_sample(xc_interface *xch, struct sample *out)
{
    xc_domaininfo_t info[MAX_DOMAINS];
    int n = xc_domain_getinfolist(xch, 0, MAX_DOMAINS, info);

    if (n < 0) {
        fprintf(stderr, "e2e-watch: xc_domain_getinfolist: %s\n", strerror(errno));
        return -1;
    }
    out->at_ns = monotonic_ns();
    out->count = (unsigned int)n;
    for (int i = 0; i < n; i++) {
        out->domid[i] = info[i].domain;
        out->cpu_ns[i] = info[i].cpu_time;
    }
    return 0;
}

// Whether the domain still exists (checked about once a second).
static int domain_alive(xc_interface *xch, uint32_t domid)
{
    xc_domaininfo_t info;
    int n = xc_domain_getinfolist(xch, domid, 1, &info);

    return n == 1 && info.domain == domid && !(info.flags & XEN_DOMINF_dying);
}

static void print_shares(const char *run, const struct sample *begin, const struct sample *end)
{
    for (unsigned int i = 0; i < end->count; i++)
        for (unsigned int j = 0; j < begin->count; j++)
            if (begin->domid[j] == end->domid[i])
                printf("E2E-SHARE run=%s domid=%u cpu_ns=%llu wall_ns=%llu\n", run, end->domid[i],
                       (unsigned long long)(end->cpu_ns[i] - begin->cpu_ns[j]),
                       (unsigned long long)(end->at_ns - begin->at_ns));
    fflush(stdout);
}

extern char **environ;

// The hogs of E2E_HOGS, parsed once; pause_hogs(xch, 0) unpauses them, (xch, 1) pauses.
static uint32_t hogs[MAX_DOMAINS];
static unsigned int hog_count;
static int hogs_running;

static int parse_hogs(const char *list)
{
    while (list && *list) {
        char *end;
        unsigned long id = strtoul(list, &end, 10);

        if (end == list || (*end != ',' && *end != '\0') || id == 0 || hog_count == MAX_DOMAINS) {
            fprintf(stderr, "e2e-watch: E2E_HOGS must be domain ids (not 0) separated by commas: '%s'\n", list);
            return -1;
        }
        hogs[hog_count++] = (uint32_t)id;
        list = *end ? end + 1 : end;
    }
    return 0;
}

static void pause_hogs(xc_interface *xch, int pause)
{
    if (hogs_running == !pause)
        return;
    for (unsigned int i = 0; i < hog_count; i++)
        if ((pause ? xc_domain_pause(xch, hogs[i]) : xc_domain_unpause(xch, hogs[i])) != 0)
            fprintf(stderr, "e2e-watch: %s domain %u: %s\n", pause ? "pause" : "unpause", hogs[i], strerror(errno));
    hogs_running = !pause;
}

// Waits for the COMMAND started at E2E-BEGIN, if any; returns its exit status or -1.
static int reap(pid_t child)
{
    int status;

    if (child <= 0 || waitpid(child, &status, 0) != child)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: e2e-watch LOG RUN DOMID TIMEOUT_S [COMMAND ARGS...]\n");
        return 2;
    }
    pid_t child = 0;
    const char *path = argv[1], *run = argv[2];
    uint32_t domid = (uint32_t)strtoul(argv[3], NULL, 10);
    uint64_t deadline_ns = monotonic_ns() + strtoull(argv[4], NULL, 10) * 1000000000ull;
    uint64_t next_alive_check_ns = 0;
    const struct timespec retry = { 0, 100 * 1000 * 1000 };
    int notify = -1;
    xc_interface *xch = xc_interface_open(NULL, NULL, 0);
    static struct sample begin, end;
    int have_begin = 0;
    char line[4096];
    size_t used = 0;
    FILE *log = NULL;

    if (!xch) {
        fprintf(stderr, "e2e-watch: xc_interface_open failed (not dom0?)\n");
        return 1;
    }
    if (parse_hogs(getenv("E2E_HOGS")) != 0)
        return 2;
    while (monotonic_ns() < deadline_ns) {
        int c = EOF;
        if (!log && (log = fopen(path, "r"))) {
            notify = inotify_init1(IN_CLOEXEC);
            if (notify < 0 || inotify_add_watch(notify, path, IN_MODIFY) < 0) {
                fprintf(stderr, "e2e-watch: inotify on %s: %s\n", path, strerror(errno));
                return 1;
            }
        }
        if (log)
            c = fgetc(log);
        if (c == EOF) {
            if (monotonic_ns() >= next_alive_check_ns) {
                if (!domain_alive(xch, domid)) {
                    fprintf(stderr, "e2e-watch: run %s: domain %u is gone without E2E-DONE\n", run, domid);
                    pause_hogs(xch, 1);
                    xc_interface_close(xch);
                    return 1;
                }
                next_alive_check_ns = monotonic_ns() + 1000000000ull;
            }
            if (!log) {
                // xenconsoled creates the log at the guest's first output.
                nanosleep(&retry, NULL);
                continue;
            }
            clearerr(log);
            struct pollfd pfd = { .fd = notify, .events = POLLIN };
            if (poll(&pfd, 1, 1000) > 0) {
                char events[4096];
                if (read(notify, events, sizeof(events)) < 0 && errno != EAGAIN) {
                    fprintf(stderr, "e2e-watch: read inotify: %s\n", strerror(errno));
                    return 1;
                }
            }
            continue;
        }
        if (c != '\n') {
            if (used < sizeof(line) - 1)
                line[used++] = (char)c;
            continue;
        }
        line[used] = '\0';
        used = 0;
        if (strstr(line, "E2E-READY")) {
            pause_hogs(xch, 0);
        } else if (strstr(line, "E2E-BEGIN")) {
            if (take_sample(xch, &begin) == 0)
                have_begin = 1;
            if (argc > 5 && posix_spawnp(&child, argv[5], NULL, NULL, &argv[5], environ) != 0) {
                fprintf(stderr, "e2e-watch: cannot start %s\n", argv[5]);
                child = 0;
            }
        } else if (strstr(line, "E2E-END")) {
            if (have_begin && take_sample(xch, &end) == 0)
                print_shares(run, &begin, &end);
            pause_hogs(xch, 1);
        } else if (strstr(line, "E2E-DONE")) {
            pause_hogs(xch, 1);
            xc_interface_close(xch);
            if (child > 0 && reap(child) != 0)
                fprintf(stderr, "e2e-watch: %s failed\n", argv[5]);
            return have_begin ? 0 : 1;
        }
    }
    fprintf(stderr, "e2e-watch: run %s: no E2E-DONE in %s before the timeout\n", run, path);
    pause_hogs(xch, 1);
    xc_interface_close(xch);
    reap(child);
    return 1;
}
