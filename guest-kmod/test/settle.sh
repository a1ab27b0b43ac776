#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0-only
#
# settle [MAX_SECONDS]: wait until the guest's own boot work is done, before a latency
# measurement. Installed as /bin/settle in the test initramfs (guest-kmod/test-qemu.sh)
# and in the end-to-end run's measuring domU (tests/e2e/run.sh).
#
# Why: a distribution kernel keeps working after it has started /init. Debian's runs
# its crypto self-tests in `cryptomgr_test` kernel threads (measured in a PV domU under
# QEMU -icount shift=2: 87% system time on both VCPUs for the first ~20 s of /init), and
# a wake-up that lands behind one waits for it: the module's absolute 10 ms sleeps were
# 14-21 ms late on average there, 0.23 ms once that work was done. Our own tinyconfig
# kernel has none of it and settles in the first window.
#
# Settled: one 1 s window of /proc/stat in which the guest had its CPUs for at least half
# of the window (not stolen by the hypervisor: a window the guest mostly waited through
# says nothing) and they were busy (user, nice, system, irq, softirq) at most 10% of it. Prints one line, "settled
# after N s" or "not settled after N s (busy P%)", and exits 0 or 1; the caller decides
# what an unsettled guest means for its checks.
max=${1:-300}
case $max in '' | *[!0-9]*) echo "settle: MAX_SECONDS must be a whole number (got '$1')" >&2; exit 2 ;; esac

# busy_and_total: the first line of /proc/stat as "BUSY TOTAL" (ticks; steal left out).
busy_and_total() {
    read -r _ user nice system idle iowait irq softirq _ < /proc/stat
    echo "$((user + nice + system + irq + softirq)) $((user + nice + system + idle + iowait + irq + softirq))"
}

# /proc/stat counts in USER_HZ, 100 per second on every architecture.
cpus=$(grep -c '^cpu[0-9]' /proc/stat)
waited=0
set -- $(busy_and_total)
busy0=$1 total0=$2
while [ "$waited" -lt "$max" ]; do
    sleep 1
    waited=$((waited + 1))
    set -- $(busy_and_total)
    busy=$(($1 - busy0)) total=$(($2 - total0))
    busy0=$1 total0=$2
    [ $((total * 2)) -ge $((cpus * 100)) ] || continue
    if [ $((busy * 100)) -le $((total * 10)) ]; then
        echo "settled after $waited s (busy $((busy * 100 / total))% in the last second)"
        exit 0
    fi
done
[ "${total:-0}" -gt 0 ] && share="$((busy * 100 / total))%" || share="unknown"
echo "not settled after $waited s (busy $share in the last second)"
exit 1
