/*
 * Unit tests for kernel/lib/random.c's seeding: whatever random_add_entropy
 * and random_add_seed are given changes the stream that follows, different
 * inputs give different streams, and the same start gives the same stream
 * (so the differences come from the input, not from chance). arch_entropy
 * is a constant here: the CPU-less worst case the seeds are for.
 */
#include "check.h"

#include <kern/arch.h>
#include <kern/random.h>

uint64_t arch_entropy(void)
{
    return 0x0123456789abcdefULL;
}

const char *arch_entropy_source(void)
{
    return NULL;
}

static void stream(const char *input, uint8_t out[64])
{
    random_reset_for_test();
    if (input)
        random_add_entropy(input, strlen(input));
    random_bytes(out, 64);
}

TEST(same_start_same_stream)
{
    uint8_t a[64], b[64];
    stream(NULL, a);
    stream(NULL, b);
    CHECK(memcmp(a, b, 64) == 0);
    stream("seed", a);
    stream("seed", b);
    CHECK(memcmp(a, b, 64) == 0);
}

TEST(add_entropy_changes_stream)
{
    uint8_t a[64], b[64];
    stream(NULL, a);
    stream("x", b);
    CHECK(memcmp(a, b, 64) != 0);
}

TEST(different_inputs_different_streams)
{
    uint8_t a[64], b[64];
    stream("virtio-rng bytes 1", a);
    stream("virtio-rng bytes 2", b);
    CHECK(memcmp(a, b, 64) != 0);
    /* Seeds accumulate: a second input after the first changes it again. */
    random_reset_for_test();
    random_add_entropy("virtio-rng bytes 1", 18);
    random_add_seed("test", "more", 4);
    random_bytes(b, 64);
    CHECK(memcmp(a, b, 64) != 0);
}

/* Added after output was drawn: the rest of the stream changes too. */
TEST(add_entropy_after_output)
{
    uint8_t a[64], b[64];
    random_reset_for_test();
    random_bytes(a, 64);
    random_bytes(a, 64);
    random_reset_for_test();
    random_bytes(b, 64);
    random_add_entropy("late", 4);
    random_bytes(b, 64);
    CHECK(memcmp(a, b, 64) != 0);
}
