#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
#
# Installs the C library as a distribution package would: the header, librtsleep.a,
# librtsleep.so as its versioned file with the SONAME link the loader follows and the
# development link -lrtsleep finds, and rtsleep.pc generated from rtsleep.pc.in.
#
#   rtsleep-lib/install.sh [--prefix P] [--destdir D] [--from DIR]
#
#   --prefix P   where the files go and what rtsleep.pc says (default /usr/local)
#   --destdir D  stage under D (D/P/...), for packaging; rtsleep.pc still says P
#   --from DIR   take librtsleep.{so,a} from DIR (default: `cargo build --release -p
#                rtsleep`, then target/release)
#
# Run ldconfig afterwards when installing into a system directory.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PREFIX=/usr/local DESTDIR= FROM=
while [ $# -gt 0 ]; do
    case $1 in
        --prefix) PREFIX=${2:?--prefix needs a directory}; shift ;;
        --destdir) DESTDIR=${2:?--destdir needs a directory}; shift ;;
        --from) FROM=${2:?--from needs a directory}; shift ;;
        -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
        *) echo "install.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
die() { echo "install.sh: $*" >&2; exit 1; }
case $PREFIX in /*) ;; *) die "--prefix must be an absolute path (got '$PREFIX')" ;; esac

VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' "$HERE/Cargo.toml" | head -n1)
[ -n "$VERSION" ] || die "no version in $HERE/Cargo.toml"

if [ -z "$FROM" ]; then
    cargo build --release --quiet -p rtsleep --manifest-path "$HERE/../Cargo.toml"
    FROM=$(cargo metadata --format-version 1 --no-deps --manifest-path "$HERE/../Cargo.toml" |
        sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')/release
fi
for f in librtsleep.so librtsleep.a; do [ -f "$FROM/$f" ] || die "no $FROM/$f (build it, or give --from)"; done
# The SONAME (its ABI version) is build.rs's to choose: read it, do not recompute it.
soname=$(readelf -d "$FROM/librtsleep.so" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
case $soname in librtsleep.so.?*) ;; *) die "$FROM/librtsleep.so has no SONAME librtsleep.so.N (got '$soname'; an old build?)" ;; esac

root=$DESTDIR$PREFIX
install -d "$root/lib/pkgconfig" "$root/include"
install -m 644 "$HERE/include/rtsleep.h" "$root/include/rtsleep.h"
install -m 644 "$FROM/librtsleep.a" "$root/lib/librtsleep.a"
install -m 755 "$FROM/librtsleep.so" "$root/lib/librtsleep.so.$VERSION"
ln -sfn "librtsleep.so.$VERSION" "$root/lib/$soname"
ln -sfn "librtsleep.so.$VERSION" "$root/lib/librtsleep.so"
sed -e "s|@PREFIX@|$PREFIX|" -e "s|@VERSION@|$VERSION|" -e '1,/^prefix=/{/^#/d}' "$HERE/rtsleep.pc.in" > "$root/lib/pkgconfig/rtsleep.pc"
echo "installed librtsleep $VERSION (SONAME $soname) under $root"
