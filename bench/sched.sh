#!/bin/sh
# Scheduler and trap-path costs in cycles (ktest=bench_sched): a voluntary
# switch on one CPU, a cross-CPU wakeup and switch, and an interrupt round
# trip. N runs each on 1 and 2 vCPUs; prints the medians and writes
# bench/results/sched.csv. Under TCG the cycle counter is the host's, so
# compare numbers only between runs under the same accelerator.
set -eu
: "${KERNEL:?}" "${TERN:?}"
N=${N:-5}
# Results in BENCH_OUT (bench/run.sh sets it per arch).
out=${BENCH_OUT:-bench/results}
mkdir -p "$out"
csv=$out/sched.csv
accel=$("$TERN" probe --kernel "$KERNEL" 2>/dev/null)
echo "run,accel,cpus,switch_same_cpu,handoff_cross_cpu,trap_round_trip,switch_same_cpu_app" > "$csv"
for smp in 1 2; do
    i=1
    while [ "$i" -le "$N" ]; do
        out=$("$TERN" run --kernel "$KERNEL" --accel "$accel" --smp "$smp" --quiet \
              --log /dev/stdout --append ktest=bench_sched 2>/dev/null | tr -d '\r')
        same=$(echo "$out" | sed -n 's/.*same CPU: \([0-9]*\) cycles.*/\1/p')
        same_app=$(echo "$out" | sed -n 's/.*same CPU, app threads: \([0-9]*\) cycles.*/\1/p')
        cross=$(echo "$out" | sed -n 's/.*cross-CPU wakeup and switch: \([0-9]*\) cycles.*/\1/p')
        trap=$(echo "$out" | sed -n 's/.*full trap path): \([0-9]*\) cycles.*/\1/p')
        echo "$i,$accel,$smp,$same,$cross,$trap,$same_app" >> "$csv"
        i=$((i + 1))
    done
done
median() {  # cpus column
    awk -F, -v c="$1" -v col="$2" 'NR > 1 && $3 == c && $col != "" { print $col }' "$csv" |
        sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "-" }'
}
echo "scheduler costs, cycles, median of $N runs (accel $accel)"
printf '%-40s %10s %10s\n' "" "1 vCPU" "2 vCPUs"
printf '%-40s %10s %10s\n' "voluntary switch, same CPU, kernel threads" "$(median 1 4)" "$(median 2 4)"
printf '%-40s %10s %10s\n' "voluntary switch, same CPU, app threads" "$(median 1 7)" "$(median 2 7)"
printf '%-40s %10s %10s\n' "cross-CPU wakeup + switch (per handoff)" "-" "$(median 2 5)"
printf '%-40s %10s %10s\n' "interrupt round trip (int + iretq)" "$(median 1 6)" "$(median 2 6)"
# The kernel counts in arch_cycles: the TSC on x86_64; on aarch64 the
# generic timer's CNTVCT_EL0, whose rate is far below the CPU's.
[ "${ARCH:-x86_64}" = aarch64 ] &&
    echo "(aarch64: counts are generic-timer ticks (CNTVCT_EL0; 62.5 MHz under QEMU), not CPU cycles; the round trip is a BRK through the full trap path and eret)"
echo "results: $csv"
