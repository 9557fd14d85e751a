/*
 * SHA-256 (FIPS 180-4), kernel/lib/sha256.c.
 *
 * Plain C on general-purpose registers only, so it runs anywhere in the
 * kernel (no FP/SIMD state needed) and compiles unchanged on the host, where
 * the ROFS writer uses it to deduplicate file contents and record each
 * file's digest. Incremental: init, update any number of times, final.
 */
#ifndef KERN_SHA256_H
#define KERN_SHA256_H

#include <kern/types.h>

#define SHA256_DIGEST_SIZE 32
#define SHA256_BLOCK_SIZE  64

struct sha256_ctx {
    uint32_t h[8];
    uint64_t total;                       /* bytes hashed so far */
    uint8_t buf[SHA256_BLOCK_SIZE];       /* a partial block */
    size_t buflen;
};

void sha256_init(struct sha256_ctx *c);
void sha256_update(struct sha256_ctx *c, const void *data, size_t len);
/* Writes the digest and leaves c unusable until the next sha256_init. */
void sha256_final(struct sha256_ctx *c, uint8_t out[SHA256_DIGEST_SIZE]);

/* One-shot digest of a buffer. */
void sha256(const void *data, size_t len, uint8_t out[SHA256_DIGEST_SIZE]);

#endif
