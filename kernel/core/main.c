/*
 * kernel_main: the portable boot sequence, entered from the architecture's
 * boot code with boot_info filled in and a kernel stack.
 */
#include <kern/app.h>
#include <kern/random.h>
#include <kern/arch.h>
#include <kern/boot.h>
#include <kern/kmalloc.h>
#include <kern/ktest.h>
#include <kern/memmap.h>
#include <kern/net.h>
#include <kern/options.h>
#include <kern/page_alloc.h>
#include <kern/panic.h>
#include <kern/platform.h>
#include <kern/printk.h>
#include <kern/profile.h>
#include <kern/random.h>
#include <kern/string.h>
#include <kern/syscall.h>
#include <kern/thread.h>
#include <kern/timer.h>
#include <kern/errno.h>
#include <kern/vfs.h>

void options_print_help(void);

struct boot_info boot_info;

static void print_ready(void)
{
    uint64_t hz = arch_cycles_hz();
    uint64_t now = arch_cycles();
    uint64_t entry = arch_boot_cycles();
    /* The cycle counter starts near zero at VM reset (QEMU, KVM), so its
     * value at kernel entry is the firmware's share of boot time. */
    uint64_t kernel_us = hz ? (now - entry) * 1000000 / hz : 0;
    uint64_t reset_us = hz ? now / (hz / 1000000 ? hz / 1000000 : 1) : 0;
    /* Some hypervisors (nested KVM here) do not start the counter at 0;
     * a "firmware time" of more than 10 s means we cannot know it. */
    if (reset_us > 10000000)
        pr_info("ready: %llu.%03llu ms since kernel entry\n",
                (unsigned long long)kernel_us / 1000, (unsigned long long)kernel_us % 1000);
    else
        pr_info("ready: %llu.%03llu ms since kernel entry, %llu.%03llu ms since VM reset\n",
                (unsigned long long)kernel_us / 1000, (unsigned long long)kernel_us % 1000,
                (unsigned long long)reset_us / 1000, (unsigned long long)reset_us % 1000);
}

void kernel_main(void)
{
    platform_early_init();
    /* Options first: they set the log level for everything below. */
    options_parse();
    pr_info("Tern %s (%s, %s platform, kernel %s%s, gcc %s)\n", TERN_VERSION,
            arch_name, platform_name, TERN_OPT,
#ifdef TERN_DEBUG
            " debug",
#else
            "",
#endif
            TERN_CC_VERSION);
    arch_early_init();
    /* The loader's seed before anything draws on the generator. */
    if (boot_info.seed_len) {
        random_add_seed(boot_info.seed_from, boot_info.seed, boot_info.seed_len);
        memset(boot_info.seed, 0, sizeof(boot_info.seed));
    }
    pr_info("command line: \"%s\"\n", boot_info.cmdline);
    if (kopt.help) {
        options_print_help();
        ktest_list();
        kernel_exit(EXIT_OK);
    }
    arch_time_init();

    memmap_init();
    arch_paging_init();
    memmap_print();
    struct mem_region free[128];
    unsigned n = memmap_free_regions(free, ARRAY_SIZE(free));
    page_alloc_init(free, n);
    page_alloc_print_stats();
    arch_late_init();
    sched_init();
    arch_smp_init();
    clock_init();
    platform_late_init();
    /* Every seed is in by now: the device tree's, virtio-rng's. */
    random_report();
    syscall_init();
    int fs = vfs_mount_root();
    if (fs == -EIO)
        kernel_exit(EXIT_PANIC);
    /* The stack on the devices platform_late_init found, configured from
     * the image's settings (so after the root is mounted). */
    net_init();
    print_ready();
    profile_start();

    if (kopt.ktest) {
        int status = ktest_run(kopt.ktest);
        if (status < 0) {
            pr_err("ktest: no test named '%s'\n", kopt.ktest);
            ktest_list();
            kernel_exit(EXIT_USAGE);
        }
        kernel_exit(status);
    }
    /* The app's exit ends the VM; this thread has nothing left to do. */
    app_run();
    if (kopt.app.argc)
        thread_exit(0);
    kernel_exit((int)kopt.exit_status);
}
