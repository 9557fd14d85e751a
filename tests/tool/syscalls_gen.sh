# scripts/gen-syscalls.sh on each arch's own unistd header: x86_64's
# asm/unistd_64.h (the table the kernel is built with) and arm64's
# switches over asm-generic/unistd.h (kernel/arch/aarch64/uapi/asm), which
# no build uses yet, so this is where its table is checked: numbers that
# differ between the two, the legacy calls arm64 lacks (no SYS_open, no
# HAVE_SYS_open), and the optional ones arm64 enables. A header whose
# __NR_ value is not a number must fail the script, not leave a gap.
# tool_case NAME STATUS REGEX -- COMMAND...
# shellcheck disable=SC2016

# syscalls_gen_check UNISTD_H OUT_DIR "SYS_name nr"... "!SYS_name"...
syscalls_gen_check='
src=$1 out=$2
shift 2
scripts/gen-syscalls.sh "$src" "$out" || exit 1
h=$out/syscall_nr.h
bad=0
for want in "$@"; do
    case $want in
    !*) n=${want#!}
        if grep -q "^#define $n " "$h"; then echo "present: $n"; bad=1; fi ;;
    *)  set -- $want
        got=$(sed -n "s/^#define $1 \(.*\)$/\1/p" "$h")
        [ "$got" = "$2" ] || { echo "wrong: $1 is ${got:-(missing)}, want $2"; bad=1; } ;;
    esac
done
grep -q "\"openat\"" "$out/syscall_names.c" || { echo "syscall_names.c lacks openat"; bad=1; }
[ "$bad" = 0 ] || exit 1
echo "$(basename "$src"): $(grep -c "^#define SYS_" "$h") calls, as expected"
'

SYSCALLS_GEN=$LOG_DIR/syscalls-gen
rm -rf "$SYSCALLS_GEN"
mkdir -p "$SYSCALLS_GEN/bad/asm"

tool_case syscalls_gen_x86_64 0 '^unistd_64\.h: [0-9]+ calls, as expected$' -- \
    sh -c "$syscalls_gen_check" sh /usr/include/x86_64-linux-gnu/asm/unistd_64.h \
    "$SYSCALLS_GEN/x86_64" "SYS_read 0" "SYS_open 2" "HAVE_SYS_open 1" "SYS_openat 257" \
    "SYS_clone 56" "SYS_newfstatat 262" "SYS_time 201"

tool_case syscalls_gen_aarch64 0 '^unistd\.h: [0-9]+ calls, as expected$' -- \
    sh -c "$syscalls_gen_check" sh kernel/arch/aarch64/uapi/asm/unistd.h \
    "$SYSCALLS_GEN/aarch64" "SYS_io_setup 0" "SYS_read 63" "SYS_openat 56" \
    "SYS_fcntl 25" "SYS_mmap 222" "SYS_newfstatat 79" "SYS_fstat 80" "SYS_renameat 38" \
    "SYS_getrlimit 163" "SYS_clone 220" "SYS_clone3 435" "HAVE_SYS_openat 1" \
    "SYSCALL_NR_MAX 451" '!SYS_open' '!HAVE_SYS_open' '!SYS_stat' '!SYS_fork' \
    '!SYS_poll' '!SYS_time' '!SYS_mmap2' '!SYS_fcntl64' '!SYS_syscalls' \
    '!SYS_arch_specific_syscall' '!SYS_sync_file_range2'

printf '#define __NR_read 0\n#define __NR_write __NR3264_write\n' > "$SYSCALLS_GEN/bad/asm/unistd.h"
tool_case syscalls_gen_unresolved 1 '__NR_write is "__NR3264_write", not a number' -- \
    scripts/gen-syscalls.sh "$SYSCALLS_GEN/bad/asm/unistd.h" "$SYSCALLS_GEN/bad/out"
