#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Builds rtsleep.ko the way a Debian guest does, for real, on this machine: a Debian
# testing root made with debootstrap under .cache/distro-root/<suite>/, Debian's cloud
# kernel with its headers, rustc, rust-src, bindgen and dkms installed in it by apt, the
# Rust artifacts Debian's headers lack (debian-rust-headers.sh), and
# the module built and installed there by DKMS (dkms-install.sh, as a user runs it in a
# guest). Nothing of testing is installed on the host: its glibc is older than what
# testing's binaries need, and the module must be built by the exact rustc the kernel
# was built with (check-rustc.sh), which is the suite's own.
#
#   ./build-distro.sh            all steps; each one is skipped when its result is there
#   ./build-distro.sh --rebuild  rerun only the DKMS build (after a source change)
#   ./build-distro.sh --print    print the root, the kernel release, the image, the module
#
# Env: DISTRO_SUITE (default forky, Debian testing as of 2026-12), DISTRO_ROOT (default
# .cache/distro-root/$DISTRO_SUITE). Needs root (debootstrap, chroot); installs the
# host's debootstrap with apt when it is missing. First run: ~1 GB download and unpack.
# Log of the last DKMS build: $DISTRO_ROOT/var/lib/dkms/rtsleep/<version>/<kver>/x86_64/log/make.log
# (also copied to .cache/distro-root/dkms-make.log).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
CACHE=$ROOT/.cache
SUITE=${DISTRO_SUITE:-forky}
DROOT=${DISTRO_ROOT:-$CACHE/distro-root/$SUITE}
# What the guest needs to build the module: the cloud kernel (its image is booted by
# test-qemu.sh --distro-kernel) and its headers, the compiler the kernel was built with
# and its library sources, bindgen, DKMS, kmod for modinfo, and openssl, with which DKMS
# makes its machine owner key and signs the module (dkms recommends it; without it the
# module is installed unsigned: "openssl not found, can't generate key and certificate").
GUEST_PKGS=(linux-image-cloud-amd64 linux-headers-cloud-amd64 rustc rust-src bindgen dkms kmod openssl)

log() { printf '[build-distro %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { echo "build-distro: $*" >&2; exit 1; }
# shellcheck source=../scripts/pkgs.sh
. "$ROOT/scripts/pkgs.sh"

REBUILD= PRINT=
case ${1:-} in
    "") ;;
    --rebuild) REBUILD=1 ;;
    --print) PRINT=1 ;;
    *) die "unknown argument '$1' (expected --rebuild or --print)" ;;
esac

# The kernel release the root's headers are for: the newest /lib/modules/<kver>/build.
distro_kver() {
    local d best=
    for d in "$DROOT"/usr/src/linux-headers-*-cloud-amd64; do
        [ -f "$d/.config" ] && best=${d##*/linux-headers-}
    done
    [ -n "$best" ] || die "no cloud kernel headers in $DROOT/usr/src"
    echo "$best"
}

if [ -n "$PRINT" ]; then
    kver=$(distro_kver)
    echo "root=$DROOT"
    echo "kver=$kver"
    echo "vmlinuz=$DROOT/boot/vmlinuz-$kver"
    echo "module=$(find "$DROOT/lib/modules/$kver/updates" -name 'rtsleep.ko*' 2>/dev/null | head -n1)"
    exit 0
fi

[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot)"
# Everything below at niceness 10 (the machine is shared), set once: a nested `nice -n
# 10` would add up to 19.
[ "$(nice)" -ge 10 ] || exec nice -n $((10 - $(nice))) "$0" "$@"

# Bind mounts for the chroot, undone on every exit.
mounted=()
cleanup() {
    local i
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[i]}" 2>/dev/null || true; done
}
trap cleanup EXIT
chroot_mounts() {
    local m
    for m in proc sys dev; do
        mountpoint -q "$DROOT/$m" && continue
        mount --bind "/$m" "$DROOT/$m"
        mounted+=("$DROOT/$m")
    done
}
in_root() { chroot "$DROOT" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"; }

# 1. The root. debootstrap's own script for the suite may be missing from bookworm's
# debootstrap (forky is newer than it): sid's script bootstraps any testing suite.
if [ ! -f "$DROOT/.debootstrap-done" ]; then
    ensure_pkgs debootstrap
    mirror=$(system_mirror main)
    [ -n "$mirror" ] || die "cannot read the Debian mirror from /etc/apt/sources.list.d/debian.sources"
    script=/usr/share/debootstrap/scripts/$SUITE
    [ -e "$script" ] || script=/usr/share/debootstrap/scripts/sid
    rm -rf "$DROOT"; mkdir -p "$DROOT"
    log "debootstrap $SUITE from $mirror into $DROOT (minbase)"
    t0=$(date +%s)
    debootstrap --variant=minbase "$SUITE" "$DROOT" "$mirror" "$script" \
        > "$DROOT.debootstrap.log" 2>&1 || die "debootstrap failed: see $DROOT.debootstrap.log"
    printf 'deb %s %s main\n' "$mirror" "$SUITE" > "$DROOT/etc/apt/sources.list"
    # A build root, not a system: no fsync per unpacked file (rust-src has thousands).
    echo force-unsafe-io > "$DROOT/etc/dpkg/dpkg.cfg.d/force-unsafe-io"
    # The root's apt trusts the mirror as the host's does: a mirror that serves a frozen
    # snapshot has an expired Release file, which the host accepts by its own setting.
    if apt-config dump | grep -qi '^Acquire::Check-Valid-Until "false"'; then
        echo 'Acquire::Check-Valid-Until "false";' > "$DROOT/etc/apt/apt.conf.d/99check-valid-until"
    fi
    log "debootstrap done in $(( $(date +%s) - t0 )) s"
    date -u +%FT%TZ > "$DROOT/.debootstrap-done"
fi
chroot_mounts

# 2. The guest's packages, from the suite itself (apt inside the root).
if [ ! -f "$DROOT/.pkgs-done" ] || [ "$(cat "$DROOT/.pkgs-done")" != "${GUEST_PKGS[*]}" ]; then
    log "apt-get install in the root: ${GUEST_PKGS[*]}"
    t0=$(date +%s)
    cp /etc/resolv.conf "$DROOT/etc/resolv.conf" 2>/dev/null || true
    in_root apt-get update > "$DROOT.apt.log" 2>&1 || die "apt-get update in the root failed: see $DROOT.apt.log"
    # --no-upgrade: a package the root has stays at its version (a newer kernel on the
    # mirror would need the Rust artifacts again); delete the root to follow the suite.
    in_root apt-get install -y --no-install-recommends --no-upgrade "${GUEST_PKGS[@]}" >> "$DROOT.apt.log" 2>&1 ||
        die "apt-get install in the root failed: see $DROOT.apt.log"
    log "packages installed in $(( $(date +%s) - t0 )) s"
    printf '%s' "${GUEST_PKGS[*]}" > "$DROOT/.pkgs-done"
fi

# 3. Debian's headers package has CONFIG_RUST=y but not the Rust artifacts a module is
# compiled against: debian-rust-headers.sh builds them from the same source, in the
# root as a user does in a guest.
kver=$(distro_kver)
if [ ! -f "$DROOT/usr/src/linux-headers-$kver/rust/.from-source" ]; then
    log "Rust artifacts for $kver (debian-rust-headers.sh in the root)"
    t0=$(date +%s)
    mkdir -p "$DROOT/root/rtsleep-src/guest-kmod"
    cp "$HERE/debian-rust-headers.sh" "$DROOT/root/rtsleep-src/guest-kmod/"
    in_root /root/rtsleep-src/guest-kmod/debian-rust-headers.sh --kernel "$kver" > "$CACHE/distro-root/rust-artifacts.log" 2>&1 ||
        { tail -n 20 "$CACHE/distro-root/rust-artifacts.log" >&2; die "debian-rust-headers.sh failed: see $CACHE/distro-root/rust-artifacts.log"; }
    log "$(tail -n 1 "$CACHE/distro-root/rust-artifacts.log") (step: $(( $(date +%s) - t0 )) s)"
fi

# 4. The module, by DKMS, through the same script a user runs in a guest. DKMS's
# autoinstall hook already builds for every installed kernel once the module is added;
# dkms-install.sh also builds explicitly for the headers' release (there is no running
# kernel of that release in a chroot).
stamp=$DROOT/.dkms-done
src_sum=$(cd "$ROOT" && { echo "${GUEST_PKGS[*]}"; cat guest-kmod/{Kbuild,Makefile,dkms.conf,check-rustc.sh,dkms-install.sh,debian-rust-headers.sh,rtsleep_main.rs,rtsleep_xen.c,rtsleep_xen.h} \
          guest-kmod/dist/* abi/src/ioctl.rs abi/src/hypercall.rs; } | sha256sum | cut -c1-16)
if [ -n "$REBUILD" ] || [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$kver $src_sum" ]; then
    # What a user copies into the guest: guest-kmod/ beside abi/ (the ABI files).
    stage=$DROOT/root/rtsleep-src
    rm -rf "$stage"; mkdir -p "$stage/guest-kmod/dist" "$stage/abi/src"
    cp "$HERE"/{Kbuild,Makefile,dkms.conf,check-rustc.sh,dkms-install.sh,debian-rust-headers.sh,rtsleep_main.rs,rtsleep_xen.c,rtsleep_xen.h} "$stage/guest-kmod/"
    cp "$HERE"/dist/* "$stage/guest-kmod/dist/"
    cp "$ROOT/abi/src/ioctl.rs" "$ROOT/abi/src/hypercall.rs" "$stage/abi/src/"
    log "DKMS build of rtsleep for $kver in the root"
    t0=$(date +%s)
    in_root /root/rtsleep-src/guest-kmod/dkms-install.sh --kernel "$kver" > "$CACHE/distro-root/dkms-install.log" 2>&1 ||
        { tail -n 40 "$CACHE/distro-root/dkms-install.log" >&2; die "DKMS build failed: see $CACHE/distro-root/dkms-install.log"; }
    log "DKMS build and install done in $(( $(date +%s) - t0 )) s"
    makelog=$(ls -t "$DROOT"/var/lib/dkms/rtsleep/*/"$kver"/x86_64/log/make.log 2>/dev/null | head -n1 || true)
    [ -n "$makelog" ] && cp "$makelog" "$CACHE/distro-root/dkms-make.log"
    echo "$kver $src_sum" > "$stamp"
fi
log "module: $(find "$DROOT/lib/modules/$kver/updates" -name 'rtsleep.ko*' | head -n1)"
