// SPDX-License-Identifier: GPL-2.0-only
//
// `rtworker PERIOD_US LOOPS LABEL`: the shape of a real program that `rtsleep run` must
// never make worse (issue #19 item 6). Two threads:
//
//   worker  SCHED_FIFO 50, sleeps with clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME)
//           to absolute deadlines PERIOD_US apart, LOOPS times, and measures how late
//           each wake-up was (the program's own latency measurement);
//   main    SCHED_OTHER housekeeping: a relative nanosleep of PERIOD_US, then about
//           100 us of work, until the worker is done.
//
// Built dynamically (tests/e2e/run.sh, --workload threads) so that `rtsleep run`'s
// preload shim sees its calls. Prints on stdout one JSON report in the schema of
// `rtsleep bench --json` (period_ns, loops, runs[0]: backend = LABEL, avg/p50/p99/max
// lateness in us, overruns, elapsed_s), so the e2e report reads it as it reads the
// bench; on stderr one line about the housekeeping thread. A deadline that is more than
// a period late is an overrun: the worker skips to the next deadline in the future, as
// rtsleep bench's periodic loop does. Exits 2 on bad arguments, 1 if a thread or its
// policy cannot be set up.
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t period_ns;
static long loops;
static uint64_t *lateness_ns;
static long overruns;
static volatile int worker_done;

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static struct timespec timespec_of(uint64_t ns)
{
	struct timespec t = { (time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull) };
	return t;
}

static void *worker(void *unused)
{
	(void)unused;
	uint64_t next = now_ns() + period_ns;
	for (long i = 0; i < loops; i++) {
		struct timespec deadline = timespec_of(next);
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, NULL) == EINTR)
			;
		uint64_t woke = now_ns();
		lateness_ns[i] = woke > next ? woke - next : 0;
		next += period_ns;
		if (woke > next) {
			/* More than a period late: skip the deadlines already gone. */
			uint64_t missed = (woke - next) / period_ns + 1;
			overruns += (long)missed;
			next += missed * period_ns;
		}
	}
	worker_done = 1;
	return NULL;
}

static int compare(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* The value at quantile q of the sorted samples (nearest rank, as rtsleep bench). */
static double quantile_us(const uint64_t *sorted, long n, double q)
{
	long rank = (long)(q * (double)n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return (double)sorted[rank - 1] / 1000.0;
}

int main(int argc, char **argv)
{
	char *end;
	if (argc != 4) {
		fprintf(stderr, "usage: rtworker PERIOD_US LOOPS LABEL\n");
		return 2;
	}
	long period_us = strtol(argv[1], &end, 10);
	if (*argv[1] == '\0' || *end != '\0' || period_us < 1000 || period_us > 100000) {
		fprintf(stderr, "rtworker: PERIOD_US must be 1000..100000, not '%s'\n", argv[1]);
		return 2;
	}
	loops = strtol(argv[2], &end, 10);
	if (*argv[2] == '\0' || *end != '\0' || loops < 1 || loops > 1000000) {
		fprintf(stderr, "rtworker: LOOPS must be 1..1000000, not '%s'\n", argv[2]);
		return 2;
	}
	period_ns = (uint64_t)period_us * 1000ull;
	lateness_ns = calloc((size_t)loops, sizeof(*lateness_ns));
	if (!lateness_ns) {
		fprintf(stderr, "rtworker: out of memory\n");
		return 1;
	}

	pthread_attr_t attr;
	struct sched_param param = { .sched_priority = 50 };
	pthread_attr_init(&attr);
	pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED);
	pthread_attr_setschedpolicy(&attr, SCHED_FIFO);
	pthread_attr_setschedparam(&attr, &param);
	pthread_t thread;
	uint64_t started = now_ns();
	int rc = pthread_create(&thread, &attr, worker, NULL);
	if (rc) {
		fprintf(stderr, "rtworker: cannot start the SCHED_FIFO worker: %s\n", strerror(rc));
		return 1;
	}

	/* Housekeeping: relative sleeps of a period, then a little work. */
	long chores = 0;
	uint64_t chore_late_max = 0;
	volatile uint64_t sink = 0;
	while (!worker_done) {
		struct timespec t = timespec_of(period_ns);
		uint64_t before = now_ns();
		nanosleep(&t, NULL);
		uint64_t late = now_ns() - before;
		late = late > period_ns ? late - period_ns : 0;
		if (late > chore_late_max)
			chore_late_max = late;
		for (uint64_t spin = now_ns(); now_ns() - spin < 100000;)
			sink++;
		chores++;
	}
	pthread_join(thread, NULL);
	double elapsed_s = (double)(now_ns() - started) / 1e9;

	double sum = 0;
	for (long i = 0; i < loops; i++)
		sum += (double)lateness_ns[i];
	qsort(lateness_ns, (size_t)loops, sizeof(*lateness_ns), compare);
	printf("{\n  \"period_ns\": %llu,\n  \"loops\": %ld,\n  \"runs\": [\n    {\n", (unsigned long long)period_ns,
	       loops);
	printf("      \"name\": \"rtworker\",\n      \"backend\": \"%s\",\n      \"loops\": %ld,\n", argv[3], loops);
	printf("      \"min_us\": %.1f,\n      \"avg_us\": %.1f,\n      \"p50_us\": %.1f,\n      \"p99_us\": %.1f,\n",
	       (double)lateness_ns[0] / 1000.0, sum / (double)loops / 1000.0, quantile_us(lateness_ns, loops, 0.50),
	       quantile_us(lateness_ns, loops, 0.99));
	printf("      \"max_us\": %.1f,\n      \"overruns\": %ld,\n      \"elapsed_s\": %.3f\n    }\n  ]\n}\n",
	       (double)lateness_ns[loops - 1] / 1000.0, overruns, elapsed_s);
	fprintf(stderr, "rtworker: housekeeping thread: %ld chores, worst wake-up %.1f us late\n", chores,
		(double)chore_late_max / 1000.0);
	return 0;
}
