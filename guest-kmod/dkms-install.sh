#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Installs the rtsleep module in a guest with DKMS, from this directory (run as root in
# the guest; README "Install in a Debian guest"):
#   1. checks that the kernel's headers are there and that the rustc on PATH is the
#      kernel's own (check-rustc.sh: the message says what to install otherwise);
#   2. copies the module's sources to /usr/src/rtsleep-<version>/ (guest-kmod/ and
#      abi/src/{ioctl,hypercall}.rs, as in the repository) and runs dkms add, build and
#      install for the kernel (a re-run replaces the same version);
#   3. installs the udev rule (dist/99-rtsleep.rules -> /etc/udev/rules.d/, creating the
#      system group it names, if any) and the boot-time load (dist/rtsleep.conf ->
#      /etc/modules-load.d/).
# DKMS then rebuilds the module for every kernel installed later (dkms.conf AUTOINSTALL).
#
#   ./dkms-install.sh [--kernel KVER]   KVER default: the running kernel (uname -r)
#   ./dkms-install.sh --remove          dkms remove (all kernels) and the two files
# POSIX sh, so that a minimal guest runs it.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
die() { echo "dkms-install: $*" >&2; exit 1; }
say() { echo "dkms-install: $*"; }

kver=$(uname -r) remove=
while [ $# -gt 0 ]; do
    case $1 in
        --kernel) [ $# -ge 2 ] || die "--kernel needs a kernel release (as in /lib/modules/)"; kver=$2; shift ;;
        --remove) remove=1 ;;
        *) die "unknown argument '$1' (expected --kernel KVER or --remove)" ;;
    esac
    shift
done

[ "$(id -u)" = 0 ] || die "run as root (dkms and /etc need it)"
command -v dkms >/dev/null || die "dkms is not installed: apt install dkms"
name=$(sed -n 's/^PACKAGE_NAME="\(.*\)"$/\1/p' "$HERE/dkms.conf")
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$HERE/dkms.conf")
[ -n "$name" ] && [ -n "$version" ] || die "$HERE/dkms.conf has no PACKAGE_NAME or PACKAGE_VERSION"
src=/usr/src/$name-$version
rules=/etc/udev/rules.d/99-rtsleep.rules
load=/etc/modules-load.d/rtsleep.conf

if [ -n "$remove" ]; then
    if dkms status "$name/$version" | grep -q .; then dkms remove "$name/$version" --all; fi
    rm -rf "$src" "$rules" "$load"
    say "removed $name/$version, $rules and $load"
    exit 0
fi

kdir=/lib/modules/$kver/build
[ -d "$kdir" ] || die "no headers for kernel $kver ($kdir is missing): apt install linux-headers-$kver"
sh "$HERE/check-rustc.sh" "$kdir" || die "the module cannot be built for $kver with this rustc (above)"

# A re-run installs the current sources: drop the same version first.
if dkms status "$name/$version" | grep -q .; then dkms remove "$name/$version" --all; fi
# The repository's layout (dkms.conf): the module and the ABI files it compiles.
abi=$HERE/../abi/src
for f in ioctl.rs hypercall.rs; do
    [ -f "$abi/$f" ] || die "no $abi/$f: run this from a clone of the repository (guest-kmod/ beside abi/)"
done
rm -rf "$src"; mkdir -p "$src/guest-kmod" "$src/abi/src"
cp "$HERE/dkms.conf" "$src/dkms.conf"
for f in Kbuild Makefile check-rustc.sh rtsleep_main.rs rtsleep_xen.c rtsleep_xen.h; do
    cp "$HERE/$f" "$src/guest-kmod/$f"
done
cp "$abi/ioctl.rs" "$abi/hypercall.rs" "$src/abi/src/"
dkms add "$name/$version"
dkms build "$name/$version" -k "$kver" ||
    die "dkms build failed: see /var/lib/dkms/$name/$version/$kver/$(uname -m)/log/make.log"
dkms install "$name/$version" -k "$kver"

# The device's permissions: the rule may give the node to a group; make that group.
group=$(sed -n 's/.*GROUP="\([^"]*\)".*/\1/p' "$HERE/dist/99-rtsleep.rules" | head -n1)
if [ -n "$group" ] && ! getent group "$group" >/dev/null; then
    groupadd --system "$group"
    say "created system group '$group' (add users with: usermod -aG $group USER)"
fi
install -m 0644 "$HERE/dist/99-rtsleep.rules" "$rules"
install -m 0644 "$HERE/dist/rtsleep.conf" "$load"
# A running udev picks the rule up now; in a chroot or an image there is none.
if command -v udevadm >/dev/null && [ -d /run/udev ]; then udevadm control --reload || true; fi
say "installed $name/$version for $kver; $rules; $load (loaded at every boot)"
say "load it now with: modprobe rtsleep (kernel $kver must be the running one)"
