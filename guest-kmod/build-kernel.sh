#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# From nothing to a built Linux 7.2 tree (CONFIG_RUST, Xen PV guest/dom0) for the
# rtsleep module. Idempotent; everything is cached under .cache/ at the repo root:
#   .cache/linux-7.2/linux-source-7.2   the kernel tree (built in place)
#   .cache/bindgen/bin/bindgen          bindgen-cli
#   .cache/apt                          private apt lists (forky: download only)
# Prints the tree's path on stdout when done.
# Env: JOBS (default 2).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
CACHE=$ROOT/.cache
KCACHE=$CACHE/linux-7.2
TREE=$KCACHE/linux-source-7.2
FRAGMENT=$HERE/kernel.config
APT_DIR=$CACHE/apt
JOBS=${JOBS:-2}

log() { printf '[build-kernel %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

grep -q '^CONFIG_FILE_LOCKING=y' "$FRAGMENT" || die "$FRAGMENT must keep CONFIG_FILE_LOCKING=y"

# 1. Host packages (bookworm only), through scripts/pkgs.sh like every heavy script.
# shellcheck source=../scripts/pkgs.sh
. "$ROOT/scripts/pkgs.sh"
ensure_pkgs libclang-19-dev clang-19 flex bison libelf-dev libssl-dev bc cpio dpkg-dev \
    rustc-web cargo-web rust-web-src rust-web-clippy
log "rustc for the kernel: $(/usr/bin/rustc --version)"

# 2. bindgen-cli (kernel 7.2 needs >= 0.71.1).
if [ ! -x "$CACHE/bindgen/bin/bindgen" ]; then
    log "cargo install bindgen-cli (a few minutes)"
    LIBCLANG_PATH=/usr/lib/llvm-19/lib nice cargo install bindgen-cli --locked --root "$CACHE/bindgen" >&2
fi

# 3. Kernel source: linux-source-7.2 from forky, download only (never installed).
mkdir -p "$KCACHE"
if [ ! -f "$TREE/Makefile" ]; then
    setup_private_apt
    A=("${APT_OPTS[@]}")
    if ! ls "$KCACHE"/linux-source-7.2_*_all.deb >/dev/null 2>&1; then
        log "downloading linux-source-7.2 (private apt list, forky)"
        (cd "$KCACHE" && apt-get "${A[@]}" download linux-source-7.2 >&2) ||
            { private_apt_update && (cd "$KCACHE" && apt-get "${A[@]}" download linux-source-7.2 >&2); }
    fi
    deb=$(ls "$KCACHE"/linux-source-7.2_*_all.deb | tail -1)
    log "extracting $(basename "$deb")"
    rm -rf "$KCACHE/deb" "$TREE.partial"
    dpkg-deb -x "$deb" "$KCACHE/deb"
    mkdir -p "$TREE.partial"
    tar -C "$TREE.partial" --strip-components=1 -xf "$KCACHE"/deb/usr/src/linux-source-7.2.tar.xz
    rm -rf "$KCACHE/deb"
    mv "$TREE.partial" "$TREE"
fi

# 4. Environment of docs/toolchain.md section 5: Debian's rustc (Kbuild calls rustc,
# rustdoc and HOSTRUSTC by name), our bindgen, libclang 19.
export PATH=$CACHE/bindgen/bin:/usr/bin:/bin:/usr/sbin:/sbin
export LIBCLANG_PATH=/usr/lib/llvm-19/lib
make -C "$TREE" -s rustavailable >&2 || die "make rustavailable failed"

# 5. Config: tinyconfig + our fragment; redone only when the fragment changes.
stamp=$TREE/.rtsleep-fragment
if [ ! -f "$TREE/.config" ] || ! cmp -s "$FRAGMENT" "$stamp"; then
    log "configuring (tinyconfig + kernel.config)"
    make -C "$TREE" -s tinyconfig >&2
    (cd "$TREE" && scripts/kconfig/merge_config.sh -m .config "$FRAGMENT" >&2)
    make -C "$TREE" -s olddefconfig >&2
    # Every line of the fragment must have survived olddefconfig.
    bad=0
    while IFS= read -r line; do
        case "$line" in
            CONFIG_*=*) grep -qxF "$line" "$TREE/.config" || { log "not applied: $line"; bad=1; } ;;
            "# CONFIG_"*" is not set") k=${line#\# }; k=${k%% *}
                ! grep -q "^$k=" "$TREE/.config" || { log "not applied: $line"; bad=1; } ;;
        esac
    done < "$FRAGMENT"
    [ $bad = 0 ] || log "WARNING: some fragment lines were not applied (see above)"
    grep -qx 'CONFIG_FILE_LOCKING=y' "$TREE/.config" || die "CONFIG_FILE_LOCKING=y did not survive olddefconfig"
    grep -qx 'CONFIG_RUST=y' "$TREE/.config" || die "CONFIG_RUST=y did not survive olddefconfig"
    cp "$FRAGMENT" "$stamp"
fi

# 6. Build (make itself is incremental).
log "building (nice make -j$JOBS; 12-20 min from scratch)"
start=$(date +%s)
# The preparation pass (scripts/, objtool, generated headers, the Rust target
# spec) runs with one job first. A first build from nothing with -j2 once stopped
# there, at the host program scripts/generate_rust_target ("fixdep: error opening
# file: scripts/.generate_rust_target.d"), and passed when run again: the signature
# of two sub-makes building the same host program at once, one removing the
# dependency file (if_changed_dep does, after fixdep) while the other still needs
# it. A serial pass costs about a minute and leaves nothing of that kind to race
# over; the parallel build that follows finds it all up to date.
nice make -C "$TREE" -j1 prepare >&2
nice make -C "$TREE" -j"$JOBS" >&2
log "kernel built in $(( $(date +%s) - start )) s: $TREE/vmlinux, $TREE/arch/x86/boot/bzImage"
echo "$TREE"
