// SPDX-License-Identifier: GPL-2.0-only
/*
 * In-guest test of /dev/rtsleep (static; run by test-qemu.sh from the initramfs).
 * Prints one "PASS: ..." or "FAIL: ..." line per check and exits non-zero on any
 * failure. The ioctl numbers and layouts are those of rtsleep-lib/src/abi.rs (its
 * module doc shows this same C view); the checks below also verify the sizes.
 *
 * What the environment should give is taken from the environment variable
 * rtsleep_expect (test-qemu.sh puts it on the kernel command line, which hands it to
 * init): "native" (default: no Xen), "rt" (Xen with sched=rtcredit and RT allowed for
 * this domain), "eperm" (rtcredit, RT not allowed), "eopnotsupp" (Xen with another
 * scheduler).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct rtsleep_sleep_args { uint64_t deadline_ns; uint32_t clock; uint32_t flags; uint64_t remaining_ns; };
struct rtsleep_device_info {
	uint32_t version, on_xen, rt_state; int32_t last_result;
	uint64_t min_lead_ns, max_lead_ns, requests, rt_accepted, fell_back, interrupted;
};
#define RTSLEEP_IOC_SLEEP 0xC018E201u
#define RTSLEEP_IOC_INFO  0x8040E202u
_Static_assert(sizeof(struct rtsleep_sleep_args) == 24, "sleep args");
_Static_assert(sizeof(struct rtsleep_device_info) == 64, "device info");

static int failures;
#define CHECK(cond, ...) do { \
	if (cond) { printf("PASS: "); } else { printf("FAIL: "); failures++; } \
	printf(__VA_ARGS__); printf("\n"); fflush(stdout); } while (0)

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static void on_alarm(int sig) { (void)sig; }

int main(void)
{
	const char *expect = getenv("rtsleep_expect");
	if (!expect)
		expect = "native";
	int native = !strcmp(expect, "native"), rt = !strcmp(expect, "rt"), eperm = !strcmp(expect, "eperm");
	printf("GUEST: rtsleep_test expecting %s\n", expect);
	struct stat st;
	CHECK(stat("/dev/rtsleep", &st) == 0 && S_ISCHR(st.st_mode), "device /dev/rtsleep present");
	int fd = open("/dev/rtsleep", O_RDWR | O_CLOEXEC);
	CHECK(fd >= 0, "open /dev/rtsleep (%s)", fd >= 0 ? "ok" : strerror(errno));
	if (fd < 0)
		return 1;

	struct rtsleep_device_info info;
	memset(&info, 0xff, sizeof(info));
	int r = ioctl(fd, RTSLEEP_IOC_INFO, &info);
	CHECK(r == 0 && info.version == 1, "info: rc=%d version=%u on_xen=%u rt_state=%u last_result=%d "
	      "lead=[%llu,%llu] ns", r, info.version, info.on_xen, info.rt_state, info.last_result,
	      (unsigned long long)info.min_lead_ns, (unsigned long long)info.max_lead_ns);
	if (native)
		CHECK(info.on_xen == 0 && info.rt_state == 2, "info without Xen: on_xen=0 rt_state=NOT_XEN(2)");
	else
		CHECK(info.on_xen == 1 && info.rt_state == 0, "info on Xen before any sleep: on_xen=1 rt_state=UNKNOWN(0)");

	/* Accuracy: 20 absolute sleeps of 10 ms; lateness must be >= 0 and small. */
	uint64_t worst = 0, sum = 0;
	int early = 0, errs = 0;
	for (int i = 0; i < 20; i++) {
		struct rtsleep_sleep_args a = { .deadline_ns = now_ns() + 10000000ull, .clock = 1, .flags = 1 };
		if (ioctl(fd, RTSLEEP_IOC_SLEEP, &a) != 0) { errs++; continue; }
		uint64_t t = now_ns();
		if (t < a.deadline_ns) { early++; continue; }
		uint64_t late = t - a.deadline_ns;
		sum += late;
		if (late > worst) worst = late;
	}
	CHECK(errs == 0 && early == 0, "absolute sleeps: %d errors, %d woke early", errs, early);
	/* TCG: generous bound, it is a functional check, not a benchmark. */
	CHECK(worst < 20000000ull, "absolute 10 ms sleep lateness: mean %llu us, max %llu us (limit 20 ms)",
	      (unsigned long long)(sum / 20 / 1000), (unsigned long long)(worst / 1000));

	/* What Xen said to the last of those requests. */
	r = ioctl(fd, RTSLEEP_IOC_INFO, &info);
	if (rt)
		CHECK(r == 0 && info.rt_state == 1 && (info.last_result == 0 || info.last_result == 1),
		      "after absolute sleeps: rt_state=%u last_result=%d (0 granted, 1 degraded) rt_accepted=%llu",
		      info.rt_state, info.last_result, (unsigned long long)info.rt_accepted);
	else
		printf("GUEST: after absolute sleeps: rt_state=%u last_result=%d\n", info.rt_state, info.last_result);

	/* Relative sleep. */
	uint64_t t0 = now_ns();
	struct rtsleep_sleep_args rel = { .deadline_ns = 5000000ull, .clock = 1, .flags = 0 };
	r = ioctl(fd, RTSLEEP_IOC_SLEEP, &rel);
	uint64_t el = now_ns() - t0;
	CHECK(r == 0 && el >= 5000000ull && el < 50000000ull, "relative 5 ms sleep: rc=%d took %llu us", r,
	      (unsigned long long)(el / 1000));

	/* Past deadline returns at once. */
	struct rtsleep_sleep_args past = { .deadline_ns = 1, .clock = 1, .flags = 1 };
	CHECK(ioctl(fd, RTSLEEP_IOC_SLEEP, &past) == 0, "past absolute deadline returns 0");

	/* Errors. */
	struct rtsleep_sleep_args bad = { .deadline_ns = 1000, .clock = 1, .flags = 2 };
	r = ioctl(fd, RTSLEEP_IOC_SLEEP, &bad);
	CHECK(r == -1 && errno == EINVAL, "unknown flag -> EINVAL (rc=%d errno=%d)", r, errno);
	bad.flags = 0; bad.clock = 0;
	r = ioctl(fd, RTSLEEP_IOC_SLEEP, &bad);
	CHECK(r == -1 && errno == EINVAL, "clock REALTIME -> EINVAL (rc=%d errno=%d)", r, errno);
	bad.clock = 1; bad.deadline_ns = UINT64_MAX;
	r = ioctl(fd, RTSLEEP_IOC_SLEEP, &bad);
	CHECK(r == -1 && errno == EINVAL, "overflowing relative duration -> EINVAL (rc=%d errno=%d)", r, errno);
	r = ioctl(fd, 0xC018E203u, &bad);
	CHECK(r == -1 && errno == ENOTTY, "unknown nr -> ENOTTY (rc=%d errno=%d)", r, errno);
	r = ioctl(fd, 0x4018E201u, &bad); /* _IOW instead of _IOWR */
	CHECK(r == -1 && errno == ENOTTY, "wrong direction -> ENOTTY (rc=%d errno=%d)", r, errno);
	r = ioctl(fd, RTSLEEP_IOC_SLEEP, (void *)8);
	CHECK(r == -1 && errno == EFAULT, "bad pointer -> EFAULT (rc=%d errno=%d)", r, errno);

	/* Interrupted: a 1 s sleep cut by SIGALRM after ~100 ms. */
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm; /* no SA_RESTART */
	sigaction(SIGALRM, &sa, NULL);
	struct rtsleep_sleep_args in = { .deadline_ns = now_ns() + 1000000000ull, .clock = 1, .flags = 1 };
	ualarm(100000, 0);
	r = ioctl(fd, RTSLEEP_IOC_SLEEP, &in);
	int e = errno;
	CHECK(r == -1 && e == EINTR && in.remaining_ns > 500000000ull && in.remaining_ns < 1000000000ull,
	      "signal -> EINTR with remaining %llu ms (rc=%d errno=%d)",
	      (unsigned long long)(in.remaining_ns / 1000000), r, e);

	r = ioctl(fd, RTSLEEP_IOC_INFO, &info);
	int counters_ok = r == 0 && info.requests >= 23 && info.interrupted == 1 &&
			  info.rt_accepted + info.fell_back >= 22;
	if (rt)
		counters_ok = counters_ok && info.rt_accepted >= 1 && info.rt_state == 1;
	else
		counters_ok = counters_ok && info.rt_accepted == 0 &&
			      info.rt_state == (native ? 2u : eperm ? 4u : 3u);
	CHECK(counters_ok, "counters: requests=%llu rt_accepted=%llu fell_back=%llu interrupted=%llu "
	      "rt_state=%u last_result=%d", (unsigned long long)info.requests,
	      (unsigned long long)info.rt_accepted, (unsigned long long)info.fell_back,
	      (unsigned long long)info.interrupted, info.rt_state, info.last_result);
	close(fd);
	printf("RESULT: %s (%d failures)\n", failures ? "FAIL" : "PASS", failures);
	return failures ? 1 : 0;
}
