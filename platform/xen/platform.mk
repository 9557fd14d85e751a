# Xen PVH platform sources (included by Makefile; x86_64 only for now).
ifneq ($(ARCH),x86_64)
$(error --platform=xen is ported to x86_64 only (PVH); arm64 Xen guests are not yet)
endif
PLATFORM_SRCS := platform/xen/platform.c \
	platform/xen/hypercall_x86.S platform/xen/hypervisor_x86.c \
	platform/xen/console.c platform/xen/evtchn.c platform/xen/time.c \
	platform/xen/cpu_x86.c platform/xen/gnttab.c platform/xen/xenstore.c \
	platform/xen/xenbus.c platform/xen/blkfront.c platform/xen/xen_ktest.c \
	platform/xen/netfront.c
# ACPI table lookup is the firmware's, not KVM's: libxl builds ACPI tables
# for PVH guests too, and drivers/pci looks for MCFG through it. (It could
# move to drivers/acpi/ once a third platform wants it.)
PLATFORM_SRCS += platform/kvm/acpi.c
