# KVM/QEMU platform sources (included by Makefile).
PLATFORM_SRCS := platform/kvm/platform.c
PLATFORM_SRCS_x86_64 := platform/kvm/uart16550.c platform/kvm/exit_x86_64.c \
	platform/kvm/pci_x86_64.c
PLATFORM_SRCS += $(PLATFORM_SRCS_$(ARCH))
