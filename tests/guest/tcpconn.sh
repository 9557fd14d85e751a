# TCP connection behaviour against the host's own Linux TCP (issue 6):
# apps/tcpserver (and apps/zcopy_echo) in the guest, tests/host/tcp_client
# on the host side of a namespace made by netns.sh's helpers (netns_up,
# netns_boot, netns_down; run-tests.sh sources tests/guest/*.sh in name
# order, so netns.sh comes first). Guest 10.99.0.2, host 10.99.0.1.
#
#   guest:tcp_epoll_200      200 connections open at once to an epoll echo
#                            server; every byte echoed; max_open=200
#   guest:tcp_backlog        listen(fd, 2), no accept: connections opened
#                            one at a time, the first 3 (backlog + 1, the
#                            Linux rule) complete, 3 more stay in progress
#                            for 2 s (SYNs dropped: not completed, not
#                            refused); after accept all 6 complete and echo
#   guest:tcp_refused        guest -> host and host -> guest connects to a
#                            closed port: ECONNREFUSED, blocking and
#                            non-blocking (SO_ERROR); then a connection to
#                            the guest's listener works (positive control)
#   guest:tcp_halfclose      shutdown(SHUT_WR) by each side in turn, the
#                            other side replying after EOF
#   guest:tcp_rst_dead_peer  the host aborts (SO_LINGER 0 -> RST): recv gives
#                            ECONNRESET, send ECONNRESET/EPIPE, a blocked
#                            writer wakes with the error
#   guest:tcp_zcopy_echo_400 OSv's tst-bsd-tcp1-zsnd: 400 connect/accept
#                            cycles on the guest's loopback, both sides
#                            echoing with zcopy_tx and waiting for each
#                            completion (no namespace needed)
#   guest:tcp_zcopy_echo_net the same with the server in the guest and the
#                            client on the host (zcopy_tx over the NIC)
#   host:tcp_conn_loopback   every pair above natively over the host's own
#                            loopback (Linux on both sides): the checks
#                            hold on Linux
#   host:tcp_conn_negative   the checks fail when the behaviour is wrong: a
#                            refused connect that connects, a backlog that
#                            admits one more, a FIN instead of a RST,
#                            zcopy_tx missing (ENOSYS)
#
# Verdicts come from exit statuses and output lines of both sides; every
# wait is bounded (readiness lines are polled for, the apps have
# watchdogs). Logs: guest_netns_NAME.log (console), .host (the host
# tool's output), tcp_conn_*.log for the host cases.

TCPCONN_G=$NETNS_GUEST
TCPCONN_H=$NETNS_HOST
TCPCONN_DIR=$(cd "$LOG_DIR" && pwd)/tcpconn
rm -rf "$TCPCONN_DIR"
mkdir -p "$TCPCONN_DIR"

tcpconn_missing=
for f in "$GUEST_APPS/tcpserver" "$GUEST_APPS/zcopy_echo" out/apps/zcopy_echo out/apps/tcpserver \
    "$HOST_TESTS/tcp_client"; do
    [ -x "$f" ] || tcpconn_missing="$f was not built (make apps, make check)"
done

# tcpconn_show FILE: the end of a log, indented, for a failure report.
tcpconn_show() {
    [ -f "$1" ] && tr -d '\r' < "$1" | sed 's/^/    | /' | tail -n "${2:-15}"
}

# tcpconn_reap PID SECONDS: waits up to SECONDS for PID to end (then kills
# it); its exit status lands in tcpconn_rc.
tcpconn_reap() {
    tcpconn_i=0
    while kill -0 "$1" 2> /dev/null && [ $tcpconn_i -lt $(($2 * 10)) ]; do
        sleep 0.1
        tcpconn_i=$((tcpconn_i + 1))
    done
    kill "$1" 2> /dev/null
    { wait "$1"; } 2> /dev/null
    tcpconn_rc=$?
}

# tcpconn_bg LOG READY CMD...: CMD in the background ($tcpconn_in: in the
# namespace) with its output in LOG; waits up to 10 s for the READY regex.
# Sets tcpconn_bg_pid; returns 1 when CMD ended or never got ready.
tcpconn_bg() {
    tcpconn_l=$1 tcpconn_r=$2
    shift 2
    $tcpconn_in "$@" > "$tcpconn_l" 2>&1 &
    tcpconn_bg_pid=$!
    tcpconn_i=0
    while [ $tcpconn_i -lt 100 ]; do
        grep -Eq "$tcpconn_r" "$tcpconn_l" && return 0
        kill -0 "$tcpconn_bg_pid" 2> /dev/null || return 1
        sleep 0.1
        tcpconn_i=$((tcpconn_i + 1))
    done
    return 1
}

# tcpconn_setup CASE NAME: checks what the case needs and makes the
# namespace. Returns 1 (CASE reported as skipped or failed) when it cannot
# run. Resets tcpconn_why, the reason the case failed, if it did.
tcpconn_setup() {
    tcpconn_why= tcpconn_bg_pid= tcpconn_quit= boot_pid= log=$LOG_DIR/guest_netns_$2.log
    tcpconn_hlog=$log.host
    if [ -n "$netns_why" ]; then
        skip "$1" "$netns_why"
        return 1
    elif [ -n "$tcpconn_missing" ]; then
        fail "$1" "$tcpconn_missing"
        return 1
    elif ! netns_up "$2"; then
        fail "$1" "could not make a namespace with a tap device"
        netns_down
        return 1
    fi
    tcpconn_in="ip netns exec $ns"
    : > "$tcpconn_hlog"
}

# tcpconn_boot NAME APP CMDLINE READY: boots $GUEST_APPS/APP with CMDLINE (a
# YAML flow list) in the namespace until the console matches READY.
# A 5th argument adds manifest lines (e.g. "kernel_options: netstat").
tcpconn_boot() {
    [ -n "$tcpconn_why" ] && return 1
    if ! netns_boot "$1" "name: tcpconn-$1
memory: 128M
cpus: 1
cmdline: $3
${5:+$5
}files:
  /bin/$2: $GUEST_APPS/$2" "$4"; then
        tcpconn_why="the guest did not get ready (/$4/): $(tr -d '\r' < "$log" |
            grep -E "^$2: |EPROTONOSUPPORT|panic" | tail -n 1)"
        return 1
    fi
}

# tcpconn_netstat_figures PREFIX...: from the console ($log) of a guest
# booted with the netstat option, each named counter line (Tcp, TcpExt,
# TernMem, IpExt...) as NAME=VALUE pairs, indented under a verdict.
tcpconn_netstat_figures() {
    for tcpconn_p in "$@"; do
        tr -d '\r' < "$log" 2> /dev/null | awk -v p="$tcpconn_p" '
            $0 ~ " netstat: " p ": [A-Za-z]" { sub(".* netstat: " p ": ", ""); n = split($0, h, " ") }
            $0 ~ " netstat: " p ": [0-9-]" { sub(".* netstat: " p ": ", ""); split($0, v, " ")
                s = ""; for (i = 1; i <= n; i++) s = s " " h[i] "=" v[i]
                print "    netstat at the end: " p ":" s }'
    done
}

# tcpconn_host REGEX TOOL ARGS...: runs the host tool (tcp_client, or any
# path) in the namespace, its output appended to $tcpconn_hlog; it must
# exit 0 and print a line matching REGEX.
tcpconn_host() {
    [ -n "$tcpconn_why" ] && return 1
    tcpconn_re=$1 tcpconn_tool=$2
    shift 2
    case $tcpconn_tool in
    */*) ;;
    *) tcpconn_tool=$HOST_TESTS/$tcpconn_tool ;;
    esac
    tcpconn_o=$TCPCONN_DIR/last.out
    echo "\$ $(basename "$tcpconn_tool") $*" >> "$tcpconn_hlog"
    $tcpconn_in "$tcpconn_tool" "$@" > "$tcpconn_o" 2>&1
    tcpconn_rc=$?
    cat "$tcpconn_o" >> "$tcpconn_hlog"
    if [ "$tcpconn_rc" -ne 0 ]; then
        tcpconn_why="host: $(basename "$tcpconn_tool") $1 exited with $tcpconn_rc: $(tail -n 1 "$tcpconn_o")"
    elif ! grep -Eq -- "$tcpconn_re" "$tcpconn_o"; then
        tcpconn_why="host: $(basename "$tcpconn_tool") $1: output lacks /$tcpconn_re/"
    fi
    [ -z "$tcpconn_why" ]
}

# tcpconn_finish CASE REGEX...: the verdict. With a reason on record the
# guest (and a background host peer) are stopped and the case fails with
# the logs' ends; otherwise the guest must exit 0 with every REGEX on its
# console (judge_boot), and a background host peer must have exited 0.
tcpconn_finish() {
    tcpconn_c=$1
    shift
    if [ -n "$tcpconn_why" ]; then
        # An echo server asked to quit prints its counts: the log then
        # says how far the guest got.
        if [ -n "$tcpconn_quit" ] && [ -n "$boot_pid" ]; then
            $tcpconn_in "$HOST_TESTS/tcp_client" quit --timeout 10 --to "$tcpconn_quit" \
                >> "$tcpconn_hlog" 2>&1
            tcpconn_reap "$boot_pid" 10
        fi
        [ -n "$boot_pid" ] && tcpconn_reap "$boot_pid" 0
        [ -n "$tcpconn_bg_pid" ] && tcpconn_reap "$tcpconn_bg_pid" 0
        fail "$tcpconn_c" "$tcpconn_why"
        tcpconn_show "$log"
        tcpconn_show "$tcpconn_hlog" 5
    else
        tcpconn_reap "$boot_pid" 120
        tcpconn_guest_rc=$tcpconn_rc tcpconn_rc=0
        # A guest that failed is the news, not the peer it left waiting.
        [ -n "$tcpconn_bg_pid" ] && tcpconn_reap "$tcpconn_bg_pid" \
            "$([ "$tcpconn_guest_rc" -eq 0 ] && echo 10 || echo 0)"
        if [ "$tcpconn_guest_rc" -eq 0 ] && [ "$tcpconn_rc" -ne 0 ]; then
            fail "$tcpconn_c" "host peer exited with $tcpconn_rc: $(tail -n 1 "$tcpconn_hlog")"
            tcpconn_show "$tcpconn_hlog" 5
        else
            judge_boot "$tcpconn_c" 0 "$tcpconn_guest_rc" "$log" "$@"
        fi
    fi
    netns_down
}

# --- 200 concurrent connections to an epoll server ---------------------------
# Every 50th connection carries 16 MiB, read by the host only while its
# sending is stuck, to make the server meet full send buffers (its
# partial_writes count); how often that happens depends on buffer sizes on
# both sides, so the count is shown, not judged. The server ends on "quit",
# sent after the host saw the server close all 200.
if selected "guest:${GUEST_PFX}tcp_epoll_200" && tcpconn_setup "guest:${GUEST_PFX}tcp_epoll_200" tcpepoll; then
    tcpconn_boot tcpepoll tcpserver '[/bin/tcpserver, echo, --port, "7000"]' \
        '^tcpserver: listening on port 7000'
    tcpconn_quit=$TCPCONN_G:7000
    tcpconn_host '^tcp_client: conns: 200 connections closed by the server after our FIN$' \
        tcp_client conns --to "$TCPCONN_G:7000" --count 200 --bytes 16777216
    tcpconn_host '^tcp_client: quit: sent$' tcp_client quit --to "$TCPCONN_G:7000"
    tcpconn_finish "guest:${GUEST_PFX}tcp_epoll_200" \
        '^tcpserver: echo: connections=200 closed=200 reset=0 max_open=200 bytes=[0-9]+ partial_writes=[0-9]+ \(quit\)$'
fi

# --- listen backlog overflow --------------------------------------------------
# The host opens each connection after the previous one completed, so each
# SYN meets the queue as the earlier handshakes left it; 2 s of "still in
# progress" is the check that the SYNs beyond backlog+1 were dropped (a
# completion or a RST in that time fails it). The server then accepts 6,
# the dropped ones arriving through the host's SYN retries.
if selected "guest:${GUEST_PFX}tcp_backlog" && tcpconn_setup "guest:${GUEST_PFX}tcp_backlog" tcpbacklog; then
    tcpconn_boot tcpbacklog tcpserver \
        '[/bin/tcpserver, backlog, --port, "7000", --backlog, "2", --control-port, "7001"]' \
        '^tcpserver: listening on port 7000'
    tcpconn_host '^tcp_client: backlog: after the server accepted, all 6 connected and echoed$' \
        tcp_client backlog --to "$TCPCONN_G:7000" --control "$TCPCONN_G:7001" --backlog 2 \
        --extra 3 --pending-ms 2000
    tcpconn_finish "guest:${GUEST_PFX}tcp_backlog" '^tcpserver: backlog: accepted=6 queued_at_trigger=[0-9]+ backlog=2$'
fi

# --- connection refused, both ways ------------------------------------------------
# Nothing listens on the host's 7009 (a fresh namespace) or the guest's 7001.
if selected "guest:${GUEST_PFX}tcp_refused" && tcpconn_setup "guest:${GUEST_PFX}tcp_refused" tcprefused; then
    tcpconn_boot tcprefused tcpserver \
        "[/bin/tcpserver, connect-refused, --to, \"$TCPCONN_H:7009\", then, echo, --port, \"7000\"]" \
        '^tcpserver: listening on port 7000'
    tcpconn_host '^tcp_client: refused: ok$' tcp_client refused --to "$TCPCONN_G:7001"
    tcpconn_host '^tcp_client: conns: 1 connections closed by the server after our FIN$' \
        tcp_client conns --to "$TCPCONN_G:7000" --count 1
    tcpconn_host '^tcp_client: quit: sent$' tcp_client quit --to "$TCPCONN_G:7000"
    tcpconn_finish "guest:${GUEST_PFX}tcp_refused" '^tcpserver: connect-refused: blocking connect: ECONNREFUSED$' \
        '^tcpserver: connect-refused: non-blocking connect: .*ECONNREFUSED' \
        '^tcpserver: connect-refused: ok$' '^tcpserver: echo: connections=1 closed=1 reset=0 '
fi

# --- half-close -------------------------------------------------------------------
if selected "guest:${GUEST_PFX}tcp_halfclose" && tcpconn_setup "guest:${GUEST_PFX}tcp_halfclose" tcphalf; then
    tcpconn_boot tcphalf tcpserver '[/bin/tcpserver, halfclose, --port, "7000", --bytes, "100000"]' \
        '^tcpserver: listening on port 7000'
    tcpconn_host '^tcp_client: halfclose: ok$' tcp_client halfclose --to "$TCPCONN_G:7000" --bytes 100000
    tcpconn_finish "guest:${GUEST_PFX}tcp_halfclose" \
        '^tcpserver: halfclose: host-first: read 100000 bytes up to EOF, then sent them back$' \
        '^tcpserver: halfclose: guest-first: sent 100000 bytes, shut down writing, read them back up to EOF$' \
        '^tcpserver: halfclose: ok$'
fi

# --- RST from a dead peer -----------------------------------------------------------
if selected "guest:${GUEST_PFX}tcp_rst_dead_peer" && tcpconn_setup "guest:${GUEST_PFX}tcp_rst_dead_peer" tcprst; then
    if ! tcpconn_bg "$tcpconn_hlog" '^tcp_client: rst-server: listening on port 7100$' \
        "$HOST_TESTS/tcp_client" rst-server --port 7100 --count 3; then
        tcpconn_why="host: rst-server did not start: $(tail -n 1 "$tcpconn_hlog")"
    fi
    tcpconn_boot tcprst tcpserver "[/bin/tcpserver, dead-peer, --to, \"$TCPCONN_H:7100\"]" \
        '^tcpserver: dead-peer: (ok|FAIL)'
    tcpconn_finish "guest:${GUEST_PFX}tcp_rst_dead_peer" '^tcpserver: dead-peer: recv: ECONNRESET$' \
        '^tcpserver: dead-peer: send: poll revents 0x[0-9a-f]+, then (ECONNRESET|EPIPE), (ECONNRESET|EPIPE)$' \
        '^tcpserver: dead-peer: writer: (ECONNRESET|EPIPE) after [0-9]+ bytes$' '^tcpserver: dead-peer: ok$'
fi

# --- OSv's zero-copy echo scenario on the guest's loopback ---------------------------
# Its messages are small: zcopy_copy_max=0 keeps them by reference (the
# kernel copies zero-copy sends of up to 4 KiB by default), which is what
# this scenario is about.
if selected "guest:${GUEST_PFX}tcp_zcopy_echo_400"; then
    if [ -n "$tcpconn_missing" ]; then
        fail "guest:${GUEST_PFX}tcp_zcopy_echo_400" "$tcpconn_missing"
    else
        cat > "$TCPCONN_DIR/zcopy.yaml" <<EOT
name: tcp-zcopy-echo
arch: $GUEST_ARCH
memory: 128M
cpus: 2
kernel_options: zcopy_copy_max=0
cmdline: [/bin/zcopy_echo]
files:
  /bin/zcopy_echo: $GUEST_APPS/zcopy_echo
EOT
        log=$LOG_DIR/guest_${GUEST_PFX}tcp_zcopy_echo_400.log
        "$TERN" run "$TCPCONN_DIR/zcopy.yaml" -o "$TCPCONN_DIR/img-zcopy" --kernel "$KERNEL" \
            --accel "$ACCEL" --quiet --timeout 180 --log "$log" > "$log.tern" 2>&1
        judge_boot "guest:${GUEST_PFX}tcp_zcopy_echo_400" 0 $? "$log" \
            '^zcopy_echo: 400 cycles on 127\.0\.0\.1:5555, transmitting with zcopy_tx, waiting for each completion$' \
            '^zcopy_echo: server: 400 echoes, each completed after close$' \
            '^zcopy_echo: client: 400 echoes intact$' '^zcopy_echo: 400 cycles ok$'
    fi
fi

# --- the same across the network: zcopy_tx through the NIC ---------------------------
# The host has no zcopy_tx, so its client sends with send(); the guest's
# server echoes with zcopy_tx and waits for each completion.
if selected "guest:${GUEST_PFX}tcp_zcopy_echo_net" && tcpconn_setup "guest:${GUEST_PFX}tcp_zcopy_echo_net" tcpzcopy; then
    tcpconn_boot tcpzcopy zcopy_echo '[/bin/zcopy_echo, --role, server, --addr, 0.0.0.0, --port, "5555"]' \
        '^zcopy_echo: listening on 0\.0\.0\.0:5555' 'kernel_options: zcopy_copy_max=0'
    tcpconn_host '^zcopy_echo: 400 cycles ok$' "$PWD/out/apps/zcopy_echo" --role client \
        --addr "$TCPCONN_G" --port 5555 --fallback-send
    tcpconn_finish "guest:${GUEST_PFX}tcp_zcopy_echo_net" \
        '^zcopy_echo: server: 400 echoes, each completed after close$' '^zcopy_echo: 400 cycles ok$'
fi

# --- host: the same pairs natively over the host's loopback -----------------------------
# In a namespace of its own when netns.sh's prerequisites are there (no
# clash with ports in use on the host), else on the host's loopback.
TCPCONN_APPS=$PWD/out/apps
TCPCONN_CLIENT=$HOST_TESTS/tcp_client

# tcpconn_native_setup CASE NAME: tcpconn_in, the log for a host case.
tcpconn_native_setup() {
    tcpconn_why= tcpconn_in= ns= tcpconn_hlog=$LOG_DIR/$(echo "$1" | tr ':' '_').log
    : > "$tcpconn_hlog"
    if [ -n "$tcpconn_missing" ]; then
        tcpconn_why=$tcpconn_missing
    elif [ -z "$netns_why" ] && netns_up "$2"; then
        tcpconn_in="ip netns exec $ns"
    fi
}

# tcpconn_peer READY CMD...: starts the background side of a pair; it must
# print READY. tcpconn_peer_end [SECONDS]: it must then exit 0 within
# SECONDS (default 10); with 0 it is just stopped (a negative control).
tcpconn_peer() {
    [ -n "$tcpconn_why" ] && return 1
    tcpconn_ready=$1
    shift
    if ! tcpconn_bg "$TCPCONN_DIR/bg.out" "$tcpconn_ready" "$@"; then
        tcpconn_why="$(basename "$1") $2 did not get ready: $(tail -n 1 "$TCPCONN_DIR/bg.out")"
        tcpconn_reap "$tcpconn_bg_pid" 0
        cat "$TCPCONN_DIR/bg.out" >> "$tcpconn_hlog"
        tcpconn_bg_pid=
        return 1
    fi
}
tcpconn_peer_end() {
    [ -z "$tcpconn_bg_pid" ] && return 1
    tcpconn_reap "$tcpconn_bg_pid" "${1:-10}"
    tcpconn_bg_pid=
    cat "$TCPCONN_DIR/bg.out" >> "$tcpconn_hlog"
    if [ -z "$tcpconn_why" ] && [ "${1:-10}" -ne 0 ] && [ "$tcpconn_rc" -ne 0 ]; then
        tcpconn_why="the background peer exited with $tcpconn_rc: $(tail -n 1 "$TCPCONN_DIR/bg.out")"
    fi
}

# tcpconn_native_verdict CASE
tcpconn_native_verdict() {
    [ -n "$tcpconn_bg_pid" ] && tcpconn_reap "$tcpconn_bg_pid" 0
    if [ -n "$tcpconn_why" ]; then
        fail "$1" "$tcpconn_why"
        tcpconn_show "$tcpconn_hlog" 10
    else
        pass "$1"
    fi
    [ -n "$ns" ] && netns_down
}

if selected host:tcp_conn_loopback; then
    tcpconn_native_setup host:tcp_conn_loopback tcplo
    tcpconn_peer '^tcpserver: listening on port 7000' "$TCPCONN_APPS/tcpserver" echo --port 7000 &&
        tcpconn_host '^tcp_client: conns: 200 connections closed by the server after our FIN$' \
            tcp_client conns --to 127.0.0.1:7000 --count 200 &&
        tcpconn_host '^tcp_client: quit: sent$' tcp_client quit --to 127.0.0.1:7000
    tcpconn_peer_end
    tcpconn_peer '^tcpserver: listening on port 7010' \
        "$TCPCONN_APPS/tcpserver" backlog --port 7010 --backlog 2 &&
        tcpconn_host '^tcp_client: backlog: after the server accepted, all 6 connected and echoed$' \
            tcp_client backlog --to 127.0.0.1:7010 --backlog 2 --extra 3
    tcpconn_peer_end
    tcpconn_peer '^tcpserver: listening on port 7020' \
        "$TCPCONN_APPS/tcpserver" connect-refused --to 127.0.0.1:7029 then echo --port 7020 &&
        tcpconn_host '^tcp_client: refused: ok$' tcp_client refused --to 127.0.0.1:7021 &&
        tcpconn_host '^tcp_client: conns: 1 connections closed by the server after our FIN$' \
            tcp_client conns --to 127.0.0.1:7020 --count 1 &&
        tcpconn_host '^tcp_client: quit: sent$' tcp_client quit --to 127.0.0.1:7020
    tcpconn_peer_end
    tcpconn_peer '^tcpserver: listening on port 7030' "$TCPCONN_APPS/tcpserver" halfclose --port 7030 &&
        tcpconn_host '^tcp_client: halfclose: ok$' tcp_client halfclose --to 127.0.0.1:7030
    tcpconn_peer_end
    tcpconn_peer '^tcp_client: rst-server: listening on port 7040$' \
        "$TCPCONN_CLIENT" rst-server --port 7040 --count 3 &&
        tcpconn_host '^tcpserver: dead-peer: ok$' "$TCPCONN_APPS/tcpserver" dead-peer --to 127.0.0.1:7040
    tcpconn_peer_end
    tcpconn_host '^zcopy_echo: 400 cycles ok$' "$TCPCONN_APPS/zcopy_echo" --fallback-send
    tcpconn_native_verdict host:tcp_conn_loopback
fi

# tcpconn_expect_fail REGEX CMD...: CMD must exit 1 printing REGEX.
tcpconn_expect_fail() {
    [ -n "$tcpconn_why" ] && return 1
    tcpconn_re=$1
    shift
    (b=$(basename "$1") && shift && echo "\$ $b $* (must fail)") >> "$tcpconn_hlog"
    $tcpconn_in "$@" > "$TCPCONN_DIR/last.out" 2>&1
    tcpconn_rc=$?
    cat "$TCPCONN_DIR/last.out" >> "$tcpconn_hlog"
    if [ "$tcpconn_rc" -ne 1 ] || ! grep -Eq -- "$tcpconn_re" "$TCPCONN_DIR/last.out"; then
        tcpconn_why="$(basename "$1") $2 exited with $tcpconn_rc without /$tcpconn_re/: $(tail -n 1 "$TCPCONN_DIR/last.out")"
    fi
}

if selected host:tcp_conn_negative; then
    tcpconn_native_setup host:tcp_conn_negative tcpneg
    # refused: something listens there.
    tcpconn_peer '^tcpserver: listening on port 7050' "$TCPCONN_APPS/tcpserver" echo --port 7050 --max 1 &&
        tcpconn_expect_fail '^tcp_client: refused: FAIL: blocking connect succeeded' \
            "$TCPCONN_CLIENT" refused --to 127.0.0.1:7050
    tcpconn_peer_end
    # backlog: the client allows backlog 1, the server has 2, so one more
    # connection completes than the client allows.
    tcpconn_peer '^tcpserver: listening on port 7060' "$TCPCONN_APPS/tcpserver" backlog --port 7060 --backlog 2 &&
        tcpconn_expect_fail '^tcp_client: backlog: FAIL: connection 3 \(beyond backlog\+1 = 2\) completed' \
            "$TCPCONN_CLIENT" backlog --to 127.0.0.1:7060 --backlog 1 --extra 2
    tcpconn_peer_end 0
    # dead-peer: the peer closes with a FIN, not a RST.
    tcpconn_peer '^tcp_client: rst-server: listening' "$TCPCONN_CLIENT" rst-server --port 7070 --count 3 --fin &&
        tcpconn_expect_fail '^tcpserver: dead-peer: FAIL: recv case: recv returned 0 \(EOF\), expected ECONNRESET' \
            "$TCPCONN_APPS/tcpserver" dead-peer --to 127.0.0.1:7070
    tcpconn_peer_end 0
    # zcopy_echo: Linux has no zcopy_tx.
    tcpconn_expect_fail '^zcopy_echo: FAIL: client: zcopy_tx: ENOSYS' "$TCPCONN_APPS/zcopy_echo" --iterations 1
    tcpconn_native_verdict host:tcp_conn_negative
fi
