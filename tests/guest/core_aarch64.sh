# The aarch64 core on QEMU virt under TCG (only for an aarch64 build): the
# arm64 Image boots at EL1 and at EL2, on the Cortex-A72 and on `max`, and
# the ABI contract holds (ktest=torture) at every optimization level.
#
#   a64_boot                 a plain boot: Image entry, W^X paging, PL011,
#                            the status line through PSCI SYSTEM_OFF (~2 s)
#   a64_torture-O*-smp1/2    ktest=torture at -O0 -O1 -O2 -Os on 1 and 2
#                            vCPUs: x1-x28, v0-v31, FPCR, FPSR across yield,
#                            mutex, condvar, sleep, preemption, svc and the
#                            SYS_tern_test_args check (~12 s each; 20000
#                            switches instead of x86's 100000: TCG is slow)
#   a64_torture_cpumax_gic3  -cpu max with GICv3, 2 vCPUs (~12 s)
#   a64_torture_el2          entered at EL2 (-M virt,virtualization=on):
#                            dropped to EL1 (~12 s)
#   a64_torture_control_x19  negative controls: a switch that skips x19-x28
#   a64_torture_control_d8   (OSv's bug, -O0) or d8-d15 (q8-q15, -O2) must
#                            be caught (~5 s each: the guest is stopped
#                            once it has reported; the x19 kernel may hang)
#   tool:a64_kernel_simd     no kernel function but the switch, the trap
#                            entry, the torture test and boot-time libfdt
#                            uses FP/SIMD registers; libgcc's popcount
#                            (what the kernel used first) is refused
#   a64_fault_*              kernel faults decoded from ESR_EL1 and
#   a64_stack_overflow       reported: NULL read, write to text (W^X),
#                            jump into data (XN), the boot stack's guard
#                            page (~2 s each)
#   a64_hello                apps built by `tern cc --arch=aarch64` (musl):
#   a64_hello_static         hello as static-PIE, as ET_EXEC exiting with
#   a64_threads_smp2         status 3, and apps/threads (pthreads: clone,
#                            TLS in TPIDR_EL0, futexes) on 2 vCPUs (~3 s each)
#   a64_segv, a64_segv_stack an app's NULL store and stack overflow end it
#                            with SIGSEGV (status 139), the kernel intact
# The file takes about 2.5 minutes. (Named after build.sh, whose
# image_case it uses.)
if [ "${ARCH:-x86_64}" = aarch64 ]; then
a64_core_tests() {
    A64C_DIR=$(cd "$LOG_DIR" && pwd)/a64core
    rm -rf "$A64C_DIR"
    mkdir -p "$A64C_DIR"
    # a64c_qemu NAME EXTRA-OPTIONS: a QEMU with EXTRA-OPTIONS appended
    # (QEMU takes the last -cpu, and merges -machine options).
    a64c_qemu() {
        printf '#!/bin/sh\nexec qemu-system-aarch64 "$@" %s\n' "$2" > "$A64C_DIR/$1"
        chmod +x "$A64C_DIR/$1"
    }
    a64c_qemu qemu-max-gic3 '-cpu max -machine gic-version=3'
    a64c_qemu qemu-el2 '-machine virtualization=on'

    t_args="ktest=torture torture_switches=20000 torture_preemptions=2000"
    t_pass='torture: mismatches 0$'
    t_rounds='torture: rounds: yield [1-9][0-9]*, mutex [1-9][0-9]*, condvar [1-9][0-9]*, sleep [1-9][0-9]*, preempt-spin [1-9][0-9]*, syscall [1-9][0-9]*, syscall-args [1-9][0-9]*$'

    GUEST_TIMEOUT=30 guest_case a64_boot "" 0 \
        'cpu: .* entered at EL1$' \
        'paging: kernel W\^X, direct map of [0-9]+ MiB' \
        'memory map \(fdt\):' 'ready: [0-9.]+ ms since kernel entry'

    # The random generator's seeds on a CPU without RNDR (cortex-a72): the
    # device tree's rng-seed and kaslr-seed (32 + 8 bytes from QEMU) and
    # the virtio-rng device tern run adds (docs/random.md).
    GUEST_TIMEOUT=30 guest_case a64_random_seed "" 0 \
        '\] virtio-rng at [0-9a-f]{2}:[0-9a-f]{2}\.[0-7]: 64 bytes of host entropy' \
        '\] random: seeded from device tree rng-seed \(40 bytes\), virtio-rng \(64 bytes\)$'
    # Without both (no virtio-rng device, QEMU's dtb-randomness off) the
    # boot log says that only the counter seeded it.
    cat > "$A64C_DIR/qemu-no-seed" <<'EOT'
#!/bin/sh
dev=
for a in "$@"; do
    shift
    if [ "$a" = -device ]; then dev=1; continue; fi
    if [ -n "$dev" ]; then
        dev=
        case $a in virtio-rng-*) continue ;; esac
        set -- "$@" -device
    fi
    set -- "$@" "$a"
done
exec qemu-system-aarch64 "$@" -machine dtb-randomness=off
EOT
    chmod +x "$A64C_DIR/qemu-no-seed"
    GUEST_TIMEOUT=30 GUEST_ARGS="--qemu $A64C_DIR/qemu-no-seed" \
        guest_case a64_random_counter_only "" 0 \
        '\] random: seeded from the cycle counter only: no RDRAND/RNDR, no virtio-rng, no boot seed'

    for opt in -O0 -O1 -O2 -Os; do
        for smp in 1 2; do
            GUEST_KERNEL=$opt GUEST_TIMEOUT=90 GUEST_ARGS="--smp $smp" \
            guest_case "a64_torture$opt-smp$smp" "$t_args" 0 \
                "torture: [0-9]+ workers on $smp cpu\\(s\\)" "$t_rounds" \
                'torture: context switches [0-9]{5,} \(preemptions [0-9]{4,}\)' \
                "$t_pass" 'ktest torture: passed'
        done
    done
    GUEST_TIMEOUT=90 GUEST_ARGS="--smp 2 --qemu $A64C_DIR/qemu-max-gic3" \
        guest_case a64_torture_cpumax_gic3 "$t_args" 0 \
        'gic: GICv3' 'smp: 2 of 2 CPUs online' "$t_rounds" "$t_pass"
    GUEST_TIMEOUT=90 GUEST_ARGS="--qemu $A64C_DIR/qemu-el2" \
        guest_case a64_torture_el2 "$t_args" 0 \
        'cpu: .* entered at EL2 \(dropped to EL1\)' "$t_rounds" "$t_pass"

    # a64c_control NAME KERNEL-SUFFIX REGEX: the broken kernel must report
    # the registers it lost and not pass (it may also crash or hang after
    # the reports: the switch corrupts the kernel's own registers too).
    a64c_control() {
        name=guest:$1
        selected "$name" || return 0
        kernel=$KERNEL_PREFIX$2/$KERNEL_FILE
        [ -f "$kernel" ] || { fail "$name" "kernel $kernel was not built"; return 0; }
        log=$LOG_DIR/$(echo "$name" | tr ':/' '__').log
        # The broken kernel may hang once it has reported (its own
        # callee-saved registers are lost too), and on a loaded host it may
        # take long to get there: wait up to 90 s for the report, then stop
        # the guest.
        : > "$log"
        "$TERN" run --kernel "$kernel" --accel tcg --quiet --timeout 90 --log "$log" \
            --append "ktest=torture torture_switches=20000 torture_preemptions=1000" \
            > "$log.tern" 2>&1 &
        pid=$!
        while kill -0 "$pid" 2> /dev/null &&
            ! tr -d '\r' < "$log" | grep -Eq -- "$3"; do
            sleep 0.5
        done
        kill "$pid" 2> /dev/null
        wait "$pid"
        rc=$?
        if [ "$rc" -eq 0 ]; then
            fail "$name" "the broken switch passed the torture test"
        elif ! tr -d '\r' < "$log" | grep -Eq -- "$3"; then
            fail "$name" "console lacks /$3/"
            tr -d '\r' < "$log" | sed 's/^/    | /' | tail -10
        else
            pass "$name"
        fi
    }
    # A switch that loses x19-x28 loses the -O0 kernel's own values there
    # too (the scheduler's pointers), so the first mismatch a worker sees
    # may be in the vector registers rather than in x19-x28 (seen in about
    # one run in three on a loaded host): either is the torture catching it.
    # The report itself may be cut short (the kernel printing it has lost
    # its own x19-x28 and can die mid-line: "x19 x20 x21" was seen), so the
    # first lost register named is what counts.
    a64c_control a64_torture_control_x19 -O0-broken-x19 \
        'torture: MISMATCH in worker [0-9]+ after [a-z-]+:.*( x19| v0)( |$)'
    a64c_control a64_torture_control_d8 -O2-broken-d8 \
        'torture: MISMATCH in worker [0-9]+ after [a-z-]+:.* v8 v9 v10 v11 v12 v13 v14 v15'

    tool_case a64_kernel_simd 0 'only the switch, the trap entry' -- \
        scripts/check-kernel-simd.sh "${KERNEL_ELF:-$BUILD_DIR/kernel.elf}"
    lg=$A64C_DIR/libgcc
    mkdir -p "$lg"
    (cd "$lg" && ar x "$(aarch64-linux-gnu-gcc -print-libgcc-file-name)" _popcountsi2.o)
    tool_case a64_kernel_simd_catches 1 '__popcountdi2' -- \
        scripts/check-kernel-simd.sh "$lg/_popcountsi2.o"

    # Kernel faults: the report, exit status 70 (EXIT_PANIC).
    GUEST_TIMEOUT=30 guest_case a64_fault_null "ktest=fault_null" 70 \
        'KERNEL FAULT: data abort: translation fault \(not mapped\)' \
        'page fault: NULL pointer dereference' 'PC=ffffffff8' \
        '#0 +ffffffff8[0-9a-f]+ ktest_fn_fault_null\+0x'
    GUEST_TIMEOUT=30 guest_case a64_fault_write_text "ktest=fault_write_text" 70 \
        'KERNEL FAULT: data abort: permission fault' 'page fault: write of ffffffff80000000'
    GUEST_TIMEOUT=30 guest_case a64_fault_exec_data "ktest=fault_exec_data" 70 \
        'KERNEL FAULT: instruction abort: permission fault' \
        'page fault: branched to from ktest_fn_fault_exec_data\+0x'
    GUEST_TIMEOUT=30 guest_case a64_stack_overflow "ktest=stack_overflow" 70 \
        'stack guard page: kernel stack overflow' 'recurse\+0x'

    # Apps: svc #0, arch_app_enter, the arm64 syscall numbers.
    app=$A64C_DIR/apps
    mkdir -p "$app"
    "$TERN" cc --arch=aarch64 -O2 -o "$app/hello" apps/hello.c > "$app/cc.log" 2>&1
    "$TERN" cc --arch=aarch64 --static -O2 -o "$app/hello-static" apps/hello.c >> "$app/cc.log" 2>&1
    "$TERN" cc --arch=aarch64 -O2 -pthread -o "$app/threads" apps/threads.c >> "$app/cc.log" 2>&1
    "$TERN" cc --arch=aarch64 -O2 -o "$app/segv" apps/segv.c >> "$app/cc.log" 2>&1
    a64c_manifest() {   # NAME PROGRAM CPUS CMDLINE
        cat > "$app/$1.yaml" <<EOT
name: $1
arch: aarch64
platform: kvm
memory: 128M
cpus: $3
cmdline: $4
env:
  GREETING: hello
files:
  /bin/$2: $2
EOT
    }
    a64c_manifest a64-hello hello 1 '[/bin/hello, "Hello, world"]'
    a64c_manifest a64-hello-static hello-static 1 '[/bin/hello-static, "Hello, world", --exit, "3"]'
    a64c_manifest a64-threads threads 2 '[/bin/threads]'
    a64c_manifest a64-segv segv 1 '[/bin/segv]'
    a64c_manifest a64-segv-stack segv 1 '[/bin/segv, --stack]'
    image_case a64_hello 0 'app: /bin/hello: static-PIE at 0xaaaa' \
        '^argv\[1\]=Hello, world$' '^GREETING=hello$' 'app: exited with status 0' -- \
        "$app/a64-hello.yaml" -o "$app/b-hello" --kernel "$KERNEL" --accel tcg
    image_case a64_hello_static 3 'app: /bin/hello-static: static at 0, entry 0x4' \
        '^argv\[3\]=3$' 'app: exited with status 3' -- \
        "$app/a64-hello-static.yaml" -o "$app/b-hello-static" --kernel "$KERNEL" --accel tcg
    image_case a64_threads_smp2 0 'smp: 2 of 2 CPUs online' \
        'threads: 8 workers, counter 160000, joined' 'threads: ok' -- \
        "$app/a64-threads.yaml" -o "$app/b-threads" --kernel "$KERNEL" --accel tcg
    image_case a64_segv 139 '^segv: about to fault$' \
        'killed by SIGSEGV \(signal 11\) in thread 1 at [0-9a-f]{16} main\+0x[0-9a-f]+ in /bin/segv$' \
        'page fault: write of 0000000000000000, not mapped: a NULL pointer dereference' -- \
        "$app/a64-segv.yaml" -o "$app/b-segv" --kernel "$KERNEL" --accel tcg
    image_case a64_segv_stack 139 '^segv: about to overflow the stack$' \
        'killed by SIGSEGV \(signal 11\)' 'just below the stack .*: stack overflow' -- \
        "$app/a64-segv-stack.yaml" -o "$app/b-segv-stack" --kernel "$KERNEL" --accel tcg
}
a64_core_tests
fi
