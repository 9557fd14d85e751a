/*
 * Interface configuration from the image: the "net.*" lines tern build
 * writes into /.tern/manifest (docs/manifest.md): a static address with
 * its prefix and gateway, or "net.ip dhcp", which starts the DHCP client
 * (dhcp.c) on the interface.
 */
#include <kern/kmalloc.h>
#include <kern/net.h>
#include <kern/printk.h>
#include <kern/string.h>
#include <kern/thread.h>
#include <kern/vfs.h>
#include "net_internal.h"

#define SETTINGS "/.tern/manifest"

bool ipv4_parse(const char *s, const char **end, uint32_t *out)
{
    uint8_t b[4];
    for (int i = 0; i < 4; i++) {
        unsigned v = 0, digits = 0;
        while (*s >= '0' && *s <= '9' && digits < 4) {
            v = v * 10 + (unsigned)(*s++ - '0');
            digits++;
        }
        if (!digits || v > 255 || (i < 3 && *s++ != '.'))
            return false;
        b[i] = (uint8_t)v;
    }
    memcpy(out, b, 4);
    *end = s;
    return true;
}

static void format_ipv4(uint32_t a, char *buf)
{
    const uint8_t *b = (const uint8_t *)&a;
    int n = 0;
    for (int i = 0; i < 4; i++) {
        unsigned v = b[i];
        char tmp[4];
        int k = 0;
        do {
            tmp[k++] = (char)('0' + v % 10);
            v /= 10;
        } while (v);
        while (k)
            buf[n++] = tmp[--k];
        if (i < 3)
            buf[n++] = '.';
    }
    buf[n] = 0;
}

void net_configure(struct netif *ifp)
{
    struct file *f;
    struct kstat st;
    uint32_t ip = 0, mask = 0, gw = 0;
    bool dhcp = false;
    if (vfs_open(SETTINGS, O_RDONLY, &f) == 0) {
        vfs_fstat(f, &st);
        char *text = st.size < 65536 ? kmalloc(st.size + 1) : NULL;
        if (text && vfs_pread(f, text, st.size, 0) == (int64_t)st.size) {
            text[st.size] = 0;
            for (char *line = text; line && *line;) {
                char *nl = strchr(line, '\n');
                if (nl)
                    *nl = 0;
                const char *end;
                if (!strncmp(line, "net.ip dhcp", 11)) {
                    dhcp = true;
                } else if (!strncmp(line, "net.ip ", 7) && ipv4_parse(line + 7, &end, &ip) &&
                           *end == '/') {
                    unsigned prefix = 0;
                    for (end++; *end >= '0' && *end <= '9'; end++)
                        prefix = prefix * 10 + (unsigned)(*end - '0');
                    if (prefix > 32)
                        prefix = 32;
                    mask = prefix ? htonl(0xffffffffu << (32 - prefix)) : 0;
                } else if (!strncmp(line, "net.gateway ", 12)) {
                    ipv4_parse(line + 12, &end, &gw);
                }
                line = nl ? nl + 1 : NULL;
            }
        }
        kfree(text);
        vfs_close(f);
    }
    char a[16], m[16], g[16];
    if (ip) {
        netif_set_addr(ifp, ip, mask, gw);
        format_ipv4(ip, a);
        format_ipv4(mask, m);
        format_ipv4(gw, g);
        pr_info("net: %s %02x:%02x:%02x:%02x:%02x:%02x address %s netmask %s gateway %s\n",
                ifp->name, ifp->mac[0], ifp->mac[1], ifp->mac[2], ifp->mac[3], ifp->mac[4],
                ifp->mac[5], a, m, gw ? g : "none");
    } else if (dhcp) {
        ifp->up = true;                 /* it sends and receives before it has an address */
        dhcp_start(ifp);
    } else {
        ifp->up = true;
        pr_warn("net: %s has no address: no network settings in the image\n", ifp->name);
    }
}

/* Boot waits, at most timeout_ns, for DHCP to give every interface that
 * asked for one its address, so that the app starts with its network
 * configured (Linux guests have network-online.target for this). Called
 * without net_lock, after net_start_timers (the client's retransmissions
 * run on the timer thread). A short poll: it runs once, at boot. */
void net_wait_for_dhcp(uint64_t timeout_ns)
{
    uint64_t end = net_now_ns() + timeout_ns;
    net_lock();
    while (dhcp_pending() && net_now_ns() < end) {
        net_unlock();
        thread_sleep_ns(10 * 1000000ULL);
        net_lock();
    }
    bool late = dhcp_pending();
    net_unlock();
    if (late)
        pr_warn("net: no DHCP lease after %llu s; starting without an address (still asking)\n",
                (unsigned long long)(timeout_ns / 1000000000ULL));
}
