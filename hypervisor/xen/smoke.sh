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
# with rtcredit-judge (tests/judge: the rules and their tests; the --trace checks stay
# here). Prints PASS:/FAIL: lines; exits non-zero on any FAIL, on a crash, or on a timeout.
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
    # and for the --trace checks (rtcredit-judge reads serial.log).
    tr -d '\r' < "$LOG" > "$RUN/serial.txt"
}

# --- 6. judge the log: rtcredit-judge (tests/judge/src/smoke.rs) ---------------------------
# Prints the PASS:/FAIL: lines and the RESULT line (after a boot also the elapsed time,
# and the scheduler and build in the RESULT line); its exit status (1: a check failed,
# 2: it could not judge) is the script's. With --trace, the trace checks below run
# first, into $RUN/trace-checks.txt, and the binary prints and counts them where they
# belong, before "dom0 /init finished".
judge() {
    local trace=()
    if [ "$TRACE" = 1 ]; then
        ( set +e +o pipefail; judge_trace ) > "$RUN/trace-checks.txt"
        trace=(--trace-checks "$RUN/trace-checks.txt")
    fi
    "$JUDGE_BIN" smoke --log "$LOG" --sched "$SCHED" --qemu-rc "$QEMU_RC" --boot-secs "$BOOT_SECS" \
        --timeout "$TIMEOUT" --duration "$DURATION" --expect-rtsleep-rc "$EXPECT_RTSLEEP_RC" \
        --crash-re "$XEN_CRASH_RE" "${trace[@]}" "$@"
}

# --- 6b. --trace: checked here, by the xentrace decoder and rtcredit-monitor ---------------
# Not in rtcredit-judge: these checks run tools on a trace decoded from the log, and
# no traced log is kept to test a port on. Each prints PASS:/FAIL: lines for judge().
L=$RUN/serial.txt
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; }
field() { sed -n "s/.*[ ]$1=\([^ ]*\).*/\1/p" | head -n1; }   # value of key=value

# --trace only: the trace dom0 printed, decoded into $RUN/trace.bin, then read by
# rtcredit-monitor (the workspace's release build) with the TSC rate Xen detected.
build_monitor() {
    MONITOR=$(cargo_release_bin rtcredit-monitor rtcredit-monitor)
}

# Decodes trace NAME (printed by dom0's xdump) from the console into FILE and checks
# that xentrace succeeded and that size and MD5 match what dom0 said. Returns 1 on FAIL.
decode_trace() {
    local name=$1 file=$2 line want_bytes want_md5 bytes md5
    line=$(grep -m1 "^SMOKE: xentrace $name start_uptime=" "$L" || true)
    want_bytes=$(echo "$line" | field bytes); want_md5=$(echo "$line" | field md5)
    rm -f "$file"
    sed -n "/^SMOKE: TRACE BEGIN $name /,/^SMOKE: TRACE END $name\$/p" "$L" | sed '1d;$d' |
        grep -E '^[A-Za-z0-9+/=]+$' | base64 -d 2>/dev/null | gunzip -c > "$file" 2>/dev/null
    bytes=$(wc -c < "$file"); md5=$(md5sum < "$file" | cut -d' ' -f1)
    if [ "$(echo "$line" | field exit)" != 0 ]; then
        fail "xentrace ($name) in dom0: ${line:-no status line} $(grep -m3 "^SMOKE: xentrace $name says:" "$L" | tr '\n' ' ')"
    elif [ -z "$want_bytes" ] || [ "$want_bytes" -eq 0 ]; then
        fail "xentrace ($name) in dom0 wrote an empty trace: $line"
    elif [ "$bytes" != "$want_bytes" ] || [ "$md5" != "$want_md5" ]; then
        fail "trace ($name) from the console: $bytes bytes, MD5 $md5; dom0 said $want_bytes bytes, MD5 $want_md5"
    else
        pass "xentrace ($name) in dom0 recorded $bytes bytes; decoded from the console into $file, MD5 matches"
        return 0
    fi
    return 1
}

# rtcredit-monitor's report of FILE (trace.bin -> trace-report.json, .txt with the
# table, .notes with its stderr); prints jq query Q on the JSON. Returns 1 (and prints
# why) when the monitor or jq fails.
monitor_json() {
    local file=$1 query=$2 base=${1%.bin}
    if ! "$MONITOR" --cpu-hz "${MHZ}MHz" report --json "$file" > "$base-report.json" 2> "$base-report.notes"; then
        echo "rtcredit-monitor report failed: $(head -c 300 "$base-report.notes")"
        return 1
    fi
    "$MONITOR" --cpu-hz "${MHZ}MHz" report --idle "$file" > "$base-report.txt" 2>&1
    jq -r "$query" "$base-report.json" 2>&1
}

# --trace only: the trace dom0 printed, decoded into $RUN/trace.bin, then read by
# rtcredit-monitor (the workspace's release build) with the TSC rate Xen detected.
judge_trace() {
    # The TSC rate: Xen's "Detected N MHz processor" (its calibration against the
    # platform timer); the trace does not carry it.
    MHZ=$(grep -m1 '(XEN).*Detected [0-9.]* MHz processor' "$L" | sed 's/.*Detected \([0-9.]*\) MHz.*/\1/')
    [ -n "$MHZ" ] || { fail "no 'Detected ... MHz processor' line from Xen (TSC rate)"; return; }
    local verdict problems vcpus rt_ns fires grants dur_ms
    # During the load: both of dom0's VCPUs run busy loops and nothing else wants the
    # CPUs, so Xen never switches them (only TRC_SCHED_CONTINUE_RUNNING, no runstate
    # change); the rtsleep loop on VCPU 0 gets RT fires and runs at RT until its next
    # rtsleep or the 0.5 ms RT quantum.
    # Want: every byte read, both VCPUs running, time at RT > 0, RT fires > 0 (under
    # other schedulers only the first two).
    if ! decode_trace load "$RUN/trace.bin"; then :
    elif ! verdict=$(monitor_json "$RUN/trace.bin" '
            def d0: .rows[] | select(.dom == 0 and .vcpu == null);
            [ .problems.total,
              ([.rows[] | select(.dom == 0 and .vcpu != null and .cpu_time > 0)] | length),
              (d0.time_at.rt // 0), (d0.rt.fires // 0), (d0.rt.grants // 0),
              (.duration / 1000000 | round) ] | @tsv'); then
        fail "load trace: $verdict"
    else
        IFS=$'\t' read -r problems vcpus rt_ns fires grants dur_ms <<< "$verdict"
        if [ "$SCHED" != rtcredit ] && [ "$problems" = 0 ] && [ "$vcpus" = 2 ]; then
            # Other schedulers: no RT and none of our events; the runs must still read.
            pass "rtcredit-monitor reads the load trace (${dur_ms} ms, TSC ${MHZ} MHz): all bytes read, dom0's 2 VCPUs ran"
        elif [ "$problems" = 0 ] && [ "$vcpus" = 2 ] && [ "$rt_ns" -gt 0 ] && [ "$fires" -gt 0 ]; then
            pass "rtcredit-monitor reads the load trace (${dur_ms} ms, TSC ${MHZ} MHz): all bytes read, dom0's 2 VCPUs ran, $((rt_ns / 1000000)) ms at RT, $grants RT grants, $fires RT fires"
            echo "      the monitor's table: $RUN/trace-report.txt"
        else
            fail "rtcredit-monitor on the load trace: want 0 problems, dom0's 2 VCPUs running, time at RT > 0, RT fires > 0; got problems=$problems vcpus=$vcpus rt_ns=$rt_ns fires=$fires"
        fi
    fi
    # Idle dom0: its VCPUs block for most of the second. A VCPU re-picked right after
    # SCHEDOP_block (a bug the first real trace showed) spins instead and writes
    # megabytes of block/continue records; credit writes about 15 KB here.
    local bytes blocked_ms
    if ! decode_trace idle "$RUN/trace-idle.bin"; then :
    elif ! verdict=$(monitor_json "$RUN/trace-idle.bin" '
            [ ([.rows[] | select(.dom == 0 and .vcpu != null) | .blocked_time] | min),
              (.duration / 1000000 | round) ] | @tsv'); then
        fail "idle trace: $verdict"
    else
        IFS=$'\t' read -r blocked_ms dur_ms <<< "$verdict"
        bytes=$(wc -c < "$RUN/trace-idle.bin")
        blocked_ms=$(( ${blocked_ms%.*} / 1000000 ))
        if [ "$bytes" -lt 1000000 ] && [ "$blocked_ms" -ge $((dur_ms / 2)) ]; then
            pass "idle dom0 blocks: each VCPU blocked at least ${blocked_ms} of ${dur_ms} ms, trace $bytes bytes"
        else
            fail "idle dom0 does not block: trace $bytes bytes in ${dur_ms} ms, least blocked VCPU ${blocked_ms} ms"
        fi
    fi
}

main() {
    mkdir -p "$SMOKE" "$RUN"
    JUDGE_BIN=$(cargo_release_bin rtcredit-judge rtcredit-judge)    # before the boot: a build error first
    if [ "$REJUDGE" = 1 ]; then
        [ -f "$LOG" ] && [ -f "$RUN/qemu-status" ] || die "no previous run in $RUN"
        read -r QEMU_RC BOOT_SECS < "$RUN/qemu-status"
        tr -d '\r' < "$LOG" > "$RUN/serial.txt"
        [ "$TRACE" = 1 ] && build_monitor
        echo "serial log: $LOG"
        local rc=0
        judge || rc=$?
        exit "$rc"
    fi
    ensure_pkgs qemu-system-x86 busybox-static cpio gcc libc6-dev
    [ "$TRACE" = 1 ] && ensure_pkgs jq
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
    [ "$TRACE" = 1 ] && build_monitor
    log "prepared in $((SECONDS - t))s (Xen: $XEN_IMAGE, dom0: $KVER)"
    boot
    echo "serial log: $LOG"
    local rc=0
    judge --elapsed-secs $((SECONDS - T0)) --variant "$VARIANT" || rc=$?
    exit "$rc"
}

main
