# The rest of dom0's /init for hypervisor/xen/xl-smoke.sh, after lib-initramfs.sh's
# dom0_toolstack_init (which defines `step`). Lines the host judges start with "XLSMOKE:".
step xl-info-sched sh -c 'xl info | grep -E "^(xen_scheduler|nr_cpus|xen_version)"'
step xl-create xl create /etc/xen/domu.cfg
step xl-list xl list
DOMID=$(xl domid domu 2>/dev/null)
echo "XLSMOKE: domu domid=$DOMID"
# The guest makes its RT request at boot and then prints the marker: wait for it
# before anything below changes the domain's RT (xenconsoled's log; TCG boots slowly).
GLOG=/var/log/xen/console/guest-domu.log
i=0
while ! grep -q "$xlsmoke_marker" "$GLOG" 2>/dev/null && [ $i -lt 120 ]; do
    sleep 1; i=$((i + 1))
done
echo "XLSMOKE: waited ${i}s for the guest"
case $xlsmoke_sched in
    credit) SCHED_CMD=sched-credit ;;
    credit2) SCHED_CMD=sched-credit2 ;;
    *) SCHED_CMD=sched-rtcredit ;;
esac
step sched-get xl $SCHED_CMD -d domu
[ "$xlsmoke_sched" = rtcredit ] && step domctl-get schedop rtcredit-dom "$DOMID" get
step list-l sh -c 'xl list -l domu | grep -A14 "\"sched_params\""'
# Change only the weight: the cap must stay as it was.
step sched-set-weight xl $SCHED_CMD -d domu -w "$xlsmoke_weight2"
step sched-get2 xl $SCHED_CMD -d domu
[ "$xlsmoke_sched" = rtcredit ] && step domctl-get2 schedop rtcredit-dom "$DOMID" get
if [ "$xlsmoke_sched" = rtcredit ]; then
    # RT from xl: deny, then a budget out of range (refused, nothing changes), then a
    # new budget (the permission stays denied).
    step sched-rt-deny xl sched-rtcredit -d domu --rt=deny
    step sched-bad-budget xl sched-rtcredit -d domu -b 150
    step sched-budget xl sched-rtcredit -d domu -b "$xlsmoke_rt_budget2"
    step sched-get3 xl sched-rtcredit -d domu
    step domctl-get3 schedop rtcredit-dom "$DOMID" get
    # A second cpupool under sched=rtcredit on CPU 1 (a scheduler instance of its own),
    # an empty one under credit2, and rtcredit-ctl's -p on each and on pool 0.
    step pool-remove xl cpupool-cpu-remove Pool-0 1
    step pool-create xl cpupool-create name=\"rtpool\" sched=\"rtcredit\" cpus=\"1\"
    step pool-create2 xl cpupool-create name=\"c2pool\" sched=\"credit2\" cpus=\"\"
    step pool-list xl cpupool-list
    step ctl-pool rtcredit-ctl sched -p rtpool --json
    step ctl-pool-set rtcredit-ctl sched -s -p rtpool -t 20 --rt-capacity-pct 80
    step ctl-pool-get rtcredit-ctl sched -p 1 --json
    step ctl-pool0 rtcredit-ctl sched --json
    step ctl-pool-c2 rtcredit-ctl sched -p c2pool
    # The same from xl, as `xl sched-credit -s`: pool 0, then rtpool set and read back
    # by both tools, and a slice out of range refused.
    step xl-s0 xl sched-rtcredit -s
    step xl-s-set xl sched-rtcredit -s -p rtpool -t 25 --rt-capacity=70
    step xl-s1 xl sched-rtcredit -s -p rtpool
    step ctl-pool-get2 rtcredit-ctl sched -p rtpool --json
    step xl-s-bad xl sched-rtcredit -s -p rtpool -t 0
fi
[ -f "$GLOG" ] && sed 's/^/XLSMOKE: guestlog| /' "$GLOG" | tail -n 40
# Our xentrace and xenalyze: 1 s of the scheduler class with the domU up.
step xentrace xentrace -D -e 0x0002f000 -T 1 /tmp/trace.bin
echo "XLSMOKE: trace bytes=$(wc -c < /tmp/trace.bin 2>/dev/null || echo 0)"
step xenalyze sh -c 'xenalyze --summary /tmp/trace.bin > /tmp/xenalyze.txt 2>&1; rc=$?; grep -m3 -E "^(Total time|Dumping|(-|=)+ )" /tmp/xenalyze.txt; wc -l < /tmp/xenalyze.txt; exit $rc'
step xl-list2 xl list
step xl-destroy xl destroy domu
step xl-list3 xl list
echo "XLSMOKE: init finished"
poweroff -f
