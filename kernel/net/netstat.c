/*
 * The stack's counters as text, in the formats of Linux's /proc/net/snmp,
 * /proc/net/netstat and /proc/net/dev (a subset of the columns, same
 * names), so that tools and apps that read those files read these. The Linux layer serves them
 * as files (kernel/linux/proc_files.c).
 */
#include <kern/netdev.h>
#include <kern/percpu.h>
#include <kern/printf.h>
#include <kern/printk.h>
#include <kern/string.h>
#include "net_internal.h"
#include "tcp.h"

/* Append to buf (size bytes, *used filled); output is cut at the end. */
static void add(char *buf, size_t size, size_t *used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void add(char *buf, size_t size, size_t *used, const char *fmt, ...)
{
    if (*used >= size)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *used, size - *used, fmt, ap);
    va_end(ap);
    if (n > 0)
        *used = MIN(size, *used + (size_t)n);
}

#define U(x) ((unsigned long long)(x))

/* InDelivers counts datagrams handed to ICMP/UDP/TCP: fragments are not,
 * each reassembled datagram is (as Linux counts). */
size_t net_format_snmp(char *buf, size_t size)
{
    const struct net_counters *c = &net_stats;
    size_t n = 0;
    net_lock();
    add(buf, size, &n, "Ip: Forwarding DefaultTTL InReceives InHdrErrors InAddrErrors "
        "InDelivers OutRequests OutNoRoutes ReasmTimeout ReasmReqds ReasmOKs ReasmFails "
        "FragCreates InCsumErrors\n");
    add(buf, size, &n, "Ip: 2 %d %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu\n",
        IP_DEFAULT_TTL, U(c->ip_in), U(c->ip_bad_header), U(c->ip_not_ours),
        U(c->ip_in - c->ip_bad_header - c->ip_not_ours - c->ip_bad_csum - c->ip_reasm_reqds +
          c->ip_reasm_ok), U(c->ip_out),
        U(c->ip_no_route), U(c->ip_reasm_timeout), U(c->ip_reasm_reqds), U(c->ip_reasm_ok),
        U(c->ip_reasm_fail), U(c->ip_frag_created), U(c->ip_bad_csum));
    add(buf, size, &n, "Icmp: InMsgs OutMsgs OutEchoReps\n");
    add(buf, size, &n, "Icmp: %llu %llu %llu\n", U(c->icmp_in), U(c->icmp_out),
        U(c->icmp_echo_replies));
    const struct tcp_counters *t = &tcp_stats;
    add(buf, size, &n, "Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens "
        "AttemptFails EstabResets CurrEstab InSegs OutSegs RetransSegs InErrs OutRsts\n");
    add(buf, size, &n, "Tcp: 1 200 120000 -1 %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu\n",
        U(t->active_opens), U(t->passive_opens), U(t->attempt_fails), U(t->estab_resets),
        U(t->curr_estab), U(t->in_segs), U(t->out_segs), U(t->retrans_segs), U(t->in_errs),
        U(t->out_rsts));
    add(buf, size, &n, "Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors "
        "InCsumErrors\n");
    add(buf, size, &n, "Udp: %llu %llu %llu %llu %llu %llu\n",
        U(c->udp_in - c->udp_no_port - c->udp_bad_csum - c->udp_rcvbuf_errors),
        U(c->udp_no_port), U(c->udp_bad_csum + c->udp_rcvbuf_errors), U(c->udp_out),
        U(c->udp_rcvbuf_errors), U(c->udp_bad_csum));
    add(buf, size, &n, "Arp: InPackets OutPackets RequestsAnswered QueueDrops\n");
    add(buf, size, &n, "Arp: %llu %llu %llu %llu\n", U(c->arp_in), U(c->arp_out),
        U(c->arp_requests_answered), U(c->arp_queue_dropped));
    net_unlock();
    return n;
}

/* The scheduler's and the syscall path's counters summed over the CPUs:
 * with the bytes a benchmark moved, they say where its cycles went
 * (docs/zcopy.md). Read without locks: statistics, not invariants. */
struct cpu_totals {
    uint64_t switches, preemptions, interrupts, wakeups, remote_wakeups, ipis, syscalls;
};

static void cpu_totals(struct cpu_totals *t)
{
    memset(t, 0, sizeof *t);
    for (unsigned i = 0; i < nr_cpus; i++) {
        const struct cpu *c = &cpus[i];
        t->switches += c->nr_switches;
        t->preemptions += c->nr_preemptions;
        t->interrupts += c->nr_interrupts;
        t->wakeups += c->nr_wakeups;
        t->remote_wakeups += c->nr_remote_wakeups;
        t->ipis += c->nr_ipis;
        t->syscalls += __atomic_load_n(&c->nr_syscalls, __ATOMIC_RELAXED);
    }
}

/* Linux's /proc/net/netstat: the TcpExt counters this stack keeps, and
 * one line of its own for the memory budget (net_mem.c), in bytes. */
size_t net_format_netstat(char *buf, size_t size)
{
    const struct tcp_counters *t = &tcp_stats;
    const struct net_counters *c = &net_stats;
    size_t n = 0;
    net_lock();
    add(buf, size, &n, "IpExt: ReasmOverlaps\n");
    add(buf, size, &n, "IpExt: %llu\n", U(c->ip_reasm_overlaps));
    add(buf, size, &n, "TcpExt: SyncookiesSent SyncookiesRecv SyncookiesFailed ListenOverflows "
        "ListenDrops TCPOFOQueue TCPOFODrop TCPOFOMerge TCPRcvQDrop TCPChallengeACK "
        "TCPACKSkippedChallenge TCPACKSkippedSeq TCPMemoryPressures TCPMemWaits "
        "TCPBadSourceSYNs\n");
    add(buf, size, &n, "TcpExt: %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu "
        "%llu %llu\n", U(t->syncookies_sent), U(t->syncookies_recv), U(t->syncookies_failed),
        U(t->listen_overflows), U(t->listen_drops), U(t->ofo_queue), U(t->ofo_drop),
        U(t->ofo_merge), U(t->rcvq_drop), U(t->challenge_acks), U(t->challenge_skipped),
        U(t->oow_rate_limited), U(net_mem_stats.pressure_events), U(t->mem_waits),
        U(t->bad_source_syns));
    struct net_mem_usage u;
    net_mem_usage(&u);
    add(buf, size, &n, "TernMem: Used Peak Pressure High Limit ChargeFailures MemDrops\n");
    add(buf, size, &n, "TernMem: %llu %llu %llu %llu %llu %llu %llu\n", U(u.used), U(u.peak),
        U(u.pressure), U(u.high), U(u.limit), U(net_mem_stats.charge_failures),
        U(net_mem_stats.drops));
    add(buf, size, &n, "TernZcopy: Completions Copied\n");
    add(buf, size, &n, "TernZcopy: %llu %llu\n", U(t->zc_completions), U(t->zc_copied));
    net_unlock();
    struct cpu_totals ct;
    cpu_totals(&ct);
    add(buf, size, &n, "TernCpu: Switches Preemptions Interrupts Wakeups RemoteWakeups Ipis "
        "Syscalls\n");
    add(buf, size, &n, "TernCpu: %llu %llu %llu %llu %llu %llu %llu\n", U(ct.switches),
        U(ct.preemptions), U(ct.interrupts), U(ct.wakeups), U(ct.remote_wakeups), U(ct.ipis),
        U(ct.syscalls));
    return n;
}

/* Linux's /proc/net/sockstat, TCP's line: blocks in use, orphans, in
 * TIME_WAIT, and the memory the stack holds in pages. */
size_t net_format_sockstat(char *buf, size_t size)
{
    size_t n = 0;
    net_lock();
    unsigned long long inuse = 0, orphan = 0, tw = 0;
    struct list_head *pos;
    list_for_each(pos, &tcp_socks) {
        const struct tcp_sock *t = list_entry(pos, struct tcp_sock, link);
        inuse++;
        orphan += t->orphan;
        tw += t->state == TCPS_TIME_WAIT;
    }
    struct net_mem_usage u;
    net_mem_usage(&u);
    add(buf, size, &n, "TCP: inuse %llu orphan %llu tw %llu alloc %llu mem %llu\n", inuse, orphan,
        tw, inuse, U((u.used + 4095) / 4096));
    net_unlock();
    return n;
}

/* Reassembly's state and limits, which no Linux file has: one line. */
static size_t format_reasm(char *buf, size_t size)
{
    struct ip_reasm_usage u;
    size_t n = 0;
    net_lock();
    ip_reasm_usage(&u);
    add(buf, size, &n, "reasm: %u datagrams (max %u), %u fragments, %zu bytes (high %zu, "
        "low %zu), %llu evicted, %llu dropped for memory\n", u.queues, u.max_queues, u.frags,
        u.mem, u.mem_high, u.mem_low, U(net_stats.ip_reasm_evicted),
        U(net_stats.ip_frag_dropped));
    net_unlock();
    return n;
}

size_t net_format_dev(char *buf, size_t size)
{
    size_t n = 0;
    add(buf, size, &n, "Inter-|   Receive                            |  Transmit\n");
    add(buf, size, &n, " face |bytes    packets errs drop          |bytes    packets errs drop\n");
    net_lock();
    for (struct netif *i = netif_first(); i; i = i->next) {
        const struct netif_stats *s = &i->stats;
        add(buf, size, &n, "%6s: %8llu %7llu %4llu %4llu %8llu %7llu %4llu %4llu\n", i->name,
            U(s->rx_bytes), U(s->rx_packets), U(s->rx_errors), U(s->rx_dropped),
            U(s->tx_bytes), U(s->tx_packets), U(s->tx_errors), U(s->tx_dropped));
    }
    net_unlock();
    return n;
}

/* Print text line by line, each with the prefix. */
static void print_lines(const char *prefix, char *text)
{
    char *line = text;
    while (*line) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = 0;
        pr_info("%s%s\n", prefix, line);
        if (!nl)
            break;
        line = nl + 1;
    }
}

void net_print_stats(void)
{
    enum { TEXT_MAX = 2048 };
    /* Static, not kmalloc: the app may be ending because memory ran out
     * (an out-of-memory SIGKILL), which is when the counters matter. The
     * caller prints once (app_end_report). */
    static char text[TEXT_MAX];
    /* One call's output fits: the formats are short and fixed. */
    static size_t (*const formats[])(char *, size_t) = {
        net_format_snmp, net_format_netstat, net_format_sockstat, format_reasm, net_format_dev,
    };
    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
        formats[i](text, TEXT_MAX - 1);
        text[TEXT_MAX - 1] = 0;
        print_lines("netstat: ", text);
    }
    for (struct netdev *d = netdev_next(NULL); d; d = netdev_next(d))
        netdev_print_stats(d);
}
