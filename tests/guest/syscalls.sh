# The system calls the other apps leave out (apps/syscalls.c): each one
# checked in the guest for the exact result Linux gives, return value and
# errno. The app prints "ok NAME" or "FAIL NAME: got ..., want ..." per
# check and ends with "syscalls: N checks, M failed" (status 1 when M > 0).
# Two vCPUs, so that sched_setaffinity really moves the thread.
# guest:a64_syscalls on aarch64 (the app built for it; the old calls arm64
# lacks are checked through their *at forms there). ~10 s under TCG.
#
# Its data directory, mapped at /data (read-only in the guest, as every
# file of the image):
#   file      "hello, tern\n", 0644 (not executable)
#   exec      0755
#   link      -> file
#   dangling  -> nowhere
#   deeplink  -> sub/deeper
#   sub/      inner ("inner\n", 0644), deeper/ (empty)
#
# Uses image_case from build.sh (sourced before this file).

if selected "guest:${GUEST_PFX}syscalls"; then
    SYSCALLS_DIR=$(cd "$LOG_DIR" && pwd)/syscalls
    rm -rf "$SYSCALLS_DIR"
    mkdir -p "$SYSCALLS_DIR/data/sub/deeper"
    (
        cd "$SYSCALLS_DIR/data" || exit 1
        printf 'hello, tern\n' > file
        printf '#!/bin/sh\nexit 0\n' > ./exec
        printf 'inner\n' > sub/inner
        chmod 0644 file sub/inner
        chmod 0755 exec . sub sub/deeper
        ln -s file link
        ln -s nowhere dangling
        ln -s sub/deeper deeplink
    )
    cat > "$SYSCALLS_DIR/syscalls.yaml" <<EOF
name: syscalls
arch: $GUEST_ARCH
memory: 64M
cpus: 2
cmdline: [/bin/syscalls, /data]
files:
  /bin/syscalls: $GUEST_APPS/syscalls
  /data: $SYSCALLS_DIR/data
EOF
    if [ ! -x "$GUEST_APPS/syscalls" ]; then
        fail "guest:${GUEST_PFX}syscalls" "$GUEST_APPS/syscalls was not built (make apps)"
    else
        # Unknown numbers: ENOSYS, and the kernel names each once.
        image_case "${GUEST_PFX}syscalls" 0 '^syscalls: [0-9]+ checks, 0 failed$' \
            '^ok getpid\(\) == gettid\(\) in the main thread$' \
            '^\[ *[0-9.]+\] syscall \(unnamed\) \(400\) is not implemented: ENOSYS$' -- \
            "$SYSCALLS_DIR/syscalls.yaml" -o "$SYSCALLS_DIR/img" --kernel "$KERNEL" --accel "$ACCEL"
    fi
fi
