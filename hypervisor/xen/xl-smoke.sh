#!/usr/bin/env bash
# Boot Xen under QEMU (TCG, one pCPU) with a PV dom0 running our toolstack, and check
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
# `xl destroy` and powers off. The host judges the serial log: PASS:/FAIL: lines,
# exit 1 on any FAIL or a timeout.
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
MARKER=XLSMOKE-DOMU-ALIVE

log() { echo "[xl-smoke.sh] $*" >&2; }
die() { echo "[xl-smoke.sh] ERROR: $*" >&2; exit 1; }
T0=$SECONDS

# shellcheck source=../../scripts/pkgs.sh
. "$REPO/scripts/pkgs.sh"
# shellcheck source=lib-initramfs.sh
. "$HERE/lib-initramfs.sh"
[ -n "$SHIFT" ] || SHIFT=$CLOCK_DEFAULT_SHIFT
clock_check "$CLOCK" "$SHIFT"

# --- builds ----------------------------------------------------------------------------
build_all() {
    # build.sh and the dom0 kernel cache are shared with smoke.sh: take its lock.
    mkdir -p "$CACHE/smoke"
    exec 9> "$CACHE/smoke/.lock"
    flock 9
    bash "$HERE/build.sh" >/dev/null
    XEN_IMAGE=$CACHE/xen-build/release/xen/xen
    [ -f "$XEN_IMAGE" ] || die "build.sh did not produce $XEN_IMAGE"
    prepare_dom0_kernel
    flock -u 9
    exec 10> "$TOP/.lock-tools"
    flock 10
    bash "$HERE/build-tools.sh" >/dev/null
    flock -u 10
    [ -f "$DOMU_KERNEL" ] || die "no domU kernel $DOMU_KERNEL (build the 7.2 kernel first)"
    # schedop: the raw rtcredit domctl, to see what the hypervisor holds.
    local t=$TOP/tools
    mkdir -p "$t"
    if [ ! -x "$t/schedop" ] || [ "$HERE/tools/schedop.c" -nt "$t/schedop" ] ||
       [ "$REPO/hypervisor/include/rtcredit.h" -nt "$t/schedop" ]; then
        log "compiling tools/schedop.c (static)"
        gcc -O2 -static -Wall -Wextra -Werror -I "$REPO/hypervisor/include" \
            -o "$t/schedop.tmp" "$HERE/tools/schedop.c"
        mv "$t/schedop.tmp" "$t/schedop"
    fi
}

# --- domU: busybox initramfs whose /init prints the marker, then idles ----------------------
build_domu_ramdisk() {
    local root=$RUN/domu-root
    rm -rf "$root"
    mkdir -p "$root"/{bin,dev,proc}
    cp /bin/busybox "$root/bin/busybox"
    mknod -m 600 "$root/dev/console" c 5 1
    cat > "$root/init" <<INIT
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
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
    rm -rf "$root"
    mkdir -p "$root"/{bin,dev,proc,sys,tmp,etc/xen,domu}
    cp /bin/busybox "$root/bin/busybox"
    cp "$TOP/tools/schedop" "$root/bin/schedop"
    mknod -m 600 "$root/dev/console" c 5 1
    install_dom0_modules "$root" "${XEN_DOM0_MODULES[@]}"
    install_xen_toolstack "$root"
    cp "$DOMU_KERNEL" "$root/domu/kernel"
    cp "$RUN/domu-initrd.gz" "$root/domu/initrd.gz"
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
on_crash = "preserve"
CFG
    write_init > "$root/init"
    chmod 755 "$root/init"
    cpio_gz "$root" "$RUN/initramfs.cpio.gz"
}

# dom0's /init (docs/toolchain.md 4b order). Lines the host judges start with "XLSMOKE:".
write_init() {
    dom0_init_mounts
    cat <<'INIT'
echo "XLSMOKE: init started kernel=$(uname -r) cpus=$(nproc) sched=$xlsmoke_sched"
for m in $(cat /modules.load); do
    insmod "/lib/modules/$m" || echo "XLSMOKE: insmod $m failed"
done
echo "XLSMOKE: modules $(wc -l < /modules.load) listed, $(wc -l < /proc/modules) loaded"
mount -t xenfs xenfs /proc/xen && echo "XLSMOKE: xenfs mounted"
step() {  # step NAME COMMAND...: run, print its output and rc on XLSMOKE: lines
    local name=$1 out rc
    shift
    out=$("$@" 2>&1); rc=$?
    [ -n "$out" ] && printf '%s\n' "$out" | sed "s/^/XLSMOKE: $name| /"
    echo "XLSMOKE: $name rc=$rc"
    return $rc
}
xenstored -N > /var/log/xen/xenstored.out 2>&1 &
i=0
while [ ! -S /run/xenstored/socket ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
echo "XLSMOKE: xenstored socket $([ -S /run/xenstored/socket ] && echo up || echo missing)"
step init-dom0 xen-init-dom0
xenconsoled --log=guest --log-dir=/var/log/xen/console
echo "XLSMOKE: xenconsoled rc=$?"
step xl-info-sched sh -c 'xl info | grep -E "^(xen_scheduler|nr_cpus|xen_version)"'
step xl-create xl create /etc/xen/domu.cfg
step xl-list xl list
DOMID=$(xl domid domu 2>/dev/null)
echo "XLSMOKE: domu domid=$DOMID"
case $xlsmoke_sched in
    credit) SCHED_CMD=sched-credit ;;
    credit2) SCHED_CMD=sched-credit2 ;;
    *) SCHED_CMD=sched-rtcredit ;;
esac
step sched-get xl $SCHED_CMD -d domu
[ "$xlsmoke_sched" = rtcredit ] && step domctl-get schedop rtcredit-dom "$DOMID" get
step list-l sh -c 'xl list -l domu | grep -A10 "\"sched_params\""'
# Change only the weight: the cap must stay as it was.
step sched-set-weight xl $SCHED_CMD -d domu -w "$xlsmoke_weight2"
step sched-get2 xl $SCHED_CMD -d domu
[ "$xlsmoke_sched" = rtcredit ] && step domctl-get2 schedop rtcredit-dom "$DOMID" get
# Wait for the guest's marker in xenconsoled's log (the guest boots under TCG).
GLOG=/var/log/xen/console/guest-domu.log
i=0
while ! grep -q "$xlsmoke_marker" "$GLOG" 2>/dev/null && [ $i -lt 120 ]; do
    sleep 1; i=$((i + 1))
done
echo "XLSMOKE: waited ${i}s for the guest"
[ -f "$GLOG" ] && sed 's/^/XLSMOKE: guestlog| /' "$GLOG" | tail -n 40
# Our xentrace and xenalyze: 1 s of the scheduler class with the domU up.
step xentrace xentrace -D -e 0x0002f000 -T 1 /tmp/trace.bin
echo "XLSMOKE: trace bytes=$(wc -c < /tmp/trace.bin 2>/dev/null || echo 0)"
step xenalyze sh -c 'xenalyze --summary /tmp/trace.bin > /tmp/xenalyze.txt 2>&1; rc=$?; grep -m3 -E "^(Total time|Dumping|(-|=)+ )" /tmp/xenalyze.txt; wc -l < /tmp/xenalyze.txt; exit $rc'
step xl-list2 xl list
step xl-destroy xl destroy domu
step xl-list3 xl list
echo "XLSMOKE: init finished"
poweroff -f
INIT
}

# --- boot ----------------------------------------------------------------------------------
boot() {
    local xen_cmdline dom0_cmdline
    xen_cmdline="console=com1 com1=115200,8n1 loglvl=all guest_loglvl=all console_timestamps=boot"
    xen_cmdline+=" dom0_mem=384M,max:384M dom0_max_vcpus=1 sched=$SCHED tbuf_size=64"
    dom0_cmdline="console=hvc0 earlyprintk=xen rdinit=/init xlsmoke_sched=$SCHED"
    dom0_cmdline+=" xlsmoke_weight2=$WEIGHT2 xlsmoke_marker=$MARKER"
    # shellcheck disable=SC2207  # the accelerator's words
    local qemu=(qemu-system-x86_64 -machine pc $(clock_qemu_args "$CLOCK" "$SHIFT") -cpu qemu64 -m 1024 -smp 1
                -nographic -no-reboot
                -kernel "$XEN_IMAGE" -append "$xen_cmdline"
                -initrd "$DOM0_VMLINUZ $dom0_cmdline,$RUN/initramfs.cpio.gz")
    echo "${qemu[*]}" > "$RUN/qemu-cmdline.txt"
    log "booting Xen (sched=$SCHED) in QEMU, $(clock_describe "$CLOCK" "$SHIFT"), timeout ${TIMEOUT}s; log: $LOG"
    local t=$SECONDS rc=0
    run_qemu "$LOG" "$TIMEOUT" "$VERBOSE" nice -n 5 "${qemu[@]}" || rc=$?
    QEMU_RC=$rc
    BOOT_SECS=$((SECONDS - t))
    echo "$QEMU_RC $BOOT_SECS" > "$RUN/qemu-status"
}

# --- judge ---------------------------------------------------------------------------------
FAILS=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
S() { grep -a "^XLSMOKE: $1" "$RUN/serial.txt" || true; }          # lines of one step
rc_of() { S "$1 rc=" | tail -n1 | sed 's/.* rc=//'; }
# Weight and cap columns of `xl sched-* -d domu` (Name ID Weight Cap).
sched_row() { S "$1| domu " | tail -n1 | awk '{print $(NF-1), $NF}'; }

judge() {
    local txt=$RUN/serial.txt bad
    tr -d '\r' < "$LOG" > "$txt"
    if [ "$QEMU_RC" = 0 ]; then pass "QEMU exited cleanly after ${BOOT_SECS}s"
    elif [ "$QEMU_RC" = 124 ] || [ "$QEMU_RC" = 137 ]; then fail "QEMU timed out after ${TIMEOUT}s"
    else fail "QEMU exited with status $QEMU_RC"; fi
    bad=$(grep -aE 'Panic on CPU|Assertion .* failed|FATAL|Xen BUG at|Domain 0 crashed|Hardware Dom0 crashed|Kernel panic|BUG: |Oops|general protection fault|Attempted to kill init|domain_crash|crashed' "$txt" | head -n3 || true)
    if [ -z "$bad" ]; then pass "no Xen panic/ASSERT, no dom0 or domU crash"
    else fail "crash in the log: $bad"; fi
    if grep -aq "Using scheduler: .*($SCHED)" "$txt"; then pass "Xen uses scheduler '$SCHED'"
    else fail "Xen does not use scheduler '$SCHED': $(grep -a 'Using scheduler' "$txt" || echo none)"; fi
    local loaded
    loaded=$(S 'modules ' | sed -n 's/.* \([0-9]*\) loaded/\1/p')
    if [ -n "$loaded" ] && [ "$loaded" -ge 4 ] && S 'xenfs mounted' | grep -q .; then
        pass "dom0 modules loaded ($loaded), xenfs mounted"
    else fail "dom0 modules/xenfs: $(S 'modules ') $(S 'insmod')"; fi
    if S 'xenstored socket up' | grep -q . && [ "$(rc_of init-dom0)" = 0 ] &&
       [ "$(rc_of 'xenconsoled')" = 0 ]; then
        pass "xenstored, xen-init-dom0 and xenconsoled started"
    else fail "toolstack start: $(S 'xenstored socket') $(S 'init-dom0') $(S 'xenconsoled')"; fi
    if S "xl-info-sched| xen_scheduler *: $SCHED\$" | grep -q .; then
        pass "xl info: xen_scheduler = $SCHED"
    else fail "xl info: $(S 'xl-info-sched')"; fi
    if [ "$(rc_of xl-create)" = 0 ]; then pass "xl create domu (cap=$CAP cpu_weight=$WEIGHT) rc=0"
    else fail "xl create: $(S 'xl-create' | tail -n 8)"; fi
    if S 'xl-list| domu ' | grep -q .; then pass "xl list shows domu: $(S 'xl-list| domu ' | sed 's/.*| //' | tr -s ' ')"
    else fail "xl list does not show domu: $(S 'xl-list')"; fi
    local row
    row=$(sched_row sched-get)
    if [ "$row" = "$WEIGHT $CAP" ]; then pass "xl $(sched_cmd) -d domu: weight $WEIGHT, cap $CAP"
    else fail "xl $(sched_cmd) -d domu: expected weight/cap '$WEIGHT $CAP', got '$row' ($(S 'sched-get|' | tail -n 2 | tr '\n' ' '))"; fi
    if S 'list-l| *"cap": '"$CAP"',\?$' | grep -q . && S 'list-l| *"weight": '"$WEIGHT"',\?$' | grep -q .; then
        pass "xl list -l: sched_params weight $WEIGHT, cap $CAP"
    else fail "xl list -l sched_params: $(S 'list-l' | tr -s ' ' | tr '\n' ' ')"; fi
    row=$(sched_row sched-get2)
    if [ "$(rc_of sched-set-weight)" = 0 ] && [ "$row" = "$WEIGHT2 $CAP" ]; then
        pass "xl $(sched_cmd) -d domu -w $WEIGHT2: weight $WEIGHT2, cap still $CAP"
    else fail "after xl $(sched_cmd) -w $WEIGHT2: rc=$(rc_of sched-set-weight), weight/cap '$row'"; fi
    if [ "$SCHED" = rtcredit ]; then
        local d1 d2
        d1=$(S 'domctl-get| schedop: rtcredit-dom' | tail -n1)
        d2=$(S 'domctl-get2| schedop: rtcredit-dom' | tail -n1)
        f() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<< "$2"; }
        if [ "$(f weight "$d1")" = "$WEIGHT" ] && [ "$(f cap "$d1")" = "$CAP" ] && [ "$(f rc "$d1")" = 0 ] &&
           [ "$(f weight "$d2")" = "$WEIGHT2" ] && [ "$(f cap "$d2")" = "$CAP" ] &&
           [ "$(f rt_allowed "$d1")" = 0 ] && [ "$(f rt_allowed "$d2")" = 0 ]; then
            pass "domctl (schedop): weight $WEIGHT cap $CAP, then weight $WEIGHT2 cap $CAP; RT left off (rt_allowed=0, budget $(f rt_budget_pct "$d2")%, rate $(f rt_rate_per_s "$d2")/s)"
        else fail "domctl (schedop): '$d1' / '$d2'"; fi
    fi
    if S "guestlog| .*$MARKER" | grep -q .; then
        pass "domU marker in xenconsoled's guest-domu.log: $(S "guestlog| .*$MARKER" | head -n1 | sed 's/.*| //') ($(S 'waited' | sed 's/.*waited //'))"
    else fail "no domU marker in guest-domu.log ($(S 'waited'); $(S 'guestlog' | tail -n 3 | tr '\n' ' '))"; fi
    local bytes
    bytes=$(S 'trace bytes=' | sed 's/.*bytes=//')
    if [ "$(rc_of xentrace)" = 0 ] && [ "${bytes:-0}" -gt 0 ] && [ "$(rc_of xenalyze)" = 0 ]; then
        pass "xentrace recorded $bytes bytes in 1 s, xenalyze --summary read them"
    else fail "xentrace/xenalyze: rc=$(rc_of xentrace)/$(rc_of xenalyze) bytes=$bytes $(S 'xentrace|' | tail -n 2 | tr '\n' ' ')"; fi
    if S 'xl-list2| domu ' | grep -q .; then pass "domu still running before destroy: $(S 'xl-list2| domu ' | sed 's/.*| //' | tr -s ' ')"
    else fail "domu gone before destroy: $(S 'xl-list2')"; fi
    if [ "$(rc_of xl-destroy)" = 0 ] && ! S 'xl-list3| domu ' | grep -q . && S 'xl-list3| Domain-0 ' | grep -q .; then
        pass "xl destroy domu rc=0, xl list shows only Domain-0"
    else fail "xl destroy: rc=$(rc_of xl-destroy) $(S 'xl-list3' | tr '\n' ' ')"; fi
    if S 'init finished' | grep -q .; then pass "dom0 /init finished"
    else fail "dom0 /init did not finish (last: $(grep -a '^XLSMOKE:' "$txt" | tail -n1))"; fi
}
sched_cmd() { case $SCHED in credit) echo sched-credit ;; credit2) echo sched-credit2 ;; *) echo sched-rtcredit ;; esac; }

main() {
    mkdir -p "$TOP" "$RUN"
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
    judge
    echo "elapsed: $((SECONDS - T0))s total, QEMU ${BOOT_SECS}s"
    if [ "$FAILS" -gt 0 ]; then
        echo "RESULT: $FAILS check(s) failed (sched=$SCHED)"
        exit 1
    fi
    echo "RESULT: all checks passed (sched=$SCHED)"
}

main
