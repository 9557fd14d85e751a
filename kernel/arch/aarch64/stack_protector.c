/*
 * The stack protector's symbols for Debian's libfdt.a (arm64), which is
 * built with -fstack-protector: on aarch64 the canary is the global
 * __stack_chk_guard. The kernel itself is built without the protector;
 * only libfdt, at boot (fdt_boot.c, platform/kvm/dt_arm64.c), checks it.
 * A fixed odd value is enough for that: it catches libfdt overrunning its
 * own frame on a malformed tree, not an attacker.
 */
#include <kern/panic.h>

unsigned long __stack_chk_guard = 0x5465726e0a00ff7dUL;

void __stack_chk_fail(void) __noreturn;
void __stack_chk_fail(void)
{
    panic("stack protector: libfdt overran its stack frame (a malformed device tree?)");
}
