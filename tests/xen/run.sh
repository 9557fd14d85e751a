#!/bin/sh
# Boots a Tern kernel or image as a PVH guest on the real Xen hypervisor:
# Debian's Xen 4.17 and a Debian dom0 (tests/xen/mkdom0.sh, cached under
# ~/.cache/tern/xen) run under qemu-system-x86_64 -accel tcg, and dom0
# starts the guest with `xl create`.
#
#   tests/xen/run.sh [options] KERNEL.ELF | IMAGE_DIR
#
# IMAGE_DIR is a `tern build` output: kernel.elf, rofs.img, qemu.args (the
# command line, memory, vCPUs and whether rofs.img is an initrd are read
# from it). The guest's files, an xl config and the test script go to dom0
# in a small cpio appended to its initramfs (under /tern).
#
# Options:
#   --append CMDLINE   the guest's command line (replaces the image's)
#   --kernel FILE      the guest's kernel (replaces the image's kernel.elf)
#   --initrd FILE      the guest's ramdisk (xl ramdisk=)
#   --memory MIB       guest memory (default: the image's, else 128)
#   --vcpus N          guest vCPUs (default: the image's, else 1)
#   --vif              give the guest a vif on dom0's bridge xenbr0
#                      (10.0.3.1/24 is dom0's address there)
#   --xl LINE          one more line for the xl config (repeatable)
#   --dom0-script FILE a bash script dom0 runs while the guest runs (it is
#                      sourced after the guest is created, with NAME and
#                      DOMID set; ping/TCP peers)
#   --timeout SEC      how long the guest may run (default 60); the whole
#                      boot gets this plus --boot-timeout
#   --boot-timeout SEC Xen + dom0 boot budget (default 240)
#   --log FILE         write the guest's console there (its last line is
#                      then "tern-exit: status=N" when the guest gave one);
#                      the outer serial log goes to FILE.serial
#   --quiet            do not stream the outer serial to stdout
#
# Exit status: the guest's (from its "tern-exit: status=N" console line);
# 124 when it timed out (dom0 destroyed it) or the whole boot did;
# 125 when it ended without a status or the harness failed (the reason is
# printed); 2 on bad usage.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
me=xen-run

usage() {
    sed -n '/^#   tests/,/^# Exit status/p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}
die() { echo "$me: error: $*" >&2; exit 125; }
bad() { echo "$me: $*" >&2; exit 2; }

append= append_set=0 kernel_opt= initrd= memory= vcpus= vif=0 xl_extra= dom0_script=
timeout=60 boot_timeout=240 log= quiet=0 target=
while [ $# -gt 0 ]; do
    case $1 in
    --append) [ $# -ge 2 ] || bad "--append needs a value"; append=$2 append_set=1; shift ;;
    --kernel) [ $# -ge 2 ] || bad "--kernel needs a file"; kernel_opt=$2; shift ;;
    --initrd) [ $# -ge 2 ] || bad "--initrd needs a file"; initrd=$2; shift ;;
    --memory) [ $# -ge 2 ] || bad "--memory needs MiB"; memory=$2; shift ;;
    --vcpus) [ $# -ge 2 ] || bad "--vcpus needs a number"; vcpus=$2; shift ;;
    --vif) vif=1 ;;
    --xl) [ $# -ge 2 ] || bad "--xl needs a line"; xl_extra="$xl_extra$2
"; shift ;;
    --dom0-script) [ $# -ge 2 ] || bad "--dom0-script needs a file"; dom0_script=$2; shift ;;
    --timeout) [ $# -ge 2 ] || bad "--timeout needs seconds"; timeout=$2; shift ;;
    --boot-timeout) [ $# -ge 2 ] || bad "--boot-timeout needs seconds"; boot_timeout=$2; shift ;;
    --log) [ $# -ge 2 ] || bad "--log needs a file"; log=$2; shift ;;
    --quiet) quiet=1 ;;
    -h|--help) usage ;;
    -*) bad "unknown option $1 (--help lists them)" ;;
    *) [ -z "$target" ] || bad "one kernel or image only ($target, $1)"; target=$1 ;;
    esac
    shift
done
[ -n "$target" ] || usage
for n in "$timeout" "$boot_timeout" ${memory:+"$memory"} ${vcpus:+"$vcpus"}; do
    case $n in ''|*[!0-9]*) bad "'$n' is not a positive number" ;; esac
done

# --- the guest's files ----------------------------------------------------------
rofs_disk=0
if [ -d "$target" ]; then
    kernel=$target/kernel.elf
    [ -f "$kernel" ] || die "$target is not a tern build image (no kernel.elf)"
    args=$target/qemu.args
    [ -f "$args" ] || die "$target has no qemu.args"
    # qemu.args holds one argument per line: the value follows its option.
    arg_after() { awk -v o="$1" 'p { print; exit } $0 == o { p = 1 }' "$args"; }
    [ "$append_set" = 1 ] || append=$(arg_after -append)
    [ -n "$memory" ] || memory=$(arg_after -m | sed 's/[^0-9].*//')
    [ -n "$vcpus" ] || vcpus=$(arg_after -smp | sed 's/[^0-9].*//')
    if [ -z "$initrd" ] && [ -f "$target/rofs.img" ]; then
        if [ "$(arg_after -initrd)" = rofs.img ]; then
            initrd=$target/rofs.img
        else
            rofs_disk=1
        fi
    fi
    grep -q '^-netdev$' "$args" && vif=1
else
    kernel=$target
fi
[ -z "$kernel_opt" ] || kernel=$kernel_opt
[ -f "$kernel" ] || die "no kernel $kernel"
head -c 4 "$kernel" | grep -q 'ELF' || die "$kernel is not an ELF file"
[ -z "$initrd" ] || [ -f "$initrd" ] || die "no initrd $initrd"
[ -z "$dom0_script" ] || [ -f "$dom0_script" ] || die "no dom0 script $dom0_script"
: "${memory:=128}" "${vcpus:=1}"
[ "$memory" -gt 0 ] 2> /dev/null || memory=128
[ "$vcpus" -gt 0 ] 2> /dev/null || vcpus=1

command -v qemu-system-x86_64 > /dev/null 2>&1 || die "qemu-system-x86_64 is missing (apt-get install qemu-system-x86)"
command -v cpio > /dev/null 2>&1 || die "cpio is missing (apt-get install cpio)"

# --- Xen and dom0 (built once, cached) ----------------------------------------
cache=$(sh "$HERE/mkdom0.sh") || die "building Xen's dom0 failed (tests/xen/mkdom0.sh above)"

work=$(mktemp -d "${TMPDIR:-/tmp}/tern-xen.XXXXXX") || die "mktemp failed"
qpid=
cleanup() {
    [ -n "$qpid" ] && kill "$qpid" 2> /dev/null
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$work/tern"
t=$work/tern
cp "$kernel" "$t/kernel.elf"
nm -n "$kernel" 2> /dev/null | awk 'NF == 3' > "$t/kernel.map" || rm -f "$t/kernel.map"
[ -z "$initrd" ] || cp "$initrd" "$t/rofs.img"
[ "$rofs_disk" = 0 ] || cp "$target/rofs.img" "$t/rofs.img"
cp "$HERE/dom0-lib.sh" "$t/lib.sh"
[ -z "$dom0_script" ] || cp "$dom0_script" "$t/dom0-script.sh"

name=tern
# xl's config syntax: strings in double quotes, which the command line must
# not contain.
case $append in *'"'*|*'\'*) die "the guest command line may not contain \" or \\ (xl config)" ;; esac
{
    echo "# generated by tests/xen/run.sh"
    echo "name = \"$name\""
    echo 'type = "pvh"'
    echo 'kernel = "/tern/kernel.elf"'
    [ -z "$initrd" ] || echo 'ramdisk = "/tern/rofs.img"'
    [ "$rofs_disk" = 0 ] || echo "disk = [ 'format=raw,vdev=xvda,access=ro,target=/tern/rofs.img' ]"
    echo "cmdline = \"$append\""
    echo "memory = $memory"
    echo "vcpus = $vcpus"
    [ "$vif" = 0 ] || echo "vif = [ 'bridge=xenbr0,mac=00:16:3e:7e:00:02' ]"
    echo 'on_poweroff = "destroy"'
    echo 'on_reboot = "destroy"'
    # a crashed guest stays, so that its vCPUs can be dumped
    echo 'on_crash = "preserve"'
    printf '%s' "$xl_extra"
} > "$t/guest.cfg"

if [ -n "$dom0_script" ]; then
    # The guest runs in the background while the dom0 script does its part;
    # the script sees NAME (and DOMID once the domain exists).
    cat > "$t/test.sh" <<EOF
# generated by tests/xen/run.sh: run the guest and the dom0 script, report
. /tern/lib.sh
echo "dom0: xl config:"
sed 's/^/xl.cfg| /' /tern/guest.cfg
run_guest /tern/guest.cfg $name $timeout > /tmp/guest.out 2>&1 &
gpid=\$!
NAME=$name
i=0
while [ -z "\$(domid_of $name)" ] && kill -0 \$gpid 2> /dev/null && [ \$i -lt 100 ]; do sleep 0.1; i=\$((i + 1)); done
DOMID=\$(domid_of $name)
( . /tern/dom0-script.sh ) 2>&1 | sed 's/^/dom0-script| /'
wait \$gpid
rc=\$?
cat /tmp/guest.out
exit \$rc
EOF
else
    cat > "$t/test.sh" <<EOF
# generated by tests/xen/run.sh: run the guest, report, exit with its status
. /tern/lib.sh
echo "dom0: xl config:"
sed 's/^/xl.cfg| /' /tern/guest.cfg
run_guest /tern/guest.cfg $name $timeout
EOF
fi

# dom0's initramfs + this run's cpio (the kernel unpacks concatenated
# archives; the zero padding between them is skipped).
(cd "$work" && find tern | cpio -o -H newc --quiet) | gzip -1 > "$work/extra.cpio.gz" ||
    die "cannot make the guest's cpio"
cp "$cache/dom0.cpio.gz" "$work/initrd.gz"
pad=$(( (512 - $(wc -c < "$work/initrd.gz") % 512) % 512 ))
head -c "$pad" /dev/zero >> "$work/initrd.gz"
cat "$work/extra.cpio.gz" >> "$work/initrd.gz"

serial=${log:+$log.serial}
serial=${serial:-$work/serial.log}
: > "$serial" || die "cannot write $serial"

# Xen on TCG: HAP needs +npt (Debian's Xen has no shadow paging); dom0
# gets its entropy from virtio-rng. -no-reboot: a Xen panic/reboot ends
# QEMU instead of looping.
xen_cmdline="console=com1 com1=115200,8n1 dom0_mem=1536M,max:1536M dom0_max_vcpus=2 guest_loglvl=all loglvl=all noreboot=false"
dom0_cmdline="console=hvc0 loglevel=4 random.trust_cpu=on"
limit=$((boot_timeout + timeout))
start=$(date +%s)
qemu-system-x86_64 -accel tcg -cpu qemu64,+svm,+npt -m 3072 -smp 2 \
    -display none -monitor none -serial "file:$serial" -no-reboot \
    -device virtio-rng-pci \
    -kernel "$cache/xen" -append "$xen_cmdline" \
    -initrd "$cache/vmlinuz $dom0_cmdline,$work/initrd.gz" < /dev/null > "$work/qemu.out" 2>&1 &
qpid=$!

# Stream the serial log while waiting for dom0's final line, QEMU's end or
# the time limit.
shown=0
show() {
    [ "$quiet" = 1 ] && return 0
    n=$(wc -l < "$serial")
    if [ "$n" -gt "$shown" ]; then
        sed -n "$((shown + 1)),${n}p" "$serial" | tr -d '\r'
        shown=$n
    fi
}
outcome=
while :; do
    show
    if grep -q '^xen-harness: status=' "$serial"; then
        outcome=done; break
    fi
    if ! kill -0 "$qpid" 2> /dev/null; then
        outcome=qemu-exited; break
    fi
    if [ $(($(date +%s) - start)) -ge "$limit" ]; then
        outcome=timeout; break
    fi
    sleep 0.5
done
sleep 0.3
show
kill "$qpid" 2> /dev/null
wait "$qpid" 2> /dev/null
qpid=
elapsed=$(($(date +%s) - start))

clean=$work/serial.clean
tr -d '\r' < "$serial" > "$clean"
# The guest's console as dom0 printed it, and its verdict line.
sed -n '/^guest| /s/^guest| //p' "$clean" > "$work/guest.log"
verdict=$(grep '^xen-guest: ' "$clean" | tail -n 1)
if [ -n "$log" ]; then
    cp "$work/guest.log" "$log" || die "cannot write $log"
fi

case $outcome in
timeout)
    echo "$me: the whole boot took more than ${limit}s: stopped QEMU (serial log: ${log:+$serial})" >&2
    tail -n 20 "$clean" | sed 's/^/    | /' >&2
    exit 124 ;;
qemu-exited)
    echo "$me: QEMU ended before dom0 reported (after ${elapsed}s):" >&2
    sed 's/^/    qemu| /' "$work/qemu.out" >&2
    tail -n 20 "$clean" | sed 's/^/    | /' >&2
    exit 125 ;;
esac
[ -n "$verdict" ] || {
    echo "$me: dom0 ran no guest: $(grep '^xen-harness: ' "$clean" | tail -n 1)" >&2
    grep '^dom0: ' "$clean" | tail -n 10 | sed 's/^/    | /' >&2
    exit 125
}
echo "$me: $verdict (${elapsed}s in all)"
case $verdict in
*result=exited*)
    status=$(echo "$verdict" | sed -n 's/.* status=\(-\{0,1\}[0-9]*\).*/\1/p')
    exit "$status" ;;
*result=timeout*)
    echo "$me: the guest did not finish within ${timeout}s; dom0 destroyed it" >&2
    exit 124 ;;
*)
    # What Xen itself said about the guest: its port-0xe9 output and the
    # hypervisor's messages about domain 1.
    echo "$me: the guest gave no status; Xen's lines about it:" >&2
    grep -E '^\(d[1-9]|^\(XEN\).*d[1-9]' "$clean" | tail -n 20 | sed 's/^/    | /' >&2
    exit 125 ;;
esac
