# Readiness and pipe-like files of the Linux layer (kernel/linux/pipe.c,
# eventfd.c, timerfd.c, poll.c, epoll.c), driven in the kernel by
# ktest=poll (kernel/ktest/poll.c and its parts): each part prints "poll: PART ok",
# the ping-pongs (one wakeup per round on each side, every wait with a
# deadline) must not stall, and nothing may stay allocated. On 2 vCPUs the
# helper threads run on the other CPU, so wakeups race with sleeps; on 1
# vCPU the same code runs interleaved by preemption.
for smp in 1 2; do
    GUEST_ARGS="--smp $smp" GUEST_TIMEOUT=120 guest_case "poll-smp$smp" "ktest=poll" 0 \
        '^\[ *[0-9.]+\] poll: pipe ok$' '^\[ *[0-9.]+\] poll: pipe-threads ok$' \
        '^\[ *[0-9.]+\] poll: eventfd ok$' '^\[ *[0-9.]+\] poll: timerfd ok$' \
        '^\[ *[0-9.]+\] poll: poll-select ok$' '^\[ *[0-9.]+\] poll: epoll ok$' \
        '^\[ *[0-9.]+\] poll: epoll-nested ok$' '^\[ *[0-9.]+\] poll: lost-wakeup ok$' \
        'poll: ping-pong over pipes, read against read: 3000 rounds in [0-9]+ ms$' \
        'poll: ping-pong over eventfds, poll against epoll-ET: 3000 rounds in [0-9]+ ms$' \
        '^\[ *[0-9.]+\] poll: wakeup-race ok$' '^\[ *[0-9.]+\] poll: 0 objects not freed$' \
        '^\[ *[0-9.]+\] poll: 0 failures$' 'ktest poll: passed'
done
GUEST_ARGS="--smp 2" GUEST_KERNEL=-O0 GUEST_TIMEOUT=120 guest_case poll-O0-smp2 "ktest=poll" 0 \
    '^\[ *[0-9.]+\] poll: 0 failures$' 'ktest poll: passed'
