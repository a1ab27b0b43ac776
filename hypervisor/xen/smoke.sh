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
# same toolstack (--trace) and an /init script, boot, and then judge the serial log.
# Prints PASS:/FAIL: lines; exits non-zero on any FAIL, on a crash, or on a timeout.
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
        -h|--help) sed -n '2,29p' "$0"; exit 0 ;;
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
[ -n "$SHIFT" ] || SHIFT=$CLOCK_DEFAULT_SHIFT
clock_check "$CLOCK" "$SHIFT"

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
    # Serial output has CRLF line ends; strip them once for the checks below.
    tr -d '\r' < "$LOG" > "$RUN/serial.txt"
}

# --- 6. judge the log ---------------------------------------------------------------------
FAILS=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
field() { sed -n "s/.*[ ]$1=\([^ ]*\).*/\1/p" | head -n1; }   # value of key=value

judge() {
    local L=$RUN/serial.txt line
    # Every check below reports its own FAIL; a grep that finds nothing must not end
    # the script before the remaining checks have run.
    set +e +o pipefail

    case $QEMU_RC in
        0) pass "QEMU exited cleanly after ${BOOT_SECS}s (dom0 powered off)" ;;
        124|137) fail "timeout: QEMU killed after ${TIMEOUT}s" ;;
        *) fail "QEMU exited with status $QEMU_RC after ${BOOT_SECS}s" ;;
    esac

    # Crashes: Xen panics/ASSERTs/BUGs, dom0 crashing, or the dom0 kernel dying.
    local crash
    crash=$(grep -nE "$XEN_CRASH_RE" "$L" | head -n5 || true)
    if [ -n "$crash" ]; then
        fail "crash in the serial log:"; echo "$crash" | sed 's/^/      /'
    else
        pass "no Xen panic/ASSERT/FATAL, no dom0 crash"
    fi
    # Warnings do not fail the run but are worth seeing.
    grep -nE 'Xen WARN at|WARNING: CPU' "$L" | head -n3 | sed 's/^/NOTE: warning at serial line /' || true

    line=$(grep -m1 -E '\(XEN\).*Xen version 4\.17' "$L" || true)
    if [ -n "$line" ]; then pass "Xen booted: $(echo "$line" | sed 's/.*\(Xen version [^ ]*\).*/\1/')"
    else fail "no Xen version banner"; fi

    line=$(grep -m1 'Using scheduler:' "$L" || true)
    if echo "$line" | grep -q "($SCHED)\$"; then pass "Xen uses scheduler '$SCHED': ${line#*Using scheduler: }"
    elif [ -n "$line" ]; then fail "Xen did not pick sched=$SCHED, it uses ${line#*Using scheduler: }"
    else fail "no 'Using scheduler' line from Xen"; fi

    line=$(grep -m1 '^SMOKE: init started' "$L" || true)
    if [ -z "$line" ]; then fail "dom0 never reached /init"
    elif [ "$(echo "$line" | field cpus)" = 2 ]; then
        pass "dom0 reached /init with 2 VCPUs (dom0 uptime $(echo "$line" | field uptime)s)"
    else fail "dom0 reached /init but with cpus=$(echo "$line" | field cpus), expected 2"; fi

    if grep -q '^SMOKE: privcmd ok' "$L"; then pass "/dev/xen/privcmd available ($(grep -c '^SMOKE: insmod .* ok' "$L") module(s) loaded)"
    else fail "/dev/xen/privcmd missing"; fi

    local rcs
    rcs=$(grep '^schedop: yield' "$L" | sed -n 's/.* rc=\([^ ]*\).*/\1/p' | sort -u | tr '\n' ' ')
    if [ "$rcs" = "0 " ] && [ "$(grep -c '^schedop: yield' "$L")" -ge 3 ]; then
        pass "SCHEDOP_yield returns 0 ($(grep '^schedop: yield' "$L" | sed -n 's/.* calls=\([0-9]*\).*/\1/p' | awk '{s+=$1} END{print s}') calls)"
    else fail "SCHEDOP_yield: rc values '${rcs}' (want 0 from 3 invocations)"; fi

    line=$(grep -m1 '^schedop: rtsleep ' "$L" || true)
    local rc; rc=$(echo "$line" | field rc)
    if [ "$rc" = "$EXPECT_RTSLEEP_RC" ] && [ "$rc" = -38 ]; then
        pass "stock Xen rejects SCHEDOP 8 with -ENOSYS"
    elif [ "$rc" = "$EXPECT_RTSLEEP_RC" ]; then
        pass "SCHEDOP 8 (rtsleep) returned rc=$rc as expected"
    else
        fail "SCHEDOP 8 (rtsleep): got '${rc:-nothing}', want $EXPECT_RTSLEEP_RC ($(grep -m1 '^schedop: rtsleep\|schedop: cannot' "$L" || echo 'no output'))"
    fi

    # Debug key 'r' through XEN_SYSCTL_debug_keys: rc=0, the dump appears in Xen's log,
    # and the NOW= it prints (taken as the dump starts) is not earlier than the Xen
    # time schedop read just before the call, nor later than the one read after it.
    # That checks schedop's userspace Xen clock. Slack: one dom0 tick (4 ms at HZ=250),
    # because the wallclock the kernel pushes to Xen can be off by up to a tick; a
    # release run under load was seen 1.2 ms off. The rtsleep cases below keep at least
    # 4 ms from every limit they test, so such an error cannot flip their results.
    line=$(grep -m1 '^schedop: debugkeys' "$L" || true)
    if [ "$(echo "$line" | field rc)" != 0 ]; then
        fail "XEN_SYSCTL_debug_keys failed: ${line:-no output}"
    elif ! grep -q "(XEN).*Scheduler: .*($SCHED)" "$L"; then
        fail "debug key 'r' returned 0 but no run-queue dump for '$SCHED' appeared"
    else
        pass "debug key 'r' via XEN_SYSCTL_debug_keys dumped the run queues of $(grep -c '(XEN).*CPU\[[0-9]*\] current=' "$L") CPUs"
        local xnow before after
        xnow=$(grep -m1 -o '(XEN).*NOW=[0-9]*' "$L" | sed 's/.*NOW=//')
        before=$(echo "$line" | field xen_before); after=$(echo "$line" | field xen_after)
        if [ -n "$xnow" ] && [ -n "$before" ] && [ -n "$after" ] &&
           [ "$xnow" -ge $((before - 4000000)) ] && [ "$xnow" -le $((after + 4000000)) ]; then
            pass "dom0's Xen-time reading agrees with Xen: NOW=$xnow is $(( (xnow - before) / 1000 ))us after schedop's reading before the call (anchor spread $(( $(grep -m1 '^schedop: now' "$L" | field anchor_spread_ns) / 1000 ))us)"
        else
            fail "Xen time mismatch: Xen NOW=${xnow:-?}, schedop read [${before:-?}, ${after:-?}]"
        fi
    fi

    line=$(grep -m1 '^rtload: busy=' "$L" || true)
    local want=$((DURATION * 100)) got
    got=$(echo "$line" | field periods)
    if [ -n "$got" ] && [ "$got" -eq "$want" ] && grep -q '^SMOKE: rtload exit=0' "$L"; then
        pass "load ran ${DURATION}s: $(echo "$line" | field busy) busy loops, 10 ms sleeper lateness p50=$(echo "$line" | field late_p50_us)us p99=$(echo "$line" | field late_p99_us)us max=$(echo "$line" | field late_max_us)us (sleeper CPU $(echo "$line" | field sleeper_cpu_pct)%, busy CPU $(echo "$line" | field busy_cpu_s)s)"
    else
        fail "load phase incomplete: ${line:-no rtload summary} (want periods=$want)"
    fi

    [ "$SCHED" = rtcredit ] && judge_rtcredit
    judge_ctl
    [ "$TRACE" = 1 ] && judge_trace

    if grep -q '^SMOKE: done' "$L"; then pass "dom0 /init finished"
    else fail "dom0 /init did not finish"; fi
    set -eo pipefail
}

# sched=rtcredit only: the domctl, every rtsleep rule, RT served under load, the dump.
judge_rtcredit() {
    local line rc want case got
    line=$(grep -m1 '^schedop: rtcredit-dom dom=0 op=get' "$L" || true)
    if [ "$(echo "$line" | field rc)" = 0 ] && [ "$(echo "$line" | field rt_allowed)" = 0 ]; then
        pass "domctl getinfo: dom0 starts without RT (weight=$(echo "$line" | field weight))"
    else fail "domctl getinfo: ${line:-no output}"; fi
    line=$(grep -m1 '^schedop: rtcredit-dom dom=0 op=allow' "$L" || true)
    if [ "$(echo "$line" | field rc)" = 0 ] && [ "$(echo "$line" | field rt_allowed)" = 1 ]; then
        pass "domctl putinfo: dom0 allowed RT"
    else fail "domctl putinfo: ${line:-no output}"; fi
    # The result each case must give (RTCREDIT_RTSLEEP_* or -errno).
    line=$(grep -m1 '^schedop: rtcredit-sys op=get' "$L" || true)
    if [ "$(echo "$line" | field rc)" = 0 ] && [ "$(echo "$line" | field tslice_ms)" = 30 ] &&
       [ "$(echo "$line" | field rt_min_period_us)" = 1000 ]; then
        pass "sysctl getinfo: tslice 30 ms, rate limit $(echo "$line" | field ratelimit_us) us, minimum RT period 1000 us"
    else fail "sysctl getinfo: ${line:-no output}"; fi
    for want in bad-slice:-22 long-period:0 restore:0; do
        case=${want%%:*}; want=${want#*:}
        got=$(grep -m1 "^SMOKE: sys $case schedop: rtcredit-sys " "$L" | field rc)
        if [ "$got" = "$want" ]; then pass "sysctl $case -> $got"
        else fail "sysctl $case: got '${got:-nothing}', want $want"; fi
    done
    for want in valid:0 unknown-flag:-22 padding:-22 cancel:2 past:0 2ms:0 too-far:-34 \
                too-close:-34; do
        case=${want%%:*}; want=${want#*:}
        got=$(grep -m1 "^SMOKE: case $case schedop: rtsleep " "$L" | field rc)
        if [ "$got" = "$want" ]; then pass "rtsleep $case -> $got"
        else fail "rtsleep $case: got '${got:-nothing}', want $want"; fi
    done
    line=$(grep -m1 '^schedop: rtsleep-loop' "$L" || true)
    local calls granted errors
    calls=$(echo "$line" | field calls); granted=$(echo "$line" | field granted)
    errors=$(echo "$line" | field errors)
    # dom0's VCPUs run busy loops; an RT grant runs at RT until the loop's next
    # rtsleep or the 0.5 ms RT quantum, so dom0 seldom spends its RT CPU budget (10% of
    # a CPU per second by default): most requests are granted, the rest degrade.
    # A request is -ERANGE only if it comes less than the minimum period (1 ms) after
    # the last deadline, which a 10 ms loop cannot do; the count is kept as too_late.
    local degraded too_late
    degraded=$(echo "$line" | field degraded); too_late=$(echo "$line" | field too_late)
    if [ -n "$calls" ] && [ "$errors" = 0 ] && [ "$granted" -ge 1 ] &&
       [ $((granted + degraded + too_late)) -eq "$calls" ]; then
        pass "rtsleep loop under load: $calls requests, $granted granted RT, $degraded degraded by the RT budget, $too_late too late (-ERANGE), 0 errors"
    else fail "rtsleep loop: ${line:-no output}"; fi
    # The 'r' dump lists dom0's units with priority and credit, and counts RT fires.
    local fires
    fires=$(grep -o 'd0v[0-9]* prio=[A-Z]* credit=-\{0,1\}[0-9]*.* rt_fires=[0-9]*' "$L" |
            sed 's/.*rt_fires=//' | awk '{s+=$1} END{print s+0}')
    if grep -q 'd0v[0-9]* prio=[A-Z]* credit=' "$L" && [ "$fires" -gt 0 ]; then
        pass "run-queue dump shows dom0's units with priority and credit, $fires RT fires"
    else fail "run-queue dump: no unit lines or no RT fires (fires=$fires)"; fi
}

# rtcredit-ctl in dom0: what "ctl NAME ..." printed (without the prefix), its exit
# status, and the number after "KEY": in its JSON output.
ctl_out() { grep "^SMOKE: ctl $1| " "$L" | sed "s/^SMOKE: ctl $1| //"; }
ctl_rc() { grep -m1 "^SMOKE: ctl $1 rc=" "$L" | sed 's/.* rc=//'; }
ctl_json() { ctl_out "$1" | sed -n "s/.*\"$2\": \([0-9]*\).*/\1/p" | head -n1; }
# PASS when "ctl NAME" exited with RC and printed a line matching the ERE PATTERN.
ctl_expect() {
    local name=$1 rc=$2 pattern=$3 what=$4
    if [ "$(ctl_rc "$name")" = "$rc" ] && ctl_out "$name" | grep -qE -- "$pattern"; then
        pass "rtcredit-ctl $what: $(ctl_out "$name" | grep -m1 -E -- "$pattern" | sed 's/^ *//')"
    else
        fail "rtcredit-ctl $what: rc=$(ctl_rc "$name") (want $rc), output: $(ctl_out "$name" | head -n 4 | tr '\n' '|')"
    fi
}

judge_ctl() {
    if [ "$SCHED" != rtcredit ]; then
        ctl_expect not-rtcredit 1 "running Xen scheduler is $SCHED \(XEN_SCHEDULER id [0-9]+\), not rtcredit" \
            "refuses another scheduler"
        return
    fi
    local line before after
    line=$(grep -m1 '^SMOKE: xenstore socket=' "$L" || true)
    if [ "$(echo "$line" | field socket)" = up ] && [ "$(echo "$line" | field xen-init-dom0)" = 0 ] &&
       ctl_out dom0-show | grep -q 'xenstore: xenstored socket'; then
        pass "xenstored and xen-init-dom0 run in dom0; rtcredit-ctl reads names through xenstored's socket"
    else fail "xenstore in dom0: ${line:-no status line} $(grep -m2 '^SMOKE: xenstored says' "$L" | tr '\n' ' ')"; fi
    # Columns: slice, rate limit, min period, max lead, then the RT capacity: % per
    # CPU, CPUs, capacity, granted (dom0's 10%), left.
    ctl_expect sched-get 0 '^Pool-0 +rtcredit +30 +1000 +1000 +10000 +50 +2 +100 +10 +90$' \
        "sched reads the globals and the pool's RT capacity (2 CPUs x 50%, dom0's 10% granted)"
    ctl_expect sched-set 0 '^Pool-0 +rtcredit +20 +500 +1000 +10000 +50 ' "sched --slice-ms 20 --ratelimit-us 500 sets them"
    if [ "$(ctl_json sched-json slice_ms)" = 20 ] && [ "$(ctl_json sched-json ratelimit_us)" = 500 ]; then
        pass "rtcredit-ctl sched --json reads them back: slice_ms 20, ratelimit_us 500"
    else fail "rtcredit-ctl sched --json: $(ctl_out sched-json | tr -d '\n')"; fi
    ctl_expect sched-restore 0 '^Pool-0 +rtcredit +30 +1000 +1000 +10000 +50 ' "sched restores them"
    ctl_expect dom0-show 0 '^Domain-0 +0 +[0-9]+ +[0-9]+ +allow ' "dom 0 shows dom0 by its xenstore name"
    ctl_expect deny 0 '^Domain-0 \(id 0\): rt allow -> deny$' "dom 0 --rt deny"
    line=$(grep -m1 '^SMOKE: ctl-case denied schedop: rtsleep ' "$L" | field rc)
    if [ "$line" = -1 ]; then pass "after --rt deny, SCHEDOP_rtsleep -> -1 (-EPERM)"
    else fail "after --rt deny, SCHEDOP_rtsleep: got '${line:-nothing}', want -1"; fi
    ctl_expect allow 0 '^Domain-0 \(id 0\): rt deny -> allow$' "dom Domain-0 --rt allow"
    line=$(grep -m1 '^SMOKE: ctl-case allowed schedop: rtsleep ' "$L" | field rc)
    if [ "$line" = 0 ]; then pass "after --rt allow, SCHEDOP_rtsleep -> 0 (granted)"
    else fail "after --rt allow, SCHEDOP_rtsleep: got '${line:-nothing}', want 0"; fi
    local gb ga db da
    gb=$(ctl_json dom0-json-before rt_granted); ga=$(ctl_json dom0-json-after rt_granted)
    db=$(ctl_json dom0-json-before rt_denied); da=$(ctl_json dom0-json-after rt_denied)
    if [ -n "$gb" ] && [ -n "$ga" ] && [ "$ga" -gt "$gb" ] && [ -n "$db" ] && [ -n "$da" ] && [ "$da" -gt "$db" ]; then
        pass "dom 0 --json counters rise: rt_granted $gb -> $ga, rt_denied $db -> $da"
    else fail "dom 0 --json counters: rt_granted '$gb' -> '$ga', rt_denied '$db' -> '$da'"; fi
    ctl_expect apply-dry 0 '^would change Domain-0 \(id 0, rule "Domain-\*" at line 6\): weight 256 -> 512, rt_budget_pct 10 -> 20$' \
        "apply --dry-run prints the diff"
    ctl_expect apply-1 0 '^applied 1 change' "apply changes what the policy says"
    ctl_expect apply-2 0 '^nothing to do: the system matches /tmp/policy.toml$' "apply again is a no-op"
    if grep -q '^SMOKE: ctl watch| watching @introduceDomain' "$L" &&
       grep -q '^SMOKE: ctl watch| nothing to do' "$L" && ! grep -q '^SMOKE: ctl watch| .*error' "$L"; then
        pass "rtcredit-ctl watch registers on @introduceDomain and applies (stopped by timeout, exit $(grep -m1 '^SMOKE: ctl watch exit=' "$L" | sed 's/.*=//'))"
    else fail "rtcredit-ctl watch: $(ctl_out watch | head -n 3 | tr '\n' '|')"; fi
    ctl_expect bad-weight 1 'weight = 0 is out of range: weight must be in 1\.\.=65535' "refuses a bad value"
    ctl_expect unknown-dom 1 "unknown domain 'no-such-domain'" "refuses an unknown domain"
    ctl_expect bad-policy 1 '^rtcredit-ctl: error: /tmp/bad.toml:3:17: rt_budget_pct = 150 is out of range' \
        "refuses a bad policy with file:line"
    ctl_expect cap-lower 0 '^Pool-0 +rtcredit +30 +1000 +1000 +10000 +15 +2 +30 +20 +10$' \
        "sched --rt-capacity-pct 15: capacity 30% of one CPU, 20% granted, 10% left"
    ctl_expect cap-over 1 "Domain-0 \(id 0\): RT budget of 40% refused: the cpupool's remaining RT capacity is 10% of one CPU \(capacity 30%, 20% granted\)" \
        "refuses a grant over the pool's RT capacity (Xen: -ENOSPC with the pool's numbers)"
    ctl_expect cap-within 0 '^Domain-0 \(id 0\): rt_budget_pct 20 -> 30$' "a grant within the capacity (exactly all of it) succeeds"
    ctl_expect cap-below 1 "rt_capacity_pct = 10 refused: the cpupool's 2 CPU\(s\) would have an RT capacity of 20% of one CPU, below the 30% already granted" \
        "refuses a capacity below what is granted (Xen: -EBUSY)"
    ctl_expect cap-restore 0 '^Pool-0 +rtcredit +30 +1000 +1000 +10000 +50 +2 +100 +20 +80$' "budget and capacity restored"
    local rt fires
    rt=$(ctl_json dom0-json-final rt); fires=$(ctl_json dom0-json-final rt_fires)
    if [ "$(ctl_rc dom-final)" = 0 ] && [ -n "$rt" ] && [ "$rt" -gt 0 ] && [ -n "$fires" ] && [ "$fires" -gt 0 ]; then
        pass "after the load, dom0 ran $((rt / 1000000)) ms at RT with $fires RT fires (rtcredit-ctl dom, sched below)"
        ctl_out dom-final | sed 's/^/      /'
        ctl_out sched-final | sed 's/^/      /'
    else fail "rtcredit-ctl after the load: rc=$(ctl_rc dom-final) rt_ns='$rt' rt_fires='$fires'"; fi
}

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
    if [ "$REJUDGE" = 1 ]; then
        [ -f "$LOG" ] && [ -f "$RUN/qemu-status" ] || die "no previous run in $RUN"
        read -r QEMU_RC BOOT_SECS < "$RUN/qemu-status"
        tr -d '\r' < "$LOG" > "$RUN/serial.txt"
        [ "$TRACE" = 1 ] && build_monitor
        echo "serial log: $LOG"
        judge
        [ "$FAILS" -eq 0 ] || { echo "RESULT: $FAILS check(s) failed"; exit 1; }
        echo "RESULT: all checks passed"
        return 0
    fi
    ensure_pkgs qemu-system-x86 busybox-static cpio gcc libc6-dev
    [ "$TRACE" = 1 ] && ensure_pkgs jq
    mkdir -p "$SMOKE" "$RUN"
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
    judge
    echo "elapsed: $((SECONDS - T0))s total, QEMU ${BOOT_SECS}s"
    if [ "$FAILS" -gt 0 ]; then
        echo "RESULT: $FAILS check(s) failed (sched=$SCHED, $VARIANT)"
        exit 1
    fi
    echo "RESULT: all checks passed (sched=$SCHED, $VARIANT)"
}

main
