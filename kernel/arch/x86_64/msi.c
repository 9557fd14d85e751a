/*
 * The MSI message format of the local APIC (kern/irq.h): a device writes
 * data to address, and the APIC named in the address takes the vector in
 * the data.
 */
#include <kern/irq.h>
#include <kern/percpu.h>

void irq_msi_message(int irq, unsigned cpu, uint64_t *address, uint32_t *data)
{
    /* Intel SDM 11.11: destination APIC id in bits 19:12, physical mode,
     * fixed delivery, edge triggered. The interrupt number is the vector. */
    *address = 0xfee00000u | ((uint64_t)cpus[cpu].arch.apic_id << 12);
    *data = (uint32_t)irq;
}
