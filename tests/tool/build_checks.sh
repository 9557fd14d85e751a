# Tool tests for what tern build refuses because the image could not boot
# (image/check.c), and for the KVM probe cache (image/probe_cache.c).
# No guest boots: a fake QEMU stands in for the probe. About 2 s.
# Its set-up (builds, make install) runs only when one of its cases is
# selected (TESTS): tool_file_wanted (tests/run-tests.sh) reads their names.
if tool_file_wanted tests/tool/build_checks.sh; then
# Absolute: the manifests written here name host files, which tern
# resolves relative to the manifest's own directory.
mkdir -p "$LOG_DIR"
BC=$(cd "$LOG_DIR" && pwd)/build-checks
rm -rf "$BC"
mkdir -p "$BC"
BC_HELLO=$PWD/out/apps/hello

# bc_manifest NAME PROGRAM-FILE [EXTRA-YAML-LINES]: $BC/NAME.yaml runs
# /bin/prog, a copy of PROGRAM-FILE.
bc_manifest() {
    printf 'name: bc-%s\nmemory: 32M\ncmdline: [/bin/prog, arg]\nfiles:\n  /bin/prog: %s\n%b' \
        "$1" "$2" "${3:-}" > "$BC/$1.yaml"
}

# The program: each kind the guest's loader would refuse at boot.
gcc -o "$BC/dynamic" apps/hello.c 2> /dev/null
printf '#!/bin/sh\necho hi\n' > "$BC/script"
head -c 3000 "$BC_HELLO" > "$BC/truncated"
cp "$BC_HELLO" "$BC/aarch64"
printf '\267\000' | dd of="$BC/aarch64" bs=1 seek=18 conv=notrunc status=none
cp "$BC_HELLO" "$BC/elf32"
printf '\001' | dd of="$BC/elf32" bs=1 seek=4 conv=notrunc status=none
cp "$BC_HELLO" "$BC/noexec"
chmod 755 "$BC/script" "$BC/truncated" "$BC/aarch64" "$BC/elf32"
chmod 644 "$BC/noexec"
for p in dynamic script truncated aarch64 elf32 noexec; do bc_manifest "$p" "$BC/$p"; done

bc_refused() {
    tool_case "build_check_$1" 2 "$2" -- "$TERN" build "$BC/$1.yaml" --kernel "$KERNEL" -o "$BC/out-$1"
}
bc_refused dynamic "build-checks/dynamic\\.yaml:3:10: error: cmdline: the program '/bin/prog' \\(from '.*/dynamic'\\) is dynamically linked \\(interpreter /lib64/ld-linux-x86-64\\.so\\.2\\); dynamic ELF is not supported yet: link it statically: tern cc .*-static-pie"
bc_refused script "is a script \\(#!/bin/sh\\); Tern runs static ELF programs and has no shell"
bc_refused truncated "is truncated: segment [0-9]+ \\(offset [0-9]+, [0-9]+ bytes\\) extends past the end of the file \\(3000 bytes\\)"
bc_refused aarch64 "is built for aarch64, but the image is x86_64 \\(arch: x86_64\\): rebuild it for x86_64"
bc_refused elf32 "is a 32-bit ELF \\(.*\\); the image is x86_64 and runs 64-bit programs only"
bc_refused noexec "is not executable \\(mode 0644\\): chmod \\+x it"
# Nothing was left behind by the refused builds.
tool_case build_check_nothing_written 0 '^none$' -- \
    sh -c 'ls -d "$1"/out-* "$1"/.out-* 2>/dev/null | grep . || echo none' sh "$BC"
# Every problem of one build is reported in that build, with one summary:
# a missing host file (the parser's) and the program's (the checks').
bc_manifest two "$BC/script" "  /etc/gone: $BC/no-such-file\n"
tool_case build_check_summary 2 "tern: error: .*/two\\.yaml: 2 errors; nothing was built" -- \
    "$TERN" build "$BC/two.yaml" --kernel "$KERNEL" -o "$BC/out-two"
truncate -s 40M "$BC/blob40"
# --force builds it anyway, with the reasons as warnings.
tool_case build_check_force 0 "warning: cmdline: the program '/bin/prog' .* is a script .*\\(built anyway: --force\\)" -- \
    "$TERN" build "$BC/script.yaml" --kernel "$KERNEL" -o "$BC/forced" --force

# No program and no kernel option that gives a result: it would "succeed".
printf 'name: bc-noapp\n' > "$BC/noapp.yaml"
tool_case build_check_no_cmdline 2 "noapp\\.yaml:1:1: error: no cmdline: the image has no program to run \\(it would boot and exit 0 doing nothing\\); add cmdline: " -- \
    "$TERN" build "$BC/noapp.yaml" --kernel "$KERNEL" -o "$BC/out-noapp"
printf 'name: bc-exit\nkernel_options: exit=3\n' > "$BC/exitopt.yaml"
tool_case build_check_exit_option_ok 0 "^tern: built " -- \
    "$TERN" build "$BC/exitopt.yaml" --kernel "$KERNEL" -o "$BC/exitopt"

# Memory: a 40 MiB file as the initrd does not fit 32 MiB (the kernel needs
# 1 MiB firmware + itself + the module + its own start-up memory).
bc_manifest big "$BC_HELLO" "  /blob: $BC/blob40\n"
tool_case build_check_memory_initrd 2 "big\\.yaml:2:9: error: memory: 32 MiB is too small for this image: it needs 4[0-9] MiB \\(1 MiB firmware \\+ [0-9]+ KiB kernel \\+ 40\\.[0-9] MiB rofs\\.img .*set memory: 4[0-9]M or more" -- \
    "$TERN" build "$BC/big.yaml" --kernel "$KERNEL" -o "$BC/out-big"
# The same with disk: virtio-blk: one 64 MiB block, aligned to 64 MiB.
bc_manifest bigblk "$BC_HELLO" "  /blob: $BC/blob40\ndisk: virtio-blk\n"
sed -i 's/^memory: .*/memory: 120M/' "$BC/bigblk.yaml"
tool_case build_check_memory_virtio_blk 2 "error: memory: 120 MiB is too small for this image: with disk: virtio-blk the kernel reads rofs\\.img \\(40\\.[0-9] MiB\\) into one 64 MiB block .*set memory: 129M or more" -- \
    "$TERN" build "$BC/bigblk.yaml" --kernel "$KERNEL" -o "$BC/out-bigblk"
sed -i 's/^memory: .*/memory: 129M/' "$BC/bigblk.yaml"
tool_case build_check_memory_virtio_blk_ok 0 "^tern: built " -- \
    "$TERN" build "$BC/bigblk.yaml" --kernel "$KERNEL" -o "$BC/out-bigblk"
rm -f "$BC/blob40"
# More memory than the host can give QEMU (unless it overcommits anything).
if [ "$(cat /proc/sys/vm/overcommit_memory 2>/dev/null)" != 1 ]; then
    bc_manifest huge "$BC_HELLO"
    sed -i 's/^memory: .*/memory: 1T/' "$BC/huge.yaml"
    tool_case build_check_memory_host 2 "huge\\.yaml:2:9: error: memory: 1048576M is more than this host has \\([0-9]+ MiB of RAM and swap\\): QEMU could not allocate it" -- \
        "$TERN" build "$BC/huge.yaml" --kernel "$KERNEL" -o "$BC/out-huge"
elif selected tool:build_check_memory_host; then
    skip tool:build_check_memory_host "vm.overcommit_memory is 1: the host gives any size"
fi

# --- the KVM probe cache -----------------------------------------------------
# A fake QEMU that logs its arguments and reports exit status 0 at once;
# TERN_KVM_DEV points the KVM check at a stand-in device file, so this runs
# on hosts without KVM too. The probe boot is the one with loglevel=3.
PC=$BC/probe
mkdir -p "$PC/cache"
cat > "$PC/qemu" <<EOF
#!/bin/sh
echo "\$*" >> "$PC/qemu.log"
echo "tern-exit: status=0"
EOF
chmod 755 "$PC/qemu"
: > "$PC/kvm"
chmod 600 "$PC/kvm"
: > "$PC/qemu.log"
probe_env() {
    env XDG_CACHE_HOME="$PC/cache" TERN_KVM_DEV="$PC/kvm" "$@"
}
probes() { grep -c 'loglevel=3' "$PC/qemu.log"; }
# Two builds of the same manifest (two directories, new mtimes): one probe.
probe_env "$TERN" run manifests/hello.yaml -o "$PC/a" --kernel "$KERNEL" --qemu "$PC/qemu" \
    > "$PC/run1.log" 2>&1
probe_env "$TERN" run manifests/hello.yaml -o "$PC/b" --kernel "$KERNEL" --qemu "$PC/qemu" \
    > "$PC/run2.log" 2>&1
tool_case probe_cache_first_probes 0 'with kvm \(a KVM probe boot succeeded in' -- cat "$PC/run1.log"
tool_case probe_cache_rebuild_cached 0 'with kvm \(a KVM probe boot succeeded in [0-9]+ ms \(cached in .*/kvm-probe\)\)' -- \
    cat "$PC/run2.log"
tool_case probe_cache_one_probe 0 '^1$' -- probes
# Another KVM device (here: its mode) is another host state: probe again.
chmod 660 "$PC/kvm"
probe_env "$TERN" probe --kernel "$PC/b/kernel.elf" --qemu "$PC/qemu" > "$PC/run3.log" 2>&1
tool_case probe_cache_device_changed 0 '^2$' -- probes
# Bounded: however many verdicts were there, at most 16 stay.
mkdir -p "$PC/cache/tern"
i=0
while [ $i -lt 40 ]; do
    printf 'kernel:%064d|qemu:x|boot:y|dev:z\tkvm\tseeded\n' $i >> "$PC/cache/tern/kvm-probe"
    i=$((i + 1))
done
chmod 640 "$PC/kvm"
probe_env "$TERN" probe --kernel "$PC/b/kernel.elf" --qemu "$PC/qemu" > "$PC/run4.log" 2>&1
tool_case probe_cache_bounded 0 '^(1[0-6]|[1-9])$' -- sh -c 'wc -l < "$1"' sh "$PC/cache/tern/kvm-probe"
tool_case probe_cache_no_temp_left 0 '^clean$' -- \
    sh -c 'ls "$1" | grep -v "^kvm-probe$" || echo clean' sh "$PC/cache/tern"
fi
