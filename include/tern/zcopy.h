/*
 * Zero-copy transmit on Tern (docs/zcopy.md).
 *
 *     struct iovec iov = { buf, len };
 *     struct zmsghdr zm = { .zm_msg = { .msg_iov = &iov, .msg_iovlen = 1 } };
 *     ssize_t n = zcopy_tx(sock, &zm);          // buf is now the stack's
 *     struct pollfd p = { zm.zm_txfd, POLLIN };
 *     poll(&p, 1, -1);                          // every byte ACKed and
 *     zcopy_txclose(&zm);                       // back from the device
 *     // buf is the app's again
 *
 * zcopy_tx queues the bytes of zm->zm_msg's iovec on a connected TCP
 * socket by reference: the network device reads them straight from the
 * app's pages. It blocks until all of them are queued (a non-blocking
 * socket queues what fits, at least one byte, or fails with EAGAIN) and
 * returns how many it queued. zm->zm_txfd is then a file descriptor that
 * becomes readable (POLLIN; read gives the 8-byte count 1) once the peer
 * acknowledged every queued byte and the device returned every descriptor
 * that pointed at them. Until then the buffers must be neither written nor
 * unmapped. zcopy_txclose closes the descriptor (at any time: closing it
 * early only gives up the notification).
 *
 * The same struct layout and names as OSv's <osv/zcopy.h>, so programs
 * written for OSv's zcopy_tx build unchanged.
 *
 * Outside Tern (e.g. the same binary run on Linux) the system call fails
 * with ENOSYS; apps may fall back to send().
 */
#ifndef TERN_ZCOPY_H
#define TERN_ZCOPY_H

#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Tern's own system call numbers (beside 0x7e54/0x7e55, the test calls). */
#define SYS_tern_zcopy_tx       0x7e60
#define SYS_tern_zcopy_txq_open 0x7e61
#define SYS_tern_zcopy_txq      0x7e62

struct zmsghdr {
    struct msghdr zm_msg;       /* msg_iov/msg_iovlen: what to send */
    int zm_txfd;                /* out: the completion descriptor, or -1 */
    void *zm_txhandle;          /* reserved */
    void *zm_rxhandle;          /* reserved (zero-copy receive) */
};

static inline ssize_t zcopy_tx(int s, struct zmsghdr *zm)
{
    long ret;
    zm->zm_txfd = -1;
    /* The raw instruction, so that the header needs no library: rax is
     * the number, rdi/rsi the arguments; rcx and r11 are clobbered by
     * the syscall ABI. */
#if defined(__x86_64__)
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"((long)SYS_tern_zcopy_tx), "D"((long)s), "S"(zm)
                     : "rcx", "r11", "memory");
#elif defined(__aarch64__)
    register long x8 __asm__("x8") = SYS_tern_zcopy_tx;
    register long x0 __asm__("x0") = s;
    register long x1 __asm__("x1") = (long)zm;
    __asm__ volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1) : "memory");
    ret = x0;
#else
#error "zcopy.h: unsupported architecture"
#endif
    if (ret < 0 && ret > -4096) {
        extern int *__errno_location(void);
        *__errno_location() = (int)-ret;
        return -1;
    }
    return ret;
}

static inline void zcopy_txclose(struct zmsghdr *zm)
{
    if (zm->zm_txfd >= 0)
        close(zm->zm_txfd);
    zm->zm_txfd = -1;
}

/*
 * A completion queue: one descriptor for many sends (Tern's own; OSv has
 * no such call). For a sender that keeps several buffers in flight, it
 * replaces the descriptor per send and the poll, read and close per
 * completion with one read now and then:
 *
 *     int q = zcopy_txq_open(0);                 // once
 *     zcopy_txq(sock, &zm, q);                   // buffer i is the stack's
 *     ...
 *     uint64_t n;
 *     read(q, &n, sizeof n);                     // the n oldest buffers
 *                                                // still in flight are free
 *
 * zcopy_txq sends like zcopy_tx (zm_txfd stays -1) and returns the bytes
 * queued. Sends through one queue are numbered in the order the calls
 * return; a read of the queue gives the 8-byte count of further sends
 * that completed (every byte ACKed and back from the device) such that
 * all earlier ones have completed too, so the app frees its buffers
 * oldest first. It blocks while that count is 0 (EAGAIN with
 * O_NONBLOCK); poll/epoll report POLLIN when it would not block. One
 * queue serves any number of sockets. A call that queued nothing (an
 * error) is not counted. At most 4096 sends may be in flight on a queue:
 * beyond that zcopy_txq fails with ENOBUFS until the app reads. Closing
 * the queue gives up the counts; the buffers still belong to the stack
 * until their (unobserved) completion. flags: O_NONBLOCK, O_CLOEXEC.
 */
static inline long __tern_syscall3(long nr, long a, long b, long c)
{
    long ret;
#if defined(__x86_64__)
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(nr), "D"(a), "S"(b), "d"(c)
                     : "rcx", "r11", "memory");
#elif defined(__aarch64__)
    register long x8 __asm__("x8") = nr;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    __asm__ volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
    ret = x0;
#endif
    if (ret < 0 && ret > -4096) {
        extern int *__errno_location(void);
        *__errno_location() = (int)-ret;
        return -1;
    }
    return ret;
}

static inline int zcopy_txq_open(int flags)
{
    return (int)__tern_syscall3(SYS_tern_zcopy_txq_open, flags, 0, 0);
}

static inline ssize_t zcopy_txq(int s, struct zmsghdr *zm, int q)
{
    zm->zm_txfd = -1;
    return __tern_syscall3(SYS_tern_zcopy_txq, s, (long)zm, q);
}

#ifdef __cplusplus
}
#endif

#endif
