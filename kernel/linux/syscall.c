/*
 * System call dispatch: the frame from the architecture's entry code, read
 * through its accessors (arch/linux_abi.h: number, arguments), the result
 * (or -errno) returned to the entry code. Handlers
 * register themselves with SYSCALLn (kern/syscall.h) in the files that
 * implement them; the array below is filled from that section at boot.
 * Unknown numbers return -ENOSYS and are logged once each, by name.
 */
#include <arch/linux_abi.h>
#include <kern/errno.h>
#include <kern/panic.h>
#include <kern/percpu.h>
#include <kern/printk.h>
#include <kern/string.h>
#include <kern/syscall.h>
#include <kern/thread.h>
#include <kern/timer.h>
#include <kern/uaccess.h>
#include <kern/waitq.h>

extern const struct syscall_entry __syscall_table_start[], __syscall_table_end[];
extern const char *const syscall_names[SYSCALL_NR_MAX];

static syscall_fn table[SYSCALL_NR_MAX];
static const char *table_names[SYSCALL_NR_MAX];
static unsigned nr_implemented;

void syscall_init(void)
{
    for (const struct syscall_entry *e = __syscall_table_start; e < __syscall_table_end; e++) {
        if (e->nr >= SYSCALL_NR_MAX)
            continue;                   /* Tern's own numbers: dispatched below */
        if (table[e->nr])
            panic("syscall %s (%u) is defined twice", e->name, e->nr);
        table[e->nr] = e->fn;
        table_names[e->nr] = e->name;
        nr_implemented++;
    }
    pr_debug("syscall: %u Linux system calls implemented\n", nr_implemented);
}

static syscall_fn find_own(uint64_t nr)
{
    for (const struct syscall_entry *e = __syscall_table_start; e < __syscall_table_end; e++)
        if (e->nr == nr)
            return e->fn;
    return NULL;
}

static void log_unknown(uint64_t nr)
{
    static uint8_t logged[(SYSCALL_NR_MAX + 7) / 8];
    if (nr < SYSCALL_NR_MAX) {
        uint8_t bit = (uint8_t)(1u << (nr % 8));
        if (__atomic_fetch_or(&logged[nr / 8], bit, __ATOMIC_RELAXED) & bit)
            return;
        const char *name = syscall_names[nr];
        pr_warn("syscall %s (%llu) is not implemented: ENOSYS\n", name ? name : "(unnamed)",
                (unsigned long long)nr);
        return;
    }
    static bool logged_big;
    if (!__atomic_exchange_n(&logged_big, true, __ATOMIC_RELAXED))
        pr_warn("syscall %llu is not a Linux system call: ENOSYS (logged once)\n",
                (unsigned long long)nr);
}

struct syscall_frame *syscall_current_frame(void)
{
    return thread_current()->syscall_frame;
}

int64_t syscall_dispatch(struct syscall_frame *f);
int64_t syscall_dispatch(struct syscall_frame *f)
{
    struct thread *t = thread_current();
    struct syscall_frame *outer = t->syscall_frame;
    uint64_t nr = syscall_frame_nr(f);
    uint64_t args[6];
    syscall_frame_args(f, args);
    syscall_fn fn = nr < SYSCALL_NR_MAX ? table[nr] : find_own(nr);
    int64_t ret;

    t->syscall_frame = f;
    /* A statistic (netstat's TernCpu): a relaxed atomic, since the thread
     * may move to another CPU between reading this_cpu and the add. */
    __atomic_fetch_add(&this_cpu()->nr_syscalls, 1, __ATOMIC_RELAXED);
    if (fn) {
        ret = fn(args);
    } else {
        log_unknown(nr);
        ret = -ENOSYS;
    }
    t->syscall_frame = outer;
    return ret;
}

/* ---- Tern's test system calls -------------------------------------------- */

static struct mutex test_mutex = MUTEX_INIT(test_mutex);

static void test_action(int action)
{
    switch (action) {
    case SYSCALL_TEST_SLEEP:
        thread_sleep_ns(50000);
        break;
    case SYSCALL_TEST_MUTEX:
        /* Held across a yield, so that other callers really block on it. */
        mutex_lock(&test_mutex);
        thread_yield();
        mutex_unlock(&test_mutex);
        break;
    default:
        thread_yield();
        break;
    }
}

/* Compare the frame's six argument registers with want[]; a mask of the
 * ones that differ. */
static unsigned args_differ(const struct syscall_frame *f, const uint64_t *want)
{
    uint64_t now[6];
    syscall_frame_args(f, now);
    unsigned mask = 0;
    for (int i = 0; i < 6; i++)
        if (now[i] != want[i])
            mask |= 1u << i;
    return mask;
}

static int64_t sys_tern_test_args_args(const uint64_t *a)
{
    struct thread *t = thread_current();
    const uint64_t *want = t->syscall_test_expect;
    (void)a;
    if (!want)
        return -EINVAL;
    t->syscall_test_bad += __builtin_popcount(args_differ(t->syscall_frame, want));
    test_action(t->syscall_test_action);
    /* The same values after blocking: what the OSv zcopy_tx bug broke. */
    t->syscall_test_bad += __builtin_popcount(args_differ(t->syscall_frame, want));
    return 0;
}
static const struct syscall_entry syscall_entry_tern_test_args
    __attribute__((used, section("syscall_table"), aligned(8))) = {
        SYS_tern_test_args, "tern_test_args", sys_tern_test_args_args };

struct tern_argcheck {
    uint64_t expect[6];
    uint32_t action;
    uint32_t reserved;
};

static int64_t sys_tern_argcheck_args(const uint64_t *a)
{
    struct tern_argcheck c;
    struct syscall_frame *f = thread_current()->syscall_frame;
    if (copy_from_user(&c, (const void *)a[0], sizeof(c)))
        return -EFAULT;
    if (c.action > 3 || c.reserved)
        return -EINVAL;
    unsigned mask = args_differ(f, c.expect);
    static const int actions[4] = { -1, SYSCALL_TEST_YIELD, SYSCALL_TEST_SLEEP,
                                    SYSCALL_TEST_MUTEX };
    if (c.action)
        test_action(actions[c.action]);
    /* The saved frame again, and the pointer argument's target too. */
    mask |= args_differ(f, c.expect) << 8;
    struct tern_argcheck again;
    if (copy_from_user(&again, (const void *)syscall_frame_arg(f, 0), sizeof(again)) ||
        memcmp(&again, &c, sizeof(c)))
        mask |= 1u << 16;
    return mask;
}
static const struct syscall_entry syscall_entry_tern_argcheck
    __attribute__((used, section("syscall_table"), aligned(8))) = {
        SYS_tern_argcheck, "tern_argcheck", sys_tern_argcheck_args };
