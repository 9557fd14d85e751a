#!/bin/sh
# make bench: every benchmark in bench/, one after the other.
set -eu
sh bench/boot-time.sh
sh bench/sched.sh
