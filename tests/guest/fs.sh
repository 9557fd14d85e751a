# The root file system in a booted guest (kernel/fs/vfs.c over ROFS):
# a tree of 1000+ files, nested directories, a 64 MiB file and symlinks is
# packed with `tern mkrofs`, booted as the initrd, and the guest's SHA-256
# of every file (read through the VFS) must equal the host's sha256sum.
# Then the VFS API checks listed in /expect. On aarch64 the same cases are
# guest:a64_fs_* (GUEST_PFX, run-tests.sh).

fs_tree=$LOG_DIR/fs-tree
fs_img=$LOG_DIR/fs.img

make_fs_tree() {
    rm -rf "$fs_tree"
    mkdir -p "$fs_tree"
    (
        cd "$fs_tree" || exit 1
        for d in 0 1 2 3 4 5 6 7 8 9; do
            mkdir -p "dir$d/sub$d/deeper"
            i=0
            while [ $i -lt 100 ]; do
                # sizes vary from a few bytes to about 20 KiB
                printf 'file %s in dir%s\n' "$i" "$d" > "dir$d/f$i"
                [ $((i % 7)) -eq 0 ] && head -c $((i * 211)) /dev/urandom >> "dir$d/f$i"
                i=$((i + 1))
            done
            printf 'deep %s\n' "$d" > "dir$d/sub$d/deeper/leaf"
            cp "dir$d/f3" "dir$d/sub$d/same-as-f3"     # stored once (dedup)
        done
        head -c $((64 * 1024 * 1024 + 123)) /dev/urandom > big.bin
        : > empty
        printf 'hello, tern\n' > hello.txt
        ln -s hello.txt link-to-hello
        ln -s dir1/sub1/deeper link-to-dir
        ln -s ../../dir2/f5 dir3/sub3/up-link
        ln -s loop-b loop-a
        ln -s loop-a loop-b
        ln -s nowhere dangling
        cat > expect <<'EOT'
# op path expectation (see kernel/ktest/fs.c)
stat /hello.txt f 12
stat /dir0 d
stat /nope ENOENT
stat /hello.txt/x ENOTDIR
stat /link-to-hello f 12
lstat /link-to-hello l
stat /link-to-dir/leaf f 7
stat /dir3/sub3/up-link f
stat /dir1/sub1/../../hello.txt f 12
stat /../../hello.txt f 12
stat /dir0/./sub0//deeper/leaf f 7
stat /loop-a ELOOP
lstat /loop-a l
stat /dangling ENOENT
readlink /link-to-dir dir1/sub1/deeper
readlink /dir3/sub3/up-link ../../dir2/f5
pread /hello.txt 7 tern
pread /dir4/f12 0 file 12 in dir4
seekend /hello.txt 12
seekend /empty 0
ls /dir5/sub5 deeper,same-as-f3
ls /dir7/sub7/deeper leaf
open-write /hello.txt
EOT
    )
}

fs_roundtrip() {
    name=guest:${GUEST_PFX}fs_roundtrip_1000_files_64MiB
    selected "$name" || return 0
    log=$LOG_DIR/fs_roundtrip.log
    if ! make_fs_tree || ! "$TERN" mkrofs "$fs_img" "$fs_tree" > "$log.mkrofs" 2>&1; then
        fail "$name" "could not build the test image"
        tail -3 "$log.mkrofs" | sed 's/^/    | /'
        return 0
    fi
    "$TERN" run --kernel "$KERNEL" --accel "$ACCEL" --initrd "$fs_img" --memory 512 \
        --quiet --timeout 300 --log "$log" --append ktest=fs_checksums > "$log.tern" 2>&1
    rc=$?
    (cd "$fs_tree" && find . -type f -print0 | xargs -0 sha256sum) | LC_ALL=C sort > "$log.host"
    tr -d '\r' < "$log" | sed -n 's/^fs-sha256 //p' | LC_ALL=C sort > "$log.guest"
    (cd "$fs_tree" && find . -type l | while read -r l; do
        printf '%s -> %s\n' "$l" "$(readlink "$l")"; done) | LC_ALL=C sort > "$log.host-links"
    tr -d '\r' < "$log" | sed -n 's/^fs-symlink //p' | LC_ALL=C sort > "$log.guest-links"
    nfiles=$(wc -l < "$log.host")
    if [ "$rc" -ne 0 ]; then
        fail "$name" "guest exit status $rc"
        tr -d '\r' < "$log" | grep -v '^fs-' | tail -10 | sed 's/^/    | /'
    elif [ "$nfiles" -lt 1000 ]; then
        fail "$name" "only $nfiles files in the test tree"
    elif ! cmp -s "$log.host" "$log.guest"; then
        fail "$name" "guest checksums differ from the host's"
        diff "$log.host" "$log.guest" | head -5 | sed 's/^/    | /'
    elif ! cmp -s "$log.host-links" "$log.guest-links"; then
        fail "$name" "guest symlinks differ from the host's"
        diff "$log.host-links" "$log.guest-links" | head -5 | sed 's/^/    | /'
    else
        pass "$name ($nfiles files, $(wc -l < "$log.guest-links") symlinks)"
    fi
}
fs_roundtrip

# The API checks need the image above (built by fs_roundtrip).
if [ -f "$fs_img" ]; then
    GUEST_ARGS="--initrd $fs_img --memory 512" guest_case "${GUEST_PFX}fs_api" "ktest=fs_api" 0 \
        'fs_api: 2[0-9] checks, 0 failed'
    GUEST_ARGS="--initrd $fs_img --memory 512" guest_case "${GUEST_PFX}fs_mount_message" "" 0 \
        'vfs: mounted ROFS 1\.0 from boot module 0 \([0-9]+ KiB, [0-9]+ inodes\) on /'
fi
# A module that is not a ROFS image stops the boot with a clear message.
printf 'not a file system\n' > "$LOG_DIR/bad.img"
GUEST_ARGS="--initrd $LOG_DIR/bad.img" guest_case "${GUEST_PFX}fs_bad_image" "" 70 \
    'vfs: the boot module is not a usable ROFS image'
