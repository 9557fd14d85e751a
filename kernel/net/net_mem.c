/*
 * The stack's memory budget, after Linux's tcp_mem pressure model. Every
 * byte the stack keeps on behalf of a peer or an app — TCP receive rings
 * (in-order and out-of-order data), copied send chunks, connection
 * blocks — is charged here. Three marks, set from the memory the kernel
 * had free when the network came up:
 *
 *   below "pressure"  buffers grow as connections need them;
 *   above "pressure"  nothing grows beyond what it has; empty receive
 *                     rings are given back; windows offer only what is
 *                     already allocated;
 *   above "high"      new charges fail: new connections are answered
 *                     with SYN cookies (no state) or dropped, data that
 *                     needs a new buffer is dropped (the peer sends it
 *                     again), senders wait for memory.
 *
 * A connection may always hold its minimum (a small receive ring and a
 * few send chunks) even above "high", or it could never make progress;
 * those forced charges stop at "limit", a quarter of the memory, so that
 * whatever the network does, the app keeps the rest. Nothing here may
 * fail the app: the stack's answer to "no memory" is always to drop a
 * packet or make a sender wait, never to take the app's pages.
 *
 * Runs under net_lock.
 */
#include <kern/printk.h>
#include "net_internal.h"
#include "tcp.h"

/* Defaults until net_mem_configure (host tests): a 128 MiB guest's. */
static struct net_mem_state {
    uint64_t used, peak;
    uint64_t pressure, high, limit;
    bool in_pressure;                   /* above "pressure" since the last fall below */
    bool waiters;                       /* a sender waits for memory */
    bool reopen;                        /* pressure ended: windows may open again */
    bool warned;
} mem = {
    .pressure = 8ULL << 20,
    .high = 12ULL << 20,
    .limit = 28ULL << 20,
};

struct net_mem_counters net_mem_stats;

void net_mem_configure(uint64_t free_bytes)
{
    /* Linux gives TCP about 1/16 of memory before pressure and 3/32
     * above it; this stack is the app's only way to the world, so a
     * little more: 1/12 and 1/8, and forced minimums stop at 1/4. */
    mem.pressure = free_bytes / 12;
    mem.high = free_bytes / 8;
    mem.limit = free_bytes / 4;
}

static void update_pressure(void)
{
    bool over = mem.used > mem.pressure;
    if (over && !mem.in_pressure)
        net_mem_stats.pressure_events++;
    if (!over && mem.in_pressure)
        mem.reopen = true;
    mem.in_pressure = over;
}

/* Charge n unless that takes the stack past ceiling. */
static bool charge_below(uint64_t n, uint64_t ceiling)
{
    if (mem.used + n > ceiling) {
        net_mem_stats.charge_failures++;
        return false;
    }
    mem.used += n;
    if (mem.used > mem.peak)
        mem.peak = mem.used;
    update_pressure();
    return true;
}

bool net_mem_charge(uint64_t n)
{
    return charge_below(n, mem.high);
}

bool net_mem_charge_min(uint64_t n)
{
    return charge_below(n, mem.limit);
}

void net_mem_uncharge(uint64_t n)
{
    mem.used = n > mem.used ? 0 : mem.used - n;
    update_pressure();
    /* Senders that waited for memory try again once there is room for
     * more than a trickle (below "pressure"), not at every freed byte. */
    if (mem.waiters && !mem.in_pressure) {
        mem.waiters = false;
        tcp_mem_available();
    }
}

void net_mem_tick(void)
{
    /* A poller that found no room may have raced a free that saw no
     * waiter yet: look again every tick. */
    if (mem.waiters && !mem.in_pressure) {
        mem.waiters = false;
        tcp_mem_available();
    }
    /* Windows offered small under pressure only grow when the app reads;
     * an app that already read everything would leave the peer on
     * zero-window probes. */
    if (mem.reopen && !mem.in_pressure) {
        mem.reopen = false;
        tcp_windows_reopen();
    }
}

bool net_mem_pressure(void)
{
    return mem.in_pressure;
}

bool net_mem_over_high(void)
{
    return mem.used >= mem.high;
}

bool net_mem_room(uint64_t n)
{
    return mem.used + n <= mem.high;
}

void net_mem_wait(void)
{
    mem.waiters = true;
}

void net_mem_dropped(const char *what)
{
    net_mem_stats.drops++;
    if (!mem.warned) {
        mem.warned = true;
        pr_warn("net: memory budget exhausted (%llu KiB of %llu KiB in use): dropping %s; "
                "counted as MemDrops in /proc/net/netstat\n",
                (unsigned long long)(mem.used >> 10), (unsigned long long)(mem.high >> 10),
                what);
    }
}

void net_mem_usage(struct net_mem_usage *u)
{
    u->used = mem.used;
    u->peak = mem.peak;
    u->pressure = mem.pressure;
    u->high = mem.high;
    u->limit = mem.limit;
}
