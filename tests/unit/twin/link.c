/*
 * The twin harness's wire and clock (twin.h). Frames a side sends become
 * events on a heap ordered by time (then by creation, so that ties are
 * broken the same way every run); the clock jumps from event to event,
 * with the stacks' tick every NET_TICK_NS in between. Everything random
 * comes from one xorshift PRNG seeded by the test, drawn a fixed number of
 * times per frame, so a seed replays exactly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kern/byteorder.h>

#include "twin.h"

#ifndef NET_TICK_NS
#define NET_TICK_NS (10ULL * 1000000)
#endif

const struct twin_side twin_sides[2] = {
#define SIDE(p, c) { .name = c, .init = p##side_init, .input = p##side_input, \
                     .tick = p##side_tick, .set_clock = p##side_set_clock, \
                     .complete = p##side_complete, .tx_room = p##side_tx_room, \
                     .has_tcp = p##side_has_tcp, .zc_seal = p##side_zc_seal, \
                     .udp_socket = p##side_udp_socket, .tcp_socket = p##side_tcp_socket, \
                     .ping_socket = p##side_ping_socket, .arp_lookup = p##side_arp_lookup, \
                     .netif = p##side_netif }
    SIDE(a_, 'a'),
    SIDE(b_, 'b'),
#undef SIDE
};

enum ev_kind { EV_FRAME, EV_COMPLETE };

struct event {
    uint64_t at, order;
    enum ev_kind kind;
    int side;                           /* FRAME: the receiver; COMPLETE: the device's side */
    void *nb;                           /* COMPLETE */
    uint64_t hash;                      /* COMPLETE */
    bool csum_ok;                       /* FRAME: not corrupted on the way */
    uint32_t len;
    uint8_t data[];
};

static struct event **heap;
static size_t nheap, heap_cap;
static uint64_t next_order;

static bool started;
static uint64_t now, next_tick, seed, rng_state;
static struct twin_link_cfg link_cfg;
static struct twin_stats stats;
static twin_tap_fn tap;
static void *tap_arg;
static twin_rx_tap_fn rx_tap;
static void *rx_tap_arg;

/* Per direction (by sender): when the serializer is free, and the
 * departure times of the frames still waiting for it (ascending). */
static uint64_t busy_until[2];
static uint64_t *departures[2];
static size_t ndep[2], dep_cap[2];

/* Per side: frames the device holds until their completion event, and
 * whether it refused one meanwhile (then it tells the stack when room
 * comes back, as a virtio interrupt would). */
static unsigned held[2];
static bool refused_since[2];

static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dULL;
}

/* true with probability ppm / 10^6, from the draw r */
static bool chance(uint64_t r, uint32_t ppm)
{
    return ppm && r % 1000000 < ppm;
}

static bool ev_before(const struct event *x, const struct event *y)
{
    return x->at != y->at ? x->at < y->at : x->order < y->order;
}

static void heap_push(struct event *e)
{
    if (nheap == heap_cap) {
        heap_cap = heap_cap ? heap_cap * 2 : 256;
        heap = realloc(heap, heap_cap * sizeof(*heap));
    }
    e->order = next_order++;
    size_t i = nheap++;
    while (i && ev_before(e, heap[(i - 1) / 2])) {
        heap[i] = heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    heap[i] = e;
}

static struct event *heap_pop(void)
{
    struct event *top = heap[0], *last = heap[--nheap];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= nheap)
            break;
        if (c + 1 < nheap && ev_before(heap[c + 1], heap[c]))
            c++;
        if (!ev_before(heap[c], last))
            break;
        heap[i] = heap[c];
        i = c;
    }
    if (nheap)
        heap[i] = last;
    return top;
}

static void digest(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        stats.digest = (stats.digest ^ b[i]) * 0x100000001b3ULL;
}

static void set_clock(uint64_t t)
{
    now = t;
    twin_sides[0].set_clock(t);
    twin_sides[1].set_clock(t);
}

/* ---- the device half (called by side.c) --------------------------------------- */

bool twin_dev_can_xmit(int side)
{
    if (link_cfg.tx_ring && held[side] >= link_cfg.tx_ring) {
        stats.refused[side]++;
        refused_since[side] = true;
        return false;
    }
    return true;
}

static void schedule_frame(int to, const uint8_t *frame, uint32_t len, uint64_t at,
                           bool corrupt, uint64_t where)
{
    struct event *e = malloc(sizeof(*e) + len);
    e->at = at;
    e->kind = EV_FRAME;
    e->side = to;
    e->nb = NULL;
    e->csum_ok = !corrupt;
    e->len = len;
    memcpy(e->data, frame, len);
    if (corrupt && len > ETH_HLEN)
        e->data[ETH_HLEN + where % (len - ETH_HLEN)] ^= (uint8_t)(1u << (where >> 32) % 8);
    heap_push(e);
}

void twin_dev_wire(int side, const uint8_t *frame, uint32_t len)
{
    int to = !side;
    stats.sent[side]++;
    digest(&now, sizeof(now));
    digest(&side, sizeof(side));
    digest(frame, len);
    /* Every draw is made for every frame, so that changing one knob does
     * not change what the others do to the same seed. */
    uint64_t r_loss = rng(), r_reorder = rng(), r_dup = rng(), r_corrupt = rng(),
             r_where = rng(), r_jitter = rng();
    if (tap && tap(side, frame, len, tap_arg)) {
        stats.tapped[side]++;
        return;
    }
    if (link_cfg.cut) {
        stats.cut[side]++;
        return;
    }
    if (chance(r_loss, link_cfg.loss_ppm)) {
        stats.lost[side]++;
        return;
    }
    /* The bottleneck: a queue in front of a serializer of bandwidth_bps. */
    size_t k = 0;
    while (k < ndep[side] && departures[side][k] <= now)
        k++;
    if (k) {
        memmove(departures[side], departures[side] + k, (ndep[side] - k) * sizeof(uint64_t));
        ndep[side] -= k;
    }
    if (link_cfg.queue_frames && ndep[side] >= link_cfg.queue_frames) {
        stats.queue_drops[side]++;
        return;
    }
    uint64_t depart = now;
    if (link_cfg.bandwidth_bps) {
        uint64_t start = busy_until[side] > now ? busy_until[side] : now;
        depart = start + (uint64_t)len * 8 * 1000000000ULL / link_cfg.bandwidth_bps;
        busy_until[side] = depart;
        if (ndep[side] == dep_cap[side]) {
            dep_cap[side] = dep_cap[side] ? dep_cap[side] * 2 : 64;
            departures[side] = realloc(departures[side], dep_cap[side] * sizeof(uint64_t));
        }
        departures[side][ndep[side]++] = depart;
    }
    uint64_t at = depart + link_cfg.delay_ns;
    if (link_cfg.jitter_ns)
        at += r_jitter % (link_cfg.jitter_ns + 1);
    if (chance(r_reorder, link_cfg.reorder_ppm)) {
        stats.reordered[side]++;
        at += link_cfg.reorder_ns;
    }
    bool corrupt = chance(r_corrupt, link_cfg.corrupt_ppm);
    if (corrupt)
        stats.corrupted[side]++;
    schedule_frame(to, frame, len, at, corrupt, r_where);
    if (chance(r_dup, link_cfg.dup_ppm)) {
        stats.dups[side]++;
        schedule_frame(to, frame, len, at + 1000, false, 0);
    }
}

bool twin_dev_hold(int side, void *nb, uint64_t hash)
{
    if (!link_cfg.complete_ns)
        return false;
    struct event *e = malloc(sizeof(*e));
    e->at = now + link_cfg.complete_ns;
    e->kind = EV_COMPLETE;
    e->side = side;
    e->nb = nb;
    e->hash = hash;
    e->len = 0;
    heap_push(e);
    held[side]++;
    if (held[side] > stats.held_max[side])
        stats.held_max[side] = held[side];
    return true;
}

void twin_dev_error(int side, const char *what)
{
    stats.dev_errors[side]++;
    printf("  twin: side %c device error at %llu ns: %s\n", twin_sides[side].name,
           (unsigned long long)now, what);
}

/* ---- the harness -------------------------------------------------------------- */

void twin_start(const struct twin_cfg *cfg)
{
    if (started) {
        fprintf(stderr, "twin_start: the stacks exist already (one pair per process)\n");
        abort();
    }
    started = true;
    seed = cfg->seed;
    rng_state = seed ? seed : 1;
    link_cfg = cfg->link;
    memset(&stats, 0, sizeof(stats));
    stats.digest = 0xcbf29ce484222325ULL;
    set_clock(0);
    next_tick = NET_TICK_NS;
    for (int i = 0; i < 2; i++) {
        struct twin_side_cfg sc = {
            .id = i,
            .mac = { 0x02, 0x00, 0x00, 0x00, 0x00, (uint8_t)(0x0a + i) },
            .ip = twin_ip(i),
            .netmask = htonl(0xffffff00u),
            .gateway = 0,
            .mtu = cfg->mtu[i] ? cfg->mtu[i] : 1500,
            .features = cfg->features[i],
            .seed = (seed ^ (0x9e3779b97f4a7c15ULL * (uint64_t)(i + 1))) | 1,
        };
        twin_sides[i].init(&sc);
    }
}

struct twin_link_cfg *twin_link(void)
{
    return &link_cfg;
}

uint32_t twin_ip(int side)
{
    return htonl(0x0a000001u + (uint32_t)side);
}

uint64_t twin_now(void)
{
    return now;
}

uint64_t twin_seed(void)
{
    return seed;
}

void twin_set_tap(twin_tap_fn fn, void *arg)
{
    tap = fn;
    tap_arg = arg;
}

void twin_set_rx_tap(twin_rx_tap_fn fn, void *arg)
{
    rx_tap = fn;
    rx_tap_arg = arg;
}

const struct twin_stats *twin_stats(void)
{
    return &stats;
}

unsigned twin_in_flight(void)
{
    return (unsigned)nheap;
}

bool twin_step(uint64_t deadline)
{
    bool ev = nheap && heap[0]->at <= next_tick;
    uint64_t t = ev ? heap[0]->at : next_tick;
    if (t > deadline) {
        if (deadline > now)
            set_clock(deadline);
        return false;
    }
    if (t > now)
        set_clock(t);
    if (!ev) {
        next_tick += NET_TICK_NS;
        twin_sides[0].tick();
        twin_sides[1].tick();
        return true;
    }
    struct event *e = heap_pop();
    if (e->kind == EV_FRAME) {
        stats.delivered[!e->side]++;
        if (rx_tap)
            rx_tap(e->side, e->data, e->len, e->csum_ok, rx_tap_arg);
        twin_sides[e->side].input(e->data, e->len, e->csum_ok);
    } else {
        held[e->side]--;
        twin_sides[e->side].complete(e->nb, e->hash);
        if (refused_since[e->side]) {
            refused_since[e->side] = false;
            twin_sides[e->side].tx_room();
        }
    }
    free(e);
    return true;
}

void twin_run_for(uint64_t ns)
{
    uint64_t deadline = now + ns;
    while (twin_step(deadline))
        ;
}

void twin_finish(void)
{
    while (nheap) {
        struct event *e = heap_pop();
        if (e->kind == EV_COMPLETE) {
            held[e->side]--;
            twin_sides[e->side].complete(e->nb, e->hash);
        }
        free(e);
    }
    free(heap);
    heap = NULL;
    heap_cap = 0;
    for (int i = 0; i < 2; i++) {
        free(departures[i]);
        departures[i] = NULL;
        ndep[i] = dep_cap[i] = 0;
    }
    tap = NULL;
    rx_tap = NULL;
}
