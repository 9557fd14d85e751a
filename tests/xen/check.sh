#!/bin/sh
# make check-xen: Tern on the real Xen hypervisor (tests/xen/run.sh boots
# Xen 4.17 + a Debian dom0 under QEMU TCG and xl-creates each guest). One
# line per case, "PASS: xen:NAME" / "FAIL: xen:NAME: why" / "SKIP: ...",
# then "N passed, N failed, N skipped", as tests/run-tests.sh does.
#
# Environment (the Makefile sets them):
#   XEN_KERNEL  the xen-platform kernel of the configured OPT; its cases
#               are skipped, saying why, while it does not exist
#   XEN_KERNEL_O2, XEN_KERNEL_O0  the xen-platform kernels at -O2 and -O0,
#               the torture's two ends (default out/x86_64-xen-O2/kernel.elf,
#               out/x86_64-xen-O0/kernel.elf)
#   TERN        the tern tool, APPS_DIR the apps (make apps)
#   TCP_PEER    tests/host/tcp_peer, the netfront cases' peer in dom0
#   BUILD_DIR   logs go to $BUILD_DIR/xen-logs
#   TESTS       run only the cases whose name contains one of its words
#   XEN_CI      1: CI's budget (make check sets it unless TERN_CHECK_FULL
#               is 1): the cases in FULL_ONLY below are skipped, saying so;
#               make check-xen runs them all
#   TERN_TORTURE_MATRIX  0: the torture cases are skipped (the same kernels
#               were tortured earlier in this run, as tests/guest/sched.sh)
#
# All cases but one are guests of one boot of Xen and dom0: about 30-60 s
# of boot on the 2-core machine, plus each guest's own time (all under
# TCG). xen:tern_run_hello is tern run's own boot through this harness,
# after the others (measured: 127 s wall, load average ~5).
set -u
: "${XEN_KERNEL:?}" "${TERN:?}" "${BUILD_DIR:?}"
: "${APPS_DIR:=out/apps}" "${TESTS:=}" "${XEN_KERNEL_O0:=out/x86_64-xen-O0/kernel.elf}"
: "${XEN_KERNEL_O2:=out/x86_64-xen-O2/kernel.elf}"
HERE=$(cd "$(dirname "$0")" && pwd)
LOG_DIR=$BUILD_DIR/xen-logs
rm -rf "$LOG_DIR"
mkdir -p "$LOG_DIR"
passed=0 failed=0 skipped=0 failures=

# What CI leaves to make check-xen, to stay in its time budget: each guest
# costs 20-60 s under nested TCG (creation, hotplug, its run, destruction)
# and tern_run_hello a boot of Xen of its own (2-3 min). The smp 2 torture
# cases cover the smp 1 paths and the IPIs too; the detach/attach and the
# bad disk are the slow edge cases of what CI runs.
FULL_ONLY="torture-O2-smp1 torture-O0-smp1 tern_run_hello net_detach_attach blk_bad_magic"
ci_skipped=

wanted() {   # NAME: TESTS is empty or one of its words is part of NAME
    [ -z "$TESTS" ] && return 0
    for t in $TESTS; do
        case "$1" in *"$t"*) return 0 ;; esac
    done
    return 1
}
selected() {
    if [ "${XEN_CI:-0}" = 1 ]; then
        case " $FULL_ONLY " in
        *" ${1#xen:} "*)
            case " $ci_skipped " in
            *" $1 "*) ;;
            *) wanted "$1" && skip "$1" "not in CI's budget (make check-xen runs it)"
               ci_skipped="$ci_skipped $1" ;;
            esac
            return 1 ;;
        esac
    fi
    wanted "$1"
}
pass() { passed=$((passed + 1)); echo "PASS: $1"; }
fail() { failed=$((failed + 1)); failures="$failures $1"; echo "FAIL: $1${2:+: $2}"; }
skip() { skipped=$((skipped + 1)); echo "SKIP: $1: $2"; }

# All cases run as guests of one boot of Xen + dom0 (run.sh --next): the
# boot costs far more than a small guest. Each case is judged on its own.
#
# xen_case NAME WANT_STATUS GUEST_REGEXES OUTPUT_REGEXES -- GUEST ARGS...
#   Adds a guest (run.sh guest options and its kernel or image); it passes
#   when its status is WANT_STATUS, every regex of GUEST_REGEXES
#   (newline-separated, extended) matches a line of its console, every one
#   of OUTPUT_REGEXES a line of what dom0 and Xen printed while it ran,
#   and, when WANT_STATUS is a guest status (not 124/125), its last
#   console line is "tern-exit: status=WANT_STATUS".
ncases=0 cases= run_args=
xen_case() {
    name=xen:$1 want=$2 gre=$3 ore=$4
    shift 4
    [ "$1" = -- ] && shift
    selected "$name" || return 0
    ncases=$((ncases + 1))
    dom=${name#xen:}
    cases="$cases $ncases"
    eval "case_name_$ncases=\$name case_dom_$ncases=\$dom case_want_$ncases=\$want"
    printf '%s\n' "$gre" > "$LOG_DIR/$dom.gre"
    printf '%s\n' "$ore" > "$LOG_DIR/$dom.ore"
    # run.sh's arguments, quoted for a later eval
    one=
    for a in "$@" --name "$dom"; do
        one="$one '$(printf '%s' "$a" | sed "s/'/'\\\\''/g")'"
    done
    eval "case_args_$ncases=\$one"
    run_args="$run_args${run_args:+ --next}$one"
}

# out_of N SERIAL: what dom0 and Xen printed from case N's guest's start
# to its verdict, from the run's SERIAL log, into LOG_DIR/NAME.out.
out_of() {
    eval "dom=\$case_dom_$1"
    tr -d '\r' < "$2" | sed -n "/^dom0: guest $dom (/,/^xen-guest: name=$dom /p" > "$LOG_DIR/$dom.out"
}

# The nested CPU's fault, not the guest's (tests/xen/README.md): a guest
# that triple-faults without a fault report of its own. Tern's kernel
# reports every exception it can take (KERNEL FAULT, #DF on its own
# stack), so a triple fault means the CPU could not deliver one at all.
# Two forms were seen: Xen's dump shows Xen's own code selector (e008)
# and an address in Xen (QEMU's SVM emulation resumed the guest with the
# host's state), or the guest's RIP just after an emulated port or MMIO
# access (debugcon_write at boot, with interrupts still off; apic_eoi).
# Such a guest is run once more, in a boot of its own; the same fault
# twice fails the case.
emulator_fault() {  # OUT-FILE GUEST-LOG
    grep -q 'Triple fault' "$1" && ! grep -q 'KERNEL FAULT' "$2" 2> /dev/null
}

judge() {   # N: the verdict on case N after the run
    eval "name=\$case_name_$1 dom=\$case_dom_$1 want=\$case_want_$1"
    log=$LOG_DIR/$dom.log
    rc=$(cat "$LOG_DIR/$dom.status" 2> /dev/null)
    why=
    if [ -z "$rc" ]; then
        why="no result (the run ended before this guest; see $LOG_DIR/run.log)"
    elif [ "$rc" -ne "$want" ]; then
        why="exit status $rc, expected $want"
    elif [ "$want" -ne 124 ] && [ "$want" -ne 125 ] &&
        [ "$(tail -n 1 "$log")" != "tern-exit: status=$want" ]; then
        why="the guest's last console line is not 'tern-exit: status=$want'"
    fi
    if [ -z "$why" ]; then
        while IFS= read -r re; do
            [ -n "$re" ] || continue
            grep -Eq -- "$re" "$log" || { why="guest console lacks /$re/"; break; }
        done < "$LOG_DIR/$dom.gre"
    fi
    if [ -z "$why" ]; then
        while IFS= read -r re; do
            [ -n "$re" ] || continue
            grep -Eq -- "$re" "$LOG_DIR/$dom.out" || { why="dom0/Xen output lacks /$re/"; break; }
        done < "$LOG_DIR/$dom.ore"
    fi
    if [ -n "$why" ]; then
        fail "$name" "$why"
        grep -E '^(dom0|xen-guest|[a-z]+\| |\(d[0-9]|\(XEN\) d[1-9])' "$LOG_DIR/$dom.out" | grep -v '^guest| ' |
            tail -n 12 | sed 's/^/    | /'
        sed 's/^/    guest| /' "$log" 2> /dev/null | tail -n 12
    else
        pass "$name"
    fi
}

# --- the harness itself --------------------------------------------------------
# A guest that never prints its status (here: the Xen kernel in a torture
# run far longer than --timeout): the harness must create it, give up after
# --timeout, dump its vCPUs symbolized (xenctx with the kernel's symbols)
# and destroy it: status 124, never a hang. Its vif must land on the bridge
# (xen-netback, the harness's hotplug script vif-fast.sh: Debian's
# vif-bridge overran libxl's 40 s limit under load) while dom0's script
# runs beside it. (This used to be the kvm-platform kernel, which knows
# nothing of Xen; its busy polling of absent devices made a VM exit of
# nearly every step, and under nested TCG a guest sometimes came back from
# one with Xen's own RIP (run.sh, tsc_mode): it triple-faulted instead of
# timing out.)
if [ -f "$XEN_KERNEL" ]; then
    xen_case harness_timeout_dump 124 '' \
'dom0: created harness_timeout_dump as domain [0-9]+
^dom0-script\| vif vif[0-9]+\.0 is on xenbr0
^rip: +ffffffff[0-9a-f]+ [A-Za-z_][A-Za-z0-9_.]*\+0x
^xen-guest: name=harness_timeout_dump result=timeout' \
        -- --timeout 15 --vif-fast --dom0-script "$HERE/vif-on-bridge.sh" \
        --append "ktest=torture torture_switches=1000000000 torture_seconds=3600" "$XEN_KERNEL"
else
    selected xen:harness_timeout_dump && fail xen:harness_timeout_dump "$XEN_KERNEL was not built"
fi

# --- the xen platform -----------------------------------------------------------
if [ ! -f "$XEN_KERNEL" ]; then
    for c in boot_banner exit_status_42 virsh_exit_status apps_hello tern_run_hello tern_run_in_dom0; do
        selected "xen:$c" && skip "xen:$c" "no xen-platform kernel ($XEN_KERNEL: configure --platform=xen, platform/xen)"
    done
else
    xen_case boot_banner 0 '\] Tern [0-9]+\.[0-9]+\.[0-9]+ \(x86_64, xen platform
ready: ' '' -- --timeout 60 --append "" "$XEN_KERNEL"
    xen_case exit_status_42 42 '' '^xen-guest: name=exit_status_42 result=exited status=42' \
        -- --timeout 60 --append "exit=42" "$XEN_KERNEL"
    # The generated <domain type='xen'> (os type xenpvh) through libvirt's
    # Xen driver in dom0: virsh -c xen:///system create (dom0-lib.sh's
    # start_libvirtd gives libvirt a CPU model it can decode under TCG).
    # A guest that exits at once may be gone before its id is read.
    xen_case virsh_exit_status 7 '' 'created virsh_exit_status as domain ([0-9]+|\? \(already gone\)) \(virsh\)' \
        -- --via virsh --timeout 60 --append "exit=7" "$XEN_KERNEL"
    # An image from tern build of a platform: xen manifest (for
    # out/apps/hello): its xl.cfg gives run.sh the command line, memory and
    # vCPUs; the app's argv, environment and exit status come through the
    # Xen PV console.
    if selected xen:apps_hello || selected xen:tern_run_hello || selected xen:tern_run_in_dom0; then
        if [ ! -x "$APPS_DIR/hello" ]; then
            for c in apps_hello tern_run_hello tern_run_in_dom0; do
                selected xen:$c && fail xen:$c "$APPS_DIR/hello was not built (make apps)"
            done
            hello_failed=1
        else
            d=$(cd "$LOG_DIR" && pwd)
            apps=$(cd "$APPS_DIR" && pwd)
            cat > "$d/hello.yaml" <<EOF
name: xen-hello
platform: xen
memory: 64M
cpus: 1
cmdline: [/bin/hello, "Hello, Xen", --exit, "5"]
env:
  GREETING: hello
files:
  /bin/hello: $apps/hello
EOF
            if "$TERN" build "$d/hello.yaml" -o "$d/hello" --kernel "$XEN_KERNEL" > "$d/hello.build" 2>&1 &&
                [ -f "$d/hello/xl.cfg" ]; then
                if selected xen:apps_hello; then
                    xen_case apps_hello 5 '^argv\[1\]=Hello, Xen$
^GREETING=hello$' '' -- --timeout 60 "$d/hello"
                fi
                # tern run of the same image on the real dom0
                # (tests/xen/tern-in-dom0.sh), beside a guest that exits
                # at once: xl create -c, the app's output on tern's stdout
                # and nothing else there, the kernel's lines in the
                # image's console.log, and the app's status (5) as tern's;
                # then the same through libvirt (tern run --via virsh).
                if selected xen:tern_run_in_dom0; then
                    (cd "$d" && tar -cf image.tar hello)
                    libs=$(ldd "$TERN" | awk '$3 ~ /^\// && /libyaml|libfdt/ { printf " --dom0-file %s", $3 }')
                    # shellcheck disable=SC2086
                    xen_case tern_run_in_dom0 0 '' '^dom0-script\| tern-stderr\| tern: xl create -c /tmp/tern-in-dom0/hello/xl\.cfg
^dom0-script\| tern-stdout\| argv\[1\]=Hello, Xen$
^dom0-script\| tern-stdout\| GREETING=hello$
^dom0-script\| tern stdout: the app.s output only$
^dom0-script\| console\.log: the kernel.s lines only$
^dom0-script\| tern run exited 5$
^dom0-script\| tern --via virsh stdout: the app.s output only$
^dom0-script\| tern run --via virsh exited 5$' -- --timeout 300 --append "" \
                        --dom0-script "$HERE/tern-in-dom0.sh" --dom0-file "$TERN" \
                        --dom0-file "$d/image.tar" $libs "$XEN_KERNEL"
                fi
            else
                for c in apps_hello tern_run_hello tern_run_in_dom0; do
                    selected xen:$c && fail xen:$c "tern build failed: $(tail -n 1 "$d/hello.build")"
                done
                hello_failed=1
            fi
        fi
    fi
fi


# --- netfront: ping and bulk TCP between dom0 and the guest -------------------
# Each case is a tern-built platform: xen image with tcpbulk and a vif on
# xenbr0 (dom0 is 10.0.3.1); tests/xen/tcp-peer.sh in dom0 pings it and
# runs tests/host/tcp_peer (a sink the guest sends to, or a source it
# receives from), then compares tcp_peer's byte count and SHA-256 with
# the guest's tcpbulk line. The zero-copy modes also check each
# completion against TCP_INFO's bytes acked and overwrite each buffer the
# moment it completes, so a buffer released before the backend answered
# or its grant ended would corrupt the stream. Sizes are small: nested
# TCG moves little per second.
#   net_send, net_msg_zerocopy, net_zcopy: the guest sends in each mode
#   net_zcopy_netem: zcopy with netem on the vif (dom0 -> guest: ACKs
#       lost, reordered, delayed)
#   net_rx_netem: dom0 sends to the guest, netem loss on the data
#   net_detach_attach: zcopy while dom0 detaches the vif (xl
#       network-detach) and attaches it again: netfront says the backend
#       left, fails what was in flight, reconnects to the new backend on
#       the same node, and TCP's retransmissions finish the transfer
: "${TCP_PEER:=out/host/tests/tcp_peer}"
XEN_NET_MB=${XEN_NET_MB:-2}
net_n=10
net_case() {   # NAME ROLE MODE MIB NETEM [DETACH]
    net_n=$((net_n + 1))
    selected "xen:$1" || return 0
    if [ ! -x "$APPS_DIR/tcpbulk" ] || [ ! -x "$TCP_PEER" ]; then
        fail "xen:$1" "$APPS_DIR/tcpbulk or $TCP_PEER was not built (make apps, $TCP_PEER)"
        return 0
    fi
    d=$(cd "$LOG_DIR" && pwd)
    ip=10.0.3.$net_n bytes=$(($4 * 1048576))
    if [ "$2" = sink ]; then
        # (connect retried until dom0 has pinged it and started its sink)
        args="send, --mode, $3, --to, \"10.0.3.1:5001\", --bytes, \"$bytes\", --connect-timeout, \"200\""
        [ "$3" = send ] || args="$args, --require-ack-check"
        gre="^tcpbulk: sent $bytes bytes sha256 [0-9a-f]{64}\$"
    else
        args="recv, --port, \"5001\", --bytes, \"$bytes\", --verify-pattern"
        gre="^tcpbulk: every byte matched the pattern stream\$"
    fi
    cat > "$d/$1.yaml" <<EOF
name: $1
platform: xen
memory: 128M
cpus: 1
network:
  mode: bridge
  bridge: xenbr0
  ip: $ip/24
  gateway: 10.0.3.1
cmdline: [/bin/tcpbulk, $args]
files:
  /bin/tcpbulk: $(cd "$APPS_DIR" && pwd)/tcpbulk
EOF
    if ! "$TERN" build "$d/$1.yaml" -o "$d/$1" --kernel "$XEN_KERNEL" > "$d/$1.build" 2>&1; then
        fail "xen:$1" "tern build failed: $(tail -n 1 "$d/$1.build")"
        return 0
    fi
    printf 'ROLE=%s BYTES=%s PORT=5001 GUEST_IP=%s TIMEOUT=%s NETEM="%s" DETACH=%s\n' \
        "$2" "$bytes" "$ip" 300 "$5" "${6:-0}" > "$d/$1.peer.conf"
    gre2="" ore2=""
    if [ "${6:-0}" = 1 ]; then
        gre2="
net0: the backend of device/vif/0 is (Closing|Closed|gone) \\(detached\\?\\): link down
net0: a backend waits at .*: connecting again
net0: connected again to /local/domain/0/backend/vif/[0-9]+/0
net0: link up"
        ore2="
^dom0-script\\| sink paused
^dom0-script\\| xl network-detach [0-9]+ 0: status 0
^dom0-script\\| xl network-attach [0-9]+: status 0
^dom0-script\\| sink resumed"
    fi
    xen_case "$1" 0 "netfront device/vif/0 \\(backend .*\\), mac 00:16:3e
$gre$gre2" "^dom0-script\\| vif vif[0-9]+\\.0 is on xenbr0$ore2
^dom0-script\\| ping $ip: answered
^dom0-script\\| tcp: guest and dom0 agree: $bytes bytes sha256 [0-9a-f]{64}" \
        -- --timeout 360 --vif-fast --dom0-script "$HERE/tcp-peer.sh" --dom0-file "$TCP_PEER" \
        --dom0-file "$d/$1.peer.conf" "$d/$1"
}
if [ -f "$XEN_KERNEL" ]; then
    net_case net_send sink send "$XEN_NET_MB" ''
    net_case net_msg_zerocopy sink msg_zerocopy "$XEN_NET_MB" ''
    net_case net_zcopy sink zcopy "$XEN_NET_MB" ''
    net_case net_zcopy_netem sink zcopy "$XEN_NET_MB" 'loss 2% reorder 10% delay 5ms'
    net_case net_rx_netem source - "$XEN_NET_MB" 'loss 1% delay 5ms'
    # (more bytes than dom0's receive buffer: the paused sink stalls it)
    net_case net_detach_attach sink zcopy $((XEN_NET_MB * 8)) '' 1
else
    for c in net_send net_msg_zerocopy net_zcopy net_zcopy_netem net_rx_netem net_detach_attach; do
        selected "xen:$c" && skip "xen:$c" "no xen-platform kernel ($XEN_KERNEL)"
    done
fi

# --- grant tables, xenstore, blkfront ------------------------------------------
# ktest=xenstore: domid and name, a write read back under data/, a
# transaction committed and one aborted, a watch firing on a write and not
# after its removal (5-15 s of guest time). ktest=gnttab: 700 grants (the
# table grows past a frame), Xen copying a page through a grant to
# ourselves, gnttab_end refused while the frame is mapped (5 s).
# blk_tree_sha256: the ROFS root on a Xen PV disk (blkfront; the image's
# `disk: virtio-blk` is the PV disk xvda on Xen): apps/fileread prints the
# sha256 of every file of a ~2.4 MiB tree, each line the host's sha256sum
# line (20-40 s). blk_bad_magic: random bytes on that disk stop the boot
# with status 70 and the VFS's reason (about 35 s: the crashed
# domain is kept until the harness destroys it).
if [ -f "$XEN_KERNEL" ]; then
    xen_case xenstore 0 'xenstore: domid [0-9]+, name .xenstore.
xenstore: transaction committed a=1 b=2; aborted one left no c
xenstore: watch fired on data/tern-ktest/watched, not after removal
ktest xenstore: passed' '' -- --timeout 90 --append "ktest=xenstore" "$XEN_KERNEL"
    xen_case gnttab 0 'xen: grant table v1 at 0x[0-9a-f]+, 1 of at most [0-9]+ frames
gnttab: 700 grants: 700 refs in use, [2-9] frames
gnttab: Xen copied a page through grant [0-9]+
gnttab: end refused while mapped \(-EBUSY\)
ktest gnttab: passed' '' -- --timeout 90 --append "ktest=gnttab" "$XEN_KERNEL"
    if selected xen:blk_tree_sha256 || selected xen:blk_bad_magic; then
        blk_fail() {
            for c in blk_tree_sha256 blk_bad_magic; do
                selected xen:$c && fail xen:$c "$1"
            done
        }
        d=$(cd "$LOG_DIR" && pwd)
        t=$d/blk-tree
        if [ ! -x "$APPS_DIR/fileread" ]; then
            blk_fail "$APPS_DIR/fileread was not built (make apps)"
        elif ! (
            set -e
            mkdir -p "$t/small" "$t/big/nested"
            cd "$t"
            printf 'hello, xen\n' > hello.txt
            : > empty
            head -c 4097 /dev/urandom > page-plus-one
            i=0
            while [ $i -lt 12 ]; do
                head -c $((i * 1237 + i % 3)) /dev/urandom > "small/f$i"
                i=$((i + 1))
            done
            # across blkfront's 44 KiB requests and its 4 in flight
            head -c $((45056 * 4 + 1)) /dev/urandom > big/four-requests-plus-one
            head -c $((2 * 1024 * 1024 + 3)) /dev/urandom > big/nested/2MiB-and-3
        ); then
            blk_fail "could not make the test tree"
        else
            apps=$(cd "$APPS_DIR" && pwd)
            cat > "$d/blk.yaml" <<EOF
name: xen-blk
platform: xen
memory: 96M
cpus: 1
disk: virtio-blk
cmdline: [/bin/fileread, /data]
files:
  /bin/fileread: $apps/fileread
  /data: $t
EOF
            # The host's sha256sum lines, each a regex the guest's console
            # must have (the paths have no regex characters but dots).
            sums=$(cd "$t" && find . -type f | sed 's|^\./||' | LC_ALL=C sort |
                while read -r f; do sha256sum "$f"; done |
                sed -e 's|  |  /data/|' -e 's|\.|\\.|g' -e 's|^|^|' -e 's|$|$|')
            if "$TERN" build "$d/blk.yaml" -o "$d/blk" --kernel "$XEN_KERNEL" > "$d/blk.build" 2>&1 &&
                grep -q "^disk = .*vdev=xvda" "$d/blk/xl.cfg"; then
                xen_case blk_tree_sha256 0 "blkfront: xen-vbd0: device/vbd/[0-9]+, [0-9]+ sectors of 512 bytes, read-only
vfs: mounted ROFS .* from disk xen-vbd0
$sums" '' -- --timeout 120 "$d/blk"
                # A disk that is not a ROFS image: blkfront reads it, the
                # boot stops with status 70 naming the problem.
                if selected xen:blk_bad_magic; then
                    rm -rf "$d/blk-bad"
                    cp -r "$d/blk" "$d/blk-bad"
                    head -c 65536 /dev/urandom > "$d/blk-bad/rofs.img"
                    xen_case blk_bad_magic 70 'vfs: disk xen-vbd0: not a ROFS image \(bad magic\)$' '' \
                        -- --timeout 60 "$d/blk-bad"
                fi
            else
                blk_fail "tern build failed: $(tail -n 1 "$d/blk.build")"
            fi
        fi
    fi
fi

# --- apps on Xen: threads, the syscalls app, ROFS from the initrd -----------
# tern-built platform: xen images of the same apps the KVM tests run, judged
# by the same lines: apps/threads on 2 vCPUs (workers, hand-overs, a
# detached thread), apps/syscalls (every check it makes, the ROFS tree it
# reads included), and apps/fileread over a tree whose every file's sha256
# must equal the host's, with the ROFS as the PVH module (the initrd:
# blk_tree_sha256 above reads the same through blkfront). 5-30 s each.
xen_app() {   # NAME CPUS STATUS GUEST_REGEXES FILES-YAML -- CMDLINE-YAML
    selected "xen:$1" || return 0
    d=$(cd "$LOG_DIR" && pwd)
    printf 'name: %s\nplatform: xen\nmemory: 96M\ncpus: %s\ncmdline: %s\nfiles:\n%s\n' \
        "$1" "$2" "$7" "$5" > "$d/$1.yaml"
    if ! "$TERN" build "$d/$1.yaml" -o "$d/$1" --kernel "$XEN_KERNEL" > "$d/$1.build" 2>&1; then
        fail "xen:$1" "tern build failed: $(tail -n 1 "$d/$1.build")"
        return 0
    fi
    xen_case "$1" "$3" "$4" '' -- --timeout 120 "$d/$1"
}
if [ -f "$XEN_KERNEL" ] && [ -d "$APPS_DIR" ]; then
    apps=$(cd "$APPS_DIR" && pwd)
    d=$(cd "$LOG_DIR" && pwd)
    xen_app apps_threads 2 0 'smp: 2 of 2 CPUs online
^threads: 8 workers, counter 160000, joined$
^threads: 10000 items handed over, sum 50005000$
^threads: detached thread ran$
^threads: ok$' "  /bin/threads: $apps/threads" -- '[/bin/threads, "8"]'
    if selected xen:apps_syscalls; then
        sd=$d/syscalls-data
        rm -rf "$sd"
        mkdir -p "$sd/sub/deeper"
        (
            cd "$sd" || exit 1
            printf 'hello, tern\n' > file
            printf '#!/bin/sh\nexit 0\n' > ./exec
            printf 'inner\n' > sub/inner
            chmod 0644 file sub/inner
            chmod 0755 exec . sub sub/deeper
            ln -s file link
            ln -s nowhere dangling
            ln -s sub/deeper deeplink
        )
        xen_app apps_syscalls 2 0 '^syscalls: [0-9]+ checks, 0 failed$' \
            "  /bin/syscalls: $apps/syscalls
  /data: $sd" -- '[/bin/syscalls, /data]'
    fi
    if selected xen:rofs_initrd_sha256; then
        t=$d/initrd-tree
        rm -rf "$t"
        mkdir -p "$t/sub"
        printf 'hello, xen\n' > "$t/hello.txt"
        : > "$t/empty"
        head -c 4097 /dev/urandom > "$t/page-plus-one"
        head -c $((1024 * 1024 + 7)) /dev/urandom > "$t/sub/1MiB-and-7"
        sums=$(cd "$t" && find . -type f | sed 's|^\./||' | LC_ALL=C sort |
            while read -r f; do sha256sum "$f"; done |
            sed -e 's|  |  /data/|' -e 's|\.|\\.|g' -e 's|^|^|' -e 's|$|$|')
        xen_app rofs_initrd_sha256 1 0 "vfs: mounted ROFS .* from boot module 0
$sums" "  /bin/fileread: $apps/fileread
  /data: $t" -- '[/bin/fileread, /data]'
    fi
fi

# --- the platform's own: the ABI torture on Xen ------------------------------
# Every timer interrupt here is an event-channel upcall (VIRQ_TIMER from
# VCPUOP_set_singleshot_timer, through the upcall vector and the common trap
# entry), so preemption, sleep and the switch all run over the Xen path.
# Nested TCG makes each VM exit costly (tens of switches per second):
# fewer switches than on KVM. Measured on the 2-core machine: 40-90 s per
# case; the whole check-xen run (9 guests, one Xen boot) took 4.5 min
# (9.5 min with another Xen run beside it).
torture_re='timer: Xen single-shot timer \(VIRQ_TIMER events\)
torture: rounds: yield [1-9][0-9]*, mutex [1-9][0-9]*, condvar [1-9][0-9]*, sleep [1-9][0-9]*, preempt-spin [1-9][0-9]*
torture: context switches [0-9]{4,} \(preemptions [0-9]{3,}\)
torture: mismatches 0$
ktest torture: passed'
torture_args="ktest=torture torture_switches=1500 torture_preemptions=200 torture_seconds=150"
for o in -O2 -O0; do
    k=$XEN_KERNEL_O2
    [ "$o" = -O0 ] && k=$XEN_KERNEL_O0
    for smp in 1 2; do
        c=torture${o}-smp$smp
        selected "xen:$c" || continue
        if [ "${TERN_TORTURE_MATRIX:-1}" = 0 ]; then
            skip "xen:$c" "TERN_TORTURE_MATRIX=0: the same kernels were tortured earlier in this run"
            continue
        fi
        if [ ! -f "$k" ]; then
            fail "xen:$c" "$k was not built (make PLATFORM=xen OPT=$o kernel)"
            continue
        fi
        re=$torture_re
        [ "$smp" = 2 ] && re="$re
xen: vCPU 1 started with VCPUOP_initialise and VCPUOP_up
smp: 2 of 2 CPUs online
xen: vCPU 1: timer on event channel [0-9]+"
        xen_case "$c" 0 "$re" '' -- --timeout 200 --vcpus "$smp" --append "$torture_args" "$k"
    done
done

# harness DIR ARGS WHAT: one boot of Xen + dom0 running the guests ARGS
# (run.sh's guest arguments) describe, logs in DIR; says how long WHAT
# took. Returns run.sh's status.
harness() {
    h_start=$(date +%s)
    eval "sh \"\$HERE/run.sh\" --quiet --log-dir \"\$1\" $2" > "$1/run.log" 2>&1
    h_rc=$?
    echo "xen: $3 took $(($(date +%s) - h_start))s (run.sh status $h_rc)"
    return $h_rc
}

if [ "$ncases" -gt 0 ]; then
    echo "xen: $ncases guests in one boot of Xen + dom0 (log: $LOG_DIR/run.log)"
    harness "$LOG_DIR" "$run_args" "the run"
    rc=$?
    if [ "$rc" -eq 2 ] || ! [ -s "$LOG_DIR/serial.log" ]; then
        sed 's/^/    | /' "$LOG_DIR/run.log" | tail -n 15
    fi
    again= again_args=
    for n in $cases; do
        out_of "$n" "$LOG_DIR/serial.log"
        if emulator_fault "$LOG_DIR/$dom.out" "$LOG_DIR/$dom.log"; then
            echo "xen: $dom: triple fault without a fault report of the kernel's (the nested CPU's SVM emulation, tests/xen/README.md): running it once more"
            again="$again $n"
            eval "again_args=\"\$again_args\${again_args:+ --next}\$case_args_$n\""
        else
            judge "$n"
        fi
    done
    if [ -n "$again" ]; then
        mkdir -p "$LOG_DIR/again"
        harness "$LOG_DIR/again" "$again_args" "the second run"
        for n in $again; do
            eval "dom=\$case_dom_$n"
            for f in log status; do
                [ ! -f "$LOG_DIR/$dom.$f" ] || mv "$LOG_DIR/$dom.$f" "$LOG_DIR/$dom.first.$f"
                [ ! -f "$LOG_DIR/again/$dom.$f" ] || cp "$LOG_DIR/again/$dom.$f" "$LOG_DIR/$dom.$f"
            done
            out_of "$n" "$LOG_DIR/again/serial.log"
            judge "$n"
        done
    fi
fi

# --- tern run of a Xen image on a host without Xen ----------------------------
# tern run --platform xen of the hello manifest without its platform: line
# builds it for Xen, finds no dom0 here and boots the image inside this
# harness (its own boot of Xen + dom0: 45-90 s) with stdio=framed: the
# app's output on its stdout alone, the kernel's lines in the image's
# console.log, both in --log, and the app's status as its own.
if selected xen:tern_run_hello && [ -f "$XEN_KERNEL" ] && [ -z "${hello_failed:-}" ]; then
    start=$(date +%s)
    grep -v '^platform:' "$LOG_DIR/hello.yaml" > "$LOG_DIR/hello-any.yaml"
    "$TERN" run "$LOG_DIR/hello-any.yaml" --platform xen --kernel "$XEN_KERNEL" \
        -o "$LOG_DIR/hello-run" --timeout 120 --log "$LOG_DIR/tern_run_hello.log" \
        > "$LOG_DIR/tern_run_hello.out" 2> "$LOG_DIR/tern_run_hello.err"
    rc=$?
    echo "xen: tern run took $(($(date +%s) - start))s (status $rc)"
    out=$LOG_DIR/tern_run_hello.out
    if [ "$rc" -ne 5 ]; then
        fail xen:tern_run_hello "tern run exited $rc, expected 5"
        tail -n 12 "$LOG_DIR/tern_run_hello.err" | sed 's/^/    | /'
    elif ! grep -q 'not a Xen dom0: booting .* inside the Xen harness' "$LOG_DIR/tern_run_hello.err"; then
        fail xen:tern_run_hello "tern run did not say it used the harness"
    elif [ "$(cat "$out")" != "$(printf 'argv[0]=/bin/hello\nargv[1]=Hello, Xen\nargv[2]=--exit\nargv[3]=5\nGREETING=hello')" ]; then
        fail xen:tern_run_hello "tern's stdout is not the app's output alone"
        head -n 5 "$out" | sed 's/^/    stdout| /'
    elif ! grep -q '^argv\[1\]=Hello, Xen' "$LOG_DIR/tern_run_hello.log" ||
        ! grep -q 'tern-exit: status=5' "$LOG_DIR/tern_run_hello.log"; then
        fail xen:tern_run_hello "--log lacks the app's output or the kernel's lines"
    elif ! grep -q '^tern-exit: status=5' "$LOG_DIR/hello-run/console.log" ||
        grep -q 'argv\[' "$LOG_DIR/hello-run/console.log"; then
        fail xen:tern_run_hello "the image's console.log is not the kernel's lines alone"
    else
        pass xen:tern_run_hello
    fi
fi

if [ "$failed" -gt 0 ]; then
    echo "failed:$failures"
    echo "logs: $LOG_DIR"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
