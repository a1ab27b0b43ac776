#!/usr/bin/env bash
# Build Xen 4.17 (Debian's source package) for the RT-Credit scheduler.
#
#   bash hypervisor/xen/build.sh [--debug] [--force] [--clean]
#
#   --debug   build variant "debug" (CONFIG_DEBUG=y) instead of "release"
#   --force   rebuild even if the inputs look unchanged
#   --clean   throw the variant's build tree away first (full rebuild)
#   --verbose stream make's output instead of only logging it
#
# Everything is cached under $REPO/.cache (git-ignored):
#   .cache/apt/            private apt lists (TOOLCHAIN.md section 0)
#   .cache/xen-dl/         the Debian source package (.dsc + tarballs)
#   .cache/xen-src/        pristine extracted source (never built in)
#   .cache/xen-build/<v>/  build tree per variant (release|debug)
#
# Inputs that end up in the build tree: hypervisor/xen/patches/*.patch (applied in
# name order) and hypervisor/xen/src/* (copied into xen/common/sched/). A stamp
# keyed on their hash makes a re-run with unchanged inputs a no-op.
set -euo pipefail

XEN_PKG_VERSION=4.17.5+72-g01140da4e8-1

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
CACHE=$REPO/.cache
PATCH_DIR=$HERE/patches
SRC_DIR=$HERE/src

VARIANT=release
FORCE=0
CLEAN=0
VERBOSE=0
for arg in "$@"; do
    case $arg in
        --debug) VARIANT=debug ;;
        --force) FORCE=1 ;;
        --clean) CLEAN=1 ;;
        --verbose) VERBOSE=1 ;;
        -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
        *) echo "build.sh: unknown argument: $arg" >&2; exit 2 ;;
    esac
done

BUILD=$CACHE/xen-build/$VARIANT
PRISTINE=$CACHE/xen-src
DL=$CACHE/xen-dl
APT_DIR=$CACHE/apt

log() { echo "[build.sh] $*" >&2; }
die() { echo "[build.sh] ERROR: $*" >&2; exit 1; }

START=$SECONDS

# --- host packages ---------------------------------------------------------------
# shellcheck source=pkgs.sh
. "$HERE/pkgs.sh"

# --- private apt configuration (TOOLCHAIN.md section 0) -----------------------------
# Xen's source lives in a suite (deb-src bookworm) the machine is not configured for.
# A private list keeps the system's apt setup untouched. The mirror is taken from
# the machine's own entry so this works behind whatever mirror/proxy it uses.
APT_OPTS=()
setup_private_apt() {
    local mirror list
    mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
    [ -n "$mirror" ] || die "cannot read the mirror URI from /etc/apt/sources.list.d/debian.sources"
    mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial"
    list=$(cat <<LIST
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror bookworm main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror forky main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror trixie-backports main
LIST
)
    # Rewrite only when it differs, so the lists are not invalidated needlessly.
    if [ ! -f "$APT_DIR/sources.list" ] || [ "$(cat "$APT_DIR/sources.list")" != "$list" ]; then
        printf '%s\n' "$list" > "$APT_DIR/sources.list"
    fi
    # Dir::Cache is private too: otherwise apt would rebuild the system's package
    # cache (/var/cache/apt/*.bin) from our private lists.
    APT_OPTS=(-o "Dir::Etc::sourcelist=$APT_DIR/sources.list" -o "Dir::Etc::sourceparts=-"
              -o "Dir::State::Lists=$APT_DIR/lists" -o "Dir::Cache=$APT_DIR/cache")
}

fetch_source() {
    local dsc=$DL/xen_${XEN_PKG_VERSION}.dsc
    if [ -f "$dsc" ]; then return 0; fi
    setup_private_apt
    if ! ls "$APT_DIR/lists/"*bookworm_main_source_Sources* >/dev/null 2>&1; then
        log "apt-get update (private lists)"
        apt-get "${APT_OPTS[@]}" update >&2
    fi
    mkdir -p "$DL"
    log "downloading xen $XEN_PKG_VERSION source package"
    # Download only (TOOLCHAIN.md: never install binaries from other suites).
    # stdout stays reserved for the output paths (smoke.sh and others parse it).
    (cd "$DL" && apt-get "${APT_OPTS[@]}" source --download-only "xen=$XEN_PKG_VERSION" >&2) ||
        { apt-get "${APT_OPTS[@]}" update >&2 &&
          (cd "$DL" && apt-get "${APT_OPTS[@]}" source --download-only "xen=$XEN_PKG_VERSION" >&2); }
    [ -f "$dsc" ] || die "download did not produce $dsc"
}

extract_pristine() {
    local stamp=$PRISTINE/.rtc-pristine
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$XEN_PKG_VERSION" ]; then return 0; fi
    log "extracting pristine source into $PRISTINE"
    rm -rf "$PRISTINE" "$PRISTINE.tmp"
    # dpkg-source checks the tarballs against the .dsc checksums (the .dsc itself came
    # through apt, verified by the signed Sources index) and applies Debian's patches.
    dpkg-source --no-copy -x "$DL/xen_${XEN_PKG_VERSION}.dsc" "$PRISTINE.tmp" >&2
    mv "$PRISTINE.tmp" "$PRISTINE"
    echo "$XEN_PKG_VERSION" > "$stamp"
}

# --- inputs and their hash ----------------------------------------------------------
list_patches() { [ -d "$PATCH_DIR" ] && find "$PATCH_DIR" -maxdepth 1 -name '*.patch' -type f | LC_ALL=C sort; true; }
list_src()     { [ -d "$SRC_DIR" ] && (cd "$SRC_DIR" && find . -type f | LC_ALL=C sort); true; }

# Hash of names + contents; the variant and the Xen version are part of the key.
hash_patches() {
    { echo "xen=$XEN_PKG_VERSION"; list_patches | while read -r f; do
          echo "== $(basename "$f")"; cat "$f"; done; } | sha256sum | cut -d' ' -f1
}
hash_all() {
    { echo "variant=$VARIANT"; hash_patches
      list_src | while read -r f; do echo "== $f"; cat "$SRC_DIR/$f"; done
      # The Rust core and the build recipe itself.
      hash_rust
      sha256sum "$HERE/build.sh"; } | sha256sum | cut -d' ' -f1
}

# --- build tree ---------------------------------------------------------------------
# A tree is tied to one patch set: when the patches change, start again from the
# pristine copy (reverse-applying old patches is fragile). Changes in src/ only are
# synced file by file so make can rebuild incrementally.
prepare_tree() {
    local want have=""
    want=$(hash_patches)
    [ -f "$BUILD/.rtc-patches" ] && have=$(cat "$BUILD/.rtc-patches")
    if [ "$CLEAN" = 1 ] || [ "$want" != "$have" ] || [ ! -d "$BUILD/xen" ]; then
        log "fresh build tree $BUILD"
        rm -rf "$BUILD"
        mkdir -p "$BUILD"
        # Copy the contents (not the directory entry) so this also works when
        # .cache/xen-src is a symlink to a shared copy.
        cp -a "$PRISTINE/." "$BUILD/"
        rm -f "$BUILD/.rtc-pristine" "$BUILD/.rtc-inputs"
        apply_patches
        echo "$want" > "$BUILD/.rtc-patches"
    fi
    sync_src
}

apply_patches() {
    local p n=0
    while read -r p; do
        [ -n "$p" ] || continue
        # Dry run first so a bad patch leaves no half-applied tree behind.
        if ! patch -d "$BUILD" -p1 --dry-run --batch --forward -s < "$p" >/dev/null; then
            rm -rf "$BUILD"
            die "patch does not apply to Xen $XEN_PKG_VERSION: $p
       (try: patch -d $PRISTINE -p1 --dry-run < $p   to see the rejected hunks)"
        fi
        patch -d "$BUILD" -p1 --batch --forward -s < "$p"
        log "applied $(basename "$p")"
        n=$((n + 1))
    done < <(list_patches)
    [ "$n" -gt 0 ] || log "no patches (hypervisor/xen/patches absent or empty)"
}

# Copy hypervisor/xen/src/* into xen/common/sched/, touching only files whose
# content changed (keeps make incremental). Files we copied earlier but that are
# gone from src/ are removed again; the list lives in .rtc-src-files.
sync_src() {
    local dest=$BUILD/xen/common/sched f
    local manifest=$BUILD/.rtc-src-files
    if [ -f "$manifest" ]; then
        while read -r f; do
            [ -n "$f" ] && [ ! -f "$SRC_DIR/$f" ] && { log "removing stale $f"; rm -f "$dest/$f"; }
        done < "$manifest"
    fi
    : > "$manifest.new"
    while read -r f; do
        [ -n "$f" ] || continue
        mkdir -p "$dest/$(dirname "$f")"
        cmp -s "$SRC_DIR/$f" "$dest/$f" || cp "$SRC_DIR/$f" "$dest/$f"
        echo "$f" >> "$manifest.new"
    done < <(list_src)
    mv "$manifest.new" "$manifest"
}

# --- Rust core (hypervisor/src, crate rtcredit) ---------------------------------------
# TOOLCHAIN.md section 3: Debian's rustc-web with the library source, -Zbuild-std for
# our JSON target (Xen's code model, soft-float, no red zone), fat LTO, then `ld -r`
# keeping only the C ABI (the rtcredit_* functions of include/rtcredit.h) in one object
# that the patched xen/common/sched/Makefile links (rtcredit_core.rs.o).
RUST_INPUTS=("$REPO/hypervisor/src" "$REPO/hypervisor/Cargo.toml" "$REPO/hypervisor/include"
             "$HERE/core" "$HERE/x86_64-xen-hypervisor.json")
hash_rust() {
    find "${RUST_INPUTS[@]}" -type f ! -path '*/target/*' | LC_ALL=C sort |
        while read -r f; do echo "== $f"; cat "$f"; done | sha256sum | cut -d' ' -f1
}

# The target spec's format moved between rustc versions: up to 1.90 the pointer
# width is a string and there is no "rustc-abi" field.
write_target_spec() {
    local out=$1 minor
    minor=$(/usr/bin/rustc --version | sed -E 's/^rustc 1\.([0-9]+).*/\1/')
    if [ "$minor" -le 90 ]; then
        sed -e 's/"target-pointer-width": *"\{0,1\}64"\{0,1\}/"target-pointer-width": "64"/' \
            -e '/"rustc-abi"/d' "$HERE/x86_64-xen-hypervisor.json" > "$out"
    else
        sed -e 's/"target-pointer-width": *"64"/"target-pointer-width": 64/' \
            "$HERE/x86_64-xen-hypervisor.json" > "$out"
    fi
}

build_rust_core() {
    [ -d "$SRC_DIR" ] || return 0    # stock Xen: no shim, nothing uses the core
    ensure_pkgs rustc-web cargo-web rust-web-src binutils
    local target_dir=$BUILD/rust-target spec sched=$BUILD/xen/common/sched
    local archive obj syms=() extra=()
    mkdir -p "$target_dir"
    spec=$target_dir/x86_64-xen-hypervisor.json
    write_target_spec "$spec"
    # Newer cargo wants custom JSON targets acknowledged explicitly.
    /usr/bin/cargo -Z help 2>/dev/null | grep -q json-target-spec && extra+=(-Zjson-target-spec)
    log "building the Rust core ($(/usr/bin/rustc --version))"
    (cd "$HERE/core" &&
        RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 \
        RUSTFLAGS="-Zno-jump-tables -Zcf-protection=branch" \
        nice -n 10 /usr/bin/cargo build --release -Zbuild-std=core,compiler_builtins "${extra[@]}" \
            --target "$spec" --target-dir "$target_dir") >&2 ||
        die "cargo build of the Rust core failed"
    archive=$target_dir/x86_64-xen-hypervisor/release/librtcredit_xen.a
    # The exported functions, as C sees them in the generated header.
    mapfile -t syms < <(grep -oE '\brtcredit_[a-z_]+\(' "$REPO/hypervisor/include/rtcredit.h" |
                        tr -d '(' | LC_ALL=C sort -u)
    [ ${#syms[@]} -gt 0 ] || die "no rtcredit_* functions found in include/rtcredit.h"
    obj=$sched/rtcredit_core.rs.o
    ld -r $(printf -- '-u %s ' "${syms[@]}") -o "$obj.tmp" "$archive" ||
        die "ld -r of $archive failed"
    # No panic reachable from the C ABI (DESIGN.md): after LTO no function may still
    # call into core's panic machinery. Only the handler itself may remain.
    if nm "$obj.tmp" | grep -q 'core9panicking'; then
        nm "$obj.tmp" | grep 'core9panicking' >&2
        rm -f "$obj.tmp"
        die "the Rust core still has a panic path (above); make the operation total"
    fi
    cmp -s "$obj.tmp" "$obj" && rm -f "$obj.tmp" || mv "$obj.tmp" "$obj"
    cmp -s "$REPO/hypervisor/include/rtcredit.h" "$sched/rtcredit.h" ||
        cp "$REPO/hypervisor/include/rtcredit.h" "$sched/rtcredit.h"
    log "Rust core: $(stat -c %s "$obj") bytes, ${#syms[@]} functions, no panic path"
}

# --- configure and build ---------------------------------------------------------------
configure() {
    local mk=(make -C "$BUILD/xen" XEN_TARGET_ARCH=x86_64)
    "${mk[@]}" defconfig > "$BUILD/config.log" 2>&1 || { cat "$BUILD/config.log" >&2; die "defconfig failed"; }
    if [ "$VARIANT" = debug ]; then
        # CONFIG_DEBUG turns on ASSERT()s, debug-only checks and verbose logs.
        sed -i '/^# CONFIG_DEBUG is not set$/d; /^CONFIG_DEBUG=/d' "$BUILD/xen/.config"
        echo 'CONFIG_DEBUG=y' >> "$BUILD/xen/.config"
        "${mk[@]}" olddefconfig >> "$BUILD/config.log" 2>&1 || { cat "$BUILD/config.log" >&2; die "olddefconfig failed"; }
        grep -qx 'CONFIG_DEBUG=y' "$BUILD/xen/.config" || die "CONFIG_DEBUG=y did not stick"
    fi
}

report() {
    local x
    for x in xen xen-syms xen.gz; do
        [ -f "$BUILD/xen/$x" ] || die "missing output $BUILD/xen/$x"
        echo "$BUILD/xen/$x"
    done
    log "variant=$VARIANT elapsed=$((SECONDS - START))s"
}

main() {
    ensure_pkgs dpkg-dev build-essential bison flex python3 xz-utils patch
    fetch_source
    extract_pristine
    prepare_tree

    local inputs
    inputs=$(hash_all)
    if [ "$FORCE" = 0 ] && [ -f "$BUILD/.rtc-inputs" ] &&
       [ "$(cat "$BUILD/.rtc-inputs")" = "$inputs" ] && [ -f "$BUILD/xen/xen" ]; then
        log "up to date ($VARIANT), nothing to do"
        report
        return 0
    fi
    rm -f "$BUILD/.rtc-inputs"

    build_rust_core
    [ -f "$BUILD/xen/.config" ] && [ -f "$BUILD/.rtc-configured" ] || {
        configure; touch "$BUILD/.rtc-configured"; }
    log "make ($VARIANT), about 1-2 min on 2 cores; log: $BUILD/build.log"
    # Keep the caller's terminal readable: the full make output goes to a log,
    # and only its tail is shown when something fails (--verbose streams it).
    if [ "$VERBOSE" = 1 ]; then
        nice -n 10 make -C "$BUILD/xen" XEN_TARGET_ARCH=x86_64 -j"$(nproc)" 2>&1 | tee "$BUILD/build.log" >&2
    elif ! nice -n 10 make -C "$BUILD/xen" XEN_TARGET_ARCH=x86_64 -j"$(nproc)" > "$BUILD/build.log" 2>&1; then
        tail -n 40 "$BUILD/build.log" >&2
        die "make failed (full log: $BUILD/build.log)"
    fi
    echo "$inputs" > "$BUILD/.rtc-inputs"
    report
}

main
