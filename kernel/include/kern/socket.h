/*
 * Sockets: the kfile side (kernel/linux/sys_socket.c turns the Linux
 * socket calls into these operations) and the protocol side (kernel/net/:
 * udp.c, tcp later). Addresses arrive already copied from the app and
 * checked; data buffers are app memory, checked but not copied: protocols
 * copy them outside the stack lock (kern/net.h).
 */
#ifndef KERN_SOCKET_H
#define KERN_SOCKET_H

#include <kern/file.h>
#include <kern/types.h>
#include <kern/waitq.h>

#define AF_UNSPEC 0
#define AF_UNIX   1
#define AF_INET   2
#define AF_INET6  10

#define SOCK_STREAM    1
#define SOCK_DGRAM     2
#define SOCK_RAW       3
#define SOCK_NONBLOCK  04000
#define SOCK_CLOEXEC   02000000

/* Linux message flags */
#define MSG_OOB       0x1
#define MSG_PEEK      0x2
#define MSG_DONTROUTE 0x4
#define MSG_TRUNC     0x20
#define MSG_DONTWAIT  0x40
#define MSG_EOR       0x80
#define MSG_WAITALL   0x100
#define MSG_NOSIGNAL  0x4000
#define MSG_MORE      0x8000
#define MSG_ERRQUEUE  0x2000
#define MSG_ZEROCOPY  0x4000000

#define SOCK_IOCTL_FIONREAD 0x541b

struct sock_addr {
    uint32_t addr;                  /* IPv4, network order */
    uint16_t port;                  /* network order */
};

struct sock_iov {
    void *base;                     /* app memory, checked */
    size_t len;
};
size_t sock_iov_total(const struct sock_iov *iov, int iovcnt);
/* Whether a zero-copy send of len bytes is copied by the stack instead
 * (at most zcopy_copy_max bytes, docs/zcopy.md "Small sends are copied"). */
bool sock_zc_copies(size_t len);

struct sock;

/* A zero-copy send's completion (zcopy_tx, MSG_ZEROCOPY, kernel/net/tcp*):
 * pending counts the send-queue pieces that still reference the sender's
 * buffers, plus one the sender holds while it is still queueing (dropped
 * by zc_notify_seal). When it reaches zero, fire runs, under net_lock:
 * every byte was ACKed and the device returned every descriptor. */
struct zc_notify {
    uint32_t pending;
    uint32_t id;                        /* MSG_ZEROCOPY: the send's number */
    bool copied;                        /* the stack had to copy the bytes */
    void (*fire)(struct zc_notify *zn);
};
void zc_notify_seal(struct zc_notify *zn);

struct sock_ops {
    int (*bind)(struct sock *s, const struct sock_addr *a);
    int (*connect)(struct sock *s, const struct sock_addr *a);
    int (*listen)(struct sock *s, int backlog);
    int (*accept)(struct sock *s, struct sock **out, struct sock_addr *peer);
    /* to: NULL for connected sockets. Returns bytes sent or -errno. */
    int64_t (*sendmsg)(struct sock *s, const struct sock_iov *iov, int iovcnt,
                       const struct sock_addr *to, int flags);
    /* Send by reference (stream sockets): the bytes at iov stay where they
     * are until zn fires (zn NULL: memory that never changes, such as the
     * image's pages for sendfile). The caller has faulted the pages in.
     * Returns bytes queued or -errno; zn is the caller's to seal. */
    int64_t (*sendmsg_ref)(struct sock *s, const struct sock_iov *iov, int iovcnt, int flags,
                           struct zc_notify *zn);
    /* MSG_ERRQUEUE: the oldest zero-copy completion range; -EAGAIN when
     * none is queued. */
    int (*recv_zc_range)(struct sock *s, uint32_t *lo, uint32_t *hi, bool *copied);
    /* from (may be NULL) gets the sender; *msg_flags gets MSG_TRUNC etc. */
    int64_t (*recvmsg)(struct sock *s, const struct sock_iov *iov, int iovcnt,
                       struct sock_addr *from, int flags, int *msg_flags);
    int (*shutdown)(struct sock *s, int how);
    unsigned (*poll)(struct sock *s);
    /* Protocol-level options (IPPROTO_TCP ...); SOL_SOCKET is generic. */
    int (*setsockopt)(struct sock *s, int level, int name, const void *val, size_t len);
    int (*getsockopt)(struct sock *s, int level, int name, void *val, size_t *len);
    /* Socket ioctls the protocol answers; arg points to kernel memory
     * (the system call copies results out): FIONREAD gets an int. */
    int (*ioctl)(struct sock *s, unsigned long cmd, uintptr_t arg);
    void (*close)(struct sock *s);
};

struct sock {
    const struct sock_ops *ops;
    struct kfile *file;             /* the kfile that holds it (weak) */
    int type, protocol;
    struct sock_addr local, remote;
    bool bound, connected, listening;
    int error;                      /* SO_ERROR, cleared when read */
    /* SOL_SOCKET options */
    bool reuseaddr, reuseport, keepalive, broadcast;
    bool zerocopy;                  /* SO_ZEROCOPY: MSG_ZEROCOPY is honoured */
    bool linger0;                   /* SO_LINGER on with 0 s: close resets */
    uint32_t rcvbuf, sndbuf;
    uint64_t rcvtimeo_ns, sndtimeo_ns;  /* 0: forever */
    struct waitq wait;              /* readers and writers block here */
};

/* Create a protocol socket (udp.c, tcp.c): fills *out. */
int udp_socket(struct sock **out);
int tcp_socket(struct sock **out);
int ping_socket(struct sock **out);     /* SOCK_DGRAM, IPPROTO_ICMP */

/* Wake blocked callers and poll/epoll waiters of s: its readiness may
 * have changed. Any context. */
void sock_wakeup(struct sock *s);
/* True when s is non-blocking (O_NONBLOCK on its file). */
bool sock_nonblocking(const struct sock *s);
/* With net_lock held: sleep until sock_wakeup(s) or timeout_ns (0:
 * forever), with the lock released meanwhile; false on timeout. */
bool net_wait(struct sock *s, uint64_t timeout_ns);

#endif
