# Tool tests for ROFS images: tern mkrofs / ls / cat / check, the
# round trip of a large tree (>= 1000 files, a file >= 64 MiB, nested
# directories, symlinks), reproducibility, corrupt images, and the reader's
# fuzz run.
# tool_case NAME STATUS REGEX -- COMMAND...   (see tests/run-tests.sh)

R=$LOG_DIR/rofs
rm -rf "$R"
mkdir -p "$R/tree/etc/ssl" "$R/tree/usr/lib" "$R/tree/empty"
printf 'hello\n' > "$R/tree/etc/hosts"
printf 'hello\n' > "$R/tree/etc/hosts.bak"
printf 'root:x:0:0::/:/bin/sh\n' > "$R/tree/etc/passwd"
: > "$R/tree/etc/ssl/empty"
printf 'libc' > "$R/tree/usr/lib/libc.so"
chmod 4755 "$R/tree/usr/lib/libc.so"
ln -s usr/lib "$R/tree/lib"
ln -s /etc/hosts "$R/tree/hostlink"
ln -s /nowhere "$R/tree/dangling"
IMG=$R/rofs.img

tool_case rofs_mkrofs 0 'rofs.img: 14 entries from' -- \
    "$TERN" mkrofs --mtime 1700000000 "$IMG" "$R/tree"
# The later cases read the image: make it also when a TESTS subset left
# out rofs_mkrofs.
[ -f "$IMG" ] || "$TERN" mkrofs --mtime 1700000000 "$IMG" "$R/tree" > /dev/null 2>&1
tool_case rofs_ls_root 0 '^dangling$' -- "$TERN" ls "$IMG"
tool_case rofs_ls_dir 0 '^hosts\.bak$' -- "$TERN" ls "$IMG" /etc
tool_case rofs_ls_long 0 '^-rwsr-xr-x +0 +0 +4 2023-11-14 22:13:20 libc\.so$' -- \
    "$TERN" ls -l "$IMG" /usr/lib
tool_case rofs_ls_long_symlink 0 '^lrwxrwxrwx .* lib -> usr/lib$' -- "$TERN" ls -l "$IMG"
tool_case rofs_ls_recursive 0 '^/etc/ssl/empty$' -- "$TERN" ls -R "$IMG"
tool_case rofs_ls_file 0 '^-rw-r--r-- +0 +0 +6 .* /etc/hosts$' -- "$TERN" ls -l "$IMG" /etc/hosts
tool_case rofs_ls_through_symlink 0 '^libc\.so$' -- "$TERN" ls "$IMG" /lib
tool_case rofs_ls_missing 1 '^tern: error: .*rofs\.img: /etc/nope: no such file or directory$' -- \
    "$TERN" ls "$IMG" /etc/nope
tool_case rofs_ls_not_dir 1 'rofs\.img: /etc/hosts/x: not a directory' -- \
    "$TERN" ls "$IMG" /etc/hosts/x
tool_case rofs_ls_usage 2 'ls: expected IMAGE \[PATH\]' -- "$TERN" ls
tool_case rofs_ls_bad_option 2 "ls: option '--frob' is unknown" -- "$TERN" ls --frob "$IMG"
tool_case rofs_ls_help 0 'usage: tern ls \[-l\] \[-R\] IMAGE \[PATH\]' -- "$TERN" help ls
tool_case rofs_cat 0 '^hello$' -- "$TERN" cat "$IMG" /etc/hosts
tool_case rofs_cat_symlinks 0 '^libchello$' -- "$TERN" cat "$IMG" /lib/libc.so /hostlink
tool_case rofs_cat_dir 1 'rofs\.img: /etc: is a directory' -- "$TERN" cat "$IMG" /etc
tool_case rofs_cat_dangling 1 'rofs\.img: /dangling: no such file or directory' -- \
    "$TERN" cat "$IMG" /dangling
tool_case rofs_cat_relative 1 'rofs\.img: etc/hosts: paths in an image are absolute' -- \
    "$TERN" cat "$IMG" etc/hosts
tool_case rofs_cat_usage 2 'cat: expected IMAGE PATH' -- "$TERN" cat "$IMG"
tool_case rofs_check_clean 0 'clean: ROFS 1\.0, 6 directories, 5 files, 3 symlinks' -- \
    "$TERN" check "$IMG"
tool_case rofs_check_dedup 0 '1 file deduplicated, 6 bytes saved' -- "$TERN" check "$IMG"
tool_case rofs_check_missing_image 2 'tern: error: /nonexistent\.img: No such file' -- \
    "$TERN" check /nonexistent.img
tool_case rofs_help_lists_commands 0 'mkrofs +pack a host directory' -- "$TERN" --help

# mkrofs input errors
mkdir -p "$R/fifo-tree"
mkfifo "$R/fifo-tree/pipe" 2> /dev/null
tool_case rofs_mkrofs_special_file 1 'fifo-tree/pipe: not a file, directory or symlink' -- \
    "$TERN" mkrofs "$R/fifo.img" "$R/fifo-tree"
tool_case rofs_mkrofs_not_dir 2 'mkrofs: .*/etc/hosts: not a directory' -- \
    "$TERN" mkrofs "$R/x.img" "$R/tree/etc/hosts"
tool_case rofs_mkrofs_bad_owner 2 'mkrofs: --owner root: expected UID:GID' -- \
    "$TERN" mkrofs --owner root "$R/x.img" "$R/tree"

# Reproducible: the same tree packs to the same bytes; SOURCE_DATE_EPOCH
# clamps mtimes, --owner sets owners.
rofs_reproducible() {
    SOURCE_DATE_EPOCH=86400 "$TERN" mkrofs "$R/r1.img" "$R/tree" > /dev/null &&
    touch "$R/tree/etc/hosts" &&
    SOURCE_DATE_EPOCH=86400 "$TERN" mkrofs "$R/r2.img" "$R/tree" > /dev/null &&
    cmp "$R/r1.img" "$R/r2.img" && echo "identical images" &&
    "$TERN" ls -l "$R/r1.img" /etc/hosts
}
tool_case rofs_reproducible 0 '1970-01-02 00:00:00 /etc/hosts' -- rofs_reproducible
tool_case rofs_mkrofs_owner 0 '^-rw-r--r-- +1000 +100 ' -- sh -c \
    "'$TERN' mkrofs --owner 1000:100 '$R/o.img' '$R/tree' > /dev/null && '$TERN' ls -l '$R/o.img' /etc/hosts"

# Corrupt images: each is reported, with the image's name, and exits 1.
rofs_poke() {   # FILE OFFSET BYTE(octal)
    printf "\\$3" | dd of="$1" bs=1 seek="$2" conv=notrunc 2> /dev/null
}
cp "$IMG" "$R/bad-crc.img" && rofs_poke "$R/bad-crc.img" 300 377
tool_case rofs_check_bad_checksum 1 'bad-crc\.img: metadata checksum 0x[0-9a-f]+, computed' -- \
    "$TERN" check "$R/bad-crc.img"
tool_case rofs_check_lists_more 1 'inode 2: digest field of a symlink is not zero \(/dangling\)' -- \
    "$TERN" check "$R/bad-crc.img"
tool_case rofs_ls_bad_checksum 1 'tern: error: .*bad-crc\.img: metadata checksum' -- \
    "$TERN" ls "$R/bad-crc.img"
cp "$IMG" "$R/bad-data.img" && rofs_poke "$R/bad-data.img" 4096 132
tool_case rofs_check_bad_data 1 'SHA-256 of its [0-9]+ bytes does not match .*\(/' -- \
    "$TERN" check "$R/bad-data.img"
head -c 5000 "$IMG" > "$R/truncated.img"
tool_case rofs_check_truncated 1 'truncated\.img: image truncated: the superblock says [0-9]+ bytes, only 5000 present' -- \
    "$TERN" check "$R/truncated.img"
head -c 5000 /dev/zero | tr '\0' 'x' > "$R/text.img"
tool_case rofs_check_not_rofs 1 'text\.img: bad magic: not a ROFS image' -- \
    "$TERN" check "$R/text.img"
tool_case rofs_cat_not_rofs 1 'tern: error: .*text\.img: bad magic' -- \
    "$TERN" cat "$R/text.img" /x
printf 'short' > "$R/short.img"
tool_case rofs_ls_too_small 1 'short\.img: image is 5 bytes, smaller than the 128-byte superblock' -- \
    "$TERN" ls "$R/short.img"

# The worked example of docs/rofs.md, byte for byte: a change to the format
# or to the writer's layout must update the document (and this hash).
rofs_doc_example() {
    mkdir -p "$R/we" && chmod 755 "$R/we" && printf 'hi\n' > "$R/we/hello" &&
    chmod 644 "$R/we/hello" &&
    "$TERN" mkrofs --mtime 0 "$R/we.img" "$R/we" > /dev/null &&
    sha256sum < "$R/we.img"
}
tool_case rofs_doc_example 0 '^ae371dc162c7dfc1574164e2c4f3197f8e83bfd1f5d67880b55ecdf1468ac0ff ' -- \
    rofs_doc_example

# The big round trip: 1000 files in nested directories, a 64 MiB + 1 byte
# file, symlinks; every file read back through tern cat matches the host.
rofs_big_roundtrip() {
    # (variables prefixed: tool_case's own are globals of this shell)
    rb_dir=$R/big
    mkdir -p "$rb_dir/bin"
    rb_i=0
    while [ $rb_i -lt 10 ]; do
        rb_j=0
        mkdir -p "$rb_dir/d$rb_i/sub"
        while [ $rb_j -lt 100 ]; do
            printf 'file %d/%d\n' $rb_i $rb_j > "$rb_dir/d$rb_i/sub/f$rb_j"
            rb_j=$((rb_j + 1))
        done
        ln -s "../d$rb_i/sub/f7" "$rb_dir/bin/l$rb_i"
        rb_i=$((rb_i + 1))
    done
    head -c 67108865 /dev/urandom > "$rb_dir/bin/large" || return 1
    "$TERN" mkrofs "$R/big.img" "$rb_dir" || return 1
    "$TERN" check "$R/big.img" || return 1
    rb_list=$(cd "$rb_dir" && find . -type f | sed 's|^\.||' | sort)
    rb_n=$(echo "$rb_list" | wc -l)
    # shellcheck disable=SC2046
    rb_want=$(cd "$rb_dir" && cat $(echo "$rb_list" | sed 's|^/||') | sha256sum)
    # shellcheck disable=SC2086
    rb_got=$("$TERN" cat "$R/big.img" $rb_list | sha256sum)
    [ "$rb_want" = "$rb_got" ] || { echo "contents differ"; return 1; }
    [ "$("$TERN" cat "$R/big.img" /bin/l3)" = "file 3/7" ] || return 1
    [ "$("$TERN" ls -R "$R/big.img" | wc -l)" -eq $((rb_n + 10 + 21)) ] || return 1
    echo "all $rb_n files match"
    rm -rf "$rb_dir" "$R/big.img"
}
tool_case rofs_big_roundtrip 0 'all 1001 files match' -- rofs_big_roundtrip

# The reader's fuzz run (libFuzzer), bounded in time.
FUZZ_ROFS=$(dirname "$TERN")/fuzz/fuzz_rofs
if [ -x "$FUZZ_ROFS" ]; then
    tool_case rofs_fuzz 0 '^Done [0-9]+ runs in' -- \
        sh tests/fuzz/run.sh "$FUZZ_ROFS" "$TERN" "$R/fuzz" "${ROFS_FUZZ_SECONDS:-20}"
elif selected tool:rofs_fuzz; then
    skip tool:rofs_fuzz "no fuzzer built: clang or libclang-rt-14-dev missing (deps/debian.txt)"
fi
