/*
 * The global limit on challenge ACKs (RFC 5961 section 7). A RST or SYN
 * inside the window but not exactly at rcv_nxt is answered with a challenge
 * ACK instead of being obeyed; without a limit a flood of them turns the
 * stack into an ACK reflector.
 *
 * The budget is per second and not fixed: a fixed, global count was the
 * side channel of CVE-2016-5696 (Cao et al., "Off-Path TCP Exploits"): an
 * off-path attacker spent the budget itself, counted the challenge ACKs
 * still coming back to it, and so learnt whether its guessed four-tuple
 * or sequence number had drawn one from a victim's connection. Like Linux
 * since then, each second gets a random budget between half and one and a
 * half times the limit, so the count left says little.
 */
#include <kern/random.h>

#include "tcp.h"

/* Linux's tcp_challenge_ack_limit before it became per network namespace. */
#define CHALLENGE_ACKS_PER_S 1000u

static uint64_t budget_second = UINT64_MAX;     /* none started yet */
static uint32_t budget_left;

bool tcp_challenge_ack_allowed(uint64_t now_ms)
{
    uint64_t second = now_ms / 1000;
    if (second != budget_second) {
        budget_second = second;
        budget_left = CHALLENGE_ACKS_PER_S / 2 +
                      (uint32_t)(random_u64() % CHALLENGE_ACKS_PER_S);
    }
    if (!budget_left)
        return false;
    budget_left--;
    return true;
}
