# Guest tests for the root file system on a virtio-blk disk (manifest key
# `disk: virtio-blk`; drivers/virtio/virtio_blk.c, kernel/fs/vfs.c): the
# kernel reads the ROFS image off the disk at boot and mounts it.
#
# blk_tree_sha256: a tree of several MiB (sizes around page and request
#   boundaries, nested directories, a duplicate, a symlink) on the disk,
#   read in the guest by apps/fileread; its "<sha256>  <path>" lines must be
#   exactly the host's sha256sum lines for the same files.
# blk_bad_*: a disk that is not a sound ROFS image stops the boot with
#   status 70 and says what is wrong: random bytes, an image cut short, a
#   flipped metadata byte.
# blk_virsh: the same through libvirt, whose disk is a modern-only device.
# Manifests name host paths relative to their own directory: make ours
# absolute (abs_path, run-tests.sh).
BLK_IMG=$(abs_path "$LOG_DIR/blk")
BLK_APPS=$(abs_path "${APPS_DIR:-out/apps}")
rm -rf "$BLK_IMG"
mkdir -p "$BLK_IMG"

make_blk_tree() {
    t=$BLK_IMG/tree
    rm -rf "$t"
    mkdir -p "$t/small" "$t/big/nested/deeper" || return 1
    (
        cd "$t" || exit 1
        printf 'hello, tern\n' > hello.txt
        : > empty
        printf x > one
        head -c 4096 /dev/urandom > page
        head -c 4097 /dev/urandom > page-plus-one
        i=0
        while [ $i -lt 40 ]; do
            head -c $((i * 1237 + i % 3)) /dev/urandom > "small/f$i"
            i=$((i + 1))
        done
        # Across the driver's 1 MiB requests and its 8 requests in flight.
        head -c $((1024 * 1024 - 512)) /dev/urandom > big/just-under-1MiB
        head -c $((1024 * 1024 + 1)) /dev/urandom > big/just-over-1MiB
        head -c $((5 * 1024 * 1024 + 3)) /dev/urandom > big/nested/5MiB-and-3
        head -c $((3 * 1024 * 1024)) /dev/urandom > big/nested/deeper/3MiB
        cp big/just-over-1MiB big/nested/same-as-just-over     # stored once
        ln -s ../hello.txt big/link
    )
}

blk_tree_sha256() {
    name=guest:blk_tree_sha256
    selected "$name" || return 0
    if [ ! -x "$BLK_APPS/fileread" ]; then
        fail "$name" "$BLK_APPS/fileread was not built (make apps)"
        return 0
    fi
    if ! make_blk_tree; then
        fail "$name" "could not make the test tree"
        return 0
    fi
    cat > "$BLK_IMG/tree.yaml" <<EOF
name: blk-tree
memory: 128M
cpus: 2
disk: virtio-blk
cmdline: [/bin/fileread, /data]
files:
  /bin/fileread: $BLK_APPS/fileread
  /data: $BLK_IMG/tree
EOF
    log=$LOG_DIR/guest_blk_tree_sha256.log
    "$TERN" run "$BLK_IMG/tree.yaml" -o "$BLK_IMG/tree-image" --kernel "$KERNEL" \
        --accel "$ACCEL" --quiet --timeout 180 --log "$log" > "$log.tern" 2>&1
    rc=$?
    (cd "$BLK_IMG/tree" && find . -type f | sed 's|^\./||' | LC_ALL=C sort |
        while read -r f; do sha256sum "$f"; done) | sed 's|  |  /data/|' |
        LC_ALL=C sort > "$log.host"
    tr -d '\r' < "$log" | grep -E '^[0-9a-f]{64}  /data/' | LC_ALL=C sort > "$log.guest"
    nfiles=$(wc -l < "$log.host")
    mib=$(du -sm "$BLK_IMG/tree-image/rofs.img" 2> /dev/null | cut -f1)
    if [ "$rc" -ne 0 ]; then
        judge_boot "$name" 0 "$rc" "$log"
    elif ! tr -d '\r' < "$log" | grep -Eq \
            'vfs: mounted ROFS 1\.0 from disk virtio-blk0 \([0-9]+ KiB, [0-9]+ inodes, read in [0-9]+ ms\) on /'; then
        fail "$name" "the root was not mounted from virtio-blk0"
        tr -d '\r' < "$log" | grep -E 'vfs|virtio' | sed 's/^/    | /'
    elif ! tr -d '\r' < "$log" | grep -Eq 'virtio-blk0: virtio-blk at .*, read-only,'; then
        fail "$name" "the disk is not reported read-only"
    elif ! tr -d '\r' < "$log" | grep -q '^symlink  /data/big/link -> \.\./hello\.txt$'; then
        fail "$name" "the symlink is missing from the guest's listing"
    elif [ "$nfiles" -lt 45 ] || [ "${mib:-0}" -lt 8 ]; then
        fail "$name" "the test tree is too small ($nfiles files, ${mib:-?} MiB image)"
    elif ! cmp -s "$log.host" "$log.guest"; then
        fail "$name" "guest checksums differ from the host's"
        diff "$log.host" "$log.guest" | head -5 | sed 's/^/    | /'
    else
        pass "$name ($nfiles files, $mib MiB image)"
    fi
}
blk_tree_sha256

# --- bad disks -----------------------------------------------------------------
# One small image, built once and copied; each copy's rofs.img is then
# spoiled in its own way. qemu.args names rofs.img relatively, so a copied
# directory boots its own disk.
blk_bad_setup() {
    [ -d "$BLK_IMG/bad-base" ] && return 0
    cat > "$BLK_IMG/bad.yaml" <<EOF
name: blk-bad
memory: 64M
disk: virtio-blk
cmdline: [/bin/hello]
files:
  /bin/hello: $BLK_APPS/hello
EOF
    "$TERN" build "$BLK_IMG/bad.yaml" -o "$BLK_IMG/bad-base" --kernel "$KERNEL" \
        --accel "$ACCEL" -q > "$BLK_IMG/bad-build.log" 2>&1
}

# blk_bad NAME HOW REGEX: HOW is a shell command run in the copy's directory.
blk_bad() {
    name=guest:blk_bad_$1 how=$2 regex=$3
    selected "$name" || return 0
    if [ ! -x "$BLK_APPS/hello" ]; then
        fail "$name" "$BLK_APPS/hello was not built (make apps)"
        return 0
    fi
    if ! blk_bad_setup; then
        fail "$name" "tern build failed"
        sed 's/^/    | /' "$BLK_IMG/bad-build.log" | tail -5
        return 0
    fi
    dir=$BLK_IMG/bad-$1
    rm -rf "$dir"
    cp -r "$BLK_IMG/bad-base" "$dir"
    if ! (cd "$dir" && eval "$how"); then
        fail "$name" "could not spoil the disk image"
        return 0
    fi
    log=$LOG_DIR/$(echo "$name" | tr ':/' '__').log
    "$TERN" run "$dir" --accel "$ACCEL" --quiet --timeout 60 --log "$log" > "$log.tern" 2>&1
    judge_boot "$name" 70 $? "$log" "$regex"
}

blk_bad magic 'head -c 65536 /dev/urandom > rofs.img' \
    '^\[ *[0-9.]+\] vfs: disk virtio-blk0: not a ROFS image \(bad magic\)$'
# The superblock says more bytes than the disk holds.
blk_bad truncated 'truncate -s 8192 rofs.img' \
    'vfs: disk virtio-blk0: not a usable ROFS image: truncated \(the image is [0-9]+ bytes, the disk 8192\)'
# One byte of the inode table flipped: the metadata checksum catches it.
blk_bad checksum "printf '\\377' | dd of=rofs.img bs=1 seek=200 conv=notrunc status=none" \
    'vfs: disk virtio-blk0: not a usable ROFS image: metadata checksum 0x[0-9a-f]{8}, computed'

# --- through libvirt -------------------------------------------------------------
# libvirt puts the disk behind a PCIe root port as a modern-only device
# (1af4:1042), unlike QEMU's transitional one on the root bus.
blk_virsh() {
    name=guest:blk_virsh
    selected "$name" || return 0
    if ! command -v virsh > /dev/null 2>&1; then
        skip "$name" "virsh is not installed (libvirt-clients, deps/debian.txt)"
        return 0
    elif ! virsh -c qemu:///system version > /dev/null 2>&1 && [ "$(id -u)" != 0 ]; then
        skip "$name" "libvirtd is not running and only root can start it"
        return 0
    elif [ ! -x "$BLK_APPS/hello" ]; then
        fail "$name" "$BLK_APPS/hello was not built (make apps)"
        return 0
    fi
    cat > "$BLK_IMG/virsh.yaml" <<EOF2
name: blk-virsh
memory: 64M
disk: virtio-blk
cmdline: [/bin/hello, from-disk]
files:
  /bin/hello: $BLK_APPS/hello
EOF2
    log=$LOG_DIR/guest_blk_virsh.log
    "$TERN" run "$BLK_IMG/virsh.yaml" -o "$BLK_IMG/virsh" --kernel "$KERNEL" --via virsh \
        --accel "$ACCEL" --quiet --timeout 120 --log "$log" > "$log.tern" 2>&1
    judge_boot "$name" 0 $? "$log" ' 1af4:1042 ' \
        'vfs: mounted ROFS 1\.0 from disk virtio-blk0 ' '^argv\[1\]=from-disk$'
}
blk_virsh
