# scripts/check-portable.sh (issue 13): the generic kernel and drivers hold
# no x86 or KVM construct. The check passes on the tree, and fails on a
# copy of a generic directory with deliberate leaks, naming each one.
# tool_case NAME STATUS REGEX -- COMMAND...
# shellcheck disable=SC2016

tool_case portable_generic_code 0 '^check-portable: generic code is free' -- \
    sh scripts/check-portable.sh

# A tree of one generic directory with one leak per kind the check knows.
portable_leaks='
tmp=$(mktemp -d) || exit 2
trap "rm -rf \"$tmp\"" EXIT
mkdir -p "$tmp/kernel/net" "$tmp/drivers/virtio"
cat > "$tmp/kernel/net/leak.c" << "EOC"
/* comments may say rdtsc, outb(), kvmclock and ->rdi: they do not count */
#include <arch/x86_64.h>
static void leak(struct trap_frame *f)
{
    outb(0x80, 0);
    __asm__ volatile("rdtsc" ::: "memory");
    unsigned long v = f->rdi;
    (void)v;
}
EOC
printf "int machine = EM_X86_64;\n" > "$tmp/drivers/virtio/leak.c"
printf "hlt\n" > "$tmp/kernel/net/leak.S"
sh "$1" "$tmp" > "$tmp/out"
rc=$?
cat "$tmp/out"
named=0
for want in "kernel/net/leak.c:2: x86 header" "kernel/net/leak.c:5: port I/O" \
            "kernel/net/leak.c:6: x86 instruction in asm" "kernel/net/leak.c:6: TSC" \
            "kernel/net/leak.c:7: x86 register as a frame field" \
            "drivers/virtio/leak.c:1: EM_X86_64" "kernel/net/leak.S:1: assembly file"; do
    if grep -q "^$want" "$tmp/out"; then named=$((named + 1)); else echo "not named: $want"; fi
done
grep -q "kernel/net/leak.c:1:" "$tmp/out" && { echo "a comment was taken for code"; named=0; }
echo "portable leaks: $named of 7 named"
exit $rc
'
tool_case portable_catches_leaks 1 '^portable leaks: 7 of 7 named$' -- \
    sh -c "$portable_leaks" sh scripts/check-portable.sh

# The generic kernel and drivers compile for aarch64 against its arch
# headers and system call table (scripts/check-aarch64-syntax.sh); a copy
# of the tree with one generic file that names an x86-only field of the
# per-CPU state must fail, naming it.
if command -v aarch64-linux-gnu-gcc > /dev/null 2>&1; then
    tool_case aarch64_syntax 0 '^check-aarch64-syntax: all [0-9]+ generic files compile' -- \
        sh scripts/check-aarch64-syntax.sh "$LOG_DIR/aarch64-syntax"
    aarch64_leak='
tmp=$(mktemp -d) || exit 2
trap "rm -rf \"$tmp\"" EXIT
cp -r scripts kernel drivers "$tmp/"
printf "#include <kern/percpu.h>\nunsigned long leak(void) { return this_cpu()->arch.apic_id; }\n" \
    > "$tmp/kernel/lib/leak.c"
sh "$tmp/scripts/check-aarch64-syntax.sh" "$tmp/work"
'
    tool_case aarch64_syntax_catches_leak 1 "kernel/lib/leak.c:2:.*has no member named .apic_id" -- \
        sh -c "$aarch64_leak"
elif selected tool:aarch64_syntax; then
    skip tool:aarch64_syntax "aarch64-linux-gnu-gcc is missing (gcc-aarch64-linux-gnu, deps/debian.txt)"
fi
