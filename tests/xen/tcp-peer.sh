# shellcheck shell=bash
# dom0 script for the netfront cases (run.sh --dom0-script; bash, sourced
# with NAME, DOMID and GDIR set). Settings come from $GDIR/$NAME.peer.conf
# (run.sh --dom0-file), shell assignments:
#   ROLE      sink: the guest sends (tcpbulk send) to tcp_peer's sink here;
#             source: tcp_peer sends to the guest (tcpbulk recv)
#   BYTES PORT GUEST_IP TIMEOUT
#   NETEM     tc netem arguments for the vif's egress (dom0 -> guest), or
#             empty
#   DETACH    1 (ROLE sink): as soon as the guest connects, pause the sink,
#             xl network-detach the guest's vif, network-attach it again
#             (same mac) 3 s later, resume the sink
# Prints, for tests/xen/check.sh: "vif ... is on xenbr0", "ping GUEST_IP:
# answered", and "tcp: guest and dom0 agree: N bytes sha256 H" when the
# guest's tcpbulk line and tcp_peer's carry the same count and digest.
# shellcheck source=/dev/null
. "$GDIR/$NAME.peer.conf"
vif=vif$DOMID.0
i=0
while [ ! -e "/sys/class/net/xenbr0/brif/$vif" ] && [ $i -lt 100 ]; do
    sleep 0.2
    i=$((i + 1))
done
if [ ! -e "/sys/class/net/xenbr0/brif/$vif" ]; then
    echo "vif $vif is not on xenbr0 after 20 s"
    return 0
fi
echo "vif $vif is on xenbr0"
if [ -n "$NETEM" ]; then
    # shellcheck disable=SC2086
    if tc qdisc add dev "$vif" root netem $NETEM; then
        echo "netem on $vif: $NETEM"
    else
        echo "netem on $vif failed"
    fi
fi
console=/var/log/xen/console/guest-$NAME.log
plog=/tmp/peer-$NAME.log
: > "$plog"
# The guest answers once netfront is connected and the stack configured;
# it is alive meanwhile: retrying its connect (the sink starts after the
# ping) or listening.
ok=0
i=0
while [ $i -lt 60 ]; do
    if ping -c 1 -W 1 "$GUEST_IP" > /dev/null 2>&1; then
        ok=1
        break
    fi
    i=$((i + 1))
done
if [ $ok = 1 ] && ping -c 3 -i 0.3 -W 2 "$GUEST_IP" > "/tmp/ping-$NAME.log" 2>&1; then
    echo "ping $GUEST_IP: answered ($(grep -o '[0-9]* received' "/tmp/ping-$NAME.log"))"
else
    echo "ping $GUEST_IP: no answer"
fi

if [ "$ROLE" = sink ]; then
    # (tcpbulk retries its connect until then: --connect-timeout)
    "$GDIR/tcp_peer" sink --port "$PORT" --bytes "$BYTES" --pattern-check \
        --timeout "$TIMEOUT" > "$plog" 2>&1 &
    ppid=$!
fi

if [ "${DETACH:-0}" = 1 ]; then
    i=0
    while ! grep -q '^tcp_peer: connection from' "$plog" && [ $i -lt 1200 ]; do
        sleep 0.05
        i=$((i + 1))
    done
    # The sink stops reading, so the guest's send stalls on a closed
    # window with most of its bytes still to go: the detach lands in the
    # middle of the transfer however fast the machine is.
    kill -STOP "$ppid" && echo "sink paused"
    mac=$(xenstore-read "/local/domain/$DOMID/device/vif/0/mac")
    timeout 240 "$XL" network-detach "$DOMID" 0
    echo "xl network-detach $DOMID 0: status $?"
    sleep 3
    timeout 240 "$XL" network-attach "$DOMID" bridge=xenbr0 "mac=$mac" script=/tern/vif-fast
    echo "xl network-attach $DOMID: status $?"
    kill -CONT "$ppid" && echo "sink resumed"
fi

if [ "$ROLE" = source ]; then
    i=0
    while ! grep -q '^tcpbulk: listening' "$console" 2> /dev/null && [ $i -lt 300 ]; do
        sleep 0.2
        i=$((i + 1))
    done
    "$GDIR/tcp_peer" source --to "$GUEST_IP:$PORT" --bytes "$BYTES" --timeout "$TIMEOUT" \
        > "$plog" 2>&1
    prc=$?
    verb=sent gverb=received
else
    wait "$ppid"
    prc=$?
    verb=received gverb=sent
fi
sed 's/^/peer| /' "$plog"
echo "tcp_peer exited $prc"
want=$(tr -d '\r' < "$plog" | sed -n "s/^tcp_peer: $verb \([0-9]* bytes sha256 [0-9a-f]*\)\$/\1/p" | tail -n 1)
# The guest prints its line after the close; give it a moment.
i=0
got=
while [ $i -lt 100 ]; do
    got=$(tr -d '\r' < "$console" 2> /dev/null |
        sed -n "s/^tcpbulk: $gverb \([0-9]* bytes sha256 [0-9a-f]*\)\$/\1/p" | tail -n 1)
    [ -n "$got" ] && break
    sleep 0.2
    i=$((i + 1))
done
if [ "$prc" = 0 ] && [ -n "$want" ] && [ "$want" = "$got" ]; then
    echo "tcp: guest and dom0 agree: $want"
else
    echo "tcp: no agreement: dom0 '$want', guest '$got'"
fi
[ -z "$NETEM" ] || tc -s qdisc show dev "$vif" 2> /dev/null | sed -n 's/^ *Sent/netem stats: Sent/p'
