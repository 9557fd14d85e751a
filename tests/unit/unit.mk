# Host unit tests: tests/unit/test_NAME.c is linked with UNIT_NAME_SRCS
# (kernel sources compiled for the host). Add a test: write the file, add
# its name to UNIT_TESTS and list what it links.
UNIT_TESTS := printf string cmdline page_alloc kmalloc ksyms

UNIT_printf_SRCS     := kernel/lib/vsnprintf.c
UNIT_string_SRCS     := kernel/lib/string.c kernel/lib/vsnprintf.c
UNIT_cmdline_SRCS    := kernel/core/cmdline.c kernel/lib/vsnprintf.c
UNIT_page_alloc_SRCS := kernel/mm/page_alloc.c kernel/lib/vsnprintf.c
UNIT_kmalloc_SRCS    := kernel/mm/kmalloc.c kernel/mm/page_alloc.c kernel/lib/vsnprintf.c
UNIT_ksyms_SRCS      := kernel/core/ksyms.c kernel/lib/vsnprintf.c
