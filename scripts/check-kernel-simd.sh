#!/bin/sh
# The aarch64 kernel touches the FP/SIMD registers only where it saves or
# restores them for threads (docs/abi-contract.md): kernel C is built
# -mgeneral-regs-only, but code linked in from elsewhere is not (libgcc's
# __popcountdi2 used v0 and clobbered a thread's v0 in a system call). Each
# function of KERNEL.elf whose disassembly names a b/h/s/d/q/v/z register
# or FPCR/FPSR must be in the list below.
#
#   scripts/check-kernel-simd.sh KERNEL.elf [OBJDUMP]
#
# Exits 1 naming the functions that are not allowed, 2 on a usage error.
set -u
elf=${1:?usage: check-kernel-simd.sh KERNEL.elf [OBJDUMP]}
objdump=${2:-aarch64-linux-gnu-objdump}
[ -r "$elf" ] || { echo "check-kernel-simd: $elf: not readable"; exit 2; }
command -v "$objdump" > /dev/null 2>&1 || { echo "check-kernel-simd: $objdump not found"; exit 2; }

# Allowed: the switch and the trap entry (they save the threads' vector
# state), the clone snapshot, the torture test's register loader, and
# libfdt (fdt_*), which runs only at boot before any thread exists
# (kernel/arch/aarch64/fdt_boot.c, platform/kvm/dt_arm64.c).
allowed='^(arch_switch|arch_fpu_snapshot|entry_el1t|entry_el1h|torture_round|fdt_[a-z_]*)$'

bad=$("$objdump" -d --no-show-raw-insn "$elf" | awk '
    /^[0-9a-f]+ <[^>]+>:$/ { fn = substr($2, 2, length($2) - 3); next }
    /\t/ {
        split($0, f, "\t")
        ops = f[3]
        if (ops ~ /(^|[ ,{\[])[bhsdqvz][0-9]+([,.}\] ]|$)/ || ops ~ /(^|[ ,])fp(cr|sr)($|[ ,])/)
            print fn
    }' | sort -u | grep -Ev "$allowed")
if [ -n "$bad" ]; then
    echo "check-kernel-simd: functions that use FP/SIMD registers outside the allowed list:"
    echo "$bad" | sed 's/^/  /'
    exit 1
fi
echo "check-kernel-simd: only the switch, the trap entry, the torture test and boot-time libfdt use FP/SIMD registers"
exit 0
