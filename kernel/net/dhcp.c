/*
 * DHCP client (RFC 2131, options from RFC 2132) for the interfaces whose
 * image settings say "net.ip dhcp". It lives inside the stack: net_tick
 * drives its timers, udp_input hands it every datagram to port 68 before
 * the socket lookup, and it sends through ip_output_on, which can send
 * from 0.0.0.0 on an interface that has no address yet.
 *
 * The states (RFC 2131 figure 5, without INIT-REBOOT: nothing of a lease
 * survives a boot):
 *   SELECTING   DISCOVER, broadcast; the first acceptable OFFER wins.
 *   REQUESTING  REQUEST, broadcast, naming the offered address (option 50)
 *               and its server (54).
 *   BOUND       after the ACK: the interface gets the address, the netmask
 *               (option 1, else the address's class), the gateway (the
 *               first router of option 3) and, when smaller than the
 *               device's, the MTU (26).
 *   RENEWING    from T1: REQUEST from our address, unicast to the server.
 *   REBINDING   from T2: the same, broadcast, for any server to answer.
 * A NAK in REQUESTING, RENEWING or REBINDING, and the end of the lease,
 * drop the address and start over with a new DISCOVER.
 *
 * Timers (net_tick runs every 100 ms, so they are that coarse):
 * - DISCOVER and REQUEST are retransmitted after 4 s, 8 s, 16 s, 32 s,
 *   then every 64 s, each randomized by up to ±1 s (RFC 2131 4.1).
 *   DISCOVERs go on for ever; a REQUEST unanswered four times (about a
 *   minute) sends the client back to DISCOVER.
 * - T1 and T2 come from options 58 and 59, else are 1/2 and 7/8 of the
 *   lease (4.4.5), counted from when the REQUEST that got the lease was
 *   first sent (4.4.1). A lease of 0xffffffff s never ends; one shorter
 *   than 10 s counts as 10 s, so a broken server cannot make us spin.
 * - While renewing or rebinding, the REQUEST is repeated after half the
 *   time left until T2 (renewing) or the lease's end (rebinding), but no
 *   sooner than 60 s (4.4.5).
 * Left out on purpose: the random 1-10 s wait before the first DISCOVER
 * (4.4.1; boot would wait for it), the ARP probe of an offered address
 * with DECLINE (2.2; the address is announced by gratuitous ARP instead),
 * and RELEASE at exit (the lease simply runs out).
 *
 * Malformed replies (short, wrong xid or hardware address, bad magic
 * cookie, options running past their field) are dropped whole.
 */
#include <kern/printf.h>
#include <kern/printk.h>
#include <kern/random.h>
#include <kern/string.h>
#include "net_internal.h"

#define DHCP_SERVER_PORT    67
#define DHCP_CLIENT_PORT    68

/* The BOOTP message (RFC 2131 figure 1): offsets of its fields. */
#define BOOTP_OP        0
#define BOOTP_HTYPE     1
#define BOOTP_HLEN      2
#define BOOTP_XID       4
#define BOOTP_SECS      8
#define BOOTP_CIADDR    12
#define BOOTP_YIADDR    16
#define BOOTP_CHADDR    28
#define BOOTP_SNAME     44
#define BOOTP_FILE      108
#define BOOTP_COOKIE    236
#define BOOTP_OPTIONS   240
#define BOOTP_MIN_LEN   300     /* RFC 1542: some relay agents drop less */
#define SNAME_LEN       64
#define FILE_LEN        128

#define BOOTREQUEST     1
#define BOOTREPLY       2
#define HTYPE_ETHER     1
#define DHCP_MAGIC      0x63825363

/* Options (RFC 2132) */
#define OPT_PAD         0
#define OPT_NETMASK     1
#define OPT_ROUTER      3
#define OPT_DNS         6
#define OPT_MTU         26
#define OPT_REQUESTED   50
#define OPT_LEASE       51
#define OPT_OVERLOAD    52
#define OPT_MSG_TYPE    53
#define OPT_SERVER_ID   54
#define OPT_PARAMS      55
#define OPT_MAX_SIZE    57
#define OPT_T1          58
#define OPT_T2          59
#define OPT_CLIENT_ID   61
#define OPT_END         255

/* Message types (option 53) */
#define DHCPDISCOVER    1
#define DHCPOFFER       2
#define DHCPREQUEST     3
#define DHCPACK         5
#define DHCPNAK         6

#define SEC_NS              1000000000ULL
#define MS_NS               1000000ULL
#define RETRY_FIRST_S       4
#define RETRY_DOUBLINGS     4       /* 4 s doubled 4 times: 64 s at most */
#define REQUEST_TRIES       4       /* then back to DISCOVER */
#define DISCOVER_WARN_TRIES 4       /* say once that no server answers */
#define RENEW_RETRY_MIN_NS  (60 * SEC_NS)
#define LEASE_MIN_S         10
#define LEASE_INFINITE      0xffffffffu
#define MIN_MTU             576     /* what every IPv4 host must take */
#define MAX_CLIENTS         4

enum dhcp_state {
    DHCP_OFF,
    DHCP_SELECTING,
    DHCP_REQUESTING,
    DHCP_BOUND,
    DHCP_RENEWING,
    DHCP_REBINDING,
};

struct dhcp_client {
    struct netif *ifp;                  /* NULL: a free slot */
    enum dhcp_state state;
    uint32_t xid;                       /* of the current exchange */
    unsigned tries;                     /* sends of the current message */
    uint64_t started;                   /* the exchange's start (secs field) */
    uint64_t asked;                     /* the first REQUEST of the exchange */
    uint64_t next;                      /* the next retransmission */
    uint32_t offered;                   /* REQUESTING: the address asked for */
    uint32_t server;                    /* the server of the offer or lease */
    uint32_t addr;                      /* the leased address; 0: none */
    uint64_t t1, t2, expiry;
    uint16_t device_mtu;                /* to restore when the lease goes */
    bool ever_bound;
};

static struct dhcp_client clients[MAX_CLIENTS];

/* What a reply said; have: the OPT_* options seen, as bits. */
struct dhcp_reply {
    uint8_t type;
    uint32_t netmask, router, dns[2], server;
    uint32_t lease, t1, t2;
    uint16_t mtu;
    uint64_t have;
};

/* Every option kept has a code below 64: one bit each. */
#define HAVE(opt) (1ULL << ((opt) & 63))

static const uint8_t param_request[] = {
    OPT_NETMASK, OPT_ROUTER, OPT_DNS, OPT_LEASE, OPT_T1, OPT_T2, OPT_MTU,
};

static struct dhcp_client *client_of(const struct netif *ifp)
{
    for (int i = 0; i < MAX_CLIENTS; i++)
        if (clients[i].ifp == ifp)
            return &clients[i];
    return NULL;
}

static void format_ip(uint32_t a, char *buf, size_t size)
{
    const uint8_t *b = (const uint8_t *)&a;
    snprintf(buf, size, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
}

/* An address a host can have: not 0/8, loopback, multicast or class E. */
static bool usable_addr(uint32_t a)
{
    uint32_t top = ntohl(a) >> 24;
    return top != 0 && top != 127 && top < 224;
}

/* A netmask is ones then zeros, and not all zeros. */
static bool contiguous_mask(uint32_t m)
{
    uint32_t inv = ~ntohl(m);
    return m && (inv & (inv + 1)) == 0;
}

/* Without option 1, RFC 2131 leaves the client to choose: the class's. */
static uint32_t classful_mask(uint32_t a)
{
    uint32_t h = ntohl(a);
    if (h < 0x80000000u)
        return htonl(0xff000000u);
    if (h < 0xc0000000u)
        return htonl(0xffff0000u);
    return htonl(0xffffff00u);
}

static unsigned prefix_len(uint32_t m)
{
    unsigned n = 0;
    for (uint32_t h = ntohl(m); h & 0x80000000u; h <<= 1)
        n++;
    return n;
}

static uint32_t new_xid(void)
{
    return (uint32_t)random_u64();
}

/* How long to wait after the tries-th send of a DISCOVER or REQUEST. */
static uint64_t backoff_ns(unsigned tries)
{
    unsigned doublings = MIN(tries ? tries - 1 : 0, RETRY_DOUBLINGS);
    uint64_t base = ((uint64_t)RETRY_FIRST_S << doublings) * SEC_NS;
    uint64_t jitter = (random_u64() % 2001) * MS_NS;    /* 0 .. 2 s */
    return base - SEC_NS + jitter;
}

/* Half the time from now until then, but at least a minute (4.4.5). */
static uint64_t renew_retry_ns(uint64_t then, uint64_t now)
{
    uint64_t half = then > now ? (then - now) / 2 : 0;
    return MAX(half, RENEW_RETRY_MIN_NS);
}

/* Build and send a DISCOVER or REQUEST for the client's state. */
static void send_message(struct dhcp_client *c, uint8_t type, uint64_t now)
{
    struct netif *ifp = c->ifp;
    /* Renewing and rebinding clients have an address and use it
     * (ciaddr, IP source); before that, everything is from 0.0.0.0. */
    bool have_addr = c->state == DHCP_RENEWING || c->state == DHCP_REBINDING;
    uint32_t src = have_addr ? c->addr : 0;
    uint32_t dst = c->state == DHCP_RENEWING ? c->server : 0xffffffff;
    uint32_t len = UDP_HLEN + BOOTP_MIN_LEN;

    struct netbuf *nb = netbuf_alloc(len);
    if (!nb)
        return;                         /* the retransmission will try again */
    uint8_t *u = netbuf_put(nb, len);
    memset(u, 0, len);
    uint8_t *m = u + UDP_HLEN;
    m[BOOTP_OP] = BOOTREQUEST;
    m[BOOTP_HTYPE] = HTYPE_ETHER;
    m[BOOTP_HLEN] = ETH_ALEN;
    put_be32(m + BOOTP_XID, c->xid);
    uint64_t secs = (now - c->started) / SEC_NS;
    put_be16(m + BOOTP_SECS, (uint16_t)MIN(secs, 0xffffu));
    if (have_addr)
        memcpy(m + BOOTP_CIADDR, &c->addr, 4);
    memcpy(m + BOOTP_CHADDR, ifp->mac, ETH_ALEN);
    put_be32(m + BOOTP_COOKIE, DHCP_MAGIC);

    /* At most 3 + 9 + 4 + 12 + 9 + 1 = 38 bytes of options, within
     * BOOTP_MIN_LEN; the zeros after END are padding. */
    uint8_t *o = m + BOOTP_OPTIONS;
    *o++ = OPT_MSG_TYPE;
    *o++ = 1;
    *o++ = type;
    *o++ = OPT_CLIENT_ID;               /* type 1 (Ethernet), then the MAC */
    *o++ = 1 + ETH_ALEN;
    *o++ = HTYPE_ETHER;
    memcpy(o, ifp->mac, ETH_ALEN);
    o += ETH_ALEN;
    *o++ = OPT_MAX_SIZE;                /* a whole frame's datagram */
    *o++ = 2;
    put_be16(o, (uint16_t)MAX(c->device_mtu, MIN_MTU));
    o += 2;
    if (c->state == DHCP_REQUESTING) {
        *o++ = OPT_REQUESTED;
        *o++ = 4;
        memcpy(o, &c->offered, 4);
        o += 4;
        *o++ = OPT_SERVER_ID;
        *o++ = 4;
        memcpy(o, &c->server, 4);
        o += 4;
    }
    *o++ = OPT_PARAMS;
    *o++ = sizeof(param_request);
    memcpy(o, param_request, sizeof(param_request));
    o += sizeof(param_request);
    *o = OPT_END;

    put_be16(u, DHCP_CLIENT_PORT);
    put_be16(u + 2, DHCP_SERVER_PORT);
    put_be16(u + 4, (uint16_t)len);
    uint16_t sum = inet_fold(inet_sum(u, len, ip_pseudo_sum(src, dst, IPPROTO_UDP,
                                                            (uint16_t)len)));
    put_be16(u + 6, sum ? sum : 0xffff);
    net_stats.udp_out++;
    ip_output_on(ifp, nb, src, dst, IPPROTO_UDP, IP_DEFAULT_TTL);
}

/* Send (again) what the state calls for and set the next retransmission. */
static void transmit(struct dhcp_client *c, uint64_t now)
{
    c->tries++;
    switch (c->state) {
    case DHCP_SELECTING:
        send_message(c, DHCPDISCOVER, now);
        c->next = now + backoff_ns(c->tries);
        break;
    case DHCP_REQUESTING:
        if (c->tries == 1)
            c->asked = now;
        send_message(c, DHCPREQUEST, now);
        c->next = now + backoff_ns(c->tries);
        break;
    case DHCP_RENEWING:
    case DHCP_REBINDING:
        if (c->tries == 1)
            c->asked = now;
        send_message(c, DHCPREQUEST, now);
        c->next = now + renew_retry_ns(c->state == DHCP_RENEWING ? c->t2 : c->expiry, now);
        break;
    default:
        break;
    }
}

/* A new exchange in state (SELECTING, or leaving BOUND). */
static void begin(struct dhcp_client *c, enum dhcp_state state, uint64_t now)
{
    c->state = state;
    c->xid = new_xid();
    c->tries = 0;
    c->started = now;
    transmit(c, now);
}

/* Give the address back to nobody: the interface has none from here. */
static void drop_lease(struct dhcp_client *c)
{
    struct netif *ifp = c->ifp;
    if (c->addr && ifp->ip == c->addr)
        netif_set_addr(ifp, 0, 0, 0);
    ifp->mtu = c->device_mtu;
    c->addr = 0;
}

static void start_over(struct dhcp_client *c, uint64_t now)
{
    c->offered = 0;
    c->server = 0;
    begin(c, DHCP_SELECTING, now);
}

void dhcp_start(struct netif *ifp)
{
    struct dhcp_client *c = client_of(ifp);
    if (c) {
        drop_lease(c);                  /* restores the device's MTU */
    } else {
        c = client_of(NULL);
        if (!c) {
            pr_warn("net: %s: no room for another DHCP client; no address\n", ifp->name);
            return;
        }
        memset(c, 0, sizeof(*c));
        c->ifp = ifp;
        c->device_mtu = ifp->mtu;
    }
    c->ever_bound = false;
    pr_info("net: %s %02x:%02x:%02x:%02x:%02x:%02x asking for an address (DHCP)\n",
            ifp->name, ifp->mac[0], ifp->mac[1], ifp->mac[2], ifp->mac[3], ifp->mac[4],
            ifp->mac[5]);
    start_over(c, net_now_ns());
}

bool dhcp_pending(void)
{
    for (int i = 0; i < MAX_CLIENTS; i++)
        if (clients[i].ifp && !clients[i].ever_bound &&
            (clients[i].state == DHCP_SELECTING || clients[i].state == DHCP_REQUESTING))
            return true;
    return false;
}

/* ---- replies ------------------------------------------------------------------- */

static void take_option(uint8_t code, const uint8_t *v, uint8_t n, struct dhcp_reply *r,
                        uint8_t *overload)
{
    /* An option of the wrong size counts as absent. */
    switch (code) {
    case OPT_MSG_TYPE:
        if (n == 1)
            r->type = v[0];
        return;
    case OPT_OVERLOAD:
        /* Only the options field may say the others hold options too. */
        if (n == 1 && overload)
            *overload = v[0];
        return;
    case OPT_NETMASK:
        if (n != 4)
            return;
        memcpy(&r->netmask, v, 4);
        break;
    case OPT_SERVER_ID:
        if (n != 4)
            return;
        memcpy(&r->server, v, 4);
        break;
    case OPT_LEASE:
        if (n != 4)
            return;
        r->lease = get_be32(v);
        break;
    case OPT_T1:
        if (n != 4)
            return;
        r->t1 = get_be32(v);
        break;
    case OPT_T2:
        if (n != 4)
            return;
        r->t2 = get_be32(v);
        break;
    case OPT_ROUTER:                    /* a list: the first is the gateway */
        if (n < 4 || n % 4)
            return;
        memcpy(&r->router, v, 4);
        break;
    case OPT_DNS:
        if (n < 4 || n % 4)
            return;
        memcpy(&r->dns[0], v, 4);
        if (n >= 8)
            memcpy(&r->dns[1], v + 4, 4);
        break;
    case OPT_MTU:
        if (n != 2)
            return;
        r->mtu = get_be16(v);
        break;
    default:
        return;
    }
    r->have |= HAVE(code);
}

/* One field's options; false when one runs past the field's end. */
static bool parse_options(const uint8_t *p, size_t len, struct dhcp_reply *r,
                          uint8_t *overload)
{
    size_t i = 0;
    while (i < len) {
        uint8_t code = p[i++];
        if (code == OPT_PAD)
            continue;
        if (code == OPT_END)
            return true;
        if (i == len)
            return false;               /* no room for the length */
        uint8_t n = p[i++];
        if (n > len - i)
            return false;
        take_option(code, p + i, n, r, overload);
        i += n;
    }
    return true;                        /* no END: the field just ends */
}

/* Check a reply's fixed part and read its options; false: not for us or
 * malformed, drop it. */
static bool parse_reply(const struct dhcp_client *c, const uint8_t *m, size_t len,
                        struct dhcp_reply *r)
{
    if (len < BOOTP_OPTIONS || m[BOOTP_OP] != BOOTREPLY || m[BOOTP_HTYPE] != HTYPE_ETHER ||
        m[BOOTP_HLEN] != ETH_ALEN || get_be32(m + BOOTP_XID) != c->xid ||
        memcmp(m + BOOTP_CHADDR, c->ifp->mac, ETH_ALEN) ||
        get_be32(m + BOOTP_COOKIE) != DHCP_MAGIC)
        return false;
    memset(r, 0, sizeof(*r));
    uint8_t overload = 0;
    if (!parse_options(m + BOOTP_OPTIONS, len - BOOTP_OPTIONS, r, &overload))
        return false;
    /* RFC 2131 4.1: options, then file, then sname. */
    if ((overload & 1) && !parse_options(m + BOOTP_FILE, FILE_LEN, r, NULL))
        return false;
    if ((overload & 2) && !parse_options(m + BOOTP_SNAME, SNAME_LEN, r, NULL))
        return false;
    return r->type != 0;
}

static void print_lease(const struct dhcp_client *c, const struct dhcp_reply *r,
                        uint32_t lease, bool renewed)
{
    struct netif *ifp = c->ifp;
    char a[16], g[16], s[16], d0[16], d1[16];
    format_ip(c->addr, a, sizeof(a));
    format_ip(ifp->gateway, g, sizeof(g));
    format_ip(c->server, s, sizeof(s));
    format_ip(r->dns[0], d0, sizeof(d0));
    format_ip(r->dns[1], d1, sizeof(d1));
    char how_long[24];
    if (lease == LEASE_INFINITE)
        snprintf(how_long, sizeof(how_long), "ever");
    else
        snprintf(how_long, sizeof(how_long), "%u s", lease);
    if (renewed) {
        pr_info("net: %s renewed %s from server %s for %s\n", ifp->name, a, s, how_long);
        return;
    }
    pr_info("net: %s leased %s/%u gateway %s from server %s for %s%s%s%s%s\n", ifp->name, a,
            prefix_len(ifp->netmask), ifp->gateway ? g : "none", s, how_long,
            r->dns[0] ? ", dns " : "", r->dns[0] ? d0 : "", r->dns[1] ? " " : "",
            r->dns[1] ? d1 : "");
}

/* An ACK: configure the interface and set the lease's timers. */
static void take_lease(struct dhcp_client *c, const struct dhcp_reply *r, uint32_t yiaddr)
{
    struct netif *ifp = c->ifp;
    uint32_t mask = (r->have & HAVE(OPT_NETMASK)) && contiguous_mask(r->netmask)
                        ? r->netmask : classful_mask(yiaddr);
    uint32_t gw = (r->have & HAVE(OPT_ROUTER)) && usable_addr(r->router) ? r->router : 0;
    uint32_t lease = MAX(r->lease, (uint32_t)LEASE_MIN_S);
    if (lease == LEASE_INFINITE) {
        c->t1 = c->t2 = c->expiry = UINT64_MAX;
    } else {
        uint64_t t1 = lease / 2, t2 = (uint64_t)lease * 7 / 8;
        /* The server's T1 and T2 only when they make sense together. */
        uint64_t st1 = (r->have & HAVE(OPT_T1)) ? r->t1 : t1;
        uint64_t st2 = (r->have & HAVE(OPT_T2)) ? r->t2 : t2;
        if (st1 < st2 && st2 < lease) {
            t1 = st1;
            t2 = st2;
        }
        c->t1 = c->asked + t1 * SEC_NS;
        c->t2 = c->asked + t2 * SEC_NS;
        c->expiry = c->asked + lease * (uint64_t)SEC_NS;
    }
    if (r->have & HAVE(OPT_SERVER_ID))
        c->server = r->server;

    bool renewed = c->addr == yiaddr && ifp->ip == yiaddr && ifp->netmask == mask &&
                   ifp->gateway == gw;
    c->addr = yiaddr;
    /* A smaller MTU from the server holds; a larger one cannot. */
    ifp->mtu = c->device_mtu;
    if ((r->have & HAVE(OPT_MTU)) && r->mtu >= MIN_MTU && r->mtu < c->device_mtu)
        ifp->mtu = r->mtu;
    if (!renewed)
        netif_set_addr(ifp, yiaddr, mask, gw);
    c->state = DHCP_BOUND;
    c->ever_bound = true;
    print_lease(c, r, lease, renewed);
}

static void refused(struct dhcp_client *c, uint64_t now)
{
    if (c->addr) {
        char a[16];
        format_ip(c->addr, a, sizeof(a));
        pr_warn("net: %s: the DHCP server refused %s; dropping it\n", c->ifp->name, a);
    }
    drop_lease(c);
    start_over(c, now);
}

static void handle_reply(struct dhcp_client *c, const uint8_t *m, size_t len)
{
    struct dhcp_reply r;
    if (c->state == DHCP_OFF || c->state == DHCP_BOUND || !parse_reply(c, m, len, &r))
        return;
    uint32_t yiaddr;
    memcpy(&yiaddr, m + BOOTP_YIADDR, 4);
    uint64_t now = net_now_ns();

    switch (c->state) {
    case DHCP_SELECTING:
        /* RFC 2131 4.3.1: an offer names its server. */
        if (r.type != DHCPOFFER || !usable_addr(yiaddr) || !(r.have & HAVE(OPT_SERVER_ID)) ||
            !r.server)
            return;
        c->offered = yiaddr;
        c->server = r.server;
        c->state = DHCP_REQUESTING;
        c->tries = 0;
        transmit(c, now);
        return;
    case DHCP_REQUESTING:
        /* Only the server we asked; other servers stay silent (4.3.2). */
        if ((r.have & HAVE(OPT_SERVER_ID)) && r.server != c->server)
            return;
        if (r.type == DHCPNAK) {
            refused(c, now);
            return;
        }
        if (r.type == DHCPACK && usable_addr(yiaddr) && (r.have & HAVE(OPT_LEASE)))
            take_lease(c, &r, yiaddr);
        return;
    case DHCP_RENEWING:
    case DHCP_REBINDING:
        if (r.type == DHCPNAK) {
            refused(c, now);
            return;
        }
        if (r.type == DHCPACK && usable_addr(yiaddr) && (r.have & HAVE(OPT_LEASE))) {
            if (yiaddr != c->addr)
                drop_lease(c);          /* a new address: the old one goes */
            take_lease(c, &r, yiaddr);
        }
        return;
    default:
        return;
    }
}

bool dhcp_input(struct netif *ifp, struct netbuf *nb)
{
    struct dhcp_client *c = client_of(ifp);
    if (!c || c->state == DHCP_OFF)
        return false;
    /* udp_input checked the header: len >= UDP_HLEN. */
    handle_reply(c, nb->data + UDP_HLEN, nb->len - UDP_HLEN);
    netbuf_free(nb);
    return true;
}

/* ---- timers ---------------------------------------------------------------------- */

static void lease_expired(struct dhcp_client *c, uint64_t now)
{
    char a[16];
    format_ip(c->addr, a, sizeof(a));
    pr_warn("net: %s: the lease on %s ran out; address dropped, asking again\n", c->ifp->name,
            a);
    drop_lease(c);
    start_over(c, now);
}

static void client_tick(struct dhcp_client *c, uint64_t now)
{
    switch (c->state) {
    case DHCP_SELECTING:
        if (now < c->next)
            return;
        if (c->tries == DISCOVER_WARN_TRIES && !c->ever_bound)
            pr_warn("net: %s: no DHCP offer after %u tries; still asking\n", c->ifp->name,
                    c->tries);
        transmit(c, now);
        return;
    case DHCP_REQUESTING:
        if (now < c->next)
            return;
        if (c->tries >= REQUEST_TRIES)
            start_over(c, now);
        else
            transmit(c, now);
        return;
    case DHCP_BOUND:
    case DHCP_RENEWING:
    case DHCP_REBINDING:
        /* Thresholds in order, so that a late tick can skip a state. */
        if (now >= c->expiry) {
            lease_expired(c, now);
        } else if (now >= c->t2 && c->state != DHCP_REBINDING) {
            if (c->state == DHCP_BOUND)
                begin(c, DHCP_REBINDING, now);
            else {
                c->state = DHCP_REBINDING;  /* same exchange: a late answer counts */
                c->tries = 0;
                transmit(c, now);
            }
        } else if (now >= c->t1 && c->state == DHCP_BOUND) {
            begin(c, DHCP_RENEWING, now);
        } else if (c->state != DHCP_BOUND && now >= c->next) {
            transmit(c, now);
        }
        return;
    default:
        return;
    }
}

void dhcp_tick(uint64_t now)
{
    for (int i = 0; i < MAX_CLIENTS; i++)
        if (clients[i].ifp)
            client_tick(&clients[i], now);
}
