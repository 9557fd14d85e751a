# Tool tests for Xen images (image/xen.c, the x86_64/xen row): what tern
# build writes (xl.cfg, a libvirt <domain type='xen'> that libvirt's own
# schema accepts), and tern run of a Xen image: xl create -c on a dom0
# (here a stand-in xl on PATH that behaves like one), refusals, and the
# message when neither a dom0 nor the harness is there. No guest boots
# (the boot through the harness is tests/xen/check.sh's xen:tern_run_hello):
# about 1 s in all.
# Xen images are x86_64 ones: the set-up builds with the configured
# kernel, so it runs only for an x86_64 configuration and when TESTS
# selects one of the cases.
if [ "$GUEST_ARCH" = x86_64 ] && tool_file_wanted tests/tool/xen_image.sh; then
XD=$LOG_DIR/xen_image
rm -rf "$XD"
mkdir -p "$XD/bin"
apps=$(cd out/apps && pwd)   # make check builds the apps first
xen_manifest() {   # NAME EXTRA-YAML: a platform: xen manifest for hello
    printf 'name: %s\nplatform: xen\nmemory: 48M\ncpus: 2\ncmdline: [/bin/hello, "a \\\\ b"]\nfiles:\n  /bin/hello: %s\n%s' \
        "$1" "$apps/hello" "$2" > "$XD/$1.yaml"
}
xen_manifest xnet 'network: user
'
xen_manifest xblk 'disk: virtio-blk
network:
  mode: bridge
  bridge: br-tern7
'
# The stand-in xl: "info" works (so this is a dom0), "create -c" wants a
# terminal like xenconsole, prints a console with an exit line.
cat > "$XD/bin/xl" <<'XL'
#!/bin/sh
echo "xl $*" >> "${FAKE_XL_LOG:-/dev/null}"
case $1 in
info|destroy) exit 0 ;;
create)
    [ "$2" = -c ] && [ -t 0 ] || { echo "xl: create -c needs a terminal" >&2; exit 4; }
    grep '^kernel = ' "$3" >> "${FAKE_XL_LOG:-/dev/null}"
    echo "Parsing config from $3"
    # the app's output, framed as stdio=framed has the kernel write it
    # (kern/stdio_frame.h; "hi from the app\n"), with the console's CR LF
    printf '[    0.1] app: /bin/hello\r\n\033_tern1;aGkgZnJvbSB0aGUgYXBwCg==\033\\\r\n'
    echo "tern-exit: status=${FAKE_XL_STATUS:-0}"
    exit 0 ;;
esac
exit 1
XL
chmod +x "$XD/bin/xl"

# Built once for the cases below (any PVH kernel will do: none boots).
for x in xnet xblk; do
    "$TERN" build "$XD/$x.yaml" --kernel "$KERNEL" -o "$XD/$x" > "$XD/$x.build" 2>&1
done
tool_case xen_build_files 0 '^domain\.xml kernel\.elf rofs\.img xl\.cfg :tern: built .*/xnet: kernel\.elf .*, domain\.xml, xl\.cfg$' -- \
    sh -c 'echo $(ls "$1/xnet") ":$(cat "$1/xnet.build")"' sh "$XD"
# Every line of xl.cfg, paths absolute; the backslash in the argument is
# escaped for xl's parser.
tool_case xen_xl_cfg 0 '^ok$' -- sh -c '
    d=$(cd "$1/xnet" && pwd)
    cat > "$1/xnet.want" <<W
# Xen domain config written by tern build: xl create -c xl.cfg
name = "xnet"
type = "pvh"
kernel = "$d/kernel.elf"
ramdisk = "$d/rofs.img"
cmdline = "-- /bin/hello \"a \\\\ b\""
memory = 48
vcpus = 2
vif = [ '"'"'bridge=xenbr0,mac=52:54:00:3c:49:ba'"'"' ]
on_poweroff = "destroy"
on_reboot = "destroy"
on_crash = "preserve"
W
    diff "$1/xnet.want" "$1/xnet/xl.cfg" && echo ok' sh "$XD"
tool_case xen_domain_xml 0 "^<domain type='xen'> <type arch='x86_64' machine='xenpvh'>xenpvh</type> <initrd>/.*/xnet/rofs\\.img</initrd> <source bridge='xenbr0'/> <target type='xen' port='0'/> $" -- \
    sh -c 'for re in "^<domain type=" "<type arch=" "<initrd>" "<source bridge=" "<target type="; do
               grep -o -m1 "$re.*" "$1"; done | tr "\n" " "; ! grep -E "virtio|<serial|qemu" "$1"' \
    sh "$XD/xnet/domain.xml"
if command -v virt-xml-validate > /dev/null; then
    tool_case xen_domain_xml_validates 0 'validates$' -- virt-xml-validate "$XD/xnet/domain.xml" domain
    tool_case xen_blk_domain_validates 0 'validates$' -- \
        virt-xml-validate "$XD/xblk/domain.xml" domain
else
    selected tool:xen_domain_xml_validates && skip tool:xen_domain_xml_validates "no virt-xml-validate (libvirt-clients)"
fi
# virtio-blk is xvda (blkfront) on Xen; a bridge network names its bridge.
tool_case xen_blk_bridge 0 "^disk = \\[ 'format=raw,vdev=xvda,access=ro,target=/.*/xblk/rofs\\.img' \\] vif = \\[ 'bridge=br-tern7,mac=[0-9a-f:]+' \\] <target dev='xvda' bus='xen'/> <source bridge='br-tern7'/> $" -- \
    sh -c '{ grep -E "^(disk|vif) =" "$2/xblk/xl.cfg"; grep -oE "<target dev=.*|<source bridge=.*" "$2/xblk/domain.xml"; } | tr "\n" " "' \
    sh "$TERN" "$XD" "$KERNEL"

# tern run on a dom0: xl create -c on a terminal, the status from the
# console, xl.cfg followed to a moved image.
cp -r "$XD/xnet" "$XD/moved"
tool_case xen_run_dom0_xl 7 "^tern: .*xl\\.cfg rewritten for /.*/moved
.*xl create -c /.*/moved/xl\\.cfg name=\"moved-tern[0-9]+\" cmdline=\"stdio=framed -- /bin/hello \\\\\"a \\\\\\\\\\\\ b\\\\\"\"
kernel = \"/.*/moved/kernel\\.elf\"
.*guest exit status 7" -- \
    sh -c 'PATH="$2/bin:$PATH" FAKE_XL_STATUS=7 FAKE_XL_LOG="$2/xl.log" "$1" run "$2/moved" 2>&1; rc=$?
           cat "$2/xl.log"; grep -q "^tern-exit: status=7" "$2/moved/console.log" || rc=99; exit $rc' \
    sh "$TERN" "$XD"
# The app's output framed in the console: tern's stdout is the app's
# alone, console.log the kernel's lines.
tool_case xen_run_framed_stdout 0 "^stdout=hi from the app console=ok$" -- \
    sh -c 'out=$(PATH="$2/bin:$PATH" "$1" run "$2/xnet" 2> /dev/null) || exit 9
           c=bad; grep -q "app: /bin/hello" "$2/xnet/console.log" && ! grep -q "hi from" "$2/xnet/console.log" && c=ok
           echo "stdout=$out console=$c"' sh "$TERN" "$XD"
# --platform: a kvm manifest built for Xen; bad names and image
# directories refused.
printf 'name: plat\ncmdline: [/bin/hello]\nfiles:\n  /bin/hello: %s\n' "$apps/hello" > "$XD/plat.yaml"
tool_case xen_build_platform_option 0 "^xl\\.cfg type = \"pvh\"$" -- \
    sh -c '"$1" build "$2/plat.yaml" --platform xen --kernel "$3" -o "$2/plat" -q &&
           echo $(ls "$2/plat" | grep xl) $(grep "^type" "$2/plat/xl.cfg")' sh "$TERN" "$XD" "$KERNEL"
tool_case xen_build_platform_unknown 2 "^tern: error: --platform pv: not one of: kvm, xen$" -- \
    "$TERN" build "$XD/plat.yaml" --platform pv -o "$XD/plat-bad"
tool_case xen_run_platform_not_for_a_directory 2 "^tern: error: --platform: only for a manifest \\(image '.*xnet' was built for its platform" -- \
    "$TERN" run "$XD/xnet" --platform xen

# Refusals: what only QEMU runs can do, libvirt off a dom0, and no dom0
# and no harness.
tool_case xen_run_refuses_detach 2 "^tern: error: -d: not for a Xen image" -- \
    "$TERN" run "$XD/xnet" -d
tool_case xen_run_refuses_publish 2 "^tern: error: -p: not for a Xen image" -- \
    "$TERN" run "$XD/xnet" -p 8080:80
tool_case xen_virsh_not_dom0 2 "^tern: error: --via virsh: image '.*xnet' is a Xen image, which libvirt boots through xen:///system on a Xen dom0; this host is not one" -- \
    env PATH=/usr/bin:/bin "$TERN" run "$XD/xnet" --via virsh
tool_case xen_run_no_dom0_no_harness 125 "^tern: error: this host is not a Xen dom0, and there is no tests/xen/run\\.sh beside this tern" -- \
    env PATH=/usr/bin:/bin TERN_XEN_HARNESS=/nonexistent/run.sh "$TERN" run "$XD/xnet"
fi
