/*
 * rtload: CPU load plus a periodic sleeper that measures its own wake-up lateness.
 *
 *   rtload [-d SECONDS] [-p PERIOD_US] [-b BUSY]
 *
 * Starts BUSY spinning processes (default: one per online CPU, each pinned to its
 * CPU, so every VCPU of the domain stays runnable and Xen has to time-slice), and
 * in the parent a loop that sleeps to absolute deadlines PERIOD_US apart
 * (clock_nanosleep TIMER_ABSTIME) and records, for every period, how late it woke
 * up. After SECONDS it prints one summary line:
 *
 *   rtload: busy=2 period_us=10000 duration_s=30 periods=3000 late_p50_us=...
 *           late_p99_us=... late_max_us=... sleeper_cpu_pct=... busy_cpu_s=...
 *
 * sleeper_cpu_pct is the measuring loop's own CPU share (under QEMU TCG each wake-up
 * costs far more than on hardware, so lateness figures need it beside them).
 *
 * Build: gcc -O2 -static -Wall -Wextra -o rtload rtload.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int64_t ts_ns(const struct timespec *t)
{
    return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

static int64_t mono_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return ts_ns(&t);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Spin until the deadline. Reading the clock only every few million iterations
 * keeps the loop almost pure computation; the deadline makes a child outlive a
 * crashed parent by at most a moment. */
static void spin(int cpu, int64_t until)
{
    if (cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        sched_setaffinity(0, sizeof(set), &set);    /* best effort */
    }
    volatile uint64_t sink = 0;
    for (;;) {
        for (int i = 0; i < 1 << 22; i++)
            sink += (uint64_t)i;
        if (mono_ns() >= until)
            _exit(0);
    }
}

int main(int argc, char **argv)
{
    long duration_s = 30, period_us = 10000, busy = sysconf(_SC_NPROCESSORS_ONLN);
    int opt;
    while ((opt = getopt(argc, argv, "d:p:b:")) != -1) {
        switch (opt) {
        case 'd': duration_s = strtol(optarg, NULL, 0); break;
        case 'p': period_us = strtol(optarg, NULL, 0); break;
        case 'b': busy = strtol(optarg, NULL, 0); break;
        default:
            fprintf(stderr, "usage: rtload [-d SECONDS] [-p PERIOD_US] [-b BUSY]\n");
            return 2;
        }
    }
    if (duration_s < 1 || period_us < 100 || busy < 0 || busy > 256) {
        fprintf(stderr, "rtload: bad arguments\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);

    long nperiods = duration_s * 1000000 / period_us;
    int64_t *late = calloc((size_t)nperiods, sizeof(*late));
    pid_t *kids = calloc((size_t)busy + 1, sizeof(*kids));
    if (!late || !kids) {
        perror("rtload: calloc");
        return 2;
    }
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int64_t start = mono_ns();
    int64_t end = start + duration_s * 1000000000LL;

    for (long i = 0; i < busy; i++) {
        pid_t pid = fork();
        if (pid < 0) {
            perror("rtload: fork");
            return 2;
        }
        if (pid == 0)
            spin(ncpu > 0 ? (int)(i % ncpu) : -1, end);
        kids[i] = pid;
    }
    printf("rtload: started busy=%ld period_us=%ld duration_s=%ld\n", busy, period_us,
           duration_s);

    struct rusage ru0;
    getrusage(RUSAGE_SELF, &ru0);
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    long n;
    for (n = 0; n < nperiods; n++) {
        next.tv_nsec += period_us * 1000;
        while (next.tv_nsec >= 1000000000) {
            next.tv_nsec -= 1000000000;
            next.tv_sec++;
        }
        int rc;
        while ((rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL)) == EINTR)
            ;
        if (rc != 0) {
            fprintf(stderr, "rtload: clock_nanosleep: %s\n", strerror(rc));
            break;
        }
        late[n] = mono_ns() - ts_ns(&next);
    }
    int64_t wall = mono_ns() - start;
    struct rusage ru1;
    getrusage(RUSAGE_SELF, &ru1);

    for (long i = 0; i < busy; i++) {
        kill(kids[i], SIGKILL);
        waitpid(kids[i], NULL, 0);
    }
    struct rusage ruc;
    getrusage(RUSAGE_CHILDREN, &ruc);

    double self_cpu = (ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) +
                      (ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
                      ((ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) +
                       (ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec)) / 1e6;
    double busy_cpu = ruc.ru_utime.tv_sec + ruc.ru_stime.tv_sec +
                      (ruc.ru_utime.tv_usec + ruc.ru_stime.tv_usec) / 1e6;

    if (n == 0) {
        printf("rtload: no periods completed\n");
        return 1;
    }
    qsort(late, (size_t)n, sizeof(*late), cmp_i64);
    printf("rtload: busy=%ld period_us=%ld duration_s=%.1f periods=%ld late_p50_us=%lld "
           "late_p99_us=%lld late_max_us=%lld sleeper_cpu_pct=%.1f busy_cpu_s=%.1f\n",
           busy, period_us, wall / 1e9, n, (long long)(late[n / 2] / 1000),
           (long long)(late[(n * 99) / 100] / 1000), (long long)(late[n - 1] / 1000),
           100.0 * self_cpu / (wall / 1e9), busy_cpu);
    return n == nperiods ? 0 : 1;
}
