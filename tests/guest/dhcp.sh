# The DHCP client (kernel/net/dhcp.c) against the DHCP server in QEMU's
# user-mode network (slirp), which leases 10.0.2.15/24 with gateway and
# server 10.0.2.2 and DNS at 10.0.2.3:
#
#   dhcp_slirp_ping  `network: user` (DHCP is its default): the lease line
#                    on the console, then the app pings the gateway it
#                    learned (slirp answers echo requests to 10.0.2.2
#                    itself), so the address, netmask and route all work
#
# The exchange's corner cases (loss, NAK, renewal, rebinding, expiry,
# malformed replies) are in the host unit test, tests/unit/test_dhcp.c.
DHCP_DIR=$(cd "$LOG_DIR" && pwd)/dhcp
rm -rf "$DHCP_DIR"
mkdir -p "$DHCP_DIR"

cat > "$DHCP_DIR/ping.yaml" <<EOF
name: dhcp-ping
memory: 64M
cmdline: [/bin/ping, -c, "3", 10.0.2.2]
files:
  /bin/ping: $PWD/out/apps/ping
network: user
EOF
image_case dhcp_slirp_ping 0 \
    '^\[ *[0-9.]+\] net: eth0 52:54:00(:[0-9a-f]{2}){3} asking for an address \(DHCP\)$' \
    '^\[ *[0-9.]+\] net: eth0 leased 10\.0\.2\.15/24 gateway 10\.0\.2\.2 from server 10\.0\.2\.2 for [0-9]+ s, dns 10\.0\.2\.3$' \
    '^ping: 64 bytes from 10\.0\.2\.2: seq=3 time=' '^ping: 3 sent, 3 answered$' -- \
    "$DHCP_DIR/ping.yaml" -o "$DHCP_DIR/img-ping" --kernel "$KERNEL" --accel "$ACCEL"
