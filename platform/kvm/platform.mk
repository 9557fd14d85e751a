# KVM/QEMU platform sources (included by Makefile).
PLATFORM_SRCS := platform/kvm/platform.c
PLATFORM_SRCS += platform/kvm/acpi.c
PLATFORM_SRCS_x86_64 := platform/kvm/uart16550.c platform/kvm/exit_x86_64.c \
	platform/kvm/kvmclock_x86.c platform/kvm/pit_x86.c platform/kvm/clock_x86.c \
	platform/kvm/rtc_x86.c platform/kvm/acpi_poweroff_x86.c platform/kvm/madt_x86.c \
	platform/kvm/irq_x86.c platform/kvm/pci_x86_64.c platform/kvm/board_x86.c
PLATFORM_SRCS_aarch64 := platform/kvm/dt_arm64.c platform/kvm/pl011_arm64.c \
	platform/kvm/exit_arm64.c platform/kvm/machine_arm64.c platform/kvm/pci_arm64.c \
	platform/kvm/pl031_arm64.c
PLATFORM_SRCS += $(PLATFORM_SRCS_$(ARCH))
