# shellcheck shell=bash
# dom0 script for xen:tern_run_in_dom0 (tests/xen/check.sh; run.sh
# --dom0-script: sourced by bash with NAME, DOMID and GDIR set): `tern run`
# of a Xen image on a real dom0, as a user there runs it. $GDIR holds tern,
# the libraries it links that dom0's packages lack (libyaml, libfdt), and
# image.tar, a tern build output (hello/: kernel.elf, rofs.img, xl.cfg).
# tern finds /proc/xen/capabilities with control_d, runs `xl create -c`
# with the image's xl.cfg (its paths follow the image to where it now is),
# gives the app's output (framed in the console: stdio=framed) to its
# stdout, the kernel's lines to the image's console.log, and exits with
# the app's status; then the same with --via virsh.
img=/tmp/tern-in-dom0
rm -rf "$img"
mkdir -p "$img"
tar -xf "$GDIR/image.tar" -C "$img"
# A domain the nested CPU's emulation killed (a triple fault Xen logs,
# tests/xen/README.md) gets one more run, as check.sh gives its guests.
faults() { "$XL" dmesg 2> /dev/null | grep -c 'Triple fault'; }
for try in 1 2; do
    before=$(faults)
    LD_LIBRARY_PATH=$GDIR "$GDIR/tern" run "$img/hello" --timeout 120 \
        > /tmp/tern-in-dom0.out 2> /tmp/tern-in-dom0.err
    rc=$?
    if [ "$rc" = 5 ] || [ "$try" = 2 ] || [ "$(faults)" -le "$before" ]; then
        break
    fi
    echo "tern run exited $rc after a triple fault in Xen's log: once more"
done
sed 's/^/tern-stdout| /' /tmp/tern-in-dom0.out
sed 's/^/tern-stderr| /' /tmp/tern-in-dom0.err
# stdout is the app's alone, byte for byte as hello writes it; the
# kernel's lines are in console.log
want=$(printf 'argv[0]=/bin/hello\nargv[1]=Hello, Xen\nargv[2]=--exit\nargv[3]=5\nGREETING=hello')
if [ "$(cat /tmp/tern-in-dom0.out)" = "$want" ]; then
    echo "tern stdout: the app's output only"
fi
if grep -q '^tern-exit: status=5' "$img/hello/console.log" && grep -q '\] Tern ' "$img/hello/console.log" &&
    ! grep -q 'argv\[' "$img/hello/console.log"; then
    echo "console.log: the kernel's lines only"
fi
echo "tern run exited $rc"

# The same through libvirt's Xen driver: tern run --via virsh
# (xen:///system), framed the same way.
if start_libvirtd; then
    LD_LIBRARY_PATH=$GDIR "$GDIR/tern" run --via virsh "$img/hello" --timeout 120 \
        > /tmp/tern-virsh.out 2> /tmp/tern-virsh.err
    rc=$?
    sed 's/^/tern-virsh-stdout| /' /tmp/tern-virsh.out
    sed 's/^/tern-virsh-stderr| /' /tmp/tern-virsh.err
    if [ "$(cat /tmp/tern-virsh.out)" = "$want" ]; then
        echo "tern --via virsh stdout: the app's output only"
    fi
    echo "tern run --via virsh exited $rc"
fi
