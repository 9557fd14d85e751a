# Two copies of the TCP/IP stack in one test program (tests/unit/twin/,
# twin.h), included by tests/unit/unit.mk.
#
# The stack's protocol files and side.c are compiled once for the host,
# linked into one relocatable object, and copied twice with every defined
# global symbol prefixed (a_..., b_...): two hosts whose globals do not
# collide. Undefined symbols (libc, the sanitizers' runtime, check.h's
# printk/panic, the harness's twin_dev_*) keep their names and bind to the
# test program's single definitions. Host binutils throughout: the kernel's
# $(NM)/$(OBJCOPY) may be a cross toolchain.
TWIN_B        := $(HOSTB)/unit/twin
TWIN_NM       ?= nm
TWIN_OBJCOPY  ?= objcopy
TWIN_STACK_SRCS := $(NET_PROTO_SRCS) kernel/lib/vsnprintf.c tests/unit/twin/side.c
TWIN_STACK_OBJS := $(patsubst %.c,$(TWIN_B)/obj/%.o,$(TWIN_STACK_SRCS))
TWIN_SIDES      := $(TWIN_B)/stack_a.o $(TWIN_B)/stack_b.o
# What a twin test links: the two hosts, the wire, and the test's own
# vsnprintf (check.h's panic uses it; the copies have renamed theirs).
TWIN_SRCS := tests/unit/twin/link.c kernel/lib/vsnprintf.c $(TWIN_SIDES)

$(TWIN_B)/obj/%.o: %.c
	@echo "  HOSTCC  $<  [twin]"
	$(Q)mkdir -p $(dir $@)
	$(Q)$(HOST_CC) $(UNIT_CFLAGS) -Ikernel/net -Itests/unit/twin -MMD -MP -c $< -o $@

$(TWIN_B)/stack.o: $(TWIN_STACK_OBJS)
	@echo "  LD -r   $@"
	$(Q)$(HOST_CC) -r -nostdlib -o $@ $(TWIN_STACK_OBJS)

# nm prints "value type name"; the map file is "old new" per line.
$(TWIN_B)/stack_%.o: $(TWIN_B)/stack.o
	@echo "  RENAME  $@ ($*_)"
	$(Q)$(TWIN_NM) --defined-only -g $< | awk 'NF == 3 { print $$3 " $*_" $$3 }' > $@.syms
	$(Q)$(TWIN_OBJCOPY) --redefine-syms=$@.syms $< $@

$(patsubst %,$(HOSTB)/unit/test_%,twin tcp): tests/unit/twin/twin.h tests/unit/twin/twin_test.h

# Kept: they are built by a pattern rule and named only through
# UNIT_*_SRCS, which would make them intermediate files.
.SECONDARY: $(TWIN_SIDES)

-include $(TWIN_STACK_OBJS:.o=.d)
