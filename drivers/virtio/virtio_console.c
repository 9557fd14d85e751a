/*
 * virtio-console (Virtio 1.2, 5.3) in multiport mode: named ports that carry
 * the app's standard input, output and error apart from the kernel log.
 *
 * The host (tern run) adds ports named
 *   tern.stdin   host -> app, descriptor 0; the host closing it is EOF
 *   tern.stdout  app -> host, descriptor 1
 *   tern.stderr  app -> host, descriptor 2
 *   tern.ctl     host -> kernel: any byte asks the app to stop (tern stop)
 * and this driver registers each one the host has open with kern/appio.h.
 * Bytes go through as they are: no newline translation, unlike a serial
 * console. A machine without the device (a plain QEMU command line, an old
 * libvirt domain) keeps the console for all three.
 *
 * Why multiport rather than one console port per stream: one device carries
 * every stream with its name, whatever the machine (PCI on x86, mmio or PCI
 * on Arm), and the host's close of a port reaches the guest as a control
 * event, which is what end-of-file on stdin needs.
 *
 * Every port is discovered at probe time, before the app starts: the driver
 * says DEVICE_READY, the device answers with a PORT_ADD per port, and after
 * our PORT_READY a PORT_NAME and (when the host side is connected) a
 * PORT_OPEN for each. Later control events (a host closing tern.stdin) are
 * picked up by whoever waits on a port.
 *
 * Locking: vc->wq.lock guards every queue and the ports' state; the
 * interrupt handler only wakes vc->wq and notifies the files. App memory
 * is copied outside that lock, under a port's reader or writer mutex.
 */
#include <arch/mm.h>
#include <kern/appio.h>
#include <kern/errno.h>
#include <kern/file.h>
#include <kern/kmalloc.h>
#include <kern/page_alloc.h>
#include <kern/printf.h>
#include <kern/printk.h>
#include <kern/string.h>
#include <kern/thread.h>
#include <kern/timer.h>
#include <kern/waitq.h>
#include "virtio.h"
#include "virtqueue.h"

/* 5.3.3 Feature bits. */
#define VIRTIO_CONSOLE_F_MULTIPORT 1

/* 5.3.4 Device configuration layout: max_nr_ports after cols, rows. */
#define VIRTIO_CONSOLE_CFG_MAX_NR_PORTS 4

/* 5.3.6.2 Multiport Device Operation: control events. */
#define VIRTIO_CONSOLE_DEVICE_READY  0
#define VIRTIO_CONSOLE_DEVICE_ADD    1
#define VIRTIO_CONSOLE_DEVICE_REMOVE 2
#define VIRTIO_CONSOLE_PORT_READY    3
#define VIRTIO_CONSOLE_CONSOLE_PORT  4
#define VIRTIO_CONSOLE_RESIZE        5
#define VIRTIO_CONSOLE_PORT_OPEN     6
#define VIRTIO_CONSOLE_PORT_NAME     7

struct virtio_console_control {
    uint32_t id;                    /* port number */
    uint16_t event;
    uint16_t value;
};

/* Ports beyond this are left alone (tern adds four). */
#define MAX_PORTS       8
#define CTRL_BUFS       64          /* QEMU drops control messages with no buffer */
#define CTRL_BUF_SIZE   128
#define RX_BUFS         8           /* pages posted on a receiving port */
#define TX_ORDER        2           /* a write goes out in pieces of 16 KiB */
/* Discovery at probe: how long the device may take to answer at all, and
 * how long it must stay quiet once every port has a name. */
#define DISCOVER_NS     (2ull * 1000000000)
#define QUIET_NS        (20ull * 1000000)

enum role { ROLE_NONE = -1, ROLE_STDIN, ROLE_STDOUT, ROLE_STDERR, ROLE_CTL };

static const char *const role_names[] = { "tern.stdin", "tern.stdout", "tern.stderr",
                                          "tern.ctl" };

struct vcon;

struct vport {
    struct vcon *vc;
    unsigned id;
    bool added, named, host_open, used;
    enum role role;
    char name[32];
    struct virtqueue *rxq, *txq;
    struct appio io;
    struct mutex rlock, wlock;
    /* Receiving: the buffer being read from, its length and our offset. */
    char *cur;
    uint32_t cur_len, cur_off;
    /* Sending: one bounce buffer (app memory may not stay mapped). */
    char *txbuf;
};

struct vcon {
    struct virtio_dev *vd;
    struct virtqueue *cin, *cout;   /* control: device -> driver, driver -> device */
    char *cin_bufs;                 /* CTRL_BUFS x CTRL_BUF_SIZE */
    struct virtio_console_control *cout_msg;
    struct waitq wq;                /* everyone waiting on the device */
    unsigned nports;                /* queues exist for ports 0 .. nports-1 */
    struct vport ports[MAX_PORTS];
    struct thread *ctl_thread;
    uint64_t last_event_ns;
};

/* Queue numbers (5.3.2): port 0 has 0 and 1, control 2 and 3, port n >= 1
 * has 2n+2 (receive) and 2n+3 (transmit). */
static unsigned rx_queue(unsigned port)
{
    return port == 0 ? 0 : 2 * port + 2;
}

/* ------------------------------------------------------------ control ---- */

static void vcon_irq(void *arg)
{
    struct vcon *vc = arg;
    waitq_wake(&vc->wq, -1);
    for (unsigned i = 0; i < vc->nports; i++) {
        struct kfile *f = vc->ports[i].io.file;
        if (f)
            kfile_notify(f, 0);
    }
}

/* Post control buffer cookie (its address) on cin. Under the lock. */
static void post_ctrl(struct vcon *vc, char *buf)
{
    struct vq_seg sg = { virt_to_phys(buf), CTRL_BUF_SIZE };
    vq_add(vc->cin, &sg, 0, 1, buf);
}

/* Send one control message and wait until the device has taken it. At
 * probe time and under no lock: only the prober sends. */
static void send_ctrl(struct vcon *vc, unsigned id, unsigned event, unsigned value)
{
    unsigned long flags = spin_lock_irqsave(&vc->wq.lock);
    *vc->cout_msg = (struct virtio_console_control){ id, (uint16_t)event, (uint16_t)value };
    struct vq_seg sg = { virt_to_phys(vc->cout_msg), sizeof(*vc->cout_msg) };
    vq_add(vc->cout, &sg, 1, 0, vc->cout_msg);
    vq_kick(vc->cout);
    uint64_t deadline = clock_monotonic_ns() + DISCOVER_NS;
    uint32_t len;
    while (!vq_get_used(vc->cout, &len)) {
        if (vq_enable_cb(vc->cout))
            continue;
        if (!waitq_sleep_locked(&vc->wq, &flags, 10000000) &&
            clock_monotonic_ns() > deadline) {
            pr_warn("virtio-console: the device did not take control message %u\n", event);
            break;
        }
    }
    spin_unlock_irqrestore(&vc->wq.lock, flags);
}

static struct vport *port_of(struct vcon *vc, uint32_t id)
{
    return id < vc->nports ? &vc->ports[id] : NULL;
}

/*
 * Handle the control messages that have arrived; under the lock. Replies
 * (PORT_READY) are only needed during discovery, so they are collected in
 * *ready (a bit per port) for the prober to send.
 */
static void handle_ctrl(struct vcon *vc, uint32_t *ready)
{
    char *buf;
    uint32_t len;
    while ((buf = vq_get_used(vc->cin, &len))) {
        struct virtio_console_control c;
        if (len >= sizeof(c)) {
            memcpy(&c, buf, sizeof(c));
            struct vport *p = port_of(vc, c.id);
            vc->last_event_ns = clock_monotonic_ns();
            switch (c.event) {
            case VIRTIO_CONSOLE_DEVICE_ADD:
                if (p && !p->added) {
                    p->added = true;
                    if (ready)
                        *ready |= 1u << c.id;
                }
                break;
            case VIRTIO_CONSOLE_DEVICE_REMOVE:
                if (p) {
                    p->added = false;
                    p->host_open = false;
                }
                break;
            case VIRTIO_CONSOLE_PORT_NAME:
                if (p) {
                    size_t n = MIN((size_t)len - sizeof(c), sizeof(p->name) - 1);
                    memcpy(p->name, buf + sizeof(c), n);
                    p->name[n] = 0;
                    p->named = true;
                }
                break;
            case VIRTIO_CONSOLE_PORT_OPEN:
                if (p)
                    p->host_open = c.value != 0;
                break;
            default:                    /* CONSOLE_PORT, RESIZE: not used */
                break;
            }
        }
        post_ctrl(vc, buf);
    }
    vq_kick(vc->cin);
}

/* ----------------------------------------------------------- the ports ---- */

/* Post a receive buffer; under the lock. */
static void post_rx(struct vport *p, char *page)
{
    struct vq_seg sg = { virt_to_phys(page), PAGE_SIZE };
    vq_add(p->rxq, &sg, 0, 1, page);
}

/* Bytes (or the end) ready to read; under the lock. */
static bool rx_ready(struct vport *p)
{
    handle_ctrl(p->vc, NULL);
    return p->cur || vq_has_used(p->rxq) || !p->host_open;
}

static int64_t port_read(struct appio *io, void *buf, size_t n, bool nonblock)
{
    struct vport *p = container_of(io, struct vport, io);
    struct vcon *vc = p->vc;
    mutex_lock(&p->rlock);
    unsigned long flags = spin_lock_irqsave(&vc->wq.lock);
    for (;;) {
        if (!p->cur) {
            uint32_t len;
            char *page = vq_get_used(p->rxq, &len);
            if (page && len == 0) {     /* nothing in it: give it back */
                post_rx(p, page);
                vq_kick(p->rxq);
                continue;
            }
            if (page) {
                p->cur = page;
                p->cur_len = MIN(len, (uint32_t)PAGE_SIZE);
                p->cur_off = 0;
            }
        }
        if (p->cur)
            break;
        handle_ctrl(vc, NULL);
        if (!p->host_open) {            /* drained, and the host closed it */
            spin_unlock_irqrestore(&vc->wq.lock, flags);
            mutex_unlock(&p->rlock);
            return 0;
        }
        if (nonblock) {
            spin_unlock_irqrestore(&vc->wq.lock, flags);
            mutex_unlock(&p->rlock);
            return -EAGAIN;
        }
        /* Either queue may bring news: data, or the host's close. */
        bool more = vq_enable_cb(p->rxq);
        more |= vq_enable_cb(vc->cin);
        if (!more)
            waitq_sleep_locked(&vc->wq, &flags, 0);
    }
    spin_unlock_irqrestore(&vc->wq.lock, flags);

    /* Only this reader touches cur (rlock): copy to the app unlocked. */
    size_t k = MIN(n, (size_t)(p->cur_len - p->cur_off));
    memcpy(buf, p->cur + p->cur_off, k);
    p->cur_off += (uint32_t)k;
    if (p->cur_off == p->cur_len) {
        flags = spin_lock_irqsave(&vc->wq.lock);
        post_rx(p, p->cur);
        vq_kick(p->rxq);
        p->cur = NULL;
        spin_unlock_irqrestore(&vc->wq.lock, flags);
    }
    mutex_unlock(&p->rlock);
    return (int64_t)k;
}

static int64_t port_write(struct appio *io, const void *buf, size_t n)
{
    struct vport *p = container_of(io, struct vport, io);
    struct vcon *vc = p->vc;
    size_t done = 0;
    mutex_lock(&p->wlock);
    while (done < n) {
        size_t k = MIN(n - done, (size_t)PAGE_SIZE << TX_ORDER);
        memcpy(p->txbuf, (const char *)buf + done, k);
        unsigned long flags = spin_lock_irqsave(&vc->wq.lock);
        struct vq_seg sg = { virt_to_phys(p->txbuf), (uint32_t)k };
        vq_add(p->txq, &sg, 1, 0, p->txbuf);
        vq_kick(p->txq);
        /* The bounce buffer is reused: wait until the device has it. The
         * host reading slowly holds the app back, as a full pipe would. */
        uint32_t len;
        while (!vq_get_used(p->txq, &len))
            if (!vq_enable_cb(p->txq))
                waitq_sleep_locked(&vc->wq, &flags, 0);
        spin_unlock_irqrestore(&vc->wq.lock, flags);
        done += k;
    }
    mutex_unlock(&p->wlock);
    return (int64_t)n;
}

static unsigned port_poll(struct appio *io)
{
    struct vport *p = container_of(io, struct vport, io);
    if (p->role != ROLE_STDIN)
        return POLLOUT | POLLWRNORM;
    unsigned long flags = spin_lock_irqsave(&p->vc->wq.lock);
    bool r = rx_ready(p);
    /* A poller sleeps until the interrupt handler notifies the file. */
    if (!r) {
        vq_enable_cb(p->rxq);
        vq_enable_cb(p->vc->cin);
        r = rx_ready(p);
    }
    spin_unlock_irqrestore(&p->vc->wq.lock, flags);
    return r ? POLLIN | POLLRDNORM : 0;
}

/* tern.ctl: any byte from the host is a request to stop the app. */
static void ctl_thread(void *arg)
{
    struct vport *p = arg;
    struct vcon *vc = p->vc;
    unsigned long flags = spin_lock_irqsave(&vc->wq.lock);
    uint32_t len;
    char *page;
    while (!(page = vq_get_used(p->rxq, &len)) || len == 0) {
        if (page) {
            post_rx(p, page);
            vq_kick(p->rxq);
        }
        handle_ctrl(vc, NULL);          /* recycles the control buffers too */
        bool more = vq_enable_cb(p->rxq);
        more |= vq_enable_cb(vc->cin);
        if (!more)
            waitq_sleep_locked(&vc->wq, &flags, 0);
    }
    spin_unlock_irqrestore(&vc->wq.lock, flags);
    appio_host_stop();
}

/* ------------------------------------------------------------- probe ---- */

static struct virtqueue *queue(struct vcon *vc, unsigned index, unsigned size)
{
    unsigned max = virtio_queue_max(vc->vd, index);
    if (!max)
        return NULL;
    unsigned qsize = 1;
    while (qsize * 2 <= MIN(max, size))
        qsize *= 2;
    struct virtqueue *vq = vq_create((uint16_t)qsize, (uint16_t)index, 0, 0);
    if (vq && virtio_queue_enable(vc->vd, index, vq, 0) < 0) {
        vq_destroy(vq);
        return NULL;
    }
    return vq;
}

static int setup(struct vcon *vc)
{
    struct virtio_dev *vd = vc->vd;
    int r = virtio_negotiate(vd, VIRTIO_BIT(VIRTIO_CONSOLE_F_MULTIPORT));
    if (r < 0)
        return r;
    if (!virtio_has(vd, VIRTIO_CONSOLE_F_MULTIPORT)) {
        pr_warn("virtio-console %s: no multiport support; device ignored\n", vd->where);
        return -ENODEV;
    }
    if (vd->num_irqs == 0) {
        pr_warn("virtio-console %s: no MSI-X; device ignored\n", vd->where);
        return -ENODEV;
    }
    uint32_t max_ports = 0;
    virtio_config_read(vd, VIRTIO_CONSOLE_CFG_MAX_NR_PORTS, &max_ports, 4);
    vc->nports = MIN(max_ports, (uint32_t)MAX_PORTS);
    if ((r = virtio_irq(vd, 0, vcon_irq, vc, "virtio-console")) < 0)
        return r;

    paddr_t cpa = page_alloc(1);        /* 64 x 128 bytes = 2 pages */
    paddr_t mpa = page_alloc(0);
    vc->cin = queue(vc, 2, CTRL_BUFS);
    vc->cout = queue(vc, 3, 8);
    if (!cpa || !mpa || !vc->cin || !vc->cout)
        return -ENOMEM;
    vc->cin_bufs = phys_to_virt(cpa);
    vc->cout_msg = phys_to_virt(mpa);
    for (unsigned i = 0; i < vc->nports; i++) {
        struct vport *p = &vc->ports[i];
        p->vc = vc;
        p->id = i;
        p->role = ROLE_NONE;
        mutex_init(&p->rlock);
        mutex_init(&p->wlock);
        p->rxq = queue(vc, rx_queue(i), RX_BUFS);
        p->txq = queue(vc, rx_queue(i) + 1, 4);
        if (!p->rxq || !p->txq)
            return -ENOMEM;
    }
    unsigned long flags = spin_lock_irqsave(&vc->wq.lock);
    for (unsigned i = 0; i < MIN((unsigned)CTRL_BUFS, (unsigned)vc->cin->size); i++)
        post_ctrl(vc, vc->cin_bufs + i * CTRL_BUF_SIZE);
    vq_kick(vc->cin);
    spin_unlock_irqrestore(&vc->wq.lock, flags);
    return 0;
}

/* DEVICE_READY, then every port's PORT_ADD, PORT_NAME and PORT_OPEN. */
static void discover(struct vcon *vc)
{
    send_ctrl(vc, 0, VIRTIO_CONSOLE_DEVICE_READY, 1);
    uint64_t start = clock_monotonic_ns();
    for (;;) {
        uint32_t ready = 0;
        unsigned long flags = spin_lock_irqsave(&vc->wq.lock);
        handle_ctrl(vc, &ready);
        bool any = false, all_named = true;
        for (unsigned i = 0; i < vc->nports; i++) {
            any |= vc->ports[i].added;
            if (vc->ports[i].added && !vc->ports[i].named)
                all_named = false;
        }
        uint64_t now = clock_monotonic_ns();
        bool done = (any && all_named && now - vc->last_event_ns > QUIET_NS) ||
                    now - start > DISCOVER_NS;
        if (!done && !ready && !vq_enable_cb(vc->cin))
            waitq_sleep_locked(&vc->wq, &flags, QUIET_NS);
        spin_unlock_irqrestore(&vc->wq.lock, flags);
        for (unsigned i = 0; i < vc->nports; i++)
            if (ready & (1u << i))
                send_ctrl(vc, i, VIRTIO_CONSOLE_PORT_READY, 1);
        if (done)
            break;
    }
}

/* Give each tern.* port the host has open its role. */
static void claim_ports(struct vcon *vc)
{
    for (unsigned i = 0; i < vc->nports; i++) {
        struct vport *p = &vc->ports[i];
        if (!p->added || !p->named)
            continue;
        for (int r = 0; r < (int)ARRAY_SIZE(role_names); r++)
            if (!strcmp(p->name, role_names[r]))
                p->role = (enum role)r;
        if (p->role == ROLE_NONE) {
            pr_info("virtio-console: port %u '%s' is not one of Tern's; left alone\n", i,
                    p->name);
            continue;
        }
        /* tern.ctl is connected only when the host has a request (tern
         * stop): listen on it all the same. */
        if (!p->host_open && p->role != ROLE_CTL) {
            pr_info("virtio-console: port %s is not connected on the host; the console "
                    "stays in its place\n", p->name);
            continue;
        }
        if (p->role == ROLE_STDIN || p->role == ROLE_CTL) {
            unsigned long flags = spin_lock_irqsave(&vc->wq.lock);
            for (unsigned b = 0; b < MIN((unsigned)RX_BUFS, (unsigned)p->rxq->size); b++) {
                paddr_t pa = page_alloc(0);
                if (pa)
                    post_rx(p, phys_to_virt(pa));
            }
            vq_kick(p->rxq);
            spin_unlock_irqrestore(&vc->wq.lock, flags);
        } else {
            paddr_t pa = page_alloc(TX_ORDER);
            if (!pa) {
                pr_warn("virtio-console: out of memory for %s\n", p->name);
                continue;
            }
            p->txbuf = phys_to_virt(pa);
        }
        /* The guest side opens: QEMU sends nothing to a closed port. */
        send_ctrl(vc, i, VIRTIO_CONSOLE_PORT_OPEN, 1);
        p->used = true;
        if (p->role == ROLE_CTL) {
            vc->ctl_thread = thread_create("tern.ctl", ctl_thread, p, 0);
            continue;
        }
        p->io.read = p->role == ROLE_STDIN ? port_read : NULL;
        p->io.write = p->role == ROLE_STDIN ? NULL : port_write;
        p->io.poll = port_poll;
        appio_register((int)p->role, &p->io);
    }
}

int virtio_console_probe(struct virtio_dev *vd)
{
    struct vcon *vc = kzalloc(sizeof(*vc));
    if (!vc)
        return -ENOMEM;
    vc->vd = vd;
    waitq_init(&vc->wq);
    virtio_begin(vd);
    int r = setup(vc);
    if (r < 0) {
        virtio_fail(vd);
        if (r != -ENODEV)
            pr_err("virtio-console %s: setup failed (%d)\n", vd->where, r);
        return r;
    }
    virtio_driver_ok(vd);
    discover(vc);
    claim_ports(vc);
    char names[128] = "";
    for (unsigned i = 0; i < vc->nports; i++)
        if (vc->ports[i].used)
            snprintf(names + strlen(names), sizeof(names) - strlen(names), " %s",
                     vc->ports[i].name);
    pr_info("virtio-console at %s: %u ports; the app's channels:%s\n", vd->where, vc->nports,
            names[0] ? names : " none");
    return 0;
}
