#!/bin/sh
# Run the ROFS reader's libFuzzer target for a bounded time.
#
#   tests/fuzz/run.sh FUZZER TERN WORKDIR SECONDS
#
# Seeds are generated here, not committed: small images packed by
# `tern mkrofs` from trees that cover every inode type, nesting, symlinks
# (relative, absolute, dangling, looping), an empty file and a duplicate.
# Exits non-zero when the fuzzer finds a crash, a sanitizer report or a
# hang (the crashing input is left in WORKDIR). tests/tool/rofs.sh runs it
# during `make check`.
set -eu
fuzzer=$1 tern=$2 work=$3 secs=$4
# absolute, since the fuzzer runs inside $work
fuzzer=$(cd "$(dirname "$fuzzer")" && pwd)/$(basename "$fuzzer")
mkdir -p "$work"
work=$(cd "$work" && pwd)

rm -rf "$work"
mkdir -p "$work/seeds" "$work/corpus" "$work/t1/etc/ssl" "$work/t1/usr/lib" \
    "$work/t1/a/b/c/d" "$work/t2"
t=$work/t1
printf 'hello\n' > "$t/etc/hosts"
printf 'hello\n' > "$t/etc/hosts.copy"
: > "$t/etc/empty"
printf 'x' > "$t/usr/lib/libc.so"
printf 'deep' > "$t/a/b/c/d/file"
ln -s usr/lib "$t/lib"
ln -s /etc/hosts "$t/a/abs"
ln -s ../../.. "$t/a/b/c/up"
ln -s /nowhere "$t/dangling"
ln -s loop2 "$t/loop1"
ln -s /loop1 "$t/loop2"
chmod 4755 "$t/usr/lib/libc.so"
"$tern" mkrofs --mtime 1 "$work/seeds/tree.img" "$t" > /dev/null
"$tern" mkrofs --mtime 1 "$work/seeds/empty.img" "$work/t2" > /dev/null
printf 'one' > "$work/t2/only"
"$tern" mkrofs --mtime 1 "$work/seeds/one.img" "$work/t2" > /dev/null

cd "$work"
exec "$fuzzer" -max_total_time="$secs" -max_len=65536 -timeout=10 \
    -rss_limit_mb=2048 -use_value_profile=1 -print_final_stats=1 \
    -artifact_prefix="$work/" corpus seeds
