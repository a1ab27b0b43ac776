// SPDX-License-Identifier: GPL-2.0-only
/*
 * In-guest test of /dev/rtsleep (static; run by test-qemu.sh from the initramfs).
 * Prints one "PASS: ..." or "FAIL: ..." line per check and exits non-zero on any
 * failure. The ioctl numbers and layouts are those of abi/src/ioctl.rs (its
 * module doc shows this same C view); the checks below also verify the sizes.
 *
 * What the environment should give is taken from the environment variable
 * rtsleep_expect (test-qemu.sh puts it on the kernel command line, which hands it to
 * init): "native" (default: no Xen), "rt" (Xen with sched=rtcredit and RT allowed for
 * this domain), "eperm" (rtcredit, RT not allowed), "eopnotsupp" (Xen with another
 * scheduler).
 *
 * "rtsleep_test sleep MS" only sleeps MS milliseconds through the device and reports how
 * it ended (test-qemu.sh runs it in the background to try rmmod under a blocked sleeper).
 * "rtsleep_test info PREFIX" prints the counters as shell assignments (PREFIXrequests=N
 * ...), for test-qemu.sh to compare before and after `rtsleep run`.
 * "rtsleep_test access GID" checks the permission model of dist/99-rtsleep.rules (which
 * test-qemu.sh applies to the node by hand: no udev here): as an unprivileged user
 * outside group GID the open fails with EACCES; as one with GID as a supplementary group
 * it succeeds.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct rtsleep_sleep_args { uint64_t deadline_ns; uint32_t clock; uint32_t flags; uint64_t remaining_ns; };
struct rtsleep_device_info {
	uint32_t version, on_xen, rt_state; int32_t last_result;
	uint64_t min_lead_ns, max_lead_ns, requests, rt_accepted, fell_back, interrupted;
};
struct rtsleep_device_info_ext {
	struct rtsleep_device_info info;
	uint32_t size, reserved;
	uint64_t hypercalls, rt_deferred, rt_replaced, rt_reregistered, rt_cancels;
};
#define RTSLEEP_IOC_SLEEP 0xC018E201u
#define RTSLEEP_IOC_INFO  0x8040E202u
#define RTSLEEP_IOC_INFO_EXT 0x8070E202u /* same nr, 112 bytes */
_Static_assert(sizeof(struct rtsleep_sleep_args) == 24, "sleep args");
_Static_assert(sizeof(struct rtsleep_device_info) == 64, "device info");
_Static_assert(sizeof(struct rtsleep_device_info_ext) == 112, "device info ext");

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

static int fd = -1;

static struct rtsleep_device_info_ext info_ext(void)
{
	struct rtsleep_device_info_ext x;
	memset(&x, 0, sizeof(x));
	if (ioctl(fd, RTSLEEP_IOC_INFO_EXT, &x) != 0)
		x.size = 0;
	return x;
}

static void pin_self(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* One sleeper thread: sleeps until `deadline` through the device, starting on CPU 0. */
struct sleeper {
	pthread_t thread;
	pid_t tid;
	uint64_t deadline, woke;
	int rc, err, cpu_after, glibc_cpu_after;
	int movable;	/* starts on CPU 0 with affinity {0,1} instead of {0} */
	cpu_set_t mask_after;
	volatile int ready;
};

static void *sleeper_main(void *p)
{
	struct sleeper *s = p;
	s->tid = gettid();
	pin_self(0);
	if (s->movable) {
		cpu_set_t both;
		CPU_ZERO(&both);
		CPU_SET(0, &both);
		CPU_SET(1, &both);
		sched_setaffinity(0, sizeof(both), &both);
	}
	s->ready = 1;
	struct rtsleep_sleep_args a = { .deadline_ns = s->deadline, .clock = 1, .flags = 1 };
	s->rc = ioctl(fd, RTSLEEP_IOC_SLEEP, &a);
	s->err = errno;
	s->woke = now_ns();
	/* The system call: glibc's sched_getcpu() reads the vDSO/rseq, wrong in a Xen PV dom0. */
	unsigned int cpu = ~0u;
	syscall(SYS_getcpu, &cpu, NULL, NULL);
	s->cpu_after = (int)cpu;
	s->glibc_cpu_after = sched_getcpu();
	sched_getaffinity(0, sizeof(s->mask_after), &s->mask_after);
	return NULL;
}

static void start_sleeper(struct sleeper *s, uint64_t deadline, int movable)
{
	memset(s, 0, sizeof(*s));
	s->deadline = deadline;
	s->movable = movable;
	pthread_create(&s->thread, NULL, sleeper_main, s);
	while (!s->ready)
		usleep(1000);
}

static void sleep_until_ns(uint64_t t)
{
	struct timespec ts = { (time_t)(t / 1000000000ull), (long)(t % 1000000000ull) };
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* Lateness in us, or -1 if it woke early or failed unexpectedly. */
static long lateness_us(const struct sleeper *s, int expect_eintr)
{
	if (expect_eintr)
		return s->rc == -1 && s->err == EINTR ? 0 : -1;
	if (s->rc != 0 || s->woke < s->deadline)
		return -1;
	return (long)((s->woke - s->deadline) / 1000);
}

/*
 * Two threads sleep on CPU 0 at once: A until t0 + a_ms, B (started 50 ms later) until
 * t0 + b_ms; with kill_a_ms, A gets SIGUSR1 then. Checks the wake-ups and, when RT is
 * granted, that the registration counters moved as "earliest wins" says.
 */
static void two_sleepers(const char *name, int a_ms, int b_ms, int kill_a_ms, int rt, int eperm,
			 uint64_t hc, uint64_t deferred, uint64_t replaced, uint64_t rereg, uint64_t cancels)
{
	struct rtsleep_device_info_ext x0 = info_ext();
	uint64_t t0 = now_ns();
	struct sleeper a, b;
	start_sleeper(&a, t0 + (uint64_t)a_ms * 1000000ull, 0);
	sleep_until_ns(t0 + 50000000ull);
	start_sleeper(&b, t0 + (uint64_t)b_ms * 1000000ull, 0);
	if (kill_a_ms) {
		sleep_until_ns(t0 + (uint64_t)kill_a_ms * 1000000ull);
		pthread_kill(a.thread, SIGUSR1);
	}
	pthread_join(a.thread, NULL);
	pthread_join(b.thread, NULL);
	struct rtsleep_device_info_ext x1 = info_ext();
	long la = lateness_us(&a, kill_a_ms != 0), lb = lateness_us(&b, 0);
	CHECK(la >= 0 && la < 20000 && lb >= 0 && lb < 20000,
	      "%s: A (%d ms%s) %s %ld us late, B (%d ms) %ld us late", name, a_ms,
	      kill_a_ms ? ", signalled" : "", kill_a_ms ? "EINTR," : "woke", la, b_ms, lb);
	uint64_t d_hc = x1.hypercalls - x0.hypercalls, d_def = x1.rt_deferred - x0.rt_deferred,
		 d_rep = x1.rt_replaced - x0.rt_replaced, d_rr = x1.rt_reregistered - x0.rt_reregistered,
		 d_can = x1.rt_cancels - x0.rt_cancels, d_acc = x1.info.rt_accepted - x0.info.rt_accepted;
	int ok;
	if (rt)
		ok = d_hc == hc && d_def == deferred && d_rep == replaced && d_rr == rereg && d_can == cancels &&
		     d_acc == 2;
	else
		/* A refusal holds for 1 s: at most one re-probe per sleep, nothing registered. */
		ok = d_def == 0 && d_rep == 0 && d_rr == 0 && d_can == 0 && d_acc == 0 && (eperm ? d_hc <= 2u : d_hc == 0u);
	CHECK(ok, "%s: counter deltas hypercalls=%llu deferred=%llu replaced=%llu reregistered=%llu "
	      "cancels=%llu rt_accepted=%llu (expected %s)", name, (unsigned long long)d_hc,
	      (unsigned long long)d_def, (unsigned long long)d_rep, (unsigned long long)d_rr,
	      (unsigned long long)d_can, (unsigned long long)d_acc,
	      rt ? "earliest wins" : eperm ? "at most one refused re-probe per sleep, nothing registered" : "no hypercalls");
}

/*
 * The periodic worker beside a long sleeper on CPU 0 (the shape of a real-time thread
 * beside housekeeping): L sleeps 400 ms; W sleeps N times to a deadline 10 ms ahead.
 * With RT, each of W's deadlines is earlier than L's, so it replaces L's registration,
 * and when W wakes it hands the registration back to L: every deadline of W is
 * registered when it comes due (hypercalls 1 + 2N, replaced N, reregistered N,
 * rt_accepted N + 1), and L keeps its own.
 */
struct worker { pthread_t thread; int periods; long worst_us; int early; };

static void *worker_main(void *p)
{
	struct worker *w = p;
	pin_self(0);
	for (int i = 0; i < w->periods; i++) {
		struct rtsleep_sleep_args a = { .deadline_ns = now_ns() + 10000000ull, .clock = 1, .flags = 1 };
		if (ioctl(fd, RTSLEEP_IOC_SLEEP, &a) != 0) { w->early++; continue; }
		uint64_t t = now_ns();
		if (t < a.deadline_ns) { w->early++; continue; }
		long late = (long)((t - a.deadline_ns) / 1000);
		if (late > w->worst_us)
			w->worst_us = late;
	}
	return NULL;
}

static void worker_beside_sleeper(int rt)
{
	enum { N = 10 };
	struct rtsleep_device_info_ext x0 = info_ext();
	uint64_t t0 = now_ns();
	struct sleeper l;
	struct worker w = { .periods = N };
	start_sleeper(&l, t0 + 400000000ull, 0);
	pthread_create(&w.thread, NULL, worker_main, &w);
	pthread_join(w.thread, NULL);
	pthread_join(l.thread, NULL);
	struct rtsleep_device_info_ext x1 = info_ext();
	long ll = lateness_us(&l, 0);
	CHECK(ll >= 0 && ll < 20000 && w.early == 0 && w.worst_us < 20000,
	      "worker beside a long sleeper: %d worker periods, %d early or failed, worst %ld us late; long sleeper %ld us late",
	      N, w.early, w.worst_us, ll);
	if (!rt)
		return;
	uint64_t d_hc = x1.hypercalls - x0.hypercalls, d_def = x1.rt_deferred - x0.rt_deferred,
		 d_rep = x1.rt_replaced - x0.rt_replaced, d_rr = x1.rt_reregistered - x0.rt_reregistered,
		 d_acc = x1.info.rt_accepted - x0.info.rt_accepted;
	CHECK(d_hc == 1 + 2 * N && d_rep == N && d_rr == N && d_def == 0 && d_acc == N + 1,
	      "worker beside a long sleeper: hypercalls=%llu replaced=%llu reregistered=%llu deferred=%llu "
	      "rt_accepted=%llu (expected %d %d %d 0 %d: every worker deadline registered, the long one handed back)",
	      (unsigned long long)d_hc, (unsigned long long)d_rep, (unsigned long long)d_rr,
	      (unsigned long long)d_def, (unsigned long long)d_acc, 1 + 2 * N, N, N, N + 1);
}

/*
 * A refusal does not stick (eperm, eopnotsupp): right after a refused sleep the next
 * one makes no hypercall (the module backs off for 1 s); after 1.2 s without device
 * sleeps the next one asks Xen again (one hypercall), and is refused again.
 */
static void reprobe(void)
{
	struct rtsleep_sleep_args a = { .deadline_ns = now_ns() + 10000000ull, .clock = 1, .flags = 1 };
	ioctl(fd, RTSLEEP_IOC_SLEEP, &a); /* refused now, or within the last second */
	uint64_t h0 = info_ext().hypercalls;
	a.deadline_ns = now_ns() + 10000000ull;
	ioctl(fd, RTSLEEP_IOC_SLEEP, &a);
	uint64_t h1 = info_ext().hypercalls;
	sleep_until_ns(now_ns() + 1200000000ull);
	a.deadline_ns = now_ns() + 10000000ull;
	ioctl(fd, RTSLEEP_IOC_SLEEP, &a);
	struct rtsleep_device_info_ext x = info_ext();
	CHECK(h1 == h0 && x.hypercalls == h1 + 1 && (x.info.rt_state == 3 || x.info.rt_state == 4),
	      "re-probe: a sleep during the back-off made %llu hypercalls (expected 0), one 1.2 s later %llu "
	      "(expected 1), rt_state=%u", (unsigned long long)(h1 - h0), (unsigned long long)(x.hypercalls - h1),
	      x.info.rt_state);
}

/* "access GID": see the file comment. Runs as root; each case in a child. */
static int open_as(uid_t uid, gid_t gid, const gid_t *groups, int ngroups)
{
	pid_t pid = fork();
	if (pid == 0) {
		if (setgroups((size_t)ngroups, groups) || setgid(gid) || setuid(uid))
			_exit(100);
		int f = open("/dev/rtsleep", O_RDWR | O_CLOEXEC);
		_exit(f >= 0 ? 0 : errno == EACCES ? 1 : 2);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 3;
}

static int access_check(gid_t group)
{
	struct stat st;
	int ok = stat("/dev/rtsleep", &st) == 0;
	CHECK(ok && (st.st_mode & 0777) == 0660 && st.st_gid == group,
	      "permission: /dev/rtsleep mode %o group %u (the udev rule: 0660, group rtsleep = %u)",
	      ok ? st.st_mode & 0777 : 0, ok ? st.st_gid : 0, group);
	int outsider = open_as(65534, 65534, NULL, 0), member = open_as(65534, 65534, &group, 1);
	CHECK(outsider == 1, "permission: a user outside the group cannot open it (%s)",
	      outsider == 1 ? "EACCES" : outsider == 0 ? "opened" : "other error");
	CHECK(member == 0, "permission: a user in the group opens it (%s)",
	      member == 0 ? "opened" : member == 1 ? "EACCES" : "other error");
	return failures ? 1 : 0;
}

/*
 * A sleeper starts on CPU 0 with affinity {0,1} and sleeps 300 ms; 100 ms in, another
 * thread moves it to {1}. With a possible RT registration (pinned) the affinity call
 * waits until the sleeper wakes; without, it returns at once. Either way the sleeper
 * wakes on time and the new affinity is applied afterwards, not lost.
 */
/* pinned: 1 must be pinned, 0 must not, -1 either (a re-probe may pin it). */
static void migration(int pinned)
{
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		printf("GUEST: migration case skipped: one CPU online\n");
		return;
	}
	uint64_t t0 = now_ns();
	struct sleeper s;
	start_sleeper(&s, t0 + 300000000ull, 1);
	sleep_until_ns(t0 + 100000000ull);
	cpu_set_t one;
	CPU_ZERO(&one);
	CPU_SET(1, &one);
	uint64_t c0 = now_ns();
	int r = sched_setaffinity(s.tid, sizeof(one), &one);
	uint64_t took_ms = (now_ns() - c0) / 1000000ull;
	pthread_join(s.thread, NULL);
	long late = lateness_us(&s, 0);
	printf("GUEST: migration: after the sleep getcpu() says CPU %d, glibc sched_getcpu() %d\n", s.cpu_after,
	       s.glibc_cpu_after);
	CHECK(r == 0 && (pinned < 0 || (pinned ? took_ms >= 150 : took_ms < 100)),
	      "migration: sched_setaffinity({1}) on the sleeper took %llu ms (%s)", (unsigned long long)took_ms,
	      pinned < 0 ? "pinned only if the sleep re-probed Xen" :
	      pinned ? "pinned for the sleep: applied when it wakes" : "not pinned: at once");
	CHECK(late >= 0 && late < 20000 && s.cpu_after == 1 && CPU_COUNT(&s.mask_after) == 1 &&
	      CPU_ISSET(1, &s.mask_after),
	      "migration: sleeper woke %ld us late, then ran on CPU %d with affinity {1} (%s)", late, s.cpu_after,
	      CPU_ISSET(1, &s.mask_after) && CPU_COUNT(&s.mask_after) == 1 ? "kept" : "LOST");
}

static int sleep_only(int ms)
{
	fd = open("/dev/rtsleep", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		printf("GUEST: sleeper: open: %s\n", strerror(errno));
		return 1;
	}
	struct rtsleep_sleep_args a = { .deadline_ns = now_ns() + (uint64_t)ms * 1000000ull, .clock = 1, .flags = 1 };
	int r = ioctl(fd, RTSLEEP_IOC_SLEEP, &a);
	uint64_t t = now_ns();
	printf("GUEST: sleeper: %d ms sleep rc=%d %s, %lld us late\n", ms, r, r ? strerror(errno) : "ok",
	       (long long)(t - a.deadline_ns) / 1000);
	close(fd);
	return r == 0 && t >= a.deadline_ns ? 0 : 1;
}

/* "info PREFIX": the counters as shell assignments, for test-qemu.sh to eval. */
static int print_info(const char *prefix)
{
	fd = open("/dev/rtsleep", O_RDWR | O_CLOEXEC);
	struct rtsleep_device_info_ext x = info_ext();
	if (fd < 0 || !x.size)
		return 1;
	printf("%srequests=%llu %srt_accepted=%llu %sfell_back=%llu %sinterrupted=%llu %shypercalls=%llu\n",
	       prefix, (unsigned long long)x.info.requests, prefix, (unsigned long long)x.info.rt_accepted, prefix,
	       (unsigned long long)x.info.fell_back, prefix, (unsigned long long)x.info.interrupted, prefix,
	       (unsigned long long)x.hypercalls);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "sleep"))
		return sleep_only(atoi(argv[2]));
	if (argc == 3 && !strcmp(argv[1], "info"))
		return print_info(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "access"))
		return access_check((gid_t)atoi(argv[2]));
	const char *expect = getenv("rtsleep_expect");
	if (!expect)
		expect = "native";
	int native = !strcmp(expect, "native"), rt = !strcmp(expect, "rt"), eperm = !strcmp(expect, "eperm");
	printf("GUEST: rtsleep_test expecting %s\n", expect);
	struct stat st;
	CHECK(stat("/dev/rtsleep", &st) == 0 && S_ISCHR(st.st_mode), "device /dev/rtsleep present");
	fd = open("/dev/rtsleep", O_RDWR | O_CLOEXEC);
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

	/* The extended info: same request number, larger size; any size >= 64 works. */
	struct rtsleep_device_info_ext x = info_ext();
	CHECK(x.size == 112 && x.info.version == 1,
	      "info ext (0x%08X): size=%u version=%u hypercalls=%llu cancels=%llu", RTSLEEP_IOC_INFO_EXT, x.size,
	      x.info.version, (unsigned long long)x.hypercalls, (unsigned long long)x.rt_cancels);
	unsigned char big[128];
	memset(big, 0xee, sizeof(big));
	r = ioctl(fd, 0x8080E202u, big); /* a later, larger struct: gets the 112 bytes it knows */
	uint32_t big_size;
	memcpy(&big_size, big + 64, 4);
	CHECK(r == 0 && big_size == 112 && big[112] == 0xee, "info with 128-byte request: rc=%d size=%u, bytes past 112 untouched",
	      r, big_size);
	if (rt)
		CHECK(x.rt_cancels == 1, "the interrupted registered sleep was cancelled (cancels=%llu)",
		      (unsigned long long)x.rt_cancels);

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

	/* Several sleepers on one VCPU (both threads on CPU 0). */
	sigaction(SIGUSR1, &sa, NULL);
	two_sleepers("later first, earlier replaces", 300, 150, 0, rt, eperm, 3, 0, 1, 1, 0);
	two_sleepers("earlier first, later queued", 150, 300, 0, rt, eperm, 2, 1, 0, 1, 0);
	two_sleepers("holder interrupted, queued one takes over", 200, 300, 100, rt, eperm, 2, 1, 0, 1, 0);
	worker_beside_sleeper(rt);
	migration(rt ? 1 : eperm ? -1 : 0);
	if (!native && !rt)
		reprobe();

	close(fd);
	printf("RESULT: %s (%d failures)\n", failures ? "FAIL" : "PASS", failures);
	return failures ? 1 : 0;
}
