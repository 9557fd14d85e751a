# The stack against a hostile network (issue 18): tests/host/rawpeer plays
# made-up hosts on the guest's link (an AF_PACKET socket on the tap in
# netns.sh's namespace, answering ARP for 10.99.0.16-250) and crafts the
# attacks; apps/udpecho or `apps/tcpserver echo` runs in the guest with
# 128 MiB and 1 vCPU. The file is named so that it comes after netns.sh
# and tcpconn.sh (run-tests.sh sources tests/guest/*.sh in name order),
# whose helpers it uses.
#
#   guest:attack_reasm_leak     issue 18 item 1: host A's fragmented secret
#                               datagram, then host B's datagrams with a
#                               hole plus a fragment past the end, a hole
#                               "closed" past a known end, overlapping
#                               fragments with different data: none may be
#                               echoed, no byte of A's secret may reach B;
#                               B's correct fragmented datagram is echoed
#   guest:attack_syn_flood      item 3: 10 s of SYNs at 200/s from spoofed
#                               sources; the host's own TCP echoes 1 MiB
#                               intact within 5 s (connect included) before,
#                               during and right after the flood
#   guest:attack_ooo_flood      item 5: a hand-made connection gets 1-byte
#                               segments each beyond a hole, 2000/s for
#                               10 s; the host's echo of 1 MiB 3 s into it
#                               must finish within 5 s (connect included),
#                               and the flooded connection must then ACK
#                               its next in-order byte
#   guest:attack_bcast_syn      item 6: SYNs from (and to) 10.99.0.255,
#                               255.255.255.255, 224.0.0.1 get no SYN-ACK
#                               (RFC 1122 4.2.3.10); one from 10.99.0.40 does
#   guest:attack_challenge_ack  item 6: 3000 in-window RSTs and 3000 SYNs (at
#                               4000/s in all) on
#                               an established connection: at least one
#                               challenge ACK, at most 1000 per second (and
#                               half again: Linux's quota is random)
#                               (RFC 5961 section 7), the connection lives
#   guest:attack_frag_flood     item 6: 500 first fragments of distinct
#                               datagrams between the halves of a real one:
#                               it is still reassembled and echoed, and a
#                               datagram after the flood too
#   host:attack_checks_linux    the attacks above but the SYN flood against
#                               Linux's own stack (veth pair, two
#                               namespaces): the checks pass where the
#                               behaviour is right
#
# Every case also needs the guest app alive at the end: the server is told
# to quit (a "quit" datagram or line) and must print its counts and exit
# 0. The figures (packets sent, answers, echo times) are printed under each
# verdict; the logs: guest_netns_NAME.log (console), .host (rawpeer's and
# tcp_client's output).

ATTACK_G=$NETNS_GUEST

attack_missing=
for f in out/apps/udpecho "$HOST_TESTS/rawpeer"; do
    [ -x "$f" ] || attack_missing="$f was not built (make apps, make check)"
done

# attack_setup CASE NAME: tcpconn_setup, plus rawpeer and udpecho.
attack_setup() {
    if [ -z "$netns_why" ] && [ -n "$attack_missing" ]; then
        fail "$1" "$attack_missing"
        return 1
    fi
    tcpconn_setup "$@"
}

# attack_figures: the result lines of the host tools, under the verdict.
attack_figures() {
    grep -E '^(rawpeer|tcp_client): ' "$tcpconn_hlog" 2> /dev/null | grep -v ': second [0-9]*:' |
        sed 's/^/    = /'
}

# attack_peer REGEX ATTACK ARGS...: rawpeer ATTACK on the namespace's tap
# against the guest (tcpconn_host's rules: exit 0 and a line matching REGEX).
attack_peer() {
    attack_re=$1 attack_what=$2
    shift 2
    tcpconn_host "$attack_re" rawpeer "$attack_what" --dev "$tap" "$@"
}

# attack_bg_start ATTACK READY ARGS...: rawpeer ATTACK in the background
# until its output has READY; attack_bg_end: waits for it (60 s at most)
# and requires exit 0.
attack_bg_start() {
    [ -n "$tcpconn_why" ] && return 1
    attack_bg_log=$TCPCONN_DIR/$1.bg.out
    attack_what=$1 attack_ready=$2
    shift 2
    echo "\$ rawpeer $attack_what --dev $tap $* (in the background)" >> "$tcpconn_hlog"
    if ! tcpconn_bg "$attack_bg_log" "$attack_ready" "$HOST_TESTS/rawpeer" "$attack_what" \
        --dev "$tap" "$@"; then
        tcpconn_why="rawpeer $attack_what did not start: $(tail -n 1 "$attack_bg_log")"
        return 1
    fi
}
attack_bg_end() {
    [ -z "$tcpconn_bg_pid" ] && return 1
    tcpconn_reap "$tcpconn_bg_pid" 60
    tcpconn_bg_pid=
    cat "$attack_bg_log" >> "$tcpconn_hlog"
    if [ -z "$tcpconn_why" ] && [ "$tcpconn_rc" -ne 0 ]; then
        tcpconn_why="rawpeer $attack_what exited with $tcpconn_rc: $(tail -n 1 "$attack_bg_log")"
    fi
}

# attack_bg_wait REGEX: waits (20 s at most) for the background attack to
# print a line matching REGEX (e.g. its progress after N seconds).
attack_bg_wait() {
    [ -n "$tcpconn_why" ] && return 1
    attack_i=0
    while [ $attack_i -lt 200 ]; do
        grep -Eq "$1" "$attack_bg_log" && return 0
        kill -0 "$tcpconn_bg_pid" 2> /dev/null || break
        sleep 0.1
        attack_i=$((attack_i + 1))
    done
    tcpconn_why="rawpeer $attack_what never printed /$1/: $(tail -n 1 "$attack_bg_log")"
    return 1
}

# attack_udp_finish CASE: udpecho is told to quit (also after a failure,
# so that its console says whether it was still alive), then the verdict.
attack_udp_finish() {
    [ -n "$boot_pid" ] && $tcpconn_in "$HOST_TESTS/rawpeer" udp-quit --dev "$tap" \
        --to "$ATTACK_G:7" >> "$tcpconn_hlog" 2>&1
    tcpconn_finish "$1" '^udpecho: echoed [0-9]+ datagrams'
    attack_figures
    tcpconn_netstat_figures Ip IpExt
}

# attack_tcp_finish CASE: the echo server quits (tcpconn_quit), the verdict.
attack_tcp_finish() {
    tcpconn_host '^tcp_client: quit: sent$' tcp_client quit --to "$ATTACK_G:7000"
    tcpconn_finish "$1" '^tcpserver: echo: connections=[0-9]+ closed=[0-9]+ reset=[0-9]+ .*\(quit\)$'
    attack_figures
    tcpconn_netstat_figures TcpExt TernMem
}

attack_boot_tcp() {
    tcpconn_boot "$1" tcpserver '[/bin/tcpserver, echo, --port, "7000"]' \
        '^tcpserver: listening on port 7000' 'kernel_options: netstat'
    tcpconn_quit=$ATTACK_G:7000
}

attack_boot_udp() {
    tcpconn_boot "$1" udpecho '[/bin/udpecho, --port, "7"]' '^udpecho: listening on port 7' \
        'kernel_options: netstat'
}

# --- 1: reassembly must not complete a datagram with a hole, nor leak --------
if selected guest:attack_reasm_leak && attack_setup guest:attack_reasm_leak atkreasm; then
    attack_boot_udp atkreasm
    attack_peer '^rawpeer: reasm-leak: ok$' reasm-leak --to "$ATTACK_G:7"
    attack_udp_finish guest:attack_reasm_leak
fi

# --- 3: a SYN flood must not deny new connections ---------------------------------
# 200 SYNs/s is above the issue's 170/s, which denied every connection for
# about 2 minutes. The normal client is the host's own TCP: 1 MiB echoed
# intact within 5 s, connect included, before the flood (the control),
# 3 s into it and right after it.
if selected guest:attack_syn_flood && attack_setup guest:attack_syn_flood atksyn; then
    attack_boot_tcp atksyn
    tcpconn_host '^tcp_client: echo: .*1048576 bytes echoed intact' \
        tcp_client echo --to "$ATTACK_G:7000" --deadline-ms 5000
    attack_bg_start synflood '^rawpeer: synflood: flooding' --to "$ATTACK_G:7000" \
        --rate 200 --seconds 10
    attack_bg_wait '^rawpeer: synflood: second 3:' &&
        tcpconn_host '^tcp_client: echo: .*1048576 bytes echoed intact' \
            tcp_client echo --to "$ATTACK_G:7000" --deadline-ms 5000
    attack_bg_end
    tcpconn_host '^tcp_client: echo: .*1048576 bytes echoed intact' \
        tcp_client echo --to "$ATTACK_G:7000" --deadline-ms 5000
    attack_tcp_finish guest:attack_syn_flood
fi

# --- 5: out-of-order segments must stay cheap ------------------------------------
# 2000 segments/s for 10 s, each beyond a hole: up to 20000 queued. A
# queue walked from its head for each insert costs about n^2/2 = 2e8 node
# visits over the flood, an O(log n) one about 3e5. Measured under TCG on
# the 2-core build machine against the kernel of December 2026 (sorted
# list): the control's 1 MiB echo took 49-97 ms without the flood; with
# it the guest answered the first ~2000 segments (1964 in the first
# second), then nothing more, and the control's connect did not complete
# within 5 s; at 300/s (3000 queued at the end) the guest answered every
# segment and the control took 22 ms: the cost grows with rate x queue
# length, as a head-first walk's does. So the bound is the issue's own 5 s (connect included),
# 50 times the quiet figure and far below what a quadratic queue gives;
# ATTACK_OOO_PPS and ATTACK_OOO_DEADLINE_MS change them by hand. The
# flooded connection must also take its next in-order byte afterwards.
if selected guest:attack_ooo_flood && attack_setup guest:attack_ooo_flood atkooo; then
    attack_boot_tcp atkooo
    tcpconn_host '^tcp_client: echo: .*1048576 bytes echoed intact' \
        tcp_client echo --to "$ATTACK_G:7000" --deadline-ms 5000
    attack_bg_start ooo-flood '^rawpeer: ooo-flood: connected' --to "$ATTACK_G:7000" \
        --pps "${ATTACK_OOO_PPS:-2000}" --seconds 10
    attack_bg_wait '^rawpeer: ooo-flood: second 3:' &&
        tcpconn_host '^tcp_client: echo: .*1048576 bytes echoed intact' \
            tcp_client echo --to "$ATTACK_G:7000" --deadline-ms "${ATTACK_OOO_DEADLINE_MS:-5000}"
    attack_bg_end
    attack_tcp_finish guest:attack_ooo_flood
fi

# --- 6: no SYN-ACK to a broadcast or multicast source ---------------------------
if selected guest:attack_bcast_syn && attack_setup guest:attack_bcast_syn atkbcast; then
    attack_boot_tcp atkbcast
    attack_peer '^rawpeer: bcast-syn: ok$' bcast-syn --to "$ATTACK_G:7000"
    attack_tcp_finish guest:attack_bcast_syn
fi

# --- 6: challenge ACKs are rate-limited ------------------------------------------
if selected guest:attack_challenge_ack && attack_setup guest:attack_challenge_ack atkchack; then
    attack_boot_tcp atkchack
    attack_peer '^rawpeer: challenge-ack: ok$' challenge-ack --to "$ATTACK_G:7000" --count 3000 --pps 4000
    attack_tcp_finish guest:attack_challenge_ack
fi

# --- 6: a flood of first fragments does not evict a real datagram --------------
if selected guest:attack_frag_flood && attack_setup guest:attack_frag_flood atkfrag; then
    attack_boot_udp atkfrag
    attack_peer '^rawpeer: frag-flood: ok$' frag-flood --to "$ATTACK_G:7" --count 500
    attack_udp_finish guest:attack_frag_flood
fi

# --- host: the same checks pass against Linux's own stack -----------------------
# The guest cases fail on a kernel with the defects; this shows that the
# checks themselves can pass where the behaviour is right. Two namespaces
# joined by a veth pair: apps/udpecho and `apps/tcpserver echo` run
# natively in one (10.99.0.2/24, rp_filter=1: with 0, Linux takes SYNs
# from the subnet's broadcast address, against RFC 1122 3.2.1.3), rawpeer
# on the other end. Not the SYN flood (no check of its own there).
if selected host:attack_checks_linux; then
    atk_log=$LOG_DIR/host_attack_checks_linux.log
    : > "$atk_log"
    if [ -n "$netns_why" ]; then
        skip host:attack_checks_linux "$netns_why"
    elif [ -n "$attack_missing$tcpconn_missing" ]; then
        fail host:attack_checks_linux "$attack_missing$tcpconn_missing"
    else
        atk_a=tern-atka-$$ atk_b=tern-atkb-$$ atk_why= atk_pids=
        if ! { ip netns add "$atk_a" && ip netns add "$atk_b" &&
            ip link add "rpa$$" netns "$atk_a" type veth peer name "rpb$$" netns "$atk_b" &&
            ip netns exec "$atk_a" sysctl -qw net.ipv4.conf.all.rp_filter=1 \
                "net.ipv4.conf.rpa$$.rp_filter=1" &&
            ip -n "$atk_a" addr add "$ATTACK_G/24" dev "rpa$$" &&
            ip -n "$atk_a" link set lo up && ip -n "$atk_a" link set "rpa$$" up &&
            ip -n "$atk_b" link set "rpb$$" up; } >> "$atk_log" 2>&1; then
            atk_why="could not make two namespaces joined by a veth pair"
        fi
        for atk_srv in "udpecho --port 7" "tcpserver echo --port 7000"; do
            [ -n "$atk_why" ] && break
            tcpconn_in="ip netns exec $atk_a"
            # shellcheck disable=SC2086
            if tcpconn_bg "$TCPCONN_DIR/atk-${atk_srv%% *}.out" '^[a-z]+: listening on port' \
                "$PWD/out/apps/"$atk_srv; then
                atk_pids="$atk_pids $tcpconn_bg_pid"
            else
                atk_why="$atk_srv did not start: $(tail -n 1 "$TCPCONN_DIR/atk-${atk_srv%% *}.out")"
                kill "$tcpconn_bg_pid" 2> /dev/null
            fi
        done
        for atk_run in "reasm-leak --to $ATTACK_G:7" "frag-flood --to $ATTACK_G:7 --count 500" \
            "bcast-syn --to $ATTACK_G:7000" \
            "challenge-ack --to $ATTACK_G:7000 --count 3000 --pps 4000" \
            "ooo-flood --to $ATTACK_G:7000 --pps 2000 --seconds 3"; do
            [ -n "$atk_why" ] && break
            echo "\$ rawpeer $atk_run" >> "$atk_log"
            # shellcheck disable=SC2086
            ip netns exec "$atk_b" "$HOST_TESTS/rawpeer" $atk_run --dev "rpb$$" \
                > "$TCPCONN_DIR/atk.out" 2>&1
            atk_rc=$?
            cat "$TCPCONN_DIR/atk.out" >> "$atk_log"
            if [ "$atk_rc" -ne 0 ] || ! grep -q '^rawpeer: [a-z-]*: ok$' "$TCPCONN_DIR/atk.out"; then
                atk_why="rawpeer ${atk_run%% *} against Linux exited with $atk_rc: $(tail -n 1 "$TCPCONN_DIR/atk.out")"
            fi
        done
        for atk_p in $atk_pids; do
            kill "$atk_p" 2> /dev/null
            wait "$atk_p" 2> /dev/null
        done
        ip netns del "$atk_a" 2> /dev/null
        ip netns del "$atk_b" 2> /dev/null
        if [ -n "$atk_why" ]; then
            fail host:attack_checks_linux "$atk_why"
            tcpconn_show "$atk_log" 10
        else
            pass host:attack_checks_linux
        fi
        grep -E '^rawpeer: .*(ok|right|intact|sent|answered)' "$atk_log" | grep -v ': second [0-9]*:' |
            sed 's/^/    = /'
    fi
fi
