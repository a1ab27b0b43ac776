#!/usr/bin/env bash
# Runs every cargo-fuzz target of fuzz/ for a set time and prints one line per target:
# target, seconds, executions, findings (crash/leak/timeout artifacts). Needs the
# nightly toolchain (rustup) and cargo-fuzz; installs cargo-fuzz if missing.
#   scripts/fuzz.sh [--seconds N] [TARGET...]     (default: 60 s each, every target)
# Exit status 1 if any target found something (artifacts under fuzz/artifacts/TARGET).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=60
targets=()
while (($#)); do
    case "$1" in
        --seconds) seconds="${2:?--seconds needs a number}"; shift 2 ;;
        -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
        *) targets+=("$1"); shift ;;
    esac
done
[[ "$seconds" =~ ^[0-9]+$ && "$seconds" -ge 1 && "$seconds" -le 86400 ]] \
    || { echo "fuzz.sh: --seconds must be a whole number in 1..=86400, not '$seconds'" >&2; exit 2; }

command -v rustup >/dev/null 2>&1 || { echo "fuzz.sh: rustup is needed for the nightly toolchain" >&2; exit 1; }
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null 2>&1 || cargo install --locked cargo-fuzz

cd fuzz
((${#targets[@]})) || mapfile -t targets < <(cargo +nightly fuzz list)

found=0
printf '%-16s %8s %12s %s\n' target seconds execs findings
for target in "${targets[@]}"; do
    log="$(mktemp)"
    stamp="$(mktemp)" # older than anything this run writes
    mkdir -p "corpus/$target"
    status=0
    cargo +nightly fuzz run "$target" "corpus/$target" -- -max_total_time="$seconds" -rss_limit_mb=2048 \
        >"$log" 2>&1 || status=$?
    execs="$(grep -oE 'Done [0-9]+ runs' "$log" | grep -oE '[0-9]+' | tail -1 || true)"
    [[ -n "$execs" ]] || execs="$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#' || true)"
    # A finding is a file libFuzzer wrote into artifacts/TARGET during this run (crash-,
    # leak-, timeout-, oom-...): cargo-fuzz names that directory in every log
    # (-artifact_prefix), so the log alone does not tell.
    artifacts="$(find "artifacts/$target" -maxdepth 1 -type f -newer "$stamp" 2>/dev/null | sort | tr '\n' ' ' || true)"
    rm -f "$stamp"
    if ((status != 0)) || [[ -n "$artifacts" ]]; then
        found=1
        printf '%-16s %8s %12s %s\n' "$target" "$seconds" "${execs:-?}" "FOUND (exit $status) ${artifacts:-see $log}"
    else
        printf '%-16s %8s %12s %s\n' "$target" "$seconds" "${execs:-?}" "none"
        rm -f "$log"
    fi
done
exit "$found"
