# docs/syscalls.md against the kernel: its table "Implemented system calls"
# must have exactly one row per system call the sources register
# (SYSCALLn(name, ...), LEGACY_SYSCALLn(name, ...), EROFS_CALL(name) and
# LEGACY_EROFS_CALL(name) in kernel/ and platform/ .c files; the examples in
# kernel/include/kern/syscall.h are comments in a header and do not count),
# no row for anything else, and each row's number must be the one in
# Linux's asm/unistd_64.h. A call the sources register must be in that
# table at all (Tern's own tern_* aside): a misspelt legacy call would
# otherwise compile to nothing on every arch (kern/syscall.h). What is
# missing or extra is printed, and the check exits 1.
#
# The negative controls run the same check on copies of the document with
# a row taken out, a row added and a number changed, and on a misspelt
# legacy call: each must fail.
# tool_case NAME STATUS REGEX -- COMMAND...
# The sh -c script is single-quoted on purpose (its $1, $2 are its own):
# shellcheck disable=SC2016

# syscalls_doc_check DOC SOURCE-DIR...
syscalls_doc_check='
doc=$1
shift
unistd=/usr/include/x86_64-linux-gnu/asm/unistd_64.h
tmp=$(mktemp -d) || exit 2
trap "rm -rf \"$tmp\"" EXIT
[ -r "$doc" ] || { echo "$doc: not found"; exit 1; }

# Registered in the sources: "name file:line", one per registration.
{ grep -rnE --include="*.c" "^(LEGACY_)?(SYSCALL[0-6]|EROFS_CALL)\([a-z0-9_]+" "$@" |
      grep -v "^kernel/include/kern/syscall\.h:" |
      sed -E "s/^([^:]*):([0-9]+):[A-Z_0-9]*\(([a-z0-9_]+).*/\3 \1:\2/"
  # Entries made by hand (Tern'"'"'s test calls, whose handlers read the frame).
  grep -rnE --include="*.c" "^static const struct syscall_entry syscall_entry_[a-z0-9_]+" "$@" |
      sed -E "s/^([^:]*):([0-9]+):.*syscall_entry_([a-z0-9_]+).*/\3 \1:\2/"; } |
    sort > "$tmp/impl"
cut -d" " -f1 "$tmp/impl" | sort -u > "$tmp/impl.names"
[ -s "$tmp/impl.names" ] || { echo "no SYSCALLn( or EROFS_CALL( in $*"; exit 1; }

# The rows of the table: "name nr".
{ sed -n "/^## Implemented system calls/,/^## /p" "$doc"
  sed -n "/^## Tern.s own system calls/,/^## /p" "$doc"; } |
    sed -n "s/^| *\`\([a-z0-9_]*\)\` *| *\([0-9a-fx]*\) *|.*/\1 \2/p" > "$tmp/rows"
cut -d" " -f1 "$tmp/rows" | sort > "$tmp/rows.names"

bad=0
for n in $(comm -23 "$tmp/impl.names" "$tmp/rows.names"); do
    echo "missing: $doc lacks a row for $n ($(grep "^$n " "$tmp/impl" | cut -d" " -f2 | tr "\n" " " | sed "s/ $//"))"
    bad=1
done
for n in $(comm -13 "$tmp/impl.names" "$tmp/rows.names" | sort -u); do
    echo "extra: $doc has a row for $n, which the kernel does not implement"
    bad=1
done
for n in $(uniq -d "$tmp/rows.names"); do
    echo "twice: $doc has more than one row for $n"
    bad=1
done
if [ -r "$unistd" ]; then
    for n in $(cat "$tmp/impl.names"); do
        case $n in tern_*) continue ;; esac
        grep -q "^#define __NR_$n[ 	]" "$unistd" ||
            { echo "unknown: the sources register $n, which $unistd does not have"; bad=1; }
    done
    while read -r n nr; do
        want=$(sed -n "s/^#define __NR_$n[ 	][ 	]*\([0-9][0-9]*\)$/\1/p" "$unistd")
        if [ -n "$want" ] && [ "$nr" != "$want" ]; then
            echo "number: $doc gives $n the number ${nr:-(none)}; $unistd says $want"
            bad=1
        fi
    done < "$tmp/rows"
fi
[ "$bad" = 0 ] || exit 1
echo "$(basename "$doc"): $(wc -l < "$tmp/impl.names" | tr -d " ") implemented system calls, each with one row"
'

tool_case syscalls_doc 0 '^syscalls\.md: [0-9]+ implemented system calls, each with one row$' -- \
    sh -c "$syscalls_doc_check" sh docs/syscalls.md kernel platform

SYSCALLS_DOC=$LOG_DIR/syscalls-doc
rm -rf "$SYSCALLS_DOC"
mkdir -p "$SYSCALLS_DOC"
grep -v '^| `dup3` |' docs/syscalls.md > "$SYSCALLS_DOC/missing.md"
sed 's/^| `read` | 0 |.*/&\n| `io_setup` | 206 | not really | none |/' docs/syscalls.md \
    > "$SYSCALLS_DOC/extra.md"
sed 's/^| `write` | 1 |/| `write` | 7 |/' docs/syscalls.md > "$SYSCALLS_DOC/number.md"
tool_case syscalls_doc_missing_row 1 'missing: .*missing\.md lacks a row for dup3 \(kernel/linux/sys_fs\.c:[0-9]+\)' -- \
    sh -c "$syscalls_doc_check" sh "$SYSCALLS_DOC/missing.md" kernel platform
tool_case syscalls_doc_extra_row 1 'extra: .*extra\.md has a row for io_setup, which the kernel does not implement' -- \
    sh -c "$syscalls_doc_check" sh "$SYSCALLS_DOC/extra.md" kernel platform
# A misspelt legacy call (registered nowhere, so nothing else would notice).
mkdir -p "$SYSCALLS_DOC/src"
printf 'LEGACY_SYSCALL0(opne)\n{\n    return 0;\n}\n' > "$SYSCALLS_DOC/src/typo.c"
sed 's/^| `read` | 0 |.*/&\n| `opne` | 2 | a typo | none |/' docs/syscalls.md > "$SYSCALLS_DOC/typo.md"
tool_case syscalls_doc_unknown_call 1 'unknown: the sources register opne, which .*unistd_64\.h does not have' -- \
    sh -c "$syscalls_doc_check" sh "$SYSCALLS_DOC/typo.md" kernel platform "$SYSCALLS_DOC/src"
tool_case syscalls_doc_wrong_number 1 'number: .*number\.md gives write the number 7; .*unistd_64\.h says 1' -- \
    sh -c "$syscalls_doc_check" sh "$SYSCALLS_DOC/number.md" kernel platform
