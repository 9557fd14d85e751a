# Bulk TCP against the host's own Linux TCP (issue 6): apps/tcpbulk in the
# guest, tests/host/tcp_peer on the host side of a namespace made by
# netns.sh's helpers (netns_up, netns_boot, netns_down; run-tests.sh sources
# tests/guest/*.sh in name order, so netns.sh comes first).
#
#   guest:tcp_bulk_tx_send, _msg_zerocopy, _zcopy, _zcopy_txq, _sendfile
#       the guest sends through send(), MSG_ZEROCOPY, zcopy_tx (a
#       descriptor per call, or one completion queue), sendfile()
#       to a host sink
#       (the zero-copy ones each buffer in one call; guest:tcp_zcopy_tx_4m_buffers
#       with buffers 4 times the send buffer; guest:tcp_bulk_tx_zcopy_smp2
#       zcopy_tx on 2 vCPUs, 64 MiB)
#   guest:tcp_bulk_rx         a host source sends to the guest
#   guest:tcp_lost_kicks      64 MiB (aarch64: 16) through send() with every 50th transmit
#       notification dropped (net_lose_kicks): the driver's stall check
#       must notice and notify again
#   guest:tcp_netem_tx, guest:tcp_netem_rx
#       64 MiB each way under loss 1%, reorder 5%, delay 5 ms: tc's netem
#       on the tap when the host kernel has it, else tests/host/netem_relay
#       between two taps (the host log says which)
#   host:tcp_bulk_loopback, host:tcp_bulk_corruption_caught
#       the same two programs against each other over the host's loopback,
#       and the negative control: a flipped byte fails the comparison
#
# A bulk case passes when the receiver's byte count and SHA-256 equal the
# sender's line, both sides exit 0, and the pattern stream checked out at
# the receiver (every byte at its offset; sendfile: the file repeated).
# The zero-copy senders also check each completion against TCP_INFO's
# tcpi_bytes_acked and overwrite each buffer the moment it completes.
#
# On aarch64 (TCG) every case is guest:a64_NAME (GUEST_PFX, run-tests.sh)
# and moves less: 64 MiB per bulk case, 16 MiB under netem (about 10-25 s
# each; tests/full-only.txt says which of them CI leaves out).
#
# TCP_TX_ARGS, TCP_TX_KOPTS, TCP_TX_CPUS and TCP_TX_EXPECT give one
# tcp_tx_case more app arguments, kernel options, vCPUs and a console line
# to expect.
# Knobs: TERN_TCP_BULK_MB (MiB each bulk case moves, default 1024; aarch64
# 64), TERN_TCP_NETEM_MB (default 64; aarch64 16), TERN_TCP_NETEM_MODE (the guest sender's
# mode under netem, default zcopy), TERN_TCP_TIMEOUT (seconds a guest may
# run; by default 120 s plus 0.5 s per MiB, 2 s per MiB under netem).
# Logs: guest_netns_NAME.log (console), guest_netns_NAME.host.log (the
# host peer, the impairment used, the relay's counts).

TCP_PORT=5001
# An aarch64 guest runs under TCG on this x86_64 host (see docs/aarch64.md
# for its rates): the guest cases move less there (the same checks).
TCP_SMALL_MB=64             # tcp_zcopy_tx_4m_buffers, tcp_bulk_tx_zcopy_smp2
if [ "$GUEST_ARCH" = aarch64 ]; then
    TCP_MB=${TERN_TCP_BULK_MB:-64} TCP_NETEM_MB=${TERN_TCP_NETEM_MB:-16}
    # (every lost notification costs the stall check's 500 ms)
    TCP_KICKS_MB=16
else
    TCP_MB=${TERN_TCP_BULK_MB:-1024} TCP_NETEM_MB=${TERN_TCP_NETEM_MB:-64}
    TCP_KICKS_MB=64
fi
TCP_NETEM_MODE=${TERN_TCP_NETEM_MODE:-zcopy}
TCP_FILE_BYTES=16777216     # the file sendfile() sends over and over
TCP_LOOP_MB=64              # host:tcp_bulk_loopback, per direction and mode

# Why every tcp case must stop before it starts, if anything.
tcp_why_all=
for tcp_v in "$TCP_MB" "$TCP_NETEM_MB" "${TERN_TCP_TIMEOUT:-1}"; do
    case $tcp_v in
    '' | *[!0-9]* | 0) tcp_why_all="TERN_TCP_BULK_MB, TERN_TCP_NETEM_MB and TERN_TCP_TIMEOUT must be positive integers" ;;
    esac
done
case $TCP_NETEM_MODE in
send | msg_zerocopy | zcopy | sendfile) ;;
*) tcp_why_all="TERN_TCP_NETEM_MODE=$TCP_NETEM_MODE: choose send, msg_zerocopy, zcopy or sendfile" ;;
esac
if [ -z "$tcp_why_all" ] && { [ ! -x out/apps/tcpbulk ] || [ ! -x "$GUEST_APPS/tcpbulk" ] ||
    [ ! -x "$HOST_TESTS/tcp_peer" ] || [ ! -x "$HOST_TESTS/netem_relay" ]; }; then
    tcp_why_all="out/apps/tcpbulk, $GUEST_APPS/tcpbulk, $HOST_TESTS/tcp_peer or $HOST_TESTS/netem_relay is not built (make apps, make check)"
fi

# tcp_timeout MIB F: how long a guest may run: 120 s plus F/2 s per MiB.
tcp_timeout() {
    echo "${TERN_TCP_TIMEOUT:-$((120 + $1 * $2 / 2))}"
}

# tcp_reap PID SECONDS: waits up to SECONDS for PID to end (then kills it);
# its exit status lands in tcp_rc.
tcp_reap() {
    tcp_i=0
    while kill -0 "$1" 2> /dev/null && [ $tcp_i -lt $(($2 * 10)) ]; do
        sleep 0.1
        tcp_i=$((tcp_i + 1))
    done
    kill "$1" 2> /dev/null
    # (the braces keep the shell's "Terminated" note out of the output)
    { wait "$1"; } 2> /dev/null
    tcp_rc=$?
}

# tcp_digest LOG WHO VERB: "BYTES HEX" from WHO's "VERB N bytes sha256 HEX".
tcp_digest() {
    tr -d '\r' < "$1" | sed -n "s/^$2: $3 \([0-9]*\) bytes sha256 \([0-9a-f]\{64\}\)\$/\1 \2/p" | tail -n 1
}

# tcp_show FILE [LINES]: the end of a log, indented, for a failure report.
tcp_show() {
    [ -f "$1" ] && tr -d '\r' < "$1" | sed 's/^/    | /' | tail -n "${2:-15}"
}

# tcp_net_up NAME IMPAIR: the namespace (netns_up: ns, tap, the host's
# address) and, with IMPAIR=netem, the impairment: tc's netem on the tap,
# or where the kernel lacks sch_netem, netem_relay between a second
# namespace holding the guest's tap (tcp_wire_ns, tcp_wire_tap) and the
# host's tap. Writes which to the host log; tcp_why says what failed.
tcp_net_up() {
    tcp_wire_ns='' tcp_wire_tap='' tcp_relay_pid='' tcp_impair=''
    tcp_hlog=$LOG_DIR/guest_netns_$1.host.log
    : > "$tcp_hlog"
    if ! netns_up "$1"; then
        tcp_why="could not make a namespace with a tap device"
        return 1
    fi
    [ "$2" = netem ] || return 0
    tcp_tcerr=$NETNS_DIR/$1.tc.err
    if command -v tc > /dev/null 2>&1 &&
        ip netns exec "$ns" tc qdisc add dev "$tap" root netem loss 1% reorder 5% delay 5ms \
            > "$tcp_tcerr" 2>&1; then
        tcp_impair="tc netem on $tap: loss 1% reorder 5% delay 5ms (frames host -> guest)"
    else
        if command -v tc > /dev/null 2>&1; then
            tcp_tcwhy="tc netem failed: $(tr '\n' ' ' < "$tcp_tcerr")"
        else
            tcp_tcwhy="tc is not installed"
        fi
        tcp_wire_ns=tern-$1-wire-$$
        tcp_wire_tap=tw$$$(echo "$1" | cut -c1-4)
        if ! { ip netns add "$tcp_wire_ns" &&
            ip netns exec "$tcp_wire_ns" ip link set lo up &&
            ip netns exec "$tcp_wire_ns" ip tuntap add "$tcp_wire_tap" mode tap &&
            ip netns exec "$tcp_wire_ns" ip link set "$tcp_wire_tap" up; }; then
            tcp_why="could not make the relay's second namespace and tap ($tcp_tcwhy)"
            return 1
        fi
        tcp_nsfile=/run/netns/$ns
        [ -e "$tcp_nsfile" ] || tcp_nsfile=/var/run/netns/$ns
        ip netns exec "$tcp_wire_ns" "$HOST_TESTS/netem_relay" --wire "$tcp_wire_tap" \
            --host-netns "$tcp_nsfile" --host-tap "$tap" --loss 1 --reorder 5 --delay-ms 5 \
            --seed 6 > "$NETNS_DIR/$1.relay.log" 2>&1 &
        tcp_relay_pid=$!
        tcp_i=0
        until grep -q '^netem_relay: ready' "$NETNS_DIR/$1.relay.log"; do
            if ! kill -0 "$tcp_relay_pid" 2> /dev/null || [ $tcp_i -ge 100 ]; then
                tcp_why="netem_relay did not start: $(tail -n 2 "$NETNS_DIR/$1.relay.log" | tr '\n' ' ')"
                return 1
            fi
            sleep 0.1
            tcp_i=$((tcp_i + 1))
        done
        tcp_impair="netem_relay (userspace, tests/host/netem_relay.c): loss 1% reorder 5% delay 5ms, both directions, seed 6; sch_netem is not usable here ($tcp_tcwhy)"
    fi
    echo "impairment: $tcp_impair" >> "$tcp_hlog"
    echo "$tcp_case: impairment by $tcp_impair"
}

tcp_net_down() {
    if [ -n "$tcp_relay_pid" ]; then
        kill "$tcp_relay_pid" 2> /dev/null
        { wait "$tcp_relay_pid"; } 2> /dev/null
        cat "$NETNS_DIR/$1.relay.log" >> "$tcp_hlog"
    fi
    netns_down
    [ -n "$tcp_wire_ns" ] && ip netns del "$tcp_wire_ns" 2> /dev/null
    tcp_wire_ns='' tcp_relay_pid=''
}

# tcp_boot NAME MANIFEST READY: netns_boot, with QEMU on the relay's wire
# side when there is a relay (the host's peer stays in ns).
tcp_boot() {
    if [ -z "$tcp_wire_ns" ]; then
        netns_boot "$@"
        return
    fi
    tcp_hns=$ns tcp_htap=$tap
    ns=$tcp_wire_ns tap=$tcp_wire_tap
    netns_boot "$@"
    tcp_r=$?
    ns=$tcp_hns tap=$tcp_htap
    return $tcp_r
}

# tcp_start_case CASE-NAME: skips or fails what cannot run; 0 to go on.
tcp_start_case() {
    if [ -n "$tcp_why_all" ]; then
        fail "$1" "$tcp_why_all"
        return 1
    fi
    if [ -n "$netns_why" ]; then
        skip "$1" "$netns_why"
        return 1
    fi
    return 0
}

# tcp_tx_case NAME MODE MIB [netem]: the guest sends MIB MiB through MODE
# to tcp_peer's sink in the namespace.
tcp_tx_case() {
    tcp_case=guest:$GUEST_PFX$1 tcp_mode=$2 tcp_bytes=$(($3 * 1048576))
    selected "$tcp_case" || return 0
    tcp_start_case "$tcp_case" || return 0
    if ! tcp_net_up "$1" "${4:-}"; then
        fail "$tcp_case" "$tcp_why"
        tcp_net_down "$1"
        return 0
    fi
    tcp_files="  /bin/tcpbulk: $GUEST_APPS/tcpbulk"
    tcp_args="send, --mode, $tcp_mode, --to, \"$NETNS_HOST:$TCP_PORT\", --bytes, \"$tcp_bytes\""
    [ -n "${TCP_TX_ARGS:-}" ] && tcp_args="$tcp_args, $TCP_TX_ARGS"
    tcp_kopts=
    [ -n "${TCP_TX_KOPTS:-}" ] && tcp_kopts="kernel_options: \"$TCP_TX_KOPTS\"
"
    [ -n "${TCP_TX_CPUS:-}" ] && tcp_kopts="${tcp_kopts}cpus: $TCP_TX_CPUS
"
    tcp_check=--pattern-check
    case $tcp_mode in
    sendfile)
        # Made here, not kept in the tree: the pattern stream's first
        # 16 MiB, so the sink can still check every byte (repeating).
        tcp_file=$NETNS_DIR/$1.stream.bin
        if ! "$HOST_TESTS/tcp_peer" pattern --bytes $TCP_FILE_BYTES > "$tcp_file"; then
            fail "$tcp_case" "could not write $tcp_file"
            tcp_net_down "$1"
            return 0
        fi
        tcp_files="$tcp_files
  /data/stream.bin: $tcp_file"
        tcp_args="$tcp_args, --file, /data/stream.bin"
        tcp_check="--pattern-period $TCP_FILE_BYTES"
        ;;
    msg_zerocopy | zcopy | zcopy_txq)
        tcp_args="$tcp_args, --require-ack-check"
        ;;
    esac
    if [ "${4:-}" = netem ]; then
        NETNS_TIMEOUT=$(tcp_timeout "$3" 4)
    else
        NETNS_TIMEOUT=$(tcp_timeout "$3" 1)
    fi
    # shellcheck disable=SC2086
    ip netns exec "$ns" "$HOST_TESTS/tcp_peer" sink --port $TCP_PORT --bytes $tcp_bytes \
        $tcp_check --timeout $((NETNS_TIMEOUT + 60)) >> "$tcp_hlog" 2>&1 &
    tcp_peer_pid=$!
    tcp_i=0
    until grep -q '^tcp_peer: listening' "$tcp_hlog"; do
        if ! kill -0 "$tcp_peer_pid" 2> /dev/null || [ $tcp_i -ge 100 ]; then
            tcp_reap "$tcp_peer_pid" 0
            fail "$tcp_case" "the host sink did not start listening"
            tcp_show "$tcp_hlog" 5
            tcp_net_down "$1"
            return 0
        fi
        sleep 0.1
        tcp_i=$((tcp_i + 1))
    done
    # READY is any tcpbulk line: "connecting", or the error that ended it.
    tcp_boot "$1" "name: $1
memory: 256M
${tcp_kopts}cmdline: [/bin/tcpbulk, $tcp_args]
files:
$tcp_files" '^tcpbulk: ' || kill "$boot_pid" 2> /dev/null
    { wait "$boot_pid"; } 2> /dev/null
    tcp_grc=$?
    unset NETNS_TIMEOUT
    # The sink is done once the guest closed; after a failed guest it may
    # still be waiting for a connection.
    tcp_reap "$tcp_peer_pid" 30
    tcp_d=$(tcp_digest "$tcp_hlog" tcp_peer received)
    if [ "$tcp_rc" -eq 0 ] && [ -n "$tcp_d" ]; then
        # The guest's line must carry the very count and digest the host
        # computed over what it received.
        judge_boot "$tcp_case" 0 "$tcp_grc" "$log" \
            "^tcpbulk: sent ${tcp_d% *} bytes sha256 ${tcp_d#* }\$" ${TCP_TX_EXPECT:+"$TCP_TX_EXPECT"}
    elif [ "$tcp_grc" -ne 0 ]; then
        judge_boot "$tcp_case" 0 "$tcp_grc" "$log"
        echo "    host side:"
        tcp_show "$tcp_hlog" 5
    else
        fail "$tcp_case" "the host sink failed (status $tcp_rc): $(grep '^tcp_peer: .*\(mismatch\|expected\|timed out\|recv\)' "$tcp_hlog" | head -n 2 | tr '\n' ' ')"
        tcp_show "$tcp_hlog" 8
        tcp_show "$log" 8
    fi
    tcp_net_down "$1"
}

# tcp_rx_case NAME MIB [netem]: tcp_peer's source in the namespace sends
# MIB MiB to the guest, which checks every byte and the digest.
tcp_rx_case() {
    tcp_case=guest:$GUEST_PFX$1 tcp_bytes=$(($2 * 1048576))
    selected "$tcp_case" || return 0
    tcp_start_case "$tcp_case" || return 0
    if ! tcp_net_up "$1" "${3:-}"; then
        fail "$tcp_case" "$tcp_why"
        tcp_net_down "$1"
        return 0
    fi
    if [ "${3:-}" = netem ]; then
        NETNS_TIMEOUT=$(tcp_timeout "$2" 4)
    else
        NETNS_TIMEOUT=$(tcp_timeout "$2" 1)
    fi
    if ! tcp_boot "$1" "name: $1
memory: 256M
cmdline: [/bin/tcpbulk, recv, --port, \"$TCP_PORT\", --bytes, \"$tcp_bytes\", --verify-pattern]
files:
  /bin/tcpbulk: $GUEST_APPS/tcpbulk" '^tcpbulk: listening on port'; then
        kill "$boot_pid" 2> /dev/null
        { wait "$boot_pid"; } 2> /dev/null
        fail "$tcp_case" "the guest did not start listening"
        tcp_show "$log"
    elif ! ip netns exec "$ns" "$HOST_TESTS/tcp_peer" source --to "$NETNS_GUEST:$TCP_PORT" \
        --bytes $tcp_bytes --timeout "$NETNS_TIMEOUT" >> "$tcp_hlog" 2>&1; then
        # The guest may be stuck waiting for more: stop it.
        tcp_reap "$boot_pid" 5
        fail "$tcp_case" "the host source failed: $(grep '^tcp_peer: [a-z]' "$tcp_hlog" | grep -v '^tcp_peer: connected' | tail -n 1)"
        tcp_show "$tcp_hlog" 5
        tcp_show "$log"
    else
        wait "$boot_pid"
        tcp_grc=$?
        tcp_d=$(tcp_digest "$tcp_hlog" tcp_peer sent)
        judge_boot "$tcp_case" 0 "$tcp_grc" "$log" \
            "^tcpbulk: received ${tcp_d% *} bytes sha256 ${tcp_d#* }\$" \
            '^tcpbulk: every byte matched the pattern stream$'
    fi
    unset NETNS_TIMEOUT
    tcp_net_down "$1"
}

# --- the same programs natively, over the host's loopback -------------------
# Proves the host side and the app agree with each other (and with
# coreutils' sha256sum) without a guest, on every run, before the long guest
# cases; ports are picked by the kernel, since other runs may share this host.

# tcp_await_port PID LOG WHO: waits up to 10 s, while PID runs, for WHO's
# line "WHO: listening on port P" in LOG; sets tcp_lport (empty, and status
# 1, when it did not come).
tcp_await_port() {
    tcp_i=0
    until tcp_lport=$(sed -n "s/^$3: listening on port \([0-9]*\)\$/\1/p" "$2") &&
        [ -n "$tcp_lport" ]; do
        if ! kill -0 "$1" 2> /dev/null || [ $tcp_i -ge 100 ]; then
            return 1
        fi
        sleep 0.1
        tcp_i=$((tcp_i + 1))
    done
}

# tcp_loop_sink ARGS...: starts a sink on a free port; sets tcp_peer_pid,
# tcp_lport.
tcp_loop_sink() {
    "$HOST_TESTS/tcp_peer" sink --port 0 --timeout 120 "$@" > "$tcp_llog.sink" 2>&1 &
    tcp_peer_pid=$!
    tcp_await_port "$tcp_peer_pid" "$tcp_llog.sink" tcp_peer
}

# tcp_loop_rx BYTES LOG SOURCE-LOG [ARGS...]: `tcpbulk recv
# --verify-pattern` for BYTES on a free port (its output in LOG), fed by
# `tcp_peer source ... ARGS` (its output in SOURCE-LOG); waits for both and
# sets tcp_src and tcp_rc, their exit statuses. A receiver that never
# listened shows as the source's failure to connect (to port 1).
tcp_loop_rx() {
    tcp_rx_bytes=$1 tcp_rx_log=$2 tcp_rx_source_log=$3
    shift 3
    out/apps/tcpbulk recv --port 0 --bytes "$tcp_rx_bytes" --verify-pattern > "$tcp_rx_log" 2>&1 &
    tcp_gpid=$!
    tcp_await_port "$tcp_gpid" "$tcp_rx_log" tcpbulk
    "$HOST_TESTS/tcp_peer" source --to "127.0.0.1:${tcp_lport:-1}" --bytes "$tcp_rx_bytes" \
        --timeout 120 "$@" > "$tcp_rx_source_log" 2>&1
    tcp_src=$?
    tcp_reap "$tcp_gpid" 30
}

# tcp_loop_tx MODE: tcpbulk send MODE into a sink; sets tcp_why on failure.
tcp_loop_tx() {
    tcp_llog=$LOG_DIR/host_tcp_bulk_loopback.$1
    tcp_lbytes=$((TCP_LOOP_MB * 1048576))
    tcp_extra='' tcp_check=--pattern-check
    if [ "$1" = sendfile ]; then
        tcp_extra="--file $tcp_lfile" tcp_check="--pattern-period $TCP_FILE_BYTES"
    elif [ "$1" = msg_zerocopy ]; then
        tcp_extra=--require-ack-check
    fi
    # shellcheck disable=SC2086
    if ! tcp_loop_sink --bytes $tcp_lbytes $tcp_check; then
        tcp_why="$1: the sink did not start: $(tail -n 1 "$tcp_llog.sink")"
        return 1
    fi
    # shellcheck disable=SC2086
    out/apps/tcpbulk send --mode "$1" --to "127.0.0.1:$tcp_lport" --bytes $tcp_lbytes \
        $tcp_extra > "$tcp_llog.send" 2>&1
    tcp_src=$?
    tcp_reap "$tcp_peer_pid" 30
    tcp_a=$(tcp_digest "$tcp_llog.send" tcpbulk sent)
    tcp_b=$(tcp_digest "$tcp_llog.sink" tcp_peer received)
    if [ "$tcp_src" -ne 0 ]; then
        tcp_why="$1: tcpbulk send exited with $tcp_src: $(tail -n 1 "$tcp_llog.send")"
    elif [ "$tcp_rc" -ne 0 ]; then
        tcp_why="$1: the sink exited with $tcp_rc: $(tail -n 1 "$tcp_llog.sink")"
    elif [ -z "$tcp_a" ] || [ "$tcp_a" != "$tcp_b" ]; then
        tcp_why="$1: sent '$tcp_a', received '$tcp_b'"
    elif [ "$1" = msg_zerocopy ] && ! grep -q 'none before its ACK' "$tcp_llog.send"; then
        tcp_why="$1: no completion summary checked against ACKs"
    else
        return 0
    fi
    return 1
}

if selected host:tcp_bulk_loopback; then
    tcp_why=''
    tcp_lfile=$LOG_DIR/host_tcp_bulk_loopback.stream.bin
    tcp_lbytes=$((TCP_LOOP_MB * 1048576))
    if [ -n "$tcp_why_all" ]; then
        tcp_why=$tcp_why_all
    elif ! "$HOST_TESTS/tcp_peer" pattern --bytes $TCP_FILE_BYTES > "$tcp_lfile"; then
        tcp_why="could not write $tcp_lfile"
    elif ! tcp_want=$("$HOST_TESTS/tcp_peer" pattern --bytes $tcp_lbytes | sha256sum | cut -c1-64); then
        tcp_why="tcp_peer pattern | sha256sum failed"
    else
        for tcp_m in send msg_zerocopy sendfile; do
            tcp_loop_tx $tcp_m || break
        done
    fi
    # The stream's digest, independently: coreutils over `tcp_peer pattern`.
    if [ -z "$tcp_why" ] && [ "$(tcp_digest "$LOG_DIR/host_tcp_bulk_loopback.send.send" tcpbulk sent)" != "$tcp_lbytes $tcp_want" ]; then
        tcp_why="send: the digest differs from sha256sum of the pattern stream ($tcp_want)"
    fi
    if [ -z "$tcp_why" ]; then
        tcp_llog=$LOG_DIR/host_tcp_bulk_loopback.recv
        tcp_loop_rx $tcp_lbytes "$tcp_llog" "$tcp_llog.source"
        if [ "$tcp_src" -ne 0 ] || [ "$tcp_rc" -ne 0 ] ||
            [ "$(tcp_digest "$tcp_llog" tcpbulk received)" != "$tcp_lbytes $tcp_want" ]; then
            tcp_why="recv: source status $tcp_src, tcpbulk recv status $tcp_rc: $(tail -n 1 "$tcp_llog")"
        fi
    fi
    # Outside Tern zcopy_tx does not exist: exit status 3, said so.
    if [ -z "$tcp_why" ]; then
        out/apps/tcpbulk send --mode zcopy --to 127.0.0.1:1 --bytes 1 > "$LOG_DIR/host_tcp_bulk_loopback.zcopy" 2>&1
        tcp_rc=$?
        if [ $tcp_rc -ne 3 ] || ! grep -q 'zcopy_tx: .*not running on Tern' "$LOG_DIR/host_tcp_bulk_loopback.zcopy"; then
            tcp_why="zcopy outside Tern: status $tcp_rc, expected 3 and the reason"
        fi
    fi
    if [ -n "$tcp_why" ]; then
        fail host:tcp_bulk_loopback "$tcp_why"
    else
        pass host:tcp_bulk_loopback
    fi
fi

# The negative control: a byte flipped on the wire (tcp_peer source
# --corrupt-at, whose printed digest stays the true stream's) must fail
# the digest comparison and both pattern checks, at that very offset.
if selected host:tcp_bulk_corruption_caught; then
    tcp_why='' tcp_llog=$LOG_DIR/host_tcp_bulk_corruption_caught
    tcp_bad=12345678
    if [ -n "$tcp_why_all" ]; then
        tcp_why=$tcp_why_all
    elif ! tcp_loop_sink --pattern-check; then
        tcp_why="the sink did not start"
    else
        "$HOST_TESTS/tcp_peer" source --to "127.0.0.1:$tcp_lport" --bytes 32M --corrupt-at $tcp_bad \
            --timeout 120 > "$tcp_llog.source" 2>&1
        tcp_src=$?
        tcp_reap "$tcp_peer_pid" 30
        tcp_a=$(tcp_digest "$tcp_llog.source" tcp_peer sent)
        tcp_b=$(tcp_digest "$tcp_llog.sink" tcp_peer received)
        if [ $tcp_src -ne 0 ] || [ -z "$tcp_a" ] || [ -z "$tcp_b" ]; then
            tcp_why="the corrupted transfer itself failed (source status $tcp_src)"
        elif [ "$tcp_a" = "$tcp_b" ]; then
            tcp_why="a flipped byte left the digests equal"
        elif [ $tcp_rc -ne 1 ] || ! grep -q "pattern mismatch at stream byte $tcp_bad:" "$tcp_llog.sink"; then
            tcp_why="the sink's pattern check missed byte $tcp_bad (status $tcp_rc)"
        fi
    fi
    if [ -z "$tcp_why" ]; then
        tcp_loop_rx 32M "$tcp_llog.recv" "$tcp_llog.source2" --corrupt-at $tcp_bad
        if [ $tcp_rc -ne 1 ] || ! grep -q "pattern mismatch at stream byte $tcp_bad:" "$tcp_llog.recv"; then
            tcp_why="tcpbulk recv --verify-pattern missed byte $tcp_bad (status $tcp_rc)"
        fi
    fi
    if [ -n "$tcp_why" ]; then
        fail host:tcp_bulk_corruption_caught "$tcp_why"
    else
        pass host:tcp_bulk_corruption_caught
    fi
fi

# --- the guest against the host ---------------------------------------------
tcp_tx_case tcp_bulk_tx_send send "$TCP_MB"
# A blocking socket takes each buffer in one call (the 128 KiB default),
# as Linux's does, also one far bigger than the 1 MiB send buffer.
TCP_TX_EXPECT="^tcpbulk: MSG_ZEROCOPY: $((TCP_MB * 8)) sends, " \
    tcp_tx_case tcp_bulk_tx_msg_zerocopy msg_zerocopy "$TCP_MB"
TCP_TX_EXPECT="^tcpbulk: zcopy_tx: $((TCP_MB * 8)) calls, " \
    tcp_tx_case tcp_bulk_tx_zcopy zcopy "$TCP_MB"
# The same on 2 vCPUs: the NIC's interrupt (and so each completion) is
# taken on one CPU while the app may send from the other.
TCP_TX_CPUS=2 TCP_TX_EXPECT="^tcpbulk: zcopy_tx: $((TCP_SMALL_MB * 8)) calls, " \
    tcp_tx_case tcp_bulk_tx_zcopy_smp2 zcopy "$TCP_SMALL_MB"
# The completion queue: each buffer is overwritten the moment the queue's
# in-order count covers it, and must by then be ACKed (and, or the
# pattern check fails, back from the device).
TCP_TX_EXPECT="^tcpbulk: zcopy_txq: $((TCP_MB * 8)) calls, $((TCP_MB * 8)) completions in [0-9]+ queue reads, none before its ACK" \
    tcp_tx_case tcp_bulk_tx_zcopy_txq zcopy_txq "$TCP_MB"
TCP_TX_ARGS='--msg, 4M, --ring, 4' TCP_TX_EXPECT="^tcpbulk: zcopy_tx: $((TCP_SMALL_MB / 4)) calls, $((TCP_SMALL_MB / 4)) completions" \
TCP_TX_KOPTS=netstat tcp_tx_case tcp_zcopy_tx_4m_buffers zcopy $TCP_SMALL_MB
# The same boot's `netstat` dump at exit: counters that add up. It reads
# that case's console, so it runs when that case ran (its name contains
# the case's, so a TESTS that selects the case selects this too).
netstat_check() {
    selected "guest:${GUEST_PFX}tcp_zcopy_tx_4m_buffers_netstat" || return 0
    if ! selected "guest:${GUEST_PFX}tcp_zcopy_tx_4m_buffers"; then
        skip "guest:${GUEST_PFX}tcp_zcopy_tx_4m_buffers_netstat" "it checks the console of guest:${GUEST_PFX}tcp_zcopy_tx_4m_buffers, which TESTS left out"
        return 0
    fi
    tcp_start_case "guest:${GUEST_PFX}tcp_zcopy_tx_4m_buffers_netstat" || return 0
    ns_log=$LOG_DIR/guest_netns_tcp_zcopy_tx_4m_buffers.log
    [ -f "$ns_log" ] || { fail "guest:${GUEST_PFX}tcp_zcopy_tx_4m_buffers_netstat" "no log of tcp_zcopy_tx_4m_buffers"; return 0; }
    ns_why=$(tr -d '\r' < "$ns_log" | awk -v mib=$TCP_SMALL_MB '
        / netstat: Tcp: [0-9]/ { tcp = 1; out = $(NF - 3); act = $(NF - 9) }
        / netstat: +eth0: / { eth = 1; txb = $(NF - 3) }
        / net0: rx .* completed/ {
            dev = 1
            for (i = 1; i < NF; i++) {
                if ($i == "tx") txp = $(i + 1)
                if ($(i + 1) == "completed,") done = $i
            }
        }
        END {
            if (!tcp) { print "no netstat Tcp counters"; exit }
            if (!eth) { print "no netstat line for eth0"; exit }
            if (!dev) { print "no net0 driver counters"; exit }
            if (act != 1) { print "ActiveOpens " act ", want 1"; exit }
            if (out + 0 < 1000) { print "OutSegs " out ", want at least 1000"; exit }
            if (txb + 0 < mib * 1048576) { print "eth0 sent " txb " bytes, want at least " mib " MiB"; exit }
            # The last frames may still be out as the app exits.
            if (done > txp || txp - done > 256) { print "net0 sent " txp " frames, completed " done; exit }
        }')
    if [ -n "$ns_why" ]; then
        fail "guest:${GUEST_PFX}tcp_zcopy_tx_4m_buffers_netstat" "$ns_why"
        grep 'netstat: \|net0: rx' "$ns_log" | sed 's/^/    | /'
    else
        pass "guest:${GUEST_PFX}tcp_zcopy_tx_4m_buffers_netstat"
    fi
}
netstat_check
tcp_tx_case tcp_bulk_tx_sendfile sendfile "$TCP_MB"
tcp_rx_case tcp_bulk_rx "$TCP_MB"
# A device that misses transmit notifications (QEMU's virtio-net was seen
# to, under netem): every 50th one the device asked for is dropped, and
# the driver's stall check must find the queue standing and notify again.
TCP_TX_KOPTS='net_lose_kicks=50' \
TCP_TX_EXPECT='net0: the device left sent frames untouched for 500 ms; notified it again$' \
    tcp_tx_case tcp_lost_kicks send $TCP_KICKS_MB
tcp_tx_case tcp_netem_tx "$TCP_NETEM_MODE" "$TCP_NETEM_MB" netem
tcp_rx_case tcp_netem_rx "$TCP_NETEM_MB" netem
