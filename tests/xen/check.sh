#!/bin/sh
# make check-xen: Tern on the real Xen hypervisor (tests/xen/run.sh boots
# Xen 4.17 + a Debian dom0 under QEMU TCG and xl-creates each guest). One
# line per case, "PASS: xen:NAME" / "FAIL: xen:NAME: why" / "SKIP: ...",
# then "N passed, N failed, N skipped", as tests/run-tests.sh does.
#
# Environment (the Makefile sets them):
#   KVM_KERNEL  the kvm-platform kernel (the harness's self-test guest)
#   XEN_KERNEL  the xen-platform kernel (configure --platform=xen); its
#               cases are skipped, saying why, while it does not exist
#   TERN        the tern tool, APPS_DIR the apps (make apps)
#   BUILD_DIR   logs go to $BUILD_DIR/xen-logs
#   TESTS       run only the cases whose name contains this
#
# Each case is one boot of Xen and dom0: about 30-40 s of boot on an idle
# 2-core machine plus the guest's own time (all under TCG).
set -u
: "${KVM_KERNEL:?}" "${XEN_KERNEL:?}" "${TERN:?}" "${BUILD_DIR:?}"
: "${APPS_DIR:=out/apps}" "${TESTS:=}"
HERE=$(cd "$(dirname "$0")" && pwd)
LOG_DIR=$BUILD_DIR/xen-logs
rm -rf "$LOG_DIR"
mkdir -p "$LOG_DIR"
passed=0 failed=0 skipped=0 failures=

selected() {
    [ -z "$TESTS" ] && return 0
    case "$1" in *"$TESTS"*) return 0 ;; esac
    return 1
}
pass() { passed=$((passed + 1)); echo "PASS: $1"; }
fail() { failed=$((failed + 1)); failures="$failures $1"; echo "FAIL: $1${2:+: $2}"; }
skip() { skipped=$((skipped + 1)); echo "SKIP: $1: $2"; }

# xen_case NAME WANT_STATUS GUEST_REGEXES OUTPUT_REGEXES -- RUN.SH ARGS...
#   Runs tests/xen/run.sh with ARGS; passes when it exits with WANT_STATUS,
#   every regex of GUEST_REGEXES (newline-separated, extended) matches a
#   line of the guest's console, every one of OUTPUT_REGEXES a line of the
#   harness's output (Xen's and dom0's console), and, when WANT_STATUS is a
#   guest status (not 124/125), the guest's last console line is
#   "tern-exit: status=WANT_STATUS".
xen_case() {
    name=xen:$1 want=$2 gre=$3 ore=$4
    shift 4
    [ "$1" = -- ] && shift
    selected "$name" || return 0
    log=$LOG_DIR/$(echo "$name" | tr ':/' '__').log
    start=$(date +%s)
    sh "$HERE/run.sh" --quiet --log "$log" "$@" > "$log.run" 2>&1
    rc=$?
    secs=$(($(date +%s) - start))
    why=
    if [ "$rc" -ne "$want" ]; then
        why="exit status $rc, expected $want"
    elif [ "$want" -ne 124 ] && [ "$want" -ne 125 ] &&
        [ "$(tail -n 1 "$log")" != "tern-exit: status=$want" ]; then
        why="the guest's last console line is not 'tern-exit: status=$want'"
    fi
    if [ -z "$why" ]; then
        while IFS= read -r re; do
            [ -n "$re" ] || continue
            grep -Eq -- "$re" "$log" || { why="guest console lacks /$re/"; break; }
        done <<EOF
$gre
EOF
    fi
    if [ -z "$why" ]; then
        while IFS= read -r re; do
            [ -n "$re" ] || continue
            tr -d '\r' < "$log.serial" | cat - "$log.run" | grep -Eq -- "$re" ||
                { why="harness output lacks /$re/"; break; }
        done <<EOF
$ore
EOF
    fi
    if [ -n "$why" ]; then
        fail "$name" "$why (${secs}s)"
        sed 's/^/    | /' "$log.run" | tail -n 15
        sed 's/^/    guest| /' "$log" | tail -n 15
    else
        pass "$name (${secs}s)"
    fi
}

# --- the harness itself, with the KVM kernel ----------------------------------
# The kvm-platform kernel knows nothing of Xen: under PVH its console (a
# 16550) and its clock (CMOS RTC, PIT) are absent, so it never prints a
# status. The harness must still create it, give up after --timeout,
# dump its vCPUs symbolized (xenctx with the kernel's symbols: it sits
# in the kvm platform code) and destroy it: exit 124, never a hang.
if selected xen:harness_timeout_dump; then
    if [ -f "$KVM_KERNEL" ]; then
        xen_case harness_timeout_dump 124 '' \
'dom0: created tern as domain [0-9]+
^rip: +ffffffff[0-9a-f]+ [A-Za-z_][A-Za-z0-9_.]*\+0x
^xen-guest: name=tern result=timeout
^xen-harness: status=124' \
            -- --timeout 15 --append "exit=3" "$KVM_KERNEL"
    else
        fail xen:harness_timeout_dump "$KVM_KERNEL was not built"
    fi
fi

# --- the xen platform -----------------------------------------------------------
if [ ! -f "$XEN_KERNEL" ]; then
    for c in boot_banner exit_status_42 apps_hello; do
        selected "xen:$c" && skip "xen:$c" "no xen-platform kernel ($XEN_KERNEL: configure --platform=xen, platform/xen)"
    done
else
    xen_case boot_banner 0 '\] Tern [0-9]+\.[0-9]+\.[0-9]+ \(x86_64, xen platform
ready: ' '' -- --timeout 60 --append "" "$XEN_KERNEL"
    xen_case exit_status_42 42 '' '^xen-guest: name=tern result=exited status=42' \
        -- --timeout 60 --append "exit=42" "$XEN_KERNEL"
    # An image from tern build (a manifest for out/apps/hello), its kernel
    # replaced by the xen one: the app's argv, environment and exit status
    # through the Xen PV console.
    if selected xen:apps_hello; then
        if [ ! -x "$APPS_DIR/hello" ]; then
            fail xen:apps_hello "$APPS_DIR/hello was not built (make apps)"
        else
            d=$(cd "$LOG_DIR" && pwd)
            apps=$(cd "$APPS_DIR" && pwd)
            cat > "$d/hello.yaml" <<EOF
name: xen-hello
memory: 64M
cpus: 1
cmdline: [/bin/hello, "Hello, Xen", --exit, "5"]
env:
  GREETING: hello
files:
  /bin/hello: $apps/hello
EOF
            if "$TERN" build "$d/hello.yaml" -o "$d/hello" --kernel "$KVM_KERNEL" > "$d/hello.build" 2>&1; then
                xen_case apps_hello 5 '^argv\[1\]=Hello, Xen$
^GREETING=hello$' '' -- --timeout 60 --kernel "$XEN_KERNEL" "$d/hello"
            else
                fail xen:apps_hello "tern build failed: $(tail -n 1 "$d/hello.build")"
            fi
        fi
    fi
fi

if [ "$failed" -gt 0 ]; then
    echo "failed:$failures"
    echo "logs: $LOG_DIR"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
