#!/bin/sh
# Boot time: N boots of the bare kernel under the accelerator tern picks.
# For each: host time from QEMU start to the kernel's ready line, and the
# kernel's own time from entry to ready. Prints min/median/max and writes
# bench/results/boot-time.csv.
set -eu
: "${KERNEL:?}" "${TERN:?}"
N=${N:-20}
# Results in BENCH_OUT (bench/run.sh sets it per arch).
out=${BENCH_OUT:-bench/results}
mkdir -p "$out"
csv=$out/boot-time.csv
accel=$("$TERN" probe --kernel "$KERNEL" 2>/dev/null)
echo "run,accel,host_ms,kernel_ms" > "$csv"
i=1
while [ "$i" -le "$N" ]; do
    line=$("$TERN" run --kernel "$KERNEL" --accel "$accel" --quiet 2>&1 | grep 'boot time:')
    host=$(echo "$line" | sed -n 's/.*boot time: \([0-9.]*\) ms from QEMU start.*/\1/p')
    kern=$(echo "$line" | sed -n 's/.*kernel: \([0-9.]*\) ms since kernel entry.*/\1/p')
    echo "$i,$accel,$host,$kern" >> "$csv"
    i=$((i + 1))
done
stats() {   # column -> "min median max"
    tail -n +2 "$csv" | cut -d, -f"$1" | sort -n | awk '
        { v[NR] = $1 } END { printf "%8.2f %8.2f %8.2f", v[1], v[int((NR + 1) / 2)], v[NR] }'
}
echo "boot time over $N boots (accel $accel, $(basename "$KERNEL") from $KERNEL)"
echo "                              min   median      max   (ms)"
echo "QEMU start -> kernel ready $(stats 3)"
echo "kernel entry -> ready      $(stats 4)"
echo "results: $csv"
