#!/usr/bin/env bash
# Every path of Xen's scheduler framework that touches sched=rtcredit, on the debug
# Xen (CONFIG_DEBUG=y: ASSERTs and lock checks on), under QEMU with 2 pCPUs and load.
#
#   bash hypervisor/xen/fault-smoke.sh [--boot credit|rtcredit|gran|hostile]... [--release]
#                                      [--timeout S] [--clock MODE] [--shift N]
#                                      [--verbose] [--rejudge]
#
#   --boot B     run only this boot (repeatable; default: all four)
#   --release    the release Xen instead of the debug one
#   --timeout S  kill QEMU after S seconds, per boot (default 600): a hang is a FAIL
#   --clock MODE QEMU's clock: host (default) or icount (lib-initramfs.sh); --shift N
#                for icount (default 2)
#   --verbose    also stream the serial console to the terminal
#   --rejudge    do not build or boot: judge the last serial logs again
#
# Four boots, each a busybox dom0 with the toolstack (lib-initramfs.sh, as
# xl-smoke.sh) and a 2-VCPU PV domU whose /init runs a busy loop and, on the other
# VCPU, `rtsleep bench` through rtsleep.ko (20 ms period): RT requests are in flight,
# and its RT timer armed, whenever the domU is in an rtcredit pool with RT allowed.
#   credit    sched=credit: Pool-0 gives CPU1 to a new rtcredit pool, the domU moves
#             credit -> rtcredit -> credit -> rtcredit, sets its VCPUs 2 -> 1 -> 2 and is
#             destroyed there with RT armed; then the rtcredit pool loses its CPU, is
#             destroyed, and CPU1 goes back to Pool-0.
#   rtcredit  sched=rtcredit: Pool-0 (rtcredit) loses CPU1 with the domU running RT
#             (the hang of issue #20), a credit pool is made of it, the domU moves
#             rtcredit -> credit -> rtcredit, CPU1 comes back to Pool-0 and leaves and
#             comes back again under load, VCPU offline/online, destroy with RT armed.
#   gran      sched=rtcredit sched-gran=core on 1 core x 2 threads: the pool refuses
#             RT with a log line, SCHEDOP_rtsleep answers -EOPNOTSUPP (-95), the domU
#             still runs and is destroyed.
#   hostile   sched=rtcredit: the domU runs no guest stack but `schedop hostile` (one
#             process per VCPU: random SCHEDOP_rtsleep deadlines, flags, padding,
#             bursts and cancels, and the rtcredit domctl and sysctl, which must answer
#             -EPERM; tools/schedop.c). dom0 allows it RT (10% budget), measures its RT
#             time over 20 s against the budget, then destroys it mid-run. Its kernel
#             runs with xen_privcmd.unrestricted=1: Linux restricts a domU's privcmd
#             to its device-model target by default (every hypercall -EPERM), and a
#             hostile guest owns its kernel, so the test lifts that as one would.
# dom0 prints `FAULT: path NAME` before each path and `FAULT: STEP rc=N` after each
# command; the host judges the logs with rtcredit-judge (tests/judge, the rules and
# their tests), one PASS/FAIL line per path: FAIL on a missing step (a hang or a crash
# before it), an unexpected rc, or a crash line (XEN_CRASH_RE) in the path's part of
# the log. Exit 1 on any FAIL.
set -euo pipefail
shopt -s inherit_errexit

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
CACHE=$REPO/.cache

VARIANT=debug
TIMEOUT=600
VERBOSE=0
REJUDGE=0
CLOCK=host
SHIFT=
BOOTS=()
while [ $# -gt 0 ]; do
    case $1 in
        --boot) BOOTS+=("${2:?--boot needs credit, rtcredit, gran or hostile}"); shift ;;
        --release) VARIANT=release ;;
        --timeout) TIMEOUT=${2:?}; shift ;;
        --clock) CLOCK=${2:?--clock needs icount or host}; shift ;;
        --shift) SHIFT=${2:?--shift needs a number}; shift ;;
        --verbose) VERBOSE=1 ;;
        --rejudge) REJUDGE=1 ;;
        -h|--help) sed -n '2,44p' "$0"; exit 0 ;;
        *) echo "fault-smoke.sh: unknown argument: $1" >&2; exit 2 ;;
    esac
    shift
done
[ ${#BOOTS[@]} -gt 0 ] || BOOTS=(credit rtcredit gran hostile)
for b in "${BOOTS[@]}"; do
    case $b in credit|rtcredit|gran|hostile) ;;
        *) echo "fault-smoke.sh: --boot must be credit, rtcredit, gran or hostile (got '$b')" >&2; exit 2 ;;
    esac
done
[[ $TIMEOUT =~ ^[0-9]+$ ]] && [ "$TIMEOUT" -ge 60 ] ||
    { echo "fault-smoke.sh: --timeout must be a whole number of seconds, at least 60" >&2; exit 2; }

TOP=$CACHE/fault-smoke
DOMU_KERNEL=${DOMU_KERNEL:-$CACHE/linux-7.2/linux-source-7.2/arch/x86/boot/bzImage}
RT_PERIOD_MS=20
HOSTILE_SECS=60     # the hostile domU's run; dom0 destroys it after about 30 s
HOSTILE_WINDOW=20   # seconds over which dom0 checks its RT time against its budget

log() { echo "[fault-smoke.sh] $*" >&2; }
die() { echo "[fault-smoke.sh] ERROR: $*" >&2; exit 1; }
T0=$SECONDS

# shellcheck source=../../scripts/pkgs.sh
. "$REPO/scripts/pkgs.sh"
# shellcheck source=lib-initramfs.sh
. "$HERE/lib-initramfs.sh"
clock_setup

# --- domU: a hog on one VCPU, RT requests on the other --------------------------------
# The RT requests come from the real guest stack: rtsleep.ko (guest-kmod/build.sh)
# and the static `rtsleep` (rtsleep-cli/build-guest.sh), `rtsleep bench` at a 20 ms
# period, each VCPU's deadline registered through /dev/rtsleep with SCHEDOP_rtsleep.
# Each round reloads the module: it once stopped asking Xen after the -EOPNOTSUPP a
# credit pool answers; since the re-probe (issue #20 item 3: one probe a second after a
# refusal) that is not needed, and a reload still starts each round from clean counters. With
# fault_hostile=SECONDS on its command line (the hostile boot) it runs `schedop
# hostile` instead, and nothing of the guest stack.
build_domu_ramdisk() {
    local root=$TOP/domu-root
    busybox_root "$root" proc sys tmp
    cp "$RTSLEEP_BIN" "$root/bin/rtsleep"
    cp "$REPO/guest-kmod/rtsleep.ko" "$root/rtsleep.ko"
    cp "$TOP/tools/schedop" "$root/bin/schedop"
    cat > "$root/init" <<INIT
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
echo "FAULT-DOMU: up cpus=\$(nproc)"
hostile=\$(sed -n 's/.*fault_hostile=\([0-9]*\).*/\1/p' /proc/cmdline)
if [ -n "\$hostile" ]; then
    schedop hostile "\$hostile" 7 2>&1 | sed 's/^/FAULT-DOMU: /'
    echo "FAULT-DOMU: hostile finished"
    while :; do sleep 60; done
fi
while :; do :; done &
while :; do
    insmod /rtsleep.ko 2>/dev/null
    rtsleep bench --period ${RT_PERIOD_MS}ms --loops 100 > /tmp/bench.out 2>&1
    echo "FAULT-DOMU: bench rc=\$? \$(tail -n 1 /tmp/bench.out)"
    rmmod rtsleep 2>/dev/null
done
INIT
    chmod 755 "$root/init"
    cpio_gz "$root" "$TOP/domu-initrd.gz"
}

# --- dom0 ---------------------------------------------------------------------------------
build_dom0_initramfs() {
    local boot=$1 root
    root=$TOP/run-$boot/initramfs
    xl_dom0_root "$root" "$TOP/tools/schedop" "$DOMU_KERNEL" "$TOP/domu-initrd.gz"
    cat > "$root/etc/xen/domu.cfg" <<CFG
name = "domu"
type = "pv"
kernel = "/domu/kernel"
ramdisk = "/domu/initrd.gz"
cmdline = "console=hvc0 rdinit=/init$([ "$boot" = hostile ] && echo " fault_hostile=$HOSTILE_SECS xen_privcmd.unrestricted=1")"
memory = 64
vcpus = 2
maxvcpus = 2
vif = []
disk = []
on_crash = "preserve"
CFG
    { dom0_toolstack_init FAULT; write_paths "$boot"; } > "$root/init"
    chmod 755 "$root/init"
    cpio_gz "$root" "$TOP/run-$boot/initramfs.cpio.gz"
}

# The last two paths of the credit and rtcredit boots, with the domU in an rtcredit
# pool and RT allowed: VCPU 1 offline and online again, then destroy, RT armed.
write_vcpu_destroy() {
    cat <<'INIT'
path vcpu-offline-rt-armed
step vcpu-set-1 xl vcpu-set domu 1
load 3
step vcpu-set-2 xl vcpu-set domu 2
load 3
rt_counters counters-vcpu
path destroy-rt-armed
step destroy xl destroy domu
load 1
INIT
}

# The paths of one boot, as dom0 shell. Helpers: path NAME (a marker), allow_rt (the
# domctl that lets the domU ask for RT in its current pool; a new pool's scheduler
# starts without), rt_counters STEP (the domctl's counters), load S (S seconds of the
# domU running with its RT requests).
write_paths() {
    cat <<'INIT'
path() { echo "FAULT: path $1"; }
domid() { xl domid domu 2>/dev/null; }
allow_rt() { step "$1" schedop rtcredit-dom "$(domid)" allow; }
rt_counters() { step "$1" schedop rtcredit-dom "$(domid)" get; }
load() { sleep "$1"; }
GLOG=/var/log/xen/console/guest-domu.log
guestlog() { [ -f "$GLOG" ] && tail -n "$1" "$GLOG" | sed 's/^/FAULT: guestlog| /'; }
step xl-info sh -c 'xl info | grep -E "^(xen_scheduler|nr_cpus)"'
step xl-create xl create /etc/xen/domu.cfg
# The paths start once the domU's RT loop runs (its kernel boots slowly under TCG).
i=0
while ! grep -q "FAULT-DOMU: up" "$GLOG" 2>/dev/null && [ $i -lt 180 ]; do sleep 1; i=$((i + 1)); done
echo "FAULT: waited ${i}s for the domU"
load 3
guestlog 3
step cpupool-list xl cpupool-list
INIT
    case $1 in
        credit) cat <<'INIT'
path pool-create-rtcredit
step rm-cpu1 xl cpupool-cpu-remove Pool-0 1
step create-rt xl cpupool-create 'name="rt"' 'sched="rtcredit"' 'cpus="1"'
path migrate-credit-to-rtcredit
step migrate-rt xl cpupool-migrate domu rt
allow_rt allow-rt
load 4
rt_counters counters-rt
path migrate-rtcredit-to-credit
step migrate-back xl cpupool-migrate domu Pool-0
load 3
step migrate-rt2 xl cpupool-migrate domu rt
allow_rt allow-rt2
load 3
INIT
        write_vcpu_destroy
        cat <<'INIT'
path pool-destroy-rtcredit
step rm-cpu1-rt xl cpupool-cpu-remove rt 1
step destroy-rt xl cpupool-destroy rt
step add-cpu1 xl cpupool-cpu-add Pool-0 1
step cpupool-list-end xl cpupool-list
INIT
        ;;
        rtcredit) cat <<'INIT'
path rt-in-pool0
allow_rt allow-rt0
load 4
rt_counters counters-rt0
path cpu-remove-rtcredit-pool
step rm-cpu1 xl cpupool-cpu-remove Pool-0 1
load 3
path migrate-rtcredit-to-credit
step create-cr xl cpupool-create 'name="cr"' 'sched="credit"' 'cpus="1"'
step migrate-cr xl cpupool-migrate domu cr
load 3
path migrate-credit-to-rtcredit
step migrate-back xl cpupool-migrate domu Pool-0
allow_rt allow-rt1
load 3
rt_counters counters-rt1
path cpu-readd-rtcredit-pool
step rm-cpu1-cr xl cpupool-cpu-remove cr 1
step destroy-cr xl cpupool-destroy cr
step add-cpu1 xl cpupool-cpu-add Pool-0 1
load 3
step rm-cpu1-again xl cpupool-cpu-remove Pool-0 1
load 2
step add-cpu1-again xl cpupool-cpu-add Pool-0 1
load 3
INIT
        write_vcpu_destroy
        ;;
        hostile) cat <<INIT
path hostile-guest
allow_rt allow-rt
step now0 schedop now
rt_counters counters-h0
load $HOSTILE_WINDOW
step now1 schedop now
rt_counters counters-h1
guestlog 4
path hostile-destroy
step destroy xl destroy domu
load 2
INIT
        ;;
        gran) cat <<'INIT'
path sched-gran-core
step gran sh -c 'xl cpupool-list -c; xl cpupool-list'
allow_rt allow-rt
load 3
step rtsleep schedop rtsleep 5000000 0
rt_counters counters-gran
step destroy xl destroy domu
INIT
        ;;
    esac
    cat <<'INIT'
step xl-list-end xl list
guestlog 5
echo "FAULT: init finished"
poweroff -f
INIT
}

# --- boot ----------------------------------------------------------------------------------
boot() {
    local boot=$1 run sched=rtcredit smp=2 cpu=qemu64 extra="" qemu
    run=$TOP/run-$boot
    [ "$boot" = credit ] && sched=credit
    # One core with two threads, so sched-gran=core makes two-CPU units. QEMU gives
    # threads to an Intel model only ("This family of AMD CPU doesn't support
    # hyperthreading" for qemu64 and max, and Xen then says "core, 1 CPU per
    # sched-resource"); Nehalem has the topology leaf 0xb Xen reads.
    if [ "$boot" = gran ]; then
        smp=2,sockets=1,cores=1,threads=2 cpu=Nehalem
        extra=" sched-gran=core rtcredit_dom0_rt=1"
    fi
    xen_qemu_argv qemu "$CLOCK" "$SHIFT" "$XEN_IMAGE" "dom0_mem=384M,max:384M dom0_max_vcpus=1 sched=$sched$extra" \
        "$DOM0_VMLINUZ" "" "$run/initramfs.cpio.gz" -cpu "$cpu" -m 1024 -smp "$smp"
    echo "${qemu[*]}" > "$run/qemu-cmdline.txt"
    log "boot '$boot': $VARIANT Xen, sched=$sched$extra, -cpu $cpu -smp $smp, $(clock_describe "$CLOCK" "$SHIFT"), timeout ${TIMEOUT}s; log: $run/serial.log"
    local t=$SECONDS rc=0
    run_qemu "$run/serial.log" "$TIMEOUT" "$VERBOSE" nice -n 10 "${qemu[@]}" || rc=$?
    echo "$rc $((SECONDS - t))" > "$run/qemu-status"
}

# --- judge: rtcredit-judge (tests/judge/src/fault_smoke.rs) ------------------------------
# One PASS/FAIL line per boot's start, per path and per boot's end, then the elapsed time
# and the RESULT line; its exit status (1: a check failed, 2: it could not judge) is the
# script's. A boot that left no run directory is a failed check.
judge() {
    local b boots=()
    for b in "${BOOTS[@]}"; do boots+=(--boot "$b=$TOP/run-$b"); done
    "$JUDGE_BIN" fault-smoke "${boots[@]}" --variant "$VARIANT" --timeout "$TIMEOUT" \
        --elapsed-secs $((SECONDS - T0)) --crash-re "$XEN_CRASH_RE"
}

# The guest's RT stack, as tests/e2e/run.sh builds it.
build_guest_rt() {
    log "rtsleep.ko (guest-kmod/build.sh) and the static rtsleep (rtsleep-cli/build-guest.sh)"
    bash "$REPO/guest-kmod/build.sh" > "$TOP/kmod-build.log" 2>&1 ||
        die "guest-kmod/build.sh failed: $TOP/kmod-build.log"
    RTSLEEP_BIN=$(bash "$REPO/rtsleep-cli/build-guest.sh" 2> "$TOP/build-guest.log" | awk '$1 == "rtsleep" {print $2}') ||
        die "rtsleep-cli/build-guest.sh failed: $TOP/build-guest.log"
    [ -x "$RTSLEEP_BIN" ] || die "rtsleep-cli/build-guest.sh gave no rtsleep binary ($TOP/build-guest.log)"
}

main() {
    mkdir -p "$TOP"
    JUDGE_BIN=$(cargo_release_bin rtcredit-judge rtcredit-judge)    # before the boots: a build error first
    if [ "$REJUDGE" = 0 ]; then
        ensure_pkgs qemu-system-x86 busybox-static cpio gcc libc6-dev binutils xz-utils
        build_xl_stack "$VARIANT" "$TOP/tools"
        [ -f "$DOMU_KERNEL" ] || die "no domU kernel $DOMU_KERNEL (build the 7.2 kernel first)"
        build_guest_rt
        build_domu_ramdisk
        for b in "${BOOTS[@]}"; do
            mkdir -p "$TOP/run-$b"
            build_dom0_initramfs "$b"
            boot "$b"
        done
    fi
    for b in "${BOOTS[@]}"; do
        [ -f "$TOP/run-$b/serial.log" ] && tr -d '\r' < "$TOP/run-$b/serial.log" > "$TOP/run-$b/serial.txt"
    done
    judge
}

main
