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
# on them (by name and id) and on pool 0. The host judges the serial log: PASS:/FAIL: lines,
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
[ -n "$SHIFT" ] || SHIFT=$CLOCK_DEFAULT_SHIFT
clock_check "$CLOCK" "$SHIFT"

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
    rm -rf "$root"
    mkdir -p "$root"/{bin,dev,proc,sys}
    cp /bin/busybox "$root/bin/busybox"
    cp "$REPO/guest-kmod/rtsleep.ko" "$root/rtsleep.ko"
    cp "$GUEST_RTSLEEP" "$root/bin/rtsleep"
    mknod -m 600 "$root/dev/console" c 5 1
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
    local xen_cmdline dom0_cmdline
    xen_cmdline="console=com1 com1=115200,8n1 loglvl=all guest_loglvl=all console_timestamps=boot"
    xen_cmdline+=" dom0_mem=384M,max:384M dom0_max_vcpus=1 sched=$SCHED tbuf_size=64"
    dom0_cmdline="console=hvc0 earlyprintk=xen rdinit=/init xlsmoke_sched=$SCHED"
    dom0_cmdline+=" xlsmoke_weight2=$WEIGHT2 xlsmoke_marker=$MARKER xlsmoke_rt_budget2=$RT_BUDGET2"
    # shellcheck disable=SC2207  # the accelerator's words
    local qemu=(qemu-system-x86_64 -machine pc $(clock_qemu_args "$CLOCK" "$SHIFT") -cpu qemu64 -m 1024 -smp 2
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
# Weight and cap columns of `xl sched-* -d domu` (Name ID Weight Cap ...).
sched_row() { S "$1| domu " | tail -n1 | sed 's/.*| //' | awk '{print $3, $4}'; }
# RT, Budget and Rate columns of `xl sched-rtcredit -d domu` (... Cap RT Budget Rate).
rt_row() { S "$1| domu " | tail -n1 | sed 's/.*| //' | awk '{print $5, $6, $7}'; }

judge() {
    local txt=$RUN/serial.txt bad
    tr -d '\r' < "$LOG" > "$txt"
    if [ "$QEMU_RC" = 0 ]; then pass "QEMU exited cleanly after ${BOOT_SECS}s"
    elif [ "$QEMU_RC" = 124 ] || [ "$QEMU_RC" = 137 ]; then fail "QEMU timed out after ${TIMEOUT}s"
    else fail "QEMU exited with status $QEMU_RC"; fi
    bad=$(grep -aE "$XEN_CRASH_RE|domain_crash|crashed" "$txt" | head -n3 || true)
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
    if [ "$(rc_of xl-create)" = 0 ]; then pass "xl create domu (cap=$CAP cpu_weight=$WEIGHT rtcredit_rt=1 rtcredit_rt_budget=$RT_BUDGET rtcredit_rt_rate=$RT_RATE) rc=0"
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
           [ "$(f rt_allowed "$d1")" = 1 ] && [ "$(f rt_budget_pct "$d1")" = "$RT_BUDGET" ] &&
           [ "$(f rt_rate_per_s "$d1")" = "$RT_RATE" ] && [ "$(f rt_allowed "$d2")" = 1 ] &&
           [ "$(f rt_budget_pct "$d2")" = "$RT_BUDGET" ]; then
            pass "domctl (schedop): the xl.cfg keys are in Xen from xl create (rt_allowed=1, budget $RT_BUDGET%, rate $RT_RATE/s, weight $WEIGHT, cap $CAP); after -w $WEIGHT2 only the weight changed"
        else fail "domctl (schedop): '$d1' / '$d2'"; fi
        # The guest's own request, before anything in dom0 touched its RT.
        local status
        status=$(S 'guestlog| XLSMOKE-DOMU-STATUS ' | tail -n1 | sed 's/.*STATUS //')
        if grep -q '"rt_state":"accepted"' <<< "$status" && [ "$(f rt_granted "$d1")" -ge 1 ] 2>/dev/null &&
           [ "$(f rt_requests "$d1")" = "$(f rt_granted "$d1")" ]; then
            pass "the domU's first request through /dev/rtsleep was granted from its xl.cfg keys alone: guest rt_state accepted, domctl rt_requests=$(f rt_requests "$d1") rt_granted=$(f rt_granted "$d1")"
        else fail "the domU's own RT request: status '$status', domctl '$d1' ($(S 'guestlog| XLSMOKE-DOMU ' | tr '\n' ' '))"; fi
        row=$(rt_row sched-get)
        if [ "$row" = "allow $RT_BUDGET $RT_RATE" ]; then pass "xl sched-rtcredit -d domu: RT allow, budget $RT_BUDGET, rate $RT_RATE"
        else fail "xl sched-rtcredit -d domu RT columns: expected 'allow $RT_BUDGET $RT_RATE', got '$row'"; fi
        if S 'list-l| *"rtcredit_rt": "True",\?$' | grep -q . && S 'list-l| *"rtcredit_rt_budget": '"$RT_BUDGET"',\?$' | grep -q . &&
           S 'list-l| *"rtcredit_rt_rate": '"$RT_RATE"',\?$' | grep -q .; then
            pass "xl list -l: sched_params rtcredit_rt True, rtcredit_rt_budget $RT_BUDGET, rtcredit_rt_rate $RT_RATE"
        else fail "xl list -l RT sched_params: $(S 'list-l' | tr -s ' ' | tr '\n' ' ')"; fi
        local d3
        d3=$(S 'domctl-get3| schedop: rtcredit-dom' | tail -n1)
        row=$(rt_row sched-get3)
        if [ "$(rc_of sched-rt-deny)" = 0 ] && [ "$(rc_of sched-budget)" = 0 ] && [ "$row" = "deny $RT_BUDGET2 $RT_RATE" ] &&
           [ "$(f rt_allowed "$d3")" = 0 ] && [ "$(f rt_budget_pct "$d3")" = "$RT_BUDGET2" ] && [ "$(f weight "$d3")" = "$WEIGHT2" ]; then
            pass "xl sched-rtcredit --rt=deny then -b $RT_BUDGET2: $row (domctl: rt_allowed=0, budget $RT_BUDGET2%, weight still $WEIGHT2)"
        else fail "xl sched-rtcredit --rt=deny / -b: rc=$(rc_of sched-rt-deny)/$(rc_of sched-budget), row '$row', domctl '$d3'"; fi
        if [ "$(rc_of sched-bad-budget)" != 0 ] && S 'sched-bad-budget| .*RT budget out of range' | grep -q .; then
            pass "xl sched-rtcredit -b 150 refused: $(S 'sched-bad-budget| .*out of range' | head -n1 | sed 's/.*| //')"
        else fail "xl sched-rtcredit -b 150: rc=$(rc_of sched-bad-budget) $(S 'sched-bad-budget|' | tr '\n' ' ')"; fi
        judge_pools
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
# The second cpupool (rtcredit only): xl made it, rtcredit-ctl reads and sets it by name
# and id, leaves pool 0 alone, and names the credit2 pool as not ours.
judge_pools() {
    local j
    j() { S "$1| " | sed 's/.*| //' | tr -d ' \n' | sed -n "s/.*\"$2\":\([^,}]*\).*/\1/p"; }
    if [ "$(rc_of pool-remove)" = 0 ] && [ "$(rc_of pool-create)" = 0 ] && S 'pool-list| rtpool ' | grep -q .; then
        pass "xl cpupool-create rtpool sched=rtcredit on CPU 1: $(S 'pool-list| rtpool ' | sed 's/.*| //' | tr -s ' ')"
    else fail "cpupool rtpool: rc=$(rc_of pool-remove)/$(rc_of pool-create) $(S 'pool-create|' | tr '\n' ' ') $(S 'pool-list|' | tr '\n' ' ')"; fi
    if [ "$(rc_of ctl-pool)" = 0 ] && [ "$(j ctl-pool cpupool_name)" = '"rtpool"' ] && [ "$(j ctl-pool pool_cpus)" = 1 ] &&
       [ "$(j ctl-pool slice_ms)" = 30 ]; then
        pass "rtcredit-ctl sched -p rtpool: cpupool $(j ctl-pool cpupool), 1 CPU, slice 30 ms, RT capacity $(j ctl-pool rt_pool_capacity_pct)%"
    else fail "rtcredit-ctl sched -p rtpool: rc=$(rc_of ctl-pool) $(S 'ctl-pool|' | tr -d ' ' | tr '\n' ' ')"; fi
    if [ "$(rc_of ctl-pool-set)" = 0 ] && [ "$(j ctl-pool-get slice_ms)" = 20 ] && [ "$(j ctl-pool-get rt_capacity_pct)" = 80 ] &&
       [ "$(j ctl-pool0 slice_ms)" = 30 ] && [ "$(j ctl-pool0 rt_capacity_pct)" = 50 ]; then
        pass "rtcredit-ctl sched -p rtpool -t 20 --rt-capacity-pct 80: pool 1 has them (read back by id), pool 0 keeps 30 ms / 50%"
    else fail "rtcredit-ctl -p set: rc=$(rc_of ctl-pool-set) pool1 '$(S 'ctl-pool-get|' | tr -d ' \n')' pool0 '$(S 'ctl-pool0|' | tr -d ' \n')'"; fi
    if S 'xl-s0| Cpupool Pool-0: tslice=30ms ratelimit=1000us min-period=1000us max-lead=10000ms rt-capacity=50% ' | grep -q .; then
        pass "xl sched-rtcredit -s: $(S 'xl-s0| ' | head -n1 | sed 's/.*| //')"
    else fail "xl sched-rtcredit -s: rc=$(rc_of xl-s0) $(S 'xl-s0|' | tr '\n' ' ')"; fi
    if [ "$(rc_of xl-s-set)" = 0 ] && S 'xl-s1| Cpupool rtpool: tslice=25ms .*rt-capacity=70% (cpus=1 ' | grep -q . &&
       [ "$(j ctl-pool-get2 slice_ms)" = 25 ] && [ "$(j ctl-pool-get2 rt_capacity_pct)" = 70 ]; then
        pass "xl sched-rtcredit -s -p rtpool -t 25 --rt-capacity=70: $(S 'xl-s1| ' | head -n1 | sed 's/.*| //'); rtcredit-ctl reads the same"
    else fail "xl sched-rtcredit -s -p rtpool set: rc=$(rc_of xl-s-set) $(S 'xl-s-set|' | tr '\n' ' ') / $(S 'xl-s1|' | tr '\n' ' ') / $(S 'ctl-pool-get2|' | tr -d ' \n')"; fi
    if [ "$(rc_of xl-s-bad)" != 0 ] && S 'xl-s-bad| .*Time slice out of range' | grep -q .; then
        pass "xl sched-rtcredit -s -t 0 refused: $(S 'xl-s-bad| .*out of range' | head -n1 | sed 's/.*| //')"
    else fail "xl sched-rtcredit -s -t 0: rc=$(rc_of xl-s-bad) $(S 'xl-s-bad|' | tr '\n' ' ')"; fi
    if [ "$(rc_of pool-create2)" = 0 ] && [ "$(rc_of ctl-pool-c2)" = 1 ] && S 'ctl-pool-c2| .*does not run sched=rtcredit' | grep -q .; then
        pass "rtcredit-ctl sched -p c2pool (credit2) refused: $(S 'ctl-pool-c2| ' | head -n1 | sed 's/.*| //')"
    else fail "rtcredit-ctl -p c2pool: create rc=$(rc_of pool-create2), rc=$(rc_of ctl-pool-c2) $(S 'ctl-pool-c2|' | tr '\n' ' ') $(S 'pool-create2|' | tr '\n' ' ')"; fi
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
