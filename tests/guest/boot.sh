# Guest boot tests: one guest_case per line (see tests/run-tests.sh).
# guest_case NAME  APPEND  STATUS  REGEX...

guest_case boot_banner "" 0 \
    '\] Tern [0-9]+\.[0-9]+\.[0-9]+ \(x86_64, kvm platform' \
    '\] memory map \(pvh\):' \
    'usable$' \
    '\] paging: kernel W\^X' \
    '\] tsc: [0-9]+\.[0-9]+ MHz' \
    '\] pages: [0-9]+ total' \
    '\] ready: [0-9]+\.[0-9]+ ms since kernel entry'

# The random generator's seed: tern run gives the guest a virtio-rng
# device (docs/random.md), read at probe and named in the boot log.
guest_case random_seed_virtio_rng "" 0 \
    '\] virtio-rng at [0-9a-f]{2}:[0-9a-f]{2}\.[0-7]: 64 bytes of host entropy' \
    '\] random: seeded from .*virtio-rng \(64 bytes\)'

GUEST_ACCEL=tcg guest_case boot_tcg "" 0 'hypervisor: TCGTCGTCGTCG'
GUEST_ACCEL=kvm guest_case boot_kvm "" 0 'hypervisor: KVMKVMKVM' 'tsc: [0-9.]+ MHz \(from kvmclock\)' 'ready: '
GUEST_ACCEL=kvm guest_case fault_null_kvm "ktest=fault_null" 70 'NULL pointer dereference' \
    'ktest_fn_fault_null\+0x'

GUEST_ARGS="--smp 2 --memory 512" guest_case boot_smp2_mem512 "" 0 \
    'memory: 52[0-9]{4} KiB RAM'

guest_case exit_status_42 "exit=42" 42
guest_case exit_status_255 "exit=255" 255
# Without isa-debug-exit the kernel must still power off (ACPI S5) and
# report its status.
GUEST_ARGS=--no-debug-exit guest_case exit_acpi_poweroff "exit=7" 7

guest_case loglevel_quiet "loglevel=3 exit=3" 3
GUEST_ARGS= guest_case cmdline_help "help" 0 'loglevel=N' 'fault_null'
guest_case cmdline_unknown_option "bogus=1" 64 "command line: unknown option 'bogus'"
guest_case cmdline_out_of_range "loglevel=9" 64 "command line: option 'loglevel': '9' is out of range 0\.\.7"
# App arguments are parsed (the kernel then has no image to run "app" from).
guest_case cmdline_quoted_app_args 'exit=0 -- app "two words"' 127 \
    'command line: "exit=0 -- app "two words""' 'app app: no root file system'
guest_case ktest_unknown "ktest=nope" 64 "ktest: no test named 'nope'"

# Deliberate faults: a report naming the fault, registers, a symbolized
# backtrace, and EXIT_PANIC (70).
guest_case fault_null "ktest=fault_null" 70 \
    'KERNEL FAULT: #PF page fault \(vector 14' 'NULL pointer dereference' \
    'RIP=ffffffff8' 'CR2=0000000000000000' 'backtrace:' '#0 +ffffffff8[0-9a-f]+ ktest_fn_fault_null\+0x' \
    ' kernel_main\+0x'
guest_case fault_write_text "ktest=fault_write_text" 70 'page fault: write of .*protection violation'
guest_case fault_exec_data "ktest=fault_exec_data" 70 'page fault: instruction fetch of .*protection violation'
guest_case fault_ud "ktest=fault_ud" 70 'KERNEL FAULT: #UD invalid opcode .* ktest_fn_fault_ud\+0x'
guest_case fault_div0 "ktest=fault_div0" 70 'KERNEL FAULT: #DE divide error'
guest_case fault_gp "ktest=fault_gp" 70 'KERNEL FAULT: #GP general protection'
guest_case stack_overflow "ktest=stack_overflow" 70 'stack guard page: kernel stack overflow' 'recurse\+0x'
guest_case panic "ktest=panic" 70 'KERNEL PANIC: ktest: deliberate panic \(value 42\)' ' ktest_fn_panic\+0x'

guest_case mm_stress "ktest=mm_stress" 0 'mm_stress: [0-9]+ page allocs' 'ktest mm_stress: passed'
GUEST_KERNEL=debug guest_case heap_double_free "ktest=heap_double_free" 70 'double free'
GUEST_KERNEL=debug guest_case heap_overflow "ktest=heap_overflow" 70 'overflow'
GUEST_KERNEL=debug guest_case mm_stress_debug "ktest=mm_stress" 0 'ktest mm_stress: passed'

# tern run stops a guest that runs too long and says so.
tool_case run_timeout 124 'timeout: the guest ran longer than 2 s' -- \
    "$TERN" run --kernel "$KERNEL" --accel "$ACCEL" --quiet --timeout 2 --append ktest=hang
