/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * sleeper.c: the test program the preload tests run with and without the shim. It
 * prints one line per call: its name, return value, errno, and (for interrupted
 * relative sleeps) whether the remaining time is plausible. The two runs must print
 * the same lines; RTSLEEP_STATS then tells what the shim did with each call.
 *
 *   sleeper window   sleeps inside and outside the default window, plus bad arguments
 *   sleeper eintr    500 ms sleeps interrupted after 30 ms by SIGALRM (no SA_RESTART)
 *   sleeper MODE fifo   the same from a SCHED_FIFO thread (priority 1); prints
 *                       "fifo unavailable" and exits 3 if the policy cannot be set
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static void report(const char *name, int rc, int err) { printf("%s rc=%d errno=%d\n", name, rc, err); }

static struct timespec ms(long n) { return (struct timespec){ .tv_sec = n / 1000, .tv_nsec = (n % 1000) * 1000000L }; }

static struct timespec in_ms(clockid_t clock, long n)
{
    struct timespec t;
    clock_gettime(clock, &t);
    t.tv_nsec += (n % 1000) * 1000000L;
    t.tv_sec += n / 1000 + t.tv_nsec / 1000000000L;
    t.tv_nsec %= 1000000000L;
    return t;
}

static void on_alarm(int sig) { (void)sig; }

static void arm_alarm_in_30ms(void)
{
    struct itimerval it = { .it_value = { .tv_sec = 0, .tv_usec = 30000 } };
    setitimer(ITIMER_REAL, &it, NULL);
}

/* A remaining time is plausible when a 500 ms sleep was cut at about 30 ms. */
static const char *rem_ok(const struct timespec *rem)
{
    long left_ms = rem->tv_sec * 1000 + rem->tv_nsec / 1000000;
    return left_ms > 300 && left_ms < 500 ? "yes" : "no";
}

static int window(void)
{
    struct timespec t = ms(10), rem;
    int rc;

    errno = 0; rc = nanosleep(&t, &rem); report("nanosleep_10ms", rc, errno);
    errno = 0; rc = clock_nanosleep(CLOCK_MONOTONIC, 0, &t, NULL); report("clock_mono_rel_10ms", rc, errno);
    t = in_ms(CLOCK_MONOTONIC, 10);
    errno = 0; rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL); report("clock_mono_abs_10ms", rc, errno);
    t = ms(10);
    errno = 0; rc = clock_nanosleep(CLOCK_REALTIME, 0, &t, NULL); report("clock_real_rel_10ms", rc, errno);
    t = in_ms(CLOCK_REALTIME, 10);
    errno = 0; rc = clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &t, NULL); report("clock_real_abs_10ms", rc, errno);
    errno = 0; rc = usleep(10000); report("usleep_10ms", rc, errno);

    /* Outside the default window (below 1 ms): passed through. */
    t = (struct timespec){ .tv_sec = 0, .tv_nsec = 500000 };
    errno = 0; rc = nanosleep(&t, NULL); report("nanosleep_500us", rc, errno);
    errno = 0; rc = usleep(100); report("usleep_100us", rc, errno);
    t = in_ms(CLOCK_MONOTONIC, 0);
    errno = 0; rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL); report("clock_mono_abs_past", rc, errno);

    /* Bad arguments: the real functions' errors, errno left alone by clock_nanosleep. */
    t = (struct timespec){ .tv_sec = 0, .tv_nsec = 2000000000L };
    errno = 0; rc = nanosleep(&t, NULL); report("nanosleep_bad_nsec", rc, errno);
    errno = 12345; rc = clock_nanosleep(CLOCK_MONOTONIC, 0, &t, NULL); report("clock_bad_nsec", rc, errno);
    t = ms(10);
    errno = 12345; rc = clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &t, NULL); report("clock_bad_clock", rc, errno);
    errno = 12345; rc = clock_nanosleep(CLOCK_MONOTONIC, 0x40, &t, NULL); report("clock_bad_flags", rc, errno);
    return 0;
}

static int eintr(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm; /* no SA_RESTART: the sleeps must return EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);

    struct timespec t = ms(500), rem = { 0, 0 };
    int rc;

    arm_alarm_in_30ms();
    errno = 0; rc = nanosleep(&t, &rem);
    printf("nanosleep_eintr rc=%d errno=%d rem_ok=%s\n", rc, errno, rem_ok(&rem));

    rem = (struct timespec){ 0, 0 };
    arm_alarm_in_30ms();
    errno = 0; rc = clock_nanosleep(CLOCK_MONOTONIC, 0, &t, &rem);
    printf("clock_rel_eintr rc=%d errno=%d rem_ok=%s\n", rc, errno, rem_ok(&rem));

    struct timespec abs = in_ms(CLOCK_MONOTONIC, 500);
    rem = (struct timespec){ 7, 7 }; /* must stay untouched for TIMER_ABSTIME */
    arm_alarm_in_30ms();
    errno = 0; rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &abs, &rem);
    printf("clock_abs_eintr rc=%d errno=%d rem_untouched=%s\n", rc, errno,
           rem.tv_sec == 7 && rem.tv_nsec == 7 ? "yes" : "no");

    arm_alarm_in_30ms();
    errno = 0; rc = usleep(500000);
    printf("usleep_eintr rc=%d errno=%d\n", rc, errno);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 3 && strcmp(argv[2], "fifo") == 0) {
        struct sched_param param = { .sched_priority = 1 };
        if (sched_setscheduler(0, SCHED_FIFO, &param) != 0) {
            printf("fifo unavailable: %s\n", strerror(errno));
            return 3;
        }
    } else if (argc != 2) {
        argc = 0;
    }
    if (argc && strcmp(argv[1], "window") == 0)
        return window();
    if (argc && strcmp(argv[1], "eintr") == 0)
        return eintr();
    fprintf(stderr, "usage: %s window|eintr [fifo]\n", argv[0]);
    return 2;
}
