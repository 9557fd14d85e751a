# Host unit tests: tests/unit/test_NAME.c is linked with UNIT_NAME_SRCS
# (kernel sources compiled for the host). Add a test: write the file, add
# its name to UNIT_TESTS and list what it links.
UNIT_TESTS := printf string cmdline page_alloc kmalloc ksyms rofs sha256 net dhcp
UNIT_TESTS += siphash syncookie random stdio_frame

UNIT_printf_SRCS     := kernel/lib/vsnprintf.c
UNIT_string_SRCS     := kernel/lib/string.c kernel/lib/vsnprintf.c
UNIT_cmdline_SRCS    := kernel/core/cmdline.c kernel/lib/vsnprintf.c
UNIT_page_alloc_SRCS := kernel/mm/page_alloc.c kernel/lib/vsnprintf.c
UNIT_kmalloc_SRCS    := kernel/mm/kmalloc.c kernel/mm/page_alloc.c kernel/lib/vsnprintf.c
UNIT_ksyms_SRCS      := kernel/core/ksyms.c kernel/lib/vsnprintf.c
UNIT_string_CFLAGS := -fno-builtin -U_FORTIFY_SOURCE -Dmemcpy=tern_memcpy -Dmemmove=tern_memmove -Dmemset=tern_memset -Dmemcmp=tern_memcmp -Dmemchr=tern_memchr -Dstrlen=tern_strlen -Dstrnlen=tern_strnlen -Dstrcmp=tern_strcmp -Dstrncmp=tern_strncmp -Dstrchr=tern_strchr -Dstrrchr=tern_strrchr -Dstrlcpy=tern_strlcpy
UNIT_sha256_SRCS     := kernel/lib/sha256.c kernel/lib/vsnprintf.c
UNIT_siphash_SRCS    := kernel/lib/siphash.c kernel/lib/vsnprintf.c
UNIT_stdio_frame_SRCS := kernel/lib/stdio_frame.c kernel/lib/vsnprintf.c
# The generator's seeding, with a constant arch_entropy (the test's).
UNIT_random_SRCS     := kernel/lib/random.c kernel/lib/sha256.c kernel/lib/vsnprintf.c
# SYN cookies and the challenge-ACK limit: self-contained, no stack around them.
UNIT_syncookie_SRCS  := kernel/net/tcp_syncookie.c kernel/net/tcp_ratelimit.c kernel/lib/siphash.c kernel/lib/vsnprintf.c
UNIT_syncookie_CFLAGS := -Ikernel/net
UNIT_rofs_SRCS       := kernel/fs/rofs/rofs_reader.c kernel/lib/sha256.c image/rofs_write.c kernel/lib/vsnprintf.c
UNIT_rofs_CFLAGS     := -Iimage
# The TCP/IP stack's protocol files, with host stand-ins for the kernel side.
UNIT_net_SRCS        := $(NET_PROTO_SRCS) kernel/lib/vsnprintf.c
UNIT_net_CFLAGS      := -Ikernel/net
# The DHCP client against a fake server, on the same stack.
UNIT_dhcp_SRCS       := $(UNIT_net_SRCS)
UNIT_dhcp_CFLAGS     := -Ikernel/net
# Two stacks talking over a simulated lossy link (tests/unit/twin/twin.mk):
# the harness itself on UDP, ARP and ICMP, then TCP.
include tests/unit/twin/twin.mk
UNIT_TESTS           += twin tcp
UNIT_twin_SRCS       := $(TWIN_SRCS)
UNIT_twin_CFLAGS     := -Itests/unit/twin -Ikernel/net
UNIT_tcp_SRCS        := $(TWIN_SRCS)
UNIT_tcp_CFLAGS      := -Itests/unit/twin -Ikernel/net
