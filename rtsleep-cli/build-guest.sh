#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
#
# Builds the guest-side user-space binaries for a minimal guest (an initramfs with
# busybox and no libc of its own):
#   rtsleep                   static (glibc, crt-static): runs with no loader or libc
#   librtsleep_preload.so     the LD_PRELOAD shim; a shared object by nature, so the
#                             guest needs the dynamic loader and the libraries listed
#                             by --libs for the program it wraps
# Prints one "NAME PATH" line per output on stdout (logs go to stderr), e.g.
#   rtsleep REPO/target/x86_64-unknown-linux-gnu/release/rtsleep
#   librtsleep_preload.so REPO/target/release/librtsleep_preload.so
#
#   rtsleep-cli/build-guest.sh            build (release) and print the paths
#   rtsleep-cli/build-guest.sh --libs [ELF...]
#                                         also print "lib PATH" for every shared library
#                                         the shim (and each dynamic ELF given, e.g. the
#                                         program to wrap) needs (ldd), loader included, once
#                                         each, to copy into the guest at the same path
# Env: CARGO (default cargo), CARGO_TARGET_DIR (default the workspace's target/).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
TARGET=x86_64-unknown-linux-gnu
CARGO=${CARGO:-cargo}
OUT=${CARGO_TARGET_DIR:-$ROOT/target}
LIBS=
if [ "${1:-}" = --libs ]; then LIBS=1; shift; fi

cd "$ROOT"
# --target makes RUSTFLAGS apply to the target only (not to build scripts and proc
# macros), and keeps these objects apart from the host build in target/release.
# rustc warns "dropping unsupported crate type `cdylib`" for the two library crates
# (crt-static cannot make a cdylib): expected, the binary needs only their rlibs.
RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" \
    nice "$CARGO" build --release --locked -p rtsleep-cli --bin rtsleep --target "$TARGET" >&2
# The shim as the host builds it (dynamic, against glibc).
nice "$CARGO" build --release --locked -p rtsleep-preload --lib >&2

bin=$OUT/$TARGET/release/rtsleep
shim=$OUT/release/librtsleep_preload.so
file -L "$bin" | grep -Eq 'statically linked|static-pie linked' || { echo "build-guest.sh: $bin is not static" >&2; exit 1; }
[ -f "$shim" ] || { echo "build-guest.sh: no $shim" >&2; exit 1; }
echo "rtsleep $bin"
echo "librtsleep_preload.so $shim"
if [ -n "$LIBS" ]; then
    # "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" and "/lib64/ld-linux-x86-64.so.2 (0x...)"
    for elf in "$shim" "$@"; do ldd "$elf"; done |
        awk '/=>/ && $3 ~ /^\// { print "lib " $3 } $1 ~ /^\// { print "lib " $1 }' | sort -u
fi
