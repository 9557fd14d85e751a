# The built-in kernel tests, run with ktest=NAME (included by kernel/kernel.mk).
# The order is the order of `ktest=` listings (the linker collects each
# file's KTEST entries in link order).
KTEST_SRCS := \
	kernel/ktest/ktest.c \
	kernel/ktest/faults.c \
	kernel/ktest/torture.c \
	kernel/ktest/trap.c \
	kernel/ktest/sched.c \
	kernel/ktest/bench.c \
	kernel/ktest/fs.c \
	kernel/ktest/poll.c \
	kernel/ktest/pipe.c \
	kernel/ktest/eventfd.c \
	kernel/ktest/timerfd.c \
	kernel/ktest/poll_select.c \
	kernel/ktest/epoll.c \
	kernel/ktest/wakeup_race.c \
	kernel/ktest/net_smoke.c \
	kernel/ktest/net_rx_gso.c \
	kernel/ktest/net_link.c \
	kernel/ktest/net_ceiling.c
