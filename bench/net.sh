#!/bin/sh
# The zero-copy TCP benchmark (issue 7): Tern's senders against a Linux
# guest running the same binary and against the device ceiling, on one
# QEMU/virtio-net/tap configuration, plus boot time, image size and the
# smallest memory that runs hello. `make bench` runs it in full,
# `make bench-smoke` with --smoke (one short run per case, few boots).
#
#   sh bench/net.sh [--smoke]
#
# Environment: KERNEL, TERN (as make sets them), ARCH (the guests'
# architecture: x86_64, the default, or aarch64; KERNEL is built for it),
# BENCH_BIN (the host tools sink and stamp, and the host's bulksend;
# default out/bench), BULKSEND and HELLO (the guest programs, built for
# ARCH; default BENCH_BIN/bulksend and APPS/hello), APPS (default
# out/apps), BENCH_OUT (where results go; default bench/results in full,
# out/bench/smoke with --smoke; for aarch64 bench/results/aarch64 and
# out/bench/smoke-aarch64), BENCH_SECONDS (per throughput run; default 3,
# smoke 1), BENCH_RUNS (default 5, smoke 1); a full run only: BENCH_SIZES
# (message sizes, default 4096 16384 65536 262144 1048576) and BENCH_BOOTS
# (boots of hello per guest, default 20). A full run with any of these four
# set is a "short run": all of make bench's cases and the memory search,
# fewer or shorter samples, marked so in latest.md. BENCH_CASES (a full
# run): only these throughput cases, e.g. "tern:send tern:zcopy_txq"
# (GUEST:MODE; default all seven), for comparing kernels on one question;
# also a short run.
# BENCH_TERN_OPTIONS: kernel options for every Tern sender (profile=1000);
# BENCH_KEEP_WORK=1: a full run keeps BENCH_OUT/work (the consoles).
#
# Every guest is started by bench/stamp (timestamps, QEMU's PID) inside a
# network namespace holding a tap device (host side 10.99.0.1/24, guest
# 10.99.0.2), with the same QEMU options: the Tern image's own (tern
# build's qemu.args up to -kernel: the machine table's QEMU, board, -cpu
# for the accelerator, console and exit device; x86_64: -M q35, aarch64:
# -M virt), the accelerator (KVM only when both guests boot under it, else
# TCG for both), -m 256, -smp 2, -netdev tap + virtio-net-pci; only
# -kernel, -initrd and -append differ. bench/sink receives in the
# namespace and samples QEMU's CPU time over exactly the transfer.
#
# Outputs (BENCH_OUT): runs.csv (every run), boot.csv (every boot),
# latest.csv (the summary), latest.md (the table with the targets),
# throughput.png and cpu.png; a full run also keeps a dated copy in
# BENCH_OUT/history/DATE/. Exit status 0 when every case produced its
# numbers (targets missed are reported, not failures), 1 when a case
# failed, 3 when this machine cannot run it (the reason on stderr).
set -u
SMOKE=0
[ "${1:-}" = --smoke ] && SMOKE=1
: "${KERNEL:?}" "${TERN:?}"
ARCH=${ARCH:-x86_64}
BIN=${BENCH_BIN:-out/bench}
APPS=${APPS:-out/apps}
BULKSEND=${BULKSEND:-$BIN/bulksend}
HELLO=${HELLO:-$APPS/hello}

# What differs between the architectures beyond QEMU's machine (which
# comes from tern build, below): Debian's name for the arch, the Linux
# guest's console and clock options, the QEMU exit status of a Tern guest
# whose app exited 0 (x86_64: isa-debug-exit makes status 0 into 1;
# aarch64: PSCI SYSTEM_OFF, QEMU exits 0; on both hello_ok also checks the
# console's tern-exit line), where results go.
case $ARCH in
x86_64)
    DEB_ARCH=amd64
    # tsc=reliable: under TCG Linux finds the vCPUs' TSCs "unsynchronized"
    # and falls back to the HPET, whose every read is an emulated MMIO
    # access; Tern reads the TSC, so the Linux guest gets it too
    # (measured: +15% at 64 KiB send()).
    LINUX_CONSOLE="console=ttyS0 quiet tsc=reliable"
    TERN_OK=1
    OUT_SUFFIX= ;;
aarch64)
    DEB_ARCH=arm64
    # The virt board's PL011; both guests read the generic timer.
    LINUX_CONSOLE="console=ttyAMA0 quiet"
    TERN_OK=0
    OUT_SUFFIX=aarch64 ;;
*)
    echo "bench: ARCH=$ARCH: choose x86_64 or aarch64" >&2
    exit 2 ;;
esac
if [ $SMOKE = 1 ]; then
    OUT=${BENCH_OUT:-out/bench/smoke${OUT_SUFFIX:+-$OUT_SUFFIX}}
    SECS=${BENCH_SECONDS:-1}
    RUNS=${BENCH_RUNS:-1}
    SIZES=65536
    BOOTS=3
else
    OUT=${BENCH_OUT:-bench/results${OUT_SUFFIX:+/$OUT_SUFFIX}}
    SECS=${BENCH_SECONDS:-3}
    RUNS=${BENCH_RUNS:-5}
    SIZES=${BENCH_SIZES:-4096 16384 65536 262144 1048576}
    BOOTS=${BENCH_BOOTS:-20}
fi
MEM=256
SMP=2
HOST_IP=10.99.0.1
GUEST_IP=10.99.0.2
PORT=5001
FILE_BYTES=4194304          # the file sendfile() sends over and over
MAC=52:54:00:be:0c:07

cannot() {
    echo "bench: cannot run here: $*" >&2
    exit 3
}

[ "$(id -u)" = 0 ] || cannot "needs root (a network namespace with a tap device)"
command -v ip > /dev/null 2>&1 || cannot "ip is not installed (iproute2)"
[ -c /dev/net/tun ] || cannot "/dev/net/tun is missing"
# BIN/bulksend (the host's) writes the sendfile stream (below).
for t in "$BIN/sink" "$BIN/stamp" "$BIN/bulksend" "$BULKSEND" "$HELLO"; do
    [ -x "$t" ] || cannot "$t is not built (make ARCH=$ARCH bench-tools)"
done

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
WORK=$OUT/work
rm -rf "$WORK"
mkdir -p "$WORK"
T0=$(date +%s)

# ------------------------------------------------------------ the guests ---
# The Linux guest (downloads once into ~/.cache/tern).
LG=$(sh bench/linux-guest.sh "$BULKSEND" "$HELLO" $DEB_ARCH) ||
    cannot "the Linux guest could not be built (bench/linux-guest.sh; Debian's mirror unreachable?)"

# Tern: one image for all throughput runs (the app's arguments come from
# -append), and manifests/hello.yaml made for ARCH with HELLO, for boot
# time, image size and memory. The host's bulksend writes the stream
# sendfile() sends (the same bytes whatever ARCH runs them).
"$BIN/bulksend" mkfile "$WORK/stream.bin" $FILE_BYTES || exit 1
case $BULKSEND in /*) ;; *) BULKSEND=$PWD/$BULKSEND ;; esac
case $HELLO in /*) ;; *) HELLO=$PWD/$HELLO ;; esac
cat > "$WORK/bench.yaml" <<EOF
name: bench
arch: $ARCH
memory: ${MEM}M
cpus: $SMP
cmdline: [/bin/bulksend]
files:
  /bin/bulksend: $BULKSEND
  /data/stream.bin: $WORK/stream.bin
network:
  mode: tap
  tap: tapbench
  ip: $GUEST_IP/24
  gateway: $HOST_IP
EOF
sed -e "s|^arch: .*|arch: $ARCH|" -e "s|^\(  /bin/hello:\) .*|\1 $HELLO|" \
    -e "s|^\(  /[^:]*:\) \.\./|\1 $PWD/|" manifests/hello.yaml > "$WORK/hello.yaml"
# build_tern ACCEL: both images, with ACCEL in their qemu.args (so built
# again when the accelerator changes); sets QBASE (the QEMU command line
# every guest shares: the bench image's qemu.args up to -kernel, one
# argument a line), KFILE (the kernel's file name in an image) and
# HELLO_APPEND.
build_tern() {
    : > "$WORK/build.log"
    for b in bench hello; do
        "$TERN" build "$WORK/$b.yaml" -o "$WORK/tern-$b" --kernel "$KERNEL" --accel "$1" \
            >> "$WORK/build.log" 2>&1 || { cat "$WORK/build.log"; exit 1; }
    done
    QBASE=$(sed '/^-kernel$/,$d' "$WORK/tern-bench/qemu.args")
    KFILE=$(sed -n '/^-kernel$/{n;p;}' "$WORK/tern-bench/qemu.args")
    HELLO_APPEND=$(sed -n '/^-append$/{n;p;}' "$WORK/tern-hello/qemu.args")
    q=$(echo "$QBASE" | head -n 1)
    command -v "$q" > /dev/null 2>&1 || cannot "$q is not installed"
}

# --------------------------------------------------------- the namespace ---
ns=tern-bench-$$
tap=tb$$
cleanup() {
    [ -n "${sink_pid:-}" ] && kill "$sink_pid" 2> /dev/null
    ip netns del "$ns" 2> /dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ip netns add "$ns" &&
    ip netns exec "$ns" ip link set lo up &&
    ip netns exec "$ns" ip tuntap add "$tap" mode tap &&
    ip netns exec "$ns" ip addr add "$HOST_IP/24" dev "$tap" &&
    ip netns exec "$ns" ip link set "$tap" up || cannot "could not make a network namespace with a tap device"

# --------------------------------------------------------- the accelerator ---
PIDF=$WORK/qemu.pid
# qemu LOG MARK TIMEOUT NIC(0|1) ARGS...: one guest on QBASE (with -m Q_MEM
# when that is set), started by stamp in the namespace; stamp's status is
# returned (Tern: TERN_OK; Linux powers off: 0).
qemu() {
    q_log=$1 q_mark=$2 q_timeout=$3 q_nic=$4
    shift 4
    rm -f "$PIDF"
    if [ "$q_nic" = 1 ]; then
        set -- -netdev "tap,id=net0,ifname=$tap,script=no,downscript=no" \
            -device "virtio-net-pci,netdev=net0,mac=$MAC" "$@"
    fi
    q_base=$QBASE
    [ -n "${Q_MEM:-}" ] && q_base=$(echo "$QBASE" | awk -v m="$Q_MEM" 'p == "-m" { $0 = m } { p = $0; print }')
    # One argument a line: split on newlines only, without globbing.
    set -f
    q_ifs=$IFS
    IFS='
'
    # shellcheck disable=SC2086
    set -- $q_base -name bench,debug-threads=on "$@"
    IFS=$q_ifs
    set +f
    ip netns exec "$ns" "$BIN/stamp" --pid-file "$PIDF" --timeout "$q_timeout" --mark "$q_mark" -- \
        "$@" > "$q_log" 2>&1
}
# panic=-1: a guest given too little memory ends at once instead of hanging.
LINUX_CMDLINE="$LINUX_CONSOLE panic=-1"
# hello_ok GUEST LOG STATUS: did hello run to its end?
hello_ok() {
    if [ "$1" = tern ]; then
        [ "$3" = "$TERN_OK" ] && grep -q '| tern-exit: status=0$' "$2" && grep -q '| argv\[0\]=/bin/hello' "$2"
    else
        [ "$3" = 0 ] && grep -q '| init: app exited with status 0$' "$2" && grep -q '| argv\[0\]=/bin/hello' "$2"
    fi
}
boot_hello() {    # GUEST LOG TIMEOUT: status of stamp
    if [ "$1" = tern ]; then
        qemu "$2" "app: /bin/hello:" "$3" 0 -kernel "$WORK/tern-hello/$KFILE" \
            -initrd "$WORK/tern-hello/rofs.img" -append "$HELLO_APPEND"
    else
        qemu "$2" "init: app start" "$3" 0 -kernel "$LG/vmlinuz" -initrd "$LG/initramfs.gz" \
            -append "$LINUX_CMDLINE -- /bin/hello Hello"
    fi
}

ACCEL=$("$TERN" probe --kernel "$KERNEL" 2> "$WORK/probe.log")
ACCEL_WHY=$(sed -n 's/^tern: [a-z]*: //p' "$WORK/probe.log")
[ "$ACCEL" = kvm ] || ACCEL=tcg
build_tern "$ACCEL"
if [ "$ACCEL" = kvm ]; then
    # Both guests or neither: Debian's kernel hangs under some nested KVMs.
    boot_hello linux "$WORK/linux-kvm-probe.log" 120
    if ! hello_ok linux "$WORK/linux-kvm-probe.log" $?; then
        ACCEL=tcg
        ACCEL_WHY="Tern boots under KVM but the Linux guest does not: TCG for both"
        build_tern "$ACCEL"
    fi
fi
echo "bench: $ARCH, accel $ACCEL ($ACCEL_WHY); $RUNS run(s) of ${SECS}s per case; sizes $SIZES"
echo "bench: every guest: $(echo "$QBASE" | tr '\n' ' ')-name bench,debug-threads=on + a virtio-net-pci on a tap"

# ------------------------------------------------------------ throughput ---
RAW=$OUT/runs.csv
echo "guest,mode,msg_bytes,run,bytes,secs,gbps,qemu_cpu_s,vcpu_cpu_s,verified,guest_gbps,status" > "$RAW"
# Tern's own event counters over each run (bulksend's "counters" line:
# /proc/net/netstat's TernCpu and TernZcopy growth), for the per-MiB table.
COUNTERS=$OUT/counters.csv
echo "guest,mode,msg_bytes,run,guest_bytes,switches,preemptions,interrupts,wakeups,remote_wakeups,ipis,syscalls,completions,copied" > "$COUNTERS"
failures=0
sink_pid=

. "$(dirname "$0")/ring.sh"

# tput GUEST MODE MSG RUN
tput_run() {
    g=$1 mode=$2 msg=$3 run=$4
    log=$WORK/$g-$mode-$msg-$run.log
    slog=$log.sink
    k=$(ring "$msg")
    period=$((k * msg))
    extra=
    [ "$mode" = sendfile ] && period=$FILE_BYTES extra="--file /data/stream.bin"
    verify=
    # The sampled run: every byte checked against the pattern.
    [ "$run" = 1 ] && verify="--verify-period $period"
    [ "$g" = ceiling ] && verify=
    if [ "$g" = ceiling ]; then
        # shellcheck disable=SC2086
        ip netns exec "$ns" "$BIN/sink" --tap-counter "/sys/class/net/$tap/statistics/rx_bytes" \
            --cpu-pid-file "$PIDF" --timeout $((SECS + 120)) > "$slog" 2>&1 &
    else
        # shellcheck disable=SC2086
        ip netns exec "$ns" "$BIN/sink" --port $PORT --cpu-pid-file "$PIDF" \
            --timeout $((SECS + 150)) $verify > "$slog" 2>&1 &
    fi
    sink_pid=$!
    i=0
    until grep -q '^sink: \(listening\|watching\)' "$slog" 2> /dev/null; do
        i=$((i + 1))
        if [ $i -gt 100 ] || ! kill -0 $sink_pid 2> /dev/null; then
            echo "bench: $g $mode $msg: the sink did not start: $(tail -n 1 "$slog")" >&2
            break
        fi
        sleep 0.05
    done
    args="send --mode $mode --to $HOST_IP:$PORT --seconds $SECS --msg $msg --ring $k $extra"
    case $g in
    tern)
        qemu "$log" "app: /bin/bulksend" $((SECS + 120)) 1 \
            -kernel "$WORK/tern-bench/$KFILE" -initrd "$WORK/tern-bench/rofs.img" \
            -append "${BENCH_TERN_OPTIONS:+$BENCH_TERN_OPTIONS }-- /bin/bulksend $args"
        st=$? want=$TERN_OK ;;
    linux)
        qemu "$log" "init: app start" $((SECS + 150)) 1 -kernel "$LG/vmlinuz" \
            -initrd "$LG/initramfs.gz" \
            -append "$LINUX_CMDLINE bench_ip=$GUEST_IP/24 -- /bin/bulksend $args"
        st=$? want=0 ;;
    ceiling)
        qemu "$log" "net_ceiling: start" $((SECS + 120)) 1 -kernel "$KERNEL" \
            -append "ktest=net_ceiling -- seconds=$SECS src=$GUEST_IP dst=$HOST_IP"
        st=$? want=$TERN_OK ;;
    esac
    # The sink is done once the guest closed (or the counter stood still);
    # a guest that never connected leaves it waiting: stop it.
    i=0
    while kill -0 $sink_pid 2> /dev/null && [ $i -lt 40 ]; do
        sleep 0.05
        i=$((i + 1))
    done
    kill $sink_pid 2> /dev/null
    wait $sink_pid 2> /dev/null
    sink_pid=
    res=$(sed -n 's/^sink: result //p' "$slog" | tail -n 1)
    if [ "$g" = ceiling ]; then
        gg=$(sed -n 's/.*net_ceiling: sent .*: \([0-9.]*\) Gbit\/s.*/\1/p' "$log")
        okline=$(grep -c 'net_ceiling: passed' "$log")
    else
        gg=$(sed -n 's/.*bulksend: result .* gbps=\([0-9.]*\) .*/\1/p' "$log")
        okline=$(grep -c 'bulksend: result' "$log")
    fi
    status=ok
    if [ "$st" != "$want" ] || [ "$okline" = 0 ] || [ -z "$res" ]; then
        status=failed
    fi
    v() { echo "$res" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
    bytes=$(v bytes) secs=$(v secs) gbps=$(v gbps) qc=$(v qemu_cpu) vc=$(v vcpu_cpu) ver=$(v verified)
    if [ "$g" = ceiling ] && [ -n "$bytes" ]; then
        # The tap counts whole frames; a TCP receiver counts payload:
        # 65160 of every 65226 bytes (ktest_net_ceiling.c).
        bytes=$(awk -v b="$bytes" 'BEGIN { printf "%.0f", b * 65160 / 65226 }')
        gbps=$(awk -v b="$bytes" -v s="$secs" 'BEGIN { printf "%.4f", b * 8 / s / 1e9 }')
    fi
    [ "$ver" = no ] && status=corrupt
    if [ "$status" != ok ]; then
        failures=$((failures + 1))
        echo "bench: FAILED: $g $mode msg $msg run $run (guest status $st, want $want): $(grep -h 'bulksend: \|net_ceiling: FAIL\|sink: ' "$log" "$slog" | grep -v 'result\|listening\|accepted\|connecting\|watching\|tcp_info' | tail -n 2 | tr '\n' ' ')" >&2
    fi
    echo "$g,$mode,$msg,$run,${bytes:-0},${secs:-0},${gbps:-0},${qc:--1},${vc:--1},${ver:-none},${gg:-0},$status" >> "$RAW"
    kl=$(sed -n 's/.*bulksend: counters //p' "$log" | tail -n 1)
    if [ "$status" = ok ] && [ -n "$kl" ]; then
        k() { echo "$kl" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
        gb=$(sed -n 's/.*bulksend: result .* bytes=\([0-9]*\) .*/\1/p' "$log")
        echo "$g,$mode,$msg,$run,${gb:-0},$(k Switches),$(k Preemptions),$(k Interrupts),$(k Wakeups),$(k RemoteWakeups),$(k Ipis),$(k Syscalls),$(k Completions),$(k Copied)" >> "$COUNTERS"
        tail -n 1 "$COUNTERS" | awk -F, '$5 > 0 { m = $5 / 1048576
            printf "bench:   per MiB: %.1f switches, %.1f wakeups (%.1f cross-CPU), %.1f IPIs, %.1f interrupts, %.1f syscalls, %.2f completions\n",
                $6 / m, $9 / m, $10 / m, $11 / m, $8 / m, $12 / m, $13 / m }'
    fi
    printf 'bench: %-8s %-13s %8s run %s: %8s Gbit/s (guest says %s), QEMU CPU %s s, vCPU %s s, verified %s: %s\n' \
        "$g" "$mode" "$msg" "$run" "${gbps:--}" "${gg:--}" "${qc:--}" "${vc:--}" "${ver:--}" "$status"
}

# Each round runs every case once, in a new random order: a host that
# slows down or speeds up during the benchmark then spreads over all the
# modes instead of favouring the ones that ran first. The min-max ranges
# in the report show the spread.
for msg in $SIZES; do
    run=1
    while [ $run -le "$RUNS" ]; do
        order=$(printf '%s\n' ${BENCH_CASES:-tern:send tern:msg_zerocopy tern:zcopy tern:zcopy_txq \
            tern:sendfile linux:send linux:msg_zerocopy} | shuf | tr '\n' ' ')
        echo "bench: message $msg, round $run: $order"
        for c in $order; do
            tput_run "${c%%:*}" "${c#*:}" "$msg" $run
        done
        run=$((run + 1))
    done
done
run=1
while [ $run -le "$RUNS" ]; do
    tput_run ceiling tso 65226 $run
    run=$((run + 1))
done

# ------------------------------------------ boot time, size, memory -------
BOOT=$OUT/boot.csv
echo "guest,boot,host_ms_to_main,guest_ms_to_main,host_ms_to_exit,status" > "$BOOT"
for g in tern linux; do
    i=1
    while [ $i -le $BOOTS ]; do
        log=$WORK/boot-$g-$i.log
        boot_hello $g "$log" 120
        st=$?
        mark=$(sed -n 's/^stamp: mark ms=//p' "$log")
        total=$(sed -n 's/^stamp: exit status=[0-9]* ms=//p' "$log")
        if [ $g = tern ]; then
            # The kernel's own clock on the line it prints just before
            # jumping to the app's entry: ms since kernel entry.
            gms=$(sed -n 's/.*| \[ *\([0-9.]*\)\] app: \/bin\/hello:.*/\1/p' "$log" |
                awk '{ printf "%.3f", $1 * 1000 }')
        else
            # /proc/uptime read by init just before it runs the app: ms
            # since the kernel started its clock (10 ms resolution).
            gms=$(sed -n 's/.*| init: app start uptime=\([0-9.]*\)$/\1/p' "$log" |
                awk '{ printf "%.0f", $1 * 1000 }')
        fi
        s=ok
        hello_ok $g "$log" $st || { s=failed; failures=$((failures + 1)); echo "bench: FAILED: $g boot $i (status $st)" >&2; }
        echo "$g,$i,${mark:-0},${gms:-0},${total:-0},$s" >> "$BOOT"
        i=$((i + 1))
    done
    echo "bench: $g: $BOOTS boots of hello done"
done

SIZE=$OUT/size.csv
echo "guest,what,bytes,contents" > "$SIZE"
tb=$(($(wc -c < "$WORK/tern-hello/$KFILE") + $(wc -c < "$WORK/tern-hello/rofs.img")))
echo "tern,hello image,$tb,$KFILE + rofs.img of manifests/hello.yaml" >> "$SIZE"
lb=$(($(wc -c < "$LG/vmlinuz") + $(wc -c < "$LG/initramfs.gz")))
echo "linux,hello image,$lb,vmlinuz + initramfs.gz (busybox + virtio modules + hello + bulksend)" >> "$SIZE"

# mem_ok GUEST MIB: does hello run in that much guest memory?
mem_ok() {
    log=$WORK/mem-$1-$2.log
    Q_MEM=$2 boot_hello "$1" "$log" 60
    st=$?
    hello_ok "$1" "$log" $st
}
# min_mem GUEST LO HI: the smallest MiB in (LO, HI] that runs hello,
# assuming more memory never hurts; "" when even HI does not.
min_mem() {
    lo=$2 hi=$3
    mem_ok "$1" "$hi" || { echo ""; return; }
    while [ $((hi - lo)) -gt 1 ]; do
        mid=$(((lo + hi) / 2))
        if mem_ok "$1" $mid; then hi=$mid; else lo=$mid; fi
    done
    echo "$hi"
}
MEMCSV=$OUT/memory.csv
echo "guest,check,mib,result" > "$MEMCSV"
if mem_ok tern 16; then r=yes; else r=no; fi
echo "tern,runs hello,16,$r" >> "$MEMCSV"
if [ $SMOKE = 0 ]; then
    echo "tern,smallest -m,$(min_mem tern 1 64),hello" >> "$MEMCSV"
    echo "linux,smallest -m,$(min_mem linux 16 512),hello" >> "$MEMCSV"
fi
echo "bench: memory checks done"

# ------------------------------------------------------------- the report ---
T1=$(date +%s)
{
    echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "machine=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
    echo "cpu_mhz=$(sed -n 's/^cpu MHz[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
    echo "host_kernel=$(uname -r)"
    echo "qemu=$("$(echo "$QBASE" | head -n 1)" --version | head -n 1)"
    echo "arch=$ARCH"
    echo "accel=$ACCEL ($ACCEL_WHY)"
    echo "guest_config=$(echo "$QBASE" | sed 1d | tr '\n' ' ' | sed 's/ $//'), virtio-net-pci on a tap in a network namespace"
    echo "tern=$(grep -m1 'Tern [0-9]' "$WORK/boot-tern-1.log" | sed 's/.*\] //')"
    echo "linux=$(cat "$LG/version"), kernel command line: $LINUX_CMDLINE"
    echo "runs=$RUNS x ${SECS}s per case"
    echo "elapsed_s=$((T1 - T0))"
    echo "smoke=$SMOKE"
    echo "short=$( [ $SMOKE = 0 ] && [ -n "${BENCH_SECONDS:-}${BENCH_RUNS:-}${BENCH_SIZES:-}${BENCH_BOOTS:-}${BENCH_CASES:-}" ] && echo 1 || echo 0)"
    echo "boots=$BOOTS"
} > "$OUT/env.txt"
sh bench/report.sh "$OUT" || failures=$((failures + 1))
if [ $SMOKE = 0 ]; then
    d=$OUT/history/$(date -u +%Y-%m-%d-%H%M)
    mkdir -p "$d"
    cp "$OUT"/latest.csv "$OUT"/latest.md "$OUT"/throughput.png "$OUT"/cpu.png "$OUT"/runs.csv \
        "$OUT"/boot.csv "$OUT"/size.csv "$OUT"/memory.csv "$OUT"/env.txt "$d"/
    [ -n "${BENCH_KEEP_WORK:-}" ] || rm -rf "$WORK"
fi
echo "bench: $((T1 - T0)) s; results in $OUT (latest.md, latest.csv, throughput.png, cpu.png)"
[ $failures -eq 0 ] || { echo "bench: $failures case(s) failed" >&2; exit 1; }
exit 0
