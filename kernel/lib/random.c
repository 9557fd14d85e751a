/*
 * The kernel's random generator: ChaCha20 (RFC 8439's block function) in
 * counter mode, keyed from arch_entropy(). Every 64 blocks the key is
 * replaced by fresh output mixed with new entropy, so an observer of past
 * output learns nothing about later output beyond what the seed allows.
 */
#include <kern/arch.h>
#include <kern/random.h>
#include <kern/spinlock.h>
#include <kern/string.h>

static spinlock_t lock = SPINLOCK_INIT;
static uint32_t key[8];
static uint64_t counter;
static bool seeded;

static inline uint32_t rotl(uint32_t v, int n)
{
    return (v << n) | (v >> (32 - n));
}

#define QR(a, b, c, d)                                                         \
    do {                                                                       \
        a += b; d ^= a; d = rotl(d, 16);                                       \
        c += d; b ^= c; b = rotl(b, 12);                                       \
        a += b; d ^= a; d = rotl(d, 8);                                        \
        c += d; b ^= c; b = rotl(b, 7);                                        \
    } while (0)

static void chacha_block(uint32_t out[16])
{
    uint32_t in[16] = {
        0x61707865, 0x3320646e, 0x79622d32, 0x6b206574,     /* "expand 32-byte k" */
        key[0], key[1], key[2], key[3], key[4], key[5], key[6], key[7],
        (uint32_t)counter, (uint32_t)(counter >> 32), 0, 0,
    };
    uint32_t x[16];
    memcpy(x, in, sizeof(x));
    for (int i = 0; i < 10; i++) {
        QR(x[0], x[4], x[8], x[12]);
        QR(x[1], x[5], x[9], x[13]);
        QR(x[2], x[6], x[10], x[14]);
        QR(x[3], x[7], x[11], x[15]);
        QR(x[0], x[5], x[10], x[15]);
        QR(x[1], x[6], x[11], x[12]);
        QR(x[2], x[7], x[8], x[13]);
        QR(x[3], x[4], x[9], x[14]);
    }
    for (int i = 0; i < 16; i++)
        out[i] = x[i] + in[i];
    counter++;
}

/* New key: the next block's first half, mixed with fresh entropy. */
static void rekey(void)
{
    uint32_t b[16];
    chacha_block(b);
    for (int i = 0; i < 8; i++) {
        uint64_t e = arch_entropy();
        key[i] = b[i] ^ (uint32_t)e ^ (uint32_t)(e >> 32);
    }
    memset(b, 0, sizeof(b));
}

void random_bytes(void *buf, size_t n)
{
    uint8_t *p = buf;
    unsigned long flags = spin_lock_irqsave(&lock);
    if (!seeded) {
        for (int i = 0; i < 8; i++) {
            uint64_t e = arch_entropy();
            key[i] = (uint32_t)e ^ (uint32_t)(e >> 32);
        }
        seeded = true;
    }
    while (n) {
        uint32_t b[16];
        chacha_block(b);
        size_t take = n < sizeof(b) ? n : sizeof(b);
        memcpy(p, b, take);
        p += take;
        n -= take;
        if ((counter & 63) == 0)
            rekey();
    }
    rekey();                        /* what was handed out cannot be recomputed */
    spin_unlock_irqrestore(&lock, flags);
}

uint64_t random_u64(void)
{
    uint64_t v;
    random_bytes(&v, sizeof(v));
    return v;
}
