# shellcheck shell=bash
# dom0 script of the Xen benchmark (bench/xen.sh), run by tests/xen/run.sh
# (--dom0-script: sourced by bash with NAME, DOMID and GDIR set) while one
# guest's bulksend sends to bench/sink here, over the guest's vif and
# xenbr0. Settings come from $GDIR/$NAME.bench.conf (shell assignments):
#   PORT      the sink's port
#   TIMEOUT   how long the sink waits, in seconds
#   VERIFY    a --verify-period for the sink (the sampled run), or empty
#
# Besides the sink, it runs xentop in batch mode (one sample a second, CPU
# use over each second as Xen accounts it, one line a domain) and averages
# the guest's and dom0's over the samples taken while the bytes flowed:
# from a second after the sink accepted the connection (a sample covers
# the second before it) to the sink's EOF. dom0's share is netback's work
# and the bridge, the Xen counterpart of QEMU's I/O thread in the KVM
# benchmark. (One xentop, not an xl list per sample: each xl start costs
# about a second of dom0 under nested TCG.)
#
# Prints, for bench/xen.sh:
#   xen-bench: NAME sink: result bytes=B secs=S gbps=G ... verified=V
#   xen-bench: NAME cpu guest=G dom0=D samples=N
# G and D are CPU seconds per second (2.0: two vCPUs busy).
# shellcheck source=/dev/null
. "$GDIR/$NAME.bench.conf"
slog=/tmp/sink-$NAME.log
top=/tmp/xentop-$NAME.txt
"$GDIR/sink" --port "$PORT" --timeout "$TIMEOUT" ${VERIFY:+--verify-period "$VERIFY"} \
    > "$slog" 2>&1 &
spid=$!
# Each xentop line stamped with dom0's uptime as it arrives.
"$(dirname "$XL")/xentop" -b -d 1 2> /dev/null |
    while IFS= read -r l; do read -r up _ < /proc/uptime; echo "$up $l"; done > "$top" &
tpid=$!
t_start=
while kill -0 "$spid" 2> /dev/null; do
    [ -z "$t_start" ] && grep -q '^sink: accepted' "$slog" && read -r t_start _ < /proc/uptime
    sleep 0.2
done
read -r t_end _ < /proc/uptime
kill "$tpid" 2> /dev/null
wait "$spid"
echo "xen-bench: $NAME sink exited $?"
sed -n "s/^sink: result /xen-bench: $NAME sink: result /p" "$slog"
grep '^sink: ' "$slog" | grep -v 'listening\|accepted\|result' | sed "s/^/xen-bench: $NAME /"
# xentop's lines: UPTIME NAME STATE CPU(sec) CPU(%) ...; the guest is the
# one domain besides dom0 (they run one at a time).
awk -v n="$NAME" -v t0="${t_start:-0}" -v t1="$t_end" '
    $2 == "NAME" || $1 <= t0 + 1 || $1 > t1 { next }
    $2 == "Domain-0" { d += $5; dn++; next }
    { g += $5; gn++ }
    END {
        if (t0 > 0 && gn && dn)
            printf "xen-bench: %s cpu guest=%.3f dom0=%.3f samples=%d\n", n, g / gn / 100, d / dn / 100, gn
        else
            printf "xen-bench: %s cpu unknown (%d samples in the transfer)\n", n, gn
    }' "$top"
