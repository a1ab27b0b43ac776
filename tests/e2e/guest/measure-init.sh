#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0-only
#
# /init of the measuring domU (tests/e2e/run.sh). One `rtsleep bench` run of e2e_loops
# 10 ms periods, through /dev/rtsleep (e2e_mode=rtsleep: the module is loaded) or with
# plain clock_nanosleep (e2e_mode=plain: no module, so the library falls back), between
# E2E-BEGIN and E2E-END lines that dom0's watcher uses to sample CPU times. The JSON
# reports follow between markers; then the domain powers off.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
echo "E2E-GUEST up kernel=$(uname -r) clocksource=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource) mode=$e2e_mode loops=$e2e_loops"
if [ "$e2e_mode" = rtsleep ]; then
    insmod /rtsleep.ko || echo "E2E-GUEST insmod failed"
fi
# Let the boot's last work (udev-less, but the console and timers) settle.
sleep 1
echo "E2E-BEGIN"
rtsleep bench --period 10ms --loops "${e2e_loops:-1000}" --histogram 1000000 --json > /tmp/bench.json 2> /tmp/bench.err
rc=$?
echo "E2E-END rc=$rc"
rtsleep status --json > /tmp/status.json 2>&1
echo "E2E-GUEST bench rc=$rc stderr: $(tr '\n' ' ' < /tmp/bench.err)"
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
