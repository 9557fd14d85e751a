# The sampling profiler (profile=HZ, kernel/core/profile.c).
#
#   guest:profile_kernel  ktest=sched_fair's CPU-bound threads spin in
#       hog(): the report must find it the busiest function, with at least
#       half of the busy samples, and name its hottest address
#   guest:profile_app     an app (sysabi, 1 s) is sampled too: its own
#       functions appear as app:NAME from its symbol table
guest_case profile_kernel 'profile=1000 ktest=sched_fair' 0 \
    'profile: sampling 1000 times a second on 1 CPUs' \
    'profile: CPU 0: [0-9]+ context switches/s, [0-9]+ interrupts/s over [0-9]+ ms' \
    'profile: CPU 0: idle [0-9]+ ms of [0-9]+$' \
    'profile: thread [0-9]+ hog: [1-9][0-9]* ms$' \
    'profile: [0-9]+ samples at 1000 Hz on 1 CPUs \([0-9]+ idle, [0-9]+ busy, 0 dropped\)' \
    'profile: +[0-9]+ +[0-9]+\.[0-9] +([5-9][0-9]|100)\.[0-9]  hog$' \
    'profile: +[0-9]+  0xffffffff[0-9a-f]+  hog\+0x[0-9a-f]+$'

if selected guest:profile_app; then
    pr_dir=$LOG_DIR/profile
    rm -rf "$pr_dir"
    mkdir -p "$pr_dir/root/bin"
    if [ ! -x out/apps/sysabi ]; then
        fail guest:profile_app "out/apps/sysabi is not built (make apps)"
    elif ! cp out/apps/sysabi "$pr_dir/root/bin/" ||
        ! "$TERN" mkrofs "$pr_dir/rofs.img" "$pr_dir/root" > "$pr_dir/mkrofs.log" 2>&1; then
        fail guest:profile_app "could not make the image: $(tail -n 1 "$pr_dir/mkrofs.log")"
    else
        GUEST_ARGS="--initrd $pr_dir/rofs.img --smp 2" guest_case profile_app \
            'profile=2000 -- /bin/sysabi --threads 2 --seconds 1' 0 \
            'profile: sampling 2000 times a second on 2 CPUs' \
            'profile: +[0-9]+ +[0-9]+\.[0-9] +[0-9]+\.[0-9]  app:[A-Za-z_][A-Za-z0-9_]*$' \
            'profile: hottest addresses:'
    fi
fi
