/*
 * IPv4 reassembly (RFC 791, RFC 815), for a hostile network (issue 18).
 *
 * A datagram being reassembled is a queue of the fragments themselves,
 * the netbufs as they arrived, in a list sorted by offset (as Linux and
 * the BSDs keep them): the memory it holds is what arrived, not a 64 KiB
 * buffer per datagram. Fragments never overlap in the list, so the bytes
 * it covers are the sum of their lengths, and the datagram is complete
 * exactly when its end is known (the fragment with MF clear) and that sum
 * equals it. Only then is one new netbuf built, every byte of it written
 * from a fragment: no byte of uninitialised memory, and so nothing of an
 * earlier datagram, can be handed out.
 *
 * What makes no sense drops the whole datagram (counted in ReasmFails): a
 * fragment past the known end, an end before bytes already received, two
 * different ends, a datagram over 65535 bytes, a fragment but the last
 * whose length is not a multiple of 8, an empty fragment. An exact
 * duplicate (same offset and length) is ignored; any other overlap drops
 * the datagram too (ReasmOverlaps), as Linux has done since 2018 and RFC
 * 5722 requires for IPv6: overlaps are how filters are evaded and how the
 * old leak was made.
 *
 * Memory is bounded and accounted: each held fragment counts its true
 * size (the netbuf and its buffer as allocated). Above REASM_MEM_HIGH the
 * oldest datagrams are given up until the total is under REASM_MEM_LOW,
 * as Linux's evictor does; there are at most REASM_MAX_QUEUES datagrams
 * and REASM_MAX_FRAGS fragments in one, which also bounds the walk an
 * insertion makes (and the common in-order arrival appends at the tail
 * without walking at all).
 */
#include <kern/kmalloc.h>
#include <kern/string.h>
#include "net_internal.h"

#define IP_MF       0x2000
#define IP_OFFMASK  0x1fff

/* RFC 1122 asks for 15 s to 2 min; Linux uses 30 s. */
#define REASM_TIMEOUT_NS    (30ULL * 1000000000)
/* The payload of the largest datagram, behind the 20-byte header the
 * reassembled one gets. */
#define REASM_MAX_PAYLOAD   (65535u - IP_HLEN)
/* Linux holds up to 4 MiB (3 MiB after eviction). So does this: a
 * received 1500-byte frame costs about 3 KiB (netbuf and buffer), a small
 * one 2 KiB, so a flood needs some 2000 first fragments in 30 s before a
 * datagram in progress is evicted, and a 64-128 MiB guest keeps the rest
 * of its memory. */
#define REASM_MEM_HIGH      (4096u * 1024)
#define REASM_MEM_LOW       (3072u * 1024)
/* Datagrams under reassembly at once (memory bounds them first for any
 * but tiny fragments); a new one beyond that evicts the oldest. Found
 * through a hash of their identity. */
#define REASM_MAX_QUEUES    2048
#define REASM_BUCKETS       512
/* Fragments in one datagram: a 64 KiB datagram is 45 fragments on a
 * 1500-byte MTU; 64 leaves room for smaller MTUs down to about 1050 and
 * keeps a flood of tiny fragments from making each insertion a long walk. */
#define REASM_MAX_FRAGS     64

/* A held fragment: nb->data is its payload (the IPv4 header pulled off),
 * nb->len its length, and nb->cookie its offset in the datagram. */
#define FRAG_OFF(nb) ((uint32_t)(nb)->cookie)
#define FRAG_END(nb) (FRAG_OFF(nb) + (nb)->len)

struct reasm_queue {
    bool used;
    bool have_end;                      /* the fragment with MF clear came */
    uint8_t proto;
    uint16_t id;
    uint32_t src, dst;
    uint64_t started;
    uint32_t end;                       /* payload bytes, once have_end */
    uint32_t covered;                   /* bytes held (no overlaps, so exact) */
    unsigned nfrags;
    size_t mem;                         /* true size of the held fragments */
    struct netbuf *head, *tail;         /* sorted by offset, disjoint */
    uint8_t header[IP_HLEN];            /* the first fragment's, options dropped */
    uint16_t hash_next;                 /* the next queue in its bucket, plus one; 0: none */
};

static struct reasm_queue queues[REASM_MAX_QUEUES];
/* Each bucket's first queue, plus one (0: empty): the zeroed array is an
 * empty table. */
static uint16_t buckets[REASM_BUCKETS];
static unsigned next_free;              /* where the search for a free queue starts */
static size_t reasm_mem;                /* sum of every queue's mem */
static unsigned reasm_queues_used;

static unsigned bucket_of(uint32_t src, uint32_t dst, uint16_t id, uint8_t proto)
{
    /* Not keyed: a chain is as long as the queues an attacker made, and
     * REASM_MAX_QUEUES bounds that however they collide. */
    uint32_t h = src * 0x9e3779b1u ^ dst * 0x85ebca6bu ^ (uint32_t)id * 0xc2b2ae35u ^ proto;
    return (h ^ h >> 15) % REASM_BUCKETS;
}

static void hash_add(struct reasm_queue *q)
{
    unsigned b = bucket_of(q->src, q->dst, q->id, q->proto);
    q->hash_next = buckets[b];
    buckets[b] = (uint16_t)(q - queues + 1);
}

static void unhash(struct reasm_queue *q)
{
    uint16_t self = (uint16_t)(q - queues + 1);
    uint16_t *link = &buckets[bucket_of(q->src, q->dst, q->id, q->proto)];
    while (*link && *link != self)
        link = &queues[*link - 1].hash_next;
    if (*link)
        *link = q->hash_next;
}

/* What a received netbuf really costs while it is held. */
static size_t truesize(const struct netbuf *nb)
{
    return kmalloc_usable_size(nb) + kmalloc_usable_size(nb->buf);
}

static void queue_free(struct reasm_queue *q)
{
    for (struct netbuf *f = q->head, *next; f; f = next) {
        next = f->next;
        netbuf_free(f);
    }
    reasm_mem -= q->mem;
    reasm_queues_used--;
    unhash(q);
    memset(q, 0, sizeof(*q));
}

/* Give the datagram up: it failed and its fragments go. */
static void queue_drop(struct reasm_queue *q)
{
    net_stats.ip_reasm_fail++;
    queue_free(q);
}

static struct reasm_queue *oldest_queue(void)
{
    struct reasm_queue *oldest = NULL;
    for (int i = 0; i < REASM_MAX_QUEUES; i++)
        if (queues[i].used && (!oldest || queues[i].started < oldest->started))
            oldest = &queues[i];
    return oldest;
}

static bool evict_oldest(void)
{
    struct reasm_queue *q = oldest_queue();
    if (!q)
        return false;
    net_stats.ip_reasm_evicted++;
    queue_drop(q);
    return true;
}

static struct reasm_queue *queue_find(uint32_t src, uint32_t dst, uint16_t id, uint8_t proto)
{
    for (uint16_t i = buckets[bucket_of(src, dst, id, proto)]; i; i = queues[i - 1].hash_next) {
        struct reasm_queue *q = &queues[i - 1];
        if (q->id == id && q->src == src && q->dst == dst && q->proto == proto)
            return q;
    }
    return NULL;
}

static struct reasm_queue *queue_create(uint32_t src, uint32_t dst, uint16_t id, uint8_t proto)
{
    if (reasm_queues_used == REASM_MAX_QUEUES)
        evict_oldest();
    for (unsigned k = 0; k < REASM_MAX_QUEUES; k++) {
        struct reasm_queue *q = &queues[(next_free + k) % REASM_MAX_QUEUES];
        if (q->used)
            continue;
        next_free = (unsigned)(q - queues + 1) % REASM_MAX_QUEUES;
        q->used = true;
        q->src = src;
        q->dst = dst;
        q->id = id;
        q->proto = proto;
        q->started = net_now_ns();
        reasm_queues_used++;
        hash_add(q);
        return q;
    }
    return NULL;                        /* not reached: one was just freed */
}

/* Check fragment [off, off + len) with MF as more against what q holds and
 * insert it, taking nb. Returns false when the datagram must be dropped
 * (nb is freed then too; the caller drops q). */
static bool queue_insert(struct reasm_queue *q, struct netbuf *nb, uint32_t off, uint32_t len,
                         bool more)
{
    uint32_t end = off + len;
    uint32_t held_end = q->tail ? FRAG_END(q->tail) : 0;
    bool bad;
    if (more)
        bad = (len & 7) || (q->have_end && end > q->end);
    else
        bad = (q->have_end && end != q->end) || end < held_end;
    if (bad || len == 0 || end > REASM_MAX_PAYLOAD) {
        netbuf_free(nb);
        return false;
    }
    /* The place: after prev, before next. In-order arrival appends. */
    struct netbuf *prev = NULL, *next = NULL;
    if (q->tail && FRAG_OFF(q->tail) <= off) {
        prev = q->tail;
    } else {
        next = q->head;
        while (next && FRAG_OFF(next) <= off) {
            prev = next;
            next = next->next;
        }
    }
    if (prev && FRAG_OFF(prev) == off && prev->len == len) {
        netbuf_free(nb);                /* an exact duplicate: nothing new */
        if (!more) {
            q->have_end = true;
            q->end = end;
        }
        return true;
    }
    if ((prev && FRAG_END(prev) > off) || (next && end > FRAG_OFF(next))) {
        net_stats.ip_reasm_overlaps++;
        netbuf_free(nb);
        return false;
    }
    if (q->nfrags == REASM_MAX_FRAGS) {
        netbuf_free(nb);
        return false;
    }
    if (!more) {
        q->have_end = true;
        q->end = end;
    }
    nb->cookie = off;
    nb->next = next;
    if (prev)
        prev->next = nb;
    else
        q->head = nb;
    if (!next)
        q->tail = nb;
    q->nfrags++;
    q->covered += len;
    size_t size = truesize(nb);
    q->mem += size;
    reasm_mem += size;
    return true;
}

/* The whole datagram from q's fragments, which cover [0, end) exactly:
 * the first fragment's header, then every payload byte from a fragment. */
static struct netbuf *queue_build(const struct reasm_queue *q)
{
    struct netbuf *nb = netbuf_alloc(IP_HLEN + q->end);
    if (!nb)
        return NULL;
    uint8_t *h = netbuf_put(nb, IP_HLEN + q->end);
    memcpy(h, q->header, IP_HLEN);
    h[0] = 0x45;
    put_be16(h + 2, (uint16_t)(IP_HLEN + q->end));
    put_be16(h + 6, 0);
    put_be16(h + 10, 0);
    put_be16(h + 10, inet_fold(inet_sum(h, IP_HLEN, 0)));
    uint32_t at = 0;
    for (const struct netbuf *f = q->head; f; f = f->next) {
        memcpy(h + IP_HLEN + at, f->data, f->len);
        at += f->len;
    }
    return nb;
}

struct netbuf *ip_reasm(struct netbuf *nb, uint32_t hlen)
{
    const uint8_t *h = nb->data;
    uint32_t src, dst;
    memcpy(&src, h + 12, 4);
    memcpy(&dst, h + 16, 4);
    uint16_t id = get_be16(h + 4), frag = get_be16(h + 6);
    uint8_t proto = h[9];
    uint32_t off = (frag & IP_OFFMASK) * 8u, len = nb->len - hlen;
    bool more = frag & IP_MF;
    net_stats.ip_reasm_reqds++;

    struct reasm_queue *q = queue_find(src, dst, id, proto);
    if (!q)
        q = queue_create(src, dst, id, proto);
    if (!q) {
        net_stats.ip_reasm_fail++;
        netbuf_free(nb);
        return NULL;
    }
    if (off == 0)
        memcpy(q->header, h, IP_HLEN);
    netbuf_pull(nb, hlen);
    if (!queue_insert(q, nb, off, len, more)) {
        queue_drop(q);
        return NULL;
    }
    if (q->have_end && q->covered == q->end) {
        struct netbuf *whole = queue_build(q);
        if (whole) {
            net_stats.ip_reasm_ok++;
            queue_free(q);
        } else {
            net_stats.ip_frag_dropped++;
            queue_drop(q);
        }
        return whole;
    }
    /* Over the limit: the oldest datagrams (by their first fragment) are
     * the likeliest to have lost a fragment for good, or to be a flood's;
     * they make way until the low mark, which may include this one. */
    if (reasm_mem > REASM_MEM_HIGH)
        while (reasm_mem > REASM_MEM_LOW && evict_oldest())
            ;
    return NULL;
}

void ip_reasm_tick(uint64_t now)
{
    for (int i = 0; i < REASM_MAX_QUEUES; i++)
        if (queues[i].used && now - queues[i].started > REASM_TIMEOUT_NS) {
            net_stats.ip_reasm_timeout++;
            queue_drop(&queues[i]);
        }
}

void ip_reasm_usage(struct ip_reasm_usage *u)
{
    u->mem = reasm_mem;
    u->queues = reasm_queues_used;
    u->frags = 0;
    for (int i = 0; i < REASM_MAX_QUEUES; i++)
        u->frags += queues[i].nfrags;
    u->mem_high = REASM_MEM_HIGH;
    u->mem_low = REASM_MEM_LOW;
    u->max_queues = REASM_MAX_QUEUES;
    u->max_frags = REASM_MAX_FRAGS;
}
