#!/usr/bin/env bash
# Boot Xen under QEMU (TCG) with a PV dom0 and check that scheduling works.
#
#   bash hypervisor/xen/smoke.sh [--debug] [--sched NAME] [--duration SECONDS]
#                                [--timeout SECONDS] [--cpu MODEL] [--clock MODE]
#                                [--shift N] [--verbose] [--rejudge] [--trace]
#                                [--trace-secs S]
#
#   --debug        use the CONFIG_DEBUG=y Xen build (ASSERTs on)
#   --sched NAME   Xen's sched= option (default credit; rtcredit is ours)
#   --duration S   length of the load phase in dom0 (default 30)
#   --timeout S    kill QEMU after S seconds (default 420)
#   --cpu MODEL    QEMU CPU model (default qemu64; max,-smap also works)
#   --clock MODE   QEMU's clock: host (default) or icount (deterministic guest time,
#                  see lib-initramfs.sh); --shift N for icount (default 2)
#   --verbose      also stream the serial console to the terminal
#   --rejudge      do not build or boot: judge the last serial log of this
#                  configuration again (for working on the checks)
#   --trace        also record a real xentrace trace in dom0 during the load
#                  (scheduler class 0x0002f000, 2 s), bring it out over the
#                  console (gzip + base64) into $RUN/trace.bin and check it with
#                  rtcredit-monitor; the run directory gets a "-trace" suffix
#   --trace-secs S length of that capture (default 2; implies --trace)
#
# Steps: build Xen (build.sh, cached) and its dom0 toolstack (build-tools.sh, cached),
# fetch Debian bookworm's linux-image-6.1 as the dom0 kernel, build a busybox
# initramfs with two static tools (tools/schedop.c, tools/rtload.c), the dom0
# administration tool rtcredit-ctl (xen-config/, built on the host, with the
# toolstack's libxenctrl and, under sched=rtcredit, its xenstored), xentrace from the
# same toolstack (--trace) and an /init script, boot, and then judge the serial log
# with rtcredit-judge (tests/judge: the rules, the --trace checks included, and their
# tests). Prints PASS:/FAIL: lines; exits non-zero on any FAIL, on a crash, or on a timeout.
set -euo pipefail
shopt -s inherit_errexit    # let failures inside $(...) stop the script too

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
CACHE=$REPO/.cache

VARIANT=release
SCHED=credit
DURATION=30
TIMEOUT=420
CPU=qemu64
CLOCK=host
SHIFT=
VERBOSE=0
REJUDGE=0
TRACE=0          # --trace: xentrace in dom0 during the load, checked on the host
TRACE_SECS=2
# What the first SCHEDOP 8 (rtsleep) must return: -EPERM under sched=rtcredit (dom0
# is not allowed RT until the domctl says so), -EOPNOTSUPP under the other schedulers
# of a patched Xen, -ENOSYS on stock Xen. Set after the options are read.
EXPECT_RTSLEEP_RC=${EXPECT_RTSLEEP_RC:-}

while [ $# -gt 0 ]; do
    case $1 in
        --debug) VARIANT=debug ;;
        --sched) SCHED=${2:?--sched needs a name}; shift ;;
        --duration) DURATION=${2:?}; shift ;;
        --timeout) TIMEOUT=${2:?}; shift ;;
        --cpu) CPU=${2:?}; shift ;;
        --clock) CLOCK=${2:?--clock needs icount or host}; shift ;;
        --shift) SHIFT=${2:?--shift needs a number}; shift ;;
        --verbose) VERBOSE=1 ;;
        --rejudge) REJUDGE=1 ;;
        --trace) TRACE=1 ;;
        --trace-secs) TRACE=1; TRACE_SECS=${2:?}; shift ;;
        -h|--help) sed -n '2,32p' "$0"; exit 0 ;;
        *) echo "smoke.sh: unknown argument: $1" >&2; exit 2 ;;
    esac
    shift
done
[[ $DURATION =~ ^[0-9]+$ ]] && [ "$DURATION" -ge 1 ] || { echo "smoke.sh: bad --duration" >&2; exit 2; }
[[ $TRACE_SECS =~ ^[0-9]+$ ]] && [ "$TRACE_SECS" -ge 1 ] || { echo "smoke.sh: bad --trace-secs" >&2; exit 2; }
# The capture starts 2 s into the load and must end well before it does.
if [ "$TRACE" = 1 ] && [ $((TRACE_SECS + 4)) -gt "$DURATION" ]; then
    echo "smoke.sh: --trace-secs $TRACE_SECS needs --duration of at least $((TRACE_SECS + 4))" >&2; exit 2
fi
if [ -z "$EXPECT_RTSLEEP_RC" ]; then
    if [ "$SCHED" = rtcredit ]; then EXPECT_RTSLEEP_RC=-1; else EXPECT_RTSLEEP_RC=-95; fi
fi

SMOKE=$CACHE/smoke
RUN=$SMOKE/run-$SCHED-$VARIANT          # per-configuration: initramfs, log
[ "$TRACE" = 1 ] && RUN+=-trace         # --trace runs keep their own log and trace
[ "$CLOCK" = icount ] && RUN+=-icount   # and so do deterministic-clock runs
DOM0=$CACHE/dom0-kernel                 # shared: downloaded kernel package
TOOLS=$SMOKE/tools                      # shared: static dom0 tools
LOG=$RUN/serial.log

log() { echo "[smoke.sh] $*" >&2; }
die() { echo "[smoke.sh] ERROR: $*" >&2; exit 1; }

T0=$SECONDS

# shellcheck source=../../scripts/pkgs.sh
. "$REPO/scripts/pkgs.sh"
# shellcheck source=lib-initramfs.sh
. "$HERE/lib-initramfs.sh"
clock_setup

# --- 1. Xen ------------------------------------------------------------------------------
build_xen() {
    local args=()
    [ "$VARIANT" = debug ] && args+=(--debug)
    bash "$HERE/build.sh" "${args[@]}" >/dev/null
    XEN_IMAGE=$CACHE/xen-build/$VARIANT/xen/xen
    [ -f "$XEN_IMAGE" ] || die "build.sh did not produce $XEN_IMAGE"
}

# --- 2. dom0 kernel -----------------------------------------------------------------------
# Debian's distribution kernel as a PV dom0 and its Xen modules (xen-privcmd; xentrace
# binds VIRQ_TBUF through xen-evtchn and libxenctrl opens xen-gntdev; xenstored, for
# rtcredit-ctl, needs xenfs): prepare_dom0_kernel and install_dom0_modules of
# lib-initramfs.sh, shared with xl-smoke.sh and tests/e2e.

# --- 3. static dom0 tools -----------------------------------------------------------------
build_tools() {
    mkdir -p "$TOOLS"
    local t
    for t in schedop rtload; do
        build_static_tool "$TOOLS" "$t"
    done
}

# --- 3b. the dom0 Xen tools -----------------------------------------------------------------
# One supply route for every QEMU run: the toolstack that build-tools.sh builds from
# the same Xen source as the hypervisor (xentrace, xenstored, xen-init-dom0 and the
# libraries rtcredit-ctl loads), installed by lib-initramfs.sh's install_elf, which
# copies every library ldd lists and refuses a binary with a missing one. (Debian's
# xen-utils-4.17 binaries were used before; each point release of them linked
# libraries a hand-kept package list did not fetch.)
build_toolstack() {
    bash "$HERE/build-tools.sh" > /dev/null
    [ -x "$XEN_TOOLS_DIST/usr/sbin/xentrace" ] || die "build-tools.sh did not produce $XEN_TOOLS_DIST/usr/sbin/xentrace"
}
install_xentrace() {
    install_elf "$1" "$XEN_TOOLS_DIST/usr/sbin/xentrace" bin/xentrace "$XEN_TOOLS_DIST/usr/lib"
}

# --- 3c. rtcredit-ctl ---------------------------------------------------------------------
# The workspace's release build of xen-config (dynamically linked against glibc), the
# two Xen libraries it loads with dlopen (libxenctrl.so.4.17, libxenstore.so.4), and
# for sched=rtcredit the C xenstored and xen-init-dom0, so that domain names and the
# @introduceDomain watch are real.
build_ctl() {
    CTL_BIN=$(cargo_release_bin rtcredit-config rtcredit-ctl)
}

install_ctl() {
    local root=$1 d=$XEN_TOOLS_DIST
    install_rtcredit_ctl "$root" "$CTL_BIN"
    install_elf "$root" "$d/usr/sbin/xenstored" bin/xenstored "$d/usr/lib"
    install_elf "$root" "$d/usr/lib/xen/bin/xen-init-dom0" bin/xen-init-dom0 "$d/usr/lib"
}

# --- 4. initramfs -------------------------------------------------------------------------
build_initramfs() {
    local root=$RUN/initramfs
    busybox_root "$root" proc sys tmp lib/modules
    cp "$TOOLS/schedop" "$TOOLS/rtload" "$root/bin/"
    install_dom0_modules "$root" "${XEN_DOM0_MODULES[@]}"
    [ "$TRACE" = 1 ] && install_xentrace "$root"
    install_ctl "$root"
    write_init > "$root/init"
    chmod 755 "$root/init"
    cpio_gz "$root" "$RUN/initramfs.cpio.gz"
}

# dom0's /init. Every line the host judges starts with "SMOKE:", "schedop:" or
# "rtload:". Parameters come from the dom0 command line (the kernel hands unknown
# key=value words to init as environment variables).
write_init() {
    cat "$HERE/init/smoke-dom0.sh"
}

# --- 5. boot ------------------------------------------------------------------------------
boot() {
    local xen_words dom0_words qemu
    xen_words="dom0_mem=512M,max:512M dom0_max_vcpus=2 sched=$SCHED"
    dom0_words="smoke_duration=$DURATION smoke_sched=$SCHED"
    # --trace: trace buffers of 64 pages per CPU, allocated at boot.
    if [ "$TRACE" = 1 ]; then
        xen_words+=" tbuf_size=64"
        dom0_words+=" smoke_trace=$TRACE_SECS"
    fi
    xen_qemu_argv qemu "$CLOCK" "$SHIFT" "$XEN_IMAGE" "$xen_words" "$DOM0_VMLINUZ" "$dom0_words" \
        "$RUN/initramfs.cpio.gz" -cpu "$CPU" -m 1024 -smp 2
    echo "${qemu[*]}" > "$RUN/qemu-cmdline.txt"
    log "booting Xen ($VARIANT, sched=$SCHED) in QEMU, $(clock_describe "$CLOCK" "$SHIFT"), timeout ${TIMEOUT}s; log: $LOG"
    local t=$SECONDS rc=0
    run_qemu "$LOG" "$TIMEOUT" "$VERBOSE" "${qemu[@]}" || rc=$?
    QEMU_RC=$rc
    BOOT_SECS=$((SECONDS - t))
    echo "$QEMU_RC $BOOT_SECS" > "$RUN/qemu-status"
    # Serial output has CRLF line ends: serial.txt is the log without them, for reading
    # (rtcredit-judge reads serial.log itself).
    tr -d '\r' < "$LOG" > "$RUN/serial.txt"
}

# --- 6. judge the log: rtcredit-judge (tests/judge/src/smoke.rs) ---------------------------
# Prints the PASS:/FAIL: lines and the RESULT line (after a boot also the elapsed time,
# and the scheduler and build in the RESULT line); its exit status (1: a check failed,
# 2: it could not judge) is the script's. With --trace it also decodes the two traces
# dom0 printed into $RUN (trace.bin, trace-idle.bin), checks them with rtcredit-monitor's
# analysis and writes the monitor's tables beside them (trace-report.txt,
# trace-idle-report.txt; tests/judge/src/smoke/trace.rs).
judge() {
    local trace=()
    [ "$TRACE" = 1 ] && trace=(--trace "$RUN")
    "$JUDGE_BIN" smoke --log "$LOG" --sched "$SCHED" --qemu-rc "$QEMU_RC" --boot-secs "$BOOT_SECS" \
        --timeout "$TIMEOUT" --duration "$DURATION" --expect-rtsleep-rc "$EXPECT_RTSLEEP_RC" \
        --crash-re "$XEN_CRASH_RE" "${trace[@]}" "$@"
}

main() {
    mkdir -p "$SMOKE" "$RUN"
    JUDGE_BIN=$(cargo_release_bin rtcredit-judge rtcredit-judge)    # before the boot: a build error first
    if [ "$REJUDGE" = 1 ]; then
        [ -f "$LOG" ] && [ -f "$RUN/qemu-status" ] || die "no previous run in $RUN"
        read -r QEMU_RC BOOT_SECS < "$RUN/qemu-status"
        tr -d '\r' < "$LOG" > "$RUN/serial.txt"
        echo "serial log: $LOG"
        local rc=0
        judge || rc=$?
        exit "$rc"
    fi
    ensure_pkgs qemu-system-x86 busybox-static cpio gcc libc6-dev
    # Preparation touches shared caches (kernel, tools): one smoke.sh at a time there.
    exec 9> "$SMOKE/.lock"
    flock 9
    local t=$SECONDS
    build_xen
    prepare_dom0_kernel
    build_tools
    build_toolstack
    build_ctl
    build_initramfs
    flock -u 9
    log "prepared in $((SECONDS - t))s (Xen: $XEN_IMAGE, dom0: $KVER)"
    boot
    echo "serial log: $LOG"
    local rc=0
    judge --elapsed-secs $((SECONDS - T0)) --variant "$VARIANT" || rc=$?
    exit "$rc"
}

main
