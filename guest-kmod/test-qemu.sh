#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Boots the kernel of build-kernel.sh under QEMU (TCG, 2 CPUs, no Xen) with a busybox
# initramfs that loads rtsleep.ko and runs test/rtsleep_test.c (static): device present,
# sleep accuracy, relative sleeps, EINVAL/ENOTTY/EFAULT, EINTR with remaining time,
# counters, the extended info, two sleepers on one CPU (earliest deadline wins), a periodic
# worker beside a long sleeper (every worker deadline registered), a sleeper whose
# affinity changes during the sleep, the re-probe after a refusal (eperm, eopnotsupp).
# Before that, the permission model: dist/99-rtsleep.rules' group and mode applied to the
# node by hand (no udev in the initramfs), a user outside the group refused. Then the
# `rtsleep` command (static, from rtsleep-cli/build-guest.sh): `status`, `status --json`,
# `bench --period 10ms --loops 300 --plain`, and `run` (default policy, then `--all`)
# around test/sleep_loop.c (dynamic, so the preload shim applies) with the module's
# counters before and after. Then rmmod while a sleeper is blocked in the
# ioctl (must be refused), and the final unload. Prints the guest's PASS/FAIL lines and a
# final "test-qemu: PASS" or "test-qemu: FAIL ..." (rtcredit-judge test-qemu, built here
# before the boot); exits non-zero on failure.
#
#   ./test-qemu.sh                       bare QEMU, no Xen: expects the hrtimer fallback
#   ./test-qemu.sh --xen [SCHED]         the same kernel as PV dom0 under our Xen
#                                        (hypervisor/xen/build.sh's release build), SCHED
#                                        rtcredit (default; dom0 allowed RT with
#                                        rtcredit_dom0_rt=1: expects accepted requests) or
#                                        credit/credit2 (expects rt_state EOPNOTSUPP)
#   ./test-qemu.sh --xen rtcredit noperm rtcredit without rtcredit_dom0_rt=1: expects EPERM
#   ./test-qemu.sh --distro-kernel       Debian's own kernel (build-distro.sh: the cloud
#                                        kernel of the debootstrap root and the module its
#                                        DKMS built) as a PV domU under our Xen, rtcredit,
#                                        RT allowed for it (distro-domu.sh: the dom0 side)
#   --clock icount|host [--shift N]      QEMU's clock (default host; icount: guest time
#                                        per emulated instruction, as in
#                                        hypervisor/xen/lib-initramfs.sh), anywhere
# Needs: ./build-kernel.sh and ./build.sh done; qemu-system-x86, busybox-static, gcc, cargo.
# Env: TIMEOUT (s, default 300), XEN (hypervisor image), DOM0_ARGS (extra dom0 kernel
# arguments under --xen; default clocksource=xen: a PV dom0 prefers tsc, and under TCG
# Xen does not declare the TSC stable, so without it the module has no way to read Xen
# system time and falls back). Work files:
# .cache/guest-kmod/qemu-<mode>/ at the repo root.
set -euo pipefail

MODE=native SCHED=
NOPERM=
DISTRO=
CLOCK=host SHIFT=
positional=()
while [ $# -gt 0 ]; do
    case $1 in
        --clock) CLOCK=${2:?--clock needs icount or host}; shift ;;
        --shift) SHIFT=${2:?--shift needs a number}; shift ;;
        --distro-kernel) DISTRO=1 ;;
        *) positional+=("$1") ;;
    esac
    shift
done
set -- "${positional[@]}"
if [ "${1:-}" = --xen ]; then MODE=xen; SCHED=${2:-rtcredit}; [ "${3:-}" = noperm ] && NOPERM=-noperm; fi

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
KDIR=${KDIR:-$ROOT/.cache/linux-7.2/linux-source-7.2}
WORK=$ROOT/.cache/guest-kmod/qemu-$MODE$SCHED$NOPERM
XEN=${XEN:-$ROOT/.cache/xen-build/release/xen/xen}
TIMEOUT=${TIMEOUT:-300}
KO=$HERE/rtsleep.ko
if [ -n "$DISTRO" ]; then
    [ "$MODE" = native ] || [ "$SCHED$NOPERM" = rtcredit ] ||
        { echo "test-qemu: --distro-kernel runs under Xen with rtcredit only" >&2; exit 2; }
    MODE=xen SCHED=rtcredit WORK=$ROOT/.cache/guest-kmod/qemu-distro
fi

log() { printf '[test-qemu %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
fail() { echo "test-qemu: FAIL $*"; exit 1; }
die() { fail "$*"; }
# The QEMU helpers: the clock (clock_setup, clock_describe), busybox_root, cpio_gz,
# xen_qemu_argv, cargo_release_bin and XEN_CRASH_RE.
CACHE=$ROOT/.cache
# shellcheck source=../hypervisor/xen/lib-initramfs.sh
. "$ROOT/hypervisor/xen/lib-initramfs.sh"
if [ -n "$DISTRO" ]; then
    # Debian's kernel (a bzImage: Xen unpacks it for a PV domU) and the DKMS-built module.
    distro_domu_kernel "$WORK.ko"
    KO=$DISTRO_KO
fi
clock_setup
[ "$CLOCK" = icount ] && WORK+=-icount
REPO=$ROOT
JUDGE_BIN=$(cargo_release_bin rtcredit-judge rtcredit-judge)    # before the boot: a build error first

BZ=$KDIR/arch/x86/boot/bzImage
[ -n "$DISTRO" ] || [ -f "$BZ" ] || fail "no $BZ: run ./build-kernel.sh"
[ "$MODE" = native ] || [ -f "$XEN" ] || fail "no Xen image $XEN: run hypervisor/xen/build.sh"
[ -f "$KO" ] || fail "no rtsleep.ko: run ./build.sh"
for t in qemu-system-x86_64 gcc cpio gzip; do command -v $t >/dev/null || fail "missing $t"; done
[ -x /bin/busybox ] && file -L /bin/busybox | grep -q 'statically linked' || fail "need busybox-static at /bin/busybox"

rm -rf "$WORK"
R=$WORK/root
busybox_root "$R" proc sys tmp
cp "$KO" "$R/rtsleep.ko"
# The permission model: the udev rule's group and mode, applied by /init; the group's id
# is made up here (990), as groupadd --system would pick one.
rule_group=$(sed -n 's/^KERNEL=="rtsleep".*GROUP="\([^"]*\)".*/\1/p' "$HERE/dist/99-rtsleep.rules")
rule_mode=$(sed -n 's/^KERNEL=="rtsleep".*MODE="\([0-7]*\)".*/\1/p' "$HERE/dist/99-rtsleep.rules")
[ -n "$rule_group" ] && [ -n "$rule_mode" ] || fail "dist/99-rtsleep.rules: no GROUP= and MODE= for rtsleep"
mkdir -p "$R/etc"
echo "root:x:0:" > "$R/etc/group"
echo "$rule_group:x:990:" >> "$R/etc/group"
printf 'rule_group=%s\nrule_mode=%s\n' "$rule_group" "$rule_mode" > "$R/etc/rtsleep-rule"
install -m 755 "$HERE/test/settle.sh" "$R/bin/settle"
gcc -static -O2 -Wall -Wextra -Werror -o "$R/bin/rtsleep_test" "$HERE/test/rtsleep_test.c"
gcc -O2 -Wall -Wextra -Werror -o "$R/bin/sleep_loop" "$HERE/test/sleep_loop.c"
# The rtsleep command (static) and the preload shim beside it, where `rtsleep run` looks;
# the shim and sleep_loop are dynamic: copy the loader and libraries at their paths.
log "building the guest's rtsleep and preload shim (rtsleep-cli/build-guest.sh)"
GUEST_BINS=$("$ROOT/rtsleep-cli/build-guest.sh" --libs "$R/bin/sleep_loop" 2> "$WORK/build-guest.log") ||
    fail "rtsleep-cli/build-guest.sh failed (see $WORK/build-guest.log)"
while read -r name path; do
    case $name in
        lib) mkdir -p "$R$(dirname "$path")"; cp -L "$path" "$R$path" ;;
        *) cp "$path" "$R/bin/$name" ;;
    esac
done <<< "$GUEST_BINS"
cat > "$R/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "GUEST: kernel $(uname -r)"
if insmod /rtsleep.ko; then echo "PASS: insmod rtsleep.ko"; else echo "FAIL: insmod rtsleep.ko"; fi
i=0; while [ ! -c /dev/rtsleep ] && [ $i -lt 20 ]; do sleep 0.1; i=$((i + 1)); done
. /etc/rtsleep-rule
chgrp "$rule_group" /dev/rtsleep && chmod "$rule_mode" /dev/rtsleep
rtsleep_test access "$(sed -n "s/^$rule_group:x:\([0-9]*\):.*/\1/p" /etc/group)"
# The latency checks wait for the kernel's own boot work (a distribution kernel's crypto
# self-tests, test/settle.sh); an unsettled guest is a failure of the setup, said so.
if settled=$(settle 300); then echo "GUEST: $settled"; else echo "FAIL: the guest is busy before the checks: $settled"; fi
rtsleep_test; echo "GUEST: rtsleep_test exit $?"

# The rtsleep command. With RT granted the library uses the device; else it falls back.
case $rtsleep_expect in rt) via=device ;; *) via=fallback ;; esac
if rtsleep status > /tmp/status.txt 2>&1; then echo "PASS: rtsleep status exits 0"; else echo "FAIL: rtsleep status exits $?"; fi
sed 's/^/GUEST status: /' /tmp/status.txt
if [ $via = device ]; then want='sleeps: *through the device'; else want='sleeps: *clock_nanosleep fallback'; fi
if grep -q "^$want" /tmp/status.txt; then echo "PASS: rtsleep status: sleeps go $via"; else echo "FAIL: rtsleep status: sleeps do not go $via"; fi
if rtsleep status --json > /tmp/status.json 2>&1 && grep -q '"device": "present"' /tmp/status.json &&
   grep -q "\"backend\": \"$via\"" /tmp/status.json; then
    echo "PASS: rtsleep status --json: device present, backend $via"
else
    echo "FAIL: rtsleep status --json: expected device present, backend $via"
fi
sed 's/^/GUEST json: /' /tmp/status.json
if rtsleep bench --period 10ms --loops 300 --plain > /tmp/bench.txt 2>&1; then
    echo "PASS: rtsleep bench --period 10ms --loops 300 --plain exits 0"
else
    echo "FAIL: rtsleep bench exits $?"
fi
sed 's/^/GUEST bench: /' /tmp/bench.txt
# run_loop NAME [RUN-FLAGS]: `rtsleep run FLAGS -- sleep_loop 50 10` (52 relative sleeps
# of 10 ms from a SCHED_OTHER thread), with the shim's stats and the module's counters.
run_loop() {
    eval "$(rtsleep_test info b_)"
    rtsleep run "$@" --stats /tmp/run.stats -- sleep_loop 50 10 > /tmp/run.txt 2>&1; rc=$?
    eval "$(rtsleep_test info a_)"
    sed "s/^/GUEST run $*: /" /tmp/run.txt
    echo "GUEST run $* stats: $(tr '\n' ' ' < /tmp/run.stats)"
    echo "GUEST: counters before/after rtsleep run $*: requests $b_requests/$a_requests rt_accepted $b_rt_accepted/$a_rt_accepted fell_back $b_fell_back/$a_fell_back hypercalls $b_hypercalls/$a_hypercalls"
    routed=$(sed -n 's/^routed=//p' /tmp/run.stats)
    not_selected=$(sed -n 's/^not_selected=//p' /tmp/run.stats)
    d_req=$((a_requests - b_requests)); d_acc=$((a_rt_accepted - b_rt_accepted)); d_fb=$((a_fell_back - b_fell_back))
}
# The default policy routes absolute deadlines and real-time threads only: none of these.
run_loop
if [ $rc = 0 ] && [ "$routed" = 0 ] && [ "$not_selected" = 52 ] && [ $d_req = 0 ]; then r=PASS; else r=FAIL; fi
echo "$r: rtsleep run -- sleep_loop 50 10 (default policy): exit $rc, shim routed $routed, not selected $not_selected of 52 relative sleeps of a SCHED_OTHER thread; module requests +$d_req (expected 0 52 0)"
run_loop --all
if [ $via = device ]; then
    if [ $rc = 0 ] && [ "$routed" = 52 ] && [ $d_req = 52 ] && [ $d_acc = 52 ]; then r=PASS; else r=FAIL; fi
    echo "$r: rtsleep run --all -- sleep_loop 50 10: exit $rc, shim routed $routed of 52 sleeps; module requests +$d_req rt_accepted +$d_acc fell_back +$d_fb (expected 52 52 0)"
else
    # A refusal (eperm, eopnotsupp) holds 1 s, then one sleep probes the device.
    if [ $rc = 0 ] && [ "$routed" -le 1 ] && [ $d_req = "$routed" ] && [ $d_acc = 0 ]; then r=PASS; else r=FAIL; fi
    echo "$r: rtsleep run --all -- sleep_loop 50 10: exit $rc, device says no RT here: shim routed $routed, module requests +$d_req (expected at most one probe, the same)"
fi

# Unload while a sleeper is blocked in the ioctl: the open file holds the module.
rtsleep_test sleep 3000 > /tmp/sleeper.txt 2>&1 &
spid=$!
sleep 1
echo "GUEST: /proc/modules: $(grep '^rtsleep ' /proc/modules)"
if rmmod rtsleep 2> /tmp/rmmod.txt; then
    echo "FAIL: rmmod succeeded while a sleeper was blocked in the ioctl"
else
    echo "PASS: rmmod refused while a sleeper is blocked in the ioctl ($(cat /tmp/rmmod.txt))"
fi
if wait $spid; then r=PASS; else r=FAIL; fi
echo "$r: the blocked sleeper finished normally: $(cat /tmp/sleeper.txt)"

if rmmod rtsleep; then echo "PASS: rmmod rtsleep"; else echo "FAIL: rmmod rtsleep"; fi
sleep 0.2
if [ -e /dev/rtsleep ]; then echo "FAIL: /dev/rtsleep still present after rmmod"; else echo "PASS: /dev/rtsleep gone after rmmod"; fi
if grep -q '^rtsleep ' /proc/modules; then echo "FAIL: module still listed"; else echo "PASS: module unloaded"; fi
dmesg | grep -i rtsleep | sed 's/^/GUEST dmesg: /'
echo "GUEST: done"
poweroff -f
INIT
chmod 755 "$R/init"
cpio_gz "$R" "$WORK/initramfs.cpio.gz"

if [ -n "$DISTRO" ]; then
    # shellcheck source=distro-domu.sh
    . "$HERE/distro-domu.sh"
    distro_domu_qemu   # sets QEMU: our dom0 creating a domU of Debian's kernel
elif [ "$MODE" = native ]; then
    # shellcheck disable=SC2207  # the accelerator's words
    QEMU=(qemu-system-x86_64 -machine pc $(clock_qemu_args "$CLOCK" "$SHIFT") -cpu qemu64 -m 256 -smp 2
          -nographic -no-reboot -kernel "$BZ" -initrd "$WORK/initramfs.cpio.gz"
          -append "console=ttyS0 rdinit=/init panic=-1 rtsleep_expect=native")
else
    case $SCHED$NOPERM in rtcredit) expect=rt ;; rtcredit-noperm) expect=eperm ;; *) expect=eopnotsupp ;; esac
    dom0_rt=; [ "$SCHED$NOPERM" = rtcredit ] && dom0_rt=" rtcredit_dom0_rt=1"
    # The uncompressed vmlinux boots faster as PV dom0.
    xen_qemu_argv QEMU "$CLOCK" "$SHIFT" "$XEN" "dom0_mem=512M,max:512M dom0_max_vcpus=2 sched=$SCHED$dom0_rt" \
        "$KDIR/vmlinux" "${DOM0_ARGS-clocksource=xen} rtsleep_expect=$expect" "$WORK/initramfs.cpio.gz" \
        -cpu qemu64 -m 1024 -smp 2
fi
echo "${QEMU[*]}" > "$WORK/qemu-cmdline.txt"
log "booting ($MODE${SCHED:+ sched=$SCHED}) under QEMU TCG, $(clock_describe "$CLOCK" "$SHIFT") (timeout ${TIMEOUT}s)"
start=$(date +%s)
set +e
timeout -k 10 "$TIMEOUT" "${QEMU[@]}" < /dev/null > "$WORK/console.log" 2>&1
rc=$?
set -e
log "QEMU exited with $rc after $(( $(date +%s) - start )) s; console: $WORK/console.log"
tr -d '\r' < "$WORK/console.log" > "$WORK/console.txt"
# The verdict: rtcredit-judge (tests/judge/src/test_qemu.rs) prints the guest's lines and
# "test-qemu: PASS" or "test-qemu: FAIL WHY"; under Xen a crash line is a failure too.
crash=(); [ "$MODE" = native ] || crash=(--crash-re "$XEN_CRASH_RE")
exec "$JUDGE_BIN" test-qemu --log "$WORK/console.log" --qemu-rc "$rc" "${crash[@]}"
