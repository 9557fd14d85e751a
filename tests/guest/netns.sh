# Networking against the host's own Linux stack: each case makes a network
# namespace with a tap device (10.99.0.1/24 on the host side), boots an
# image on it (guest 10.99.0.2/24) with QEMU running inside the namespace,
# and talks to the guest from there. Needs root, ip (iproute2), ping and
# /dev/net/tun; without them the cases are skipped with the reason.
# On aarch64 the cases are guest:a64_NAME (GUEST_PFX, run-tests.sh), their
# manifests say `arch: aarch64` (netns_boot adds it) and boot its apps.
NETNS_HOST=10.99.0.1
NETNS_GUEST=10.99.0.2

netns_why=
if [ "$(id -u)" != 0 ]; then
    netns_why="needs root (network namespaces and tap devices)"
elif ! command -v ip > /dev/null 2>&1; then
    netns_why="ip is not installed (iproute2, deps/debian.txt)"
elif ! command -v ping > /dev/null 2>&1; then
    netns_why="ping is not installed (iputils-ping, deps/debian.txt)"
elif [ ! -c /dev/net/tun ]; then
    netns_why="/dev/net/tun is missing"
fi

NETNS_DIR=$(cd "$LOG_DIR" && pwd)/netns
rm -rf "$NETNS_DIR"
mkdir -p "$NETNS_DIR"

# netns_up NAME: a namespace tern-NAME-PID with tap tn-PID-NAME inside.
netns_up() {
    ns=tern-$1-$$
    tap=tn$$$(echo "$1" | cut -c1-4)
    ip netns add "$ns" || return 1
    ip netns exec "$ns" ip link set lo up &&
        ip netns exec "$ns" ip tuntap add "$tap" mode tap &&
        ip netns exec "$ns" ip addr add "$NETNS_HOST/24" dev "$tap" &&
        ip netns exec "$ns" ip link set "$tap" up
}

netns_down() {
    ip netns del "$ns" 2> /dev/null
}

# netns_boot NAME MANIFEST-BODY READY: writes the manifest (the arch and
# network lines added) and starts tern run in the namespace, in the
# background; waits until the console says READY (a regex) or the guest ended. Sets boot_pid, log.
# The guest may run NETNS_TIMEOUT seconds (default 180). TERN_NETNS_RUN_ARGS
# adds `tern run` options to every such boot, for debugging a case by hand
# (e.g. --qemu with a wrapper that opens a gdbstub).
netns_boot() {
    name=$1 ready=$3
    m=$NETNS_DIR/$name.yaml
    {
        printf 'arch: %s\n%s\n' "$GUEST_ARCH" "$2"
        printf 'network:\n  mode: tap\n  tap: %s\n  ip: %s/24\n  gateway: %s\n' \
            "$tap" "$NETNS_GUEST" "$NETNS_HOST"
    } > "$m"
    log=$LOG_DIR/guest_netns_$name.log
    ip netns exec "$ns" "$TERN" run "$m" -o "$NETNS_DIR/img-$name" --kernel "$KERNEL" \
        --accel "$ACCEL" --quiet --timeout "${NETNS_TIMEOUT:-180}" --log "$log" ${TERN_NETNS_RUN_ARGS:-} > "$log.tern" 2>&1 &
    boot_pid=$!
    i=0
    while [ $i -lt 1200 ]; do
        grep -Eq "$ready" "$log" 2> /dev/null && return 0
        kill -0 "$boot_pid" 2> /dev/null || return 1
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

# --- UDP echo and ping both ways ----------------------------------------------
if selected "guest:${GUEST_PFX}netns_udp_echo"; then
    if [ -n "$netns_why" ]; then
        skip "guest:${GUEST_PFX}netns_udp_echo" "$netns_why"
    elif ! netns_up udp; then
        fail "guest:${GUEST_PFX}netns_udp_echo" "could not make a namespace with a tap device"
        netns_down
    else
        why=
        if ! netns_boot udp "name: netns-udp
memory: 64M
cmdline: [/bin/udpecho, --port, \"7\"]
files:
  /bin/udpecho: $GUEST_APPS/udpecho" '^udpecho: listening on port 7'; then
            why="the guest did not start listening"
        elif ! ip netns exec "$ns" ping -c 3 -W 5 "$NETNS_GUEST" > "$log.ping" 2>&1; then
            why="host -> guest ping failed: $(tail -n 2 "$log.ping" | tr '\n' ' ')"
        elif ! ip netns exec "$ns" "$HOST_TESTS/udp_client" "$NETNS_GUEST" 7 > "$log.udp" 2>&1; then
            why="UDP echo failed: $(tail -n 3 "$log.udp" | tr '\n' ' ')"
        fi
        if [ -n "$why" ]; then
            ip netns exec "$ns" "$HOST_TESTS/udp_client" "$NETNS_GUEST" 7 > /dev/null 2>&1
            kill "$boot_pid" 2> /dev/null
            wait "$boot_pid" 2> /dev/null
            fail "guest:${GUEST_PFX}netns_udp_echo" "$why"
            tr -d '\r' < "$log" | sed 's/^/    | /' | tail -15
        else
            wait "$boot_pid"
            judge_boot "guest:${GUEST_PFX}netns_udp_echo" 0 $? "$log" \
                '^udpecho: echoed [0-9]+ datagrams' '^\[ *[0-9.]+\] net: eth0 .* address 10\.99\.0\.2 '
        fi
        netns_down
    fi
fi

# --- the guest pings the host (an ICMP echo socket, as Linux's ping uses) ---------
if selected "guest:${GUEST_PFX}netns_ping_from_guest"; then
    if [ -n "$netns_why" ]; then
        skip "guest:${GUEST_PFX}netns_ping_from_guest" "$netns_why"
    elif ! netns_up pingg; then
        fail "guest:${GUEST_PFX}netns_ping_from_guest" "could not make a namespace with a tap device"
        netns_down
    else
        m=$NETNS_DIR/pingg.yaml
        cat > "$m" <<EOT
name: netns-ping
arch: $GUEST_ARCH
memory: 64M
cmdline: [/bin/ping, -c, "3", $NETNS_HOST]
files:
  /bin/ping: $GUEST_APPS/ping
network:
  mode: tap
  tap: $tap
  ip: $NETNS_GUEST/24
  gateway: $NETNS_HOST
EOT
        log=$LOG_DIR/guest_netns_ping_from_guest.log
        ip netns exec "$ns" "$TERN" run "$m" -o "$NETNS_DIR/img-pingg" --kernel "$KERNEL" \
            --accel "$ACCEL" --quiet --timeout 120 --log "$log" > "$log.tern" 2>&1
        judge_boot "guest:${GUEST_PFX}netns_ping_from_guest" 0 $? "$log" \
            '^ping: 64 bytes from 10\.99\.0\.1: seq=3 time=' '^ping: 3 sent, 3 answered$'
        netns_down
    fi
fi
