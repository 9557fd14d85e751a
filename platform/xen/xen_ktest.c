/*
 * Self tests of the Xen frontend plumbing (kern/ktest.h), run as guests of
 * the real-Xen harness (tests/xen/check.sh):
 *  ktest=xenstore  reads, writes, directories, removal, transactions
 *                  (commit and abort) and a watch that fires on a write;
 *  ktest=gnttab    refs granted past one frame (the table grows), a grant
 *                  to ourselves that Xen honours (GNTTABOP_copy reads the
 *                  frame through it), and gnttab_end refused (-EBUSY) while
 *                  the frame is mapped (GNTTABOP_map_grant_ref), accepted
 *                  after the unmap.
 */
#include <arch/mm.h>
#include <kern/errno.h>
#include <kern/ktest.h>
#include <kern/page_alloc.h>
#include <kern/printf.h>
#include <kern/printk.h>
#include <kern/string.h>
#include <kern/thread.h>
#include <kern/timer.h>
#include <kern/waitq.h>
#include "gnttab.h"
#include "xen.h"
#include "xenstore.h"
#include <xen/grant_table.h>

#define CHECK(cond, ...) do { if (!(cond)) { pr_err("ktest: " __VA_ARGS__); return 1; } } while (0)

struct watch_probe {
    struct xs_watch w;
    struct waitq wq;
    int fired;
    char last[96];
};

static void watch_fn(struct xs_watch *w, const char *path)
{
    struct watch_probe *p = container_of(w, struct watch_probe, w);
    unsigned long flags = spin_lock_irqsave(&p->wq.lock);
    p->fired++;
    strlcpy(p->last, path, sizeof(p->last));
    spin_unlock_irqrestore(&p->wq.lock, flags);
    pr_info("xenstore: watch %s fired: %s\n", w->path, path);
    waitq_wake(&p->wq, -1);
}

/* Wait until the probe has fired `count` times with a path ending in
 * `suffix`, at most 10 s. */
static bool watch_wait(struct watch_probe *p, int count, const char *suffix)
{
    uint64_t deadline = clock_monotonic_ns() + 10ULL * 1000 * 1000 * 1000;
    unsigned long flags = spin_lock_irqsave(&p->wq.lock);
    for (;;) {
        size_t n = strlen(p->last), k = strlen(suffix);
        if (p->fired >= count && n >= k && !strcmp(p->last + n - k, suffix))
            break;
        uint64_t now = clock_monotonic_ns();
        if (now >= deadline || !waitq_sleep_locked(&p->wq, &flags, deadline - now)) {
            spin_unlock_irqrestore(&p->wq.lock, flags);
            return false;
        }
    }
    spin_unlock_irqrestore(&p->wq.lock, flags);
    return true;
}

KTEST(xenstore, "xenstore: read, write, directory, rm, transactions, a watch")
{
    char buf[128];
    long domid;
    int r = xs_read_int(0, "domid", &domid);
    CHECK(r == 0 && domid > 0, "xenstore: domid: %d\n", r);
    r = xs_read(0, "name", buf, sizeof(buf));
    CHECK(r > 0, "xenstore: name: %d\n", r);
    pr_info("xenstore: domid %ld, name '%s'\n", domid, buf);
    CHECK(xs_read(0, "data/tern-no-such-node", buf, sizeof(buf)) == -ENOENT,
          "xenstore: a missing node is not -ENOENT\n");

    /* write and read back */
    r = xs_printf(0, "data/tern-ktest/value", "hello %ld", domid);
    CHECK(r == 0, "xenstore: write: %d\n", r);
    r = xs_read(0, "data/tern-ktest/value", buf, sizeof(buf));
    char want[32];
    snprintf(want, sizeof(want), "hello %ld", domid);
    CHECK(r == (int)strlen(want) && !strcmp(buf, want), "xenstore: read back '%s' (%d)\n", buf, r);
    pr_info("xenstore: wrote and read back data/tern-ktest/value = '%s'\n", buf);

    /* a transaction that commits, with the retry the ABI asks for */
    for (int tries = 0;; tries++) {
        xs_txn_t t;
        r = xs_txn_start(&t);
        CHECK(r == 0 && t != 0, "xenstore: transaction start: %d\n", r);
        CHECK(xs_write(t, "data/tern-ktest/a", "1") == 0 &&
              xs_write(t, "data/tern-ktest/b", "2") == 0, "xenstore: write in a transaction\n");
        /* not visible outside before the commit */
        CHECK(xs_read(0, "data/tern-ktest/a", buf, sizeof(buf)) == -ENOENT,
              "xenstore: a transaction's write is visible before its commit\n");
        r = xs_txn_end(t, false);
        if (r == -EAGAIN && tries < 5)
            continue;
        CHECK(r == 0, "xenstore: commit: %d\n", r);
        break;
    }
    long a = 0, b = 0;
    CHECK(xs_read_int(0, "data/tern-ktest/a", &a) == 0 && a == 1 &&
          xs_read_int(0, "data/tern-ktest/b", &b) == 0 && b == 2,
          "xenstore: committed values %ld %ld\n", a, b);
    /* one that aborts */
    xs_txn_t t;
    CHECK(xs_txn_start(&t) == 0, "xenstore: transaction start\n");
    CHECK(xs_write(t, "data/tern-ktest/c", "3") == 0, "xenstore: write in a transaction\n");
    CHECK(xs_txn_end(t, true) == 0, "xenstore: abort\n");
    CHECK(xs_read(0, "data/tern-ktest/c", buf, sizeof(buf)) == -ENOENT,
          "xenstore: an aborted transaction's write is there\n");
    pr_info("xenstore: transaction committed a=1 b=2; aborted one left no c\n");

    /* directory */
    char dir[256];
    int n = xs_directory(0, "data/tern-ktest", dir, sizeof(dir));
    CHECK(n == 3, "xenstore: data/tern-ktest has %d children, not 3\n", n);
    bool seen_a = false;
    for (const char *p = dir; p < dir + sizeof(dir) && n--; p += strlen(p) + 1)
        seen_a |= !strcmp(p, "a");
    CHECK(seen_a, "xenstore: directory lacks 'a'\n");

    /* a watch: fires once when added, then on a write under its path */
    static struct watch_probe wp;
    wp.w.path = "data/tern-ktest";
    wp.w.fn = watch_fn;
    waitq_init(&wp.wq);
    CHECK(xs_watch_add(&wp.w) == 0, "xenstore: watch\n");
    CHECK(watch_wait(&wp, 1, "data/tern-ktest"), "xenstore: the new watch did not fire\n");
    CHECK(xs_write(0, "data/tern-ktest/watched", "x") == 0, "xenstore: write\n");
    CHECK(watch_wait(&wp, 2, "data/tern-ktest/watched"),
          "xenstore: the watch did not fire on a write (fired %d, last '%s')\n", wp.fired, wp.last);
    CHECK(xs_watch_del(&wp.w) == 0, "xenstore: unwatch\n");
    int fired = wp.fired;
    CHECK(xs_write(0, "data/tern-ktest/watched", "y") == 0, "xenstore: write\n");
    thread_sleep_ns(500ULL * 1000 * 1000);
    CHECK(wp.fired == fired, "xenstore: a removed watch fired\n");
    pr_info("xenstore: watch fired on data/tern-ktest/watched, not after removal\n");

    CHECK(xs_rm(0, "data/tern-ktest") == 0, "xenstore: rm\n");
    CHECK(xs_read(0, "data/tern-ktest/a", buf, sizeof(buf)) == -ENOENT,
          "xenstore: a removed node is there\n");
    pr_info("xenstore: all checks passed\n");
    return 0;
}

KTEST(gnttab, "grant tables: growth, a grant Xen honours, no end while mapped")
{
    long domid;
    CHECK(xs_read_int(0, "domid", &domid) == 0, "gnttab: no domid\n");
    struct gnttab_stats st0, st;
    gnttab_stats(&st0);
    pr_info("gnttab: %u refs in use, %u of %u frames\n", st0.in_use, st0.frames, st0.max_frames);

    /* More refs than one frame has: the table grows. */
    enum { MANY = 700 };
    static grant_ref_t refs[MANY];
    paddr_t page = page_alloc(0);
    CHECK(page, "gnttab: no page\n");
    for (int i = 0; i < MANY; i++) {
        int r = gnttab_grant(0, page, true);
        CHECK(r >= 0, "gnttab: grant %d failed (%d)\n", i, r);
        refs[i] = (grant_ref_t)r;
    }
    gnttab_stats(&st);
    CHECK(st.frames > st0.frames || st0.capacity - st0.in_use >= MANY,
          "gnttab: the table did not grow (%u frames)\n", st.frames);
    pr_info("gnttab: %d grants: %u refs in use, %u frames\n", MANY, st.in_use, st.frames);
    for (int i = 0; i < MANY; i++)
        CHECK(gnttab_end(refs[i]) == 0, "gnttab: end %d\n", i);
    CHECK(gnttab_end(refs[0]) == -EINVAL, "gnttab: ending a free ref is not -EINVAL\n");

    /* A grant to ourselves, read by Xen: copy through it. */
    uint8_t *src = phys_to_virt(page);
    for (unsigned i = 0; i < PAGE_SIZE; i++)
        src[i] = (uint8_t)(i * 7 + 3);
    paddr_t dst_pa = page_alloc(0);
    CHECK(dst_pa, "gnttab: no page\n");
    memset(phys_to_virt(dst_pa), 0, PAGE_SIZE);
    int ref = gnttab_grant((uint16_t)domid, page, true);
    CHECK(ref >= 0, "gnttab: grant to self (%d)\n", ref);
    struct gnttab_copy c = {
        .source = { .u.ref = (grant_ref_t)ref, .domid = (domid_t)domid, .offset = 0 },
        .dest = { .u.gmfn = dst_pa >> PAGE_SHIFT, .domid = DOMID_SELF, .offset = 0 },
        .len = PAGE_SIZE,
        .flags = GNTCOPY_source_gref,
    };
    long rc = HYPERCALL3(grant_table_op, GNTTABOP_copy, &c, 1);
    CHECK(rc == 0 && c.status == GNTST_okay, "gnttab: GNTTABOP_copy: %ld, status %d\n", rc,
          c.status);
    CHECK(!memcmp(src, phys_to_virt(dst_pa), PAGE_SIZE), "gnttab: the copy differs\n");
    pr_info("gnttab: Xen copied a page through grant %d\n", ref);

    /* Mapped: gnttab_end must refuse until the unmap. */
    uint64_t at = st.table_pa + (512ULL << 20);
    struct gnttab_map_grant_ref m = {
        .host_addr = at, .flags = GNTMAP_host_map | GNTMAP_readonly,
        .ref = (grant_ref_t)ref, .dom = (domid_t)domid,
    };
    rc = HYPERCALL3(grant_table_op, GNTTABOP_map_grant_ref, &m, 1);
    CHECK(rc == 0 && m.status == GNTST_okay, "gnttab: GNTTABOP_map_grant_ref: %ld, status %d\n",
          rc, m.status);
    int e = gnttab_end((grant_ref_t)ref);
    CHECK(e == -EBUSY, "gnttab: gnttab_end of a mapped grant returned %d, not -EBUSY\n", e);
    pr_info("gnttab: end refused while mapped (-EBUSY)\n");
    struct gnttab_unmap_grant_ref u = { .host_addr = at, .handle = m.handle };
    rc = HYPERCALL3(grant_table_op, GNTTABOP_unmap_grant_ref, &u, 1);
    CHECK(rc == 0 && u.status == GNTST_okay, "gnttab: unmap: %ld, status %d\n", rc, u.status);
    e = gnttab_end((grant_ref_t)ref);
    CHECK(e == 0, "gnttab: gnttab_end after the unmap returned %d\n", e);
    gnttab_stats(&st);
    CHECK(st.in_use == st0.in_use, "gnttab: %u refs in use, %u before\n", st.in_use, st0.in_use);
    pr_info("gnttab: all checks passed\n");
    return 0;
}
