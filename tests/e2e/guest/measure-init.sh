#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0-only
#
# /init of the measuring domU (tests/e2e/run.sh). One `rtsleep bench` run of e2e_loops
# periods of e2e_period_us (default 10 ms), through /dev/rtsleep (e2e_mode=rtsleep: the
# module is loaded) or with plain clock_nanosleep (e2e_mode=plain: no module, so the
# library falls back), between E2E-BEGIN and E2E-END lines that dom0's watcher uses to
# sample CPU times. With e2e_burn=1 (the mixed-work configuration) a CPU burner runs at
# nice 19 beside it and the bench runs at SCHED_FIFO 50: an audio thread beside a
# compile, credit2's unsolved case. With e2e_workload=threads the measured program is
# rtworker instead (a SCHED_FIFO worker on absolute deadlines beside a housekeeping
# thread that sleeps relative periods; dynamic), unwrapped in plain mode and under
# `rtsleep run` (default routing policy) in rtsleep mode; in rtsleep mode it first runs
# once under `rtsleep run --all` too, reported on an E2E-GUEST line only. The JSON
# reports follow between markers; then the domain powers off. With e2e_pin=CPU the
# measured program runs pinned to that CPU (taskset). The guest's own CPU accounting
# (/proc/stat, /proc/interrupts) is printed around the loop, to tell the guest's work
# from the scheduler's.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
period_us=${e2e_period_us:-10000}
echo "E2E-GUEST up kernel=$(uname -r) clocksource=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource) mode=$e2e_mode loops=$e2e_loops period_us=$period_us burn=${e2e_burn:-0}"
if [ "$e2e_mode" = rtsleep ]; then
    insmod /rtsleep.ko || echo "E2E-GUEST insmod failed"
fi
# A distribution kernel's own boot work (Debian's crypto self-tests) is done before the
# hogs start (guest-kmod/test/settle.sh).
echo "E2E-GUEST $(settle 300)"
# dom0's watcher unpauses the hogs at E2E-READY; two seconds let the boot's last work
# settle and every scheduler reach its steady state with the hogs before the loop.
echo "E2E-READY"
sleep 2
bench="rtsleep bench --period ${period_us}us --loops ${e2e_loops:-1000} --histogram 1000000 --json"
if [ "${e2e_workload:-bench}" = threads ]; then
    worker="rtworker $period_us ${e2e_loops:-1000}"
    if [ "$e2e_mode" = rtsleep ]; then
        # Every sleep routed (the old behaviour), for comparison: not the reported run.
        rtsleep run --all --stats /tmp/all.stats -- $worker wrapped-all > /tmp/all.json 2> /tmp/all.err
        echo "E2E-GUEST rtworker --all: $(tr -d ' \n' < /tmp/all.json) $(tr '\n' ' ' < /tmp/all.err) shim: $(tr '\n' ' ' < /tmp/all.stats)"
        bench="rtsleep run --stats /tmp/shim.stats -- $worker wrapped"
    else
        bench="$worker unwrapped"
    fi
fi
if [ "${e2e_burn:-0}" = 1 ]; then
    hog 19 > /tmp/burn.out 2>&1 &
    burner=$!
    bench="rtprio 50 $bench"
fi
if [ "${e2e_pin:-none}" != none ]; then
    bench="taskset -c $e2e_pin $bench"
fi
echo "E2E-GUEST cpustat-begin: $(grep '^cpu' /proc/stat | tr '\n' '|')"
echo "E2E-GUEST softirqs-begin: $(tr -s ' ' < /proc/softirqs 2> /dev/null | tr '\n' '|' | head -c 1000)"
echo "E2E-BEGIN"
# shellcheck disable=SC2086  # the command's words
$bench > /tmp/bench.json 2> /tmp/bench.err
rc=$?
[ -n "${burner:-}" ] && kill "$burner"
echo "E2E-END rc=$rc"
echo "E2E-GUEST cpustat-end: $(grep '^cpu' /proc/stat | tr '\n' '|')"
echo "E2E-GUEST interrupts: $(tr -s ' ' < /proc/interrupts | tr '\n' '|' | head -c 3000)"
echo "E2E-GUEST softirqs: $(tr -s ' ' < /proc/softirqs 2> /dev/null | tr '\n' '|' | head -c 1000)"
echo "E2E-GUEST dmesg: $(dmesg 2> /dev/null | tail -n 8 | tr '\n' '|' | head -c 1500)"
rtsleep status --json > /tmp/status.json 2>&1
echo "E2E-GUEST bench rc=$rc stderr: $(tr '\n' ' ' < /tmp/bench.err)"
[ -f /tmp/shim.stats ] && echo "E2E-GUEST shim: $(tr '\n' ' ' < /tmp/shim.stats)"
echo "E2E-JSON-BEGIN bench"
cat /tmp/bench.json
echo "E2E-JSON-END bench"
echo "E2E-JSON-BEGIN status"
cat /tmp/status.json
echo "E2E-JSON-END status"
echo "E2E-DONE"
# dom0 reads the scheduler's counters of this domain now, before it is gone (3 s was
# not always enough for a dom0 that shares the CPU with uncapped hogs).
sleep 8
poweroff -f
