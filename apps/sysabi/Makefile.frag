# apps/sysabi: the syscall ABI torture app (README.md here). For the apps
# rule in Makefile.in: the arch-neutral sysabi.c, the x86_64 port
# (sysabi_x86_64.c) and its assembly, linked into out/apps/sysabi (musl
# static-PIE by default; glibc works too).
#
# The assembly file must reach `tern cc` as a source: a rule that keeps
# only %.c of APP_DEPS_sysabi has to let %.S through as well.
SYSABI_HDRS := apps/sysabi/sysabi_port.h apps/sysabi/sysabi_x86_64.h apps/sysabi/tern_test.h

APP_SRC_sysabi  := apps/sysabi/sysabi.c
APP_DEPS_sysabi := apps/sysabi/sysabi_x86_64.c apps/sysabi/regs.S $(SYSABI_HDRS)

# The arm64 port (sysabi_aarch64.c, regs_aarch64.S, sysabi_aarch64.h, with
# the same sysabi.c) is not an APPS entry: `make apps` builds for the host,
# and the aarch64 tests (tests/guest/sysabi_aarch64.sh) build it with
# `tern cc --arch=aarch64`.
