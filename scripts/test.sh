#!/usr/bin/env bash
# The project's test command (README, .ci/run): installs what the tests need if it is
# missing, then runs every test of the workspace. Extra arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."

# The C ABI tests compile the generated header with a C compiler.
missing=()
command -v cc >/dev/null 2>&1 || missing+=(gcc libc6-dev)
# rtsleep bench's cyclictest layout is checked against the real cyclictest.
command -v cyclictest >/dev/null 2>&1 || missing+=(rt-tests)
if ((${#missing[@]})); then
    echo "test.sh: installing ${missing[*]}" >&2
    apt-get update -q && apt-get install -y -q "${missing[@]}"
fi
command -v cargo >/dev/null 2>&1 || { echo "test.sh: cargo is not installed (https://rustup.rs)" >&2; exit 1; }

cargo test --workspace "$@"
