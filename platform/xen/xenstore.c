/*
 * The xenstore client (xenstore.h) over the shared ring (xs_wire.h).
 *
 * Three parties:
 *  - callers (threads) build a request, copy it into the request ring under
 *    tx_lock (waiting for room when the ring is full: a message may be
 *    larger than the ring) and sleep until their reply comes; each has a
 *    fresh req_id, so several may be outstanding and replies may come in
 *    any order;
 *  - the reader thread ("xenstore") takes messages off the response ring as
 *    bytes arrive (also piecewise), hands a reply to the request with its
 *    req_id and wakes it, and queues each XS_WATCH_EVENT;
 *  - the watch thread ("xs-watch") runs the callbacks of queued events one
 *    at a time. Being a thread of its own, a callback may make requests
 *    (the reader keeps serving replies meanwhile).
 * The event channel's handler only wakes whoever waits on the ring.
 */
#include <arch/barrier.h>
#include <arch/mm.h>
#include <kern/arch.h>
#include <kern/errno.h>
#include <kern/kmalloc.h>
#include <kern/list.h>
#include <kern/panic.h>
#include <kern/printf.h>
#include <kern/printk.h>
#include <kern/string.h>
#include <kern/thread.h>
#include <kern/waitq.h>
#include "xen.h"
#include "xenstore.h"
#include <xen/io/xs_wire.h>

#define REQUEST_TIMEOUT_NS (30ULL * 1000 * 1000 * 1000)
#define HDR                sizeof(struct xsd_sockmsg)

static struct xenstore_domain_interface *ring;
static uint32_t port;
static struct waitq ring_wq = WAITQ_INIT(ring_wq);     /* bytes or room */
static struct mutex tx_lock = MUTEX_INIT(tx_lock);

/* A request waiting for its reply. */
struct xs_req {
    struct list_head link;
    uint32_t req_id;
    bool done;
    uint32_t type;              /* of the reply: the request's, or XS_ERROR */
    char *buf;                  /* the caller's, for the payload */
    size_t len;                 /* its size */
    size_t got;                 /* the payload's full length */
    char err[16];               /* XS_ERROR's name */
};

static struct waitq reply_wq = WAITQ_INIT(reply_wq);  /* its lock guards pending */
static struct list_head pending = LIST_HEAD_INIT(pending);
static uint32_t next_req_id = 1;

/* Watches and their events. */
static struct mutex watches_lock = MUTEX_INIT(watches_lock);
static struct list_head watches = LIST_HEAD_INIT(watches);
static struct mutex callback_lock = MUTEX_INIT(callback_lock);  /* held while fn runs */
static uint32_t next_token = 1;
struct xs_event {
    struct list_head link;
    size_t len;
    char data[];                /* "path\0token\0" */
};
static struct waitq event_wq = WAITQ_INIT(event_wq);  /* its lock guards events */
static struct list_head events = LIST_HEAD_INIT(events);
static struct thread *watch_thread;

static void ring_event(void *arg)
{
    waitq_wake(&ring_wq, -1);
}

/* --- sending --------------------------------------------------------------- */

/* Copy len bytes into the request ring, waiting for room. tx_lock held. */
static int ring_put(const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        unsigned long flags = spin_lock_irqsave(&ring_wq.lock);
        XENSTORE_RING_IDX prod = ring->req_prod, cons;
        while ((cons = __atomic_load_n(&ring->req_cons, __ATOMIC_ACQUIRE),
                prod - cons >= XENSTORE_RING_SIZE)) {
            if (!waitq_sleep_locked(&ring_wq, &flags, REQUEST_TIMEOUT_NS)) {
                spin_unlock_irqrestore(&ring_wq.lock, flags);
                pr_err("xenstore: the daemon took no request for 30 s\n");
                return -ETIMEDOUT;
            }
        }
        spin_unlock_irqrestore(&ring_wq.lock, flags);
        size_t room = XENSTORE_RING_SIZE - (prod - cons);
        size_t n = len < room ? len : room;
        for (size_t i = 0; i < n; i++)
            ring->req[MASK_XENSTORE_IDX(prod + i)] = p[i];
        wmb();                  /* the bytes before the index */
        __atomic_store_n(&ring->req_prod, prod + (XENSTORE_RING_IDX)n, __ATOMIC_RELEASE);
        xen_evtchn_notify(port);
        p += n;
        len -= n;
    }
    return 0;
}

struct part { const void *p; size_t len; };

static int xs_errno(const char *name)
{
    static const struct { const char *name; int err; } names[] = {
        { "EINVAL", EINVAL }, { "EACCES", EACCES }, { "EEXIST", EEXIST },
        { "EISDIR", EISDIR }, { "ENOENT", ENOENT }, { "ENOMEM", ENOMEM },
        { "ENOSPC", ENOSPC }, { "EIO", EIO }, { "ENOTEMPTY", ENOTEMPTY },
        { "ENOSYS", ENOSYS }, { "EROFS", EROFS }, { "EBUSY", EBUSY },
        { "EAGAIN", EAGAIN }, { "EISCONN", EISCONN }, { "E2BIG", E2BIG },
        { "EPERM", EPERM },
    };
    for (size_t i = 0; i < ARRAY_SIZE(names); i++)
        if (!strcmp(name, names[i].name))
            return -names[i].err;
    pr_warn("xenstore: unknown error '%s'\n", name);
    return -EIO;
}

/* Send one request made of parts and wait for its reply, whose payload
 * goes to buf (up to len bytes). Returns the payload's full length, or
 * -errno (xenstored's error, or -ETIMEDOUT). */
static int xs_talk(uint32_t type, xs_txn_t t, const struct part *parts, int n,
                   char *buf, size_t len)
{
    if (!ring)
        return -EIO;
    struct xs_req req = { .buf = buf, .len = len };
    struct xsd_sockmsg h = { .type = type, .tx_id = t };
    for (int i = 0; i < n; i++)
        h.len += (uint32_t)parts[i].len;
    if (h.len > XENSTORE_PAYLOAD_MAX)
        return -E2BIG;

    unsigned long flags = spin_lock_irqsave(&reply_wq.lock);
    req.req_id = h.req_id = next_req_id++;
    list_add_tail(&req.link, &pending);
    spin_unlock_irqrestore(&reply_wq.lock, flags);

    mutex_lock(&tx_lock);
    int err = ring_put(&h, sizeof(h));
    for (int i = 0; i < n && !err; i++)
        err = ring_put(parts[i].p, parts[i].len);
    mutex_unlock(&tx_lock);

    flags = spin_lock_irqsave(&reply_wq.lock);
    while (!err && !req.done)
        if (!waitq_sleep_locked(&reply_wq, &flags, REQUEST_TIMEOUT_NS) && !req.done) {
            pr_err("xenstore: no reply to request type %u in 30 s\n", type);
            err = -ETIMEDOUT;
        }
    if (!req.done)
        list_del(&req.link);
    spin_unlock_irqrestore(&reply_wq.lock, flags);
    if (err)
        return err;
    if (req.type == XS_ERROR)
        return xs_errno(req.err);
    if (req.type != type) {
        pr_err("xenstore: reply of type %u to a request of type %u\n", req.type, type);
        return -EIO;
    }
    return (int)req.got;
}

/* A request whose payload is strings, each with its NUL but the last
 * (XS_WRITE's value) when with_last_nul is false. */
static int xs_talk_str(uint32_t type, xs_txn_t t, const char *a, const char *b,
                       bool last_nul, char *buf, size_t len)
{
    struct part parts[2] = {
        { a, strlen(a) + (b || last_nul ? 1 : 0) },
        { b, b ? strlen(b) + (last_nul ? 1 : 0) : 0 },
    };
    return xs_talk(type, t, parts, b ? 2 : 1, buf, len);
}

/* --- receiving ------------------------------------------------------------- */

static void deliver(const struct xsd_sockmsg *h, const char *payload)
{
    if (h->type == XS_WATCH_EVENT) {
        struct xs_event *e = kmalloc(sizeof(*e) + h->len + 1);
        if (!e) {
            pr_err("xenstore: no memory for a watch event (dropped)\n");
            return;
        }
        e->len = h->len;
        memcpy(e->data, payload, h->len);
        e->data[h->len] = 0;
        unsigned long flags = spin_lock_irqsave(&event_wq.lock);
        list_add_tail(&e->link, &events);
        spin_unlock_irqrestore(&event_wq.lock, flags);
        waitq_wake(&event_wq, -1);
        return;
    }
    unsigned long flags = spin_lock_irqsave(&reply_wq.lock);
    struct list_head *pos;
    struct xs_req *r = NULL;
    list_for_each(pos, &pending) {
        struct xs_req *q = list_entry(pos, struct xs_req, link);
        if (q->req_id == h->req_id) {
            r = q;
            break;
        }
    }
    if (r) {
        r->type = h->type;
        r->got = h->len;
        if (h->type == XS_ERROR)
            strlcpy(r->err, payload, h->len + 1 < sizeof(r->err) ? h->len + 1 : sizeof(r->err));
        else if (r->len)
            memcpy(r->buf, payload, h->len < r->len ? h->len : r->len);
        list_del(&r->link);
        r->done = true;
    }
    spin_unlock_irqrestore(&reply_wq.lock, flags);
    if (r)
        waitq_wake(&reply_wq, -1);
    else
        pr_warn("xenstore: reply to unknown request %u (dropped)\n", h->req_id);
}

static void reader(void *arg)
{
    static char msg[HDR + XENSTORE_PAYLOAD_MAX] __aligned(8);  /* read as a header */
    size_t have = 0;
    for (;;) {
        unsigned long flags = spin_lock_irqsave(&ring_wq.lock);
        XENSTORE_RING_IDX cons = ring->rsp_cons, prod;
        while ((prod = __atomic_load_n(&ring->rsp_prod, __ATOMIC_ACQUIRE)) == cons)
            waitq_sleep_locked(&ring_wq, &flags, 0);
        spin_unlock_irqrestore(&ring_wq.lock, flags);
        rmb();                  /* the index before the bytes */
        const struct xsd_sockmsg *h = (const void *)msg;
        size_t want = have < HDR ? HDR : HDR + h->len;
        size_t n = prod - cons;
        if (n > want - have)
            n = want - have;
        for (size_t i = 0; i < n; i++)
            msg[have + i] = ring->rsp[MASK_XENSTORE_IDX(cons + i)];
        have += n;
        mb();                   /* the bytes read before the slot is given back */
        __atomic_store_n(&ring->rsp_cons, cons + (XENSTORE_RING_IDX)n, __ATOMIC_RELEASE);
        xen_evtchn_notify(port);
        if (have == HDR && h->len > XENSTORE_PAYLOAD_MAX)
            panic("xenstore: message of %u bytes from the daemon (at most %u)",
                  h->len, XENSTORE_PAYLOAD_MAX);
        if (have >= HDR && have == HDR + h->len) {
            deliver(h, msg + HDR);
            have = 0;
        }
    }
}

static struct xs_watch *watch_by_token(const char *token)
{
    struct list_head *pos;
    list_for_each(pos, &watches) {
        struct xs_watch *w = list_entry(pos, struct xs_watch, link);
        if (!strcmp(w->token, token))
            return w;
    }
    return NULL;
}

static void watcher(void *arg)
{
    for (;;) {
        unsigned long flags = spin_lock_irqsave(&event_wq.lock);
        while (list_empty(&events))
            waitq_sleep_locked(&event_wq, &flags, 0);
        struct xs_event *e = list_first_entry(&events, struct xs_event, link);
        list_del(&e->link);
        spin_unlock_irqrestore(&event_wq.lock, flags);

        const char *path = e->data;
        size_t plen = strnlen(path, e->len);
        const char *token = plen < e->len ? path + plen + 1 : "";
        mutex_lock(&callback_lock);
        mutex_lock(&watches_lock);
        struct xs_watch *w = watch_by_token(token);
        mutex_unlock(&watches_lock);
        if (w)              /* else removed meanwhile */
            w->fn(w, path);
        mutex_unlock(&callback_lock);
        kfree(e);
    }
}

/* --- the API ---------------------------------------------------------------- */

int xs_init(void)
{
    uint64_t pfn, evtchn;
    if (!xen_hvm_param(HVM_PARAM_STORE_PFN, &pfn) || !pfn ||
        !xen_hvm_param(HVM_PARAM_STORE_EVTCHN, &evtchn)) {
        pr_warn("xenstore: this domain has no xenstore ring\n");
        return -ENODEV;
    }
    struct xenstore_domain_interface *r = phys_map(pfn << PAGE_SHIFT, PAGE_SIZE);
    if (!r)
        return -ENOMEM;
    port = (uint32_t)evtchn;
    ring = r;
    if (xen_evtchn_bind(port, ring_event, NULL, "xenstore") < 0) {
        ring = NULL;
        return -EIO;
    }
    struct thread *rt = thread_create("xenstore", reader, NULL, -5);
    watch_thread = thread_create("xs-watch", watcher, NULL, 0);
    if (!rt || !watch_thread) {
        ring = NULL;
        return -ENOMEM;
    }
    thread_detach(rt);
    thread_detach(watch_thread);
    /* Replies to a previous kernel's requests (kexec, none today) would
     * confuse req_id matching: xenstored drops nothing by itself, but
     * a fresh domain's ring is empty, so there is nothing to skip. */
    pr_info("xenstore: ring at pfn %#lx, event channel %u\n", (unsigned long)pfn, port);
    return 0;
}

int xs_read(xs_txn_t t, const char *path, char *buf, size_t len)
{
    if (!len)
        return -EINVAL;
    int n = xs_talk_str(XS_READ, t, path, NULL, true, buf, len - 1);
    if (n >= 0)
        buf[(size_t)n < len - 1 ? (size_t)n : len - 1] = 0;
    return n;
}

int xs_read_int(xs_txn_t t, const char *path, long *out)
{
    char buf[32];
    int n = xs_read(t, path, buf, sizeof(buf));
    if (n < 0)
        return n;
    if (n == 0 || (size_t)n >= sizeof(buf))
        return -EINVAL;
    bool neg = buf[0] == '-';
    long v = 0;
    for (const char *p = buf + neg; *p; p++) {
        if (*p < '0' || *p > '9')
            return -EINVAL;
        v = v * 10 + (*p - '0');
    }
    if (neg && !buf[1])
        return -EINVAL;
    *out = neg ? -v : v;
    return 0;
}

int xs_write(xs_txn_t t, const char *path, const char *value)
{
    char ok[4];
    int n = xs_talk_str(XS_WRITE, t, path, value, false, ok, sizeof(ok));
    return n < 0 ? n : 0;
}

int xs_printf(xs_txn_t t, const char *path, const char *fmt, ...)
{
    char value[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(value, sizeof(value), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(value))
        return -E2BIG;
    return xs_write(t, path, value);
}

int xs_directory(xs_txn_t t, const char *path, char *buf, size_t len)
{
    int n = xs_talk_str(XS_DIRECTORY, t, path, NULL, true, buf, len);
    if (n < 0)
        return n;
    if ((size_t)n > len)
        return -E2BIG;
    int count = 0;
    for (int i = 0; i < n; i++)
        count += buf[i] == 0;
    return count;
}

int xs_rm(xs_txn_t t, const char *path)
{
    char ok[4];
    int n = xs_talk_str(XS_RM, t, path, NULL, true, ok, sizeof(ok));
    return n < 0 ? n : 0;
}

int xs_txn_start(xs_txn_t *t)
{
    char id[16];
    int n = xs_talk_str(XS_TRANSACTION_START, 0, "", NULL, true, id, sizeof(id) - 1);
    if (n < 0)
        return n;
    if (n == 0 || (size_t)n >= sizeof(id))
        return -EIO;
    id[n] = 0;
    uint32_t v = 0;
    for (const char *p = id; *p; p++) {
        if (*p < '0' || *p > '9')
            return -EIO;
        v = v * 10 + (uint32_t)(*p - '0');
    }
    *t = v;
    return 0;
}

int xs_txn_end(xs_txn_t t, bool abort)
{
    char ok[4];
    int n = xs_talk_str(XS_TRANSACTION_END, t, abort ? "F" : "T", NULL, true, ok, sizeof(ok));
    return n < 0 ? n : 0;
}

int xs_watch_add(struct xs_watch *w)
{
    mutex_lock(&watches_lock);
    snprintf(w->token, sizeof(w->token), "tern%u", next_token++);
    list_add_tail(&w->link, &watches);
    mutex_unlock(&watches_lock);
    char ok[4];
    int n = xs_talk_str(XS_WATCH, 0, w->path, w->token, true, ok, sizeof(ok));
    if (n < 0) {
        mutex_lock(&watches_lock);
        list_del(&w->link);
        mutex_unlock(&watches_lock);
        return n;
    }
    return 0;
}

int xs_watch_del(struct xs_watch *w)
{
    char ok[4];
    int n = xs_talk_str(XS_UNWATCH, 0, w->path, w->token, true, ok, sizeof(ok));
    mutex_lock(&watches_lock);
    list_del(&w->link);
    mutex_unlock(&watches_lock);
    /* Wait out a callback running now (unless it is the caller). */
    if (thread_current() != watch_thread) {
        mutex_lock(&callback_lock);
        mutex_unlock(&callback_lock);
    }
    return n < 0 ? n : 0;
}
