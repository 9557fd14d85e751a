/*
 * The BSD socket system calls over kern/socket.h: sockets are kfiles
 * (read/write/poll/close work on them), addresses and message headers are
 * copied and checked here, data stays in app memory for the protocol to
 * copy. AF_INET only; AF_INET6 fails cleanly with EAFNOSUPPORT.
 */
#include <kern/errno.h>
#include <kern/file.h>
#include <kern/kmalloc.h>
#include <arch/mm.h>
#include <kern/socket.h>
#include <kern/string.h>
#include <kern/syscall.h>
#include <kern/uaccess.h>
#include <kern/vfs.h>
#include "linux.h"
#include "linux_time.h"

#define SOL_SOCKET    1
#define SO_REUSEADDR  2
#define SO_TYPE       3
#define SO_ERROR      4
#define SO_DONTROUTE  5
#define SO_BROADCAST  6
#define SO_SNDBUF     7
#define SO_RCVBUF     8
#define SO_KEEPALIVE  9
#define SO_LINGER     13
#define SO_REUSEPORT  15
#define SO_RCVTIMEO   20
#define SO_SNDTIMEO   21
#define SO_ACCEPTCONN 30
#define SO_PROTOCOL   38
#define SO_DOMAIN     39
#define SO_ZEROCOPY   60

/* MSG_ERRQUEUE's control message for zero-copy completions */
#define SOL_IP                   0
#define IP_RECVERR               11
#define SO_EE_ORIGIN_ZEROCOPY    5
#define SO_EE_CODE_ZEROCOPY_COPIED 1
#define MSG_CTRUNC               0x8

struct linux_cmsghdr {
    uint64_t len;
    int32_t level;
    int32_t type;
};

struct linux_sock_extended_err {
    uint32_t ee_errno;
    uint8_t ee_origin, ee_type, ee_code, ee_pad;
    uint32_t ee_info;
    uint32_t ee_data;
};

#define IOV_MAX 1024

struct linux_sockaddr_in {
    uint16_t family;
    uint16_t port;                      /* network order */
    uint32_t addr;                      /* network order */
    uint8_t zero[8];
};

struct linux_msghdr {
    void *name;
    uint32_t namelen;
    uint32_t pad;
    struct sock_iov *iov;               /* struct iovec: same layout */
    size_t iovlen;
    void *control;
    size_t controllen;
    int32_t flags;
    uint32_t pad2;
};

/* ---- the kfile ---------------------------------------------------------------- */

static struct sock *sock_of(struct kfile *f);

static int64_t sock_read(struct kfile *f, void *buf, size_t n, uint64_t *pos)
{
    struct sock *s = sock_of(f);
    struct sock_iov iov = { buf, n };
    int mflags = 0;
    return s->ops->recvmsg(s, &iov, 1, NULL, 0, &mflags);
}

static int64_t sock_write(struct kfile *f, const void *buf, size_t n, uint64_t *pos)
{
    struct sock *s = sock_of(f);
    struct sock_iov iov = { (void *)buf, n };
    return s->ops->sendmsg(s, &iov, 1, NULL, 0);
}

static unsigned sock_poll(struct kfile *f)
{
    struct sock *s = sock_of(f);
    return s->ops->poll(s);
}

static int sock_stat(struct kfile *f, struct kstat *st)
{
    memset(st, 0, sizeof(*st));
    st->mode = S_IFSOCK | 0777;
    st->nlink = 1;
    st->ino = (uint64_t)(uintptr_t)f->priv >> 4;
    return 0;
}

static int64_t sock_ioctl(struct kfile *f, unsigned long cmd, uintptr_t arg)
{
    struct sock *s = sock_of(f);
    if (cmd != SOCK_IOCTL_FIONREAD || !s->ops->ioctl)
        return -ENOTTY;
    int n;
    int err = s->ops->ioctl(s, cmd, (uintptr_t)&n);
    return err ? err : copy_to_user((void *)arg, &n, sizeof(n));
}

static void sock_release(struct kfile *f)
{
    struct sock *s = sock_of(f);
    s->file = NULL;
    s->ops->close(s);
}

static const struct kfile_ops socket_ops = {
    .kind = "socket",
    .read = sock_read,
    .write = sock_write,
    .stat = sock_stat,
    .ioctl = sock_ioctl,
    .poll = sock_poll,
    .release = sock_release,
};

static struct sock *sock_of(struct kfile *f)
{
    return f->priv;
}

/* The socket behind fd, with a reference on its file (put it). */
static struct sock *sock_get(int fd, struct kfile **fp, int *err)
{
    struct kfile *f = fd_get(fd);
    if (!f) {
        *err = -EBADF;
        return NULL;
    }
    if (f->ops != &socket_ops) {
        kfile_put(f);
        *err = -ENOTSOCK;
        return NULL;
    }
    *fp = f;
    return f->priv;
}

/* ---- addresses ------------------------------------------------------------------ */

static int addr_from_user(const void *uaddr, uint32_t len, struct sock_addr *a, bool *unspec)
{
    struct linux_sockaddr_in sin;
    uint16_t family;
    if (len < sizeof(family))
        return -EINVAL;
    if (copy_from_user(&family, uaddr, sizeof(family)))
        return -EFAULT;
    if (unspec && family == AF_UNSPEC) {
        *unspec = true;
        return 0;
    }
    if (family == AF_INET6)
        return -EAFNOSUPPORT;
    if (family != AF_INET)
        return -EAFNOSUPPORT;
    if (len < 16)
        return -EINVAL;
    if (copy_from_user(&sin, uaddr, sizeof(sin)))
        return -EFAULT;
    a->addr = sin.addr;
    a->port = sin.port;
    return 0;
}

/* Linux semantics: copy min(*ulen, 16) bytes, store the full length. */
static int addr_to_user(const struct sock_addr *a, void *uaddr, uint32_t *ulen)
{
    uint32_t len;
    if (!uaddr)
        return 0;
    if (copy_from_user(&len, ulen, sizeof(len)))
        return -EFAULT;
    if ((int32_t)len < 0)
        return -EINVAL;
    struct linux_sockaddr_in sin = { AF_INET, a->port, a->addr, { 0 } };
    if (copy_to_user(uaddr, &sin, MIN(len, (uint32_t)sizeof(sin))))
        return -EFAULT;
    len = sizeof(sin);
    return copy_to_user(ulen, &len, sizeof(len));
}

/* ---- the calls -------------------------------------------------------------------- */

SYSCALL3(socket, int, domain, int, type, int, protocol)
{
    int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (domain == AF_INET6)
        return -EAFNOSUPPORT;
    if (domain != AF_INET)
        return -EAFNOSUPPORT;
    if (type & ~(0xf | SOCK_NONBLOCK | SOCK_CLOEXEC))
        return -EINVAL;
    struct sock *s;
    int err = 0;
    if (base == SOCK_DGRAM && (protocol == 0 || protocol == 17))
        err = udp_socket(&s);
    else if (base == SOCK_DGRAM && protocol == 1)
        err = ping_socket(&s);
    else if (base == SOCK_STREAM && (protocol == 0 || protocol == 6))
        err = tcp_socket(&s);
    else if (base == SOCK_DGRAM || base == SOCK_STREAM)
        return -EPROTONOSUPPORT;
    else
        return -ESOCKTNOSUPPORT;
    if (err)
        return err;
    struct kfile *f = kfile_alloc(&socket_ops, s, O_RDWR | ((type & SOCK_NONBLOCK) ? O_NONBLOCK : 0));
    if (!f) {
        s->ops->close(s);
        return -ENOMEM;
    }
    s->file = f;
    int fd = fd_install(f, 0, (type & SOCK_CLOEXEC) ? FD_CLOEXEC : 0);
    if (fd < 0)
        kfile_put(f);
    return fd;
}

SYSCALL3(bind, int, fd, const void *, uaddr, uint32_t, len)
{
    struct kfile *f;
    struct sock_addr a;
    int err = 0;
    struct sock *s = sock_get(fd, &f, &err);
    if (!s)
        return err;
    err = addr_from_user(uaddr, len, &a, NULL);
    if (!err)
        err = s->ops->bind(s, &a);
    kfile_put(f);
    return err;
}

SYSCALL3(connect, int, fd, const void *, uaddr, uint32_t, len)
{
    struct kfile *f;
    struct sock_addr a;
    bool unspec = false;
    int err = 0;
    struct sock *s = sock_get(fd, &f, &err);
    if (!s)
        return err;
    err = addr_from_user(uaddr, len, &a, &unspec);
    if (!err)
        err = s->ops->connect(s, unspec ? NULL : &a);
    kfile_put(f);
    return err;
}

SYSCALL2(listen, int, fd, int, backlog)
{
    struct kfile *f;
    int err = 0;
    struct sock *s = sock_get(fd, &f, &err);
    if (!s)
        return err;
    err = s->ops->listen ? s->ops->listen(s, backlog) : -EOPNOTSUPP;
    kfile_put(f);
    return err;
}

static int64_t do_accept(int fd, void *uaddr, uint32_t *ulen, int flags)
{
    struct kfile *f;
    int err = 0;
    if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
        return -EINVAL;
    struct sock *s = sock_get(fd, &f, &err);
    if (!s)
        return err;
    if (!s->ops->accept) {
        kfile_put(f);
        return -EOPNOTSUPP;
    }
    struct sock *ns;
    struct sock_addr peer;
    err = s->ops->accept(s, &ns, &peer);
    kfile_put(f);
    if (err)
        return err;
    struct kfile *nf = kfile_alloc(&socket_ops, ns, O_RDWR | ((flags & SOCK_NONBLOCK) ? O_NONBLOCK : 0));
    if (!nf) {
        ns->ops->close(ns);
        return -ENOMEM;
    }
    ns->file = nf;
    int nfd = fd_install(nf, 0, (flags & SOCK_CLOEXEC) ? FD_CLOEXEC : 0);
    if (nfd < 0) {
        kfile_put(nf);
        return nfd;
    }
    if (uaddr && addr_to_user(&peer, uaddr, ulen)) {
        /* Linux returns EFAULT and the connection is lost the same way. */
        fd_close(nfd);
        return -EFAULT;
    }
    return nfd;
}

SYSCALL3(accept, int, fd, void *, uaddr, uint32_t *, ulen)
{
    return do_accept(fd, uaddr, ulen, 0);
}

SYSCALL4(accept4, int, fd, void *, uaddr, uint32_t *, ulen, int, flags)
{
    return do_accept(fd, uaddr, ulen, flags);
}

/* Copy and check an app iovec; the caller frees *out when it is not
 * the small array. */
static int iov_from_user(const struct sock_iov *uiov, size_t cnt, struct sock_iov *small,
                         size_t nsmall, struct sock_iov **out)
{
    if (cnt > IOV_MAX)
        return -EMSGSIZE;
    struct sock_iov *iov = cnt <= nsmall ? small : kmalloc(cnt * sizeof(*iov));
    if (!iov)
        return -ENOMEM;
    if (cnt && copy_from_user(iov, uiov, cnt * sizeof(*iov))) {
        if (iov != small)
            kfree(iov);
        return -EFAULT;
    }
    for (size_t i = 0; i < cnt; i++) {
        if (iov[i].len > 0x7ffff000 || !user_readable(iov[i].base, iov[i].len)) {
            if (iov != small)
                kfree(iov);
            return -EFAULT;
        }
    }
    *out = iov;
    return 0;
}

/* Zero-copy sends reference app pages that the device reads later, so
 * they must be present now: touch each one (a fault maps it). */
static int prefault(const struct sock_iov *iov, size_t cnt)
{
    for (size_t i = 0; i < cnt; i++) {
        const uint8_t *p = iov[i].base, *end = p + iov[i].len;
        while (p < end) {
            uint8_t c;
            if (copy_from_user(&c, p, 1))
                return -EFAULT;
            p = (const uint8_t *)(((uintptr_t)p | (PAGE_SIZE - 1)) + 1);
        }
    }
    return 0;
}

static int64_t do_sendmsg(int fd, struct sock_iov *iov, size_t cnt, const void *uaddr,
                          uint32_t alen, int flags)
{
    struct kfile *f;
    int err = 0;
    struct sock *s = sock_get(fd, &f, &err);
    if (!s)
        return err;
    struct sock_addr to;
    int64_t r = 0;
    if (uaddr && alen)
        r = addr_from_user(uaddr, alen, &to, NULL);
    if (!r && (flags & MSG_ZEROCOPY) && s->zerocopy && s->ops->sendmsg_ref)
        r = prefault(iov, cnt);
    if (!r)
        r = s->ops->sendmsg(s, iov, (int)cnt, uaddr && alen ? &to : NULL, flags);
    kfile_put(f);
    return r;
}

static int64_t do_recvmsg(int fd, struct sock_iov *iov, size_t cnt, void *uaddr,
                          uint32_t *ulen, int flags, int *mflags)
{
    struct kfile *f;
    int err = 0;
    struct sock *s = sock_get(fd, &f, &err);
    if (!s)
        return err;
    for (size_t i = 0; i < cnt; i++)
        if (!user_writable(iov[i].base, iov[i].len)) {
            kfile_put(f);
            return -EFAULT;
        }
    struct sock_addr from = { 0, 0 };
    int64_t r = s->ops->recvmsg(s, iov, (int)cnt, &from, flags, mflags);
    kfile_put(f);
    if (r >= 0 && uaddr && addr_to_user(&from, uaddr, ulen))
        return -EFAULT;
    return r;
}

SYSCALL6(sendto, int, fd, const void *, ubuf, size_t, len, int, flags, const void *, uaddr,
         uint32_t, alen)
{
    struct sock_iov iov = { (void *)ubuf, len };
    if (!user_readable(ubuf, len))
        return -EFAULT;
    return do_sendmsg(fd, &iov, 1, uaddr, alen, flags);
}

SYSCALL6(recvfrom, int, fd, void *, ubuf, size_t, len, int, flags, void *, uaddr,
         uint32_t *, ulen)
{
    struct sock_iov iov = { ubuf, len };
    int mflags = 0;
    return do_recvmsg(fd, &iov, 1, uaddr, ulen, flags, &mflags);
}

SYSCALL3(sendmsg, int, fd, const struct linux_msghdr *, umsg, int, flags)
{
    struct linux_msghdr m;
    struct sock_iov small[8], *iov;
    if (copy_from_user(&m, umsg, sizeof(m)))
        return -EFAULT;
    int err = iov_from_user(m.iov, m.iovlen, small, 8, &iov);
    if (err)
        return err;
    int64_t r = do_sendmsg(fd, iov, m.iovlen, m.name, m.namelen, flags);
    if (iov != small)
        kfree(iov);
    return r;
}

/* recvmsg(MSG_ERRQUEUE): one zero-copy completion range as Linux reports
 * it, a sock_extended_err in an IP_RECVERR control message; no data. */
static int64_t recv_errqueue(int fd, const struct linux_msghdr *m, struct linux_msghdr *umsg)
{
    struct kfile *f;
    int err = 0;
    struct sock *s = sock_get(fd, &f, &err);
    if (!s)
        return err;
    uint32_t lo, hi;
    bool copied = false;
    err = s->ops->recv_zc_range ? s->ops->recv_zc_range(s, &lo, &hi, &copied) : -EAGAIN;
    kfile_put(f);
    if (err)
        return err;
    struct {
        struct linux_cmsghdr h;
        struct linux_sock_extended_err ee;
    } c = { { sizeof(c), SOL_IP, IP_RECVERR },
            { 0, SO_EE_ORIGIN_ZEROCOPY, 0, copied ? SO_EE_CODE_ZEROCOPY_COPIED : 0, 0, lo, hi } };
    int mflags = MSG_ERRQUEUE;
    size_t clen = sizeof(c);
    if (m->controllen < sizeof(c)) {
        mflags |= MSG_CTRUNC;                   /* the range is lost, as on Linux */
        clen = 0;
    } else if (copy_to_user(m->control, &c, sizeof(c))) {
        return -EFAULT;
    }
    if (copy_to_user(&umsg->flags, &mflags, sizeof(mflags)) ||
        copy_to_user(&umsg->controllen, &clen, sizeof(clen)))
        return -EFAULT;
    return 0;
}

SYSCALL3(recvmsg, int, fd, struct linux_msghdr *, umsg, int, flags)
{
    struct linux_msghdr m;
    struct sock_iov small[8], *iov;
    if (copy_from_user(&m, umsg, sizeof(m)))
        return -EFAULT;
    int err = iov_from_user(m.iov, m.iovlen, small, 8, &iov);
    if (err)
        return err;
    int mflags = 0;
    if (flags & MSG_ERRQUEUE) {
        if (iov != small)
            kfree(iov);
        return recv_errqueue(fd, &m, umsg);
    }
    int64_t r = do_recvmsg(fd, iov, m.iovlen, m.name, m.name ? &umsg->namelen : NULL,
                           flags, &mflags);
    if (iov != small)
        kfree(iov);
    if (r >= 0) {
        size_t zero = 0;
        if (copy_to_user(&umsg->flags, &mflags, sizeof(mflags)) ||
            copy_to_user(&umsg->controllen, &zero, sizeof(zero)))
            return -EFAULT;
    }
    return r;
}

SYSCALL2(shutdown, int, fd, int, how)
{
    struct kfile *f;
    int err = 0;
    if (how < 0 || how > 2)
        return -EINVAL;
    struct sock *s = sock_get(fd, &f, &err);
    if (!s)
        return err;
    err = s->ops->shutdown ? s->ops->shutdown(s, how) : -EOPNOTSUPP;
    kfile_put(f);
    return err;
}

static int64_t sock_name(int fd, void *uaddr, uint32_t *ulen, bool peer)
{
    struct kfile *f;
    int err = 0;
    struct sock *s = sock_get(fd, &f, &err);
    if (!s)
        return err;
    struct sock_addr a = peer ? s->remote : s->local;
    bool ok = !peer || s->connected;
    kfile_put(f);
    if (!ok)
        return -ENOTCONN;
    return addr_to_user(&a, uaddr, ulen);
}

SYSCALL3(getsockname, int, fd, void *, uaddr, uint32_t *, ulen)
{
    return sock_name(fd, uaddr, ulen, false);
}

SYSCALL3(getpeername, int, fd, void *, uaddr, uint32_t *, ulen)
{
    return sock_name(fd, uaddr, ulen, true);
}

static int set_sol_socket(struct sock *s, int name, const void *uval, uint32_t len)
{
    if (name == SO_RCVTIMEO || name == SO_SNDTIMEO) {
        struct linux_timeval tv;
        if (len < sizeof(tv))
            return -EINVAL;
        if (copy_from_user(&tv, uval, sizeof(tv)))
            return -EFAULT;
        if (tv.tv_usec < 0 || tv.tv_usec >= 1000000)
            return -EDOM;
        uint64_t ns = tv.tv_sec < 0 ? 0 : (uint64_t)tv.tv_sec * NSEC_PER_SEC +
                                           (uint64_t)tv.tv_usec * 1000;
        if (name == SO_RCVTIMEO)
            s->rcvtimeo_ns = ns;
        else
            s->sndtimeo_ns = ns;
        return 0;
    }
    if (name == SO_LINGER) {
        struct { int32_t onoff, linger; } l;
        if (len < sizeof(l))
            return -EINVAL;
        if (copy_from_user(&l, uval, sizeof(l)))
            return -EFAULT;
        s->linger0 = l.onoff && l.linger == 0;
        return 0;
    }
    int v;
    if (len < sizeof(int))
        return -EINVAL;
    if (copy_from_user(&v, uval, sizeof(v)))
        return -EFAULT;
    switch (name) {
    case SO_REUSEADDR: s->reuseaddr = v; return 0;
    case SO_REUSEPORT: s->reuseport = v; return 0;
    case SO_KEEPALIVE: s->keepalive = v; return 0;
    case SO_BROADCAST: s->broadcast = v; return 0;
    case SO_DONTROUTE: return 0;
    /* Linux doubles the value for bookkeeping overhead and reports that. */
    case SO_RCVBUF: s->rcvbuf = (uint32_t)MAX(v, 1152) * 2; return 0;
    case SO_SNDBUF: s->sndbuf = (uint32_t)MAX(v, 2304) * 2; return 0;
    case SO_ZEROCOPY:
        if (s->type != SOCK_STREAM && s->type != SOCK_DGRAM)
            return -EOPNOTSUPP;
        s->zerocopy = v;
        return 0;
    default: return -ENOPROTOOPT;
    }
}

SYSCALL5(setsockopt, int, fd, int, level, int, name, const void *, uval, uint32_t, len)
{
    struct kfile *f;
    int err = 0;
    struct sock *s = sock_get(fd, &f, &err);
    if (!s)
        return err;
    if (level == SOL_SOCKET)
        err = set_sol_socket(s, name, uval, len);
    else if (s->ops->setsockopt) {
        uint8_t val[64];
        if (len > sizeof(val))
            err = -EINVAL;
        else if (copy_from_user(val, uval, len))
            err = -EFAULT;
        else
            err = s->ops->setsockopt(s, level, name, val, len);
    } else {
        err = -ENOPROTOOPT;
    }
    kfile_put(f);
    return err;
}

SYSCALL5(getsockopt, int, fd, int, level, int, name, void *, uval, uint32_t *, ulen)
{
    struct kfile *f;
    int err = 0;
    uint32_t len;
    struct sock *s = sock_get(fd, &f, &err);
    if (!s)
        return err;
    if (copy_from_user(&len, ulen, sizeof(len))) {
        kfile_put(f);
        return -EFAULT;
    }
    if ((int32_t)len < 0) {
        kfile_put(f);
        return -EINVAL;
    }
    uint8_t val[256];                   /* TCP_INFO is the largest: 232 bytes */
    size_t vlen = sizeof(int);
    int v = 0;
    err = 0;
    if (level == SOL_SOCKET) {
        switch (name) {
        case SO_TYPE:       v = s->type; break;
        case SO_PROTOCOL:   v = s->protocol; break;
        case SO_DOMAIN:     v = AF_INET; break;
        case SO_ERROR:      v = -s->error; s->error = 0; break;
        case SO_REUSEADDR:  v = s->reuseaddr; break;
        case SO_REUSEPORT:  v = s->reuseport; break;
        case SO_KEEPALIVE:  v = s->keepalive; break;
        case SO_BROADCAST:  v = s->broadcast; break;
        case SO_RCVBUF:     v = (int)s->rcvbuf; break;
        case SO_SNDBUF:     v = (int)s->sndbuf; break;
        case SO_ACCEPTCONN: v = s->listening; break;
        case SO_ZEROCOPY:   v = s->zerocopy; break;
        case SO_LINGER: {
            struct { int32_t onoff, linger; } l = { s->linger0, 0 };
            memcpy(val, &l, sizeof(l));
            vlen = sizeof(l);
            break;
        }
        case SO_RCVTIMEO:
        case SO_SNDTIMEO: {
            uint64_t ns = name == SO_RCVTIMEO ? s->rcvtimeo_ns : s->sndtimeo_ns;
            struct linux_timeval tv = { (int64_t)(ns / NSEC_PER_SEC),
                                        (int64_t)(ns % NSEC_PER_SEC / 1000) };
            memcpy(val, &tv, sizeof(tv));
            vlen = sizeof(tv);
            break;
        }
        default: err = -ENOPROTOOPT;
        }
        if (vlen == sizeof(int))
            memcpy(val, &v, sizeof(v));
    } else if (s->ops->getsockopt) {
        vlen = sizeof(val);
        err = s->ops->getsockopt(s, level, name, val, &vlen);
    } else {
        err = -ENOPROTOOPT;
    }
    kfile_put(f);
    if (err)
        return err;
    len = (uint32_t)MIN((size_t)len, vlen);
    if (copy_to_user(uval, val, len) || copy_to_user(ulen, &len, sizeof(len)))
        return -EFAULT;
    return 0;
}

SYSCALL4(socketpair, int, domain, int, type, int, protocol, int *, usv)
{
    return domain == AF_INET ? -EOPNOTSUPP : -EAFNOSUPPORT;
}

/* ---- zero-copy transmit ------------------------------------------------------------ */

/* A zero-copy send in the making: the app's iovec (from the struct
 * msghdr that starts its zmsghdr) and the stream socket it goes to. */
struct zsend {
    struct sock_iov small[8], *iov;
    size_t iovcnt, total;
    struct sock *s;
    struct kfile *sf;
};

static int zsend_begin(struct zsend *z, int fd, const struct linux_msghdr *m)
{
    int err = iov_from_user(m->iov, m->iovlen, z->small, 8, &z->iov);
    if (err)
        return err;
    z->iovcnt = m->iovlen;
    z->total = sock_iov_total(z->iov, (int)z->iovcnt);
    z->s = sock_get(fd, &z->sf, &err);
    if (z->s && (z->s->type != SOCK_STREAM || !z->s->ops->sendmsg_ref)) {
        kfile_put(z->sf);
        z->s = NULL;
        err = -EOPNOTSUPP;
    }
    if (!z->s && z->iov != z->small)
        kfree(z->iov);
    return z->s ? 0 : err;
}

static void zsend_end(struct zsend *z)
{
    kfile_put(z->sf);
    if (z->iov != z->small)
        kfree(z->iov);
}

/* Queue z's bytes by reference with completion zn, which the caller
 * makes and seals: the bytes queued or -errno. */
static int64_t zsend_by_ref(struct zsend *z, struct zc_notify *zn)
{
    int64_t r = prefault(z->iov, z->iovcnt);
    return r < 0 ? r : z->s->ops->sendmsg_ref(z->s, z->iov, (int)z->iovcnt, 0, zn);
}

/* zcopy_tx(s, zm) (include/tern/zcopy.h): zm starts with a struct msghdr
 * whose iovec is sent by reference; zm_txfd, right after it, gets the
 * completion descriptor (kernel/linux/zcopy_file.c). */
SYSCALL2(tern_zcopy_tx, int, fd, void *, uzm)
{
    struct linux_msghdr m;
    if (copy_from_user(&m, uzm, sizeof(m)))
        return -EFAULT;
    struct zsend z;
    int err = zsend_begin(&z, fd, &m);
    if (err)
        return err;
    struct kfile *zf;
    struct zc_notify *zn = zcopy_file_new(&zf);
    if (!zn) {
        zsend_end(&z);
        return -ENOMEM;
    }
    int64_t r = zsend_by_ref(&z, zn);
    zsend_end(&z);
    int zfd = r >= 0 ? fd_install(zf, 0, FD_CLOEXEC) : -1;
    if (r >= 0 && zfd < 0) {
        r = zfd;                        /* queued, but nobody can wait for it */
        kfile_put(zf);
    } else if (r >= 0 && copy_to_user((uint8_t *)uzm + sizeof(m), &zfd, sizeof(zfd))) {
        fd_close(zfd);
        r = -EFAULT;
    } else if (r < 0) {
        kfile_put(zf);
    }
    /* Only now may it fire: the descriptor exists. */
    zc_notify_seal(zn);
    return r;
}

/* zcopy_txq_open(flags) and zcopy_txq(s, zm, q) (include/tern/zcopy.h):
 * zero-copy sends whose completions are counted, in order, on one
 * descriptor (kernel/linux/zcopy_txq.c). */
SYSCALL1(tern_zcopy_txq_open, unsigned, flags)
{
    if (flags & ~(unsigned)(O_NONBLOCK | O_CLOEXEC))
        return -EINVAL;
    struct kfile *f = zcopy_txq_new(flags);
    if (!f)
        return -ENOMEM;
    int fd = fd_install(f, 0, (flags & O_CLOEXEC) ? FD_CLOEXEC : 0);
    if (fd < 0)
        kfile_put(f);
    return fd;
}

SYSCALL3(tern_zcopy_txq, int, fd, void *, uzm, int, qfd)
{
    struct linux_msghdr m;
    if (copy_from_user(&m, uzm, sizeof(m)))
        return -EFAULT;
    struct kfile *qf = fd_get(qfd);
    if (!qf)
        return -EBADF;
    struct zsend z;
    int64_t r = zsend_begin(&z, fd, &m);
    if (r) {
        kfile_put(qf);
        return r;
    }
    if (sock_zc_copies(z.total)) {
        /* Copied by the stack anyway (docs/zcopy.md, "Small sends are
         * copied"): a send(), counted complete as it returns. */
        if (!(r = zcopy_txq_copy_begin(qf))) {
            r = z.s->ops->sendmsg(z.s, z.iov, (int)z.iovcnt, NULL, 0);
            zcopy_txq_copy_end(qf, r > 0);
        }
    } else {
        int err;
        struct zc_notify *zn = zcopy_txq_send_new(qf, &err);
        r = zn ? zsend_by_ref(&z, zn) : err;
        if (zn)
            zcopy_txq_send_end(zn, r > 0);
    }
    zsend_end(&z);
    kfile_put(qf);
    return r;
}

/* sendfile(2). From a file that can be mapped (ROFS: the image's pages,
 * which never change) to a stream socket, the pages are sent by
 * reference; otherwise the bytes are copied through a kernel buffer. */
#define SENDFILE_BOUNCE (64 * 1024)

static int64_t sendfile_copy(struct kfile *out, struct kfile *in, uint64_t *off, bool positioned,
                             size_t count)
{
    if (!in->ops->read && !in->ops->pread)
        return -EINVAL;
    if (!out->ops->write || (out->flags & O_ACCMODE) == O_RDONLY)
        return -EBADF;
    uint8_t *buf = kmalloc(SENDFILE_BOUNCE);
    if (!buf)
        return -ENOMEM;
    size_t done = 0;
    int64_t err = 0;
    while (done < count) {
        size_t n = MIN(count - done, (size_t)SENDFILE_BOUNCE);
        int64_t r;
        if (positioned && in->ops->pread)
            r = in->ops->pread(in, buf, n, *off);
        else if (positioned)
            r = -ESPIPE;
        else
            r = in->ops->read(in, buf, n, in->ops->lseek ? &in->pos : NULL);
        if (r <= 0) {
            err = r;
            break;
        }
        int64_t w = out->ops->write(out, buf, (size_t)r, out->ops->lseek ? &out->pos : NULL);
        if (w <= 0) {
            err = w ? w : -EIO;
            break;
        }
        if (positioned)
            *off += (uint64_t)w;
        done += (size_t)w;
        if (w < r) {
            if (!positioned && in->ops->lseek)
                in->pos -= (uint64_t)(r - w);   /* give back what was not sent */
            break;
        }
    }
    kfree(buf);
    return done ? (int64_t)done : err;
}

SYSCALL4(sendfile, int, out_fd, int, in_fd, int64_t *, uoff, size_t, count)
{
    struct kfile *in = fd_get(in_fd);
    if (!in)
        return -EBADF;
    struct kfile *out = fd_get(out_fd);
    if (!out) {
        kfile_put(in);
        return -EBADF;
    }
    int64_t r;
    int64_t off64 = 0;
    if ((in->flags & O_ACCMODE) == O_WRONLY) {
        r = -EBADF;
        goto done;
    }
    if (uoff && copy_from_user(&off64, uoff, sizeof(off64))) {
        r = -EFAULT;
        goto done;
    }
    if (off64 < 0) {
        r = -EINVAL;
        goto done;
    }
    count = MIN(count, (size_t)0x7ffff000);     /* Linux's MAX_RW_COUNT */
    uint64_t off = uoff ? (uint64_t)off64 : in->pos;
    struct sock *s = out->ops == &socket_ops ? out->priv : NULL;
    struct vm_file vf;
    if (s && s->type == SOCK_STREAM && s->ops->sendmsg_ref && in->ops->mmap &&
        in->ops->mmap(in, &vf) == 0) {
        r = 0;
        if (off < vf.size && count) {
            struct sock_iov iov = { (void *)(vf.data + off), MIN(count, (size_t)(vf.size - off)) };
            r = s->ops->sendmsg_ref(s, &iov, 1, 0, NULL);
        }
        if (r > 0)
            off += (uint64_t)r;
    } else {
        r = sendfile_copy(out, in, &off, uoff != NULL, count);
        if (!uoff) {
            kfile_put(in);
            kfile_put(out);
            return r;                           /* read() moved the position */
        }
    }
    if (r > 0) {
        if (uoff) {
            off64 = (int64_t)off;
            if (copy_to_user(uoff, &off64, sizeof(off64)))
                r = -EFAULT;
        } else {
            in->pos = off;
        }
    }
done:
    kfile_put(in);
    kfile_put(out);
    return r;
}
