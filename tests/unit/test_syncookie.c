/*
 * Unit tests for SYN cookies (kernel/net/tcp_syncookie.c) and the
 * challenge-ACK limit (kernel/net/tcp_ratelimit.c): a cookie checks for the
 * tuple, ISN and time it was made for and for nothing else (any field
 * changed, an ACK off by one, its MSS bits edited, the window over); the
 * MSS class round-trips; cookies of many tuples look random (collisions,
 * bit balance, avalanche); the 2-bit slot field and the slot counter wrap;
 * the timestamp helpers round-trip; the challenge-ACK budget holds per
 * second and is not a fixed number.
 */
#include "check.h"

#include "tcp.h"

/* splitmix64: the cookie key and the tests' random tuples. The rate-limit
 * tests pin it (forced_random) to see the budget's extremes. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static bool forced;
static uint64_t forced_random;

static uint64_t next_random(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t random_u64(void)
{
    return forced ? forced_random : next_random();
}

#define SLOT_MS 64000ull

struct tuple {
    uint32_t saddr, daddr;
    uint16_t sport, dport;
    uint32_t isn;
};

static const struct tuple base = {
    .saddr = 0x0100630au,               /* 10.99.0.1, network order on x86 */
    .daddr = 0x0200630au,               /* 10.99.0.2 */
    .sport = 0x39a1,
    .dport = 0x1f90,                    /* 8080 */
    .isn = 0xfffffff0u,                 /* seq = isn + 1 wraps soon: no special case */
};

static uint32_t make(const struct tuple *t, uint16_t mss, uint64_t now)
{
    return tcp_cookie_make(t->saddr, t->daddr, t->sport, t->dport, t->isn, mss, now);
}

/* The ACK completing the handshake: seq = ISN + 1, ack = cookie + 1. */
static bool check(const struct tuple *t, uint32_t cookie, uint64_t now, uint16_t *mss)
{
    uint16_t dummy;
    return tcp_cookie_check(t->saddr, t->daddr, t->sport, t->dport, t->isn + 1, cookie + 1,
                            now, mss ? mss : &dummy);
}

static const uint64_t T0 = 1000 * SLOT_MS + 12345;     /* mid-slot, arbitrary */

TEST(cookie_checks_for_its_tuple)
{
    uint32_t c = make(&base, 1460, T0);
    uint16_t mss = 0;
    CHECK(check(&base, c, T0, &mss));
    CHECK_EQ_INT(mss, 1460);
    /* Repeatable: the same SYN retried gets the same cookie. */
    CHECK(make(&base, 1460, T0) == c);
    CHECK(make(&base, 1460, T0 + 1000) == c);
}

TEST(cookie_fails_for_any_changed_field)
{
    uint32_t c = make(&base, 1460, T0);
    struct tuple t;
    int passed = 0;
    /* Every single-bit change of every field. */
    for (int bit = 0; bit < 32; bit++) {
        t = base; t.saddr ^= 1u << bit; passed += check(&t, c, T0, NULL);
        t = base; t.daddr ^= 1u << bit; passed += check(&t, c, T0, NULL);
        t = base; t.isn ^= 1u << bit;   passed += check(&t, c, T0, NULL);
        if (bit < 16) {
            t = base; t.sport ^= (uint16_t)(1u << bit); passed += check(&t, c, T0, NULL);
            t = base; t.dport ^= (uint16_t)(1u << bit); passed += check(&t, c, T0, NULL);
        }
    }
    /* Source and destination swapped (a reflected segment). */
    t = base;
    t.saddr = base.daddr; t.daddr = base.saddr;
    t.sport = base.dport; t.dport = base.sport;
    passed += check(&t, c, T0, NULL);
    CHECK_EQ_INT(passed, 0);
}

TEST(cookie_ack_off_by_one_fails)
{
    uint32_t c = make(&base, 1460, T0);
    uint16_t mss;
    const struct tuple *t = &base;
    CHECK(tcp_cookie_check(t->saddr, t->daddr, t->sport, t->dport, t->isn + 1, c + 1, T0, &mss));
    /* ack = cookie, ack = cookie + 2: no. */
    CHECK(!tcp_cookie_check(t->saddr, t->daddr, t->sport, t->dport, t->isn + 1, c, T0, &mss));
    CHECK(!tcp_cookie_check(t->saddr, t->daddr, t->sport, t->dport, t->isn + 1, c + 2, T0, &mss));
    /* seq = ISN (the SYN's own number) or ISN + 2: no. */
    CHECK(!tcp_cookie_check(t->saddr, t->daddr, t->sport, t->dport, t->isn, c + 1, T0, &mss));
    CHECK(!tcp_cookie_check(t->saddr, t->daddr, t->sport, t->dport, t->isn + 2, c + 1, T0, &mss));
}

TEST(cookie_mss_bits_cannot_be_edited)
{
    /* The MSS class is in the clear; changing it must break the hash. */
    uint32_t c = make(&base, 536, T0);
    int passed = 0;
    for (uint32_t cls = 0; cls < 8; cls++) {
        uint32_t edited = (c & ~(7u << 27)) | cls << 27;
        if (edited != c)
            passed += check(&base, edited, T0, NULL);
    }
    CHECK_EQ_INT(passed, 0);
    /* Nor the slot bits. */
    for (uint32_t s = 0; s < 4; s++) {
        uint32_t edited = (c & ~(3u << 30)) | s << 30;
        if (edited != c)
            passed += check(&base, edited, T0, NULL);
    }
    CHECK_EQ_INT(passed, 0);
}

TEST(cookie_window_is_its_slot_and_the_next)
{
    uint64_t slot_start = (T0 / SLOT_MS) * SLOT_MS;
    /* Made at the first millisecond of a slot: lives 128 s less 1 ms. */
    uint32_t c = make(&base, 1460, slot_start);
    CHECK(check(&base, c, slot_start, NULL));
    CHECK(check(&base, c, slot_start + SLOT_MS, NULL));
    CHECK(check(&base, c, slot_start + 2 * SLOT_MS - 1, NULL));
    CHECK(!check(&base, c, slot_start + 2 * SLOT_MS, NULL));
    /* Made at the last millisecond of a slot: lives 64 s and 1 ms. */
    uint32_t d = make(&base, 1460, slot_start + SLOT_MS - 1);
    CHECK(check(&base, d, slot_start + 2 * SLOT_MS - 1, NULL));
    CHECK(!check(&base, d, slot_start + 2 * SLOT_MS, NULL));
    /* Every later slot fails, including the ones whose 2 slot bits come
     * round again (4, 8 slots on): they were hashed under another slot. */
    int passed = 0;
    for (uint64_t k = 2; k < 40; k++)
        passed += check(&base, c, slot_start + k * SLOT_MS + 5, NULL);
    CHECK_EQ_INT(passed, 0);
    /* And one from the future (a clock that jumped back) fails too. */
    CHECK(!check(&base, c, slot_start - 1, NULL));
    CHECK(!check(&base, make(&base, 1460, slot_start + 2 * SLOT_MS), slot_start, NULL));
}

TEST(cookie_slot_wraparound)
{
    /* The slot field wraps 3 -> 0 every 4 slots, and the 32-bit slot
     * counter itself wraps after 2^32 slots: made just before, checked
     * just after. */
    const uint64_t starts[] = { 3 * SLOT_MS, 7 * SLOT_MS, 0xffffffffull * SLOT_MS,
                                0x1ffffffffull * SLOT_MS };
    for (size_t i = 0; i < ARRAY_SIZE(starts); i++) {
        uint64_t t = starts[i];
        uint32_t c = make(&base, 1440, t + SLOT_MS - 1);
        uint16_t mss = 0;
        CHECK(check(&base, c, t + SLOT_MS, &mss));
        CHECK_EQ_INT(mss, 1440);
        CHECK(check(&base, c, t + 2 * SLOT_MS - 1, NULL));
        CHECK(!check(&base, c, t + 2 * SLOT_MS, NULL));
    }
    /* The first slot after boot (slot 0; the one before it is 2^32 - 1). */
    uint32_t c = make(&base, 1460, 0);
    CHECK(check(&base, c, SLOT_MS + 1, NULL));
    CHECK(!check(&base, c, 2 * SLOT_MS, NULL));
}

TEST(cookie_mss_class_round_trips)
{
    static const uint16_t classes[] = { 64, 536, 1220, 1300, 1440, 1460, 8960, 65495 };
    int wrong = 0;
    for (uint32_t m = 0; m <= 65535; m++) {
        uint16_t want = classes[0];
        for (size_t i = 0; i < ARRAY_SIZE(classes); i++)
            if (classes[i] <= m)
                want = classes[i];
        uint16_t got = 0;
        uint32_t c = make(&base, (uint16_t)m, T0);
        if (!check(&base, c, T0, &got) || got != want) {
            if (wrong++ < 5)
                printf("  peer MSS %u: got %u, want %u\n", m, got, want);
        }
        /* Never above what the peer announced (the stack takes >= 64). */
        if (m >= 64 && got > m)
            wrong++;
    }
    CHECK_EQ_INT(wrong, 0);
}

/* 10^5 random tuples, one slot, one MSS class: only the 27 hash bits vary.
 * Expected pairs colliding: n^2 / 2^28 = 37.3 (Poisson, sd 6.1). Each hash
 * bit is set about n/2 times (sd 158). */
TEST(cookie_looks_random_across_tuples)
{
    enum { N = 100000 };
    uint32_t *v = malloc(N * sizeof(*v));
    int ones[32] = { 0 };
    for (int i = 0; i < N; i++) {
        uint64_t r = next_random(), s = next_random();
        struct tuple t = {
            .saddr = (uint32_t)r, .daddr = (uint32_t)(r >> 32),
            .sport = (uint16_t)s, .dport = (uint16_t)(s >> 16), .isn = (uint32_t)(s >> 32),
        };
        v[i] = make(&t, 1460, T0);
        for (int b = 0; b < 32; b++)
            ones[b] += (v[i] >> b) & 1;
    }
    /* Sort (shell sort: no qsort callback needed) and count equal neighbours. */
    for (int gap = N / 2; gap > 0; gap /= 2)
        for (int i = gap; i < N; i++)
            for (int j = i; j >= gap && v[j - gap] > v[j]; j -= gap) {
                uint32_t x = v[j]; v[j] = v[j - gap]; v[j - gap] = x;
            }
    int collisions = 0;
    for (int i = 1; i < N; i++)
        collisions += v[i] == v[i - 1];
    printf("  %d collisions among %d cookies (chance: 37 +- 6)\n", collisions, N);
    CHECK(collisions < 37 + 6 * 7);
    int skewed = 0;
    for (int b = 0; b < 27; b++)
        skewed += ones[b] < N / 2 - 1000 || ones[b] > N / 2 + 1000;
    CHECK_EQ_INT(skewed, 0);
    /* The 5 top bits are the slot and the class: the same for all. */
    CHECK(ones[31] == 0 || ones[31] == N);
    free(v);
}

/* Consecutive ISNs or ports (what an attacker controls) give cookies with
 * no simple relation: about half the hash bits differ, and the differences
 * are not constant. */
TEST(cookie_avalanche_on_neighbours)
{
    enum { N = 20000 };
    long flipped = 0;
    int same_delta = 0;
    uint32_t prev_delta = 0;
    struct tuple t = base;
    for (int i = 0; i < N; i++) {
        uint32_t a = make(&t, 1460, T0);
        t.isn++;
        uint32_t b = make(&t, 1460, T0);
        flipped += __builtin_popcount((a ^ b) & ((1u << 27) - 1));
        uint32_t delta = b - a;
        same_delta += i > 0 && delta == prev_delta;
        prev_delta = delta;
    }
    double mean = (double)flipped / N;
    printf("  neighbouring ISNs: %.2f of 27 hash bits differ on average\n", mean);
    CHECK(mean > 13.0 && mean < 14.0);
    CHECK(same_delta < 5);
}

TEST(cookie_ts_options_round_trip)
{
    int wrong = 0;
    const uint32_t nows[] = { 0, 1, 31, 32, 33, 1000000, 0x7fffffff, 0xffffffe0u, 0xffffffffu };
    for (size_t n = 0; n < ARRAY_SIZE(nows); n++)
        for (int ws_ok = 0; ws_ok < 2; ws_ok++)
            for (uint8_t ws = 0; ws <= 14; ws++)
                for (int sack = 0; sack < 2; sack++) {
                    uint32_t now = nows[n];
                    uint32_t ts = tcp_cookie_tsval(now, ws_ok, ws, sack);
                    /* Never ahead of the clock, at most 31 behind. */
                    if ((int32_t)(ts - now) > 0 || now - ts > 31)
                        wrong++;
                    bool got_ws_ok, got_sack;
                    uint8_t got_ws;
                    tcp_cookie_ts_options(ts, &got_ws_ok, &got_ws, &got_sack);
                    if (got_ws_ok != (bool)ws_ok || got_sack != (bool)sack ||
                        (ws_ok && got_ws != ws) || (!ws_ok && got_ws != 0))
                        wrong++;
                }
    CHECK_EQ_INT(wrong, 0);
    /* A shift above RFC 7323's 14 is taken as 14. */
    bool ok, sack;
    uint8_t ws;
    tcp_cookie_ts_options(tcp_cookie_tsval(5000, true, 15, false), &ok, &ws, &sack);
    CHECK(ok && ws == 14 && !sack);
}

/* ---- challenge ACKs ---- */

static int allowed_in(uint64_t now_ms, int tries)
{
    int n = 0;
    for (int i = 0; i < tries; i++)
        n += tcp_challenge_ack_allowed(now_ms);
    return n;
}

TEST(challenge_ack_budget_per_second)
{
    /* The budget is 500 + random % 1000: pinned at both ends. */
    forced = true;
    forced_random = 0;
    CHECK_EQ_INT(allowed_in(5000, 3000), 500);
    CHECK_EQ_INT(allowed_in(5999, 10), 0);            /* same second: spent */
    forced_random = 999;
    CHECK_EQ_INT(allowed_in(6000, 3000), 1499);       /* a new second, a new budget */
    forced_random = 1000 + 250;                       /* reduced mod 1000 */
    CHECK_EQ_INT(allowed_in(7500, 3000), 750);
    /* A second with none asked for still starts afresh. */
    forced_random = 0;
    CHECK_EQ_INT(allowed_in(100000, 3000), 500);
    forced = false;
}

TEST(challenge_ack_budget_varies)
{
    /* Unpinned: every second between 500 and 1499, about 1000 on average,
     * and not the same number every second (CVE-2016-5696). */
    int min = 1 << 30, max = 0;
    long total = 0;
    enum { SECONDS = 200 };
    for (int s = 0; s < SECONDS; s++) {
        int n = allowed_in(1000000 + 1000ull * s + (uint64_t)s % 1000, 2000);
        min = n < min ? n : min;
        max = n > max ? n : max;
        total += n;
    }
    printf("  challenge ACKs per second: min %d, max %d, mean %ld\n", min, max,
           total / SECONDS);
    CHECK(min >= 500 && max <= 1499);
    CHECK(max - min > 300);
    CHECK(total / SECONDS > 900 && total / SECONDS < 1100);
}
