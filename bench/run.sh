#!/bin/sh
# make bench: every benchmark in bench/, one after the other: the zero-copy
# TCP benchmark with boot time, image size and memory (net.sh, the long
# one), then the bare kernel's boot time and the scheduler's costs.
set -u
rc=0
sh bench/net.sh || rc=$?
sh bench/boot-time.sh || rc=$?
sh bench/sched.sh || rc=$?
exit $rc
