/* Between the files of the stack (kernel/net/); nothing outside. */
#ifndef NET_INTERNAL_H
#define NET_INTERNAL_H

#include <kern/byteorder.h>
#include <kern/net.h>

#define IPPROTO_ICMP 1
#define IPPROTO_TCP  6
#define IPPROTO_UDP  17

#define IP_HLEN     20
#define UDP_HLEN    8
#define IP_DEFAULT_TTL 64

/* The app's I/O vectors (sock_iov.c): the bytes they hold, and a copy of
 * n of them into dst from the cursor (*vi, *voff), which moves past them;
 * the vectors hold at least n more bytes. */
struct sock_iov;
void sock_iov_gather(const struct sock_iov *iov, int *vi, size_t *voff, void *dst, size_t n);

/* An ephemeral port range, host order; next is where the search goes on
 * (sock_port.c). sock_autobind binds s to the first port from there,
 * round the range, that taken(s, port) (network order) says is free;
 * false when none is. */
struct port_range {
    uint16_t first, last, next;
};
struct sock;
bool sock_autobind(struct sock *s, struct port_range *r,
                   bool (*taken)(struct sock *s, uint16_t port));

/* Ethernet (ether.c): prepend the header and send. Frees nb on error. */
int eth_output(struct netif *ifp, struct netbuf *nb, const uint8_t *dst, uint16_t type);
extern const uint8_t eth_broadcast[ETH_ALEN];

/* ARP (arp.c). */
void arp_input(struct netif *ifp, struct netbuf *nb);
/* Send an IPv4 packet to next_hop: at once when its MAC is known, else
 * after an ARP exchange (queued, a few per address). Takes nb. */
int arp_output(struct netif *ifp, struct netbuf *nb, uint32_t next_hop);
void arp_announce(struct netif *ifp);
void arp_tick(uint64_t now);
/* For tests and statistics: the cached MAC of ip, or false. */
bool arp_lookup(uint32_t ip, uint8_t *mac);

/* IPv4 (ipv4.c). */
void ip_input(struct netif *ifp, struct netbuf *nb);
/* Prepend an IPv4 header (src 0: the interface's address) and route. */
int ip_output(struct netbuf *nb, uint32_t src, uint32_t dst, uint8_t proto, uint8_t ttl);
/* The same on a given interface, without routing and with src as given
 * (0.0.0.0 too): for DHCP before the interface has an address. */
int ip_output_on(struct netif *ifp, struct netbuf *nb, uint32_t src, uint32_t dst,
                 uint8_t proto, uint8_t ttl);
/* The interface for dst and its next hop; NULL when unreachable. */
struct netif *ip_route(uint32_t dst, uint32_t *next_hop);
bool ip_is_local(uint32_t addr);
/* The identification for the next packet from src to dst of proto
 * (ipv4_id.c): a counter of its own per (hashed) destination. */
uint16_t ip_next_id(uint32_t src, uint32_t dst, uint8_t proto);
/* The pseudo-header sum for TCP/UDP checksums. */
uint32_t ip_pseudo_sum(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len);

/* IPv4 reassembly (ipv4_reasm.c). ip_reasm takes a fragment (nb at its
 * checked IPv4 header of hlen bytes, nb->len the datagram's total length)
 * and returns the whole datagram as a new netbuf (a 20-byte header, then
 * the payload) once its fragments cover it exactly, else NULL. */
struct netbuf *ip_reasm(struct netbuf *nb, uint32_t hlen);
/* Drop datagrams whose first fragment came over 30 s ago (from net_tick). */
void ip_reasm_tick(uint64_t now);
/* What reassembly holds now, and its limits (tests, statistics). */
struct ip_reasm_usage {
    size_t mem;                         /* true size of the held fragments */
    unsigned queues, frags;             /* datagrams begun, fragments held */
    size_t mem_high, mem_low;           /* eviction starts above high, ends at low */
    unsigned max_queues, max_frags;     /* datagrams; fragments in one */
};
void ip_reasm_usage(struct ip_reasm_usage *u);

/* ICMP (icmp.c): payload starts at the ICMP header. */
void icmp_input(struct netif *ifp, struct netbuf *nb, uint32_t src, uint32_t dst);
void icmp_dest_unreachable(struct netbuf *orig_ip, uint8_t code);

/* Datagram receive queues (dgram.c), for UDP and ping sockets; called
 * with net_lock held except dgram_recv, which takes it. */
struct sock;
struct sock_addr;
struct sock_iov;
struct dgram_queue {
    struct netbuf *head, *tail;
    uint32_t bytes;
    unsigned count;
    bool eof;                           /* shut down for reading */
};
void dgram_enqueue(struct dgram_queue *q, struct netbuf *nb, uint32_t addr, uint16_t port);
int64_t dgram_recv(struct sock *s, struct dgram_queue *q, const struct sock_iov *iov,
                   int iovcnt, struct sock_addr *from, int flags, int *msg_flags);
void dgram_purge(struct dgram_queue *q);

/* Echo replies for ping sockets (ping.c): true when one took nb. */
bool ping_input(struct netbuf *nb, uint32_t src);

/* UDP (udp.c). */
void udp_input(struct netif *ifp, struct netbuf *nb, uint32_t src, uint32_t dst);

/* TCP (tcp*.c): segments in (nb at the TCP header), the timers (from
 * net_tick), and the device's "room again" after a full ring. */
void tcp_input(struct netif *ifp, struct netbuf *nb, uint32_t src, uint32_t dst);
void tcp_tick(uint64_t now);
void tcp_tx_room(void);

/* DHCP client (dhcp.c). dhcp_start: acquire ifp's address (again, if it
 * runs already). dhcp_input: a datagram to port 68 (nb at its UDP header,
 * checksum verified); true when the client took it, which it does for all
 * of them on an interface it runs on. dhcp_pending: some interface is
 * still waiting for its first lease. */
void dhcp_start(struct netif *ifp);
bool dhcp_input(struct netif *ifp, struct netbuf *nb);
void dhcp_tick(uint64_t now);
bool dhcp_pending(void);
/* Kernel (netif_config.c): wait for dhcp_pending to clear, at most
 * timeout_ns; called without net_lock, at boot. */
void net_wait_for_dhcp(uint64_t timeout_ns);

/* The stack's memory budget (net_mem.c): the marks and what each means
 * are described there. All under net_lock. charge: false above "high";
 * charge_min: a connection's guaranteed minimum, false only above
 * "limit". net_mem_wait: a sender sleeps until memory falls below
 * "pressure" (tcp_mem_available wakes it). net_mem_dropped counts a drop
 * for lack of memory and warns once. */
void net_mem_configure(uint64_t free_bytes);
bool net_mem_charge(uint64_t n);
bool net_mem_charge_min(uint64_t n);
void net_mem_uncharge(uint64_t n);
bool net_mem_pressure(void);
bool net_mem_over_high(void);
bool net_mem_room(uint64_t n);              /* n more bytes stay below high */
void net_mem_wait(void);
void net_mem_tick(void);
void net_mem_dropped(const char *what);
struct net_mem_usage {
    uint64_t used, peak, pressure, high, limit;
};
void net_mem_usage(struct net_mem_usage *u);
struct net_mem_counters {
    uint64_t pressure_events, charge_failures, drops;
};
extern struct net_mem_counters net_mem_stats;
/* TCP (tcp.c): wake the senders that waited for memory. */
void tcp_mem_available(void);
/* TCP (tcp.c): pressure ended; send the window updates now due. */
void tcp_windows_reopen(void);

/* Counters printed by net_print_stats (netstat.c). */
struct net_counters {
    uint64_t ip_in, ip_out, ip_bad_header, ip_bad_csum, ip_not_ours, ip_no_route,
             ip_frag_created;
    /* Reassembly, with Linux's names: ReasmReqds (fragments received),
     * ReasmOKs, ReasmFails (datagrams given up, whatever the cause, and
     * fragments refused for lack of memory), ReasmTimeout, and in IpExt
     * ReasmOverlaps; evicted counts the datagrams given up for the memory
     * or datagram limit (in ReasmFails too), frag_dropped the fragments
     * and datagrams lost for lack of memory. */
    uint64_t ip_reasm_reqds, ip_reasm_ok, ip_reasm_fail, ip_reasm_timeout,
             ip_reasm_overlaps, ip_reasm_evicted, ip_frag_dropped;
    uint64_t icmp_in, icmp_out, icmp_echo_replies;
    uint64_t udp_in, udp_out, udp_no_port, udp_bad_csum, udp_rcvbuf_errors;
    uint64_t arp_in, arp_out, arp_requests_answered, arp_queue_dropped;
};
extern struct net_counters net_stats;

#endif
