/*
 * The kernel's random generator: ChaCha20 (RFC 8439's block function) in
 * counter mode. The key starts from arch_entropy() and every seed handed
 * to random_add_entropy/random_add_seed is hashed into it: key =
 * SHA-256(key || input), so a seed adds to what was there and can never
 * take away (a guessable counter value and a good virtio-rng read give a
 * key as good as the virtio-rng read). Every 64 blocks the key is
 * replaced by fresh output mixed with new entropy, so an observer of past
 * output learns nothing about later output beyond what the seed allows.
 */
#include <kern/arch.h>
#include <kern/printf.h>
#include <kern/printk.h>
#include <kern/random.h>
#include <kern/sha256.h>
#include <kern/spinlock.h>
#include <kern/string.h>

static spinlock_t lock = SPINLOCK_INIT;
static uint32_t key[8];
static uint64_t counter;
static bool seeded;

/* Where real entropy came from, for random_report: a few sources at most
 * (the device tree's seeds, virtio-rng). */
#define MAX_SOURCES 4
static struct {
    const char *name;
    uint64_t bytes;
} sources[MAX_SOURCES];

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

/* The first key, from arch_entropy; under the lock. Whatever is added
 * later is hashed on top of it. */
static void seed_once(void)
{
    if (seeded)
        return;
    for (int i = 0; i < 8; i++) {
        uint64_t e = arch_entropy();
        key[i] = (uint32_t)e ^ (uint32_t)(e >> 32);
    }
    seeded = true;
}

/* key = SHA-256(key || input); under the lock. */
static void mix(const void *buf, size_t n)
{
    struct sha256_ctx c;
    uint8_t out[SHA256_DIGEST_SIZE];
    seed_once();
    sha256_init(&c);
    sha256_update(&c, key, sizeof(key));
    sha256_update(&c, buf, n);
    sha256_final(&c, out);
    memcpy(key, out, sizeof(key));
    memset(out, 0, sizeof(out));
    memset(&c, 0, sizeof(c));
}

void random_add_entropy(const void *buf, size_t n)
{
    unsigned long flags = spin_lock_irqsave(&lock);
    mix(buf, n);
    spin_unlock_irqrestore(&lock, flags);
}

void random_add_seed(const char *source, const void *buf, size_t n)
{
    unsigned long flags = spin_lock_irqsave(&lock);
    mix(buf, n);
    for (int i = 0; i < MAX_SOURCES; i++) {
        if (!sources[i].name || !strcmp(sources[i].name, source)) {
            sources[i].name = source;
            sources[i].bytes += n;
            break;
        }
    }
    spin_unlock_irqrestore(&lock, flags);
}

void random_report(void)
{
    char list[160] = "";
    const char *cpu = arch_entropy_source();
    if (cpu)
        snprintf(list, sizeof(list), "%s (CPU)", cpu);
    unsigned long flags = spin_lock_irqsave(&lock);
    for (int i = 0; i < MAX_SOURCES && sources[i].name; i++) {
        size_t l = strlen(list);
        snprintf(list + l, sizeof(list) - l, "%s%s (%llu bytes)", l ? ", " : "",
                 sources[i].name, (unsigned long long)sources[i].bytes);
    }
    spin_unlock_irqrestore(&lock, flags);
    if (list[0])
        pr_info("random: seeded from %s\n", list);
    else
        pr_warn("random: seeded from the cycle counter only: no RDRAND/RNDR, no "
                "virtio-rng, no boot seed; keys, ISNs and getrandom() are guessable "
                "(add a virtio-rng device: docs/random.md)\n");
}

#ifdef TERN_HOST_TEST
void random_reset_for_test(void)
{
    memset(key, 0, sizeof(key));
    memset(sources, 0, sizeof(sources));
    counter = 0;
    seeded = false;
}
#endif

void random_bytes(void *buf, size_t n)
{
    uint8_t *p = buf;
    unsigned long flags = spin_lock_irqsave(&lock);
    seed_once();
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
