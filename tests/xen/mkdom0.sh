#!/bin/sh
# Builds the Xen test harness's host side from Debian packages, once, into
# ~/.cache/tern/xen/ (never into the repository):
#
#   xen             Debian's xen-hypervisor-4.17-amd64 xen.gz, gunzipped
#                   (QEMU's multiboot loader wants an uncompressed ELF)
#   vmlinuz         dom0's kernel: the package linux-image-amd64 depends on
#   dom0.cpio.gz    dom0's initramfs: a Debian bookworm minbase root
#                   (debootstrap, then apt-get install in the chroot with
#                   the host's apt sources, so the versions match the
#                   hypervisor's) with xen-utils-4.17, xenstore-utils,
#                   iproute2, busybox, kmod, libvirt (daemon, Xen driver,
#                   clients), the kernel's modules the harness loads (with
#                   their dependencies, depmod -b), and tests/xen/dom0-init
#                   as /init
#   version         one line naming every package version above
#
# The root is keyed on the package versions (rootfs.key): it is rebuilt only
# when apt-cache reports a new candidate for one of them. The initramfs is
# rebuilt when the root, the kernel or dom0-init change. Offline (apt-cache
# knows nothing) a complete cache is reused as it is.
#
#   sh tests/xen/mkdom0.sh        prints the cache directory on stdout
#
# Needs root (debootstrap, chroot, mknod) and Debian's mirror.
set -eu
# depmod, chroot and debootstrap live in sbin, which a user PATH may lack
PATH=$PATH:/usr/sbin:/sbin
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${TERN_CACHE:-$HOME/.cache/tern}/xen
MIRROR=${TERN_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm
# What dom0 runs: the toolstack, the xenstore client tools, bridge and
# netem (tc), busybox for the small tools, libvirt's Xen driver and virsh.
DOM0_PACKAGES="xen-utils-4.17 xenstore-utils iproute2 busybox kmod iputils-ping procps
 libvirt-daemon libvirt-daemon-driver-xen libvirt-clients"
# Kernel modules /init loads (the rest of the dependency closure comes with
# them): the Xen dom0 devices and backends, the bridge, tun, netem, loop
# (blkback on a file), virtio-rng (entropy from the outer QEMU).
DOM0_MODULES="xen-evtchn xen-gntdev xen-gntalloc xen-privcmd xenfs xen-netback
 xen-blkback bridge tun sch_netem loop virtio_pci virtio-rng"

say() { echo "mkdom0: $*" >&2; }
die() { say "error: $*"; exit 1; }

# The fast path: apt's lists and these scripts are as they were at the last
# complete build, so no candidate version can have changed (apt-cache costs
# seconds per call on a loaded machine).
fast_key="$(ls -l --time-style=+%s /var/lib/apt/lists/ 2> /dev/null | cksum) $(cksum < "$HERE/dom0-init") $(cksum < "$0")"
if [ "$(cat "$CACHE/fast.key" 2> /dev/null)" = "$fast_key" ] && [ -f "$CACHE/dom0.cpio.gz" ] &&
    [ -f "$CACHE/xen" ] && [ -f "$CACHE/vmlinuz" ]; then
    echo "$CACHE"
    exit 0
fi

# Building needs root; using a complete cache (above) does not.
[ "$(id -u)" = 0 ] || die "building $CACHE needs root (debootstrap, chroot)"
for t in debootstrap apt-get apt-cache dpkg-deb gzip chroot depmod cpio; do
    command -v $t > /dev/null 2>&1 || die "$t is missing (./configure --install-deps installs the harness's packages)"
done
mkdir -p "$CACHE/debs"

candidate() {   # PACKAGE: apt-cache's candidate version, or nothing
    apt-cache policy "$1" 2> /dev/null | sed -n 's/^ *Candidate: \([^(].*\)$/\1/p' | head -n 1
}
kernel_package() {
    apt-cache depends linux-image-amd64 2> /dev/null |
        sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n 1
}

# --- the versions this build is keyed on -------------------------------------
kpkg=$(kernel_package)
if [ -z "$kpkg" ] || [ -z "$(candidate xen-hypervisor-4.17-amd64)" ]; then
    apt-get update > /dev/null 2>&1 || true
    kpkg=$(kernel_package)
fi
if [ -n "$kpkg" ] && [ -n "$(candidate xen-hypervisor-4.17-amd64)" ]; then
    key="$kpkg=$(candidate "$kpkg")"
    for p in xen-hypervisor-4.17-amd64 xen-utils-4.17 libvirt-daemon-driver-xen busybox; do
        key="$key $p=$(candidate "$p")"
    done
    key="$key packages: $(echo $DOM0_PACKAGES) modules: $(echo $DOM0_MODULES)"
    offline=0
elif [ -s "$CACHE/rootfs.key" ] && [ -f "$CACHE/xen" ] && [ -f "$CACHE/vmlinuz" ]; then
    say "apt-cache knows no candidates (offline?): reusing $CACHE as it is"
    key=$(cat "$CACHE/rootfs.key")
    offline=1
else
    die "apt-cache knows neither linux-image-amd64 nor xen-hypervisor-4.17-amd64 and nothing is cached"
fi

fetch() {   # PACKAGE: its .deb (the candidate) in $CACHE/debs, downloaded once
    v=$(candidate "$1" | sed 's/^[0-9]*://')
    f=$(ls "$CACHE/debs/$1_$(echo "$v" | sed 's/+/%2b/g;')"_*.deb "$CACHE/debs/$1_${v}"_*.deb 2> /dev/null | head -n 1)
    if [ -z "$f" ] && [ "$offline" = 1 ]; then
        f=$(ls "$CACHE/debs/$1"_*.deb 2> /dev/null | head -n 1)
    fi
    if [ -z "$f" ]; then
        say "downloading $1 $v"
        # apt's sandbox user cannot write into root's home: download in a
        # directory it can, then move.
        t=$(mktemp -d)
        chmod 777 "$t"
        (cd "$t" && apt-get download "$1" > /dev/null 2>&1) ||
            { rm -rf "$t"; die "cannot download $1 (apt-get download)"; }
        rm -f "$CACHE/debs/$1"_*.deb
        mv "$t"/*.deb "$CACHE/debs/"
        rm -rf "$t"
        f=$(ls "$CACHE/debs/$1"_*.deb | head -n 1)
    fi
    echo "$f"
}

# --- the hypervisor and dom0's kernel -----------------------------------------
if [ "$offline" = 0 ]; then
    hdeb=$(fetch xen-hypervisor-4.17-amd64)
    kdeb=$(fetch "$kpkg")
    if [ "$(cat "$CACHE/kernel.key" 2> /dev/null)" != "$hdeb $kdeb" ] ||
        [ ! -f "$CACHE/xen" ] || [ ! -d "$CACHE/modules" ]; then
        say "unpacking $(basename "$hdeb") and $(basename "$kdeb")"
        t=$CACHE/unpack.tmp
        rm -rf "$t" "$CACHE/modules"
        mkdir -p "$t"
        dpkg-deb -x "$hdeb" "$t"
        xgz=$(ls "$t"/boot/xen-4.17*.gz 2> /dev/null | head -n 1)
        [ -n "$xgz" ] || die "no /boot/xen-4.17*.gz in $(basename "$hdeb")"
        gzip -dc "$xgz" > "$CACHE/xen.tmp" && mv "$CACHE/xen.tmp" "$CACHE/xen"
        dpkg-deb -x "$kdeb" "$t"
        kver=$(ls "$t/lib/modules" | head -n 1)
        cp "$t/boot/vmlinuz-$kver" "$CACHE/vmlinuz"
        cp "$t/boot/config-$kver" "$CACHE/config"
        # The whole module tree stays in the cache (depmod'ed) so that the
        # initramfs can take any module's closure without a new unpack.
        mkdir -p "$CACHE/modules/lib/modules"
        mv "$t/lib/modules/$kver" "$CACHE/modules/lib/modules/"
        depmod -b "$CACHE/modules" "$kver"
        rm -rf "$t"
        echo "$hdeb $kdeb" > "$CACHE/kernel.key"
    fi
fi
kver=$(ls "$CACHE/modules/lib/modules" | head -n 1)

# --- dom0's root ---------------------------------------------------------------
root=$CACHE/rootfs
if [ "$(cat "$CACHE/rootfs.key" 2> /dev/null)" != "$key" ] || [ ! -x "$root/usr/sbin/xl" ]; then
    say "debootstrap $SUITE minbase into $root (a few minutes)"
    rm -rf "$root" "$CACHE/rootfs.key"
    mkdir -p "$CACHE/debootstrap-cache"
    debootstrap --variant=minbase --cache-dir="$CACHE/debootstrap-cache" \
        "$SUITE" "$root" "$MIRROR" > "$CACHE/debootstrap.log" 2>&1 ||
        die "debootstrap failed (log: $CACHE/debootstrap.log)"
    # The host's sources (bookworm, -updates, -security): the chroot's
    # xen-utils is then the same version as the hypervisor fetched above.
    rm -f "$root/etc/apt/sources.list"
    cat > "$root/etc/apt/sources.list" <<EOF
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb http://deb.debian.org/debian-security $SUITE-security main
EOF
    # No daemon may start inside the chroot during the install.
    printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
    chmod 755 "$root/usr/sbin/policy-rc.d"
    mount -t proc proc "$root/proc"
    # shellcheck disable=SC2086
    if ! { chroot "$root" apt-get update -q &&
        DEBIAN_FRONTEND=noninteractive chroot "$root" apt-get install -y -q \
            --no-install-recommends $DOM0_PACKAGES; } >> "$CACHE/debootstrap.log" 2>&1; then
        umount "$root/proc"
        die "apt-get install in the chroot failed (log: $CACHE/debootstrap.log)"
    fi
    umount "$root/proc"
    chroot "$root" apt-get clean
    rm -f "$root/usr/sbin/policy-rc.d"
    echo "$key" > "$CACHE/rootfs.key"
fi

# --- the initramfs -----------------------------------------------------------
stamp="$key $(cat "$CACHE/kernel.key" 2> /dev/null) $(cksum < "$HERE/dom0-init") $(cksum < "$0")"
if [ -f "$CACHE/dom0.cpio.gz" ] && [ "$(cat "$CACHE/initramfs.key" 2> /dev/null)" = "$stamp" ]; then
    echo "$fast_key" > "$CACHE/fast.key"
    echo "$CACHE"
    exit 0
fi
say "building dom0.cpio.gz"
ir=$CACHE/initramfs
rm -rf "$ir"
# A copy without what dom0 never reads: docs, man pages, locales, apt's
# and dpkg's state, udev's hardware database, python (only pygrub and
# other tools the harness does not run use it), the HVM loader and PV shim.
# It is unpacked into dom0's RAM at every boot.
mkdir -p "$ir"
(cd "$root" && tar cf - --exclude=./proc/* --exclude=./sys/* --exclude=./dev/* \
    --exclude=./usr/share/doc --exclude=./usr/share/man --exclude=./usr/share/info \
    --exclude=./usr/share/locale --exclude=./usr/share/i18n --exclude=./usr/share/zoneinfo \
    --exclude=./var/lib/apt --exclude=./var/cache --exclude=./var/lib/dpkg \
    --exclude=./usr/lib/x86_64-linux-gnu/gconv --exclude=./usr/share/perl \
    --exclude=./usr/lib/udev/hwdb.bin --exclude=./usr/lib/udev/hwdb.d \
    --exclude='./usr/lib/python3*' --exclude='./usr/bin/python3*' \
    --exclude=./usr/lib/xen-4.17/boot --exclude=./boot .) | (cd "$ir" && tar xf -)

# The modules and their closure, from modules.dep (depmod above).
dep=$CACHE/modules/lib/modules/$kver/modules.dep
want=
for m in $DOM0_MODULES; do
    n=$(echo "$m" | tr '-' '_')
    line=$(grep -E "(^|/)($m|$n)\.ko(\.xz)?:" "$dep" | head -n 1) || true
    if [ -z "$line" ]; then
        sym=CONFIG_$(echo "$n" | tr 'a-z' 'A-Z')
        # built in: nothing to load
        grep -q "^$sym=y" "$CACHE/config" 2> /dev/null && continue
        grep -Eq "/($m|$n)\.ko" "$CACHE/modules/lib/modules/$kver/modules.builtin" 2> /dev/null && continue
        die "module $m is neither in $kpkg's modules.dep nor built in"
    fi
    want="$want $(echo "$line" | tr -d ':')"
done
mkdir -p "$ir/lib/modules/$kver"
for f in $(echo $want | tr ' ' '\n' | sort -u); do
    mkdir -p "$ir/lib/modules/$kver/$(dirname "$f")"
    cp "$CACHE/modules/lib/modules/$kver/$f" "$ir/lib/modules/$kver/$f"
done
cp "$CACHE/modules/lib/modules/$kver"/modules.builtin* "$CACHE/modules/lib/modules/$kver"/modules.order \
    "$ir/lib/modules/$kver/" 2> /dev/null || true
depmod -b "$ir" "$kver"

mkdir -p "$ir/proc" "$ir/sys" "$ir/dev" "$ir/run" "$ir/tmp" "$ir/tern" "$ir/var/log/xen/console" "$ir/var/run/xen"
mknod -m 600 "$ir/dev/console" c 5 1 2> /dev/null || true
mknod -m 666 "$ir/dev/null" c 1 3 2> /dev/null || true
cp "$HERE/dom0-init" "$ir/init"
chmod 755 "$ir/init"
(cd "$ir" && find . | sort | cpio -o -H newc --quiet) | gzip -1 > "$CACHE/dom0.cpio.gz.tmp"
mv "$CACHE/dom0.cpio.gz.tmp" "$CACHE/dom0.cpio.gz"
rm -rf "$ir"
echo "Xen $(candidate xen-hypervisor-4.17-amd64 || true), dom0 $kpkg; $key" | cut -c1-400 > "$CACHE/version"
echo "$stamp" > "$CACHE/initramfs.key"
echo "$fast_key" > "$CACHE/fast.key"
say "dom0.cpio.gz $(wc -c < "$CACHE/dom0.cpio.gz") bytes"
echo "$CACHE"
