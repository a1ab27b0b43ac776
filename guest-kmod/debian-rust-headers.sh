#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Adds to an installed Debian kernel's headers the Rust artifacts an out-of-tree Rust
# module is compiled against, which Debian's linux-headers packages do not ship
# (checked with 7.2.12+deb14-cloud-amd64: CONFIG_RUST=y, but no rust/ directory and no
# scripts/target.json; a build stops at 'target file ".../scripts/target.json" does
# not exist'). They are build products of the kernel tree: the crates' metadata
# (rust/*.rmeta), the proc-macro libraries (rust/*.so), the target specification.
#
# We build them as Debian did: the source package of the same version
# (linux-source-X.Y), the headers' own .config, the compiler named in it, the suite's
# rustc and bindgen; only `make prepare` and the rust/ directory (no kernel image). The
# result must be compiled for the same cfgs as the kernel's crates: the rebuilt tree's
# include/generated/rustc_cfg is compared with the headers' one (a differing option that
# no Rust source reads is reported and allowed). A module's symbols
# then resolve against the kernel's exports by name: the crate names and the compiler
# are the kernel's (the config has no MODVERSIONS to compare beyond that).
#
#   debian-rust-headers.sh [--kernel KVER]   KVER default: the running kernel
# Run as root in the guest (apt installs linux-source-X.Y and the build tools). Takes
# minutes: a 1.5 GB source tree under /usr/src/linux-rust-<kver>/ (kept; delete it when
# done). A second run for the same headers does nothing (rust/.from-source).
set -euo pipefail

die() { echo "debian-rust-headers: $*" >&2; exit 1; }
say() { echo "debian-rust-headers: $*"; }

kver=$(uname -r)
case ${1:-} in
    "") ;;
    --kernel) [ $# -ge 2 ] || die "--kernel needs a kernel release (as in /lib/modules/)"; kver=$2 ;;
    *) die "unknown argument '$1' (expected --kernel KVER)" ;;
esac
[ "$(id -u)" = 0 ] || die "run as root (apt and /usr/src need it)"
[ -e "/lib/modules/$kver/build" ] || die "no headers for $kver: apt install linux-headers-$kver"
hdr=$(readlink -f "/lib/modules/$kver/build")
grep -q '^CONFIG_RUST=y$' "$hdr/.config" || die "kernel $kver is built without Rust (CONFIG_RUST is not y)"
if [ -f "$hdr/rust/.from-source" ]; then
    say "$hdr already has the Rust artifacts (built from linux-source $(cat "$hdr/rust/.from-source"))"
    exit 0
fi

# 7.2.12+deb14-cloud-amd64 -> linux-source-7.2, at the headers' package version.
series=$(echo "$kver" | sed -n 's/^\([0-9]*\.[0-9]*\).*/\1/p')
srcver=$(dpkg-query -W -f='${Version}' "linux-headers-$kver") || die "linux-headers-$kver is not a Debian package here"
pkgs=("linux-source-$series" flex bison bc libelf-dev libssl-dev xz-utils dwarves python3 rustc rust-src bindgen)
say "apt-get install ${pkgs[*]}"
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${pkgs[@]}" ||
    die "apt-get install failed"
have=$(dpkg-query -W -f='${Version}' "linux-source-$series")
[ "$have" = "$srcver" ] ||
    die "linux-source-$series is $have but the headers are $srcver: the artifacts must come from the same source (apt install linux-source-$series=$srcver)"

t0=$(date +%s)
ksrc=/usr/src/linux-rust-$kver
# An unpacked tree of the same version is reused (a failed run's, say).
if [ "$(cat "$ksrc/.unpacked" 2>/dev/null)" != "$srcver" ]; then
    rm -rf "$ksrc"; mkdir -p "$ksrc"
    say "unpacking /usr/src/linux-source-$series.tar.xz into $ksrc"
    tar -xJf "/usr/src/linux-source-$series.tar.xz" -C "$ksrc" --strip-components=1
    echo "$srcver" > "$ksrc/.unpacked"
fi
cp "$hdr/.config" "$ksrc/.config"
# The C compiler by the name Debian used: CONFIG_CC_VERSION_TEXT starts with it.
cc=$(sed -n 's/^CONFIG_CC_VERSION_TEXT="\([^ ]*\) .*/\1/p' "$hdr/.config")
command -v "$cc" >/dev/null || die "the kernel was built with $cc, which is not installed"
say "make CC=$cc olddefconfig prepare rust/ in $ksrc"
(cd "$ksrc" && make CC="$cc" -s olddefconfig && make CC="$cc" -j"$(nproc)" prepare && make CC="$cc" -j"$(nproc)" rust/) ||
    die "the build in $ksrc failed"
# Options that probe the build machine's tools can differ (seen: the headers have
# CONFIG_OPENSSL_SUPPORTS_ML_DSA, from the builder's openssl): such a difference is
# harmless when no Rust source of the tree reads the option; any other is fatal.
for name in $(diff "$ksrc/include/generated/rustc_cfg" "$hdr/include/generated/rustc_cfg" |
              sed -n 's/^[<>] --cfg=\(CONFIG_[A-Za-z0-9_]*\).*/\1/p' | sort -u); do
    if grep -rqw "$name" "$ksrc/rust"; then
        die "the rebuilt tree's rustc_cfg differs from the headers' in $name, which rust/ reads (diff $ksrc/include/generated/rustc_cfg $hdr/include/generated/rustc_cfg)"
    fi
    say "rustc_cfg differs in $name only where no Rust source reads it (a probe of the build machine)"
done
mkdir -p "$hdr/rust"
cp "$ksrc"/rust/*.rmeta "$ksrc"/rust/*.so "$hdr/rust/"
cp "$ksrc/scripts/target.json" "$hdr/scripts/target.json"
echo "$srcver" > "$hdr/rust/.from-source"
say "added $(find "$hdr/rust" -name '*.rmeta' -o -name '*.so' | wc -l) Rust artifacts and scripts/target.json to $hdr in $(( $(date +%s) - t0 )) s"
