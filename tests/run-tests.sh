#!/bin/sh
# Tern's test runner (`make check` calls it with the paths below set).
#
#   1. host unit tests: each binary prints "PASS: file: name" / "FAIL: ..."
#   2. tool tests:  tests/tool/*.sh, one check per tool_case line
#   3. guest tests: tests/guest/*.sh, one boot per guest_case line
#   4. Xen cases:   on x86_64, tests/xen/check.sh on the real Xen hypervisor
#                   (the subset CI's budget holds; TERN_CHECK_FULL=1: all)
#
# It ends with "N passed, N failed, N skipped". Logs go to $BUILD_DIR/test-logs.
# Run a subset: TESTS=<substring> make check
set -u

: "${KERNEL:?}" "${TERN:?}" "${BUILD_DIR:?}" "${UNIT_BINS=}"
: "${KERNEL_DEBUG:=}" "${KERNEL_PREFIX:=}" "${HOST_TESTS:=out/host/tests}"
: "${TESTS:=}"
LOG_DIR=$BUILD_DIR/test-logs
rm -rf "$LOG_DIR"
mkdir -p "$LOG_DIR"

passed=0 failed=0 skipped=0
failures=

selected() {
    if [ -n "$TESTS" ]; then
        case "$1" in *"$TESTS"*) ;; *) return 1 ;; esac
    fi
    full_only "$1" && return 1
    return 0
}

# Cases CI's time budget leaves to `make check-full` (TERN_CHECK_FULL=1,
# which scripts/check-full.sh sets): the names in tests/full-only.txt.
# full_only NAME: true, NAME reported as skipped once, for such a case
# when TERN_CHECK_FULL is not 1.
FULL_ONLY=$(sed -e 's/#.*//' -e '/^ *$/d' tests/full-only.txt | tr -s ' \n' '  ')
full_only_said=" "
full_only() {
    [ "${TERN_CHECK_FULL:-0}" = 1 ] && return 1
    case " $FULL_ONLY " in *" $1 "*) ;; *) return 1 ;; esac
    case $full_only_said in *" $1 "*) return 0 ;; esac
    full_only_said="$full_only_said$1 "
    skip "$1" "only in make check-full (TERN_CHECK_FULL=1; tests/full-only.txt)"
    return 0
}

# The guest's arch. The guest files x86_64 and aarch64 share (syscalls.sh,
# fs.sh, netns.sh, tcpconn.sh, tcp.sh) name their cases
# guest:${GUEST_PFX}NAME: a64_NAME on aarch64, so that TESTS=a64_ selects
# them with the aarch64-only ones. Their manifests say `arch: $GUEST_ARCH`
# and take the apps from GUEST_APPS (`make check` passes out/apps-aarch64,
# built by `tern cc --arch=aarch64`; out/apps keeps the host's, which the
# host side of the tests runs).
GUEST_ARCH=${ARCH:-x86_64}
GUEST_PFX=
# shellcheck disable=SC2034  # (used by the sourced tests/guest/*.sh)
[ "$GUEST_ARCH" = aarch64 ] && GUEST_PFX=a64_
: "${GUEST_APPS:=out/apps}"
case $GUEST_APPS in /*) ;; *) GUEST_APPS=$PWD/$GUEST_APPS ;; esac

pass() { passed=$((passed + 1)); echo "PASS: $1"; }
fail() {
    failed=$((failed + 1)); failures="$failures $1"
    echo "FAIL: $1${2:+: $2}"
}
skip() { skipped=$((skipped + 1)); echo "SKIP: $1: $2"; }

# abs_path PATH: PATH made absolute. Manifests name host paths relative to
# their own directory, so test files write absolute ones into them (make
# check's LOG_DIR is relative).
abs_path() {
    case $1 in
    /*) echo "$1" ;;
    *) echo "$PWD/$1" ;;
    esac
}

# --- 1. unit tests ---------------------------------------------------------
for bin in $UNIT_BINS; do
    name=$(basename "$bin")
    selected "$name" || continue
    out=$LOG_DIR/$name.log
    "$bin" > "$out" 2>&1
    rc=$?
    p=$(grep -c '^PASS: ' "$out")
    f=$(grep -c '^FAIL: ' "$out")
    passed=$((passed + p))
    failed=$((failed + f))
    grep '^\(PASS\|FAIL\): ' "$out"
    if [ "$f" -gt 0 ] || [ "$rc" -ne 0 ]; then
        [ "$f" -eq 0 ] && fail "$name" "exited with status $rc (crash?)"
        failures="$failures $name"
        sed 's/^/    | /' "$out" | grep -v '| PASS: ' | tail -30
    fi
done

# --- helpers for tool and guest cases ----------------------------------------

# tool_file_wanted FILE: true when TESTS selects one of FILE's tool
# cases (their names are read from FILE), so that a file's set-up (builds,
# make install) runs only when one of its cases will.
tool_file_wanted() {
    # shellcheck disable=SC2013  # case names are single words
    for c in $(sed -n 's/^ *tool_case \([a-z0-9_]*\) .*/\1/p' "$1"); do
        selected "tool:$c" && return 0
    done
    return 1
}

# tool_case NAME EXPECTED_STATUS REGEX -- COMMAND...
# Runs COMMAND; passes when it exits with EXPECTED_STATUS and its output
# (stdout+stderr) matches the extended REGEX.
tool_case() {
    name=tool:$1 want=$2 regex=$3
    shift 3
    [ "$1" = -- ] && shift
    selected "$name" || return 0
    out=$LOG_DIR/$(echo "$name" | tr ':/' '__').log
    "$@" > "$out" 2>&1
    rc=$?
    if [ "$rc" -ne "$want" ]; then
        fail "$name" "exit status $rc, expected $want"
        sed 's/^/    | /' "$out" | tail -10
    elif ! grep -Eq -- "$regex" "$out"; then
        fail "$name" "output lacks /$regex/"
        sed 's/^/    | /' "$out" | tail -10
    else
        pass "$name"
    fi
}

# judge_boot NAME WANT RC LOG REGEX...
# The verdict on one boot that tern run logged to LOG and ended with RC:
# passes when RC is WANT, the console's last line is "tern-exit:
# status=WANT" and every REGEX (extended) matches a console line.
judge_boot() {
    name=$1 want=$2 rc=$3 log=$4
    shift 4
    why=
    if [ "$rc" -ne "$want" ]; then
        why="exit status $rc, expected $want"
    elif [ "$(tail -n 1 "$log" | tr -d '\r')" != "tern-exit: status=$want" ]; then
        why="the last console line is not 'tern-exit: status=$want'"
    else
        for regex in "$@"; do
            if ! tr -d '\r' < "$log" | grep -Eq -- "$regex"; then
                why="console lacks /$regex/"
                break
            fi
        done
    fi
    if [ -n "$why" ]; then
        fail "$name" "$why"
        sed 's/^/    | /' "$log.tern" | tail -5
        tr -d '\r' < "$log" | sed 's/^/    | /' | tail -15
    else
        pass "$name"
    fi
}

# guest_case NAME APPEND EXPECTED_STATUS REGEX...
# Boots the kernel with APPEND as its command line; passes when the guest's
# exit status is EXPECTED_STATUS, every REGEX (extended) matches a console
# line, and the console's last line is the tern-exit line.
# Environment knobs for one case: GUEST_KERNEL=debug (the debug variant of
# this configuration) or GUEST_KERNEL=-O1[-broken-r13...] (the kernel built
# for that configuration suffix; KERNEL_FILE names the file tern boots:
# kernel.elf, or aarch64's kernel.img), GUEST_ARGS (extra `tern run` options),
# GUEST_ACCEL (kvm|tcg), GUEST_TIMEOUT (seconds, default 60).
guest_case() {
    name=guest:$1 append=$2 want=$3
    shift 3
    selected "$name" || return 0
    kernel=$KERNEL
    case "${GUEST_KERNEL:-}" in
    '') ;;
    debug) kernel=$KERNEL_DEBUG ;;
    -*) kernel=$KERNEL_PREFIX$GUEST_KERNEL/${KERNEL_FILE:-kernel.elf} ;;
    *) fail "$name" "bad GUEST_KERNEL '$GUEST_KERNEL'"; return 0 ;;
    esac
    if [ ! -f "$kernel" ]; then
        fail "$name" "kernel $kernel was not built"
        return 0
    fi
    accel=${GUEST_ACCEL:-$ACCEL}
    if [ "$accel" = kvm ] && [ "$KVM_OK" != 1 ]; then
        skip "$name" "KVM is not usable here ($KVM_WHY)"
        return 0
    fi
    log=$LOG_DIR/$(echo "$name" | tr ':/' '__').log
    # shellcheck disable=SC2086
    "$TERN" run --kernel "$kernel" --accel "$accel" --quiet --timeout "${GUEST_TIMEOUT:-60}" \
        --log "$log" --append "$append" ${GUEST_ARGS:-} > "$log.tern" 2>&1
    judge_boot "$name" "$want" $? "$log" "$@"
}

# --- 2. tool tests ---------------------------------------------------------
for f in tests/tool/*.sh; do
    [ -e "$f" ] || continue
    . "./$f"
done

# --- 3. guest tests --------------------------------------------------------
# One probe decides the accelerator for all guest tests (tern run's own
# rule); cases that need a specific one say so with GUEST_ACCEL.
ACCEL=$("$TERN" probe --kernel "$KERNEL" 2> "$LOG_DIR/probe.log")
PROBE_WHY=$(sed -n 's/^tern: [a-z]*: //p' "$LOG_DIR/probe.log")
echo "guest tests run under $ACCEL ($PROBE_WHY)"
# Cases that insist on KVM run whenever KVM can boot the kernel, even when
# the probe found it too slow to be the default.
if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
    KVM_OK=0 KVM_WHY="/dev/kvm is missing or not accessible"
elif [ "$ACCEL" = kvm ] || echo "$PROBE_WHY" | grep -q 'slower than TCG'; then
    KVM_OK=1
else
    KVM_OK=0 KVM_WHY=$PROBE_WHY
fi
# netns.sh and tcpconn.sh define the helpers of the network cases (the
# namespace, the host tool, the verdict), so they come first: files that
# sort before them (attack_*.sh) use those helpers.
guest_sourced=" "
for f in tests/guest/netns.sh tests/guest/tcpconn.sh tests/guest/*.sh; do
    [ -e "$f" ] || continue
    case $guest_sourced in *" $f "*) continue ;; esac
    guest_sourced="$guest_sourced$f "
    . "./$f"
done

# --- 4. Xen cases ------------------------------------------------------------
# Tern as a PVH guest of Debian's Xen 4.17 with a Debian dom0, all under
# QEMU TCG (tests/xen/README.md): the cases that fit CI's budget
# (XEN_CI=1: hello, the exit status, virsh, netfront in the three send
# modes with netem, blkfront, xenstore, grant tables, the apps, tern run
# on the dom0, the torture on 2 vCPUs at -O2 and -O0), one boot of Xen for
# all of them: 4-6 minutes on the 2-core machine, and 3-6 minutes more the
# first time, to build the dom0 into ~/.cache/tern/xen (as root, from
# Debian's mirror). make check-full (TERN_CHECK_FULL=1) runs every case,
# as make check-xen does. TERN_XEN=0 leaves them out, saying so; TESTS
# selects among them as among the others (no boot when it selects none).
xen_cache=${TERN_CACHE:-$HOME/.cache/tern}/xen
if [ "${ARCH:-x86_64}" != x86_64 ]; then
    :   # (Xen guests are x86_64 here)
elif [ "${TERN_XEN:-1}" = 0 ]; then
    skip xen "TERN_XEN=0: the cases on the real Xen hypervisor are left out (CI: they ran in its first pass)"
elif [ "$(id -u)" != 0 ] && [ ! -f "$xen_cache/dom0.cpio.gz" ]; then
    skip xen "building the dom0 into $xen_cache needs root once (make check-xen as root)"
else
    xen_ci=1
    [ "${TERN_CHECK_FULL:-0}" = 1 ] && xen_ci=0
    # check.sh's own summary line becomes "xen: ..." so that this
    # runner's stays the last one.
    xen_out=$LOG_DIR/xen.out
    XEN_CI=$xen_ci TESTS=$TESTS BUILD_DIR=$BUILD_DIR TERN=$TERN \
        TCP_PEER=$HOST_TESTS/tcp_peer APPS_DIR=${APPS_DIR:-out/apps} sh tests/xen/check.sh 2>&1 |
        sed -u -E 's/^([0-9]+ passed, [0-9]+ failed)/xen: \1/' | tee "$xen_out"
    p=$(grep -c '^PASS: ' "$xen_out")
    f=$(grep -c '^FAIL: ' "$xen_out")
    k=$(grep -c '^SKIP: ' "$xen_out")
    passed=$((passed + p)) skipped=$((skipped + k))
    failed=$((failed + f))
    failures="$failures$(sed -n 's/^FAIL: \([^:]*:[^:]*\).*/ \1/p' "$xen_out" | tr -d '\n')"
    if ! grep -Eq '^xen: [0-9]+ passed, [0-9]+ failed' "$xen_out"; then
        fail xen "tests/xen/check.sh printed no summary (see $xen_out)"
    fi
fi

if [ "$failed" -gt 0 ]; then
    echo "failed:$failures"
    echo "logs: $LOG_DIR"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
