# boot: u-boot images on aarch64 (docs/aarch64.md, "Booting through
# U-Boot"), only for an aarch64 build, under TCG: tern build puts a FIT
# (kernel, ROFS ramdisk, QEMU's device tree with /chosen bootargs, sha256
# hash nodes) and boot.scr on boot.img; tern run starts QEMU with Debian's
# u-boot.bin as -bios, whose distro boot finds the script on the virtio
# disk and bootm's the FIT.
#
#   a64_uboot_hello         hello booted by U-Boot from the FIT: every hash
#                           verified, the command line from the FIT's
#                           device tree, exit status 5 reaches the shell
#                           (~6 s: U-Boot's 2 s autoboot delay included)
#   a64_uboot_tampered      one byte of the kernel changed inside boot.img
#                           after the build: U-Boot refuses the FIT (bad
#                           sha256 of the kernel image), the kernel never
#                           runs, the script resets the board and tern run
#                           reports no status (125) (~5 s)
#   a64_uboot_virsh         the same image through libvirt (tern run --via
#                           virsh): domain.xml's <loader> is U-Boot, the
#                           boot disk a virtio <disk>; status 5 (~10 s;
#                           skipped where libvirtd cannot run)
#   tool:a64_uboot_fit      boot.img's partition holds tern.itb: three
#                           images with sha256 hashes, the kernel and ROFS
#                           byte for byte, /chosen with bootargs and
#                           stdout-path only (QEMU's random seeds gone) (~1 s)
#   tool:a64_uboot_reproducible  two builds of one manifest a second apart
#                           (new staging files, new QEMU device tree dump
#                           from the cache) give byte-identical boot.img,
#                           rofs.img, kernel.img and qemu.args (~1 s)
#   tool:a64_uboot_manifest boot: values and combinations tern build
#                           refuses, with file:line:column (<1 s)
if [ "${ARCH:-x86_64}" = aarch64 ]; then
a64_uboot_tests() {
    UB_DIR=$(cd "$LOG_DIR" && pwd)/a64uboot
    rm -rf "$UB_DIR"
    mkdir -p "$UB_DIR"
    "$TERN" cc --arch=aarch64 -O2 -o "$UB_DIR/hello" apps/hello.c > "$UB_DIR/cc.log" 2>&1
    cat > "$UB_DIR/uboot-hello.yaml" <<EOT
name: uboot-hello
arch: aarch64
platform: kvm
memory: 128M
boot: u-boot
cmdline: [/bin/hello, "Hello, world", --exit, "5"]
env:
  GREETING: hello
files:
  /bin/hello: hello
EOT
    image_case a64_uboot_hello 5 '^U-Boot 20' \
        "^## Loading kernel from FIT Image at " \
        '^   Verifying Hash Integrity \.\.\. sha256\+ OK' '^Starting kernel \.\.\.' \
        'command line: "-- /bin/hello "Hello, world" --exit 5"' \
        'vfs: mounted ROFS .* from boot module 0' \
        '^argv\[1\]=Hello, world$' '^GREETING=hello$' 'app: exited with status 5' -- \
        "$UB_DIR/uboot-hello.yaml" -o "$UB_DIR/b-hello" --kernel "$KERNEL" --accel tcg

    # Through libvirt: <loader> (U-Boot as -bios) and boot.img as a virtio
    # disk (on PCIe there). virsh_why: build.sh's verdict on libvirt here.
    if [ -n "${virsh_why:-}" ]; then
        selected guest:a64_uboot_virsh && skip guest:a64_uboot_virsh "$virsh_why"
    else
        image_case a64_uboot_virsh 5 '^U-Boot 20' \
            '^   Verifying Hash Integrity \.\.\. sha256\+ OK' '^Starting kernel \.\.\.' \
            'command line: "-- /bin/hello "Hello, world" --exit 5"' \
            'app: exited with status 5' -- \
            "$UB_DIR/uboot-hello.yaml" -o "$UB_DIR/b-virsh" --kernel "$KERNEL" --via virsh \
            --accel tcg
    fi

    # One byte of a string only the kernel has ("entered at EL", the cpu
    # line), inside the FIT inside the disk's file system.
    if selected guest:a64_uboot_tampered; then
        bad=$UB_DIR/b-tampered
        log=$LOG_DIR/guest_a64_uboot_tampered.log
        why=
        if ! "$TERN" build "$UB_DIR/uboot-hello.yaml" -o "$bad" --kernel "$KERNEL" \
            --accel tcg > "$log.tern" 2>&1; then
            why="tern build failed"
        else
            off=$(grep -obaF 'entered at EL' "$bad/boot.img" | sed -n '1s/:.*//p')
            n=$(grep -caF 'entered at EL' "$bad/boot.img")
            if [ -z "$off" ] || [ "$n" -ne 1 ]; then
                why="the kernel's string is not in boot.img once (found $n)"
            else
                printf 'X' | dd of="$bad/boot.img" bs=1 seek="$off" conv=notrunc 2> /dev/null
                "$TERN" run "$bad" --accel tcg --quiet --timeout 60 --log "$log" \
                    >> "$log.tern" 2>&1
                rc=$?
                if [ "$rc" -ne 125 ]; then
                    why="exit status $rc, expected 125 (no status: the kernel must not run)"
                elif ! grep -q "^Bad hash value for 'hash-1' hash node in 'kernel' image node" "$log"; then
                    why="U-Boot's 'Bad hash value ... kernel' message is missing"
                elif ! grep -q "^ERROR: can't get kernel image!" "$log"; then
                    why="U-Boot's \"can't get kernel image\" is missing"
                elif ! grep -q '^tern: U-Boot did not boot the FIT' "$log"; then
                    why="boot.scr's message after the refused bootm is missing"
                elif grep -Eq 'Starting kernel|\] Tern [0-9]|tern-exit:' "$log"; then
                    why="the kernel ran"
                fi
            fi
        fi
        if [ -n "$why" ]; then
            fail guest:a64_uboot_tampered "$why"
            tail -5 "$log.tern" | sed 's/^/    | /'
            tr -d '\r' < "$log" 2> /dev/null | tail -15 | sed 's/^/    | /'
        else
            pass guest:a64_uboot_tampered
        fi
    fi

    # What is inside boot.img: the partition at 1 MiB, tern.itb in it
    # (debugfs), each image with a sha256 hash, the kernel and ROFS the
    # image's own bytes, the tree's /chosen as tern wrote it.
    ub_fit() {
        x=$UB_DIR/fit
        rm -rf "$x" && mkdir -p "$x" || return 1
        "$TERN" build "$UB_DIR/uboot-hello.yaml" -o "$x/img" -q --kernel "$KERNEL" \
            --accel tcg || return 1
        dd if="$x/img/boot.img" of="$x/part" bs=1M skip=1 2> /dev/null || return 1
        debugfs -R "dump /tern.itb $x/tern.itb" "$x/part" 2> /dev/null || return 1
        mkimage -l "$x/tern.itb" > "$x/list" || return 1
        cat "$x/list"
        [ "$(grep -c '^  Hash algo: *sha256$' "$x/list")" -eq 3 ] || { echo "not 3 sha256"; return 1; }
        for p in 0:kernel.img 1:rofs.img; do
            dumpimage -T flat_dt -p "${p%%:*}" -o "$x/${p#*:}" "$x/tern.itb" > /dev/null &&
                cmp "$x/${p#*:}" "$x/img/${p#*:}" || return 1
        done
        dumpimage -T flat_dt -p 2 -o "$x/fdt.dtb" "$x/tern.itb" > /dev/null || return 1
        echo "bootargs: $(fdtget "$x/fdt.dtb" /chosen bootargs)"
        echo "chosen: $(fdtget -p "$x/fdt.dtb" /chosen | tr '\n' ' ')"
    }
    tool_case a64_uboot_fit 0 '^chosen: (bootargs stdout-path|stdout-path bootargs) $' -- ub_fit

    # Every file but domain.xml (absolute paths) the same, byte for byte.
    ub_twice() {
        "$TERN" build "$UB_DIR/uboot-hello.yaml" -o "$UB_DIR/r1" -q --kernel "$KERNEL" \
            --accel tcg || return 1
        sleep 1.1
        "$TERN" build "$UB_DIR/uboot-hello.yaml" -o "$UB_DIR/r2" -q --kernel "$KERNEL" \
            --accel tcg || return 1
        for f in boot.img rofs.img kernel.img qemu.args; do
            cmp "$UB_DIR/r1/$f" "$UB_DIR/r2/$f" || return 1
        done
        echo "identical: boot.img $(wc -c < "$UB_DIR/r1/boot.img") bytes"
    }
    tool_case a64_uboot_reproducible 0 '^identical: boot.img [0-9]+ bytes' -- ub_twice

    ub_bad() {  # each manifest refused with its message; "refused: 3"
        printf 'name: b1\narch: aarch64\nboot: grub\n' > "$UB_DIR/bad1.yaml"
        printf 'name: b2\nboot: u-boot\n' > "$UB_DIR/bad2.yaml"
        printf 'name: b3\narch: aarch64\ndisk: virtio-blk\nboot: u-boot\n' > "$UB_DIR/bad3.yaml"
        set -- "bad1.yaml:3:7: error: boot: 'grub' is not one of: direct, u-boot" \
            'bad2.yaml:2:1: error: boot: u-boot is for arch: aarch64 on platform: kvm .*not x86_64/kvm' \
            'bad3.yaml:3:1: error: disk: virtio-blk cannot go with boot: u-boot \(line 4\)'
        i=0
        for re in "$@"; do
            i=$((i + 1))
            if "$TERN" build "$UB_DIR/bad$i.yaml" -o "$UB_DIR/bad$i" --kernel "$KERNEL" \
                > "$UB_DIR/bad$i.out" 2>&1; then
                echo "bad$i.yaml was built"
                return 1
            fi
            cat "$UB_DIR/bad$i.out"
            grep -Eq -- "$re" "$UB_DIR/bad$i.out" || { echo "bad$i: no /$re/"; return 1; }
        done
        echo "refused: $i"
    }
    tool_case a64_uboot_manifest 0 '^refused: 3$' -- ub_bad
}
for c in guest:a64_uboot_hello guest:a64_uboot_virsh guest:a64_uboot_tampered \
    tool:a64_uboot_fit tool:a64_uboot_reproducible tool:a64_uboot_manifest; do
    if selected "$c"; then
        a64_uboot_tests
        break
    fi
done
fi
