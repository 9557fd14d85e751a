/*
 * Packet buffers for the TCP/IP stack (kernel/net/). A netbuf is a linear
 * part — headers, or a whole received frame — with room in front for the
 * headers each layer prepends on the way out, followed by up to
 * NETBUF_MAX_FRAGS fragments that point at memory the netbuf does not own:
 * the payload of a zero-copy send (app pages), or a socket's queued data.
 * The device sends linear part and fragments as one scatter-gather frame,
 * and calls done() when it has returned every descriptor, which is when
 * the fragments' memory may be released.
 *
 * The stack also builds and runs on the host (tests/unit), so nothing here
 * depends on kernel threads or devices.
 */
#ifndef KERN_NETBUF_H
#define KERN_NETBUF_H

#include <kern/types.h>

#define NETBUF_HEADROOM   128       /* device header + Ethernet + IPv4 + TCP with options */
#define NETBUF_MAX_FRAGS  18        /* a 64 KiB TSO frame of 4 KiB pages, plus slack */

/* flags */
#define NETBUF_CSUM_PARTIAL 0x01    /* TX: the device finishes the L4 checksum */
#define NETBUF_CSUM_VALID   0x02    /* RX: the device verified the L4 checksum */

/* gso_type */
#define NETBUF_GSO_NONE  0
#define NETBUF_GSO_TCPV4 1

struct netbuf;

struct netbuf_frag {
    const void *data;
    uint32_t len;
    void *owner;                    /* for the release hook; NULL: nobody */
};

/* Called by netbuf_free, whoever frees the netbuf and whenever: the
 * owner of the fragments' memory drops what it holds for this netbuf
 * (TCP: a reference per send-queue chunk, tcp_output.c). */
typedef void (*netbuf_release_fn)(struct netbuf *nb);

struct netbuf {
    struct netbuf *next;            /* for queues (ARP pending, reassembly) */
    uint8_t *buf;                   /* the allocation */
    uint32_t size;
    uint8_t *data;                  /* the linear part: data .. data + len */
    uint32_t len;
    uint16_t nfrags;
    struct netbuf_frag frags[NETBUF_MAX_FRAGS];

    uint8_t flags;
    uint8_t gso_type;
    uint16_t gso_size;              /* TSO: the MSS */
    uint16_t hdr_len;               /* TSO: bytes of headers before the payload */
    /* Both offsets count from data (the frame's start once sent):
     * netbuf_push moves them with every header it prepends. */
    uint16_t csum_start;            /* CSUM_PARTIAL: where the L4 header starts */
    uint16_t csum_offset;           /* ... where the checksum goes, from csum_start */

    /* Called (from the device's completion path) when the device is done
     * with every byte; NULL: just free. The callback frees the netbuf. */
    void (*done)(struct netbuf *nb);
    netbuf_release_fn release;
    void *owner;
    uint64_t cookie;
};

/* A netbuf with room for len bytes after NETBUF_HEADROOM; data/len start
 * empty at the end of the headroom. NULL when memory is short. */
struct netbuf *netbuf_alloc(size_t len);
void netbuf_free(struct netbuf *nb);

/* Reserve n bytes at the end of the linear part / prepend n bytes of
 * header / strip n bytes of header; NULL when there is no room. */
void *netbuf_put(struct netbuf *nb, size_t n);
void *netbuf_push(struct netbuf *nb, size_t n);
void *netbuf_pull(struct netbuf *nb, size_t n);
/* Add a fragment; false when the netbuf has NETBUF_MAX_FRAGS already. */
bool netbuf_add_frag(struct netbuf *nb, const void *data, uint32_t len);

/* Bytes in the linear part and all fragments. */
uint32_t netbuf_total(const struct netbuf *nb);
/* Copy n bytes from offset off (linear part, then fragments) to dst. */
void netbuf_copy_out(const struct netbuf *nb, uint32_t off, void *dst, uint32_t n);

/* The device is done with nb: its done() callback, or free. */
void netbuf_complete(struct netbuf *nb);

#endif
