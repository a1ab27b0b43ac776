#!/usr/bin/env bash
# Build Xen 4.17's dom0 toolstack (libxl, xl, xenstored, xenconsoled, xen-init-dom0,
# xentrace, xenalyze) from Debian's source package, with sched=rtcredit support.
#
#   bash hypervisor/xen/build-tools.sh [--force] [--clean] [--verbose]
#
#   --force   run make and the install again even if the inputs look unchanged
#   --clean   throw the build tree away first (full rebuild)
#   --verbose stream make's output instead of only logging it
#
# Inputs: the pristine source .cache/xen-src (build.sh fetches it if missing),
# hypervisor/xen/patches/0001-*.patch (public headers: XEN_SCHEDULER_RTCREDIT and
# struct xen_domctl_sched_rtcredit) and hypervisor/xen/patches-tools/*.patch (libxc,
# libxl and xl support for rtcredit), applied in that order.
#
# Everything is cached under $REPO/.cache/xen-tools (git-ignored):
#   src/        build tree (a copy of .cache/xen-src plus the patches)
#   dist/       DESTDIR of `make install` (prefix /usr): usr/sbin/xl, usr/lib/libxen*.so*, ...
#   build.log   configure + make output of the last run
# A stamp keyed on the patches' hash (and this script) makes a re-run with unchanged
# inputs a no-op. Prints the dist directory on stdout and the time taken on stderr.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
CACHE=$REPO/.cache
PRISTINE=$CACHE/xen-src
TOP=$CACHE/xen-tools
TREE=$TOP/src
DIST=$TOP/dist
LOG=$TOP/build.log

FORCE=0
CLEAN=0
VERBOSE=0
for arg in "$@"; do
    case $arg in
        --force) FORCE=1 ;;
        --clean) CLEAN=1 ;;
        --verbose) VERBOSE=1 ;;
        -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
        *) echo "build-tools.sh: unknown argument: $arg" >&2; exit 2 ;;
    esac
done

log() { echo "[build-tools.sh] $*" >&2; }
die() { echo "[build-tools.sh] ERROR: $*" >&2; exit 1; }
START=$SECONDS

# shellcheck source=../../scripts/pkgs.sh
. "$REPO/scripts/pkgs.sh"
# shellcheck source=lib-tree.sh
. "$HERE/lib-tree.sh"

# Build dependencies (bookworm): autoconf + autotools-dev because Debian's source
# package ships no generated configure/config.sub; iasl for libxl's ACPI tables;
# yajl, uuid, zlib, lzma, zstd for libxl/libxenguest; ncurses because tools/configure
# insists on it; python3-dev because tools/configure checks for it.
TOOLS_PKGS=(dpkg-dev build-essential bison flex python3 python3-dev xz-utils patch
            autoconf autotools-dev acpica-tools pkg-config uuid-dev libyajl-dev
            zlib1g-dev liblzma-dev libzstd-dev libncurses-dev)

# The tool directories built and installed, in dependency order.
TOOL_DIRS=(include libs xenstore console helpers xl xentrace)

CONFIGURE_ARGS=(--prefix=/usr --sysconfdir=/etc --localstatedir=/var
    --disable-systemd --disable-qemu-traditional --disable-rombios --disable-seabios
    --disable-ipxe --disable-ovmf --disable-ocamltools --disable-golang --disable-pvshim
    --disable-xsmpolicy --disable-monitors --with-system-qemu=/bin/false)

# --- inputs -----------------------------------------------------------------------------
list_patches() {
    local p
    p=$(find "$HERE/patches" -maxdepth 1 -name '0001-*.patch' -type f | LC_ALL=C sort)
    [ "$(printf '%s\n' "$p" | grep -c .)" = 1 ] || die "expected exactly one patches/0001-*.patch"
    echo "$p"
    [ -d "$HERE/patches-tools" ] && find "$HERE/patches-tools" -maxdepth 1 -name '*.patch' -type f | LC_ALL=C sort
    true
}
hash_patches() {
    patch_set_hash "$(cat "$PRISTINE/.rtc-pristine")" "${PATCHES[@]}"
}
hash_all() {
    { hash_patches; sha256sum "$HERE/build-tools.sh" "$HERE/lib-tree.sh"; } | sha256sum | cut -d' ' -f1
}

PATCHES=()    # the patch set in the order it is applied (main reads it)

# --- build tree -----------------------------------------------------------------------------
# Tied to one patch set (lib-tree.sh); stamped only once configured, so a failed
# configure starts again from the pristine copy.
prepare_tree() {
    local want
    want=$(hash_patches)
    if [ "$CLEAN" = 1 ] || ! tree_is_current "$TREE" "$want" config/Paths.mk; then
        tree_from_pristine "$PRISTINE" "$TREE" "Xen's tools" "${PATCHES[@]}"
        configure_tree
        tree_stamp "$TREE" "$want"
    fi
}

# Debian's source package deletes configure, config.h.in's outputs, config.sub and
# config.guess (debian/patches 0001, 0002); regenerate them as debian/rules does.
configure_tree() {
    log "autoconf + tools/configure (log: $LOG)"
    {
        cp /usr/share/misc/config.sub /usr/share/misc/config.guess "$TREE/"
        (cd "$TREE" && autoconf -f && cd tools && autoconf -f && autoheader)
        # The top-level configure writes config/Paths.mk and runs tools/configure
        # with the same arguments (stubdom and docs are not configured at all).
        (cd "$TREE" && env -u CFLAGS -u LDFLAGS -u CPPFLAGS \
            ./configure --disable-stubdom --disable-docs "${CONFIGURE_ARGS[@]}")
    } > "$LOG" 2>&1 || { tail -n 30 "$LOG" >&2; die "configure failed (log: $LOG)"; }
}

# --- build and install --------------------------------------------------------------------
run_make() {
    # WGET/GIT as in debian/rules: fail instead of downloading anything at build time.
    local cmd=(nice -n 10 env -u CFLAGS -u LDFLAGS -u CPPFLAGS WGET=/bin/false GIT=/bin/false
               make "$@")
    if [ "$VERBOSE" = 1 ]; then
        "${cmd[@]}" 2>&1 | tee -a "$LOG" >&2
    elif ! "${cmd[@]}" >> "$LOG" 2>&1; then
        tail -n 40 "$LOG" >&2
        die "make $* failed (full log: $LOG)"
    fi
}

build_and_install() {
    local d jobs
    jobs=$(nproc)
    log "make ${TOOL_DIRS[*]} (-j$jobs, a few minutes on 2 cores; log: $LOG)"
    echo "=== build $(date -u)" >> "$LOG"
    for d in "${TOOL_DIRS[@]}"; do
        run_make -C "$TREE/tools/$d" -j"$jobs"
    done
    log "install into $DIST"
    rm -rf "$DIST.tmp"
    for d in "${TOOL_DIRS[@]}"; do
        run_make -C "$TREE/tools/$d" install DESTDIR="$DIST.tmp"
    done
    # Directories the tools expect at run time (tools/Makefile's install creates them).
    mkdir -p "$DIST.tmp"/var/{lib,log,run}/xen "$DIST.tmp/var/run/xenstored"
    rm -rf "$DIST"
    mv "$DIST.tmp" "$DIST"
}

report() {
    local f
    for f in usr/sbin/xl usr/sbin/xenstored usr/sbin/xenconsoled usr/lib/xen/bin/xen-init-dom0 \
             usr/sbin/xentrace usr/bin/xenalyze; do
        [ -x "$DIST/$f" ] || die "missing output $DIST/$f"
    done
    echo "$DIST"
    log "dist $(du -sh "$DIST" | cut -f1) elapsed=$((SECONDS - START))s"
}

main() {
    ensure_pkgs "${TOOLS_PKGS[@]}"
    # Read here, not in a subshell of its users, so that a list_patches that dies
    # stops the build.
    local patch_list
    patch_list=$(list_patches)
    [ -z "$patch_list" ] || mapfile -t PATCHES <<< "$patch_list"
    if [ ! -f "$PRISTINE/.rtc-pristine" ]; then
        log "no pristine source yet: running build.sh (fetches and extracts it)"
        bash "$HERE/build.sh" >/dev/null
    fi
    mkdir -p "$TOP"
    local inputs
    inputs=$(hash_all)
    if [ "$FORCE" = 0 ] && [ "$CLEAN" = 0 ] && [ -f "$DIST/.rtc-inputs" ] &&
       [ "$(cat "$DIST/.rtc-inputs")" = "$inputs" ]; then
        log "up to date, nothing to do"
        report
        return 0
    fi
    prepare_tree
    build_and_install
    echo "$inputs" > "$DIST/.rtc-inputs"
    report
}

main
