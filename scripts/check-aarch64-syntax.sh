#!/bin/sh
# The generic kernel and the drivers compile for aarch64 (issue 13): a
# port starts from a core that already builds for it. Every C file under
# kernel/{core,sched,mm,fs,net,linux,lib,ktest} and drivers/ goes through
# aarch64-linux-gnu-gcc -fsyntax-only with the kernel's warnings as errors,
# against kernel/arch/aarch64/include and arm64's own system call table
# (scripts/gen-syscalls.sh over kernel/arch/aarch64/uapi/asm/unistd.h).
#
#   scripts/check-aarch64-syntax.sh WORKDIR
#
# Prints each file's errors and a summary line; exits 1 when a file fails,
# 2 when the cross compiler is missing (gcc-aarch64-linux-gnu,
# deps/debian.txt).
set -u
work=${1:?usage: check-aarch64-syntax.sh WORKDIR}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
cc=${AARCH64_CC:-aarch64-linux-gnu-gcc}
command -v "$cc" > /dev/null 2>&1 ||
    { echo "check-aarch64-syntax: $cc not found (apt-get install gcc-aarch64-linux-gnu)"; exit 2; }

mkdir -p "$work/gen" || exit 2
scripts/gen-syscalls.sh kernel/arch/aarch64/uapi/asm/unistd.h "$work/gen" || exit 2

# The kernel's own flags (Makefile.in's KCFLAGS), for arm64: freestanding,
# no FP/SIMD in kernel C (the same rule as -mgeneral-regs-only on x86).
flags="-std=gnu11 -O2 -fsyntax-only -ffreestanding -nostdinc
    -isystem $($cc -print-file-name=include)
    -Wall -Wextra -Werror -Wno-unused-parameter -fno-common -fno-strict-aliasing
    -mgeneral-regs-only
    -Ikernel/include -Ikernel/arch/aarch64/include -Idrivers -I$work/gen
    -DTERN_VERSION=\"syntax\" -DTERN_ARCH=\"aarch64\" -DTERN_PLATFORM=\"kvm\"
    -DTERN_OPT=\"-O2\" -DTERN_CC_VERSION=\"syntax\""

files=0 failed=0
for f in $(find kernel/core kernel/sched kernel/mm kernel/fs kernel/net kernel/linux \
                kernel/lib kernel/ktest drivers -name '*.c' 2> /dev/null | sort); do
    files=$((files + 1))
    # shellcheck disable=SC2086 # flags is a list
    if ! out=$("$cc" $flags "$f" 2>&1); then
        failed=$((failed + 1))
        echo "$out" | head -n 20
    fi
done
if [ "$failed" -gt 0 ]; then
    echo "check-aarch64-syntax: $failed of $files generic files do not compile for aarch64"
    exit 1
fi
echo "check-aarch64-syntax: all $files generic files compile for aarch64"
exit 0
