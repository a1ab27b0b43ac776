#!/usr/bin/env bash
# What a new user sees: clone the current commit into an empty directory and run the
# README's two commands there (the main job and the tests), with an empty .cache/.
#
#   scripts/fresh-check.sh [--heavy] [--keep] [--dir DIR]
#
#   --heavy   also the heavy builds and QEMU runs, each from nothing: the Xen build
#             (release and --debug), the traced smoke run under sched=rtcredit, the
#             guest kernel and module build, and the module's QEMU test as dom0 of
#             our Xen (about an hour on 2 cores)
#   --keep    keep the clone afterwards (default: removed when every step passed)
#   --dir D   clone into D (must not exist) instead of a new directory under /tmp
#
# Prints one line per step, "STEP name ... PASS|FAIL (N s)", and a summary; each
# step's output goes to LOGS/NAME.log in the clone's parent directory. A failing
# step's last lines are shown; steps that need it are skipped. Exits 1 if any step
# failed. Only committed work is checked: uncommitted changes are not in the clone.
set -euo pipefail

HEAVY=0
KEEP=0
DIR=
while [ $# -gt 0 ]; do
    case $1 in
        --heavy) HEAVY=1 ;;
        --keep) KEEP=1 ;;
        --dir) DIR=${2:?--dir needs a directory}; shift ;;
        -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
        *) echo "fresh-check.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

REPO=$(cd "$(dirname "$0")/.." && pwd)
COMMIT=$(git -C "$REPO" rev-parse HEAD)
if [ -n "$(git -C "$REPO" status --porcelain --untracked-files=no)" ]; then
    echo "fresh-check: note: the work tree has uncommitted changes; checking $COMMIT as committed" >&2
fi
if [ -z "$DIR" ]; then
    TOP=$(mktemp -d /tmp/rtcredit-fresh.XXXXXX)
    DIR=$TOP/repo
else
    [ ! -e "$DIR" ] || { echo "fresh-check: $DIR already exists" >&2; exit 2; }
    mkdir -p "$(dirname "$DIR")"
    TOP=$(cd "$(dirname "$DIR")" && pwd)
    DIR=$TOP/$(basename "$DIR")
fi
LOGS=$TOP/logs
mkdir -p "$LOGS"

git clone -q --no-local "$REPO" "$DIR"
git -C "$DIR" checkout -q "$COMMIT"
echo "fresh-check: commit $(git -C "$DIR" log -1 --format='%h %s') in $DIR"
echo "fresh-check: $(date -u +%FT%TZ), $(nproc) cores, rustc on PATH: $(rustc --version 2>/dev/null || echo none)," \
     "Debian's rustc-web: $(dpkg-query -W -f='${Version}' rustc-web 2>/dev/null || echo 'not installed')"

# The README's two commands, taken from the README itself so that this check fails
# when the README changes them without this script.
MAIN_JOB='cargo run --release -p rtcredit-sim -- paper --out results/'
TESTS='./scripts/test.sh'
for cmd in "$MAIN_JOB" "$TESTS"; do
    grep -qF "$cmd" "$DIR/README.md" || { echo "fresh-check: the README no longer says \`$cmd\`: update this script" >&2; exit 1; }
done

declare -A RESULT=()
ORDER=()
FAILED=0
# step NAME NEEDS CMD...: runs CMD in the clone unless a step named in NEEDS
# (comma-separated, "-" for none) did not pass.
step() {
    local name=$1 needs=$2 t rc=0 n
    shift 2
    ORDER+=("$name")
    if [ "$needs" != - ]; then
        for n in ${needs//,/ }; do
            if [ "${RESULT[$n]:-}" != PASS ]; then
                RESULT[$name]=SKIP
                printf 'STEP %-28s SKIP (needs %s)\n' "$name" "$n"
                return 0
            fi
        done
    fi
    t=$SECONDS
    (cd "$DIR" && "$@") > "$LOGS/$name.log" 2>&1 < /dev/null || rc=$?
    if [ "$rc" = 0 ]; then
        RESULT[$name]=PASS
        printf 'STEP %-28s PASS (%d s)\n' "$name" $((SECONDS - t))
    else
        RESULT[$name]=FAIL
        FAILED=1
        printf 'STEP %-28s FAIL (%d s, exit %d; log %s)\n' "$name" $((SECONDS - t)) "$rc" "$LOGS/$name.log"
        tail -n 15 "$LOGS/$name.log" | sed 's/^/    | /'
    fi
}

T0=$SECONDS
# shellcheck disable=SC2086  # the README's commands are word-split on purpose
step main-job - $MAIN_JOB
step tests - $TESTS
if [ "$HEAVY" = 1 ]; then
    step xen-build - bash hypervisor/xen/build.sh
    step xen-build-debug - bash hypervisor/xen/build.sh --debug
    step smoke-rtcredit-trace xen-build bash hypervisor/xen/smoke.sh --sched rtcredit --trace
    step kernel-build - guest-kmod/build-kernel.sh
    step module-build kernel-build guest-kmod/build.sh
    step test-qemu-xen-rtcredit module-build,xen-build guest-kmod/test-qemu.sh --xen rtcredit
    grep -h '^\[build.sh\] Rust core flags\|^\[build.sh\] Xen \|^\[build.sh\] WARNING' "$LOGS"/xen-build*.log 2>/dev/null |
        sort -u | sed 's/^/fresh-check: /' || true
    grep -h '^RESULT:\|^test-qemu:' "$LOGS"/smoke-*.log "$LOGS"/test-qemu-*.log 2>/dev/null | sed 's/^/fresh-check: /' || true
fi

echo "fresh-check: $((SECONDS - T0)) s in all"
for n in "${ORDER[@]}"; do printf '  %-28s %s\n' "$n" "${RESULT[$n]}"; done
if [ "$FAILED" = 1 ]; then
    echo "fresh-check: FAILED (clone kept in $DIR, logs in $LOGS)"
    exit 1
fi
if [ "$KEEP" = 1 ]; then
    echo "fresh-check: all steps passed (clone kept in $DIR, logs in $LOGS)"
else
    rm -rf "$DIR"
    echo "fresh-check: all steps passed (logs in $LOGS)"
fi
