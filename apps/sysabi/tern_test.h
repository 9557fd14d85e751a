/*
 * Tern's test system call for the syscall ABI torture app (apps/sysabi).
 *
 * SYS_tern_argcheck checks, inside the kernel, that the six argument
 * registers hold what the caller announced, does something that may switch
 * threads, and checks them again in the kernel's saved frame. A pointer
 * argument corrupted across a context switch was exactly OSv's zcopy_tx bug
 * (docs/abi-contract.md); this call makes that class of bug visible.
 *
 *   long r = syscall(SYS_tern_argcheck, &a, a.expect[1], a.expect[2],
 *                    a.expect[3], a.expect[4], a.expect[5]);
 *
 * Registers: rdi = &a (so expect[0] must be (uint64_t)&a), rsi, rdx, r10,
 * r8, r9 = expect[1..5]. The kernel:
 *   1. reads the struct from rdi; unreadable -> -EFAULT;
 *      action > 3 or reserved != 0 -> -EINVAL;
 *   2. compares the six argument registers of the saved frame with
 *      expect[0..5]: bit i of the result is set when argument i differed;
 *   3. performs the action (0: nothing, 1: yield, 2: sleep ~50 us,
 *      3: block on a kernel mutex that another thread holds, i.e. contended
 *      when several threads call this at once);
 *   4. re-reads the six argument registers from its saved frame and sets
 *      bit 8 + i when argument i now differs from expect[i].
 * It returns that mask (0 = all good). Linux returns -ENOSYS.
 */
#ifndef TERN_TEST_H
#define TERN_TEST_H

#include <stdint.h>

#define SYS_tern_argcheck 0x7e55

struct tern_argcheck {
    uint64_t expect[6];  /* what rdi, rsi, rdx, r10, r8, r9 must hold; expect[0] is this struct's own address */
    uint32_t action;     /* 0: return at once, 1: yield, 2: sleep ~50 us, 3: block on a contended kernel mutex */
    uint32_t reserved;   /* 0 */
};

#define TERN_ARGCHECK_NOW    0
#define TERN_ARGCHECK_YIELD  1
#define TERN_ARGCHECK_SLEEP  2
#define TERN_ARGCHECK_MUTEX  3

/* Result bits: argument i (0 = rdi, 1 = rsi, 2 = rdx, 3 = r10, 4 = r8,
 * 5 = r9) differed on entry / after the action. */
#define TERN_ARGCHECK_ENTRY(i)  (1ULL << (i))
#define TERN_ARGCHECK_AFTER(i)  (1ULL << (8 + (i)))

#endif
