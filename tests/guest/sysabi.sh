# The syscall ABI torture app (apps/sysabi, see its README.md) as a guest:
# an unmodified static Linux program whose threads hold patterns in every
# register the x86_64 syscall contract preserves (all GPRs but rax rcx r11,
# rflags, xmm/ymm/zmm, k0-7, x87, MXCSR, FCW, FS base, red zone) across
# getpid/gettid, sched_yield, futex ping-pong, nanosleep, SYS_tern_argcheck
# and preemption, and compare them afterwards.
#
# On kernels built at -O0 and -O2, on 1 and 2 vCPUs: exit status 0 and
# "sysabi: ok". Negative control: a kernel built with BROKEN=syscall (its
# syscall return clobbers r10) must make the app report a MISMATCH in r10
# and exit 1.
#
# Uses image_case from build.sh (sourced before this file).

SYSABI_DIR=$LOG_DIR/sysabi
SYSABI_SECONDS=8
SYSABI_CASES="sysabi-O2-smp1 sysabi-O2-smp2 sysabi-O0-smp1 sysabi-O0-smp2 sysabi_control_r10"

sysabi_wanted=
for c in $SYSABI_CASES; do
    selected "guest:$c" && sysabi_wanted=1
done

if [ -n "$sysabi_wanted" ]; then
    rm -rf "$SYSABI_DIR"
    mkdir -p "$SYSABI_DIR"
    # The binary from `make apps` (out/apps/sysabi); without it, build one
    # here with tern cc, so that the cases test the sources as they are.
    sysabi_why=
    sysabi_bin=$PWD/out/apps/sysabi
    if [ ! -f "$sysabi_bin" ]; then
        sysabi_bin=$SYSABI_DIR/sysabi
        if ! "$TERN" cc -std=gnu11 -O2 -g -Wall -Wextra -pthread -o "$sysabi_bin" \
                apps/sysabi/sysabi.c apps/sysabi/sysabi_x86_64.c apps/sysabi/regs.S \
                > "$SYSABI_DIR/cc.log" 2>&1; then
            sysabi_why="out/apps/sysabi is missing and tern cc could not build it:"
            sysabi_why="$sysabi_why $(tail -1 "$SYSABI_DIR/cc.log")"
        fi
    fi
    if ! command -v image_case > /dev/null 2>&1; then
        sysabi_why="image_case (tests/guest/build.sh) is not defined"
    fi

    # sysabi_manifest CPUS: a manifest running the app for SYSABI_SECONDS
    # with four threads (more threads than vCPUs: preemption must happen).
    sysabi_manifest() {
        cat > "$SYSABI_DIR/smp$1.yaml" <<EOF
name: sysabi-smp$1
memory: 128M
cpus: $1
cmdline: [/bin/sysabi, --threads, "4", --seconds, "$SYSABI_SECONDS", --require-argcheck]
files:
  /bin/sysabi: $sysabi_bin
EOF
    }
    sysabi_manifest 1
    sysabi_manifest 2

    # sysabi_case NAME KERNEL CPUS STATUS REGEX...
    sysabi_case() {
        sc_name=$1 sc_kernel=$2 sc_cpus=$3 sc_want=$4
        shift 4
        selected "guest:$sc_name" || return 0
        if [ -n "$sysabi_why" ]; then
            fail "guest:$sc_name" "$sysabi_why"
        elif [ ! -f "$sc_kernel" ]; then
            fail "guest:$sc_name" "kernel $sc_kernel was not built"
        else
            image_case "$sc_name" "$sc_want" "$@" -- \
                "$SYSABI_DIR/smp$sc_cpus.yaml" -o "$SYSABI_DIR/$sc_name" \
                --kernel "$sc_kernel" --accel "$ACCEL"
        fi
    }

    # Every kind ran (argcheck too: --require-argcheck) and nothing differed.
    for opt in -O2 -O0; do
        k=$KERNEL_PREFIX$opt/kernel.elf
        # (the configured kernel, when no -O2 build sits beside it)
        [ "$opt" = -O2 ] && [ ! -f "$k" ] && k=$KERNEL
        for smp in 1 2; do
            sysabi_case "sysabi$opt-smp$smp" "$k" "$smp" 0 \
                'sysabi: kind getpid +[1-9][0-9]* rounds' \
                'sysabi: kind futex +[1-9][0-9]* rounds \(wait [0-9]+, of which slept [1-9]' \
                'sysabi: kind argcheck +[1-9][0-9]* rounds' \
                'sysabi: kind preempt +[1-9][0-9]* rounds \(interrupted [1-9]' \
                'sysabi: ok \([0-9]+ rounds, 4 threads\)$'
        done
    done

    # Negative control: the syscall return path loses r10.
    sysabi_case sysabi_control_r10 "$KERNEL_PREFIX-O2-broken-syscall/kernel.elf" 2 1 \
        'sysabi: MISMATCH .* reg r10 ' 'sysabi: FAILED$'
fi
