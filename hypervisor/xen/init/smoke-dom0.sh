#!/bin/busybox sh
# dom0's /init for hypervisor/xen/smoke.sh (packed into its initramfs as is). Every
# line the host judges starts with "SMOKE:", "schedop:" or "rtload:"; parameters come
# from the dom0 command line (the kernel hands unknown key=value words to init).
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
echo "SMOKE: init started kernel=$(uname -r) cpus=$(nproc) uptime=$(cut -d' ' -f1 /proc/uptime)"

for m in $(cat /modules.load); do
    if insmod "/lib/modules/$m"; then echo "SMOKE: insmod $m ok"; else echo "SMOKE: insmod $m failed"; fi
done
i=0
while [ ! -c /dev/xen/privcmd ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
if [ -c /dev/xen/privcmd ]; then echo "SMOKE: privcmd ok"; else echo "SMOKE: privcmd missing"; fi

# Hypercalls while dom0 is otherwise idle.
schedop yield
schedop yield 1000
schedop rtsleep 10000000 0
schedop now
if [ "$smoke_sched" = rtcredit ]; then
    # Each rule of SCHEDOP_rtsleep, after dom0 allows itself RT through the domctl.
    schedop rtcredit-dom 0 get
    schedop rtcredit-dom 0 allow
    # One line per case (the case and schedop's output together), so that nothing
    # else on the console can come between them. The cases run on dom0's VCPU 0 only
    # (taskset): admission is per VCPU, and with dom0's two VCPUs the too-close case
    # passed or failed with where the scheduler put the process.
    # Admission is by period: a deadline must be at least the minimum period (1 ms)
    # after the VCPU's last deadline that came due. "valid" is 5 s ahead and cancelled
    # before it comes due, so it does not count; "past" is already due and served at
    # once (0); "2ms" is 2 ms ahead (0), which the old 5 ms minimum lead refused.
    echo "SMOKE: case valid $(taskset -c 0 schedop rtsleep 5000000000 0)"
    echo "SMOKE: case unknown-flag $(taskset -c 0 schedop rtsleep 10000000 2)"
    echo "SMOKE: case padding $(taskset -c 0 schedop rtsleep 10000000 0 1)"
    echo "SMOKE: case cancel $(taskset -c 0 schedop rtsleep 0 1)"
    echo "SMOKE: case past $(taskset -c 0 schedop rtsleep -1000000 0)"
    echo "SMOKE: case 2ms $(taskset -c 0 schedop rtsleep 2000000 0)"
    echo "SMOKE: case too-far $(taskset -c 0 schedop rtsleep 20000000000 0)"
    # Global parameters through the sysctl: read, refuse a bad slice, raise the
    # minimum period to 1 s so that a deadline 10 ms ahead, well under 1 s after the
    # 2 ms one (which came due meanwhile), is refused (-ERANGE), then restore.
    schedop rtcredit-sys get
    echo "SMOKE: sys bad-slice $(schedop rtcredit-sys set 0 1000 1000 10000)"
    echo "SMOKE: sys long-period $(schedop rtcredit-sys set 30 1000 1000000 10000)"
    echo "SMOKE: case too-close $(taskset -c 0 schedop rtsleep 10000000 0)"
    echo "SMOKE: sys restore $(schedop rtcredit-sys set 30 1000 1000 10000)"
fi

# rtcredit-ctl (xen-config/): "ctl NAME ARGS..." prints the tool's output prefixed with
# "SMOKE: ctl NAME| ", then "SMOKE: ctl NAME rc=N". Xen's libraries live in
# /lib/x86_64-linux-gnu, which the loader searches only through LD_LIBRARY_PATH here.
export LD_LIBRARY_PATH=/lib/x86_64-linux-gnu
ctl() {
    name=$1; shift
    rtcredit-ctl "$@" > /tmp/ctl.out 2>&1
    rc=$?
    sed "s/^/SMOKE: ctl $name| /" /tmp/ctl.out
    echo "SMOKE: ctl $name rc=$rc"
}
if [ "$smoke_sched" = rtcredit ]; then
    # A real xenstore for domain names and the @introduceDomain watch: C xenstored,
    # then xen-init-dom0 writes /local/domain/0/name = Domain-0.
    mkdir -p /run/xenstored /var/lib/xenstored /var/lib/xen /var/log/xen /proc/xen
    ln -s /run /var/run
    mount -t xenfs xenfs /proc/xen
    xenstored -N > /tmp/xenstored.out 2>&1 &
    i=0
    while [ ! -S /run/xenstored/socket ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    xen-init-dom0 > /tmp/xen-init-dom0.out 2>&1
    echo "SMOKE: xenstore socket=$([ -S /run/xenstored/socket ] && echo up || echo down) xen-init-dom0=$?"
    sed 's/^/SMOKE: xenstored says: /' /tmp/xenstored.out /tmp/xen-init-dom0.out | head -n 5
    # Globals: read, set, read back, restore.
    ctl sched-get sched
    ctl sched-set sched --slice-ms 20 --ratelimit-us 500
    ctl sched-json sched --json
    ctl sched-restore sched --slice-ms 30 --ratelimit-us 1000
    # dom0 (allowed RT above): show (-vv: the log says where the name came from), deny
    # RT, see rtsleep refused, allow by name, see it granted, and the counters move.
    ctl dom0-show -vv dom 0
    ctl dom0-json-before dom 0 --json
    ctl deny dom 0 --rt deny
    echo "SMOKE: ctl-case denied $(schedop rtsleep 10000000 0)"
    ctl allow dom Domain-0 --rt allow
    echo "SMOKE: ctl-case allowed $(schedop rtsleep 10000000 0)"
    ctl dom0-json-after dom 0 --json
    # A policy, applied twice: the second run has nothing to do.
    printf '%s\n' '# smoke policy' '[global]' 'slice_ms = 30' '' '[[domain]]' 'match = "Domain-*"' \
        'weight = 512' 'rt = "allow"' 'rt_budget_pct = 20' > /tmp/policy.toml
    ctl apply-dry apply /tmp/policy.toml --dry-run
    ctl apply-1 apply /tmp/policy.toml
    ctl apply-2 apply /tmp/policy.toml
    # The watch registers on @introduceDomain, which fires once at once: one apply.
    timeout 10 rtcredit-ctl watch /tmp/policy.toml > /tmp/watch.out 2>&1
    echo "SMOKE: ctl watch exit=$?"
    sed 's/^/SMOKE: ctl watch| /' /tmp/watch.out
    # Errors a user can hit.
    ctl bad-weight dom 0 --weight 0
    ctl unknown-dom dom no-such-domain
    printf '%s\n' '[[domain]]' 'match = "Domain-0"' 'rt_budget_pct = 150' > /tmp/bad.toml
    ctl bad-policy apply /tmp/bad.toml
    # The cpupool's RT capacity (2 CPUs x 50% = 100% of one CPU; dom0 holds 20% from
    # the policy): lower it to 15% of each CPU (30%), then a 40% budget is refused
    # naming the 10% left, 30% fits exactly, and the capacity cannot go below that;
    # then restore the budget and the capacity.
    ctl cap-lower sched --rt-capacity-pct 15
    ctl cap-over dom 0 --rt-budget 40
    ctl cap-within dom 0 --rt-budget 30
    ctl cap-below sched --rt-capacity-pct 10
    ctl cap-restore-dom dom 0 --rt-budget 20
    ctl cap-restore sched --rt-capacity-pct 50
else
    # Another scheduler: the tool must say which one runs.
    ctl not-rtcredit sched
fi

# Load phase: a busy loop per VCPU plus the 10 ms sleeper; halfway through, ask Xen
# for a run-queue dump (debug key 'r') so the log shows the scheduler under load.
d=${smoke_duration:-30}
rtload -d "$d" > /tmp/rtload.out 2>&1 &
pid=$!
if [ "$smoke_sched" = rtcredit ]; then
    # 10 s of 10 ms periods through SCHEDOP_rtsleep, under the load.
    schedop rtsleep-loop 1000 10000000 > /tmp/rtloop.out 2>&1 &
    loop=$!
fi
# smoke.sh --trace: xentrace of the scheduler class (runstate changes, Xen's switch
# events, ours) for SECONDS into /tmp/trace-NAME.bin; status in /tmp/trace-NAME.status.
xtrace() {
    echo "start_uptime=$(cut -d' ' -f1 /proc/uptime)" > "/tmp/trace-$1.status"
    LD_LIBRARY_PATH=/lib/x86_64-linux-gnu \
        xentrace -D -e 0x0002f000 -T "$2" "/tmp/trace-$1.bin" > "/tmp/trace-$1.out" 2>&1
    echo "exit=$? end_uptime=$(cut -d' ' -f1 /proc/uptime)" >> "/tmp/trace-$1.status"
}
# Prints trace NAME on the console, gzip'd and base64'd between markers; the host
# decodes it and compares size and MD5.
xdump() {
    sed "s/^/SMOKE: xentrace $1 says: /" "/tmp/trace-$1.out"
    echo "SMOKE: xentrace $1 $(tr '\n' ' ' < "/tmp/trace-$1.status")bytes=$(wc -c < "/tmp/trace-$1.bin" 2>/dev/null || echo 0) md5=$(md5sum "/tmp/trace-$1.bin" 2>/dev/null | cut -d' ' -f1)"
    echo "SMOKE: TRACE BEGIN $1 (gzip, base64)"
    gzip -c "/tmp/trace-$1.bin" | base64
    echo "SMOKE: TRACE END $1"
}
if [ -n "$smoke_trace" ]; then
    # 2 s into the load (and the rtsleep loop), for smoke_trace seconds. Nothing is
    # printed until the load is over.
    (sleep 2; xtrace load "$smoke_trace") &
    xt=$!
fi
sleep $((d / 2))
if [ -n "$loop" ]; then wait $loop; cat /tmp/rtloop.out; fi
schedop yield 100
schedop debugkeys r
wait $pid
echo "SMOKE: rtload exit=$?"
cat /tmp/rtload.out
if [ "$smoke_sched" = rtcredit ]; then
    # After the load and the rtsleep loop: time at each priority and RT counters.
    ctl dom-final dom
    ctl dom0-json-final dom 0 --json
    ctl sched-final sched
fi
if [ -n "$smoke_trace" ]; then
    wait $xt
    # dom0 now has nothing to do: its VCPUs must block and the CPUs idle (a second
    # trace, 1 s, catches a VCPU that keeps being picked again after SCHEDOP_block).
    xtrace idle 1
    xdump load
    xdump idle
fi
echo "SMOKE: done uptime=$(cut -d' ' -f1 /proc/uptime)"
poweroff -f
