# Tool tests for the machine table (image/machine.c): the row a manifest or
# a kernel picks, kernels for the wrong machine refused with a message that
# names the file, the machine found and the one expected, and pairs the
# table does not have refused before anything is written (Xen images:
# tests/tool/xen_image.sh).
MD=$LOG_DIR/machine
rm -rf "$MD"
mkdir -p "$MD/in" "$MD/out"

# The kernel with its ELF machine changed to EM_AARCH64 (183 = 0267).
cp "$KERNEL" "$MD/in/arm.elf"
printf '\267\000' | dd of="$MD/in/arm.elf" bs=1 seek=18 conv=notrunc 2>/dev/null
# An arm64 Image header: "ARM\x64" at offset 56, little-endian.
{ head -c 56 /dev/zero; printf 'ARM\144'; head -c 4 /dev/zero; } > "$MD/in/fake.img"
printf 'name: ax\narch: aarch64\nplatform: xen\n' > "$MD/in/aarch64_xen.yaml"

# x86_64/kvm: the table's values reach qemu.args and domain.xml.
tool_case machine_x86_kvm_qemu_args 0 '^qemu-system-x86_64 -M q35 -accel kvm -cpu host,-arch-capabilities .*-serial stdio -no-reboot -device isa-debug-exit,iobase=0xf4,iosize=0x04 -kernel kernel\.elf ' -- \
    sh -c '"$1" build manifests/hello.yaml --kernel "$2" -o "$3" -q && tr "\n" " " < "$3/qemu.args"' \
    sh "$TERN" "$KERNEL" "$MD/out/hello"
tool_case machine_x86_kvm_domain 0 "<type arch='x86_64' machine='q35'>hvm</type>" -- \
    cat "$MD/out/hello/domain.xml"
tool_case machine_x86_tcg_domain 0 "^<domain type='qemu'>.*-accel tcg -cpu max " -- \
    sh -c '"$1" build manifests/hello.yaml --kernel "$2" -o "$3" -q --accel tcg &&
           { head -n 1 "$3/domain.xml" | tr -d "\n"; tr "\n" " " < "$3/qemu.args"; }' \
    sh "$TERN" "$KERNEL" "$MD/out/hello-tcg"
# The entropy device the kernel seeds its generator from (docs/random.md),
# in qemu.args and domain.xml, fed from the host's /dev/urandom.
tool_case machine_x86_rng 0 "^-object rng-random,id=rng0,filename=/dev/urandom -device virtio-rng-pci,rng=rng0 .*<rng model='virtio'> <backend model='random'>/dev/urandom</backend> </rng>" -- \
    sh -c '{ tr "\n" " " < "$1/qemu.args"; tr -s " \n" "  " < "$1/domain.xml"; } | grep -o -- "-object rng.*"' \
    sh "$MD/out/hello"

# Wrong kernels: the file, what it is and what the machine needs.
tool_case machine_wrong_elf_build 2 "^tern: error: kernel '.*/arm\\.elf' is an ELF file for aarch64, but x86_64/kvm needs x86_64 \\(e_machine 62, found 183\\)" -- \
    "$TERN" build manifests/hello.yaml --kernel "$MD/in/arm.elf" -o "$MD/out/bad"
tool_case machine_wrong_elf_run 2 "^tern: error: kernel '.*/arm\\.elf' is an ELF file for aarch64; tern boots x86_64 ELF kernels" -- \
    "$TERN" run --kernel "$MD/in/arm.elf" --accel tcg
tool_case machine_no_pvh_note 2 "^tern: error: kernel '.*tern' is an x86_64 ELF file without the PVH entry note" -- \
    "$TERN" build manifests/hello.yaml --kernel "$TERN" -o "$MD/out/bad"
tool_case machine_run_not_a_kernel 2 "^tern: error: kernel 'README\\.md' is neither an ELF file nor an arm64 Image" -- \
    "$TERN" run --kernel README.md --accel tcg

# aarch64/kvm: the row's values reach qemu.args and domain.xml (the arm64
# Image header is what the row checks); a tern with no aarch64 kernel
# beside it says how to get one; an x86 kernel is refused. Its virtio-mmio
# devices are modern (QEMU's default legacy v1 ones the kernel refuses).
tool_case machine_aarch64_qemu_args 0 '^qemu-system-aarch64 -M virt -accel tcg -cpu cortex-a72 .*-serial stdio -no-reboot -global virtio-mmio\.force-legacy=false -kernel kernel\.img ' -- \
    sh -c '"$1" build tests/manifests/aarch64_min.yaml --kernel "$2" -o "$3" -q --accel tcg &&
           tr "\n" " " < "$3/qemu.args"' sh "$TERN" "$MD/in/fake.img" "$MD/ok/arm"
tool_case machine_aarch64_domain 0 "<type arch='aarch64' machine='virt'>hvm</type>" -- \
    cat "$MD/ok/arm/domain.xml"
tool_case machine_aarch64_rng 0 "^-object rng-random,id=rng0,filename=/dev/urandom -device virtio-rng-pci,rng=rng0 .*<rng model='virtio'>" -- \
    sh -c '{ tr "\n" " " < "$1/qemu.args"; tr -s " \n" "  " < "$1/domain.xml"; } | grep -o -- "-object rng.*"' \
    sh "$MD/ok/arm"
# Without --accel, tern build on a host that cannot run aarch64 under KVM
# (x86) writes a TCG domain (type 'qemu', cortex-a72) and -accel tcg.
if [ "$(uname -m)" != aarch64 ]; then
    tool_case machine_aarch64_default_tcg 0 "^<domain type='qemu'>.*<model fallback='forbid'>cortex-a72</model>.*-accel tcg -cpu cortex-a72 " -- \
        sh -c '"$1" build tests/manifests/aarch64_min.yaml --kernel "$2" -o "$3" -q &&
               { tr "\n" " " < "$3/domain.xml"; tr "\n" " " < "$3/qemu.args"; }' \
        sh "$TERN" "$MD/in/fake.img" "$MD/ok/arm-default"
fi
mkdir -p "$MD/lonely/host"
cp "$TERN" "$MD/lonely/host/tern"
tool_case machine_aarch64_no_kernel 2 "^tern: error: no kernel for aarch64/kvm: build one \\(make kernel\\), or name it with --kernel FILE" -- \
    env -u TERN_KERNEL "$MD/lonely/host/tern" build tests/manifests/aarch64_min.yaml -o "$MD/out/arm"
tool_case machine_aarch64_x86_kernel 2 "^tern: error: kernel '.*' is an ELF file for x86_64; aarch64/kvm needs an arm64 Image" -- \
    "$TERN" build tests/manifests/aarch64_min.yaml --kernel "$KERNEL" -o "$MD/out/arm"
tool_case machine_unknown_pair 2 "^tern: error: .*aarch64_xen\\.yaml: tern knows no aarch64/xen machine \\(it knows x86_64/kvm, aarch64/kvm, x86_64/xen\\)" -- \
    "$TERN" build "$MD/in/aarch64_xen.yaml" --kernel "$MD/in/fake.img" -o "$MD/out/ax"
# None of the refusals wrote anything, not even a temporary directory.
tool_case machine_refusals_leave_nothing 0 '^hello hello-tcg $' -- \
    sh -c 'for f in $(ls -A "$1"); do printf "%s " "$f"; done; echo' sh "$MD/out"
