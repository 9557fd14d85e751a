# IPv4 reassembly against crafted fragments (issue 18, item 1), in a
# namespace made by netns.sh's helpers (run-tests.sh sources tests/guest/*.sh
# in name order, so netns.sh comes first). apps/udpecho in a 128 MiB guest;
# tests/host/frag_probe on the host side sends a "secret" datagram, then a
# datagram with a hole plus a fragment past its end (which the old
# reassembly echoed with the secret's bytes in the hole), one with
# overlapping fragments, and a clean one out of order with a duplicate;
# then 8000 fragments of datagrams that never complete, and the clean one
# again.
#
#   guest:reasm_no_leak   only the secret and the clean datagram (twice)
#                         come back, intact; the guest's netstat counts the
#                         overlap (IpExt: ReasmOverlaps 1) and evictions,
#                         and it exits 0
#
# Every wait is bounded: the probe polls for echoes (the clean datagram's
# echo comes after any echo of the bad ones would have, the guest handling
# frames in order), and the guest's run has a timeout. The probe is the
# judge of what came back (a clean datagram sent again may be echoed
# twice, so udpecho's count is not checked exactly).

if selected guest:reasm_no_leak; then
    if [ -n "$netns_why" ]; then
        skip guest:reasm_no_leak "$netns_why"
    elif [ ! -x "$HOST_TESTS/frag_probe" ]; then
        fail guest:reasm_no_leak "$HOST_TESTS/frag_probe was not built (make check)"
    elif ! netns_up reasm; then
        fail guest:reasm_no_leak "could not make a namespace with a tap device"
        netns_down
    else
        why=
        if ! NETNS_TIMEOUT=120 netns_boot reasm "name: netns-reasm
memory: 128M
kernel_options: \"netstat\"
cmdline: [/bin/udpecho, --port, \"7\"]
files:
  /bin/udpecho: $PWD/out/apps/udpecho" '^udpecho: listening on port 7'; then
            why="the guest did not start listening"
        elif ! ip netns exec "$ns" "$HOST_TESTS/frag_probe" "$NETNS_GUEST" 7 > "$log.probe" 2>&1; then
            why="$(grep -h 'FAIL' "$log.probe" | head -n 1)"
            [ -n "$why" ] || why="frag_probe failed: $(tail -n 2 "$log.probe" | tr '\n' ' ')"
        fi
        sed 's/^/    /' "$log.probe" 2> /dev/null
        if [ -n "$why" ]; then
            kill "$boot_pid" 2> /dev/null
            wait "$boot_pid" 2> /dev/null
            fail guest:reasm_no_leak "$why"
            tr -d '\r' < "$log" | sed 's/^/    | /' | tail -15
        else
            wait "$boot_pid"
            judge_boot guest:reasm_no_leak 0 $? "$log" \
                '^udpecho: echoed [0-9]+ datagrams' 'netstat: IpExt: 1$' \
                'netstat: reasm: .* [1-9][0-9]* evicted'
            tr -d '\r' < "$log" | grep -E 'netstat: (Ip|IpExt|reasm):' | sed 's/^/    /'
        fi
        netns_down
    fi
fi
