/*
 * Unit tests for kernel/lib/sha256.c: the FIPS 180-4 example vectors, the
 * padding boundaries (55/56/63/64 bytes), incremental updates split at
 * every position, and agreement with coreutils' sha256sum on many lengths.
 */
#include "check.h"

#include <unistd.h>

#include <kern/sha256.h>

static void hex(const uint8_t d[SHA256_DIGEST_SIZE], char out[65])
{
    static const char x[] = "0123456789abcdef";
    for (int i = 0; i < SHA256_DIGEST_SIZE; i++) {
        out[2 * i] = x[d[i] >> 4];
        out[2 * i + 1] = x[d[i] & 15];
    }
    out[64] = 0;
}

static const char *digest_of(const void *p, size_t n)
{
    static char out[65];
    uint8_t d[SHA256_DIGEST_SIZE];
    sha256(p, n, d);
    hex(d, out);
    return out;
}

TEST(sha256_fips_vectors)
{
    CHECK_EQ_STR(digest_of("", 0),
                 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK_EQ_STR(digest_of("abc", 3),
                 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *m2 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    CHECK_EQ_STR(digest_of(m2, strlen(m2)),
                 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    const char *m3 = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
                     "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
    CHECK_EQ_STR(digest_of(m3, strlen(m3)),
                 "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

TEST(sha256_million_a_incremental)
{
    /* One million 'a', fed in odd-sized pieces across block boundaries. */
    char chunk[997];
    memset(chunk, 'a', sizeof(chunk));
    struct sha256_ctx c;
    sha256_init(&c);
    size_t left = 1000000;
    while (left) {
        size_t n = left < sizeof(chunk) ? left : sizeof(chunk);
        sha256_update(&c, chunk, n);
        left -= n;
    }
    uint8_t d[SHA256_DIGEST_SIZE];
    char h[65];
    sha256_final(&c, d);
    hex(d, h);
    CHECK_EQ_STR(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(sha256_split_anywhere_matches_oneshot)
{
    uint8_t buf[200], one[32], two[32];
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)(i * 31 + 7);
    for (size_t len = 0; len <= sizeof(buf); len += 1) {
        sha256(buf, len, one);
        for (size_t cut = 0; cut <= len; cut += 13) {
            struct sha256_ctx c;
            sha256_init(&c);
            sha256_update(&c, buf, cut);
            sha256_update(&c, buf + cut, len - cut);
            sha256_final(&c, two);
            if (memcmp(one, two, 32) != 0) {
                printf("  len %zu cut %zu differs\n", len, cut);
                CHECK(0);
                return;
            }
        }
    }
}

TEST(sha256_matches_sha256sum)
{
    /* Lengths around every padding boundary and a few larger ones. */
    static const size_t lens[] = { 1, 54, 55, 56, 57, 63, 64, 65, 119, 120,
                                   127, 128, 129, 1000, 4096, 65537 };
    char path[] = "/tmp/tern-sha256-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    close(fd);
    check_rng_seed(256);
    for (size_t k = 0; k < ARRAY_SIZE(lens); k++) {
        size_t n = lens[k];
        uint8_t *buf = malloc(n);
        for (size_t i = 0; i < n; i++)
            buf[i] = (uint8_t)check_rng();
        FILE *f = fopen(path, "wb");
        CHECK(f && fwrite(buf, 1, n, f) == n);
        fclose(f);
        char cmd[128], line[128] = "";
        snprintf(cmd, sizeof(cmd), "sha256sum %s", path);
        FILE *p = popen(cmd, "r");
        CHECK(p && fgets(line, sizeof(line), p));
        if (p)
            pclose(p);
        line[64] = 0;
        CHECK_EQ_STR(digest_of(buf, n), line);
        free(buf);
    }
    unlink(path);
}
