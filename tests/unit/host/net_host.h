/*
 * Host stand-ins for the kernel side of the network stack (what
 * kernel/net/net_kernel.c and the allocator provide in the kernel), shared
 * by the stack's unit tests and its fuzz target. Include once per program.
 * The clock is fake_now, which the test moves; NET_HOST_START_NS sets
 * where it starts. Each test supplies random_u64 as it needs it.
 */
#ifndef NET_HOST_H
#define NET_HOST_H

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include <kern/kmalloc.h>
#include <kern/net.h>
#include <kern/socket.h>
#include <kern/waitq.h>

#ifndef NET_HOST_START_NS
#define NET_HOST_START_NS 0
#endif

/* A program that defines NET_HOST_OWN_ALLOCATOR supplies kmalloc, kzalloc
 * and kfree itself (the fuzzer fills and tracks allocations). */
#ifndef NET_HOST_OWN_ALLOCATOR
void *kmalloc(size_t n) { return malloc(n ? n : 1); }
void *kzalloc(size_t n) { return calloc(1, n ? n : 1); }
void kfree(void *p) { free(p); }
/* glibc's (and the sanitizers') answer: what reassembly accounts. */
size_t kmalloc_usable_size(const void *p) { return p ? malloc_usable_size((void *)p) : 0; }
#endif
void waitq_init(struct waitq *wq) { (void)wq; }

static uint64_t fake_now = NET_HOST_START_NS;
static int wakeups;                     /* sock_wakeup calls */
void net_lock(void) {}
void net_unlock(void) {}
uint64_t net_now_ns(void) { return fake_now; }
/* Nothing else runs, so a wait would never end: report a timeout. */
bool net_wait(struct sock *s, uint64_t timeout_ns) { (void)s; (void)timeout_ns; return false; }
void sock_wakeup(struct sock *s) { (void)s; wakeups++; }
bool sock_nonblocking(const struct sock *s) { (void)s; return true; }

/* a.b.c.d in network order */
static inline uint32_t ip4(int a, int b, int c, int d)
{
    uint8_t x[4] = { (uint8_t)a, (uint8_t)b, (uint8_t)c, (uint8_t)d };
    uint32_t v;
    memcpy(&v, x, 4);
    return v;
}

#endif
