# dom0 script (run.sh --dom0-script; bash, sourced with NAME and DOMID set):
# the guest's vif backend exists (xen-netback) and xl's hotplug script
# (vif-bridge) put it on the bridge xenbr0. Prints one line that
# tests/xen/check.sh looks for.
vif=vif$DOMID.0
i=0
while [ ! -e /sys/class/net/xenbr0/brif/$vif ] && [ $i -lt 100 ]; do
    sleep 0.2
    i=$((i + 1))
done
if [ -e /sys/class/net/xenbr0/brif/$vif ]; then
    echo "vif $vif is on xenbr0 (backend $(cat /sys/class/net/$vif/device/devtype 2> /dev/null || echo ?))"
else
    echo "vif $vif is not on xenbr0 after 20 s"
    ip -br link 2>&1
    xenstore-ls /local/domain/0/backend/vif 2>&1 | head -n 20
fi
