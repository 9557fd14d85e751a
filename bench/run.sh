#!/bin/sh
# make bench: every benchmark in bench/, one after the other: the zero-copy
# TCP benchmark with boot time, image size and memory (net.sh, the long
# one), then the bare kernel's boot time and the scheduler's costs, and on
# x86_64 the TCP benchmark on Xen (xen.sh, with XEN_KERNEL). ARCH
# (default x86_64) picks the guests' architecture; results go to
# bench/results/ (x86_64) or bench/results/ARCH/.
set -u
ARCH=${ARCH:-x86_64}
if [ "$ARCH" = x86_64 ]; then BENCH_OUT=bench/results; else BENCH_OUT=bench/results/$ARCH; fi
export ARCH BENCH_OUT
rc=0
sh bench/net.sh || rc=$?
sh bench/boot-time.sh || rc=$?
sh bench/sched.sh || rc=$?
if [ "$ARCH" = x86_64 ] && [ -n "${XEN_KERNEL:-}" ]; then
    sh bench/xen.sh || rc=$?
fi
exit $rc
