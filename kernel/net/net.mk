# The TCP/IP stack (included by kernel/kernel.mk). The protocol files
# (NET_PROTO_SRCS) also build on the host for unit tests and fuzzing;
# net_kernel.c, netdev_glue.c and netif_config.c are the kernel's side
# (lock, clock, timers, devices, configuration).
NET_PROTO_SRCS := \
	kernel/net/netbuf.c \
	kernel/net/checksum.c \
	kernel/net/ether.c \
	kernel/net/arp.c \
	kernel/net/ipv4.c \
	kernel/net/ipv4_reasm.c \
	kernel/net/ipv4_id.c \
	kernel/net/icmp.c \
	kernel/net/udp.c \
	kernel/net/ping.c \
	kernel/net/dgram.c \
	kernel/net/sock_iov.c \
	kernel/net/sock_port.c \
	kernel/net/dhcp.c \
	kernel/net/net_mem.c \
	kernel/net/tcp.c \
	kernel/net/tcp_input.c \
	kernel/net/tcp_rcvbuf.c \
	kernel/net/tcp_output.c \
	kernel/net/tcp_sock.c \
	kernel/net/tcp_syncookie.c \
	kernel/net/tcp_ratelimit.c
# Library code the protocol files use beyond string and vsnprintf: the host
# builds of the stack link it from here, the kernel from kernel.mk's list.
NET_PROTO_SRCS += kernel/lib/siphash.c
NET_SRCS := $(filter-out kernel/lib/%,$(NET_PROTO_SRCS)) \
	kernel/net/netstat.c \
	kernel/net/net_kernel.c \
	kernel/net/netdev_glue.c \
	kernel/net/loopback.c \
	kernel/net/netif_config.c
