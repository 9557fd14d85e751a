/*
 * The TCP/IP stack's interface to drivers, sockets and the boot sequence
 * (kernel/net/). One lock (net_lock) covers the whole stack: drivers call
 * net_input and sockets call into it with the lock held; protocol code
 * never touches app memory under it (data is copied in or referenced by
 * netbufs before).
 *
 * IPv4 addresses and ports are in network byte order throughout.
 */
#ifndef KERN_NET_H
#define KERN_NET_H

#include <kern/netbuf.h>
#include <kern/types.h>

#define ETH_ALEN 6
#define ETH_HLEN 14
#define ETH_P_IP  0x0800
#define ETH_P_ARP 0x0806

/* netif features: what the device does for the stack */
#define NETIF_F_TX_CSUM 0x1     /* finishes TCP/UDP checksums (CSUM_PARTIAL) */
#define NETIF_F_RX_CSUM 0x2     /* verifies received checksums */
#define NETIF_F_TSO4    0x4     /* segments TCP/IPv4 frames up to 64 KiB */

struct netif_stats {
    uint64_t rx_packets, rx_bytes, rx_dropped, rx_errors;
    uint64_t tx_packets, tx_bytes, tx_dropped, tx_errors;
};

struct netif {
    char name[8];
    uint8_t mac[ETH_ALEN];
    uint32_t ip, netmask, gateway;  /* 0: none yet */
    uint16_t mtu;
    unsigned features;
    bool up;
    bool loopback;                  /* lo: no ARP, frames come straight back */
    /* Send one frame (linear part + fragments); the driver owns nb from
     * here and calls netbuf_complete when the device is done with it.
     * -EAGAIN when the device queue is full (nb still the caller's). */
    int (*xmit)(struct netif *ifp, struct netbuf *nb);
    void *driver;
    struct netif_stats stats;
    struct netif *next;
};

/* Attach every network device (kern/netdev.h) as an interface and
 * configure it (kernel, at boot). */
void net_init(void);

void net_lock(void);
void net_unlock(void);
/* Monotonic time for the stack (host tests supply their own clock). */
uint64_t net_now_ns(void);

/* Register an interface (its driver filled name, mac, mtu, features,
 * xmit); it is configured and brought up by net_configure. */
void netif_add(struct netif *ifp);
struct netif *netif_first(void);

/* Static configuration: address/prefix and gateway; sends a gratuitous
 * ARP when the interface comes up. */
void netif_set_addr(struct netif *ifp, uint32_t ip, uint32_t netmask, uint32_t gateway);

/* Configure ifp from the image's settings (/.tern/manifest) and bring it
 * up; start the stack's timers (kernel). */
void net_configure(struct netif *ifp);
/* The loopback interface lo, 127.0.0.1/8 (kernel/net/loopback.c). */
void loopback_init(void);
void net_start_timers(void);

/* A frame received on ifp (starting at the Ethernet header); the stack
 * owns nb from here. Called with net_lock held. */
void net_input(struct netif *ifp, struct netbuf *nb);

/* Timers: the stack's periodic work (ARP ageing, reassembly timeouts,
 * TCP's retransmission, delayed-ACK, persist, keepalive and TIME_WAIT
 * timers); call every NET_TICK_NS with net_lock held. */
#define NET_TICK_NS (10ULL * 1000000)
void net_tick(void);

/* Whether a TCP connection still has bytes or a FIN out that the peer
 * has not acknowledged (tcp.c; under net_lock). */
bool tcp_output_unacked(void);
/* Wait, up to timeout_ns, until no connection has unacknowledged output:
 * the app has exited, and what it wrote and closed must still reach its
 * peer before the machine powers off (a lost FIN is only resent by us). */
void net_drain_output(uint64_t timeout_ns);

/* The counters as /proc/net/snmp, /proc/net/netstat, /proc/net/sockstat
 * and /proc/net/dev
 * text (netstat.c); returns the length written (cut at size). */
size_t net_format_snmp(char *buf, size_t size);
size_t net_format_netstat(char *buf, size_t size);
size_t net_format_dev(char *buf, size_t size);
size_t net_format_sockstat(char *buf, size_t size);
/* All of them, reassembly's memory, and every device's driver counters, on the console as
 * "netstat: " lines (the netstat option, at app exit). */
void net_print_stats(void);

/* "a.b.c.d" at s -> *out in network order, *end just past it; false on
 * anything else (netif_config.c). */
bool ipv4_parse(const char *s, const char **end, uint32_t *out);

/* Internet checksum helpers. */
uint32_t inet_sum(const void *data, size_t len, uint32_t sum);
uint16_t inet_fold(uint32_t sum);
/* inet_sum over a netbuf from byte off to its end: the linear part, then
 * the fragments (of any lengths). */
uint32_t netbuf_sum(const struct netbuf *nb, uint32_t off, uint32_t sum);

#endif
