#!/bin/sh
# The generic kernel and the drivers must know neither the x86 CPU nor the
# KVM machine (DESIGN.md, "Layout"; docs/porting.md): a port adds files in
# kernel/arch/<arch>/ and platform/<platform>/ and never edits these.
#
#   scripts/check-portable.sh [ROOT]
#
# Scans the C and assembly sources under ROOT (default: the tree this
# script is in) in kernel/{core,sched,mm,fs,net,linux,lib,ktest} and
# drivers/, comments stripped, for constructs that only x86 or KVM have:
# x86 instructions (in asm statements or .S files), port I/O, TSC, MSRs,
# CPUID, XSAVE, the local and I/O APICs, e820, PVH, kvmclock, x86 register
# names as frame fields, EM_X86_64, and includes of x86 headers. Prints
# each hit as FILE:LINE: what: the line, and exits 1 when there is one.
set -u
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root" || exit 2

dirs=
for d in kernel/core kernel/sched kernel/mm kernel/fs kernel/net kernel/linux kernel/lib \
         kernel/ktest drivers; do
    [ -d "$d" ] && dirs="$dirs $d"
done
[ -n "$dirs" ] || { echo "check-portable: no generic directories under $root" >&2; exit 2; }

# name|extended regex, matched against comment-free source lines.
rules='x86 instruction in asm|(asm|__asm__)[^;]*"[^"]*\<(mov[bwlq]?|rdtscp?|rdmsr|wrmsr|cpuid|xsave[a-z]*|xrstor[a-z]*|fxsave|fxrstor|hlt|cli|sti|pause|[lms]fence|in[bwl]|out[bwl]|lgdt|lidt|ltr|swapgs|iretq|sysretq|invlpg|wbinvd)\>
port I/O|\<(outb|outw|outl|inb|inw|inl|outsb|insb|ioport[a-z_]*)[[:space:]]*\(
TSC|\<rdtscp?\>|\<tsc_[a-z_]+\>
MSR|\<(rdmsr|wrmsr)\>|\<MSR_[A-Z0-9_]+\>
CPUID|\<cpuid[a-z_]*\>
XSAVE|\<(xsave|xrstor|fxsave|fxrstor)[a-z_]*\>
APIC|\<(lapic|ioapic|x2apic|apic)[a-z_0-9]*\>
e820|\<e820[a-z_]*\>
PVH|\<pvh[a-z_]*\>|\<PVH[A-Z_]*\>
kvmclock|\<kvmclock[a-z_]*\>|\<KVMCLOCK[A-Z_]*\>
x86 register as a frame field|(->|\.)(rax|rbx|rcx|rdx|rsi|rdi|rbp|rsp|rip|rflags|r8|r9|r1[0-5]|fs_base|gs_base)\>
EM_X86_64|\<EM_X86_64\>
x86 header|#[[:space:]]*include[[:space:]]*[<"][^>"]*(x86|x86_64|apic|msr|cpuid)[^>"]*[>"]'

src=$(mktemp)
out=$(mktemp)
trap 'rm -f "$src" "$out"' EXIT
# Every source line once, as FILE:LINE:TEXT, comments out: gcc's
# preprocessor with -fpreprocessed strips them without expanding anything
# (-dD keeps the #defines), and its line markers give the numbers back.
for f in $(find $dirs -type f \( -name '*.c' -o -name '*.h' -o -name '*.S' \) | sort); do
    case $f in
    *.S)
        # Generic code has no assembly: any is some CPU's.
        echo "$f:1: assembly file in a generic directory" >> "$out"
        continue ;;
    esac
    gcc -fpreprocessed -dD -E -x c "$f" 2> /dev/null | awk -v f="$f" '
        /^# [0-9]+ "/ { line = $2 - 1; next }
        { line++; print f ":" line ":" $0 }'
done > "$src"
echo "$rules" | while IFS='|' read -r what re; do
    grep -E -- "^[^:]+:[0-9]+:.*($re)" "$src" | while IFS=: read -r f n text; do
        echo "$f:$n: $what: $(echo "$text" | sed 's/^[[:space:]]*//' | cut -c1-120)"
    done
done >> "$out"
hits=$(wc -l < "$out")
sort -t: -k1,1 -k2,2n "$out"
if [ "$hits" -gt 0 ]; then
    echo "check-portable: $hits x86 or KVM construct(s) in generic code ($dirs ); move them behind kern/arch.h or kern/platform.h (docs/porting.md)"
    exit 1
fi
echo "check-portable: generic code is free of x86 and KVM constructs ($dirs )"
exit 0
