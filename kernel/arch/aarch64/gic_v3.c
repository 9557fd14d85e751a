/*
 * GICv3 (ARM IHI 0069): a memory-mapped distributor for SPIs, one
 * redistributor per CPU for its SGIs and PPIs (found by matching
 * GICR_TYPER's affinity with MPIDR_EL1), and a CPU interface reached
 * through ICC_* system registers. Affinity routing is on: an SPI is routed
 * to an MPIDR, an SGI names its targets by affinity.
 *
 * Entered at EL2, the boot code must have set ICC_SRE_EL2.{SRE,Enable}
 * for EL1 to use the system registers (as Linux's el2_setup does).
 */
#include <arch/barrier.h>
#include <arch/plat_arm.h>
#include <kern/arch.h>
#include <kern/irq.h>
#include <kern/panic.h>
#include <kern/percpu.h>
#include <kern/printk.h>
#include <arch/gic.h>

/* Distributor (12.9). */
#define GICD_CTLR        0x0000
#define GICD_TYPER       0x0004
#define GICD_IGROUPR     0x0080
#define GICD_ISENABLER   0x0100
#define GICD_ICENABLER   0x0180
#define GICD_ICPENDR     0x0280
#define GICD_IPRIORITYR  0x0400
#define GICD_ICFGR       0x0c00
#define GICD_IROUTER     0x6000
#define GICD_CTLR_RWP    (1u << 31)
/* Non-secure view; with one security state (DS=1) the same bits are
 * EnableGrp0, EnableGrp1 and ARE: setting all three works in both. */
#define GICD_CTLR_ENABLE (1u << 0 | 1u << 1 | 1u << 4)

/* Redistributor: RD_base frame, then the SGI_base frame 64 KiB on. */
#define GICR_TYPER       0x0008
#define GICR_WAKER       0x0014
#define GICR_SGI         0x10000
#define GICR_IGROUPR0    (GICR_SGI + 0x0080)
#define GICR_ISENABLER0  (GICR_SGI + 0x0100)
#define GICR_ICENABLER0  (GICR_SGI + 0x0180)
#define GICR_IPRIORITYR  (GICR_SGI + 0x0400)
#define GICR_ICFGR1      (GICR_SGI + 0x0c04)
#define GICR_TYPER_VLPIS (1u << 1)
#define GICR_TYPER_LAST  (1u << 4)
#define GICR_WAKER_SLEEP (1u << 1)
#define GICR_WAKER_ASLEEP (1u << 2)

/* CPU interface system registers, by encoding (12.2). */
#define ICC_PMR_EL1      "S3_0_C4_C6_0"
#define ICC_IAR1_EL1     "S3_0_C12_C12_0"
#define ICC_EOIR1_EL1    "S3_0_C12_C12_1"
#define ICC_BPR1_EL1     "S3_0_C12_C12_3"
#define ICC_CTLR_EL1     "S3_0_C12_C12_4"
#define ICC_SRE_EL1      "S3_0_C12_C12_5"
#define ICC_IGRPEN1_EL1  "S3_0_C12_C12_7"
#define ICC_SGI1R_EL1    "S3_0_C12_C11_5"

#define read_sys(reg) ({ uint64_t v_; __asm__ volatile("mrs %0, " reg : "=r"(v_)); v_; })
#define write_sys(reg, v) __asm__ volatile("msr " reg ", %0" : : "r"((uint64_t)(v)) : "memory")

static volatile uint8_t *dist, *redist_region;
static uint64_t redist_size;
static unsigned nr_lines;
/* Each CPU's redistributor, by cpus[] index. */
static volatile uint8_t *redist[MAX_CPUS];

static uint32_t rd(volatile uint8_t *base, unsigned off)
{
    return *(volatile uint32_t *)(base + off);
}

static void wr(volatile uint8_t *base, unsigned off, uint32_t v)
{
    *(volatile uint32_t *)(base + off) = v;
}

static void dist_wait(void)
{
    while (rd(dist, GICD_CTLR) & GICD_CTLR_RWP)
        __asm__ volatile("yield");
}

static uint64_t mpidr(void)
{
    return read_sys("mpidr_el1");
}

/* Affinity as GICD_IROUTER and GICR_TYPER write it: Aff3 in 39:32, Aff2-0
 * in 23:0 (MPIDR's own layout, less its flag bits). */
static uint64_t affinity(uint64_t m)
{
    return (m & 0xff00000000ULL) | (m & 0xffffff);
}

static void v3_init(void)
{
    struct gic_desc d;
    platform_gic(&d);
    dist = ioremap(d.dist, 0x10000);
    redist_region = ioremap(d.redist, d.redist_size);
    redist_size = d.redist_size;
    wr(dist, GICD_CTLR, 0);
    dist_wait();
    nr_lines = ((rd(dist, GICD_TYPER) & 0x1f) + 1) * 32;
    if (nr_lines > GIC_SPURIOUS)
        nr_lines = GIC_SPURIOUS;
    for (unsigned i = GIC_FIRST_SPI; i < nr_lines; i += 32) {
        wr(dist, GICD_ICENABLER + i / 8, 0xffffffff);
        wr(dist, GICD_ICPENDR + i / 8, 0xffffffff);
        /* Non-secure group 1: what EL1 takes as IRQ. */
        wr(dist, GICD_IGROUPR + i / 8, 0xffffffff);
    }
    for (unsigned i = GIC_FIRST_SPI; i < nr_lines; i += 4)
        wr(dist, GICD_IPRIORITYR + i, GIC_PRIO_DEFAULT * 0x01010101u);
    dist_wait();
    wr(dist, GICD_CTLR, GICD_CTLR_ENABLE);
    dist_wait();
    pr_info("gic: GICv3, distributor at %#llx, redistributors at %#llx, %u lines\n",
            (unsigned long long)d.dist, (unsigned long long)d.redist, nr_lines);
}

/* This CPU's redistributor: the frame whose GICR_TYPER names our
 * affinity. Frames are 128 KiB (RD + SGI), 256 KiB with GICv4's VLPI
 * frames; the last one says so. */
static volatile uint8_t *find_redist(void)
{
    uint64_t aff = affinity(mpidr());
    uint64_t aff_typer = (aff >> 32) << 24 | (aff & 0xffffff);
    for (uint64_t off = 0; off + 0x20000 <= redist_size;) {
        volatile uint8_t *r = redist_region + off;
        uint64_t typer = *(volatile uint64_t *)(r + GICR_TYPER);
        if (typer >> 32 == aff_typer)
            return r;
        if (typer & GICR_TYPER_LAST)
            break;
        off += typer & GICR_TYPER_VLPIS ? 0x40000 : 0x20000;
    }
    return NULL;
}

static void v3_init_cpu(void)
{
    volatile uint8_t *r = find_redist();
    if (!r)
        panic("gic: no redistributor for MPIDR %#llx", (unsigned long long)mpidr());
    redist[this_cpu()->id] = r;
    /* 12.11.41: wake the redistributor. */
    wr(r, GICR_WAKER, rd(r, GICR_WAKER) & ~GICR_WAKER_SLEEP);
    while (rd(r, GICR_WAKER) & GICR_WAKER_ASLEEP)
        __asm__ volatile("yield");
    wr(r, GICR_ICENABLER0, 0xffffffff);
    wr(r, GICR_IGROUPR0, 0xffffffff);
    for (unsigned i = 0; i < GIC_FIRST_SPI; i += 4)
        wr(r, GICR_IPRIORITYR + i, GIC_PRIO_DEFAULT * 0x01010101u);
    wr(r, GICR_ISENABLER0, 1u << GIC_SGI_RESCHED);

    /* The system-register interface (SRE), all priorities accepted, one
     * priority drop + deactivate per EOI (EOImode 0), group 1 on. */
    write_sys(ICC_SRE_EL1, read_sys(ICC_SRE_EL1) | 1);
    __asm__ volatile("isb");
    if (!(read_sys(ICC_SRE_EL1) & 1))
        panic("gic: ICC_SRE_EL1.SRE stays 0 (EL2 did not allow the system registers)");
    write_sys(ICC_PMR_EL1, 0xff);
    write_sys(ICC_BPR1_EL1, 0);
    write_sys(ICC_CTLR_EL1, 0);
    write_sys(ICC_IGRPEN1_EL1, 1);
    __asm__ volatile("isb");
}

static void v3_enable(unsigned intid, bool edge)
{
    if (intid < GIC_FIRST_SPI) {
        volatile uint8_t *r = redist[this_cpu()->id];
        if (intid >= GIC_FIRST_PPI) {
            unsigned shift = (intid % 16) * 2 + 1;
            uint32_t cfg = rd(r, GICR_ICFGR1);
            wr(r, GICR_ICFGR1, edge ? cfg | 1u << shift : cfg & ~(1u << shift));
        }
        wr(r, GICR_ISENABLER0, 1u << intid);
        return;
    }
    BUG_ON(intid >= nr_lines);
    unsigned shift = (intid % 16) * 2 + 1;
    uint32_t cfg = rd(dist, GICD_ICFGR + intid / 16 * 4);
    wr(dist, GICD_ICFGR + intid / 16 * 4, edge ? cfg | 1u << shift : cfg & ~(1u << shift));
    /* Every device interrupt to one CPU (kern/irq.h says why). */
    *(volatile uint64_t *)(dist + GICD_IROUTER + intid * 8) =
        affinity(cpus[IRQ_DEVICE_CPU].arch.mpidr);
    wr(dist, GICD_ISENABLER + intid / 32 * 4, 1u << intid % 32);
    dist_wait();
}

static void v3_send_sgi(unsigned sgi, const struct cpu *c)
{
    uint64_t m = c->arch.mpidr;
    unsigned aff0 = m & 0xff;
    /* 12.2.21 ICC_SGI1R_EL1: Aff3 55:48, RS 47:44 (which 16 of Aff0),
     * Aff2 39:32, INTID 27:24, Aff1 23:16, TargetList 15:0. */
    uint64_t v = ((m >> 32) & 0xff) << 48 | (uint64_t)(aff0 / 16) << 44 |
                 ((m >> 16) & 0xff) << 32 | (uint64_t)sgi << 24 | ((m >> 8) & 0xff) << 16 |
                 1u << (aff0 % 16);
    /* The request the SGI announces must be visible first; the GIC
     * system-register write is not ordered by a DMB alone. */
    __asm__ volatile("dsb ishst" : : : "memory");
    write_sys(ICC_SGI1R_EL1, v);
    __asm__ volatile("isb");
}

static uint32_t v3_ack(void)
{
    uint32_t iar = (uint32_t)read_sys(ICC_IAR1_EL1);
    /* Reads of device state the handler does come after the ack. */
    __asm__ volatile("dsb sy" : : : "memory");
    return iar;
}

static void v3_eoi(uint32_t iar)
{
    write_sys(ICC_EOIR1_EL1, iar);
    __asm__ volatile("isb");
}

const struct gic_ops gic_v3_ops = {
    .name = "GICv3",
    .init = v3_init,
    .init_cpu = v3_init_cpu,
    .enable = v3_enable,
    .send_sgi = v3_send_sgi,
    .ack = v3_ack,
    .eoi = v3_eoi,
};
