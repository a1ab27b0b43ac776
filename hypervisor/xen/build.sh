#!/usr/bin/env bash
# Build Xen 4.17 (Debian's source package) for the RT-Credit scheduler.
#
#   bash hypervisor/xen/build.sh [--debug] [--force] [--clean] [--update] [--verbose]
#
#   --debug   build variant "debug" (CONFIG_DEBUG=y) instead of "release"
#   --force   rebuild even if the inputs look unchanged
#   --clean   throw the variant's build tree away first (full rebuild)
#   --update  resolve Debian's newest 4.17 source again (otherwise the first one
#             resolved stays pinned in .cache/xen-dl/VERSION)
#   --verbose stream make's output instead of only logging it
#
# Env: XEN_PKG_VERSION (a Debian version of the xen source package), XEN_RUSTC and
# XEN_CARGO (the compiler for the Rust core; default Debian's rustc-web in /usr/bin).
#
# Everything is cached under $REPO/.cache (git-ignored):
#   .cache/apt/            private apt lists (docs/toolchain.md, "More Debian suites")
#   .cache/xen-dl/         the Debian source package (.dsc + tarballs) and VERSION
#   .cache/xen-src/        pristine extracted source (never built in)
#   .cache/xen-build/<v>/  build tree per variant (release|debug); rust-flags.txt there
#                          says which rustc and which code-generation flags were used
#
# Inputs that end up in the build tree: hypervisor/xen/patches/*.patch (applied in
# name order) and hypervisor/xen/src/* (copied into xen/common/sched/). A stamp
# keyed on their hash makes a re-run with unchanged inputs a no-op.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
CACHE=$REPO/.cache
PATCH_DIR=$HERE/patches
SRC_DIR=$HERE/src

VARIANT=release
FORCE=0
CLEAN=0
VERBOSE=0
UPDATE=0
for arg in "$@"; do
    case $arg in
        --debug) VARIANT=debug ;;
        --force) FORCE=1 ;;
        --clean) CLEAN=1 ;;
        --verbose) VERBOSE=1 ;;
        --update) UPDATE=1 ;;
        -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
        *) echo "build.sh: unknown argument: $arg" >&2; exit 2 ;;
    esac
done

BUILD=$CACHE/xen-build/$VARIANT
PRISTINE=$CACHE/xen-src
DL=$CACHE/xen-dl

log() { echo "[build.sh] $*" >&2; }
die() { echo "[build.sh] ERROR: $*" >&2; exit 1; }

START=$SECONDS

# --- host packages ---------------------------------------------------------------
# shellcheck source=../../scripts/pkgs.sh
. "$REPO/scripts/pkgs.sh"
# shellcheck source=lib-tree.sh
. "$HERE/lib-tree.sh"

# --- which Xen ----------------------------------------------------------------------
# Debian's newest 4.17 source package that can be downloaded, from bookworm or
# bookworm-security (the private lists of setup_private_apt in scripts/pkgs.sh),
# resolved once and then kept in .cache/xen-dl/VERSION so that the build does not move
# between runs; XEN_PKG_VERSION=V picks one, `--update` resolves again.
# Why "that can be downloaded": bookworm-security lists 4.17.7+13-g2445b30a44-0+deb12u1
# (checked 2026-12-01), but this workplace's mirror serves only the binary packages of
# the security suite, not its source pool (404), so the build falls back to the
# newest point release in bookworm itself (4.17.5+72-g01140da4e8-1) and says so. On a
# machine whose mirror has the security sources the newest one is taken.
fetch_one() {
    local version=$1
    [ -f "$DL/xen_${version}.dsc" ] && return 0
    log "downloading the xen $version source package"
    # Download only (never install binaries from other suites). stdout stays reserved
    # for the output paths (smoke.sh and others parse it).
    (cd "$DL" && apt-get "${APT_OPTS[@]}" source --download-only "xen=$version" > "$DL/download.log" 2>&1) &&
        [ -f "$DL/xen_${version}.dsc" ]
}
fetch_source() {
    local pinned=$DL/VERSION candidates v
    mkdir -p "$DL"
    if [ -n "${XEN_PKG_VERSION:-}" ]; then
        log "Xen $XEN_PKG_VERSION (XEN_PKG_VERSION)"
        [ -f "$DL/xen_${XEN_PKG_VERSION}.dsc" ] || { setup_private_apt; fetch_one "$XEN_PKG_VERSION"; } ||
            die "cannot download xen=$XEN_PKG_VERSION: $(tail -n 3 "$DL/download.log")"
        return 0
    fi
    if [ "$UPDATE" = 0 ] && [ -s "$pinned" ] && [ -f "$DL/xen_$(cat "$pinned").dsc" ]; then
        XEN_PKG_VERSION=$(cat "$pinned")
        log "Xen $XEN_PKG_VERSION (pinned in .cache/xen-dl/VERSION; --update resolves again)"
        return 0
    fi
    setup_private_apt
    [ "$UPDATE" = 1 ] && private_apt_update
    candidates=$(apt-cache "${APT_OPTS[@]}" showsrc xen 2>/dev/null |
                 awk '/^Version: 4\.17\./ {print $2}' | sort -Vru)
    [ -n "$candidates" ] || die "no xen 4.17 source package in the private lists (bookworm, bookworm-security)"
    for v in $candidates; do
        if fetch_one "$v"; then
            XEN_PKG_VERSION=$v
            echo "$v" > "$pinned"
            log "Xen $v: the newest 4.17 source that downloads, of: $(echo $candidates) (pinned)"
            return 0
        fi
        log "xen $v is listed but does not download ($(grep -m1 -oE '[0-9]{3} +Not Found|^E: .*' "$DL/download.log" || echo 'see .cache/xen-dl/download.log')); trying the next"
    done
    die "none of the xen 4.17 source packages downloads: $(echo $candidates) (last log: $DL/download.log)"
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
    patch_set_hash "xen=$XEN_PKG_VERSION" "${PATCHES[@]}"
}
hash_all() {
    { echo "variant=$VARIANT"; hash_patches
      list_src | while read -r f; do echo "== $f"; cat "$SRC_DIR/$f"; done
      # The Rust core and the build recipe itself.
      hash_rust
      "$RUSTC_BIN" --version 2>/dev/null || true
      sha256sum "$HERE/build.sh" "$HERE/lib-tree.sh" "$REPO/scripts/pkgs.sh"; } | sha256sum | cut -d' ' -f1
}

PATCHES=()    # the patch set in the order it is applied (main reads it)

# --- build tree ---------------------------------------------------------------------
# A tree is tied to one patch set (lib-tree.sh). Changes in src/ only are synced file
# by file so make can rebuild incrementally.
prepare_tree() {
    local want
    want=$(hash_patches)
    if [ "$CLEAN" = 1 ] || ! tree_is_current "$BUILD" "$want" xen; then
        tree_from_pristine "$PRISTINE" "$BUILD" "Xen $XEN_PKG_VERSION" "${PATCHES[@]}"
        tree_stamp "$BUILD" "$want"
    fi
    sync_src
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
# docs/toolchain.md section 3: Debian's rustc-web with the library source, -Zbuild-std for
# our JSON target (Xen's code model, soft-float, no red zone), fat LTO, then `ld -r`
# keeping only the C ABI (the rtcredit_* functions of include/rtcredit.h) in one object
# that the patched xen/common/sched/Makefile links (rtcredit_core.rs.o).
RUST_INPUTS=("$REPO/hypervisor/src" "$REPO/hypervisor/Cargo.toml" "$REPO/hypervisor/include"
             "$HERE/core" "$HERE/x86_64-xen-hypervisor.json")
hash_rust() {
    find "${RUST_INPUTS[@]}" -type f ! -path '*/target/*' | LC_ALL=C sort |
        while read -r f; do echo "== $f"; cat "$f"; done | sha256sum | cut -d' ' -f1
}

# Debian's rustc-web moves with security updates (1.85, then 1.96): every flag that
# depends on the compiler is probed, never assumed. XEN_RUSTC / XEN_CARGO pick another
# compiler (an unpacked rustc-web, for instance); the library source must sit in its
# sysroot (lib/rustlib/src/rust), as rust-web-src puts it.
RUSTC_BIN=${XEN_RUSTC:-/usr/bin/rustc}
CARGO_BIN=${XEN_CARGO:-/usr/bin/cargo}

rustc_minor() { "$RUSTC_BIN" --version | sed -E 's/^rustc 1\.([0-9]+).*/\1/'; }

# The target spec's format moved between rustc versions: up to 1.90 the pointer
# width is a string and there is no "rustc-abi" field.
write_target_spec() {
    local out=$1
    if [ "$(rustc_minor)" -le 90 ]; then
        sed -e 's/"target-pointer-width": *"\{0,1\}64"\{0,1\}/"target-pointer-width": "64"/' \
            -e '/"rustc-abi"/d' "$HERE/x86_64-xen-hypervisor.json" > "$out"
    else
        sed -e 's/"target-pointer-width": *"64"/"target-pointer-width": 64/' \
            "$HERE/x86_64-xen-hypervisor.json" > "$out"
    fi
}

# Does the installed rustc take these flags? It compiles an empty crate for the host
# with them: an unknown option, or one the target rejects, fails here. The crate is
# no_core: flags that change the ABI (retpoline) would otherwise clash with the
# sysroot's prebuilt core, while the real build rebuilds core with the same flags.
rustc_accepts() {
    local dir
    dir=$(mktemp -d)
    printf '#![feature(no_core)]\n#![no_core]\n' > "$dir/probe.rs"
    RUSTC_BOOTSTRAP=1 "$RUSTC_BIN" --crate-type=lib --emit=obj -o "$dir/probe.o" "$@" "$dir/probe.rs" \
        > "$dir/out" 2>&1
    local rc=$?
    rm -rf "$dir"
    return $rc
}

# The first spelling the compiler takes of each alternative; none: empty.
first_accepted() {
    local f
    for f in "$@"; do
        # shellcheck disable=SC2086  # a flag may be two words
        if rustc_accepts $f; then echo "$f"; return 0; fi
    done
    return 0
}

xen_config_has() { grep -qx "$1=y" "$BUILD/xen/.config"; }

# The code-generation flags of the Rust core, to match Xen's C in this configuration:
#   jump tables off (Xen's C uses -fno-jump-tables with indirect-branch thunks; an
#     indirect jump through a table would bypass the thunks); mandatory;
#   indirect calls through Xen's retpoline thunks (__x86_indirect_thunk_*) when Xen is
#     built with CONFIG_INDIRECT_THUNK (gcc -mindirect-branch=thunk-extern);
#   returns through Xen's __x86_return_thunk when Xen is built with CONFIG_RETURN_THUNK
#     (gcc -mfunction-return=thunk-extern; Debian's 4.17.5 has it, for SRSO);
#   endbr64 landing pads when Xen enforces CET-IBT (CONFIG_XEN_IBT, gcc
#     -fcf-protection=branch): the shim calls the core directly, but Xen's IBT build
#     refuses functions that may be called indirectly without one.
# A hardening flag Xen's configuration asks for but the compiler lacks is a warning
# (rustc 1.85 has no retpoline flag, 1.96 has); rust-flags.txt says what was used.
RUST_FLAGS=()
probe_rust_flags() {
    local f report=()
    f=$(first_accepted "-Cjump-tables=no" "-Zno-jump-tables")
    [ -n "$f" ] || die "$("$RUSTC_BIN" --version) takes neither -Cjump-tables=no nor -Zno-jump-tables"
    RUST_FLAGS=("$f"); report+=("jump tables off: $f")
    if xen_config_has CONFIG_INDIRECT_THUNK; then
        f=$(first_accepted "-Zretpoline-external-thunk" "-Cretpoline-external-thunk")
        if [ -n "$f" ]; then RUST_FLAGS+=("$f"); report+=("indirect thunks: $f")
        else log "WARNING: Xen uses indirect-branch thunks but $("$RUSTC_BIN" --version) has no retpoline flag"
             report+=("indirect thunks: unsupported by this rustc"); fi
    fi
    if xen_config_has CONFIG_RETURN_THUNK; then
        f=$(first_accepted "-Zfunction-return=thunk-extern" "-Cfunction-return=thunk-extern")
        if [ -n "$f" ]; then RUST_FLAGS+=("$f"); report+=("return thunk: $f")
        else log "WARNING: Xen uses a return thunk but this rustc has no -Zfunction-return"
             report+=("return thunk: unsupported by this rustc"); fi
    else
        report+=("return thunk: not used (Xen has no CONFIG_RETURN_THUNK)")
    fi
    if xen_config_has CONFIG_XEN_IBT; then
        f=$(first_accepted "-Zcf-protection=branch" "-Ccf-protection=branch")
        [ -n "$f" ] || die "Xen enforces CET-IBT but this rustc has no cf-protection flag"
        RUST_FLAGS+=("$f"); report+=("endbr64: $f")
    fi
    log "Rust core flags ($("$RUSTC_BIN" --version)): ${RUST_FLAGS[*]}"
    printf '%s\n' "rustc: $("$RUSTC_BIN" --version)" "flags: ${RUST_FLAGS[*]}" "${report[@]}" \
        > "$BUILD/rust-flags.txt"
}

# What the core object may ask of Xen at link time: the host callbacks of
# include/rtcredit.h, Xen's string functions and the thunks Xen defines. Its
# relocations must be PC-relative (Xen asserts it has no GOT or PLT entries, and
# the image sits outside the top 2 GiB, so no absolute 32-bit ones either); 64-bit
# absolute ones in data (tables of pointers) are what Xen's own C has too.
check_core_object() {
    local obj=$1 bad undef relocs
    undef=$(nm -u "$obj" | awk '{print $2}' | LC_ALL=C sort -u)
    bad=$(grep -vE '^(rtcredit_host_[a-z_]+|mem(cpy|set|move|cmp)|__x86_indirect_thunk_r[a-z0-9]+|__x86_return_thunk)$' \
          <<< "$undef" | grep . || true)
    [ -z "$bad" ] || die "the Rust core needs symbols Xen does not provide: $(echo $bad)"
    relocs=$(readelf -rW "$obj" | awk '$3 ~ /^R_X86_64_/ {print $3}' | LC_ALL=C sort | uniq -c)
    bad=$(awk '$2 !~ /^R_X86_64_(PC32|PLT32|PC64|64)$/' <<< "$relocs")
    [ -z "$bad" ] || die "the Rust core has relocations Xen cannot take: $(echo $bad)"
    {
        echo "undefined symbols: $(echo $undef)"
        echo "relocations: $(echo $relocs)"
        echo "endbr64 instructions: $(objdump -d "$obj" | grep -c endbr64 || true)"
    } >> "$BUILD/rust-flags.txt"
}

build_rust_core() {
    [ -d "$SRC_DIR" ] || return 0    # stock Xen: no shim, nothing uses the core
    ensure_pkgs binutils
    [ -x "$RUSTC_BIN" ] || die "no rustc at $RUSTC_BIN"
    local target_dir=$BUILD/rust-target spec sched=$BUILD/xen/common/sched
    local archive obj syms=() extra=()
    mkdir -p "$target_dir"
    spec=$target_dir/x86_64-xen-hypervisor.json
    write_target_spec "$spec"
    probe_rust_flags
    # Newer cargo wants custom JSON targets acknowledged explicitly.
    "$CARGO_BIN" -Z help 2>/dev/null | grep -q json-target-spec && extra+=(-Zjson-target-spec)
    log "building the Rust core"
    (cd "$HERE/core" &&
        RUSTC=$RUSTC_BIN RUSTC_BOOTSTRAP=1 RUSTFLAGS="${RUST_FLAGS[*]}" \
        nice -n 10 "$CARGO_BIN" build --release -Zbuild-std=core,compiler_builtins "${extra[@]}" \
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
    # compiler_builtins is never part of the LTO: a routine the core calls from it (u128
    # division, a float conversion) drags its whole object in, bitcode included, which
    # Xen's link (and binutils' nm, through the LLVM plugin) cannot take.
    # (grep without -q: with pipefail, -q's early exit would fail the pipe by SIGPIPE.)
    if readelf -SW "$obj.tmp" | grep '_ZN17compiler_builtins' > /dev/null; then
        rm -f "$obj.tmp"
        die "the Rust core calls a compiler_builtins routine (u128 division or multiplication, float arithmetic?): make it plain u64 arithmetic"
    fi
    # No panic reachable from the C ABI (docs/design.md): after LTO no function may still
    # call into core's panic machinery. Only the handler itself may remain.
    if nm "$obj.tmp" | grep 'core9panicking' > /dev/null; then
        nm "$obj.tmp" | grep 'core9panicking' >&2
        rm -f "$obj.tmp"
        die "the Rust core still has a panic path (above); make the operation total"
    fi
    check_core_object "$obj.tmp"
    cmp -s "$obj.tmp" "$obj" && rm -f "$obj.tmp" || mv "$obj.tmp" "$obj"
    cmp -s "$REPO/hypervisor/include/rtcredit.h" "$sched/rtcredit.h" ||
        cp "$REPO/hypervisor/include/rtcredit.h" "$sched/rtcredit.h"
    log "Rust core: $(stat -c %s "$obj") bytes, ${#syms[@]} functions, no panic path; $(sed -n '/^undefined/,$p' "$BUILD/rust-flags.txt" | tr '\n' ';')"
}

# --- configure and build ---------------------------------------------------------------
# Xen's defconfig plus RTDS, Xen's own real-time scheduler, which the end-to-end run
# compares against (sched=rtds). 4.17 builds it by default only with DEBUG; otherwise
# it needs CONFIG_UNSUPPORTED, and the scheduler menu is visible only with
# CONFIG_EXPERT; options those two switch on by default are switched off again and
# the result checked against defconfig's own output (defconfig.orig beside the tree).
configure() {
    local mk=(make -C "$BUILD/xen" XEN_TARGET_ARCH=x86_64)
    "${mk[@]}" defconfig > "$BUILD/config.log" 2>&1 || { cat "$BUILD/config.log" >&2; die "defconfig failed"; }
    cp "$BUILD/xen/.config" "$BUILD/defconfig.orig"
    sed -i '/CONFIG_EXPERT[= ]/d; /CONFIG_UNSUPPORTED[= ]/d; /CONFIG_SCHED_RTDS[= ]/d' "$BUILD/xen/.config"
    printf 'CONFIG_EXPERT=y\nCONFIG_UNSUPPORTED=y\nCONFIG_SCHED_RTDS=y\n' >> "$BUILD/xen/.config"
    "${mk[@]}" olddefconfig >> "$BUILD/config.log" 2>&1 || { cat "$BUILD/config.log" >&2; die "olddefconfig failed"; }
    # EXPERT and UNSUPPORTED make other options visible, and some then default to y
    # (TBOOT, GDBSX, DEBUG_INFO in 4.17): switch those off again, so that the only
    # options set beyond defconfig's are the ones named here.
    local wanted='^CONFIG_(EXPERT|UNSUPPORTED|SCHED_RTDS|SCHED_CREDIT2_DEFAULT)=' extra
    extra=$(grep -E '^CONFIG_[A-Z0-9_]+=' "$BUILD/xen/.config" | grep -vxFf "$BUILD/defconfig.orig" |
            grep -vE "$wanted" || true)
    if [ -n "$extra" ]; then
        sed 's/^\(CONFIG_[A-Z0-9_]*\)=.*/# \1 is not set/' <<< "$extra" >> "$BUILD/xen/.config"
        "${mk[@]}" olddefconfig >> "$BUILD/config.log" 2>&1 || { cat "$BUILD/config.log" >&2; die "olddefconfig failed"; }
    fi
    extra=$(grep -E '^CONFIG_[A-Z0-9_]+=' "$BUILD/xen/.config" | grep -vxFf "$BUILD/defconfig.orig" |
            grep -vE "$wanted" || true)
    [ -z "$extra" ] || die "enabling RTDS changed other options: $(echo $extra)"
    grep -qx 'CONFIG_SCHED_RTDS=y' "$BUILD/xen/.config" || die "CONFIG_SCHED_RTDS=y did not stick"
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
    # The compiler is part of the inputs' hash, so it is installed before that.
    if [ -d "$SRC_DIR" ] && [ -z "${XEN_RUSTC:-}" ]; then ensure_pkgs rustc-web cargo-web rust-web-src; fi
    fetch_source
    extract_pristine
    # Read here, not in a subshell of its users, so that a list_patches that dies
    # stops the build.
    local patch_list
    patch_list=$(list_patches)
    [ -z "$patch_list" ] || mapfile -t PATCHES <<< "$patch_list"
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

    # Configured first: the core's hardening flags follow Xen's .config.
    # The stamp names the configuration recipe: a tree configured by an older one
    # is configured again.
    local recipe="defconfig+rtds variant=$VARIANT"
    [ -f "$BUILD/xen/.config" ] && [ "$(cat "$BUILD/.rtc-configured" 2>/dev/null)" = "$recipe" ] || {
        configure; echo "$recipe" > "$BUILD/.rtc-configured"; }
    build_rust_core
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
