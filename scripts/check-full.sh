#!/bin/sh
# make check-full: everything the tests can do here, beyond what CI's time
# budget holds: `make check` for this configuration, the aarch64 cases
# (a64_*, as CI's third pass runs them, plus those it leaves out, and the
# aarch64 benchmark's smoke run). On x86_64 the first part's make check
# ends with every case on the real Xen hypervisor, as `make check-xen`
# runs them (its first run needs root and Debian's mirror to build the
# dom0 into ~/.cache/tern/xen, and takes minutes).
# Each part goes on after another failed; the last line sums them:
#   N passed, N failed, N skipped
#
# TERN_CHECK_FULL=1 also runs the cases tests/full-only.txt lists, and the
# Xen cases tests/xen/check.sh keeps from CI, which CI's `make check`
# reports as skipped.
set -u
MAKE=${MAKE:-make}
TERN_CHECK_FULL=1
export TERN_CHECK_FULL
total_pass=0 total_fail=0 total_skip=0 status=0

part() {    # LABEL MAKE-ARGS...
    label=$1
    shift
    echo "=== check-full: $label ($MAKE $*)"
    log=$(mktemp) || exit 2
    "$MAKE" --no-print-directory "$@" 2>&1 | tee "$log"
    summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
    rm -f "$log"
    if [ -z "$summary" ]; then
        echo "check-full: $label printed no summary (a build failure?)"
        total_fail=$((total_fail + 1))
        status=1
        return
    fi
    # shellcheck disable=SC2086
    set -- $summary
    total_pass=$((total_pass + $1))
    total_fail=$((total_fail + $3))
    total_skip=$((total_skip + ${5:-0}))
    [ "$3" = 0 ] || status=1
}

part "make check" check
part "aarch64" ARCH=aarch64 check TESTS=a64_
# The aarch64 benchmark's short form (about 3 min; not in CI's a64_ pass).
part "aarch64 bench-smoke" ARCH=aarch64 check TESTS=bench_smoke_aarch64
echo "$total_pass passed, $total_fail failed, $total_skip skipped"
exit $status
