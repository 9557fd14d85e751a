# Device drivers any machine may use (included by kernel/kernel.mk): the PCI
# bus and virtio (transports, ring, devices). A platform calls their init
# functions; the machine-specific pieces (how PCI configuration space is
# reached, where virtio-mmio devices sit) come from platform/<platform>/.
DRIVERS_SRCS := \
	drivers/pci/pci.c \
	drivers/pci/pci_ecam.c \
	drivers/pci/pci_mcfg.c \
	drivers/pci/pci_assign.c \
	drivers/pci/pci_intx.c \
	drivers/virtio/virtio.c \
	drivers/virtio/virtio_pci.c \
	drivers/virtio/virtio_mmio.c \
	drivers/virtio/virtqueue.c \
	drivers/virtio/virtio_net.c \
	drivers/virtio/virtio_blk.c \
	drivers/virtio/virtio_console.c \
	drivers/virtio/virtio_rng.c
