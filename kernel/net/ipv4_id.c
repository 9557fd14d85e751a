/*
 * IPv4 identification values (RFC 791, RFC 6864). One global counter let
 * anyone who talks to the guest count the packets it sends to everyone
 * else (idle scans, traffic analysis; issue 18). As Linux's ip_idents,
 * each packet instead takes the next value of one of IP_ID_BUCKETS
 * counters, chosen by a keyed hash of (source, destination, protocol);
 * key and starting values are random, so a peer sees a sequence of its
 * own and cannot choose or tell which other destinations share it.
 */
#include <kern/random.h>
#include "net_internal.h"

#define IP_ID_BUCKETS 2048              /* Linux's minimum; 4 KiB */

static uint16_t idents[IP_ID_BUCKETS];
static uint64_t key[2];
static bool keyed;

static inline uint64_t rotl64(uint64_t x, unsigned b)
{
    return (x << b) | (x >> (64 - b));
}

static inline void sip_round(uint64_t v[4])
{
    v[0] += v[1]; v[1] = rotl64(v[1], 13); v[1] ^= v[0]; v[0] = rotl64(v[0], 32);
    v[2] += v[3]; v[3] = rotl64(v[3], 16); v[3] ^= v[2];
    v[0] += v[3]; v[3] = rotl64(v[3], 21); v[3] ^= v[0];
    v[2] += v[1]; v[1] = rotl64(v[1], 17); v[1] ^= v[2]; v[2] = rotl64(v[2], 32);
}

/* SipHash-2-4 of the 16 bytes a, b under key k: a keyed hash whose output
 * tells nothing about the key (a plain mix would let a peer steer its own
 * packets into a victim's bucket). */
static uint64_t siphash_2u64(uint64_t a, uint64_t b, const uint64_t k[2])
{
    uint64_t v[4] = {
        k[0] ^ 0x736f6d6570736575ULL, k[1] ^ 0x646f72616e646f6dULL,
        k[0] ^ 0x6c7967656e657261ULL, k[1] ^ 0x7465646279746573ULL,
    };
    const uint64_t words[3] = { a, b, 16ULL << 56 };
    for (int i = 0; i < 3; i++) {
        v[3] ^= words[i];
        sip_round(v);
        sip_round(v);
        v[0] ^= words[i];
    }
    v[2] ^= 0xff;
    for (int i = 0; i < 4; i++)
        sip_round(v);
    return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/* On first use, not at boot: the random source is ready by then. */
static void ip_id_init(void)
{
    key[0] = random_u64();
    key[1] = random_u64();
    for (int i = 0; i < IP_ID_BUCKETS; i += 4) {
        uint64_t r = random_u64();
        for (int k = 0; k < 4; k++)
            idents[i + k] = (uint16_t)(r >> (16 * k));
    }
    keyed = true;
}

uint16_t ip_next_id(uint32_t src, uint32_t dst, uint8_t proto)
{
    if (!keyed)
        ip_id_init();
    uint64_t h = siphash_2u64((uint64_t)src << 32 | dst, proto, key);
    return idents[h % IP_ID_BUCKETS]++;
}
