#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0-only
#
# dom0's /init for tests/e2e/run.sh: starts the xl toolstack, creates the hog domUs, and
# for every hog configuration boots the measuring domU once per mode (plain sleeps, then
# /dev/rtsleep). Everything the host reads starts with "E2E": results come out as
# gzip+base64 blocks between E2E-FILE markers (size and MD5 checked on the host).
#
# Parameters (kernel command line words, which reach init as environment variables):
#   e2e_sched    credit | credit2 | rtds | rtcredit
#   e2e_loops    periods per measuring run
#   e2e_period_us the measuring task's period in microseconds (default 10000)
#   e2e_configs  space-separated with '+' for space: alone, 0 (uncapped), a cap in %,
#                mixed (uncapped hogs, and a CPU burner inside the measuring domU),
#                seven (seven uncapped hogs) or 2cpu (a 2-VCPU measuring domain, six
#                uncapped hogs; run.sh boots such configurations on two pCPUs), each
#                with an optional @PERIOD_US for its own period
#   e2e_hogs     how many hog domUs to create (the most any configuration uses)
#   e2e_trace    seconds of xentrace during an extra short rtsleep run (0: none)
#   e2e_workload bench (rtsleep bench, default) or threads (rtworker, see the guest's init)
#   e2e_pin      the guest CPU the measured program is pinned to, or none (default)
#   e2e_trace_config the hog configuration of that run (default 20)
#   e2e_rtc_rate the RTC's periodic rate select, 3..15 (0: off; run.sh --rtc-tick)
#   e2e_domu_args extra kernel parameters of the measuring domU, joined by + (run.sh
#                --domu-args)
#
# The hogs run only while a measuring loop runs: e2e-watch unpauses them at the guest's
# E2E-READY (two seconds before its loop starts, so every scheduler has settled) and
# pauses them again at E2E-END. A domU's boot and teardown then take a few seconds of
# emulated time instead of half a minute shared with the hogs: under icount every
# emulated second a hog burns costs wall time, and the measured interval is the same.
/bin/busybox --install -s /bin
export PATH=/bin:/usr/sbin:/usr/bin:/usr/lib/xen/bin
export LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu:/lib/x86_64-linux-gnu
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /var/log
# /var/run and /var/lock point into /run (hypervisor/xen/lib-initramfs.sh).
mkdir -p /run/xen /run/xenstored /run/lock /var/log/xen/console

say() { echo "E2E: $*"; }
die() { echo "E2E-FATAL: $*"; sync; poweroff -f; }
configs=$(echo "${e2e_configs:-alone+0+10+20+30}" | tr '+' ' ')
loops=${e2e_loops:-1000}
sched=${e2e_sched:-credit}
period_us=${e2e_period_us:-10000}
nhogs=${e2e_hogs:-3}
say "dom0 up kernel=$(uname -r) sched=$sched loops=$loops period_us=$period_us hogs=$nhogs configs='$configs'"

for m in $(cat /modules.load); do insmod "/lib/modules/$m" || die "insmod $m"; done
mount -t xenfs xenfs /proc/xen || die "mount xenfs"
xenstored -N > /var/log/xen/xenstored.out 2>&1 &
i=0
while [ ! -S /run/xenstored/socket ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
xen-init-dom0 > /var/log/xen/init-dom0.out 2>&1 || die "xen-init-dom0: $(cat /var/log/xen/init-dom0.out)"
xenconsoled --log=guest --log-dir=/var/log/xen/console || die "xenconsoled"
say "toolstack up: $(xl info | grep -E '^(xen_version|xen_scheduler|nr_cpus)' | tr -s ' ' | tr '\n' ' ')"

# run.sh --rtc-tick: QEMU's RTC ticks on the virtual clock so that no emulated CPU's turn
# outlasts the tick (dom0/rtc-tick.c says why). Linux's rtc_cmos would take every tick
# as an interrupt into dom0: it is unbound first, and IRQ 8 must then be nobody's.
if [ "${e2e_rtc_rate:-0}" != 0 ]; then
    for dev in /sys/bus/pnp/drivers/rtc_cmos/* /sys/bus/platform/drivers/rtc_cmos/*; do
        [ -L "$dev" ] && [ -e "$dev/driver" ] && echo "${dev##*/}" > "${dev%/*}/unbind"
    done
    grep -q rtc /proc/interrupts && die "rtc-tick: IRQ 8 is still bound: $(grep rtc /proc/interrupts)"
    out=$(rtc-tick "$e2e_rtc_rate" 2>&1) || die "$out"
    say "$out"
fi

# Prints file $2 on the console as block $1 (gzip, base64, size and MD5).
emit() {
    echo "E2E-FILE-BEGIN name=$1 bytes=$(wc -c < "$2") md5=$(md5sum "$2" | cut -d' ' -f1)"
    gzip -c "$2" | base64
    echo "E2E-FILE-END name=$1"
}

# A hog's cap in percent of one CPU (0: none), through the running scheduler's tool.
# RTDS has no cap: a capped hog is a server of that share of a 10 ms period without
# extra time; an uncapped one keeps RTDS's defaults (10 ms period, 4 ms budget, extra
# time on), which is what `xl create` gives every domain.
set_cap() {
    case $sched in
        credit) xl sched-credit -d "$1" -c "$2" ;;
        credit2) xl sched-credit2 -d "$1" -c "$2" ;;
        rtds) if [ "$2" = 0 ]; then xl sched-rtds -d "$1" -v all -p 10000 -b 4000 -e 1
              else xl sched-rtds -d "$1" -v all -p 10000 -b $(($2 * 100)) -e 0; fi ;;
        rtcredit) rtcredit-ctl dom "$1" --cap "$2" > /dev/null ;;
    esac || die "cannot set cap $2 on $1"
}

hogs=$(seq 1 "$nhogs")
# One hog at a time: created, left to finish its boot (it says so on its console), then
# parked. Booting a hog while the others spin shares the CPU with all of them: the
# seventh would boot with an eighth of it (the first seven-hog boots spent over ten
# minutes of wall time there on a loaded host).
for h in $hogs; do
    xl create /etc/xen/hog.cfg "name=\"hog$h\"" > /tmp/create-hog$h.out 2>&1 ||
        die "xl create hog$h: $(tail -n 5 /tmp/create-hog$h.out)"
    i=0
    while ! grep -q E2E-HOG "/var/log/xen/console/guest-hog$h.log" 2> /dev/null && [ $i -lt 600 ]; do
        sleep 0.5; i=$((i + 1))
    done
    [ $i -lt 600 ] || die "hog$h did not come up"
    xl pause "hog$h"
done
say "hogs created: $(xl list | awk 'NR > 1 {printf "%s=%s ", $1, $2}')"

run=0
# measure CONFIG MODE LOOPS PERIOD_US VCPUS [TRACE_SECS]: one boot of the measuring
# domU; the hogs of $active (domain ids) run during its loop. Its period is run_us, not
# the global period_us (sh has no locals: a CONFIG@US once set every later
# configuration's period).
measure() {
    cfg=$1 mode=$2 n=$3 run_us=$4 vcpus=$5 trace=${6:-0}
    burn=0; [ "$cfg" = mixed ] && burn=1
    run=$((run + 1))
    name=measure$run
    log=/var/log/xen/console/guest-$name.log
    # tsc=reliable: no clocksource watchdog on the TSC. Linux 7.2's watchdog checks the
    # TSC's skew between CPUs every 0.5 s by a ping-pong with the other CPU, interrupts
    # off on both sides; with the other VCPU preempted behind the hogs the VCPU spun in
    # it for whole Xen slices (30-184 ms; register dumps and traces in
    # docs/results/e2e-2cpu-pvspin/), which made every two-pCPU figure the guest's.
    xl create -p /etc/xen/measure.cfg "name=\"$name\"" "vcpus=$vcpus" \
        "extra=\"console=hvc0 quiet rdinit=/init clocksource=xen tsc=reliable e2e_mode=$mode e2e_loops=$n e2e_period_us=$run_us e2e_burn=$burn e2e_workload=${e2e_workload:-bench} e2e_pin=${e2e_pin:-none} $(echo "${e2e_domu_args:-}" | tr '+' ' ')\"" > /tmp/create.out 2>&1 ||
        die "xl create $name: $(tail -n 5 /tmp/create.out)"
    domid=$(xl domid "$name")
    if [ "$sched" = rtcredit ]; then
        # RT is a privilege granted by dom0, here by measure.cfg's rtcredit_rt keys at
        # xl create, with no other tool: check that Xen has them before the run.
        row=$(xl sched-rtcredit -d "$name" 2>&1 | awk -v n="$name" '$1 == n {print $5, $6}')
        [ "$row" = "allow 50" ] || die "xl.cfg's rtcredit_rt keys not in force for $name: '$row'"
    fi
    if [ "$sched" = rtds ]; then
        # RTDS as its documentation tells an administrator: the server's period is the
        # task's period, its budget what the domain may use each period (half of it,
        # as rtcredit's RT budget above), extra time on so that it is not capped.
        xl sched-rtds -d "$name" -v all -p "$run_us" -b $((run_us / 2)) -e 1 > /tmp/grant.out 2>&1 ||
            die "xl sched-rtds: $(cat /tmp/grant.out)"
    fi
    say "run $run config=$cfg mode=$mode loops=$n period_us=$run_us vcpus=$vcpus domain=$name domid=$domid"
    echo "E2E-DOMS run=$run $(xl list | awk 'NR > 1 {printf "%s=%s ", $1, $2}')"
    xl unpause "$name"
    # Waits without forking: the watcher samples every domain's CPU time at the guest's
    # E2E-BEGIN and E2E-END lines and returns at E2E-DONE; for the traced run it starts
    # xentrace at E2E-BEGIN, so the capture covers the loop.
    tracer=
    [ "$trace" != 0 ] && tracer="xentrace -D -S 64 -e ${e2e_trace_mask:-0x0002f000} -T $trace /tmp/trace.bin"
    # shellcheck disable=SC2086
    # threads: the rtsleep run holds two loops (--all, then the default policy).
    loops_in_run=1; [ "${e2e_workload:-bench}" = threads ] && [ "$mode" = rtsleep ] && loops_in_run=2
    E2E_HOGS=$active e2e-watch "$log" "$run" "$domid" $((loops_in_run * n * run_us / 500000 + 240)) $tracer 2> /tmp/watch.err ||
        say "run $run: watcher failed: $(cat /tmp/watch.err); guest said: $(tail -c 1500 "$log" | tr '\n' '|')"
    if [ "$sched" = rtcredit ]; then
        # The scheduler's view of every domain (time at each priority, RT counters).
        rtcredit-ctl dom --json > /tmp/dom.json 2> /tmp/dom.err || say "rtcredit-ctl dom: $(cat /tmp/dom.err)"
    fi
    i=0
    while xl domid "$name" > /dev/null 2>&1 && [ $i -lt 60 ]; do sleep 1; i=$((i + 1)); done
    xl destroy "$name" > /dev/null 2>&1
    [ "$trace" != 0 ] && trace_end
    sed -n '/^E2E-JSON-BEGIN bench/,/^E2E-JSON-END bench/p' "$log" | sed '1d;$d' > /tmp/bench.json
    sed -n '/^E2E-JSON-BEGIN status/,/^E2E-JSON-END status/p' "$log" | sed '1d;$d' > /tmp/status.json
    grep '^E2E-GUEST' "$log" | sed "s/^/E2E-R$run /"
    emit "run$run-bench.json" /tmp/bench.json
    emit "run$run-status.json" /tmp/status.json
    [ -s /tmp/dom.json ] && emit "run$run-sched.json" /tmp/dom.json && rm -f /tmp/dom.json
    echo "E2E-RUN-END run=$run config=$cfg mode=$mode"
}

trace_end() {
    say "xentrace: $(tr '\n' ' ' < /tmp/watch.err) bytes=$(wc -c < /tmp/trace.bin 2> /dev/null || echo 0)"
    [ -s /tmp/trace.bin ] && emit "trace-$sched.bin" /tmp/trace.bin
}

# hogs_for CONFIG: sets $active (the hog domain ids that run, comma-separated) and the
# caps of those hogs for a configuration (its name without @PERIOD_US).
hogs_for() {
    case $1 in
        alone) use=0 cap=0 ;;
        seven) use=7 cap=0 ;;
        2cpu) use=6 cap=0 ;;
        mixed|0|2vcpu) use=3 cap=0 ;;
        *) use=3 cap=$1 ;;
    esac
    [ "$use" -le "$nhogs" ] || die "configuration $1 needs $use hogs, only $nhogs were created"
    active=
    for h in $(seq 1 "$use"); do
        set_cap "hog$h" "$cap"
        active=$active${active:+,}$(xl domid "hog$h")
    done
    say "config $1: $use hog(s) at cap $cap: $active"
}

for spec in $configs; do
    cfg=${spec%@*} p=$period_us
    [ "$cfg" != "$spec" ] && p=${spec#*@}
    vcpus=1; case $cfg in 2cpu|2vcpu) vcpus=2 ;; esac
    hogs_for "$cfg"
    measure "$cfg" plain "$loops" "$p" "$vcpus"
    measure "$cfg" rtsleep "$loops" "$p" "$vcpus"
done
if [ "${e2e_trace:-0}" != 0 ]; then
    cfg=${e2e_trace_config:-20} vcpus=1
    case $cfg in 2cpu|2vcpu) vcpus=2 ;; esac
    hogs_for "$cfg"
    measure trace rtsleep 500 "$period_us" "$vcpus" "$e2e_trace"
fi
say "done uptime=$(cut -d' ' -f1 /proc/uptime)"
sync
poweroff -f
