# Sourced by smoke.sh, xl-smoke.sh, fault-smoke.sh, guest-kmod/test-qemu.sh and tests/e2e/run.sh: helpers to put a
# Debian 6.1 dom0 kernel's modules and the toolstack built by build-tools.sh into a
# busybox initramfs. The caller defines CACHE (the repo's .cache), log() and die().
#
#   prepare_dom0_kernel                  sets DOM0_VMLINUZ, KVER, DOM0_MODDIR
#   install_dom0_modules ROOT NAME...    ROOT/lib/modules/*.ko + ROOT/modules.load
#                                        (dependencies first, from each .modinfo)
#   install_xen_toolstack ROOT           XEN_DOM0_TOOLS from build-tools.sh's dist, at
#                                        the same paths, plus every library ldd lists,
#                                        the loader and libgcc_s.so.1
#   install_elf ROOT FILE DEST [LIBDIR]  one dynamic ELF and its libraries
#   cpio_gz ROOT OUT                     ROOT as a gzip'd newc initramfs (sorted, root-owned)
#   dom0_init_mounts                     prints the first lines of a toolstack dom0's /init:
#                                        busybox applets, PATH, the file systems, the
#                                        run-time directories xenstored and xl expect
#   busybox_root ROOT DIR...             ROOT with DIRs, static busybox and /dev/console
#   xen_qemu_argv ARRAY CLOCK SHIFT XEN XEN_WORDS DOM0_KERNEL DOM0_WORDS INITRAMFS [ARG...]
#                                        sets ARRAY to QEMU's command line booting Xen
#                                        with dom0 (the console words of every boot,
#                                        then the caller's), ARGs before the boot's own
#   run_qemu LOG TIMEOUT VERBOSE CMD...  CMD (QEMU) with no stdin, killed after TIMEOUT s,
#                                        output to LOG (and the terminal if VERBOSE=1);
#                                        returns CMD's exit code (124: timeout)
#   clock_setup, clock_check / clock_qemu_args / clock_describe CLOCK SHIFT
#                                        QEMU's clock mode (--clock icount|host, --shift)
#   distro_domu_kernel DIR               Debian's kernel and its DKMS-built module
#                                        (guest-kmod/build-distro.sh): sets DISTRO_VMLINUZ,
#                                        DISTRO_KVER, DISTRO_KO (uncompressed into DIR)

LIB_INITRAMFS_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
XEN_TOOLS_DIST=${XEN_TOOLS_DIST:-$CACHE/xen-tools/dist}
DOM0=${DOM0:-$CACHE/dom0-kernel}

# What a dom0 initramfs needs from the dist (paths inside it, kept as they are:
# libxl finds libxl-save-helper and xenconsole under /usr/lib/xen/bin).
XEN_DOM0_TOOLS=(
    usr/sbin/xl
    usr/sbin/xenstored
    usr/sbin/xenconsoled
    usr/lib/xen/bin/xen-init-dom0
    usr/lib/xen/bin/libxl-save-helper
    usr/lib/xen/bin/xenconsole
    usr/sbin/xentrace
    usr/bin/xenalyze
    usr/bin/xenstore
    usr/bin/xenstore-ls
    usr/bin/xenstore-read
    usr/bin/xenstore-write
    usr/bin/xenstore-list
)
# Modules of the 6.1 dom0 kernel the toolstack needs (dependencies are added).
XEN_DOM0_MODULES=(xen-privcmd xen-evtchn xen-gntdev xenfs)

# --- dom0 kernel (Debian bookworm linux-image-6.1.*-amd64) ------------------------------
# Resolved once through linux-image-amd64, then the cached .deb is reused without
# asking apt, so the kernel does not change between runs (same cache as smoke.sh).
prepare_dom0_kernel() {
    mkdir -p "$DOM0"
    local deb
    deb=$(ls "$DOM0"/linux-image-6.1.*-amd64_*.deb 2>/dev/null | head -n1 || true)
    if [ -z "$deb" ]; then
        local pkg
        pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
              awk '/Depends: linux-image-6\.1\./{print $2; exit}')
        if [ -z "$pkg" ]; then
            apt-get update >&2
            pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-6\.1\./{print $2; exit}')
        fi
        [ -n "$pkg" ] || die "cannot resolve linux-image-amd64 to a 6.1 kernel package"
        log "downloading $pkg"
        (cd "$DOM0" && { apt-get download "$pkg" >&2 || { apt-get update >&2 && apt-get download "$pkg" >&2; }; })
        deb=$(ls "$DOM0"/linux-image-6.1.*-amd64_*.deb | head -n1)
    fi
    if [ ! -f "$DOM0/root/.extracted" ] || [ "$(cat "$DOM0/root/.extracted")" != "$(basename "$deb")" ]; then
        log "extracting $(basename "$deb")"
        rm -rf "$DOM0/root"
        dpkg-deb -x "$deb" "$DOM0/root"
        basename "$deb" > "$DOM0/root/.extracted"
    fi
    DOM0_VMLINUZ=$(ls "$DOM0"/root/boot/vmlinuz-* | head -n1)
    KVER=${DOM0_VMLINUZ##*/vmlinuz-}
    DOM0_MODDIR=$DOM0/root/lib/modules/$KVER
    [ -f "$DOM0_VMLINUZ" ] && [ -d "$DOM0_MODDIR" ] || die "unexpected layout in $deb"
}

ko_cat() {
    case $1 in
        *.ko) cat "$1" ;;
        *.ko.xz) xz -dc "$1" ;;
        *.ko.zst) zstd -qdc "$1" ;;
        *) die "unknown module format: $1" ;;
    esac
}
# The package ships no modules.dep: dependencies come from each module's .modinfo.
modinfo_depends() {
    local tmp
    tmp=$(mktemp)
    ko_cat "$1" > "$tmp"
    objcopy -O binary --only-section=.modinfo "$tmp" /dev/stdout | tr '\0' '\n' |
        sed -n 's/^depends=//p' | tr ',' ' '
    rm -f "$tmp"
}
# Paths (relative to DOM0_MODDIR) of the named modules, dependencies first; built-in
# drivers are skipped.
dom0_module_paths() {
    local seen=" " m
    _add_mod() {
        local name=${1//-/_} rel d
        case $seen in *" $name "*) return 0 ;; esac
        seen+="$name "
        rel=$(grep -m1 -E "/${name//_/[-_]}\.ko(\.[a-z]+)?\$" "$DOM0_MODDIR/modules.order" || true)
        if [ -z "$rel" ]; then
            grep -qE "/${name//_/[-_]}\.ko\$" "$DOM0_MODDIR/modules.builtin" && return 0
            die "dom0 kernel $KVER has no module $1"
        fi
        for d in $(modinfo_depends "$DOM0_MODDIR/$rel"); do _add_mod "$d"; done
        echo "$rel"
    }
    for m in "$@"; do _add_mod "$m"; done
}
install_dom0_modules() {
    local root=$1 m name mods
    shift
    mkdir -p "$root/lib/modules"
    : > "$root/modules.load"
    mods=$(dom0_module_paths "$@") || die "cannot work out which dom0 modules to load"
    for m in $mods; do
        name=$(basename "$m"); name=${name%%.ko*}.ko
        ko_cat "$DOM0_MODDIR/$m" > "$root/lib/modules/$name"
        echo "$name" >> "$root/modules.load"
    done
}

# --- dynamic binaries -------------------------------------------------------------------
# Copies FILE to ROOT/DEST, every library ldd lists (searched in LIBDIR first, then the
# host, which is bookworm like the build) into ROOT/lib/x86_64-linux-gnu, and the
# loader into ROOT/lib64. ldd does not list libgcc_s.so.1, which glibc dlopens for
# pthread_cancel (without it `xl create` aborts with rc 134, docs/toolchain.md 4b):
# install_libgcc_s adds it.
install_elf() {
    local root=$1 file=$2 dest=$3 libdir=${4:-} out lib path
    mkdir -p "$root/$(dirname "$dest")" "$root/lib/x86_64-linux-gnu" "$root/lib64"
    cp -L "$file" "$root/$dest"
    out=$(LD_LIBRARY_PATH=$libdir ldd "$file" 2>&1) || {
        # Static or not an ELF: nothing more to copy.
        case $out in *"not a dynamic executable"*) return 0 ;; esac
        die "ldd $file failed: $out"; }
    case $out in *"not found"*) die "$file misses libraries: $(grep 'not found' <<< "$out")" ;; esac
    while read -r lib path; do
        [ -f "$root/lib/x86_64-linux-gnu/$lib" ] || cp -L "$path" "$root/lib/x86_64-linux-gnu/$lib"
    done < <(awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}' <<< "$out")
    path=$(awk '$1 ~ /^\/.*ld-linux/ {print $1}' <<< "$out")
    [ -n "$path" ] || die "no dynamic loader in ldd's output for $file"
    [ -f "$root/lib64/$(basename "$path")" ] || cp -L "$path" "$root/lib64/$(basename "$path")"
}
install_libgcc_s() {
    local root=$1 gcc_s
    # (awk reads to the end: an early exit would SIGPIPE ldconfig under pipefail)
    gcc_s=$(ldconfig -p | awk '$1 == "libgcc_s.so.1" && /x86-64/ && !f {f = $NF} END {print f}')
    [ -n "$gcc_s" ] || die "no libgcc_s.so.1 on the host"
    mkdir -p "$root/lib/x86_64-linux-gnu"
    cp -L "$gcc_s" "$root/lib/x86_64-linux-gnu/libgcc_s.so.1"
}

# The toolstack from build-tools.sh, plus the run-time directories it expects
# (/var/run -> /run and /var/lock -> /run/lock, so a tmpfs on /run covers them).
# cargo_release_bin PACKAGE BIN: builds workspace package PACKAGE (release, niced) and
# prints the path of its binary BIN.
cargo_release_bin() {
    log "building $2 (release)"
    (cd "$REPO" && nice cargo build --release -p "$1" --quiet >&2) ||
        die "cargo build --release -p $1 failed"
    local bin=${CARGO_TARGET_DIR:-$REPO/target}/release/$2
    [ -x "$bin" ] || die "no $bin after the build"
    echo "$bin"
}

# install_rtcredit_ctl ROOT BIN: dom0's administration tool (xen-config/, the workspace's
# release build BIN, dynamically linked against glibc) and the two Xen libraries it
# loads with dlopen, which ldd does not list: each with its own libraries.
install_rtcredit_ctl() {
    local root=$1 d=$XEN_TOOLS_DIST lib
    install_elf "$root" "$2" bin/rtcredit-ctl "$d/usr/lib"
    for lib in libxenctrl.so.4.17 libxenstore.so.4; do
        [ -e "$d/usr/lib/$lib" ] || die "the toolstack has no $lib"
        install_elf "$root" "$d/usr/lib/$lib" "lib/x86_64-linux-gnu/$lib" "$d/usr/lib"
    done
    install_libgcc_s "$root"
}

install_xen_toolstack() {
    local root=$1 f
    [ -d "$XEN_TOOLS_DIST" ] || die "no $XEN_TOOLS_DIST: run hypervisor/xen/build-tools.sh"
    for f in "${XEN_DOM0_TOOLS[@]}"; do
        [ -e "$XEN_TOOLS_DIST/$f" ] || die "missing $XEN_TOOLS_DIST/$f"
        install_elf "$root" "$XEN_TOOLS_DIST/$f" "$f" "$XEN_TOOLS_DIST/usr/lib"
    done
    install_libgcc_s "$root"
    mkdir -p "$root"/{run,var/lib/xen,var/log/xen/console,etc/xen}
    # xl reads its global config first and complains on every call when it is absent.
    [ -f "$root/etc/xen/xl.conf" ] || echo '# xl.conf: defaults (xl.conf(5))' > "$root/etc/xen/xl.conf"
    ln -sfn /run "$root/var/run"
    ln -sfn /run/lock "$root/var/lock"
}

# --- QEMU's clock ------------------------------------------------------------------------
# Every QEMU run of the project takes `--clock icount|host` and `--shift N`:
#   host    TCG with the guest clock following the host's: emulated timers fire late
#           whenever the host (2 shared cores) is busy, by 2-10 ms, which hides any
#           scheduler effect below that;
#   icount  virtual time advances 2^N ns per emulated instruction and idle time is
#           skipped (-icount shift=N,sleep=off): the guest's clock no longer depends
#           on the host's load, and the emulated CPU runs at 10^9 / 2^N instructions
#           per second (N=2: 250 M/s, the smallest shift whose runs stay affordable).
#           The emulated RTC starts at QEMU_RTC_BASE and runs on the same virtual
#           clock (-rtc base=...,clock=vm): with the host's date at start-up, each
#           boot began from another time of day, which Xen and Linux read at boot, and
#           two boots of the same build did not run the same instructions.
# QEMU_RTC_BASE (environment, icount only): the RTC's start, YYYY-MM-DD or
# YYYY-MM-DDTHH:MM:SS (UTC; default 2026-01-01T00:00:00), or "now" for the host's date
# at start-up (the old behaviour, for a boot that should differ from the last).
# clock_check CLOCK SHIFT dies on a bad pair (or a bad QEMU_RTC_BASE); clock_setup does
# it for the caller's CLOCK and SHIFT after defaulting an empty SHIFT (what every script
# does with its --clock and --shift); clock_qemu_args CLOCK SHIFT prints the accelerator
# and RTC arguments; clock_describe CLOCK SHIFT a phrase for logs and reports.
CLOCK_DEFAULT_SHIFT=2
QEMU_RTC_BASE=${QEMU_RTC_BASE:-2026-01-01T00:00:00}
clock_setup() {
    [ -n "$SHIFT" ] || SHIFT=$CLOCK_DEFAULT_SHIFT
    clock_check "$CLOCK" "$SHIFT"
}
clock_check() {
    case $1 in
        host) ;;
        icount) [[ $2 =~ ^[0-9]+$ ]] && [ "$2" -le 10 ] ||
                    die "--shift must be a whole number in 0..10 (2^N ns per instruction; got '$2')"
                [ "$QEMU_RTC_BASE" = now ] ||
                    [[ $QEMU_RTC_BASE =~ ^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])(T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9])?$ ]] ||
                    die "the RTC's start (QEMU_RTC_BASE, e2e's --rtc-base) must be now, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS (got '$QEMU_RTC_BASE')" ;;
        *) die "--clock must be icount or host (got '$1')" ;;
    esac
}
clock_qemu_args() {
    local base=$QEMU_RTC_BASE
    [ "$base" = now ] && base=utc
    case $1 in
        host) echo "-accel tcg" ;;
        icount) echo "-accel tcg -icount shift=$2,sleep=off -rtc base=$base,clock=vm" ;;
    esac
}
# rtc_base_plus BASE SECONDS: the RTC start SECONDS after BASE (a QEMU_RTC_BASE value
# that clock_check accepted), as YYYY-MM-DDTHH:MM:SS; "now" stays "now".
rtc_base_plus() {
    local base=$1
    [ "$base" = now ] && { echo now; return; }
    [[ $base == *T* ]] || base+=T00:00:00
    date -u -d "@$(( $(date -u -d "${base/T/ }" +%s) + $2 ))" +%Y-%m-%dT%H:%M:%S
}
clock_describe() {
    case $1 in
        host) echo "clock host (TCG, guest time follows the host's)" ;;
        icount) echo "clock icount shift=$2 ($((1 << $2)) ns per instruction, sleep=off, RTC from $QEMU_RTC_BASE)" ;;
    esac
}

# --- Debian's own kernel for a domU (guest-kmod/build-distro.sh) -----------------------
distro_domu_kernel() {
    local dir=$1 print ko
    print=$(bash "$LIB_INITRAMFS_REPO/guest-kmod/build-distro.sh" --print) ||
        die "no Debian root with its kernel: run guest-kmod/build-distro.sh first"
    DISTRO_VMLINUZ=$(sed -n 's/^vmlinuz=//p' <<< "$print")
    DISTRO_KVER=$(sed -n 's/^kver=//p' <<< "$print")
    ko=$(sed -n 's/^module=//p' <<< "$print")
    [ -f "$DISTRO_VMLINUZ" ] && [ -f "$ko" ] ||
        die "no Debian kernel or DKMS-built module in the root: run guest-kmod/build-distro.sh"
    # busybox's insmod takes the module uncompressed.
    mkdir -p "$dir"
    DISTRO_KO=$dir/rtsleep.ko
    case $ko in
        *.xz) xz -dc "$ko" > "$DISTRO_KO" ;;
        *.zst) zstd -dcq "$ko" > "$DISTRO_KO" ;;
        *.gz) gzip -dc "$ko" > "$DISTRO_KO" ;;
        *) cp "$ko" "$DISTRO_KO" ;;
    esac
}

# --- packing and booting ----------------------------------------------------------------
dom0_init_mounts() {
    cat <<'MOUNTS'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin:/usr/sbin:/usr/bin:/usr/lib/xen/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mkdir -p /run/xen /run/xenstored /run/lock /var/log/xen/console /var/lib/xen
MOUNTS
}
busybox_root() {
    local root=$1 dir
    shift
    rm -rf "$root"
    mkdir -p "$root/bin" "$root/dev"
    for dir in "$@"; do mkdir -p "$root/$dir"; done
    cp /bin/busybox "$root/bin/busybox"
    # The kernel opens /dev/console for init before anything is mounted; without the
    # node in the archive, /init would run with no stdout.
    mknod -m 600 "$root/dev/console" c 5 1
}

# The words every Xen boot of the project starts with: Xen's serial console with full
# logs (the host judges them), dom0's console and the initramfs's /init.
XEN_CONSOLE_WORDS="console=com1 com1=115200,8n1 loglvl=all guest_loglvl=all console_timestamps=boot"
DOM0_CONSOLE_WORDS="console=hvc0 earlyprintk=xen rdinit=/init"
xen_qemu_argv() {
    local -n xen_qemu_out=$1
    local clock=$2 shift_n=$3 xen=$4 xen_words=$5 dom0_kernel=$6 dom0_words=$7 initramfs=$8
    local accel
    shift 8
    # QEMU's -initrd takes the multiboot modules, comma-separated, each followed by
    # its own command line: a comma in dom0's words would split them.
    case $dom0_words in *,*) die "dom0's command line must not hold a comma: $dom0_words" ;; esac
    read -ra accel <<< "$(clock_qemu_args "$clock" "$shift_n")"
    xen_qemu_out=(qemu-system-x86_64 -machine pc "${accel[@]}" "$@" -nographic -no-reboot
                  -kernel "$xen" -append "$XEN_CONSOLE_WORDS $xen_words"
                  -initrd "$dom0_kernel $DOM0_CONSOLE_WORDS $dom0_words,$initramfs")
}
# Byte-identical for identical contents: under icount a boot runs exactly the
# instructions its inputs make it run, and unpacking an archive whose mtimes, inode
# numbers or gzip header differ runs other ones (two runs of the same build diverged
# from there). So every mtime is set to the epoch, cpio's --reproducible (GNU cpio
# 2.12 and later, probed) drops the device and inode numbers, and gzip -n stores no
# name or time.
cpio_gz() {
    local repro=()
    # Not `cpio --help | grep -q`: grep's early exit kills cpio, and pipefail says no.
    case $(cpio --help 2>&1) in *--reproducible*) repro=(--reproducible) ;; esac
    find "$1" -exec touch -h -d @0 {} +
    (cd "$1" && find . -print0 | LC_ALL=C sort -z |
        cpio --null -o -H newc --owner=0:0 --quiet "${repro[@]}") | gzip -n -1 > "$2"
}
run_qemu() {
    local log=$1 timeout=$2 verbose=$3 rc=0
    shift 3
    if [ "$verbose" = 1 ]; then
        timeout -k 10 "$timeout" "$@" < /dev/null 2>&1 | tee "$log" || rc=${PIPESTATUS[0]}
    else
        timeout -k 10 "$timeout" "$@" < /dev/null > "$log" 2>&1 || rc=$?
    fi
    return "$rc"
}

# --- shared by the xl-based QEMU tests (xl-smoke.sh, fault-smoke.sh) -------------------
# What counts as a crash in a serial log: Xen's panics, ASSERTs, BUG()s and fatal
# traps, dom0 dying, a Linux oops in dom0 or a guest. smoke.sh uses the same list.
XEN_CRASH_RE='Panic on CPU|Assertion .* failed|FATAL|Xen BUG at|Domain 0 crashed|Hardware Dom0 crashed|Kernel panic|BUG: |Oops|general protection fault|Attempted to kill init'

# build_xl_stack VARIANT TOOLS_DIR: Xen (build.sh, release or debug), the dom0 kernel
# and the toolstack (build-tools.sh), each under its own lock, and tools/schedop.c
# compiled static into TOOLS_DIR. Sets XEN_IMAGE. The caller defines HERE and REPO.
build_xl_stack() {
    local variant=$1 tools=$2 args=()
    [ "$variant" = debug ] && args+=(--debug)
    # build.sh and the dom0 kernel cache are shared with smoke.sh: take its lock.
    mkdir -p "$CACHE/smoke" "$CACHE/xl-smoke" "$tools"
    exec 9> "$CACHE/smoke/.lock"
    flock 9
    bash "$HERE/build.sh" "${args[@]}" >/dev/null
    XEN_IMAGE=$CACHE/xen-build/$variant/xen/xen
    [ -f "$XEN_IMAGE" ] || die "build.sh did not produce $XEN_IMAGE"
    prepare_dom0_kernel
    flock -u 9
    exec 10> "$CACHE/xl-smoke/.lock-tools"
    flock 10
    bash "$HERE/build-tools.sh" >/dev/null
    flock -u 10
    build_static_tool "$tools" schedop
}

# build_static_tool DIR NAME: tools/NAME.c compiled static into DIR/NAME, again only
# when the source or rtcredit.h is newer.
build_static_tool() {
    local dir=$1 t=$2
    if [ ! -x "$dir/$t" ] || [ "$HERE/tools/$t.c" -nt "$dir/$t" ] ||
       [ "$REPO/hypervisor/include/rtcredit.h" -nt "$dir/$t" ]; then
        log "compiling tools/$t.c (static)"
        gcc -O2 -static -Wall -Wextra -Werror -I "$REPO/hypervisor/include" \
            -o "$dir/$t.tmp" "$HERE/tools/$t.c"
        mv "$dir/$t.tmp" "$dir/$t"
    fi
}

# xl_dom0_root ROOT SCHEDOP DOMU_KERNEL DOMU_INITRD: the files of a dom0 initramfs for
# the xl runs: busybox, schedop, the console node, the modules, the toolstack, and
# the domU's kernel and ramdisk under /domu (the caller adds /init and the domU config).
xl_dom0_root() {
    local root=$1
    busybox_root "$root" proc sys tmp etc/xen domu
    cp "$2" "$root/bin/schedop"
    install_dom0_modules "$root" "${XEN_DOM0_MODULES[@]}"
    install_xen_toolstack "$root"
    cp "$3" "$root/domu/kernel"
    cp "$4" "$root/domu/initrd.gz"
}

# dom0_toolstack_init TAG: the first part of a dom0 /init that runs the toolstack
# (docs/toolchain.md 4b order): mounts, the modules of modules.load, xenfs,
# xenstored, xen-init-dom0, xenconsoled, and `step NAME CMD...`, which runs CMD and
# prints its output and `TAG: NAME rc=N` (the lines the host judges start with TAG:).
dom0_toolstack_init() {
    dom0_init_mounts
    echo "TAG=$1"
    cat <<'INIT'
echo "$TAG: init started kernel=$(uname -r) cpus=$(nproc)"
for m in $(cat /modules.load); do
    insmod "/lib/modules/$m" || echo "$TAG: insmod $m failed"
done
echo "$TAG: modules $(wc -l < /modules.load) listed, $(wc -l < /proc/modules) loaded"
mount -t xenfs xenfs /proc/xen && echo "$TAG: xenfs mounted"
step() {  # step NAME COMMAND...: run, print its output and rc on TAG: lines
    local name=$1 out rc
    shift
    out=$("$@" 2>&1); rc=$?
    [ -n "$out" ] && printf '%s\n' "$out" | sed "s/^/$TAG: $name| /"
    echo "$TAG: $name rc=$rc"
    return $rc
}
xenstored -N > /var/log/xen/xenstored.out 2>&1 &
i=0
while [ ! -S /run/xenstored/socket ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
echo "$TAG: xenstored socket $([ -S /run/xenstored/socket ] && echo up || echo missing)"
step init-dom0 xen-init-dom0
xenconsoled --log=guest --log-dir=/var/log/xen/console
echo "$TAG: xenconsoled rc=$?"
INIT
}
