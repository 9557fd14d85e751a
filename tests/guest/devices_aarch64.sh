# aarch64 interrupts, timer, SMP and devices on QEMU virt, under TCG (each
# boot a few seconds; the file about 2 minutes). Only for an aarch64 build.
#
#   a64_timer_gic2/3   ktest=timer_accuracy on GICv2 and GICv3: the
#                      generic timer's one-shots through each GIC driver;
#                      the wall clock from the PL031 (a date after 2023)
#   a64_smp2_gic2/3    2 vCPUs started by PSCI CPU_ON (each GIC's CPU
#                      interface and timer on the second CPU), ktest=threads
#   a64_timer_race_smp2  timers and futex wakeups raced across the 2 CPUs:
#                      a wakeup for a CPU asleep in WFI (tickless) reaches
#                      it only by the reschedule SGI; without it the test
#                      hangs (checked by disabling arch_send_resched)
#   a64_net_mmio       ktest=net_smoke (ARP, ping, UDP, a burst) over slirp
#                      with virtio-net on virtio-mmio (one SPI per slot)
#   a64_net_pci        the same over PCIe ECAM: BARs assigned by the kernel
#                      from the DT's ranges, INTx through the interrupt-map
#   a64_blk_mmio       the root file system on virtio-blk over virtio-mmio:
#                      the guest's SHA-256 of every file equals the host's
#   a64_net_pci_rootport  the NIC behind a PCIe root port (libvirt's
#                      layout): bus numbers and bridge windows by the kernel
#   a64_mmio_legacy    a legacy (version 1) virtio-mmio device is refused
#                      with the QEMU option that avoids it
#   a64_net_mmio_tap,  net_smoke on a tap in a network namespace (Linux at
#   a64_net_pci_tap    10.0.2.2: checksum offload and TSO), over each bus;
#                      skipped without root
#
# QEMU's virtio-mmio devices are legacy unless virtio-mmio.force-legacy is
# off; tern run passes that (image/machine.c), the wrappers below pass it
# too, and replace tern's PCI devices by the mmio ones.
a64_dev_tests() {
    A64_DIR=$(cd "$LOG_DIR" && pwd)/a64dev
    rm -rf "$A64_DIR"
    mkdir -p "$A64_DIR"

    # a64_wrapper NAME SED-SCRIPT EXTRA-OPTIONS [PREFIX]: a QEMU whose
    # arguments pass through SED-SCRIPT one by one, with EXTRA-OPTIONS
    # first (so that buses exist before tern's devices name them; -machine
    # options merge with tern's -M virt), run under PREFIX (ip netns exec).
    a64_wrapper() {
        cat > "$A64_DIR/$1" <<EOT
#!/bin/sh
for a in "\$@"; do
    shift
    a=\$(printf '%s\n' "\$a" | sed '$2')
    set -- "\$@" "\$a"
done
exec ${4:-} qemu-system-aarch64 $3 "\$@"
EOT
        chmod +x "$A64_DIR/$1"
    }
    a64_wrapper qemu-gic2 '' '-machine gic-version=2'
    a64_wrapper qemu-gic3 '' '-machine gic-version=3'
    a64_wrapper qemu-mmio 's/^virtio-net-pci,/virtio-net-device,/; s/^virtio-blk-pci,/virtio-blk-device,/; s/^virtio-rng-pci,/virtio-rng-device,/' \
        '-machine gic-version=3 -global virtio-mmio.force-legacy=false'
    # tern passes -global virtio-mmio.force-legacy=false itself (its
    # machine row), after these options: turn that one around.
    a64_wrapper qemu-mmio-legacy 's/^virtio-net-pci,/virtio-net-device,/; s/^virtio-mmio\.force-legacy=false$/virtio-mmio.force-legacy=true/' \
        '-global virtio-mmio.force-legacy=true'
    a64_wrapper qemu-pci '' '-machine gic-version=3'
    a64_wrapper qemu-rootport 's/^virtio-net-pci,/virtio-net-pci,bus=rp2,/' \
        '-device pcie-root-port,id=rp1,chassis=1 -device pcie-root-port,id=rp2,chassis=2'

    GUEST_TIMEOUT=30 GUEST_ARGS="--qemu $A64_DIR/qemu-gic2" \
        guest_case a64_timer_gic2 "ktest=timer_accuracy" 0 \
        'gic: GICv2, distributor at 0x8000000' 'timer: generic timer at [0-9.]+ MHz' \
        'clock: wall clock 1[7-9][0-9]{8} s since the epoch \(from the PL031 RTC\)' \
        'ktest timer_accuracy: passed'
    GUEST_TIMEOUT=30 GUEST_ARGS="--qemu $A64_DIR/qemu-gic3" \
        guest_case a64_timer_gic3 "ktest=timer_accuracy" 0 \
        'gic: GICv3, distributor at 0x8000000, redistributors at 0x80a0000' \
        'ktest timer_accuracy: passed'
    GUEST_TIMEOUT=40 GUEST_ARGS="--smp 2 --qemu $A64_DIR/qemu-gic2" \
        guest_case a64_smp2_gic2 "ktest=threads" 0 \
        'smp: 2 of 2 CPUs online' 'threads: 500 threads joined'
    GUEST_TIMEOUT=40 GUEST_ARGS="--smp 2 --qemu $A64_DIR/qemu-gic3" \
        guest_case a64_smp2_gic3 "ktest=threads" 0 \
        'smp: 2 of 2 CPUs online' 'threads: 500 threads joined'
    # Timers armed and cancelled across CPUs; wakeups cross by SGI.
    GUEST_TIMEOUT=40 GUEST_ARGS="--smp 2 --qemu $A64_DIR/qemu-gic3" \
        guest_case a64_timer_race_smp2 "ktest=timer_race" 0 \
        'smp: 2 of 2 CPUs online' 'ktest timer_race: passed'

    cat > "$A64_DIR/net.yaml" <<EOT
name: a64-net
arch: aarch64
memory: 128M
kernel_options: ktest=net_smoke
network:
  mode: user
  ip: 10.0.2.15/24
  gateway: 10.0.2.2
EOT
    a64_net_case() {    # NAME QEMU REGEX...
        n=$1 q=$2
        shift 2
        image_case "$n" 0 "$@" \
            'net_smoke: ARP reply: 10\.0\.2\.2 is at ([0-9a-f]{2}:){5}[0-9a-f]{2}' \
            'net_smoke: ping 10\.0\.2\.2: 5 sent, 5 received' \
            'net_smoke: burst: 600 frames in [0-9]+ us, ring full [0-9]+ times, 600 completed' \
            '^\[ *[0-9.]+\] net_smoke: passed$' -- \
            "$A64_DIR/net.yaml" -o "$A64_DIR/img-$n" --kernel "$KERNEL" --accel "$ACCEL" \
            --qemu "$A64_DIR/$q"
    }
    # virtio-rng on virtio-mmio too (the random seed, docs/random.md).
    a64_net_case a64_net_mmio qemu-mmio \
        '^\[ *[0-9.]+\] net0: virtio-net at mmio@a00[0-9a-f]{4}, mac 52:54:00' \
        '^\[ *[0-9.]+\] virtio-rng at mmio@a00[0-9a-f]{4}: 64 bytes of host entropy'
    a64_net_case a64_net_pci qemu-pci \
        '^\[ *[0-9.]+\] pci: ECAM at 0x4010000000' \
        '^\[ *[0-9.]+\] pci 00:[0-9a-f]{2}\.0: 1af4:10(00|41) Ethernet controller \(virtio\).* mem64 0x8000000000/16K' \
        '^\[ *[0-9.]+\] net0: virtio-net at 00:[0-9a-f]{2}\.0, mac 52:54:00'
    # As libvirt lays it out: the NIC behind a PCIe root port, which no
    # firmware numbered: bus 2, the bridge's windows, INTx swizzled.
    a64_net_case a64_net_pci_rootport qemu-rootport \
        '^\[ *[0-9.]+\] pci 00:02\.0: 1b36:000c PCI bridge' \
        '^\[ *[0-9.]+\] pci 02:00\.0: 1af4:10(00|41) Ethernet controller \(virtio\)' \
        '^\[ *[0-9.]+\] net0: virtio-net at 02:00\.0, mac 52:54:00'
    image_case a64_mmio_legacy 1 \
        'virtio-mmio 0xa00[0-9a-f]{4}: virtio-net with the legacy interface \(version 1\): not supported' \
        'net_smoke: FAIL: no network device' -- \
        "$A64_DIR/net.yaml" -o "$A64_DIR/img-legacy" --kernel "$KERNEL" --accel "$ACCEL" \
        --qemu "$A64_DIR/qemu-mmio-legacy"

    a64_blk_mmio
    a64_net_tap
}

# net_smoke over a tap in a network namespace whose host end is Linux at
# 10.0.2.2 (as slirp's gateway), which offers the offloads (TSO): virtio-net
# over virtio-mmio and over PCIe against a real stack.
a64_net_tap() {
    why=
    if [ "$(id -u)" != 0 ]; then
        why="needs root (network namespaces and tap devices)"
    elif ! command -v ip > /dev/null 2>&1; then
        why="ip is not installed (iproute2, deps/debian.txt)"
    elif [ ! -c /dev/net/tun ]; then
        why="/dev/net/tun is missing"
    fi
    for bus in mmio pci; do
        n=a64_net_${bus}_tap
        selected "guest:$n" || continue
        if [ -n "$why" ]; then
            skip "guest:$n" "$why"
            continue
        fi
        ns=tern-a64-$bus-$$
        tap=ta$$$bus
        if ! ip netns add "$ns" ||
            ! ip netns exec "$ns" ip link set lo up ||
            ! ip netns exec "$ns" ip tuntap add "$tap" mode tap ||
            ! ip netns exec "$ns" ip addr add 10.0.2.2/24 dev "$tap" ||
            ! ip netns exec "$ns" ip link set "$tap" up; then
            fail "guest:$n" "could not make a namespace with a tap device"
            ip netns del "$ns" 2> /dev/null
            continue
        fi
        cat > "$A64_DIR/$n.yaml" <<EOT
name: $n
arch: aarch64
memory: 128M
kernel_options: ktest=net_smoke
network:
  mode: tap
  tap: $tap
  ip: 10.0.2.15/24
  gateway: 10.0.2.2
EOT
        if [ $bus = mmio ]; then
            a64_wrapper "qemu-$n" 's/^virtio-net-pci,/virtio-net-device,/' \
                '-machine gic-version=3 -global virtio-mmio.force-legacy=false' "ip netns exec $ns"
            where='mmio@a00[0-9a-f]{4}'
        else
            a64_wrapper "qemu-$n" '' '-machine gic-version=3' "ip netns exec $ns"
            where='00:[0-9a-f]{2}\.0'
        fi
        image_case "$n" 0 \
            "^\[ *[0-9.]+\] net0: virtio-net at $where, mac 52:54:00" \
            '^\[ *[0-9.]+\] net0: features csum guest_csum host_tso4 guest_tso4 mrg_rxbuf ' \
            'net_smoke: ping 10\.0\.2\.2: 5 sent, 5 received' \
            'net_smoke: TSO: one 16438-byte TCP segment, completed, the peer answered' \
            '^\[ *[0-9.]+\] net_smoke: passed$' -- \
            "$A64_DIR/$n.yaml" -o "$A64_DIR/img-$n" --kernel "$KERNEL" --accel "$ACCEL" \
            --qemu "$A64_DIR/qemu-$n"
        ip netns del "$ns" 2> /dev/null
    done
}

# The root file system on virtio-blk over virtio-mmio: tern run's -initrd
# becomes a virtio-blk-device drive (no initrd: the kernel mounts the
# first disk).
a64_blk_mmio() {
    name=guest:a64_blk_mmio
    selected "$name" || return 0
    log=$LOG_DIR/a64_blk_mmio.log
    tree=$A64_DIR/blk-tree
    mkdir -p "$tree/sub/deeper"
    printf 'hello, tern\n' > "$tree/hello.txt"
    head -c 4097 /dev/urandom > "$tree/page-plus-one"
    head -c $((1024 * 1024 + 5)) /dev/urandom > "$tree/sub/mib"
    head -c 70000 /dev/urandom > "$tree/sub/deeper/f"
    if ! "$TERN" mkrofs "$A64_DIR/blk.img" "$tree" > "$log.mkrofs" 2>&1; then
        fail "$name" "tern mkrofs failed"
        return 0
    fi
    cat > "$A64_DIR/qemu-blk" <<EOT
#!/bin/sh
for a in "\$@"; do
    shift
    if [ "\$a" = -initrd ]; then
        skip_next=1
        continue
    fi
    if [ -n "\${skip_next:-}" ]; then
        skip_next=
        set -- "\$@" -drive "if=none,id=rofs,file=\$a,format=raw,readonly=on" \
            -device virtio-blk-device,drive=rofs
        continue
    fi
    set -- "\$@" "\$a"
done
exec qemu-system-aarch64 "\$@" -global virtio-mmio.force-legacy=false
EOT
    chmod +x "$A64_DIR/qemu-blk"
    "$TERN" run --kernel "$KERNEL" --accel "$ACCEL" --initrd "$A64_DIR/blk.img" --quiet \
        --timeout 40 --log "$log" --append ktest=fs_checksums --qemu "$A64_DIR/qemu-blk" \
        > "$log.tern" 2>&1
    rc=$?
    (cd "$tree" && find . -type f -print0 | xargs -0 sha256sum) | LC_ALL=C sort > "$log.host"
    tr -d '\r' < "$log" | sed -n 's/^fs-sha256 //p' | LC_ALL=C sort > "$log.guest"
    if [ "$rc" -ne 0 ]; then
        fail "$name" "exit status $rc"
        tr -d '\r' < "$log" | sed 's/^/    | /' | tail -15
    elif ! tr -d '\r' < "$log" | grep -Eq 'virtio-blk.*mmio@a00'; then
        fail "$name" "no virtio-blk over virtio-mmio in the log"
    elif ! cmp -s "$log.host" "$log.guest" || [ ! -s "$log.host" ]; then
        fail "$name" "the guest's checksums differ from the host's"
        diff "$log.host" "$log.guest" | head -5 | sed 's/^/    | /'
    else
        pass "$name"
    fi
}

[ "${ARCH:-x86_64}" = aarch64 ] && a64_dev_tests
