/*
 * The device tree's devices, read once at boot into struct dt_info (dt.h)
 * for the rest of the platform: console, GIC, timer, PSCI, CPUs,
 * virtio-mmio slots, the PCIe host bridge, the RTC.
 *
 * libfdt (Debian's libfdt.a for arm64) is built with SIMD and
 * -fstack-protector, so it runs only here: from platform_early_init
 * (kvm_console_init), on the boot CPU before any thread exists, with
 * FP/SIMD enabled since boot.S (CPACR_EL1.FPEN) and the canary in
 * kernel/arch/aarch64/stack_protector.c. Nothing reads the tree later.
 */
#include <kern/printk.h>
#include <kern/string.h>
#include <libfdt.h>
#include "dt.h"

struct dt_info dt;

static uint64_t cells(const fdt32_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = (v << 32) | fdt32_to_cpu(p[i]);
    return v;
}

/* Entry i of node's reg, in its parent's address and size cells. */
static bool reg_at(const void *fdt, int node, int i, paddr_t *base, uint64_t *size)
{
    int parent = fdt_parent_offset(fdt, node);
    int ac = parent >= 0 ? fdt_address_cells(fdt, parent) : 2;
    int sc = parent >= 0 ? fdt_size_cells(fdt, parent) : 1;
    int len;
    const fdt32_t *reg = fdt_getprop(fdt, node, "reg", &len);
    if (ac < 1 || ac > 2 || sc < 0 || sc > 2 || !reg || len < (i + 1) * (ac + sc) * 4)
        return false;
    *base = cells(reg + i * (ac + sc), ac);
    if (size)
        *size = sc ? cells(reg + i * (ac + sc) + ac, sc) : 0;
    return true;
}

/* A GIC interrupt specifier (type, number, flags) into a GIC INTID. */
static struct dt_irq gic_irq(const fdt32_t *p)
{
    uint32_t type = fdt32_to_cpu(p[0]), num = fdt32_to_cpu(p[1]);
    return (struct dt_irq){ .intid = (type == 1 ? 16 : 32) + num, .flags = fdt32_to_cpu(p[2]) };
}

static bool irq_at(const void *fdt, int node, int i, struct dt_irq *out)
{
    int len;
    const fdt32_t *p = fdt_getprop(fdt, node, "interrupts", &len);
    if (!p || len < (i + 1) * 12)
        return false;
    *out = gic_irq(p + 3 * i);
    return true;
}

static int first_compatible(const void *fdt, const char *const *names)
{
    for (; *names; names++) {
        int node = fdt_node_offset_by_compatible(fdt, -1, *names);
        if (node >= 0)
            return node;
    }
    return -1;
}

static void parse_gic(const void *fdt)
{
    static const char *const v3[] = { "arm,gic-v3", NULL };
    static const char *const v2[] = { "arm,cortex-a15-gic", "arm,gic-400", "arm,cortex-a9-gic", NULL };
    int node = first_compatible(fdt, v3);
    if (node >= 0) {
        dt.gic_version = 3;
        reg_at(fdt, node, 0, &dt.gic_dist_base, &dt.gic_dist_size);
        reg_at(fdt, node, 1, &dt.gic_redist_base, &dt.gic_redist_size);
        int its = fdt_node_offset_by_compatible(fdt, node, "arm,gic-v3-its");
        if (its >= 0)
            reg_at(fdt, its, 0, &dt.gic_msi_base, &dt.gic_msi_size);
        return;
    }
    node = first_compatible(fdt, v2);
    if (node >= 0) {
        dt.gic_version = 2;
        reg_at(fdt, node, 0, &dt.gic_dist_base, &dt.gic_dist_size);
        reg_at(fdt, node, 1, &dt.gic_cpuif_base, &dt.gic_cpuif_size);
        int m = fdt_node_offset_by_compatible(fdt, node, "arm,gic-v2m-frame");
        if (m >= 0)
            reg_at(fdt, m, 0, &dt.gic_msi_base, &dt.gic_msi_size);
    }
}

static void parse_timer(const void *fdt)
{
    static const char *const names[] = { "arm,armv8-timer", "arm,armv7-timer", NULL };
    int node = first_compatible(fdt, names);
    if (node < 0)
        return;
    irq_at(fdt, node, 0, &dt.timer_sec_phys);
    irq_at(fdt, node, 1, &dt.timer_phys);
    irq_at(fdt, node, 2, &dt.timer_virt);
    irq_at(fdt, node, 3, &dt.timer_hyp);
    int len;
    const fdt32_t *f = fdt_getprop(fdt, node, "clock-frequency", &len);
    if (f && len == 4)
        dt.timer_freq = fdt32_to_cpu(*f);
}

static void parse_psci(const void *fdt)
{
    static const char *const names[] = { "arm,psci-1.0", "arm,psci-0.2", NULL };
    int node = first_compatible(fdt, names);
    if (node < 0)
        return;
    const char *method = fdt_getprop(fdt, node, "method", NULL);
    if (!method)
        return;
    dt.psci_present = true;
    dt.psci_hvc = !strcmp(method, "hvc");
}

static void parse_cpus(const void *fdt)
{
    int cpus = fdt_path_offset(fdt, "/cpus");
    if (cpus < 0)
        return;
    int ac = fdt_address_cells(fdt, cpus);
    int node;
    fdt_for_each_subnode(node, fdt, cpus) {
        const char *type = fdt_getprop(fdt, node, "device_type", NULL);
        int len;
        const fdt32_t *reg = fdt_getprop(fdt, node, "reg", &len);
        if (!type || strcmp(type, "cpu") || !reg || ac < 1 || ac > 2 || len < 4 * ac)
            continue;
        if (dt.ncpus == DT_MAX_CPUS) {
            pr_warn("dt: more than %d CPUs; using the first %d\n", DT_MAX_CPUS, DT_MAX_CPUS);
            break;
        }
        dt.cpu_mpidr[dt.ncpus++] = cells(reg, ac);
    }
}

static void parse_virtio_mmio(const void *fdt)
{
    for (int node = fdt_node_offset_by_compatible(fdt, -1, "virtio,mmio"); node >= 0;
         node = fdt_node_offset_by_compatible(fdt, node, "virtio,mmio")) {
        if (dt.nvirtio == DT_MAX_VIRTIO)
            break;
        struct dt_region *r = &dt.virtio_mmio[dt.nvirtio];
        if (!reg_at(fdt, node, 0, &r->base, &r->size) ||
            !irq_at(fdt, node, 0, &dt.virtio_irq[dt.nvirtio]))
            continue;
        dt.nvirtio++;
    }
}

static void parse_pci(const void *fdt)
{
    int node = fdt_node_offset_by_compatible(fdt, -1, "pci-host-ecam-generic");
    if (node < 0 || !reg_at(fdt, node, 0, &dt.ecam_base, &dt.ecam_size))
        return;
    int len;
    const fdt32_t *br = fdt_getprop(fdt, node, "bus-range", &len);
    dt.pci_bus_first = br && len == 8 ? fdt32_to_cpu(br[0]) : 0;
    dt.pci_bus_last = br && len == 8 ? fdt32_to_cpu(br[1]) : (uint32_t)(dt.ecam_size >> 20) - 1;

    /* ranges: (pci space + address: 3 cells, cpu address: parent's cells,
     * size: our #size-cells) */
    int pac = fdt_address_cells(fdt, fdt_parent_offset(fdt, node));
    int sc = fdt_size_cells(fdt, node);
    const fdt32_t *r = fdt_getprop(fdt, node, "ranges", &len);
    int entry = 3 + pac + sc;
    for (int i = 0; r && pac > 0 && sc > 0 && (i + 1) * entry * 4 <= len; i++) {
        if (dt.npci_ranges == DT_MAX_RANGES)
            break;
        const fdt32_t *e = r + i * entry;
        uint32_t hi = fdt32_to_cpu(e[0]);
        struct dt_pci_range *pr = &dt.pci_ranges[dt.npci_ranges++];
        pr->space = (hi >> 24) & 3;             /* 1 I/O, 2 32-bit, 3 64-bit memory */
        pr->prefetchable = hi & (1u << 30);
        pr->pci_addr = cells(e + 1, 2);
        pr->cpu_addr = cells(e + 3, pac);
        pr->size = cells(e + 3 + pac, sc);
    }

    /* interrupt-map: (child address 3 cells, pin 1 cell, parent phandle,
     * parent address (its #address-cells), parent interrupt 3 cells).
     * The entries for slot 0, pins INTA-D. */
    const fdt32_t *m = fdt_getprop(fdt, node, "interrupt-map", &len);
    for (int off = 0; m && (off + 5) * 4 <= len;) {
        uint32_t devfn_hi = fdt32_to_cpu(m[off]);
        uint32_t pin = fdt32_to_cpu(m[off + 3]);
        int parent = fdt_node_offset_by_phandle(fdt, fdt32_to_cpu(m[off + 4]));
        if (parent < 0)
            break;
        int lenp;
        const fdt32_t *pacp = fdt_getprop(fdt, parent, "#address-cells", &lenp);
        int pa_cells = pacp && lenp == 4 ? (int)fdt32_to_cpu(*pacp) : 0;
        int step = 5 + pa_cells + 3;
        if ((off + step) * 4 > len)
            break;
        if (((devfn_hi >> 11) & 0x1f) == 0 && pin >= 1 && pin <= 4) {
            dt.pci_intx_intid[pin - 1] = gic_irq(m + off + 5 + pa_cells).intid;
            dt.pci_intx_valid = true;
        }
        off += step;
    }
}

int dt_parse(const void *fdt)
{
    int err = fdt_check_header(fdt);
    if (err) {
        pr_err("dt: not a device tree: %s\n", fdt_strerror(err));
        return err;
    }
    static const char *const uart[] = { "arm,pl011", NULL };
    int node = first_compatible(fdt, uart);
    /* /chosen's stdout-path names the console when there are several. */
    int chosen = fdt_path_offset(fdt, "/chosen");
    const char *out = chosen >= 0 ? fdt_getprop(fdt, chosen, "stdout-path", NULL) : NULL;
    if (out) {
        char path[128];
        strlcpy(path, out, sizeof(path));
        char *colon = strchr(path, ':');
        if (colon)
            *colon = 0;
        int n = fdt_path_offset(fdt, path);
        if (n >= 0 && !fdt_node_check_compatible(fdt, n, "arm,pl011"))
            node = n;
    }
    if (node >= 0) {
        reg_at(fdt, node, 0, &dt.pl011_base, NULL);
        irq_at(fdt, node, 0, &dt.pl011_irq);
    }
    parse_gic(fdt);
    parse_timer(fdt);
    parse_psci(fdt);
    parse_cpus(fdt);
    parse_virtio_mmio(fdt);
    parse_pci(fdt);
    node = fdt_node_offset_by_compatible(fdt, -1, "arm,pl031");
    if (node >= 0)
        reg_at(fdt, node, 0, &dt.rtc_base, NULL);
    node = fdt_node_offset_by_compatible(fdt, -1, "qemu,fw-cfg-mmio");
    if (node >= 0)
        reg_at(fdt, node, 0, &dt.fw_cfg_base, NULL);
    return 0;
}
