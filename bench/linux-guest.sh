#!/bin/sh
# The benchmark's Linux guest for one Debian architecture (amd64 or
# arm64), built from Debian packages into ~/.cache/tern/linux-guest/
# (amd64) or ~/.cache/tern/linux-guest-arm64/ (never into the repository):
#
#   vmlinuz         Debian's linux-image-ARCH kernel (the version that
#                   metapackage depends on), unpacked with dpkg-deb -x
#                   (arm64's is a gzip'd Image: QEMU's -kernel unpacks it)
#   initramfs.gz    a gzip'd newc cpio: busybox (busybox-static) as the
#                   shell and tools, the virtio modules the kernel has as
#                   modules (virtio_pci and virtio_net are =m in Debian's
#                   config), bench/bulksend and apps/hello, and /init below
#   version         "linux VERSION, busybox VERSION"
#
# /init mounts /proc and /sys, insmods the modules in dependency order,
# brings up eth0 with the address in bench_ip= (the kernel passes unknown
# name=value words to init's environment), prints
# "init: app start uptime=S" and runs the words after "--" on the kernel
# command line (the kernel hands them to init as arguments), then prints
# "init: app exited with status N" and powers off (poweroff -f: ACPI S5,
# which ends QEMU; PSCI SYSTEM_OFF on arm64). So `-append "console=ttyS0
# quiet bench_ip=10.99.0.2/24 -- /bin/bulksend send ..."` runs the very
# binary a Tern image runs.
#
#   sh bench/linux-guest.sh BULKSEND HELLO [DEBIAN-ARCH]
#       prints the cache directory; DEBIAN-ARCH is amd64 (default) or
#       arm64 (packages name:arm64: dpkg --add-architecture arm64, which
#       configure --arch=aarch64 --install-deps does for libfdt-dev:arm64)
#
# Rebuilds the initramfs when the binaries or this script changed; the
# packages are fetched once (apt-get download) and reused offline.
set -eu
BULKSEND=${1:?usage: linux-guest.sh BULKSEND HELLO}
HELLO=${2:?usage: linux-guest.sh BULKSEND HELLO}
DARCH=${3:-amd64}
case $DARCH in
# amd64 was the only one at first: its cache keeps the plain name.
amd64) CACHE=${TERN_CACHE:-$HOME/.cache/tern}/linux-guest ;;
arm64) CACHE=${TERN_CACHE:-$HOME/.cache/tern}/linux-guest-$DARCH ;;
*) echo "linux-guest: Debian architecture '$DARCH': choose amd64 or arm64" >&2; exit 2 ;;
esac
mkdir -p "$CACHE/debs"

# Modules in load order (each after what its depends= names); checked
# against the kernel's modules.builtin below, since a built-in one needs no
# insmod.
MODULES="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover net_failover virtio_net"
# Loaded only under Xen (/sys/hypervisor/type says so: the kernel is a PVH
# domU there, as in bench/xen.sh): the PV NIC, with no module dependencies.
XEN_MODULES=
[ "$DARCH" = amd64 ] && XEN_MODULES="xen-netfront"

say() { echo "linux-guest: $*" >&2; }

fetch() {   # PACKAGE-NAME: its DARCH .deb in $CACHE/debs, downloading when missing
    f=$(ls "$CACHE/debs/$1"_*.deb 2> /dev/null | head -n 1)
    if [ -z "$f" ]; then
        say "downloading $1"
        # apt's sandbox user cannot write into root's home: download in a
        # directory it can, then move.
        t=$(mktemp -d)
        chmod 777 "$t"
        (cd "$t" && apt-get download "$1:$DARCH" > /dev/null 2>&1) ||
            (apt-get update > /dev/null 2>&1 && cd "$t" && apt-get download "$1:$DARCH" > /dev/null) ||
            { rm -rf "$t"; say "cannot download $1:$DARCH (apt-get download; for a foreign arch: dpkg --add-architecture $DARCH && apt-get update)"; exit 1; }
        mv "$t"/*.deb "$CACHE/debs/"
        rm -rf "$t"
        f=$(ls "$CACHE/debs/$1"_*.deb | head -n 1)
    fi
    echo "$f"
}

# The kernel package the metapackage points at; remembered, so a later
# offline run uses the same one.
# (apt-cache names a foreign arch's dependency NAME:ARCH.)
kernel_dep() {
    apt-cache depends "linux-image-$DARCH:$DARCH" 2> /dev/null |
        sed -n "s/^ *Depends: \(linux-image-[0-9].*-$DARCH\)\(:$DARCH\)\{0,1\}\$/\1/p" | head -n 1
}
if [ ! -s "$CACHE/kernel-package" ]; then
    kpkg=$(kernel_dep)
    if [ -z "$kpkg" ]; then
        apt-get update > /dev/null 2>&1 || true
        kpkg=$(kernel_dep)
    fi
    [ -n "$kpkg" ] || { say "apt-cache does not know linux-image-$DARCH:$DARCH"; exit 1; }
    echo "$kpkg" > "$CACHE/kernel-package"
fi
kpkg=$(cat "$CACHE/kernel-package")
kdeb=$(fetch "$kpkg")
bdeb=$(fetch busybox-static)

root=$CACHE/unpacked
stamp_in="$kdeb $bdeb $(cksum < "$0") $(cksum < "$BULKSEND") $(cksum < "$HELLO")"
if [ -f "$CACHE/initramfs.gz" ] && [ -f "$CACHE/vmlinuz" ] &&
    [ "$(cat "$CACHE/inputs" 2> /dev/null)" = "$stamp_in" ]; then
    echo "$CACHE"
    exit 0
fi
say "building the kernel and initramfs in $CACHE"
rm -rf "$root"
mkdir -p "$root"
dpkg-deb -x "$kdeb" "$root"
dpkg-deb -x "$bdeb" "$root"
kver=$(ls "$root/lib/modules" | head -n 1)
cp "$root/boot/vmlinuz-$kver" "$CACHE/vmlinuz"

ir=$CACHE/initramfs
rm -rf "$ir"
mkdir -p "$ir/bin" "$ir/proc" "$ir/sys" "$ir/dev" "$ir/tmp" "$ir/lib/modules" "$ir/data"
cp "$root/bin/busybox" "$ir/bin/busybox"
for t in sh mount insmod ip cat sleep poweroff echo ls; do
    ln -s busybox "$ir/bin/$t"
done
# The kernel opens /dev/console for init's stdin/stdout/stderr before /init
# runs: it must be in the archive (we are root: mknod works).
mknod -m 600 "$ir/dev/console" c 5 1
mknod -m 666 "$ir/dev/null" c 1 3
# modules_of NAMES: copy those not built in into the initramfs, print
# the copied ones (the load list).
modules_of() {
    for m in "$@"; do
        # Built in (modules.builtin names it): nothing to load. Not the
        # config symbol: virtio_ring has none (it is part of CONFIG_VIRTIO,
        # =y on arm64, =m on amd64).
        if grep -q "/$m\.ko\$" "$root/lib/modules/$kver/modules.builtin"; then
            continue
        fi
        ko=$(find "$root/lib/modules/$kver" -name "$m.ko" | head -n 1)
        [ -n "$ko" ] || { say "$m.ko is not in $kpkg"; exit 1; }
        cp "$ko" "$ir/lib/modules/"
        printf ' %s' "$m"
    done
}
# shellcheck disable=SC2086
load=$(modules_of $MODULES) || exit 1
# shellcheck disable=SC2086
xen_load=$(modules_of $XEN_MODULES) || exit 1
cp "$BULKSEND" "$ir/bin/bulksend"
cp "$HELLO" "$ir/bin/hello"
cat > "$ir/init" <<EOF
#!/bin/sh
# PID 1 of the benchmark's Linux guest (written by bench/linux-guest.sh).
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
for m in$load; do
    insmod /lib/modules/\$m.ko || echo "init: insmod \$m failed"
done
if [ "\$(cat /sys/hypervisor/type 2> /dev/null)" = xen ]; then
    for m in$xen_load; do
        insmod /lib/modules/\$m.ko || echo "init: insmod \$m failed"
    done
fi
if [ -n "\${bench_ip:-}" ]; then
    i=0
    while [ ! -e /sys/class/net/eth0 ] && [ \$i -lt 100 ]; do sleep 0.05; i=\$((i + 1)); done
    ip link set lo up
    ip addr add "\$bench_ip" dev eth0 && ip link set eth0 up || echo "init: eth0 did not come up"
fi
read up idle < /proc/uptime
echo "init: app start uptime=\$up"
"\$@"
rc=\$?
echo "init: app exited with status \$rc"
poweroff -f
EOF
chmod 755 "$ir/init"
# busybox's own cpio where it runs (the host's arch), else the host's cpio
# (deps/debian.txt): the same newc archive.
if "$root/bin/busybox" true 2> /dev/null; then
    pack() { "$root/bin/busybox" cpio -o -H newc 2> /dev/null; }
else
    command -v cpio > /dev/null 2>&1 || { say "cpio is not installed (deps/debian.txt)"; exit 1; }
    pack() { cpio --quiet -o -H newc -R 0:0; }
fi
(cd "$ir" && find . | sort | pack) | gzip -9 > "$CACHE/initramfs.gz.tmp"
mv "$CACHE/initramfs.gz.tmp" "$CACHE/initramfs.gz"
bver=$(dpkg-deb -f "$bdeb" Version)
kdver=$(dpkg-deb -f "$kdeb" Version)
echo "Debian $kpkg $kdver, busybox-static:$DARCH $bver" > "$CACHE/version"
echo "$stamp_in" > "$CACHE/inputs"
say "$(cat "$CACHE/version"): vmlinuz $(wc -c < "$CACHE/vmlinuz") bytes, initramfs.gz $(wc -c < "$CACHE/initramfs.gz") bytes"
echo "$CACHE"
