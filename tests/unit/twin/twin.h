/*
 * Two copies of the TCP/IP stack in one host test program, joined by a
 * simulated link (tests/unit/twin/).
 *
 * The stack keeps its state in globals (interfaces, ARP cache, sockets), so
 * one copy of its object code holds one host. twin.mk compiles the
 * protocol files plus side.c once, links them into one relocatable object
 * (ld -r) and makes two copies of it with every defined global symbol
 * renamed: a_... and b_... (objcopy --redefine-syms). What the copies
 * leave undefined — libc, printk/panic from check.h, and the twin_dev_*
 * functions below — binds to the one definition in the test program, so
 * both hosts share the harness and nothing else.
 *
 * side.c is each host's "device" and its window for the harness: the
 * side_* functions (a_side_* and b_side_* after the renaming). Sockets
 * come out of a side as struct sock, whose ops point into that side's copy,
 * so tests use s->ops->... directly.
 *
 * link.c is the wire and the clock: frames sent by one side are delivered
 * to the other after a delay, maybe lost, reordered, duplicated or
 * corrupted, from a seeded PRNG so that every run of a seed is the same.
 */
#ifndef TWIN_H
#define TWIN_H

#include <kern/net.h>
#include <kern/socket.h>

/* ---- between a side (side.c, inside a stack copy) and the harness -------------- */

struct twin_side_cfg {
    int id;                             /* 0 (a) or 1 (b): passed back in twin_dev_* */
    uint8_t mac[ETH_ALEN];
    uint32_t ip, netmask, gateway;      /* network order */
    uint16_t mtu;
    unsigned features;                  /* NETIF_F_* the simulated device offers */
    uint64_t seed;                      /* the side's random_u64 (ISNs, DHCP xids) */
};

/* What side.c exports; TWIN_SIDE_API(a_) declares the a_ copy's names. */
#define TWIN_SIDE_API(p) \
    void p##side_init(const struct twin_side_cfg *cfg); \
    void p##side_input(const void *frame, uint32_t len, bool csum_valid); \
    void p##side_tick(void); \
    void p##side_set_clock(uint64_t now); \
    void p##side_complete(void *nb, uint64_t hash); \
    void p##side_tx_room(void); \
    bool p##side_has_tcp(void); \
    void p##side_zc_seal(struct zc_notify *zn); \
    int p##side_udp_socket(struct sock **out); \
    int p##side_tcp_socket(struct sock **out); \
    int p##side_ping_socket(struct sock **out); \
    bool p##side_arp_lookup(uint32_t ip, uint8_t *mac); \
    struct netif *p##side_netif(void);

TWIN_SIDE_API()
TWIN_SIDE_API(a_)
TWIN_SIDE_API(b_)

/* The harness's device half, called by a side's netif xmit (link.c). */
/* May the device take another frame? false: the ring is full (-EAGAIN). */
bool twin_dev_can_xmit(int side);
/* One frame on the wire, as the device made it (checksums finished, a TSO
 * frame already cut into segments); the harness copies it. */
void twin_dev_wire(int side, const uint8_t *frame, uint32_t len);
/* The device is done reading nb's memory: true when the harness keeps it
 * and calls side_complete(nb, hash) later (a device that holds
 * descriptors), false when the side completes it at once. hash covers the
 * frame as handed over; side_complete checks that it did not change. */
bool twin_dev_hold(int side, void *nb, uint64_t hash);
/* The stack asked the device for something a device would refuse. */
void twin_dev_error(int side, const char *what);

/* ---- the harness, for tests (link.c) ------------------------------------------- */

struct twin_side {
    char name;                          /* 'a' or 'b' */
    void (*init)(const struct twin_side_cfg *cfg);
    void (*input)(const void *frame, uint32_t len, bool csum_valid);
    void (*tick)(void);
    void (*set_clock)(uint64_t now);
    void (*complete)(void *nb, uint64_t hash);
    void (*tx_room)(void);
    bool (*has_tcp)(void);
    /* zc_notify_seal: the sender is done queueing a zero-copy send */
    void (*zc_seal)(struct zc_notify *zn);
    int (*udp_socket)(struct sock **out);
    int (*tcp_socket)(struct sock **out);
    int (*ping_socket)(struct sock **out);
    bool (*arp_lookup)(uint32_t ip, uint8_t *mac);
    struct netif *(*netif)(void);
};
extern const struct twin_side twin_sides[2];
#define TWIN_A 0
#define TWIN_B 1

/* What happens to one frame on the wire; tests may change any of it
 * between steps (twin_link()). Probabilities are in parts per million. */
struct twin_link_cfg {
    uint32_t loss_ppm;                  /* dropped */
    uint32_t reorder_ppm;               /* held back reorder_ns longer than the rest */
    uint64_t reorder_ns;
    uint32_t dup_ppm;                   /* delivered twice */
    uint32_t corrupt_ppm;               /* one byte after the Ethernet header flipped */
    uint64_t delay_ns;                  /* one way, after serialization */
    uint64_t jitter_ns;                 /* plus 0 .. jitter_ns, uniform */
    uint64_t bandwidth_bps;             /* serialization per direction; 0: infinite */
    uint32_t queue_frames;              /* frames being or waiting to be serialized,
                                         * per direction; more are tail-dropped;
                                         * 0: no limit */
    bool cut;                           /* nothing gets through, either way */
    /* The device: completions come complete_ns after the frame left (0:
     * at once, inside xmit); at most tx_ring frames await completion per
     * side (0: no limit), beyond that xmit says -EAGAIN. */
    uint64_t complete_ns;
    uint32_t tx_ring;
};

struct twin_cfg {
    uint64_t seed;                      /* the link's PRNG and the sides' */
    unsigned features[2];               /* NETIF_F_* per side */
    uint16_t mtu[2];                    /* 0: 1500 */
    struct twin_link_cfg link;
};

/* The tap sees every frame a side sends (before the link's own losses)
 * and may drop it: return true to drop. */
typedef bool (*twin_tap_fn)(int from, const uint8_t *frame, uint32_t len, void *arg);

/* The receive tap sees every frame the wire delivers, just before the
 * receiving side gets it (intact: whether the link corrupted it). */
typedef void (*twin_rx_tap_fn)(int to, const uint8_t *frame, uint32_t len, bool intact,
                               void *arg);

struct twin_stats {
    uint64_t sent[2], delivered[2];     /* frames, by sender */
    uint64_t tapped[2], lost[2], cut[2], queue_drops[2], dups[2], corrupted[2],
             reordered[2];
    uint64_t refused[2];                /* xmit said -EAGAIN (ring full) */
    uint64_t held_max[2];               /* most frames awaiting completion at once */
    uint64_t dev_errors[2];             /* requests a device would refuse, changed frames */
    uint64_t digest;                    /* FNV-1a of every frame sent and its time */
};

/* Bring both stacks up: a at 10.0.0.1, b at 10.0.0.2, /24, clock at 0.
 * Once per process (the stacks cannot be torn down). */
void twin_start(const struct twin_cfg *cfg);
struct twin_link_cfg *twin_link(void);
uint32_t twin_ip(int side);
uint64_t twin_now(void);
uint64_t twin_seed(void);
/* Run the next event (a frame arriving, a completion, the stacks' tick
 * every NET_TICK_NS) if it is due by deadline and return true; else move
 * the clock to deadline and return false. */
bool twin_step(uint64_t deadline);
void twin_run_for(uint64_t ns);
void twin_set_tap(twin_tap_fn fn, void *arg);
void twin_set_rx_tap(twin_rx_tap_fn fn, void *arg);
const struct twin_stats *twin_stats(void);
/* Frames in flight on the wire (both ways) and netbufs the devices hold. */
unsigned twin_in_flight(void);
/* End of a test: complete what the devices hold and free what the wire
 * carries, so that LeakSanitizer sees only what the stacks keep. */
void twin_finish(void);

#endif
