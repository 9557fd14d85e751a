#!/bin/sh
# The two-pass link must not move code: compare the text symbols of the
# first link (empty symbol table) with the final one.
set -eu
nm=$1 stage1=$2 final=$3
a=$(mktemp) b=$(mktemp)
trap 'rm -f "$a" "$b"' EXIT
"$nm" -n "$stage1" | awk '$2 ~ /^[tTwW]$/' > "$a"
"$nm" -n "$final"  | awk '$2 ~ /^[tTwW]$/' > "$b"
if ! cmp -s "$a" "$b"; then
    echo "check-ksyms: text symbols moved between link passes:" >&2
    diff "$a" "$b" | head -20 >&2
    exit 1
fi
