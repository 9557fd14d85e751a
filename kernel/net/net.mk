# The TCP/IP stack (included by kernel/kernel.mk). The protocol files also
# build on the host for unit tests; net_kernel.c and netif_config.c are the
# kernel's side (lock, clock, timers, configuration).
NET_SRCS := \
	kernel/net/netbuf.c \
	kernel/net/checksum.c \
	kernel/net/ether.c \
	kernel/net/arp.c \
	kernel/net/ipv4.c \
	kernel/net/icmp.c \
	kernel/net/udp.c \
	kernel/net/ping.c \
	kernel/net/dgram.c \
	kernel/net/dhcp.c \
	kernel/net/netstat.c \
	kernel/net/net_kernel.c \
	kernel/net/netdev_glue.c \
	kernel/net/netif_config.c
