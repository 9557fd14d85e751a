/*
 * The Linux system call layer (kernel/linux/). Numbers are the Linux ones
 * of the architecture, generated from linux-libc-dev (syscall_nr.h).
 *
 * A handler is defined where it belongs (file syscalls with the files,
 * futex with the futexes) with one of the SYSCALLn macros, which puts an
 * entry in the `syscall_table` section; syscall.c builds the dispatch array
 * from that section at boot and refuses duplicates. A handler gets its
 * arguments already converted to the types it names and returns the result
 * or -errno.
 *
 *   SYSCALL3(read, int, fd, void *, buf, size_t, count)
 *   {
 *       ...
 *   }
 *
 * SYSCALLn needs the number in every architecture's table (a name the
 * table lacks does not compile). The calls that only some tables have --
 * x86_64's open, stat, fork, poll, ... that arm64's generic table left out
 * for their *at and newer forms -- use LEGACY_SYSCALLn instead: the same
 * handler, compiled everywhere, registered only where the generated
 * HAVE_SYS_<name> says the arch has the number. A legacy handler is a thin
 * wrapper over its newer form, so the two cannot drift apart:
 *
 *   LEGACY_SYSCALL3(open, const char *, path, int, flags, unsigned, mode)
 *   {
 *       return sys_openat(AT_FDCWD, path, flags, mode);
 *   }
 */
#ifndef KERN_SYSCALL_H
#define KERN_SYSCALL_H

#include <kern/types.h>
#include <syscall_nr.h>

/* Tern's own, for tests: checks that its six argument registers hold the
 * values the calling kernel thread announced (thread->syscall_test_expect),
 * does what thread->syscall_test_action says (yield, sleep, take a
 * contended mutex), and checks them again. Mismatches are counted in
 * thread->syscall_test_bad. */
#define SYS_tern_test_args 0x7e54
#define SYSCALL_TEST_YIELD  0
#define SYSCALL_TEST_SLEEP  1
#define SYSCALL_TEST_MUTEX  2

/* Tern's own, for apps (apps/sysabi): struct tern_argcheck *c in the first
 * argument holds what all six argument registers must be (c->expect[0] is c
 * itself); the kernel checks them, does c->action (0 nothing, 1 yield,
 * 2 sleep ~50 us, 3 block on a contended kernel mutex), and checks its
 * saved copy again. Returns a mask: bit i = argument i differed on entry,
 * bit 8+i = after the action. */
#define SYS_tern_argcheck 0x7e55

/* Tern's own, for apps: zcopy_tx (include/tern/zcopy.h, kernel/linux/sys_socket.c). */
#define SYS_tern_zcopy_tx 0x7e60
/* ... and its completion queue: zcopy_txq_open, zcopy_txq (kernel/linux/zcopy_txq.c). */
#define SYS_tern_zcopy_txq_open 0x7e61
#define SYS_tern_zcopy_txq      0x7e62

typedef int64_t (*syscall_fn)(const uint64_t *args);

struct syscall_entry {
    unsigned nr;
    const char *name;
    syscall_fn fn;
};

#define SYSCALL_ENTRY_(name_)                                                  \
    static const struct syscall_entry syscall_entry_##name_                    \
        __attribute__((used, section("syscall_table"), aligned(8))) = {        \
            SYS_##name_, #name_, sys_##name_##_args };

/* attr_: __attribute__((unused)) for legacy handlers, which are not
 * referenced where the arch lacks their number. entry_: how the handler
 * is registered. */
#define SYSCALL_DEFINE_X_(name_, params, call, attr_, entry_)                  \
    static int64_t sys_##name_ params attr_;                                   \
    static int64_t sys_##name_##_args(const uint64_t *a) attr_;                \
    static int64_t sys_##name_##_args(const uint64_t *a)                       \
    {                                                                          \
        (void)a;                                                               \
        return sys_##name_ call;                                               \
    }                                                                          \
    entry_(name_)                                                              \
    static int64_t sys_##name_ params

#define SYSCALL_DEFINE_(name_, params, call)                                   \
    SYSCALL_DEFINE_X_(name_, params, call, , SYSCALL_ENTRY_)

/* SYSCALL_ENTRY_(name_) when syscall_nr.h defines HAVE_SYS_<name_> as 1,
 * nothing otherwise. The preprocessor cannot ask "is this defined?" inside
 * a macro, so: HAVE_SYS_<name_> expands to 1 or stays a plain name; pasted
 * onto SYSCALL_PROBE_, only SYSCALL_PROBE_1 exists, and it expands to two
 * arguments, which shifts the 1 into the second place that
 * SYSCALL_SECOND_ picks (0 otherwise). */
#define SYSCALL_PROBE_1 ~, 1
#define SYSCALL_SECOND_(a, b, ...) b
#define SYSCALL_IS_1___(probe) SYSCALL_SECOND_(probe, 0, ~)
#define SYSCALL_IS_1__(value) SYSCALL_IS_1___(SYSCALL_PROBE_##value)
#define SYSCALL_IS_1_(value) SYSCALL_IS_1__(value)      /* expands value first */
#define SYSCALL_IF_1_(...) __VA_ARGS__
#define SYSCALL_IF_0_(...)
#define SYSCALL_IF__(cond, ...) SYSCALL_IF_##cond##_(__VA_ARGS__)
#define SYSCALL_IF_(cond, ...) SYSCALL_IF__(cond, __VA_ARGS__)
#define SYSCALL_ENTRY_IF_HAVE_(name_)                                          \
    SYSCALL_IF_(SYSCALL_IS_1_(HAVE_SYS_##name_), SYSCALL_ENTRY_(name_))

#define LEGACY_SYSCALL_DEFINE_(name_, params, call)                            \
    SYSCALL_DEFINE_X_(name_, params, call, __attribute__((unused)),            \
                      SYSCALL_ENTRY_IF_HAVE_)

#define SYSCALL0(n) SYSCALL_DEFINE_(n, (void), ())
#define SYSCALL1(n, t0, a0) SYSCALL_DEFINE_(n, (t0 a0), ((t0)a[0]))
#define SYSCALL2(n, t0, a0, t1, a1)                                            \
    SYSCALL_DEFINE_(n, (t0 a0, t1 a1), ((t0)a[0], (t1)a[1]))
#define SYSCALL3(n, t0, a0, t1, a1, t2, a2)                                    \
    SYSCALL_DEFINE_(n, (t0 a0, t1 a1, t2 a2), ((t0)a[0], (t1)a[1], (t2)a[2]))
#define SYSCALL4(n, t0, a0, t1, a1, t2, a2, t3, a3)                            \
    SYSCALL_DEFINE_(n, (t0 a0, t1 a1, t2 a2, t3 a3),                           \
                    ((t0)a[0], (t1)a[1], (t2)a[2], (t3)a[3]))
#define SYSCALL5(n, t0, a0, t1, a1, t2, a2, t3, a3, t4, a4)                    \
    SYSCALL_DEFINE_(n, (t0 a0, t1 a1, t2 a2, t3 a3, t4 a4),                    \
                    ((t0)a[0], (t1)a[1], (t2)a[2], (t3)a[3], (t4)a[4]))
#define SYSCALL6(n, t0, a0, t1, a1, t2, a2, t3, a3, t4, a4, t5, a5)            \
    SYSCALL_DEFINE_(n, (t0 a0, t1 a1, t2 a2, t3 a3, t4 a4, t5 a5),             \
                    ((t0)a[0], (t1)a[1], (t2)a[2], (t3)a[3], (t4)a[4], (t5)a[5]))

#define LEGACY_SYSCALL0(n) LEGACY_SYSCALL_DEFINE_(n, (void), ())
#define LEGACY_SYSCALL1(n, t0, a0) LEGACY_SYSCALL_DEFINE_(n, (t0 a0), ((t0)a[0]))
#define LEGACY_SYSCALL2(n, t0, a0, t1, a1)                                     \
    LEGACY_SYSCALL_DEFINE_(n, (t0 a0, t1 a1), ((t0)a[0], (t1)a[1]))
#define LEGACY_SYSCALL3(n, t0, a0, t1, a1, t2, a2)                             \
    LEGACY_SYSCALL_DEFINE_(n, (t0 a0, t1 a1, t2 a2), ((t0)a[0], (t1)a[1], (t2)a[2]))
#define LEGACY_SYSCALL4(n, t0, a0, t1, a1, t2, a2, t3, a3)                     \
    LEGACY_SYSCALL_DEFINE_(n, (t0 a0, t1 a1, t2 a2, t3 a3),                    \
                           ((t0)a[0], (t1)a[1], (t2)a[2], (t3)a[3]))
#define LEGACY_SYSCALL5(n, t0, a0, t1, a1, t2, a2, t3, a3, t4, a4)             \
    LEGACY_SYSCALL_DEFINE_(n, (t0 a0, t1 a1, t2 a2, t3 a3, t4 a4),             \
                           ((t0)a[0], (t1)a[1], (t2)a[2], (t3)a[3], (t4)a[4]))

/* Build the dispatch array (once, at boot). */
void syscall_init(void);

/* The frame of the system call the current thread is in (for clone, which
 * copies it, and for reports). NULL outside a system call. */
struct syscall_frame;
struct syscall_frame *syscall_current_frame(void);

#endif
