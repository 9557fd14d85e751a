# aarch64 images through libvirt (only for an aarch64 build; TCG, as
# libvirt's domain type 'qemu'). tern build writes domain.xml for the virt
# board: the CPU model, the GIC version, direct kernel boot, the PL011 as
# the serial console, virtio (on PCIe, each device behind a root port) and
# the app's stdout/stderr on virtio-serial channels to files.
#
#   tool:a64_virsh_xml   domain.xml has the aarch64 elements and, when
#                        virt-xml-validate is installed, passes libvirt's
#                        schema (<1 s)
#   tool:a64_virsh_no_channels  a domain.xml without the stdio channels
#                        (hand-edited, or older) is refused by tern run
#                        --via virsh with the fix, before libvirt (<1 s)
#   a64_virsh_create     plain `virsh create DIR/domain.xml`: the domain
#                        boots, powers off by PSCI (and disappears), the
#                        console log ends with the app's status 3 and the
#                        app's stdout is in DIR/stdout.log (~4 s)
#   a64_virsh_run        tern run --via virsh: the status reaches the
#                        shell, tern's stdout is exactly the app's, the
#                        kernel log is in console.log and --log (~4 s)
#   a64_virsh_stdout     the app's stdout and stderr through the
#                        virtio-serial ports, not the console: the kernel
#                        names the ports, the console has none of the app's
#                        lines, stderr.log and tern's stderr have its error
#                        (~4 s)
#   a64_virsh_net        ktest=net_smoke on libvirt's <interface
#                        type='user'>: virtio-net behind a root port, ARP,
#                        ping, a 600-frame burst, 2 vCPUs (~8 s)
#   a64_virsh_kvm_built  an image built with --accel kvm (type 'kvm',
#                        host-passthrough CPU) runs under TCG: --via virsh
#                        rewrites the domain type and the <cpu> (~4 s)
#   a64_virsh_blk        the ROFS on libvirt's virtio <disk> (virtio-blk on
#                        PCIe) (~4 s)
# About 30 s in all. Skipped where libvirt cannot run (virsh_why, set by
# build.sh, which sorts before this file).
if [ "${ARCH:-x86_64}" = aarch64 ]; then
a64_virsh_tests() {
    AV=$(cd "$LOG_DIR" && pwd)/a64virsh
    rm -rf "$AV"
    mkdir -p "$AV"
    cases="a64_virsh_create a64_virsh_run a64_virsh_stdout a64_virsh_net a64_virsh_blk
        a64_virsh_kvm_built"
    want_any=
    for c in tool:a64_virsh_xml tool:a64_virsh_no_channels $cases; do
        case $c in tool:*) ;; *) c=guest:$c ;; esac
        selected "$c" && want_any=1
    done
    [ -n "$want_any" ] || return 0

    "$TERN" cc --arch=aarch64 -O2 -o "$AV/hello" apps/hello.c > "$AV/cc.log" 2>&1
    av_manifest() {   # NAME CMDLINE [EXTRA-LINES]
        printf 'name: %s\narch: aarch64\nplatform: kvm\nmemory: 128M\ncpus: 1\ncmdline: %s\nfiles:\n  /bin/hello: hello\n%s' \
            "$1" "$2" "${3:-}" > "$AV/$1.yaml"
    }
    av_manifest a64v-hello$$ '[/bin/hello, "Hello, world", --exit, "3"]'
    av_manifest a64v-err '[/bin/hello, --exit, x]'
    # No --accel: tern build must choose tcg for aarch64 on this host.
    "$TERN" build "$AV/a64v-hello$$.yaml" -o "$AV/hello-img" --kernel "$KERNEL" -q \
        > "$AV/build.log" 2>&1 || fail tool:a64_virsh_xml "tern build failed"

    if selected tool:a64_virsh_xml; then
        x=$AV/hello-img/domain.xml why=
        for re in "^<domain type='qemu'>" "<type arch='aarch64' machine='virt'>hvm</type>" \
                "<kernel>$AV/hello-img/kernel.img</kernel>" "<initrd>$AV/hello-img/rofs.img</initrd>" \
                "<gic version='2'/>" "<model fallback='forbid'>cortex-a72</model>" \
                "<model name='pl011'/>" "<target type='virtio' name='tern.stdout'/>" \
                "<target type='virtio' name='tern.stderr'/>" \
                "<source path='$AV/hello-img/stdout.log' append='off'/>"; do
            grep -qF -- "${re#^}" "$x" || { why="domain.xml lacks $re"; break; }
        done
        if [ -z "$why" ] && command -v virt-xml-validate > /dev/null 2>&1 &&
                ! virt-xml-validate "$x" domain > "$AV/validate.log" 2>&1; then
            why="virt-xml-validate: $(tail -1 "$AV/validate.log")"
        fi
        if [ -n "$why" ]; then fail tool:a64_virsh_xml "$why"; else pass tool:a64_virsh_xml; fi
    fi

    # The check comes before libvirt is reached: no skip needed.
    if selected tool:a64_virsh_no_channels; then
        cp -a "$AV/hello-img" "$AV/nochan-img"
        sed -i '/<channel /,/<\/channel>/d' "$AV/nochan-img/domain.xml"
        tool_case a64_virsh_no_channels 125 "no <channel> for the app's tern\.stdout .*rebuild the image with tern build" -- \
            "$TERN" run "$AV/nochan-img" --via virsh --timeout 30
    fi

    if [ -n "$virsh_why" ]; then
        for c in $cases; do
            selected "guest:$c" && skip "guest:$c" "$virsh_why"
        done
        return 0
    fi

    # Plain virsh create: nothing of tern's at run time. tern run starts
    # libvirtd when needed; so does this case, once, as root (the x86
    # tests' way: virtlogd -d; libvirtd -d).
    if selected guest:a64_virsh_create; then
        why=
        if ! virsh -c qemu:///system version > /dev/null 2>&1; then
            virtlogd -d > /dev/null 2>&1
            libvirtd -d > /dev/null 2>&1
            i=0
            while ! virsh -c qemu:///system version > /dev/null 2>&1 && [ "$i" -lt 100 ]; do
                sleep 0.2
                i=$((i + 1))
            done
        fi
        d=$AV/hello-img n=a64v-hello$$
        if ! virsh -c qemu:///system create "$d/domain.xml" > "$AV/create.log" 2>&1; then
            why="virsh create failed: $(grep error "$AV/create.log" | tail -1)"
        else
            i=0
            while virsh -c qemu:///system domid "$n" > /dev/null 2>&1; do
                i=$((i + 1))
                if [ "$i" -gt 300 ]; then
                    virsh -c qemu:///system destroy "$n" > /dev/null 2>&1
                    why="the domain was still running after 60 s"
                    break
                fi
                sleep 0.2
            done
            if [ -z "$why" ] && [ "$(tail -n 1 "$d/console.log" | tr -d '\r')" != "tern-exit: status=3" ]; then
                why="console.log does not end with 'tern-exit: status=3'"
            elif [ -z "$why" ] && ! grep -q '^argv\[1\]=Hello, world$' "$d/stdout.log"; then
                why="stdout.log lacks the app's argv[1]"
            fi
        fi
        if [ -n "$why" ]; then
            fail guest:a64_virsh_create "$why"
            tr -d '\r' 2>/dev/null < "$d/console.log" | sed 's/^/    | /' | tail -5
        else
            pass guest:a64_virsh_create
        fi
    fi

    # tern run --via virsh: status, stdout, logs.
    if selected guest:a64_virsh_run; then
        log=$AV/run.log
        "$TERN" run "$AV/hello-img" --via virsh --timeout 120 --log "$log" \
            > "$AV/run.out" 2> "$AV/run.err"
        rc=$?
        printf 'argv[0]=/bin/hello\nargv[1]=Hello, world\nargv[2]=--exit\nargv[3]=3\nGREETING=(unset)\n' \
            > "$AV/run.want"
        if [ "$rc" -ne 3 ]; then
            fail guest:a64_virsh_run "exit status $rc, expected 3"
            sed 's/^/    | /' "$AV/run.err" | tail -5
        elif ! cmp -s "$AV/run.out" "$AV/run.want"; then
            fail guest:a64_virsh_run "tern's stdout is not exactly the app's"
            diff "$AV/run.want" "$AV/run.out" | sed 's/^/    | /' | head -10
        elif ! grep -q "through libvirt" "$AV/run.err"; then
            fail guest:a64_virsh_run "tern did not boot through libvirt"
        else
            judge_boot guest:a64_virsh_run 3 "$rc" "$log" \
                'gic: GICv2' 'cpu: Arm part 0xd08 ' 'app: exited with status 3' \
                '^argv\[1\]=Hello, world$'
        fi
    fi

    # The app's stdio apart from the console: without the channels the
    # app's lines would be on the console (virtio_console.c's fallback).
    if selected guest:a64_virsh_stdout; then
        "$TERN" build "$AV/a64v-err.yaml" -o "$AV/err-img" --kernel "$KERNEL" -q \
            > "$AV/err-build.log" 2>&1
        "$TERN" run "$AV/err-img" --via virsh --timeout 120 --log "$AV/stdout.log" \
            > "$AV/stdout.out" 2> "$AV/stdout.err"
        rc=$?
        c=$AV/err-img/console.log
        if [ "$rc" -ne 2 ]; then
            fail guest:a64_virsh_stdout "exit status $rc, expected 2"
            sed 's/^/    | /' "$AV/stdout.err" | tail -5
        elif ! tr -d '\r' < "$c" | grep -Eq "virtio-console at 0[0-9]:00\.0: [0-9]+ ports; the app's channels: tern\.stdout tern\.stderr$"; then
            fail guest:a64_virsh_stdout "the kernel did not find the tern.stdout and tern.stderr ports"
        elif grep -q '^argv\|^hello:' "$c"; then
            fail guest:a64_virsh_stdout "the app's output is on the console"
        elif ! grep -q '^argv\[2\]=x$' "$AV/err-img/stdout.log"; then
            fail guest:a64_virsh_stdout "stdout.log lacks the app's output"
        elif ! grep -q '^hello: --exit needs a status' "$AV/err-img/stderr.log"; then
            fail guest:a64_virsh_stdout "stderr.log lacks the app's error"
        elif ! grep -q '^hello: --exit needs a status' "$AV/stdout.err" ||
                grep -q '^hello:' "$AV/stdout.out"; then
            fail guest:a64_virsh_stdout "the app's error is not on tern's stderr (only)"
        else
            pass guest:a64_virsh_stdout
        fi
    fi

    if selected guest:a64_virsh_net; then
        cat > "$AV/net.yaml" <<EOT
name: a64v-net
arch: aarch64
memory: 128M
cpus: 2
kernel_options: ktest=net_smoke
network:
  mode: user
  ip: 10.0.2.15/24
  gateway: 10.0.2.2
EOT
        image_case a64_virsh_net 0 'smp: 2 of 2 CPUs online' \
            '^\[ *[0-9.]+\] pci 0[1-9]:00\.0: 1af4:1041 Ethernet controller \(virtio\)' \
            'net_smoke: ping 10\.0\.2\.2: 5 sent, 5 received' \
            'net_smoke: burst: 600 frames in [0-9]+ us, ring full [0-9]+ times, 600 completed' \
            '^\[ *[0-9.]+\] net_smoke: passed$' -- \
            "$AV/net.yaml" -o "$AV/net-img" --kernel "$KERNEL" --via virsh
    fi

    if selected guest:a64_virsh_kvm_built; then
        "$TERN" build "$AV/a64v-hello$$.yaml" -o "$AV/kvm-img" --kernel "$KERNEL" --accel kvm \
            -q > "$AV/kvm-build.log" 2>&1
        if ! grep -q "<cpu mode='host-passthrough'" "$AV/kvm-img/domain.xml"; then
            fail guest:a64_virsh_kvm_built "tern build --accel kvm wrote no host-passthrough <cpu>"
        else
            image_case a64_virsh_kvm_built 3 'cpu: Arm part 0xd08 ' '^argv\[3\]=3$' -- \
                "$AV/kvm-img" --via virsh --accel tcg
        fi
    fi

    av_manifest a64v-blk '[/bin/hello, "on disk"]' 'disk: virtio-blk
'
    image_case a64_virsh_blk 0 \
        '^\[ *[0-9.]+\] pci 0[1-9]:00\.0: 1af4:1042 SCSI controller \(virtio\)' \
        'vfs: mounted ROFS 1\.0 from disk virtio-blk0' '^argv\[1\]=on disk$' -- \
        "$AV/a64v-blk.yaml" -o "$AV/blk-img" --kernel "$KERNEL" --via virsh
}
a64_virsh_tests
fi
