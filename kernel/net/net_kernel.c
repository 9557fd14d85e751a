/*
 * The stack in the kernel: its lock, clock and timer thread, how sockets
 * sleep and wake, and the interface configuration from the image's
 * /.tern/manifest. (Host unit tests supply their own versions of these.)
 */
#include <kern/errno.h>
#include <kern/file.h>
#include <kern/kmalloc.h>
#include <kern/net.h>
#include <kern/options.h>
#include <kern/page_alloc.h>
#include <kern/printk.h>
#include <kern/socket.h>
#include <kern/thread.h>
#include <kern/timer.h>
#include <kern/waitq.h>
#include <arch/mm.h>
#include "net_internal.h"
#include "tcp.h"

static struct mutex net_mutex = MUTEX_INIT(net_mutex);

void net_lock(void)
{
    mutex_lock(&net_mutex);
}

void net_unlock(void)
{
    mutex_unlock(&net_mutex);
}

uint64_t net_now_ns(void)
{
    return clock_monotonic_ns();
}

bool net_wait(struct sock *s, uint64_t timeout_ns)
{
    /* The socket's queue lock is taken before the stack lock is dropped,
     * so a wakeup between the caller's check and the sleep is not lost:
     * the waker needs the stack lock to change anything, then this lock
     * to wake us, and by then we are on the queue. */
    unsigned long flags = spin_lock_irqsave(&s->wait.lock);
    net_unlock();
    bool woken = waitq_sleep_locked(&s->wait, &flags, timeout_ns);
    spin_unlock_irqrestore(&s->wait.lock, flags);
    net_lock();
    return woken;
}

void sock_wakeup(struct sock *s)
{
    waitq_wake(&s->wait, -1);
    if (s->file)
        kfile_notify(s->file, 0);
}

bool sock_nonblocking(const struct sock *s)
{
    return s->file && (s->file->flags & O_NONBLOCK);
}

static void net_timer_thread(void *arg)
{
    for (;;) {
        thread_sleep_ns(NET_TICK_NS);
        net_lock();
        net_tick();
        net_unlock();
    }
}

void net_drain_output(uint64_t timeout_ns)
{
    uint64_t end = clock_monotonic_ns() + timeout_ns;
    for (;;) {
        net_lock();
        bool pending = tcp_output_unacked();
        net_unlock();
        if (!pending || clock_monotonic_ns() >= end)
            return;
        thread_sleep_ns(NET_TICK_NS);
    }
}

void net_start_timers(void)
{
    static bool started;
    if (started)
        return;
    started = true;
    /* The stack's budget is a share of what is free now, before the app
     * is loaded: the network cannot take the app's memory (net_mem.c). */
    struct page_stats ps;
    page_alloc_stats(&ps);
    net_lock();
    net_mem_configure(ps.free_pages * PAGE_SIZE);
    tcp_zc_copy_max = (size_t)kopt.zcopy_copy_max;
    net_unlock();
    struct thread *t = thread_create("net-timer", net_timer_thread, NULL, 0);
    if (t)
        thread_detach(t);
}
