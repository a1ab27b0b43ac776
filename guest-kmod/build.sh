#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Builds the rtsleep module (rtsleep.ko) against the tree of build-kernel.sh.
#   ./build.sh               make ... modules (needs the finished kernel build)
#   ./build.sh clean         make ... clean
#   ./build.sh <target.o>    compile one object only (works as soon as the tree's
#                            rust/ libraries and headers exist, before vmlinux)
# Env: KDIR (default .cache/linux-7.2/linux-source-7.2 at the repo root).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
KDIR=${KDIR:-$ROOT/.cache/linux-7.2/linux-source-7.2}
[ -f "$KDIR/.config" ] || { echo "build.sh: no kernel tree at $KDIR: run ./build-kernel.sh first" >&2; exit 1; }

# docs/toolchain.md section 5: Kbuild calls rustc/rustdoc by name; use Debian's (/usr/bin),
# the bindgen of build-kernel.sh, and libclang 19.
export PATH=$ROOT/.cache/bindgen/bin:/usr/bin:/bin:/usr/sbin:/sbin
export LIBCLANG_PATH=/usr/lib/llvm-19/lib

if [ $# -eq 0 ]; then
    [ -f "$KDIR/Module.symvers" ] || { echo "build.sh: $KDIR is not fully built (no Module.symvers): run ./build-kernel.sh" >&2; exit 1; }
    set -- modules
fi
# The compiler must be the kernel's own (the PATH above picks Debian's, which built it).
[ "$1" = clean ] || sh "$HERE/check-rustc.sh" "$KDIR"
exec make -C "$KDIR" M="$HERE" "$@"
