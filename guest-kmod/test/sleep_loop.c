// SPDX-License-Identifier: GPL-2.0-only
/*
 * An unmodified program that sleeps in a loop: "sleep_loop LOOPS MS" calls nanosleep()
 * for MS milliseconds LOOPS times (then one clock_nanosleep and one usleep of the same
 * length) and prints how late the wake-ups were. Built dynamically by test-qemu.sh so
 * that `rtsleep run` (LD_PRELOAD) can route its sleeps through /dev/rtsleep.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

int main(int argc, char **argv)
{
	int loops = argc > 1 ? atoi(argv[1]) : 50, ms = argc > 2 ? atoi(argv[2]) : 10;
	struct timespec req = { ms / 1000, (long)(ms % 1000) * 1000000L };
	uint64_t ns = (uint64_t)ms * 1000000ull, sum = 0, worst = 0;
	int early = 0;

	for (int i = 0; i < loops + 2; i++) {
		uint64_t t0 = now_ns();
		int r = i < loops ? nanosleep(&req, NULL)
			: i == loops ? clock_nanosleep(CLOCK_MONOTONIC, 0, &req, NULL)
			: usleep((useconds_t)(ms * 1000));
		uint64_t el = now_ns() - t0;
		if (r != 0 || el < ns) {
			early++;
			continue;
		}
		sum += el - ns;
		if (el - ns > worst)
			worst = el - ns;
	}
	printf("sleep_loop: %d sleeps of %d ms (nanosleep, clock_nanosleep, usleep): %d early or failed, "
	       "late mean %llu us max %llu us\n", loops + 2, ms, early,
	       (unsigned long long)(sum / (uint64_t)(loops + 2) / 1000), (unsigned long long)(worst / 1000));
	return early ? 1 : 0;
}
