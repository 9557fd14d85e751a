# The network device layer (PCI, virtio-pci, split virtqueues, virtio-net)
# driven by hand-made frames from kernel tests (kernel/ktest/net_smoke.c,
# net_rx_gso.c, net_link.c),
# below any TCP/IP stack:
#
#   net_smoke        slirp: ARP and ping the gateway 10.0.2.2, full-size
#                    frames in several segments with checksum offload (slirp
#                    drops echo requests whose checksum is wrong), UDP, a
#                    burst that fills the ring; every frame must complete
#   net_smoke_plain  the same with the device's INDIRECT_DESC, EVENT_IDX and
#                    MRG_RXBUF turned off, modern-only (a QEMU wrapper adds
#                    the options)
#   net_legacy_refused  a legacy-only device is refused with a message
#   net_link         QEMU's monitor takes the link down and up again; the
#                    guest follows through configuration interrupts
#   net_smoke_tap    the same ktest on a tap device in a network namespace,
#                    whose host end (Linux, as 10.0.2.2) offers the offloads:
#                    checksum by the device, TSO
#   net_rx_gso       the host sends a TCP stream to the guest over the tap:
#                    coalesced frames (GUEST_TSO4) far larger than a receive
#                    buffer, reassembled from merged buffers, checked byte
#                    for byte
NET_DIR=$(cd "$LOG_DIR" && pwd)/net
rm -rf "$NET_DIR"
mkdir -p "$NET_DIR"

net_manifest() {    # NAME KTEST NETWORK-LINES
    cat > "$NET_DIR/$1.yaml" <<EOF
name: $1
memory: 128M
kernel_options: ktest=$2
network:
$3
EOF
}

NET_SLIRP='  mode: user
  ip: 10.0.2.15/24
  gateway: 10.0.2.2'

# What every net_smoke boot must print (besides its features line).
net_smoke_case() {    # NAME FEATURES-REGEX EXTRA-REGEX TERN-RUN-ARGUMENTS...
    n=$1 feat=$2 extra=$3
    shift 3
    image_case "$n" 0 "$feat" "$extra" \
        '^\[ *[0-9.]+\] pci 00:[0-9a-f]{2}\.[0-7]: 1af4:10(00|41) Ethernet controller \(virtio\)' \
        '^\[ *[0-9.]+\] net0: virtio-net at 00:[0-9a-f]{2}\.[0-7], mac 52:54:00(:[0-9a-f]{2}){3}, mtu 1500, link up' \
        'net_smoke: ARP reply: 10\.0\.2\.2 is at ([0-9a-f]{2}:){5}[0-9a-f]{2}' \
        'net_smoke: ICMP echo reply from 10\.0\.2\.2: seq=5 bytes=64 ttl=[0-9]+ time=[0-9]+ us' \
        'net_smoke: ping 10\.0\.2\.2: 5 sent, 5 received, rtt min/avg/max = [0-9]+/[0-9]+/[0-9]+ us' \
        'net_smoke: large ICMP echo, 1514-byte frames in 3 segments, checksum by the [a-z]+: 8 sent, 8 replies intact' \
        'net_smoke: UDP to 10\.0\.2\.2:9, 1514-byte frames with checksum offload: 8 sent, 8 completed' \
        'net_smoke: burst: 600 frames in [0-9]+ us, ring full [1-9][0-9]* times, 600 completed' \
        '^\[ *[0-9.]+\] net_smoke: passed$' -- "$@"
}

# --- slirp ------------------------------------------------------------------
net_manifest net-smoke net_smoke "$NET_SLIRP"
net_smoke_case net_smoke \
    '^\[ *[0-9.]+\] net0: features .*mrg_rxbuf .*indirect_desc event_idx version_1' \
    'net_smoke: large ICMP echo, .* checksum by the driver' \
    "$NET_DIR/net-smoke.yaml" -o "$NET_DIR/img-smoke" --kernel "$KERNEL" --accel "$ACCEL"

# net_qemu_wrapper NAME OPTIONS: a QEMU that adds OPTIONS to tern's
# virtio-net-pci device.
net_qemu_wrapper() {
    cat > "$NET_DIR/$1" <<EOF
#!/bin/sh
for a in "\$@"; do
    shift
    case \$a in
    virtio-net-pci,*) a="\$a,$2" ;;
    esac
    set -- "\$@" "\$a"
done
exec qemu-system-x86_64 "\$@"
EOF
    chmod +x "$NET_DIR/$1"
}

# The paths without the ring features: direct descriptor chains, the
# NO_INTERRUPT/NO_NOTIFY flags instead of event indexes, one buffer per
# frame; and a modern-only device (PCI id 1af4:1041, as libvirt makes on
# PCIe root ports).
net_qemu_wrapper qemu-plain indirect_desc=off,event_idx=off,mrg_rxbuf=off,disable-legacy=on
net_smoke_case net_smoke_plain \
    '^\[ *[0-9.]+\] net0: features mac status version_1$' \
    '^\[ *[0-9.]+\] pci 00:[0-9a-f]{2}\.[0-7]: 1af4:1041 ' \
    "$NET_DIR/net-smoke.yaml" -o "$NET_DIR/img-smoke-plain" --kernel "$KERNEL" \
    --accel "$ACCEL" --qemu "$NET_DIR/qemu-plain"

# A legacy-only device (virtio 0.9: no modern capabilities) is refused by
# name, and the test then finds no NIC.
net_qemu_wrapper qemu-legacy disable-modern=on
image_case net_legacy_refused 1 \
    '^\[ *[0-9.]+\] virtio 00:[0-9a-f]{2}\.[0-7]: virtio-net with only the legacy \(virtio 0\.9\) interface: not supported' \
    'net_smoke: FAIL: no network device' -- \
    "$NET_DIR/net-smoke.yaml" -o "$NET_DIR/img-legacy" --kernel "$KERNEL" \
    --accel "$ACCEL" --qemu "$NET_DIR/qemu-legacy"

# net_bg_start NAME MANIFEST QEMU [PREFIX...]: PREFIX tern run --qemu QEMU
# in the background, its console streamed (-v: the kernel log on stderr,
# flushed line by line) to $NET_DIR/NAME.out and, whole, to the case's log.
# Sets bg_pid, bg_out, bg_log.
net_bg_start() {
    bg_name=$1 bg_manifest=$2 bg_qemu=$3
    shift 3
    bg_out=$NET_DIR/$bg_name.out
    bg_log=$LOG_DIR/guest_$bg_name.log
    "$@" "$TERN" run "$bg_manifest" -o "$NET_DIR/img-$bg_name" --kernel "$KERNEL" \
        --accel "$ACCEL" --timeout 180 --log "$bg_log" --qemu "$bg_qemu" -v > "$bg_out" 2>&1 &
    bg_pid=$!
}

# net_bg_wait REGEX: until the console shows REGEX (true) or the guest
# ended or 120 s passed (false).
net_bg_wait() {
    i=0
    while [ $i -lt 1200 ]; do
        grep -Eq -- "$1" "$bg_out" 2> /dev/null && return 0
        kill -0 "$bg_pid" 2> /dev/null || return 1
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

# net_bg_judge NAME WHY REGEX...: the verdict once the guest has ended.
net_bg_judge() {
    j_name=guest:$1 j_why=$2
    shift 2
    if [ -n "$j_why" ]; then
        kill "$bg_pid" 2> /dev/null
        wait "$bg_pid" 2> /dev/null
        fail "$j_name" "$j_why"
        tr -d '\r' < "$bg_out" | sed 's/^/    | /' | tail -15
        return
    fi
    wait "$bg_pid"
    rc=$?
    cp "$bg_out" "$bg_log.tern"
    judge_boot "$j_name" 0 "$rc" "$bg_log" "$@"
}

# --- link status through QEMU's monitor ------------------------------------
if selected guest:net_link; then
    net_manifest net-link net_link "$NET_SLIRP"
    rm -f "$NET_DIR/mon.in" "$NET_DIR/mon.out"
    mkfifo "$NET_DIR/mon.in" "$NET_DIR/mon.out"
    cat > "$NET_DIR/qemu-mon" <<EOF
#!/bin/sh
exec qemu-system-x86_64 "\$@" -monitor pipe:$NET_DIR/mon
EOF
    chmod +x "$NET_DIR/qemu-mon"
    net_bg_start net_link "$NET_DIR/net-link.yaml" "$NET_DIR/qemu-mon"
    why=
    if ! net_bg_wait 'net_link: net0 link up; waiting for it to go down'; then
        why="the guest did not get to waiting for the link"
    else
        printf 'set_link net0 off\n' > "$NET_DIR/mon.in"
        if ! net_bg_wait 'net_link: net0 link down; waiting'; then
            why="the guest did not see the link go down"
        else
            printf 'set_link net0 on\n' > "$NET_DIR/mon.in"
        fi
    fi
    net_bg_judge net_link "$why" '^\[ *[0-9.]+\] net0: link down$' \
        '^\[ *[0-9.]+\] net0: link up$' \
        'net_link: link down and up again: [0-9]+ changes, [0-9]+ interrupts' \
        '^\[ *[0-9.]+\] net_link: passed$'
fi

# --- a tap device in a network namespace ----------------------------------
# The host end of the tap is 10.0.2.2, as slirp's gateway, so the same
# ktest runs against the host's Linux stack, which offers the offloads.
net_tap_why=
if [ "$(id -u)" != 0 ]; then
    net_tap_why="needs root (network namespaces and tap devices)"
elif ! command -v ip > /dev/null 2>&1; then
    net_tap_why="ip is not installed (iproute2, deps/debian.txt)"
elif [ ! -c /dev/net/tun ]; then
    net_tap_why="/dev/net/tun is missing"
elif ! command -v bash > /dev/null 2>&1; then
    net_tap_why="bash is missing (its /dev/tcp sends the host's stream)"
fi

net_tap_up() {
    net_ns=tern-net-$1-$$
    net_tap=tnt$$$1
    ip netns add "$net_ns" || return 1
    ip netns exec "$net_ns" ip link set lo up &&
        ip netns exec "$net_ns" ip tuntap add "$net_tap" mode tap &&
        ip netns exec "$net_ns" ip addr add 10.0.2.2/24 dev "$net_tap" &&
        ip netns exec "$net_ns" ip link set "$net_tap" up
}

net_tap_manifest() {    # NAME KTEST
    net_manifest "$1" "$2" "  mode: tap
  tap: $net_tap
  ip: 10.0.2.15/24
  gateway: 10.0.2.2"
}

if selected guest:net_smoke_tap; then
    if [ -n "$net_tap_why" ]; then
        skip guest:net_smoke_tap "$net_tap_why"
    elif ! net_tap_up s; then
        fail guest:net_smoke_tap "could not make a namespace with a tap device"
    else
        net_tap_manifest net-smoke-tap net_smoke
        # QEMU runs in the namespace; tern stays outside.
        printf '#!/bin/sh\nexec ip netns exec %s qemu-system-x86_64 "$@"\n' "$net_ns" \
            > "$NET_DIR/qemu-in-ns"
        chmod +x "$NET_DIR/qemu-in-ns"
        net_smoke_case net_smoke_tap \
            '^\[ *[0-9.]+\] net0: features csum guest_csum host_tso4 guest_tso4 mrg_rxbuf ' \
            'net_smoke: TSO: one 16438-byte TCP segment, completed, the peer answered' \
            "$NET_DIR/net-smoke-tap.yaml" -o "$NET_DIR/img-smoke-tap" --kernel "$KERNEL" \
            --accel "$ACCEL" --qemu "$NET_DIR/qemu-in-ns"
    fi
    ip netns del "$net_ns" 2> /dev/null
fi

if selected guest:net_rx_gso; then
    if [ -n "$net_tap_why" ]; then
        skip guest:net_rx_gso "$net_tap_why"
    elif ! net_tap_up r; then
        fail guest:net_rx_gso "could not make a namespace with a tap device"
        ip netns del "$net_ns" 2> /dev/null
    else
        net_tap_manifest net-rx-gso net_rx_gso
        net_bg_start net_rx_gso "$NET_DIR/net-rx-gso.yaml" qemu-system-x86_64 \
            ip netns exec "$net_ns"
        why=
        if ! net_bg_wait 'net_rx_gso: net0 features rx-csum rx-gso4; listening on'; then
            why="the guest did not start listening (or lacks rx-gso4)"
        elif ! ip netns exec "$net_ns" bash -c 'seq 1 100000 > /dev/tcp/10.0.2.15/5001' \
            > "$NET_DIR/net_rx_gso.send" 2>&1; then
            why="the host could not send: $(tail -n 1 "$NET_DIR/net_rx_gso.send")"
        fi
        net_bg_judge net_rx_gso "$why" \
            'net_rx_gso: 588895 bytes, 100000 lines, in [0-9]+ frames: [1-9][0-9]* larger than the MTU \(largest [0-9]+ bytes\), [1-9][0-9]* marked GSO' \
            '^\[ *[0-9.]+\] net_rx_gso: passed$'
        ip netns del "$net_ns" 2> /dev/null
    fi
fi
