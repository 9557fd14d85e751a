# Threads, scheduler, timers and the ABI contract (docs/abi-contract.md).

# The torture test on kernels built at every optimization level, on 1, 2
# and 4 vCPUs: at least 100000 context switches including 10000
# preemptions (and, with several CPUs, migrations), 0 mismatches.
# The matrix does not depend on the configured kernel, so a CI job that
# runs make check for several configurations runs it once
# (TERN_TORTURE_MATRIX=0 on the later passes).
# (aarch64 has its own matrix, with fewer switches for TCG: aarch64.sh.)
if [ "${ARCH:-x86_64}" != x86_64 ]; then
    :
elif [ "${TERN_TORTURE_MATRIX:-1}" = 0 ]; then
    skip guest:torture-matrix "TERN_TORTURE_MATRIX=0: the same kernels were tortured earlier in this run"
else
for opt in -O0 -O1 -O2 -Os; do
    for smp in 1 2 4; do
        GUEST_KERNEL=$opt GUEST_TIMEOUT=420 GUEST_ARGS="--smp $smp" \
        guest_case "torture$opt-smp$smp" "ktest=torture" 0 \
            'torture: rounds: yield [1-9][0-9]*, mutex [1-9][0-9]*, condvar [1-9][0-9]*, sleep [1-9][0-9]*, preempt-spin [1-9][0-9]*' \
            'torture: context switches [0-9]{6,} \(preemptions [0-9]{5,}\)' \
            'syscall [1-9][0-9]*, syscall-args [1-9][0-9]*$' \
            'torture: mismatches 0$' 'ktest torture: passed'
    done
done
fi

# Negative controls: a switch that loses r13 (at -O0, where no compiled
# caller saves it by luck) or the extended state must be caught (x86_64;
# aarch64's x19 and d8 controls are in aarch64.sh).
[ "${ARCH:-x86_64}" = x86_64 ] && GUEST_KERNEL=-O0-broken-r13 guest_case torture_control_r13 \
    "ktest=torture torture_switches=20000 torture_preemptions=1000" 1 \
    'torture: MISMATCH in worker [0-9]+ after [a-z-]+: r13$' 'torture: mismatches [1-9]'
[ "${ARCH:-x86_64}" = x86_64 ] && GUEST_KERNEL=-O2-broken-xsave guest_case torture_control_xsave \
    "ktest=torture torture_switches=20000 torture_preemptions=1000" 1 \
    'torture: MISMATCH in worker [0-9]+ after [a-z-]+:.* xmm[0-9]+' 'torture: mismatches [1-9]'

# A trap builds its frame (on aarch64 also saves the vector state) on a
# trap stack full of stale bytes: its restore must not fault (x86_64's
# XRSTOR there raised #GP on a stale XSAVE header, seen once at -O0 in a
# network test, when its trap path still saved vector state).
guest_case trap_stale_stack "ktest=trap_stale_stack" 0 \
    'ktest trap_stale_stack: 20 interrupts over a stale trap stack, all restored' \
    'ktest trap_stale_stack: passed'

guest_case sched_fair "ktest=sched_fair" 0 \
    'sched_fair: equal   thread 3: [0-9]+ ms' 'sched_fair: weighted nice 0' 'ktest sched_fair: passed'
guest_case timer_accuracy "ktest=timer_accuracy" 0 \
    'timer_accuracy: sleep  1000 us x25: overshoot min [0-9]+ us, median [0-9]+ us' \
    'ktest timer_accuracy: passed'
guest_case threads "ktest=threads" 0 'threads: 500 threads joined, producer/consumer done'
guest_case boot_scheduler "" 0 'apic: local APIC id 0' 'sched: running, time slice' \
    'fpu: (XSAVE|FXSAVE)' 'clock: wall clock [0-9]+ s since the epoch'

GUEST_ARGS="--smp 4" guest_case boot_smp4 "" 0 'smp: 4 of 4 CPUs online'
GUEST_ARGS="--smp 2" guest_case sched_fair_smp2 "ktest=sched_fair" 0 'ktest sched_fair: passed'
GUEST_ARGS="--smp 2" guest_case threads_smp2 "ktest=threads" 0 'threads: 500 threads joined'
# Timers raced across CPUs: a callback outliving its wait ended later
# sleeps early, and a timer unlinked under another CPU's lock damaged the
# lists until a CPU lost its next interrupt (the test then hangs).
GUEST_ARGS="--smp 2" guest_case timer_race_smp2 "ktest=timer_race" 0 \
    'timer_race: sleeper 3: [0-9]+ rounds, futex woken [1-9][0-9]*, timed out [1-9][0-9]*, sleeps ended early 0' \
    'ktest timer_race: passed'
GUEST_ARGS="--smp 4" guest_case timer_race_smp4 "ktest=timer_race" 0 'ktest timer_race: passed'
# The debug kernel (heap poisoning): a thread's first save area must not
# depend on what the heap held (XRSTOR faulted on poisoned header bytes).
GUEST_KERNEL=debug GUEST_ARGS="--smp 2" guest_case threads_debug_smp2 "ktest=threads" 0 \
    'threads: 500 threads joined'
