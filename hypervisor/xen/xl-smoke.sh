#!/usr/bin/env bash
# Boot Xen under QEMU (TCG, two pCPUs) with a PV dom0 running our toolstack, and check
# that `xl create` of a capped PV domU works under the given scheduler.
#
#   bash hypervisor/xen/xl-smoke.sh [--sched rtcredit|credit|credit2] [--timeout S]
#                                   [--clock icount|host] [--shift N] [--verbose] [--rejudge]
#
#   --sched NAME   Xen's sched= option (default: rtcredit)
#   --timeout S    kill QEMU after S seconds (default 300)
#   --clock MODE   QEMU's clock: host (default) or icount (lib-initramfs.sh); --shift N
#   --verbose      also stream the serial console to the terminal
#   --rejudge      do not build or boot: judge the last serial log again
#
# Steps: build.sh (Xen, cached), build-tools.sh (xl & co. with rtcredit support,
# cached), Debian's linux-image-6.1 as dom0 (smoke.sh's cache), a busybox initramfs
# with the toolstack and its libraries (lib-initramfs.sh), and a domU (the 7.2 kernel
# of .cache/linux-7.2 with a busybox initramfs that prints a marker). dom0 starts
# xenstored, xen-init-dom0 and xenconsoled, then `xl create`s the domU with cap=20
# and weight=512, reads the parameters back (xl sched-*, xl list -l, and under
# rtcredit also the raw domctl with tools/schedop.c), changes only the weight and
# checks the cap stays, waits for the domU's marker in xenconsoled's log, records 1 s
# with xentrace (Xen boots with tbuf_size=64) and reads it with xenalyze, runs
# `xl destroy` and powers off. Under rtcredit it also moves CPU 1 into a second cpupool
# running rtcredit and makes an empty credit2 pool, and checks rtcredit-ctl's `sched -p`
# on them (by name and id) and on pool 0. The host judges the serial log with rtcredit-judge
# (tests/judge, the rules and their tests): PASS:/FAIL: lines, exit 1 on any FAIL or a timeout.
set -euo pipefail
shopt -s inherit_errexit

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
CACHE=$REPO/.cache

SCHED=rtcredit
TIMEOUT=300
VERBOSE=0
CLOCK=host
SHIFT=
REJUDGE=0
while [ $# -gt 0 ]; do
    case $1 in
        --sched) SCHED=${2:?--sched needs a name}; shift ;;
        --timeout) TIMEOUT=${2:?}; shift ;;
        --clock) CLOCK=${2:?--clock needs icount or host}; shift ;;
        --shift) SHIFT=${2:?--shift needs a number}; shift ;;
        --verbose) VERBOSE=1 ;;
        --rejudge) REJUDGE=1 ;;
        -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
        *) echo "xl-smoke.sh: unknown argument: $1" >&2; exit 2 ;;
    esac
    shift
done
case $SCHED in
    rtcredit|credit|credit2) ;;
    *) echo "xl-smoke.sh: --sched must be rtcredit, credit or credit2" >&2; exit 2 ;;
esac

TOP=$CACHE/xl-smoke
RUN=$TOP/run-$SCHED
[ "$CLOCK" = icount ] && RUN+=-icount
LOG=$RUN/serial.log
DOMU_KERNEL=${DOMU_KERNEL:-$CACHE/linux-7.2/linux-source-7.2/arch/x86/boot/bzImage}
CAP=20
WEIGHT=512
WEIGHT2=300        # set afterwards with `xl sched-*`: the cap must stay
RT_BUDGET=20       # xl.cfg's rtcredit_rt_budget (with rtcredit_rt = 1), ignored by credit/credit2
RT_RATE=500        # xl.cfg's rtcredit_rt_rate
RT_BUDGET2=30      # set afterwards with `xl sched-rtcredit -b`
MARKER=XLSMOKE-DOMU-ALIVE

log() { echo "[xl-smoke.sh] $*" >&2; }
die() { echo "[xl-smoke.sh] ERROR: $*" >&2; exit 1; }
T0=$SECONDS

# shellcheck source=../../scripts/pkgs.sh
. "$REPO/scripts/pkgs.sh"
# shellcheck source=lib-initramfs.sh
. "$HERE/lib-initramfs.sh"
clock_setup

# --- builds ----------------------------------------------------------------------------
build_all() {
    build_xl_stack release "$TOP/tools"
    [ -f "$DOMU_KERNEL" ] || die "no domU kernel $DOMU_KERNEL (build the 7.2 kernel first)"
    CTL_BIN=$(cargo_release_bin rtcredit-config rtcredit-ctl)
    # The domU asks for RT itself: the guest module and a static rtsleep.
    [ -f "$REPO/guest-kmod/rtsleep.ko" ] || die "no guest-kmod/rtsleep.ko: run guest-kmod/build.sh (after build-kernel.sh)"
    GUEST_RTSLEEP=$("$REPO/rtsleep-cli/build-guest.sh" 2> "$RUN/build-guest.log" | sed -n 's/^rtsleep //p')
    [ -x "$GUEST_RTSLEEP" ] || die "rtsleep-cli/build-guest.sh gave no rtsleep (see $RUN/build-guest.log)"
}

# --- domU: busybox initramfs whose /init prints the marker, then idles ----------------------
build_domu_ramdisk() {
    local root=$RUN/domu-root
    busybox_root "$root" proc sys
    cp "$REPO/guest-kmod/rtsleep.ko" "$root/rtsleep.ko"
    cp "$GUEST_RTSLEEP" "$root/bin/rtsleep"
    cat > "$root/init" <<INIT
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sys /sys
/bin/busybox mount -t devtmpfs dev /dev
# One deadline sleep through /dev/rtsleep: its RT comes from the domain's xl.cfg keys
# alone (no tool in dom0 has granted anything yet).
/bin/busybox insmod /rtsleep.ko && echo "XLSMOKE-DOMU insmod rc=0"
/bin/rtsleep sleep 20ms; echo "XLSMOKE-DOMU sleep rc=\$?"
echo "XLSMOKE-DOMU-STATUS \$(/bin/rtsleep status --json | /bin/busybox tr -d ' \n')"
echo "$MARKER kernel=\$(/bin/busybox uname -r) uptime=\$(/bin/busybox cut -d' ' -f1 /proc/uptime)"
# Idle: block in read with a timeout (no fork per iteration).
while :; do read -t 3600 x < /dev/console || /bin/busybox sleep 3600; done
INIT
    chmod 755 "$root/init"
    cpio_gz "$root" "$RUN/domu-initrd.gz"
}

# --- dom0 initramfs ------------------------------------------------------------------------
build_dom0_initramfs() {
    local root=$RUN/initramfs
    xl_dom0_root "$root" "$TOP/tools/schedop" "$DOMU_KERNEL" "$RUN/domu-initrd.gz"
    install_rtcredit_ctl "$root" "$CTL_BIN"
    cat > "$root/etc/xen/domu.cfg" <<CFG
name = "domu"
type = "pv"
kernel = "/domu/kernel"
ramdisk = "/domu/initrd.gz"
cmdline = "console=hvc0 rdinit=/init"
memory = 64
vcpus = 1
vif = []
disk = []
cap = $CAP
cpu_weight = $WEIGHT
rtcredit_rt = 1
rtcredit_rt_budget = $RT_BUDGET
rtcredit_rt_rate = $RT_RATE
on_crash = "preserve"
CFG
    write_init > "$root/init"
    chmod 755 "$root/init"
    cpio_gz "$root" "$RUN/initramfs.cpio.gz"
}

# dom0's /init (docs/toolchain.md 4b order). Lines the host judges start with "XLSMOKE:".
write_init() {
    dom0_toolstack_init XLSMOKE
    cat "$HERE/init/xl-smoke-dom0.sh"
}

# --- boot ----------------------------------------------------------------------------------
boot() {
    local qemu dom0_words="xlsmoke_sched=$SCHED xlsmoke_weight2=$WEIGHT2 xlsmoke_marker=$MARKER"
    dom0_words+=" xlsmoke_rt_budget2=$RT_BUDGET2"
    xen_qemu_argv qemu "$CLOCK" "$SHIFT" "$XEN_IMAGE" \
        "dom0_mem=384M,max:384M dom0_max_vcpus=1 sched=$SCHED tbuf_size=64" \
        "$DOM0_VMLINUZ" "$dom0_words" "$RUN/initramfs.cpio.gz" -cpu qemu64 -m 1024 -smp 2
    echo "${qemu[*]}" > "$RUN/qemu-cmdline.txt"
    log "booting Xen (sched=$SCHED) in QEMU, $(clock_describe "$CLOCK" "$SHIFT"), timeout ${TIMEOUT}s; log: $LOG"
    local t=$SECONDS rc=0
    run_qemu "$LOG" "$TIMEOUT" "$VERBOSE" nice -n 5 "${qemu[@]}" || rc=$?
    QEMU_RC=$rc
    BOOT_SECS=$((SECONDS - t))
    echo "$QEMU_RC $BOOT_SECS" > "$RUN/qemu-status"
}

# --- judge: rtcredit-judge (tests/judge/src/xl_smoke.rs) ----------------------------------
# Prints the PASS:/FAIL: lines, the elapsed time and the RESULT line; its exit status
# (1: a check failed, 2: it could not judge) is the script's.
judge() {
    tr -d '\r' < "$LOG" > "$RUN/serial.txt"    # for reading; the judge reads serial.log
    "$JUDGE_BIN" xl-smoke --log "$LOG" --sched "$SCHED" --qemu-rc "$QEMU_RC" --boot-secs "$BOOT_SECS" \
        --timeout "$TIMEOUT" --cap "$CAP" --weight "$WEIGHT" --weight2 "$WEIGHT2" --rt-budget "$RT_BUDGET" \
        --rt-rate "$RT_RATE" --rt-budget2 "$RT_BUDGET2" --marker "$MARKER" --crash-re "$XEN_CRASH_RE" \
        --elapsed-secs $((SECONDS - T0))
}

main() {
    mkdir -p "$TOP" "$RUN"
    JUDGE_BIN=$(cargo_release_bin rtcredit-judge rtcredit-judge)    # before the boot: a build error first
    if [ "$REJUDGE" = 1 ]; then
        [ -f "$LOG" ] && [ -f "$RUN/qemu-status" ] || die "no previous run in $RUN"
        read -r QEMU_RC BOOT_SECS < "$RUN/qemu-status"
    else
        ensure_pkgs qemu-system-x86 busybox-static cpio gcc libc6-dev binutils xz-utils
        local t=$SECONDS
        build_all
        build_domu_ramdisk
        build_dom0_initramfs
        log "prepared in $((SECONDS - t))s (initramfs $(du -h "$RUN/initramfs.cpio.gz" | cut -f1))"
        boot
    fi
    echo "serial log: $LOG"
    local rc=0
    judge || rc=$?
    exit "$rc"
}

main
