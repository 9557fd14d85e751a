/*
 * GICv2 (ARM IHI 0048B): a memory-mapped distributor shared by all CPUs
 * and a memory-mapped CPU interface, banked per CPU at the same address.
 * SGIs name their target by CPU interface number (a bit in an 8-bit
 * mask), which each CPU learns from its own banked ITARGETSR0.
 */
#include <arch/barrier.h>
#include <arch/plat_arm.h>
#include <kern/arch.h>
#include <kern/irq.h>
#include <kern/panic.h>
#include <kern/percpu.h>
#include <kern/printk.h>
#include <arch/gic.h>

/* Distributor registers (4.3). */
#define GICD_CTLR        0x000
#define GICD_TYPER       0x004
#define GICD_IGROUPR     0x080
#define GICD_ISENABLER   0x100
#define GICD_ICENABLER   0x180
#define GICD_ICPENDR     0x280
#define GICD_IPRIORITYR  0x400
#define GICD_ITARGETSR   0x800
#define GICD_ICFGR       0xc00
#define GICD_SGIR        0xf00

/* CPU interface registers (4.4). */
#define GICC_CTLR        0x00
#define GICC_PMR         0x04
#define GICC_BPR         0x08
#define GICC_IAR         0x0c
#define GICC_EOIR        0x10

static volatile uint8_t *dist, *cpuif;
static unsigned nr_lines;
/* Each CPU's interface bit for GICD_SGIR, by cpus[] index. */
static uint8_t target_mask[MAX_CPUS];

static uint32_t rd(volatile uint8_t *base, unsigned off)
{
    return *(volatile uint32_t *)(base + off);
}

static void wr(volatile uint8_t *base, unsigned off, uint32_t v)
{
    *(volatile uint32_t *)(base + off) = v;
}

static void v2_init(void)
{
    struct gic_desc d;
    platform_gic(&d);
    dist = ioremap(d.dist, 0x1000);
    cpuif = ioremap(d.cpuif, 0x2000);
    wr(dist, GICD_CTLR, 0);
    /* 4.3.2: ITLinesNumber: 32 * (N + 1) interrupt lines. */
    nr_lines = ((rd(dist, GICD_TYPER) & 0x1f) + 1) * 32;
    if (nr_lines > GIC_SPURIOUS)
        nr_lines = GIC_SPURIOUS;
    for (unsigned i = GIC_FIRST_SPI; i < nr_lines; i += 32) {
        wr(dist, GICD_ICENABLER + i / 8, 0xffffffff);
        wr(dist, GICD_ICPENDR + i / 8, 0xffffffff);
        /* Group 0 is what a GIC without security extensions signals as
         * IRQ; QEMU's virt GICv2 has none, so leave the group at 0. */
    }
    for (unsigned i = GIC_FIRST_SPI; i < nr_lines; i += 4)
        wr(dist, GICD_IPRIORITYR + i, GIC_PRIO_DEFAULT * 0x01010101u);
    wr(dist, GICD_CTLR, 1);
    pr_info("gic: GICv2, distributor at %#llx, CPU interface at %#llx, %u lines\n",
            (unsigned long long)d.dist, (unsigned long long)d.cpuif, nr_lines);
}

static void v2_init_cpu(void)
{
    /* 4.3.12: ITARGETSR0-7 are banked and read back this CPU's own bit;
     * a uniprocessor GIC reads them as 0 (and ignores targets): CPU 0. */
    uint32_t self = rd(dist, GICD_ITARGETSR) & 0xff;
    target_mask[this_cpu()->id] = self ? (uint8_t)self : 1;
    /* SGIs and PPIs: disabled until asked for, except our two SGIs. */
    wr(dist, GICD_ICENABLER, 0xffffffff);
    for (unsigned i = 0; i < GIC_FIRST_SPI; i += 4)
        wr(dist, GICD_IPRIORITYR + i, GIC_PRIO_DEFAULT * 0x01010101u);
    wr(dist, GICD_ISENABLER, 1u << GIC_SGI_RESCHED);
    wr(cpuif, GICC_PMR, 0xff);
    wr(cpuif, GICC_BPR, 0);
    wr(cpuif, GICC_CTLR, 1);
}

static void v2_enable(unsigned intid, bool edge)
{
    if (intid >= GIC_FIRST_SPI) {
        BUG_ON(intid >= nr_lines);
        /* 4.3.13: 2 bits per interrupt, bit 1 set = edge-triggered. */
        unsigned shift = (intid % 16) * 2 + 1;
        uint32_t cfg = rd(dist, GICD_ICFGR + intid / 16 * 4);
        cfg = edge ? cfg | 1u << shift : cfg & ~(1u << shift);
        wr(dist, GICD_ICFGR + intid / 16 * 4, cfg);
        /* Every device interrupt to one CPU (kern/irq.h says why). */
        *(dist + GICD_ITARGETSR + intid) = target_mask[IRQ_DEVICE_CPU];
    }
    wr(dist, GICD_ISENABLER + intid / 32 * 4, 1u << intid % 32);
}

static void v2_send_sgi(unsigned sgi, const struct cpu *c)
{
    /* The mask and the ring must be visible before the interrupt is. */
    mb();
    /* 4.3.15: TargetListFilter 0 (use the list), CPUTargetList, SGIINTID. */
    wr(dist, GICD_SGIR, (uint32_t)target_mask[c->id] << 16 | sgi);
}

static uint32_t v2_ack(void)
{
    return rd(cpuif, GICC_IAR);
}

static void v2_eoi(uint32_t iar)
{
    wr(cpuif, GICC_EOIR, iar);
}

const struct gic_ops gic_v2_ops = {
    .name = "GICv2",
    .init = v2_init,
    .init_cpu = v2_init_cpu,
    .enable = v2_enable,
    .send_sgi = v2_send_sgi,
    .ack = v2_ack,
    .eoi = v2_eoi,
};
