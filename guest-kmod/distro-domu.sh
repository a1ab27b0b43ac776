# SPDX-License-Identifier: GPL-2.0-only
# Sourced by test-qemu.sh --distro-kernel: the dom0 side of running the module's checks
# in a PV domU that boots Debian's own kernel.
#
# Debian's cloud kernel cannot be dom0 (its config has "# CONFIG_XEN_DOM0 is not set"),
# so the test initramfs test-qemu.sh built ($WORK/initramfs.cpio.gz: busybox, the
# DKMS-built rtsleep.ko, the checks) becomes the ramdisk of a domU, created by a dom0
# as in hypervisor/xen/xl-smoke.sh (Debian bookworm's 6.1 kernel, our toolstack and
# rtcredit-ctl). dom0 creates the domU paused, allows it RT (`rtcredit-ctl dom NAME
# --rt allow`, as tests/e2e/dom0/init.sh does), unpauses it, waits for the guest's
# "GUEST: done" in xenconsoled's log and prints that log on its console, so the
# guest's PASS/FAIL lines reach the serial log unchanged and test-qemu.sh judges them
# as in its other modes.
#
#   distro_domu_qemu    builds $WORK/dom0.cpio.gz and sets QEMU (the command to boot)
# Needs: hypervisor/xen/build.sh and build-tools.sh done (the release Xen and the
# toolstack dist), cargo (rtcredit-ctl). The caller has sourced lib-initramfs.sh and set
# WORK, XEN, CLOCK, SHIFT, TIMEOUT, DISTRO_VMLINUZ.

DISTRO_DOMU=rtsleep-distro     # the domU's name
DISTRO_DOMU_MEM=256            # MiB: Debian's kernel with the checks' initramfs

distro_domu_qemu() {
    local d=$WORK/dom0-root ctl
    [ -x "$XEN_TOOLS_DIST/usr/sbin/xl" ] || fail "no toolstack in $XEN_TOOLS_DIST: run hypervisor/xen/build-tools.sh"
    prepare_dom0_kernel
    log "rtcredit-ctl (cargo build --release -p rtcredit-config)"
    (cd "$ROOT" && nice -n 10 cargo build --release --quiet -p rtcredit-config) || fail "cargo build -p rtcredit-config failed"
    ctl=$ROOT/target/release/rtcredit-ctl
    busybox_root "$d" proc sys tmp run var/log boot etc/xen
    install_dom0_modules "$d" "${XEN_DOM0_MODULES[@]}"
    install_xen_toolstack "$d"
    install_elf "$d" "$ctl" usr/sbin/rtcredit-ctl "$XEN_TOOLS_DIST/usr/lib"
    cp "$DISTRO_VMLINUZ" "$d/boot/domU-kernel"
    cp "$WORK/initramfs.cpio.gz" "$d/boot/guest.cpio.gz"
    cat > "$d/etc/xen/guest.cfg" <<CFG
name = "$DISTRO_DOMU"
type = "pv"
kernel = "/boot/domU-kernel"
ramdisk = "/boot/guest.cpio.gz"
cmdline = "console=hvc0 rdinit=/init clocksource=xen rtsleep_expect=rt"
memory = $DISTRO_DOMU_MEM
vcpus = 2
vif = []
disk = []
on_poweroff = "destroy"
on_crash = "preserve"
CFG
    distro_dom0_init > "$d/init"
    chmod 755 "$d/init"
    cpio_gz "$d" "$WORK/dom0.cpio.gz"
    # The guest waits at most TIMEOUT minus the time dom0 needs before and after.
    xen_qemu_argv QEMU "$CLOCK" "$SHIFT" "$XEN" "dom0_mem=384M,max:384M dom0_max_vcpus=1 sched=rtcredit" \
        "$DOM0_VMLINUZ" "quiet loglevel=3 distro_wait=$((TIMEOUT - 60))" "$WORK/dom0.cpio.gz" \
        -cpu qemu64 -m 1024 -smp 2
}

# dom0's /init. Its own lines start with "GUEST dom0:" (test-qemu.sh prints GUEST lines); the guest's log follows as is.
distro_dom0_init() {
    dom0_init_mounts
    cat <<INIT
mkdir -p /var/lib/xenstored
say() { echo "GUEST dom0: \$*"; }
for m in \$(cat /modules.load); do insmod "/lib/modules/\$m" || say "insmod \$m failed"; done
mount -t xenfs xenfs /proc/xen || say "xenfs not mounted"
xenstored -N > /var/log/xen/xenstored.out 2>&1 &
i=0
while [ ! -S /run/xenstored/socket ] && [ \$i -lt 100 ]; do sleep 0.1; i=\$((i + 1)); done
xen-init-dom0 > /tmp/init-dom0.out 2>&1 || say "xen-init-dom0: \$(cat /tmp/init-dom0.out)"
xenconsoled --log=guest --log-dir=/var/log/xen/console || say "xenconsoled failed"
t0=\$(cut -d. -f1 /proc/uptime)
if ! xl create -p /etc/xen/guest.cfg > /tmp/create.out 2>&1; then
    say "xl create failed: \$(tail -n 5 /tmp/create.out)"
elif ! rtcredit-ctl dom $DISTRO_DOMU --rt allow --rt-budget 50 > /tmp/grant.out 2>&1; then
    say "rtcredit-ctl failed: \$(cat /tmp/grant.out)"
else
    say "domU $DISTRO_DOMU created, RT allowed: \$(tr '\n' ' ' < /tmp/grant.out)"
    xl unpause $DISTRO_DOMU
    log=/var/log/xen/console/guest-$DISTRO_DOMU.log
    i=0
    while ! grep -q '^GUEST: done' "\$log" 2>/dev/null && [ \$i -lt "\${distro_wait:-240}" ]; do
        sleep 1; i=\$((i + 1))
    done
    say "guest finished after \$(( \$(cut -d. -f1 /proc/uptime) - t0 )) s (dom0 uptime \$(cut -d' ' -f1 /proc/uptime) s)"
    tr -d '\r' < "\$log"
    say "end of guest log"
fi
poweroff -f
INIT
}
