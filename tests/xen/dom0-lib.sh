# Helpers for the test scripts that run inside the Xen harness's dom0
# (bash; tests/xen/run.sh copies this file to /tern/lib.sh beside the
# guest's files, and the generated /tern/test.sh sources it).
#
# Everything a helper reports goes to dom0's console, which reaches the host
# through Xen's console and the outer QEMU's serial. Lines that run.sh
# reads back:
#     xen-guest-console-begin NAME
#     guest| ...                      the guest's PV console, line by line
#     xen-guest-console-end NAME
#     xen-guest: name=NAME result=RESULT [status=N] secs=S [why=...]
# RESULT is one of
#     exited     the guest printed "tern-exit: status=N" (N is its status;
#                the benchmark's Linux domU: "init: app exited with status N")
#     no-status  the guest shut down or crashed without that line
#     timeout    it ran past the time limit and was destroyed
#     failed     xl could not create it
XL=/usr/lib/xen-4.17/bin/xl
XENCTX=/usr/lib/xen-4.17/bin/xenctx
CONSOLE_DIR=/var/log/xen/console

domid_of() {    # NAME: its domain id, or nothing when it does not exist
    "$XL" domid "$1" 2> /dev/null
}

# The state letters xl list shows for NAME (r b p s c d), or nothing.
state_of() {
    "$XL" list "$1" 2> /dev/null | awk 'NR == 2 { print $5 }'
}

# dump_vcpus NAME [SYMBOLS]: what NAME's vCPUs were doing (registers, code,
# stack), symbolized with SYMBOLS (System.map form; run.sh puts the
# kernel's beside it): the guest's last words when it hangs or crashes
# without a console.
dump_vcpus() {
    id=$(domid_of "$1")
    [ -n "$id" ] || { echo "dom0: $1 is gone, no vCPU dump"; return 0; }
    echo "xen-guest-vcpus-begin $1"
    if [ -n "${2:-}" ] && [ -s "$2" ]; then
        set -- "$1" -s "$2"
    else
        set -- "$1"
    fi
    # stack slots that hold 0 say nothing
    timeout 20 "$XENCTX" -a ${2:+"$2" "$3"} "$id" > /tmp/xenctx.out 2>&1 ||
        echo "dom0: xenctx exited with status $?"
    grep -v "\[<0000000000000000>\]" /tmp/xenctx.out | head -n 80
    echo "xen-guest-vcpus-end $1"
}

print_console() {   # NAME: its console log, prefixed
    echo "xen-guest-console-begin $1"
    if [ -f "$CONSOLE_DIR/guest-$1.log" ]; then
        sed 's/\r$//; s/^/guest| /' "$CONSOLE_DIR/guest-$1.log"
        # a last line without newline was printed by sed anyway
    fi
    echo "xen-guest-console-end $1"
}

# guest_status NAME: the N of the guest's "tern-exit: status=N" (or, from
# the benchmark's Linux domU, bench/linux-guest.sh's "init: app exited
# with status N"), or nothing.
guest_status() {
    f=$CONSOLE_DIR/guest-$1.log
    [ -f "$f" ] || return 0
    tr -d '\r' < "$f" | sed -n -e 's/^.*tern-exit: status=\(-\{0,1\}[0-9][0-9]*\).*$/\1/p' \
        -e 's/^init: app exited with status \([0-9][0-9]*\)$/\1/p' | tail -n 1
}

# libvirt_cpu_model_without_vme: libvirtd's libxl driver names the host CPU
# by decoding Xen's host featureset against libvirt's CPU models and gives
# up ("x86Decode: Cannot find suitable CPU model for given data") when none
# fits. Every model in Debian 12's cpu_map, down to 486, has VME, which
# QEMU's TCG does not emulate (qemu64,+vme: "TCG doesn't support requested
# feature"), so under this harness no model fits and the driver never
# starts. A real x86 host always has VME; here dom0's cpu_map gains one
# model without it, used only when nothing better fits.
libvirt_cpu_model_without_vme() {
    map=/usr/share/libvirt/cpu_map
    [ -f $map/index.xml ] || return 0
    grep -q x86_tern-tcg.xml $map/index.xml && return 0
    cat > $map/x86_tern-tcg.xml <<'XML'
<cpus>
  <model name='tern-tcg'>
    <decode host='on' guest='off'/>
    <feature name='fpu'/>
    <feature name='pse'/>
  </model>
</cpus>
XML
    sed -i "s|<include filename='x86_486.xml'/>|&\n    <include filename='x86_tern-tcg.xml'/>|" $map/index.xml
}

# start_libvirtd: libvirt's daemons (no systemd in dom0: started by hand
# once, as Debian 12's monolithic libvirtd wants). Every step is bounded.
start_libvirtd() {
    [ -S /run/libvirt/libvirt-sock ] && return 0
    mkdir -p /run/libvirt /var/lib/libvirt /var/log/libvirt /var/cache/libvirt
    libvirt_cpu_model_without_vme
    # dom0 drives Xen, not QEMU: the QEMU driver (pulled in by
    # libvirt-daemon) would fail the daemon's start for want of its
    # libvirt-qemu user, which this root has no packages' scripts to make.
    for d in /usr/lib/*/libvirt/connection-driver/libvirt_driver_qemu.so; do
        [ -f "$d" ] && mv "$d" "$d.off"
    done
    virtlogd > /tmp/virtlogd.log 2>&1 &
    libvirtd > /tmp/libvirtd.log 2>&1 &
    i=0
    until timeout 10 virsh -c xen:///system version > /tmp/virsh-version.log 2>&1; do
        i=$((i + 1))
        if [ $i -gt 30 ]; then
            sed 's/^/virsh| /' /tmp/virsh-version.log
            sed 's/^/libvirtd| /' /tmp/libvirtd.log | tail -n 20
            echo "dom0: libvirtd's Xen driver does not answer"
            return 1
        fi
        sleep 1
    done
    echo "dom0: libvirtd up: $(grep -i 'running hypervisor' /tmp/virsh-version.log | head -n 1)"
}

# run_guest CFG NAME TIMEOUT [xl|virsh]: create the guest from CFG (an xl
# config whose name= is NAME, or with virsh a libvirt domain XML whose
# <name> is NAME, through virsh -c xen:///system create), wait for it to
# print its tern-exit line or to go away, at most TIMEOUT seconds; print
# its console and one xen-guest: line; destroy it. Returns the guest's
# status, or 125 when it gave none (124 on a timeout).
run_guest() {
    cfg=$1 name=$2 limit=$3 via=${4:-xl}
    map=$(dirname "$cfg")/kernel.map
    rm -f "$CONSOLE_DIR/guest-$name.log"
    if [ "$via" = virsh ]; then
        if ! start_libvirtd; then
            echo "xen-guest: name=$name result=failed why=libvirtd"
            return 125
        fi
        create() { timeout 60 virsh -c xen:///system create "$cfg"; }
    else
        create() { timeout 150 "$XL" create "$cfg"; }
    fi
    if ! create > /tmp/create-"$name".log 2>&1; then
        sed "s/^/$via| /" /tmp/create-"$name".log
        # what the hotplug scripts (block, vif-bridge) said, if anything
        [ -f /var/log/xen/xen-hotplug.log ] &&
            tail -n 20 /var/log/xen/xen-hotplug.log | sed 's/^/hotplug| /'
        echo "xen-guest: name=$name result=failed why=$via-create"
        return 125
    fi
    id=$(domid_of "$name")
    echo "dom0: created $name as domain ${id:-? (already gone)} ($via)"
    start=$(date +%s)
    result= status= why=
    while :; do
        status=$(guest_status "$name")
        if [ -n "$status" ]; then
            result=exited
            break
        fi
        st=$(state_of "$name")
        if [ -z "$st" ]; then
            result=no-status why=gone
            break
        fi
        case $st in
        *c*) result=no-status why=crashed; dump_vcpus "$name" "$map"; break ;;
        # shut down without a status: on_reboot=preserve kept a triple
        # fault (Xen's "invoking HVM shutdown action") to be dumped
        *s*) result=no-status why=shutdown; dump_vcpus "$name" "$map"; break ;;
        esac
        if [ $(($(date +%s) - start)) -ge "$limit" ]; then
            result=timeout why="no tern-exit line within ${limit}s"
            dump_vcpus "$name" "$map"
            break
        fi
        sleep 0.3
    done
    # The exit line may come before the domain is gone: give it a moment
    # to shut down by itself (SCHEDOP_shutdown), then make sure.
    if [ "$result" = exited ]; then
        i=0
        while [ -n "$(domid_of "$name")" ] && [ $i -lt 20 ]; do sleep 0.2; i=$((i + 1)); done
        if [ -n "$(domid_of "$name")" ]; then
            echo "dom0: $name printed its status but did not shut down; destroying it"
        fi
    fi
    [ -n "$(domid_of "$name")" ] && timeout 30 "$XL" destroy "$name" > /dev/null 2>&1
    # A guest that prints its status and shuts down at once can be gone
    # before the loop saw the line: xenconsoled writes the log when it
    # drains the ring, which may be after the domain died. Look again.
    sleep 0.3
    if [ "$result" != exited ] && [ -n "$(guest_status "$name")" ]; then
        status=$(guest_status "$name") result=exited
    fi
    print_console "$name"
    secs=$(($(date +%s) - start))
    case $result in
    exited)
        echo "xen-guest: name=$name result=exited status=$status secs=$secs"
        return "$status" ;;
    timeout)
        echo "xen-guest: name=$name result=timeout secs=$secs why=$why"
        return 124 ;;
    *)
        echo "xen-guest: name=$name result=$result secs=$secs why=$why"
        return 125 ;;
    esac
}
