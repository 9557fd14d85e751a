# apps/sysabi on aarch64 (only for an aarch64 build): the arm64 port
# (apps/sysabi/sysabi.c with sysabi_aarch64.c, regs_aarch64.S), built by
# `tern cc --arch=aarch64` (musl static-PIE), holds patterns in every
# register the arm64 syscall contract preserves (x1-x30 with x8 the
# number, sp, NZCV, q0-q31, FPCR, FPSR, TPIDR_EL0) across getpid/gettid,
# sched_yield, futex ping-pong, nanosleep, SYS_tern_argcheck (all four
# actions: now, yield, sleep, contended mutex) and preemption, with four
# threads, for SYSABI_A64_SECONDS, under TCG.
#
#   a64_sysabi-O0-smp1/-smp2   kernels built at -O0 and -O2, 1 and 2 vCPUs:
#   a64_sysabi-O2-smp1/-smp2   exit 0, "sysabi: ok", every kind ran
#   a64_sysabi_control         a kernel built with BROKEN=syscall (its svc
#                              return loses x9) must make the app report a
#                              MISMATCH in x9 and exit 1
#
# About 8 s per case, 40 s for the file. Uses image_case from build.sh
# (sourced before this file).
if [ "${ARCH:-x86_64}" = aarch64 ]; then
SYSABI_A64_SECONDS=4
SYSABI_A64_CASES="a64_sysabi-O0-smp1 a64_sysabi-O0-smp2 a64_sysabi-O2-smp1 a64_sysabi-O2-smp2
    a64_sysabi_control"

sysabi_a64_tests() {
    sa_dir=$(cd "$LOG_DIR" && pwd)/a64sysabi
    rm -rf "$sa_dir"
    mkdir -p "$sa_dir"
    sa_why=
    if ! "$TERN" cc --arch=aarch64 -std=gnu11 -O2 -g -Wall -Wextra -Werror -pthread \
            -o "$sa_dir/sysabi" apps/sysabi/sysabi.c apps/sysabi/sysabi_aarch64.c \
            apps/sysabi/regs_aarch64.S \
            > "$sa_dir/cc.log" 2>&1; then
        sa_why="tern cc --arch=aarch64 could not build apps/sysabi: $(tail -1 "$sa_dir/cc.log")"
    fi
    for smp in 1 2; do
        cat > "$sa_dir/smp$smp.yaml" <<EOT
name: a64-sysabi-smp$smp
arch: aarch64
memory: 128M
cpus: $smp
cmdline: [/bin/sysabi, --threads, "4", --seconds, "$SYSABI_A64_SECONDS", --require-argcheck]
files:
  /bin/sysabi: $sa_dir/sysabi
EOT
    done

    # sa_case NAME KERNEL-SUFFIX CPUS STATUS REGEX...
    sa_case() {
        sa_name=$1 sa_kernel=$KERNEL_PREFIX$2/$KERNEL_FILE sa_cpus=$3 sa_want=$4
        shift 4
        selected "guest:$sa_name" || return 0
        if [ -n "$sa_why" ]; then
            fail "guest:$sa_name" "$sa_why"
        elif [ ! -f "$sa_kernel" ]; then
            fail "guest:$sa_name" "kernel $sa_kernel was not built"
        else
            image_case "$sa_name" "$sa_want" "$@" -- \
                "$sa_dir/smp$sa_cpus.yaml" -o "$sa_dir/b-$sa_name" \
                --kernel "$sa_kernel" --accel tcg
        fi
    }

    # Every kind ran (argcheck too: --require-argcheck) and nothing differed.
    for opt in -O0 -O2; do
        for smp in 1 2; do
            sa_case "a64_sysabi$opt-smp$smp" "$opt" "$smp" 0 \
                'sysabi: .*checking x1-x30 .*\(aarch64\)' \
                'sysabi: kind getpid +[1-9][0-9]* rounds' \
                'sysabi: kind futex +[1-9][0-9]* rounds \(wait [0-9]+, of which slept [1-9]' \
                'sysabi: kind argcheck +[1-9][0-9]* rounds \(now [1-9][0-9]*, yield [1-9][0-9]*, sleep [1-9][0-9]*, mutex [1-9]' \
                'sysabi: kind preempt +[1-9][0-9]* rounds \(interrupted [1-9]' \
                'sysabi: ok \([0-9]+ rounds, 4 threads\)$'
        done
    done

    # Negative control: the svc return path loses x9.
    sa_case a64_sysabi_control -O2-broken-syscall 2 1 \
        'sysabi: MISMATCH .* reg x9 want 0x[0-9a-f]+ got 0x5a5a5a5a5a5a5a5a$' 'sysabi: FAILED$'
}

sa_wanted=
for c in $SYSABI_A64_CASES; do
    selected "guest:$c" && sa_wanted=1
done
[ -n "$sa_wanted" ] && sysabi_a64_tests
fi
