# Tool tests for `tern cc` (image/cc.c): it builds static Linux programs
# that run natively here, and rejects bad options with clear errors.
# tool_case NAME STATUS REGEX -- COMMAND...
# The sh -c scripts are single-quoted on purpose (their $1, $2 are theirs):
# shellcheck disable=SC2016

CC_OUT=$LOG_DIR/cc
rm -rf "$CC_OUT"
mkdir -p "$CC_OUT"

# elf_kind FILE: "static-pie" (ET_DYN without PT_INTERP), "static"
# (ET_EXEC without PT_INTERP), or "dynamic".
elf_kind='
    if readelf -l "$1" | grep -q INTERP; then echo dynamic
    elif readelf -h "$1" | grep -q "Type: *DYN"; then echo static-pie
    elif readelf -h "$1" | grep -q "Type: *EXEC"; then echo static
    else echo unknown; fi'

# Build apps/hello.c with the given tern cc options, run it natively with
# --exit 5 and say which kind of ELF it is.
cc_hello='
    tern=$1 out=$2; shift 2
    "$tern" cc "$@" -O2 -Wall -Werror -o "$out" apps/hello.c || exit 100
    GREETING=hi "$out" "tern cc" --exit 5
    st=$?
    set -- "$out"
    '"$elf_kind"'
    exit $st'

tool_case cc_musl_static_pie 5 '^static-pie$' -- sh -c "$cc_hello" sh "$TERN" "$CC_OUT/hello"
tool_case cc_musl_runs 5 '^argv\[1\]=tern cc$' -- sh -c "$cc_hello" sh "$TERN" "$CC_OUT/hello2"
tool_case cc_musl_env 5 '^GREETING=hi$' -- sh -c "$cc_hello" sh "$TERN" "$CC_OUT/hello3"
tool_case cc_musl_static 5 '^static$' -- \
    sh -c "$cc_hello" sh "$TERN" "$CC_OUT/hello-static" --static
tool_case cc_glibc_static_pie 5 '^static-pie$' -- \
    sh -c "$cc_hello" sh "$TERN" "$CC_OUT/hello-glibc" --libc=glibc
tool_case cc_glibc_static 5 '^static$' -- \
    sh -c "$cc_hello" sh "$TERN" "$CC_OUT/hello-glibc-static" --libc glibc -static

# Separate compile and link; -v shows the gcc command with musl's pieces.
tool_case cc_compile_then_link 0 '^argv\[0\]=' -- sh -c '
    "$1" cc -c -o "$2.o" apps/hello.c && "$1" cc -o "$2" "$2.o" && "$2"' sh "$TERN" "$CC_OUT/two-step"
tool_case cc_verbose 0 'tern: cc: gcc (-idirafter [^ ]+/include )?-nostdinc .*-static-pie .*/rcrt1\.o .*/libc\.a .*/crtn\.o' -- \
    "$TERN" cc -v -o "$CC_OUT/verbose" apps/hello.c
# musl's headers, not glibc's: __GLIBC__ is undefined with musl (and
# defined with --libc=glibc, which shows that the probe can tell).
tool_case cc_musl_headers 0 '^musl headers$' -- sh -c '
    printf "#include <stdio.h>\n#ifdef __GLIBC__\n#error glibc\n#endif\n" > "$2.c"
    "$1" cc -c -o "$2.o" "$2.c" && ! "$1" cc --libc=glibc -c -o "$2.o" "$2.c" 2> /dev/null &&
    echo "musl headers"' sh "$TERN" "$CC_OUT/headers"

# gcc's failures are tern cc's: its status and its messages.
tool_case cc_gcc_error 1 'error: .*undeclared' -- sh -c '
    echo "int main(void) { return nope; }" > "$2.c" && "$1" cc -o "$2" "$2.c"' sh "$TERN" "$CC_OUT/bad"

# Bad usage.
tool_case cc_help 0 'usage: tern cc \[--arch=x86_64\|aarch64\] \[--libc=musl\|glibc\]' -- "$TERN" help cc
tool_case cc_bad_libc 2 "tern: error: cc: --libc=bionic: choose musl or glibc" -- \
    "$TERN" cc --libc=bionic -o "$CC_OUT/x" apps/hello.c
tool_case cc_libc_no_value 2 'tern: error: cc: --libc needs a value: musl or glibc' -- \
    "$TERN" cc apps/hello.c --libc
tool_case cc_no_input 2 'tern: error: cc: no input files' -- "$TERN" cc --static
tool_case cc_shared 2 'tern: error: cc: -shared: tern cc builds static programs only' -- \
    "$TERN" cc -shared -o "$CC_OUT/x.so" apps/hello.c
tool_case cc_no_pie 2 'tern: error: cc: -no-pie: tern cc builds static-PIE programs' -- \
    "$TERN" cc -no-pie -o "$CC_OUT/x" apps/hello.c
tool_case cc_static_pie_and_static 2 'contradict' -- \
    "$TERN" cc -static-pie --static -o "$CC_OUT/x" apps/hello.c
