/* The registry of built-in kernel tests (see kern/ktest.h). */
#include <kern/ktest.h>
#include <kern/printk.h>
#include <kern/string.h>

extern const struct ktest __ktests_start[], __ktests_end[];

int ktest_run(const char *name)
{
    for (const struct ktest *t = __ktests_start; t < __ktests_end; t++) {
        if (strcmp(t->name, name) == 0) {
            pr_info("ktest %s: %s\n", t->name, t->what);
            int status = t->run();
            pr_info("ktest %s: %s (status %d)\n", t->name,
                    status == 0 ? "passed" : "FAILED", status);
            return status;
        }
    }
    return -1;
}

void ktest_list(void)
{
    console_printf("built-in tests (ktest=NAME):\n");
    for (const struct ktest *t = __ktests_start; t < __ktests_end; t++)
        console_printf("  %-20s %s\n", t->name, t->what);
}
