#!/bin/sh
# The zero-copy TCP benchmark on Xen (issue 15): the same bulksend as
# bench/net.sh, in a Tern PVH domU (netfront: send, MSG_ZEROCOPY, zcopy_tx
# and zcopy_txq) and in a Linux PVH domU (Debian's kernel with
# xen-netfront: send and MSG_ZEROCOPY), each sending to bench/sink in dom0
# over its vif and dom0's bridge. Everything runs in one boot of the
# harness of `make check-xen` (tests/xen/run.sh: Debian's Xen 4.17 and a
# Debian dom0 under QEMU TCG, cached in ~/.cache/tern/xen), one guest
# after the other, every run its own guest. Nested TCG makes absolute
# numbers meaningless; the report gives ratios between the guests, which
# share the machine, the hypervisor, the backend and the receiver.
#
#   sh bench/xen.sh [--smoke]     (make bench-xen; make bench runs it too)
#
# Environment: XEN_KERNEL (default out/x86_64-xen-O2/kernel.elf), TERN
# (out/host/tern), BENCH_BIN (out/bench: sink, bulksend), APPS (out/apps:
# hello, for the Linux guest's initramfs), BENCH_OUT (bench/results),
# BENCH_XEN_RUNS (3), BENCH_XEN_SECONDS (3), BENCH_XEN_SIZES ("65536").
# --smoke: one 1 s run of each case at 64 KiB, into out/bench/xen-smoke.
#
# Writes OUT/xen-runs.csv (one line a run) and OUT/xen.md (the table).
# Exit status: 0, 1 when a run failed (every run is still reported), 3
# when it cannot run here.
set -u
SMOKE=0
[ "${1:-}" = --smoke ] && SMOKE=1
XEN_KERNEL=${XEN_KERNEL:-out/x86_64-xen-O2/kernel.elf}
TERN=${TERN:-out/host/tern}
BIN=${BENCH_BIN:-out/bench}
APPS=${APPS:-out/apps}
if [ $SMOKE = 1 ]; then
    OUT=${BENCH_OUT:-out/bench/xen-smoke}
    RUNS=1 SECS=1 SIZES=65536
else
    OUT=${BENCH_OUT:-bench/results}
    RUNS=${BENCH_XEN_RUNS:-3}
    SECS=${BENCH_XEN_SECONDS:-3}
    SIZES=${BENCH_XEN_SIZES:-65536}
fi
MEM=256
SMP=2
PORT=5001
DOM0_IP=10.0.3.1

cannot() {
    echo "bench-xen: cannot run here: $*" >&2
    exit 3
}
[ "$(id -u)" = 0 ] || cannot "needs root (the harness's QEMU and its dom0 image)"
for t in "$XEN_KERNEL" "$TERN" "$BIN/sink" "$BIN/bulksend" "$APPS/hello"; do
    [ -f "$t" ] || cannot "$t is not built (make PLATFORM=xen kernel; make bench-tools apps)"
done
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
WORK=$OUT/xen-work
rm -rf "$WORK"
mkdir -p "$WORK"
T0=$(date +%s)

LG=$(sh bench/linux-guest.sh "$BIN/bulksend" "$APPS/hello" amd64) ||
    cannot "the Linux guest could not be built (bench/linux-guest.sh; Debian's mirror unreachable?)"
BULKSEND=$(cd "$(dirname "$BIN/bulksend")" && pwd)/bulksend

. "$(dirname "$0")/ring.sh"

# Every guest gets its own address (dom0's neighbour cache never meets a
# new MAC for an old address) and a Tern guest its own image, since the
# address lives in the image's settings.
n=0 cases="" run_args=""
add_guest() {   # GUEST MODE MSG RUN
    g=$1 mode=$2 msg=$3 run=$4
    n=$((n + 1))
    name=$g-$mode-$msg-$run
    name=$(echo "$name" | tr '_' '-')
    ip=10.0.3.$((n + 20))
    k=$(ring "$msg")
    verify=
    # The sampled run: every byte checked against the pattern.
    [ "$run" = 1 ] && verify=$((k * msg))
    printf 'PORT=%s TIMEOUT=%s VERIFY=%s\n' $PORT $((SECS + 200)) "$verify" > "$WORK/$name.bench.conf"
    args="send --mode $mode --to $DOM0_IP:$PORT --seconds $SECS --msg $msg --ring $k"
    common="--name $name --memory $MEM --vcpus $SMP --vif-fast --dom0-script bench/xen-peer.sh --dom0-file $BIN/sink --dom0-file $WORK/$name.bench.conf"
    if [ "$g" = tern ]; then
        cat > "$WORK/$name.yaml" <<EOF
name: $name
platform: xen
memory: ${MEM}M
cpus: $SMP
network:
  mode: bridge
  bridge: xenbr0
  ip: $ip/24
  gateway: $DOM0_IP
cmdline: [/bin/bulksend]
files:
  /bin/bulksend: $BULKSEND
EOF
        "$TERN" build "$WORK/$name.yaml" -o "$WORK/$name" --kernel "$XEN_KERNEL" \
            > "$WORK/$name.build" 2>&1 || { cat "$WORK/$name.build"; exit 1; }
        guest="$common --timeout $((SECS + 120)) --append \"-- /bin/bulksend $args\" $WORK/$name"
    else
        # hvc0: the PV console; tsc=reliable as in bench/net.sh.
        guest="$common --timeout $((SECS + 240)) --initrd $LG/initramfs.gz --append \"console=hvc0 quiet tsc=reliable panic=-1 bench_ip=$ip/24 -- /bin/bulksend $args\" $LG/vmlinuz"
    fi
    run_args="$run_args${run_args:+ --next} $guest"
    cases="$cases $name"
}

# Each round runs every case once, in a new random order (as bench/net.sh).
for msg in $SIZES; do
    run=1
    while [ $run -le "$RUNS" ]; do
        for c in $(printf '%s\n' tern:send tern:msg_zerocopy tern:zcopy tern:zcopy_txq \
            linux:send linux:msg_zerocopy | shuf); do
            add_guest "${c%%:*}" "${c#*:}" "$msg" "$run"
        done
        run=$((run + 1))
    done
done
echo "bench-xen: $n guests (${RUNS} run(s) of ${SECS} s per case, sizes $SIZES), each with $SMP vCPUs and $MEM MiB, in one boot of Xen + dom0 under TCG"
LOG=$WORK/harness
eval "sh tests/xen/run.sh --quiet --log-dir \"\$LOG\" $run_args" > "$WORK/run.log" 2>&1
rc=$?
echo "bench-xen: the harness ran $(($(date +%s) - T0)) s (status $rc)"
[ -s "$LOG/serial.log" ] || { tail -n 20 "$WORK/run.log"; cannot "the harness produced no serial log"; }

# ------------------------------------------------------------- the runs ---
RAW=$OUT/xen-runs.csv
echo "guest,mode,msg_bytes,run,bytes,secs,gbps,guest_cpu_per_s,dom0_cpu_per_s,verified,guest_status,status" > "$RAW"
failures=0
tr -d '\r' < "$LOG/serial.log" > "$WORK/serial.txt"
for name in $cases; do
    g=${name%%-*} rest=${name#*-}
    run=${rest##*-} rest=${rest%-*}
    msg=${rest##*-} mode=$(echo "${rest%-*}" | tr '-' '_')
    line() { sed -n "s/^dom0-script| xen-bench: $name $1//p" "$WORK/serial.txt" | tail -n 1; }
    res=$(line 'sink: result ')
    cpu=$(line 'cpu ')
    st=$(sed -n "s/^xen-guest: name=$name result=exited status=\([0-9-]*\).*/\1/p" "$WORK/serial.txt" | tail -n 1)
    v() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
    bytes=$(v "$res" bytes) secs=$(v "$res" secs) gbps=$(v "$res" gbps) ver=$(v "$res" verified)
    gc=$(v "$cpu" guest) dc=$(v "$cpu" dom0)
    status=ok
    [ "${st:-x}" = 0 ] && [ -n "$gbps" ] || status=failed
    [ "$ver" = no ] && status=corrupt
    if [ $status != ok ]; then
        failures=$((failures + 1))
        echo "bench-xen: FAILED: $name (guest status ${st:-none}): $(grep "^dom0-script| xen-bench: $name \|^xen-guest: name=$name " "$WORK/serial.txt" | tail -n 2 | tr '\n' ' ')" >&2
    fi
    echo "$g,$mode,$msg,$run,${bytes:-0},${secs:-0},${gbps:-0},${gc:--1},${dc:--1},${ver:-none},${st:-none},$status" >> "$RAW"
    printf 'bench-xen: %-6s %-13s %8s run %s: %8s Gbit/s, CPU/s guest %s dom0 %s, verified %s: %s\n' \
        "$g" "$mode" "$msg" "$run" "${gbps:--}" "${gc:--}" "${dc:--}" "${ver:--}" "$status"
done

# ------------------------------------------------------------ the table ---
# Per case: the median Gbit/s with min-max, and CPU seconds per GiB sent
# (the CPU rate over the transfer / GiB per second), for the guest and for
# dom0; ratios to Tern's send() and to Linux's send() at the same size.
{
    echo "# Zero-copy TCP on Xen (bench/xen.sh)"
    echo
    echo "$(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2> /dev/null || echo '?'):"
    echo "Tern and Linux PVH domUs ($SMP vCPUs, $MEM MiB) sending to bench/sink in dom0"
    echo "over netfront/netback and a bridge, on Debian's Xen 4.17 under QEMU TCG"
    echo "(nested: only the ratios mean anything). $RUNS run(s) of $SECS s per case, each"
    echo "its own guest, cases in a new random order each round; the first run's"
    echo "bytes all checked. CPU s/GiB: Xen's accounting (xentop, each second) over the transfer."
    echo
    echo "| size | guest | mode | Gbit/s median (min–max) | × Tern send | × Linux send | guest CPU s/GiB | dom0 CPU s/GiB | runs ok |"
    echo "|---:|---|---|---:|---:|---:|---:|---:|---:|"
    awk -F, "$(cat "$(dirname "$0")/stats.awk")"'
        NR > 1 && $12 == "ok" { k = $3 SUBSEP $1 SUBSEP $2; n[k]++; g[k, n[k]] = $7
            gib = $7 * 1e9 / 8 / 1073741824
            if ($8 >= 0 && gib > 0) { gc[k] += $8 / gib; gn[k]++ }
            if ($9 >= 0 && gib > 0) { dc[k] += $9 / gib; dn[k]++ } }
        NR > 1 { all[$3 SUBSEP $1 SUBSEP $2]++ }
        # the median of case k (lo, hi: its range)
        function med(k,   i, m, v) {
            for (i = 1; i <= n[k]; i++) v[i] = g[k, i]
            m = median(v, n[k])
            lo = v[1]; hi = v[n[k]]
            return m
        }
        END {
            split("tern:send tern:msg_zerocopy tern:zcopy tern:zcopy_txq linux:send linux:msg_zerocopy", order, " ")
            for (k in all) { split(k, p, SUBSEP); sizes[p[1]] = 1 }
            ns = 0; for (s in sizes) sl[++ns] = s + 0
            sort_n(sl, ns)
            for (i = 1; i <= ns; i++) {
                s = sl[i]
                kt = s SUBSEP "tern" SUBSEP "send"; kl = s SUBSEP "linux" SUBSEP "send"
                mt = n[kt] ? med(kt) : 0; ml = n[kl] ? med(kl) : 0
                for (o = 1; o <= 6; o++) {
                    split(order[o], q, ":"); k = s SUBSEP q[1] SUBSEP q[2]
                    if (!all[k]) continue
                    if (!n[k]) { printf "| %d | %s | %s | – | – | – | – | – | 0/%d |\n", s, q[1], q[2], all[k]; continue }
                    m = med(k)
                    printf "| %d | %s | %s | %.3f (%.3f–%.3f) | %s | %s | %s | %s | %d/%d |\n", s, q[1], q[2], m, lo, hi,
                        mt ? sprintf("%.2f", m / mt) : "–", ml ? sprintf("%.2f", m / ml) : "–",
                        gn[k] ? sprintf("%.1f", gc[k] / gn[k]) : "–", dn[k] ? sprintf("%.1f", dc[k] / dn[k]) : "–", n[k], all[k]
                }
            }
        }' "$RAW"
} > "$OUT/xen.md"
cat "$OUT/xen.md"
echo "bench-xen: $failures failed run(s); $(($(date +%s) - T0)) s in all; results in $OUT/xen.md and $OUT/xen-runs.csv"
[ $failures = 0 ]
