#!/bin/sh
# Does tern's documentation know every command and option tern has?
#
#   scripts/check-tern-docs.sh TERN TERN_C MANPAGE COMPLETION
#
# The commands are those image/tern.c (TERN_C) dispatches; each must be in
# `tern --help`, in the man page (a `.B tern CMD` synopsis line), and in the
# bash completion's words after `tern` and after `tern help`. The options
# are those each command's own --help lists (its usage line's [-x] and its
# option table's first column); each must be in the man page (as roff,
# \-x or \-\-long) and among the completion's words after `tern CMD -`.
# Prints one line per gap and exits 1, or a summary and exits 0.
set -u
[ $# -eq 4 ] || { echo "usage: $0 TERN TERN_C MANPAGE COMPLETION" >&2; exit 2; }
tern=$1 src=$2 man=$3 comp=$4
for f in "$src" "$man" "$comp"; do
    [ -r "$f" ] || { echo "error: cannot read $f" >&2; exit 2; }
done
command -v bash > /dev/null || { echo "error: bash is needed to run the completion" >&2; exit 2; }

# strcmp(cmd, "build") in main, and { "ps", cmd_ps } in the table of
# instance commands. -h/--help/--version are options, not commands.
cmds=$( { grep -o 'strcmp(cmd, "[a-z][a-z0-9]*")' "$src"
          grep -o '{ *"[a-z][a-z0-9]*", *cmd_' "$src"; } |
        sed 's/[^"]*"\([^"]*\)".*/\1/' | sort -u)
[ -n "$cmds" ] || { echo "error: no commands found in $src" >&2; exit 2; }

# The completion's words, in one bash: "top W" after `tern `, "help W"
# after `tern help `, "CMD W" after `tern CMD -`. ($cmds: one word each.)
# shellcheck disable=SC2086
comp_all=$(bash -c '. "$1"; shift
    ask() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=(); _tern; }
    ask tern ""; printf "top %s\n" "${COMPREPLY[@]}"
    ask tern help ""; printf "help %s\n" "${COMPREPLY[@]}"
    for c in "$@"; do ask tern "$c" -; printf "$c %s\n" "${COMPREPLY[@]}"; done' \
    bash "$comp" $cmds 2> /dev/null)
complete_words() { printf '%s\n' "$comp_all" | sed -n "s/^$1 //p"; }
has_word() {  # has_word WORD LIST: WORD (or WORD=) is a line of LIST
    nl='
'
    case "$nl$2$nl" in *"$nl$1$nl"* | *"$nl$1=$nl"*) return 0 ;; esac
    return 1
}
# A command's options, from its --help.
options_of() {
    "$tern" "$1" --help 2> /dev/null | awk '
        /^usage:/ { while (match($0, /\[--?[a-zA-Z][a-zA-Z-]*/)) {
                        print substr($0, RSTART + 1, RLENGTH - 1)
                        $0 = substr($0, RSTART + RLENGTH) } next }
        /^  -/ { sub(/^  /, ""); sub(/  .*/, "")
                 n = split($0, part, ", ")
                 for (i = 1; i <= n; i++) { sub(/[ =[].*/, "", part[i])
                     if (part[i] != "--") print part[i] } }' | sort -u
}
roff() { printf '%s' "$1" | sed 's/-/\\\\-/g'; }

gaps=0 nopt=0
gap() { echo "missing: $*"; gaps=$((gaps + 1)); }
help=$("$tern" --help 2>&1)
top=$(complete_words top)
helpw=$(complete_words help)
for c in $cmds; do
    printf '%s\n' "$help" | grep -q "^  $c " || gap "command $c in tern --help"
    grep -q "^\.B tern $c\( \|$\)" "$man" || gap "command $c in $man (.B tern $c in SYNOPSIS)"
    grep -q "^\.B[R]* .*\b$c\b" "$man" || gap "command $c in $man"
    has_word "$c" "$top" || gap "command $c in $comp (tern <TAB>)"
    case $c in help|version) continue ;; esac
    has_word "$c" "$helpw" || gap "command $c in $comp (tern help <TAB>)"
    words=$(complete_words "$c")
    for o in $(options_of "$c"); do
        nopt=$((nopt + 1))
        grep -q -- "$(roff "$o")\([^a-zA-Z-]\|$\)" "$man" || gap "option $c $o in $man"
        has_word "$o" "$words" || gap "option $c $o in $comp (tern $c -<TAB>)"
    done
done
if [ "$gaps" -gt 0 ]; then
    echo "$gaps gaps: the man page, the completion and --help must name every command and option"
    exit 1
fi
echo "docs cover $(echo "$cmds" | wc -w) commands and $nopt options"
