/*
 * The ways to send of the two bulk TCP senders, apps/tcpbulk (the
 * correctness tool) and bench/bulksend (the benchmark's sender): their
 * --mode names, and what the zero-copy modes need that musl does not
 * give. Both are one static binary that runs on Tern and on Linux.
 * Include tool_util.h first (the errors here are its die()).
 */
#ifndef TCP_SEND_MODE_H
#define TCP_SEND_MODE_H

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <tern/zcopy.h>

/*   send          send() (the stack copies)
 *   msg_zerocopy  Linux's SO_ZEROCOPY + send(MSG_ZEROCOPY), completions on
 *                 the socket's error queue
 *   zcopy         Tern's zcopy_tx, a completion descriptor per call
 *   sendfile      sendfile() of a file
 *   zcopy_txq     Tern's zcopy_txq: zcopy_tx with the completions counted,
 *                 in order, on one queue descriptor */
enum send_mode { M_SEND, M_MSG_ZEROCOPY, M_ZCOPY, M_SENDFILE, M_ZCOPY_TXQ };
#define SEND_MODES 5
static const char *const send_mode_names[SEND_MODES] = { "send", "msg_zerocopy", "zcopy",
                                                         "sendfile", "zcopy_txq" };

/* --mode NAME, given whether --file PATH came too (it goes with sendfile,
 * and only with it). Returns NULL, or what is wrong, for usage(). */
static inline const char *parse_send_mode(const char *name, int have_file, enum send_mode *mode)
{
    int m;
    for (m = 0; m < SEND_MODES && strcmp(name, send_mode_names[m]); m++)
        ;
    if (m == SEND_MODES)
        return "--mode: send, msg_zerocopy, zcopy, zcopy_txq or sendfile";
    if ((m == M_SENDFILE) != (have_file != 0))
        return "--file PATH goes with --mode sendfile (and only with it)";
    *mode = (enum send_mode)m;
    return NULL;
}

/* Linux's error-queue record (<linux/errqueue.h>, which musl does not
 * ship): the kernel ABI, spelled out. */
struct zc_sock_extended_err {
    uint32_t ee_errno;
    uint8_t ee_origin;
    uint8_t ee_type;
    uint8_t ee_code;
    uint8_t ee_pad;
    uint32_t ee_info;   /* zero-copy: first send id of the range */
    uint32_t ee_data;   /* zero-copy: last send id of the range */
};
#define ZC_SO_EE_ORIGIN_ZEROCOPY      5
#define ZC_SO_EE_CODE_ZEROCOPY_COPIED 1

/* One message from socket s's error queue into m (which holds the
 * caller's control buffer), without waiting: 1, or 0 when the queue is
 * empty. A failure is fatal. */
static inline int recv_errqueue(int s, struct msghdr *m)
{
    for (;;) {
        if (recvmsg(s, m, MSG_ERRQUEUE | MSG_DONTWAIT) >= 0)
            return 1;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        if (errno != EINTR)
            die("recvmsg(MSG_ERRQUEUE): %s", strerror(errno));
    }
}

/* Whether zcopy_tx exists here, asked before bothering a peer: outside
 * Tern the system call fails with ENOSYS (on Tern a bad descriptor is
 * EBADF). */
/* zm describing the one buffer [base, base+len), through iov. */
static inline void zmsg_one(struct zmsghdr *zm, struct iovec *iov, void *base, size_t len)
{
    memset(zm, 0, sizeof(*zm));
    iov->iov_base = base;
    iov->iov_len = len;
    zm->zm_msg.msg_iov = iov;
    zm->zm_msg.msg_iovlen = 1;
}

static inline int have_zcopy_tx(void)
{
    struct zmsghdr probe;
    memset(&probe, 0, sizeof(probe));
    return !(zcopy_tx(-1, &probe) < 0 && errno == ENOSYS);
}

#endif
