# Memory exhaustion from the network (issue 18, items 2 and 4, and its
# acceptance line "with 1000 idle connections on a 128 MiB guest, a normal
# client still connects and echoes 1 MiB intact within 5 s; the app is
# never killed"). `tcpserver echo` (apps/tcpserver.c, an epoll echo server)
# runs in a 128 MiB, 1-vCPU guest booted with the kernel's `netstat`
# option; tests/host/tcp_client loads it from netns.sh's namespace (guest
# 10.99.0.2, host 10.99.0.1). The helpers are tcpconn.sh's (run-tests.sh
# sources netns.sh and tcpconn.sh before this file).
#
#   guest:attack_idle_500        500 connections opened (batches of 100)
#                                and held without a byte sent (item 2:
#                                each SYN took a 256 KiB receive ring, and
#                                about 245 of them ended the app with an
#                                out-of-memory SIGKILL)
#   guest:attack_idle_1000       the same with 1000 (the acceptance line)
#   guest:attack_nonreaders_100  100 connections that send as fast as the
#                                guest takes it for 8 s and never read, so
#                                the server's replies pile up in its send
#                                buffers and their data in its receive
#                                buffers (item 4: memory ran out in ~4 s,
#                                send() gave ENOBUFS, the guest went down)
#
# In each, with the load still connected, a fresh connection must echo
# 1 MiB of a pattern intact within 5 s, connect included (tcp_client's
# control), and every loaded connection must still be open after it (no
# reset, no EOF). A case passes only when that held AND the app lived
# until the host told it to quit: no "app: killed by" on the console, the
# server's summary ends in "(quit)", and the guest exits with status 0.
# The figures are printed under the verdict: connections held, the time
# to connect and echo, the guest's memory and CurrEstab while loaded (the
# server's answer to a "stats" request, from /proc/meminfo and
# /proc/net/snmp), and the netstat Tcp counters printed at the app's end
# (also when it was killed). Logs: guest_netns_NAME.log (console), .host.

# attack_mem_figures: the case's figures, indented, from the host tool's
# output and the console.
attack_mem_figures() {
    grep -E '^tcp_client: (idle|nonreaders): ' "$tcpconn_hlog" 2> /dev/null |
        grep -Ev ': ok: ' | sed 's/^tcp_client: /    figures: /'
    tr -d '\r' < "$log" 2> /dev/null | grep -E 'app: (killed by|out of memory)|tcpserver: echo: (connections=|FAIL)' |
        sed 's/^/    console: /'
    tcpconn_netstat_figures Tcp TcpExt TernMem
}

# attack_mem_case CASE NAME MODE ARGS...: boots the echo server, runs
# `tcp_client MODE ARGS...` against it, then asks it to quit.
attack_mem_case() {
    selected "$1" || return 0
    attack_case=$1 attack_name=$2
    shift 2
    tcpconn_setup "$attack_case" "$attack_name" || return 0
    # A guest that stops answering must not hold the run for long.
    if ! NETNS_TIMEOUT=150 netns_boot "$attack_name" "name: attack-$attack_name
memory: 128M
cpus: 1
kernel_options: netstat
cmdline: [/bin/tcpserver, --timeout, \"140\", echo, --port, \"7000\", --backlog, \"128\"]
files:
  /bin/tcpserver: $PWD/out/apps/tcpserver" '^tcpserver: listening on port 7000'; then
        tcpconn_why="the guest did not get ready: $(tr -d '\r' < "$log" |
            grep -E '^tcpserver: |panic' | tail -n 1)"
    fi
    tcpconn_quit=$TCPCONN_G:7000
    tcpconn_host "^tcp_client: $1: ok: " tcp_client "$@" --to "$TCPCONN_G:7000" --timeout 80
    # Why the app is gone, when it is: the news, before the host's view.
    attack_killed=$(tr -d '\r' < "$log" | grep -E 'app: killed by|^tcpserver: echo: FAIL' | head -n 1)
    if [ -n "$attack_killed" ]; then
        tcpconn_why="the guest app died under the load: $attack_killed$(tr -d '\r' < "$log" |
            grep -E 'app: out of memory' | head -n 1 | sed 's/^.*app: /; /')${tcpconn_why:+ (then $tcpconn_why)}"
    fi
    # No quit for a guest that already ended (it would wait for a connect).
    kill -0 "$boot_pid" 2> /dev/null || tcpconn_quit=
    [ -n "$tcpconn_quit" ] &&
        tcpconn_host '^tcp_client: quit: sent$' tcp_client quit --to "$TCPCONN_G:7000" --timeout 20
    tcpconn_finish "$attack_case" \
        '^tcpserver: echo: connections=[0-9]+ closed=[0-9]+ reset=[0-9]+ max_open=[0-9]+ bytes=[0-9]+ partial_writes=[0-9]+ \(quit\)$' \
        ' netstat: Tcp: [0-9]'
    attack_mem_figures
}

attack_mem_case guest:attack_idle_500 atkidle5 idle --count 500 --hold-ms 2000 \
    --bytes 1048576 --deadline-ms 5000
attack_mem_case guest:attack_idle_1000 atkidle10 idle --count 1000 --hold-ms 2000 \
    --bytes 1048576 --deadline-ms 5000
attack_mem_case guest:attack_nonreaders_100 atknonrd nonreaders --count 100 --send-ms 8000 \
    --bytes 1048576 --deadline-ms 5000
