#!/bin/sh
# xl's hotplug script for a guest's vif in this harness (run.sh
# --vif-fast; xl's vif option script=): what Debian's vif-bridge does for
# a vif on a bridge, in a few commands. Under nested TCG on a loaded host,
# vif-bridge (bash, dozens of forks, a lock) overran libxl's hotplug
# timeout and xl create failed. libxl sets vif (the backend interface)
# and XENBUS_PATH (its backend node) and passes online or offline.
: "${vif:?libxl sets vif}" "${XENBUS_PATH:?libxl sets XENBUS_PATH}"
case ${1:-} in
online | add)
    ip link set dev "$vif" master xenbr0 && ip link set dev "$vif" up &&
        xenstore-write "$XENBUS_PATH/hotplug-status" connected ;;
offline | remove)
    ip link set dev "$vif" nomaster 2> /dev/null
    ip link set dev "$vif" down 2> /dev/null
    exit 0 ;;
*)
    echo "vif-fast: unknown action '${1:-}'" >&2
    exit 1 ;;
esac
