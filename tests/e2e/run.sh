#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The paper's experiment on a real Xen under QEMU (TCG, one pCPU): for each scheduler,
# boot Xen with a PV dom0 running the xl toolstack, create three CPU-hog domUs and, for
# each hog configuration, boot a measuring domU that runs `rtsleep bench` (10 ms
# period by default) once with plain sleeps and once through /dev/rtsleep. Then build
# the report.
#
#   tests/e2e/run.sh [--sched LIST] [--loops N | --paper | --soak MINUTES] [--configs LIST]
#                    [--period US] [--workload W] [--boots K] [--jobs N] [--out DIR] [--trace-secs S] [--trace-config C]
#                    [--timeout S] [--clock icount|host] [--shift N] [--guest-kernel ours|debian]
#                    [--pin-bench CPU] [--trace-mask MASK] [--rtc-tick HZ|off] [--rtc-base DATE|now]
#                    [--domu-args WORDS]
#                    [--report-only] [--verbose]
#
#   --sched LIST     comma-separated schedulers (default credit,credit2,rtcredit; rtds too)
#   --loops N        periods per measuring run (default 1000; the paper: 3000)
#   --paper          --loops 3000
#   --soak MINUTES   runs of MINUTES each (loops = MINUTES x 60 s / period; 1..600)
#   --configs LIST   comma-separated hog configurations (default alone,0,10,20,30):
#                    alone = hogs paused, 0 = uncapped, N = three hogs each capped at N% of
#                    the CPU, mixed = uncapped hogs and, inside the measuring domU, a CPU
#                    burner at nice 19 beside the periodic task at SCHED_FIFO 50 (mixed
#                    work), seven = seven uncapped hogs, 2cpu = two pCPUs, a 2-VCPU
#                    measuring domain and six uncapped hogs (a boot of its own), 2vcpu =
#                    one pCPU, a 2-VCPU measuring domain and three uncapped hogs (the
#                    2-VCPU guest without QEMU's round-robin of two emulated CPUs). Each may
#                    end in @US, its own period (e.g. mixed@2500); without, --period's.
#   --period US      the measuring task's period in microseconds (default 10000; 1000..100000)
#   --workload W     what the measuring domU runs: bench (`rtsleep bench`, default) or
#                    threads (guest/rtworker.c: a SCHED_FIFO worker on absolute deadlines
#                    beside a housekeeping thread, unwrapped in the plain run and under
#                    `rtsleep run` in the rtsleep run; the worker's lateness is reported)
#   --boots K        boot each scheduler K times (default 1); under icount boot k starts
#                    its RTC k-1 seconds after --rtc-base, so that the boots differ
#   --jobs N         run up to N boots at once (default 1; 1..8): icount keeps each boot's
#                    figures, only the wall time is shared
#   --out DIR        results directory (default results/e2e, relative to the repo root)
#   --trace-secs S   xentrace capture of an extra short run per scheduler (default 4; 0: none)
#   --trace-config C the hog configuration of that run (default 20; any configuration,
#                    2cpu included: the run then belongs to the two-pCPU boot)
#   --trace-mask M   xentrace's event mask for that run (default 0x0002f000, the
#                    scheduler's class; 0x0022f000 adds the PV class: every hypercall,
#                    trap and emulated instruction of the guests, for a short capture)
#   --timeout S      kill a QEMU boot after S seconds (default: from the run length)
#   --clock MODE     QEMU's clock: icount (default: guest time advances per emulated
#                    instruction, independent of the host's load) or host (the old
#                    mode, emulated timers late by 2-10 ms on a busy host); see
#                    hypervisor/xen/lib-initramfs.sh
#   --shift N        icount's shift: 2^N ns per instruction (default 2: 250 M/s)
#   --guest-kernel K the measuring domU's kernel: ours (default: the Linux 7.2 tinyconfig
#                    kernel of guest-kmod/build-kernel.sh, rtsleep.ko of build.sh) or
#                    debian (Debian's cloud kernel and the module DKMS built for it, from
#                    guest-kmod/build-distro.sh, which must have run; 256 MiB instead
#                    of 96). The hogs always boot ours.
#   --pin-bench CPU  run the measured program pinned to the measuring domU's CPU CPU
#                    (busybox taskset; 1 only when every configuration is 2cpu), e.g.
#                    to tell the guest's own task placement from the scheduler's
#   --rtc-tick HZ    dom0 starts the emulated RTC's periodic timer at HZ (a power of two,
#                    2..8192; default off) on QEMU's virtual clock (-rtc clock=vm). Under
#                    icount QEMU runs the emulated CPUs in turn, each up to the time to the
#                    next timer deadline over the number of CPUs; a timer no scheduler owns
#                    bounds every turn alike (8192: 61 us on two pCPUs). Its interrupt
#                    reaches nobody (dom0 unbinds rtc_cmos first; see dom0/rtc-tick.c)
#   --rtc-base DATE  under icount, the emulated RTC's start (YYYY-MM-DD[THH:MM:SS], UTC;
#                    default 2026-01-01T00:00:00, the QEMU_RTC_BASE of
#                    hypervisor/xen/lib-initramfs.sh): boots with the same base, build and
#                    flags run the same instructions (--boots K samples K dates from it);
#                    "now" starts from the host's date,
#                    so that each boot differs (the behaviour before this flag)
#   --domu-args WORDS  extra kernel parameters for every measuring domU, space-separated
#                    key[=value] words (letters, digits and _ . = : / -), e.g. "idle=halt
#                    nohz=off", to test a guest-side explanation of a result
#   --report-only    do not boot: rebuild the report from DIR/raw
#   --notes FILE     markdown appended to summary.md (the explanation of a committed run)
#   --no-build       use the cached Xen, toolstack and rtsleep.ko as they are (no
#                    build.sh / build-tools.sh / guest-kmod/build.sh), e.g. while they change
#   --verbose        stream the serial console
#
# Needs (installed or built by this script, all cached under .cache/, git-ignored):
# Xen (hypervisor/xen/build.sh), the patched toolstack (hypervisor/xen/build-tools.sh),
# Debian's linux-image-6.1 as dom0 (as hypervisor/xen/smoke.sh), the Linux 7.2 guest
# kernel and rtsleep.ko (guest-kmod/build-kernel.sh, build.sh), static `rtsleep`,
# rtcredit-ctl. Serial logs land in DIR/raw/, the report (summary.md, summary.json,
# SVG plots, traces) in DIR/. See tests/e2e/README.md.
set -euo pipefail
shopt -s inherit_errexit
ARGS="$*"

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
CACHE=$REPO/.cache
WORK=$CACHE/e2e

SCHEDS=credit,credit2,rtcredit
LOOPS=1000
CONFIGS=alone,0,10,20,30
PERIOD_US=10000
WORKLOAD=bench
BOOTS=1
OUT=results/e2e
TRACE_SECS=4
TIMEOUT=
REPORT_ONLY=0
NO_BUILD=0
NOTES=
VERBOSE=0
CLOCK=icount
SHIFT=
SOAK=
TRACE_CONFIG=20
JOBS=1
GUEST_KERNEL=ours
PIN_BENCH=none
TRACE_MASK=0x0002f000
RTC_TICK=off
DOMU_ARGS=
while [ $# -gt 0 ]; do
    case $1 in
        --sched) SCHEDS=${2:?--sched needs a list}; shift ;;
        --loops) LOOPS=${2:?--loops needs a number}; shift ;;
        --paper) LOOPS=3000 ;;
        --configs) CONFIGS=${2:?--configs needs a list}; shift ;;
        --period) PERIOD_US=${2:?--period needs microseconds}; shift ;;
        --workload) WORKLOAD=${2:?--workload needs bench or threads}; shift ;;
        --boots) BOOTS=${2:?--boots needs a number}; shift ;;
        --out) OUT=${2:?--out needs a directory}; shift ;;
        --trace-secs) TRACE_SECS=${2:?}; shift ;;
        --timeout) TIMEOUT=${2:?}; shift ;;
        --report-only) REPORT_ONLY=1 ;;
        --no-build) NO_BUILD=1 ;;
        --notes) NOTES=${2:?--notes needs a file}; shift ;;
        --clock) CLOCK=${2:?--clock needs icount or host}; shift ;;
        --shift) SHIFT=${2:?--shift needs a number}; shift ;;
        --verbose) VERBOSE=1 ;;
        --jobs) JOBS=${2:?--jobs needs a number}; shift ;;
        --soak) SOAK=${2:?--soak needs minutes}; shift ;;
        --trace-config) TRACE_CONFIG=${2:?--trace-config needs a configuration}; shift ;;
        --guest-kernel) GUEST_KERNEL=${2:?--guest-kernel needs ours or debian}; shift ;;
        --pin-bench) PIN_BENCH=${2:?--pin-bench needs a guest CPU}; shift ;;
        --trace-mask) TRACE_MASK=${2:?--trace-mask needs a hex mask}; shift ;;
        --rtc-tick) RTC_TICK=${2:?--rtc-tick needs a rate in Hz or off}; shift ;;
        --rtc-base) QEMU_RTC_BASE=${2:?--rtc-base needs a date or now}; shift ;;
        --domu-args) DOMU_ARGS=${2?--domu-args needs kernel parameters}; shift ;;
        -h|--help) sed -n '2,/^# Needs/p' "$0" | sed '$d'; exit 0 ;;
        *) echo "run.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

log() { echo "[e2e $(date -u +%H:%M:%S)] $*" >&2; }
die() { echo "[e2e] ERROR: $*" >&2; exit 1; }

# Bad input is refused before anything is built.
[[ $PERIOD_US =~ ^[0-9]+$ ]] && [ "$PERIOD_US" -ge 1000 ] && [ "$PERIOD_US" -le 100000 ] ||
    die "--period must be microseconds in 1000..100000 (got '$PERIOD_US')"
if [ -n "$SOAK" ]; then
    [[ $SOAK =~ ^[0-9]+$ ]] && [ "$SOAK" -ge 1 ] && [ "$SOAK" -le 600 ] ||
        die "--soak must be minutes in 1..600 (got '$SOAK')"
    LOOPS=$((SOAK * 60000000 / PERIOD_US))
fi
[[ $LOOPS =~ ^[0-9]+$ ]] && [ "$LOOPS" -ge 50 ] && [ "$LOOPS" -le 36000000 ] ||
    die "--loops must be a whole number in 50..36000000 (got '$LOOPS')"
[[ $JOBS =~ ^[0-9]+$ ]] && [ "$JOBS" -ge 1 ] && [ "$JOBS" -le 8 ] || die "--jobs must be in 1..8 (got '$JOBS')"
[[ $BOOTS =~ ^[0-9]+$ ]] && [ "$BOOTS" -ge 1 ] && [ "$BOOTS" -le 20 ] ||
    die "--boots must be in 1..20 (got '$BOOTS')"
[[ $TRACE_SECS =~ ^[0-9]+$ ]] && [ "$TRACE_SECS" -le 30 ] || die "--trace-secs must be in 0..30 (got '$TRACE_SECS')"
for s in ${SCHEDS//,/ }; do
    case $s in credit|credit2|rtds|rtcredit) ;; *) die "--sched: unknown scheduler '$s' (credit, credit2, rtds, rtcredit)" ;; esac
done
# config_ok NAME: one of the hog configurations (without @US).
config_ok() {
    case $1 in alone|mixed|seven|2cpu|2vcpu) return 0 ;; esac
    [[ $1 =~ ^[0-9]+$ ]] && [ "$1" -le 100 ]
}
CONFIGS_1CPU= CONFIGS_2CPU= HOGS_1CPU=3
for c in ${CONFIGS//,/ }; do
    name=${c%@*}
    config_ok "$name" || die "--configs: '$name' is none of 'alone', 'mixed', 'seven', '2cpu', '2vcpu' or a cap in 0..100"
    if [ "$name" != "$c" ]; then
        p=${c#*@}
        [[ $p =~ ^[0-9]+$ ]] && [ "$p" -ge 1000 ] && [ "$p" -le 100000 ] ||
            die "--configs: '$c': the period after @ must be microseconds in 1000..100000"
    fi
    case $name in
        2cpu) CONFIGS_2CPU+=${CONFIGS_2CPU:+,}$c ;;
        seven) HOGS_1CPU=7; CONFIGS_1CPU+=${CONFIGS_1CPU:+,}$c ;;
        *) CONFIGS_1CPU+=${CONFIGS_1CPU:+,}$c ;;
    esac
done
config_ok "$TRACE_CONFIG" ||
    die "--trace-config: '$TRACE_CONFIG' is not a configuration (alone, 0, a cap, mixed, seven, 2cpu, 2vcpu)"
[ "$TRACE_CONFIG" = seven ] && HOGS_1CPU=7
[ -n "$TIMEOUT" ] && { [[ $TIMEOUT =~ ^[0-9]+$ ]] || die "--timeout must be seconds (got '$TIMEOUT')"; }
case $WORKLOAD in bench|threads) ;; *) die "--workload: '$WORKLOAD' is neither 'bench' nor 'threads'" ;; esac
case $GUEST_KERNEL in ours|debian) ;; *) die "--guest-kernel: '$GUEST_KERNEL' is neither 'ours' nor 'debian'" ;; esac
# The words travel on dom0's command line as one comma-joined value.
[[ $DOMU_ARGS =~ ^[A-Za-z0-9_.=:/-]+( [A-Za-z0-9_.=:/-]+)*$ || -z $DOMU_ARGS ]] ||
    die "--domu-args must be space-separated kernel parameters of letters, digits and _ . = : / - (got '$DOMU_ARGS')"
[[ $TRACE_MASK =~ ^0x[0-9a-fA-F]{1,8}$ ]] || die "--trace-mask must be a hex event mask such as 0x0002f000 (got '$TRACE_MASK')"
case $PIN_BENCH in
    none|0) ;;
    1) for c in ${CONFIGS//,/ }; do
           case ${c%@*} in 2cpu|2vcpu) ;; *) die "--pin-bench 1: only the 2cpu and 2vcpu configurations' measuring domU has a CPU 1 (configurations: $CONFIGS)" ;; esac
       done
       [ "$TRACE_SECS" = 0 ] || case $TRACE_CONFIG in 2cpu|2vcpu) ;; *) die "--pin-bench 1: the traced configuration '$TRACE_CONFIG' has one VCPU (--trace-secs 0, or --trace-config 2cpu/2vcpu)" ;; esac ;;
    *) die "--pin-bench: '$PIN_BENCH' is not a guest CPU (0, or 1 with 2-VCPU configurations) nor 'none'" ;;
esac
# The RTC's rate select: HZ = 32768 >> (RATE - 1), RATE 3..15 (0: off).
RTC_RATE=0
if [ "$RTC_TICK" != off ]; then
    for r in $(seq 3 15); do [ "$RTC_TICK" = $((32768 >> (r - 1))) ] && RTC_RATE=$r; done
    [ "$RTC_RATE" != 0 ] || die "--rtc-tick must be off or a power of two in 2..8192 Hz (the RTC's rates; got '$RTC_TICK')"
fi
case $OUT in /*) ;; *) OUT=$REPO/$OUT ;; esac
if [ -n "$NOTES" ]; then
    case $NOTES in /*) ;; *) NOTES=$PWD/$NOTES ;; esac
    [ -f "$NOTES" ] || die "--notes: no file $NOTES"
fi
RAW=$OUT/raw

# shellcheck source=../../scripts/pkgs.sh
. "$REPO/scripts/pkgs.sh"
# prepare_dom0_kernel, install_dom0_modules, install_xen_toolstack, install_elf,
# cpio_gz, run_qemu
# shellcheck source=../../hypervisor/xen/lib-initramfs.sh
. "$REPO/hypervisor/xen/lib-initramfs.sh"
clock_setup

# --- builds ---------------------------------------------------------------------------
TOOLS_DIST=$XEN_TOOLS_DIST
KDIR=$CACHE/linux-7.2/linux-source-7.2

build_xen() {
    XEN_IMAGE=$CACHE/xen-build/release/xen/xen
    if [ "$NO_BUILD" = 0 ]; then
        log "Xen (hypervisor/xen/build.sh)"
        bash "$REPO/hypervisor/xen/build.sh" > /dev/null
        log "toolstack (hypervisor/xen/build-tools.sh)"
        bash "$REPO/hypervisor/xen/build-tools.sh" > /dev/null
    fi
    [ -f "$XEN_IMAGE" ] || die "no Xen image $XEN_IMAGE (run without --no-build)"
    [ -x "$TOOLS_DIST/usr/sbin/xl" ] || die "build-tools.sh did not produce $TOOLS_DIST/usr/sbin/xl"
}

# The guest kernel, its module, and the static user programs of the domUs and dom0.
build_guest() {
    [ -f "$KDIR/arch/x86/boot/bzImage" ] || {
        log "guest kernel (guest-kmod/build-kernel.sh, 12-20 min the first time)"
        bash "$REPO/guest-kmod/build-kernel.sh" >&2
    }
    if [ "$NO_BUILD" = 0 ]; then
        log "rtsleep.ko (guest-kmod/build.sh)"
        bash "$REPO/guest-kmod/build.sh" > "$WORK/kmod-build.log" 2>&1 || die "guest-kmod/build.sh failed: $WORK/kmod-build.log"
    fi
    [ -f "$REPO/guest-kmod/rtsleep.ko" ] || die "no guest-kmod/rtsleep.ko (run without --no-build)"
    measure_kernel
    log "static rtsleep, rtcredit-ctl, e2e-watch, hog"
    # The static rtsleep for the busybox-only domU (rtsleep-cli/build-guest.sh).
    RTSLEEP_BIN=$(bash "$REPO/rtsleep-cli/build-guest.sh" 2> "$WORK/build-guest.log" | awk '$1 == "rtsleep" {print $2}') ||
        die "rtsleep-cli/build-guest.sh failed: $WORK/build-guest.log"
    [ -x "$RTSLEEP_BIN" ] || die "rtsleep-cli/build-guest.sh gave no rtsleep binary ($WORK/build-guest.log)"
    RTCTL_BIN=
    case ,$SCHEDS, in
        *,rtcredit,*)
            cargo build --release --quiet -p rtcredit-config
            RTCTL_BIN=$REPO/target/release/rtcredit-ctl ;;
    esac
    gcc -O2 -static -Wall -Wextra -Werror -o "$WORK/hog" "$HERE/guest/hog.c"
    gcc -O2 -static -Wall -Wextra -Werror -o "$WORK/rtprio" "$HERE/guest/rtprio.c"
    gcc -O2 -static -Wall -Wextra -Werror -o "$WORK/rtc-tick" "$HERE/dom0/rtc-tick.c"
    # --workload threads: the dynamic rtworker, the shim beside rtsleep, and the loader and
    # libraries both need (rtsleep-cli/build-guest.sh --libs), at their own paths.
    GUEST_LIBS=
    if [ "$WORKLOAD" = threads ]; then
        gcc -O2 -Wall -Wextra -Werror -pthread -o "$WORK/rtworker" "$HERE/guest/rtworker.c"
        GUEST_LIBS=$(bash "$REPO/rtsleep-cli/build-guest.sh" --libs "$WORK/rtworker" 2>> "$WORK/build-guest.log") ||
            die "rtsleep-cli/build-guest.sh --libs failed: $WORK/build-guest.log"
    fi
    gcc -O2 -Wall -Wextra -Werror -I "$TOOLS_DIST/usr/include" -o "$WORK/e2e-watch" \
        "$HERE/dom0/e2e-watch.c" -L "$TOOLS_DIST/usr/lib" -Wl,-rpath-link,"$TOOLS_DIST/usr/lib" -lxenctrl
}

# measure_kernel: the measuring domU's kernel, module, memory and a description for the
# report (MEASURE_VMLINUZ, MEASURE_KO, MEASURE_MEM, MEASURE_KERNEL_DESC).
measure_kernel() {
    if [ "$GUEST_KERNEL" = ours ]; then
        MEASURE_VMLINUZ=$KDIR/arch/x86/boot/bzImage MEASURE_KO=$REPO/guest-kmod/rtsleep.ko MEASURE_MEM=96
        MEASURE_KERNEL_DESC="ours: Linux $(make -s -C "$KDIR" kernelversion 2>/dev/null || echo 7.2) (guest-kmod/kernel.config)"
        return
    fi
    distro_domu_kernel "$WORK/distro-ko"
    MEASURE_VMLINUZ=$DISTRO_VMLINUZ MEASURE_KO=$DISTRO_KO
    MEASURE_MEM=256
    MEASURE_KERNEL_DESC="debian: $DISTRO_KVER (linux-image-cloud-amd64, module built by DKMS)"
}

build_images() {
    local g=$WORK/guest-root h=$WORK/hog-root d=$WORK/dom0-root
    rm -rf "$h"
    # Measuring domU: busybox, the module, static rtsleep.
    busybox_root "$g" proc sys tmp
    cp "$RTSLEEP_BIN" "$g/bin/rtsleep"
    cp "$WORK/hog" "$g/bin/hog"
    cp "$WORK/rtprio" "$g/bin/rtprio"
    cp "$MEASURE_KO" "$g/rtsleep.ko"
    install -m 755 "$REPO/guest-kmod/test/settle.sh" "$g/bin/settle"
    if [ -n "$GUEST_LIBS" ]; then
        cp "$WORK/rtworker" "$g/bin/rtworker"
        local name path
        while read -r name path; do
            case $name in
                lib) mkdir -p "$g$(dirname "$path")"; cp -L "$path" "$g$path" ;;
                librtsleep_preload.so) cp "$path" "$g/bin/$name" ;;
            esac
        done <<< "$GUEST_LIBS"
    fi
    install -m 755 "$HERE/guest/measure-init.sh" "$g/init"
    cpio_gz "$g" "$WORK/measure.cpio.gz"
    # Hog domU: just the static hog as /init.
    mkdir -p "$h/dev"
    cp "$WORK/hog" "$h/init"
    mknod -m 600 "$h/dev/console" c 5 1
    cpio_gz "$h" "$WORK/hog.cpio.gz"
    # dom0: busybox, the toolstack with its libraries, modules, the domU images.
    busybox_root "$d" proc sys tmp run var/log boot etc/xen
    install_dom0_modules "$d" "${XEN_DOM0_MODULES[@]}"
    install_xen_toolstack "$d"
    [ -n "$RTCTL_BIN" ] && install_elf "$d" "$RTCTL_BIN" usr/sbin/rtcredit-ctl "$TOOLS_DIST/usr/lib"
    install_elf "$d" "$WORK/e2e-watch" usr/sbin/e2e-watch "$TOOLS_DIST/usr/lib"
    install -D -m 755 "$WORK/rtc-tick" "$d/usr/sbin/rtc-tick"
    cp "$KDIR/arch/x86/boot/bzImage" "$d/boot/domU-kernel"
    if [ "$GUEST_KERNEL" = ours ]; then
        ln -s domU-kernel "$d/boot/measure-kernel"
    else
        cp "$MEASURE_VMLINUZ" "$d/boot/measure-kernel"
    fi
    cp "$WORK/measure.cpio.gz" "$WORK/hog.cpio.gz" "$d/boot/"
    cp "$HERE/dom0/hog.cfg" "$d/etc/xen/"
    sed "s/^memory = .*/memory = $MEASURE_MEM/" "$HERE/dom0/measure.cfg" > "$d/etc/xen/measure.cfg"
    install -m 755 "$HERE/dom0/init.sh" "$d/init"
    cpio_gz "$d" "$WORK/dom0.cpio.gz"
    log "images: dom0 $(du -h "$WORK/dom0.cpio.gz" | cut -f1), measuring domU $(du -h "$WORK/measure.cpio.gz" | cut -f1)"
}

# --- one boot -------------------------------------------------------------------------
boot() {
    local sched=$1 tag=$2 list=$3 pcpus=$4 hogs=$5 serial=$RAW/$2.log timeout=$TIMEOUT
    local configs=${list//,/+} nconf runs trace=$TRACE_SECS
    nconf=$(echo "${list//,/ }" | wc -w)
    runs=$((2 * nconf))
    # The traced run belongs to the boot of its configuration: the two-pCPU boot's
    # for 2cpu, the one-pCPU boot's for every other.
    if [ "$TRACE_CONFIG" = 2cpu ]; then [ "$pcpus" = 2 ] || trace=0; else [ "$pcpus" = 1 ] || trace=0; fi
    # Boot and hogs ~3 min, each run: the loop (at most 100 ms a period) plus ~1.5 min
    # of domU boot and teardown; threads: each rtsleep run holds a second loop
    # (rtsleep run --all, for comparison).
    local loops_per_run=$LOOPS
    [ "$WORKLOAD" = threads ] && loops_per_run=$((LOOPS * 3 / 2))
    # Debian's kernel boots 14 s of emulated time to our 2 s and settles (the crypto
    # self-tests) before each run: on a loaded host ~2.5 min of wall time per run.
    local per_run=90
    [ "$GUEST_KERNEL" = debian ] && per_run=210
    [ -n "$timeout" ] || timeout=$((300 + runs * (loops_per_run / 10 + per_run) + trace * 20))
    local xen_words="dom0_mem=384M,max:384M dom0_max_vcpus=1 sched=$sched"
    # No tbuf_size here: Xen would allocate the trace buffers at boot and trace every
    # event from then on (alloc_trace_bufs sets tb_init_done, with the mask TRC_ALL),
    # through every measured run of the boot; dom0's xentrace allocates them (-S) when
    # the traced run starts and stops tracing when it ends.
    local dom0_cmdline="quiet loglevel=3 e2e_sched=$sched e2e_loops=$LOOPS"
    dom0_cmdline+=" e2e_period_us=$PERIOD_US e2e_workload=$WORKLOAD e2e_pin=$PIN_BENCH e2e_trace_mask=$TRACE_MASK"
    dom0_cmdline+=" e2e_configs=$configs e2e_hogs=$hogs e2e_trace=$trace e2e_trace_config=$TRACE_CONFIG"
    dom0_cmdline+=" e2e_rtc_rate=$RTC_RATE"
    # Joined with '+' (which the words may not hold): a comma would end dom0's module
    # in QEMU's -initrd list.
    if [ -n "$DOMU_ARGS" ]; then dom0_cmdline+=" e2e_domu_args=${DOMU_ARGS// /+}"; fi
    local rtc=() qemu
    # Under icount the RTC already runs on the virtual clock (clock_qemu_args).
    [ "$RTC_RATE" = 0 ] || [ "$CLOCK" = icount ] || rtc=(-rtc clock=vm)
    xen_qemu_argv qemu "$CLOCK" "$SHIFT" "$XEN_IMAGE" "$xen_words" "$DOM0_VMLINUZ" "$dom0_cmdline" \
        "$WORK/dom0.cpio.gz" -cpu qemu64 -m 1280 -smp "$pcpus" "${rtc[@]}"
    echo "${qemu[*]}" > "$RAW/$tag.qemu-cmdline"
    log "boot $tag: sched=$sched, $pcpus pCPU(s), $hogs hogs, $runs runs of $LOOPS periods, $(clock_describe "$CLOCK" "$SHIFT"), timeout ${timeout}s, serial $serial"
    local t=$SECONDS rc=0
    run_qemu "$serial" "$timeout" "$VERBOSE" "${qemu[@]}" || rc=$?
    log "boot $tag: QEMU exit $rc after $((SECONDS - t))s"
    echo "qemu_exit=$rc seconds=$((SECONDS - t))" > "$RAW/$tag.status"
    grep -a 'E2E-FATAL' "$serial" >&2 && return 1
    [ "$rc" = 0 ] || return 1
}

# Up to --jobs boots at once (icount keeps their figures; only wall time is shared).
declare -A RUNNING=()
failed=0
reap_boot() {
    local pid rc=0
    wait -n -p pid "${!RUNNING[@]}" || rc=$?
    [ "$rc" = 0 ] || { failed=$((failed + 1)); log "boot ${RUNNING[$pid]} failed (see $RAW/${RUNNING[$pid]}.log)"; }
    unset "RUNNING[$pid]"
}
start_boot() {
    while [ "${#RUNNING[@]}" -ge "$JOBS" ]; do reap_boot; done
    boot "$@" &
    RUNNING[$!]=$2
}

main() {
    local t0=$SECONDS
    mkdir -p "$WORK" "$RAW"
    if [ "$REPORT_ONLY" = 0 ]; then
        ensure_pkgs qemu-system-x86 busybox-static cpio gcc libc6-dev xz-utils zstd
        exec 9> "$WORK/.lock"
        flock -n 9 || die "another run.sh is preparing or running ($WORK/.lock)"
        build_xen
        prepare_dom0_kernel
        build_guest
        build_images
        log "prepared in $((SECONDS - t0))s"
        local qemu_version
        qemu_version=$(qemu-system-x86_64 --version | head -n1 | awk '{print $4}')
        cat > "$RAW/run.json" <<JSON
{"date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)", "loops": $LOOPS, "soak_minutes": ${SOAK:-null}, "trace_config": "$TRACE_CONFIG", "period_us": $PERIOD_US, "configs": "$CONFIGS", "boots": $BOOTS, "workload": "$WORKLOAD",
 "schedulers": "$SCHEDS", "machine": "$(nproc) host cores, $(awk '/MemTotal/ {printf "%d MiB", $2/1024}' /proc/meminfo), QEMU $qemu_version TCG, $(clock_describe "$CLOCK" "$SHIFT")$([ "$RTC_RATE" = 0 ] || echo ", RTC tick $RTC_TICK Hz"), one pCPU (2cpu: two)",
 "clock": "$CLOCK", "icount_shift": $([ "$CLOCK" = icount ] && echo "$SHIFT" || echo null), "rtc_base": $([ "$CLOCK" = icount ] && echo "\"$QEMU_RTC_BASE\"" || echo null), "qemu_version": "$qemu_version", "rtc_tick_hz": $([ "$RTC_RATE" = 0 ] && echo null || echo "$RTC_TICK"),
 "guest_kernel": "$MEASURE_KERNEL_DESC",
 "commit": "$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)", "command_args": "$ARGS"}
JSON
        local b s base=$QEMU_RTC_BASE
        for b in $(seq 1 "$BOOTS"); do
            # Boot b's RTC starts b-1 seconds after --rtc-base, so that K boots sample K
            # start dates (two boots from one date would be identical); every
            # scheduler's boot b from the same date. (Until 2026-12-04 this added b-1 to
            # the previous boot's date: boots 1-4 started at +0, +1, +3, +6 s.)
            QEMU_RTC_BASE=$(rtc_base_plus "$base" $((b - 1)))
            for s in ${SCHEDS//,/ }; do
                # One-pCPU configurations in one boot, two-pCPU ones in another.
                [ -n "$CONFIGS_1CPU" ] && start_boot "$s" "$s-b$b" "$CONFIGS_1CPU" 1 "$HOGS_1CPU"
                [ -n "$CONFIGS_2CPU" ] && start_boot "$s" "$s-b$b-2cpu" "$CONFIGS_2CPU" 2 6
            done
        done
        while [ "${#RUNNING[@]}" -gt 0 ]; do reap_boot; done
        QEMU_RTC_BASE=$base
    fi
    log "report"
    local notes=()
    [ -n "$NOTES" ] && notes=(--notes "$NOTES")
    cargo run --release --quiet -p rtcredit-e2e -- --raw "$RAW" --out "$OUT" --scenario "$HERE/scenario.toml" "${notes[@]}"
    log "done in $((SECONDS - t0))s: $OUT/summary.md"
    [ "$failed" = 0 ] || die "$failed boot(s) failed"
}

main
