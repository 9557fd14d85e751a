# Guest tests: `tern run --via virsh` of an image directory that was copied
# or moved after tern build. domain.xml names the build directory by
# absolute path; the run must boot the directory it was given (its kernel,
# its ROFS, its console.log), rewrite domain.xml for it, and say so.
# Two libvirt boots, about 10 s; skipped when libvirt cannot run here.
VD=$LOG_DIR/virsh-dir
rm -rf "$VD"
mkdir -p "$VD"

vd_why=
if ! command -v virsh > /dev/null 2>&1; then
    vd_why="virsh is not installed (libvirt-clients, deps/debian.txt)"
elif ! virsh -c qemu:///system version > /dev/null 2>&1; then
    if [ "$(id -u)" != 0 ]; then
        vd_why="libvirtd is not running and only root can start it"
    elif ! command -v libvirtd > /dev/null 2>&1; then
        vd_why="libvirtd is not installed (libvirt-daemon-system, deps/debian.txt)"
    fi
fi

# vd_case NAME DIR ORIGINAL: boot DIR through libvirt; ORIGINAL must not
# gain a console.log, DIR must have the boot's.
vd_case() {
    name=guest:$1
    selected "$name" || return 0
    if [ -n "$vd_why" ]; then
        skip "$name" "$vd_why"
        return 0
    fi
    log=$LOG_DIR/guest_$1.log
    "$TERN" run "$2" --via virsh --accel "$ACCEL" --quiet --timeout 120 --log "$log" \
        > "$log.tern" 2>&1
    rc=$?
    if [ -e "$3/console.log" ]; then
        fail "$name" "the original directory $3 got a console.log"
    elif ! grep -q '^tern-exit: status=0' "$2/console.log" 2>/dev/null; then
        fail "$name" "$2/console.log lacks the boot's exit line"
        sed 's/^/    | /' "$log.tern" | tail -5
    elif ! grep -q "names the image at .*, but this image is at $(cd "$2" && pwd)" "$log.tern"; then
        fail "$name" "tern run did not say that domain.xml named another directory"
        sed 's/^/    | /' "$log.tern" | tail -5
    elif ! grep -q "<kernel>$(cd "$2" && pwd)/kernel.elf</kernel>" "$2/domain.xml"; then
        fail "$name" "$2/domain.xml was not rewritten for its directory"
    else
        judge_boot "$name" 0 "$rc" "$log" '^argv\[1\]=Hello, world$'
    fi
}

if selected guest:virsh_copied_dir || selected guest:virsh_moved_dir; then
    "$TERN" build manifests/hello.yaml -o "$VD/orig" --kernel "$KERNEL" --accel "$ACCEL" -q \
        > "$VD/build.log" 2>&1
    cp -a "$VD/orig" "$VD/copy"
    vd_case virsh_copied_dir "$VD/copy" "$VD/orig"
    # Moved: the original directory is gone altogether.
    mv "$VD/orig" "$VD/moved"
    vd_case virsh_moved_dir "$VD/moved" "$VD/orig"
fi
