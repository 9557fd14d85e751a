# Guest tests for images: manifests built with `tern build` and booted with
# `tern run` (QEMU directly, and through libvirt), and plain `virsh create`.
#
# image_case NAME STATUS REGEX... -- TERN-RUN-ARGUMENTS...
#   Runs `tern run ARGUMENTS --quiet --log LOG`; passes when the exit status
#   is STATUS, the console's last line is "tern-exit: status=STATUS", and
#   every REGEX (extended) matches a console line.
IMG=$LOG_DIR/images
rm -rf "$IMG"
mkdir -p "$IMG"

image_case() {
    name=guest:$1 want=$2
    shift 2
    n_re=0
    while [ $# -gt 0 ] && [ "$1" != -- ]; do
        n_re=$((n_re + 1))
        eval "re_$n_re=\$1"
        shift
    done
    [ $# -gt 0 ] && shift
    selected "$name" || return 0
    log=$LOG_DIR/$(echo "$name" | tr ':/' '__').log
    "$TERN" run "$@" --quiet --timeout 120 --log "$log" > "$log.tern" 2>&1
    rc=$?
    set --
    i=1
    while [ "$i" -le "$n_re" ]; do
        eval "set -- \"\$@\" \"\$re_$i\""
        i=$((i + 1))
    done
    judge_boot "$name" "$want" "$rc" "$log" "$@"
}

# --- QEMU directly ---------------------------------------------------------
# The README's main command: tern run builds manifests/hello.yaml and boots
# it; the kernel gets the app's argv after "--" and the ROFS as its module.
image_case image_hello 0 \
    '^\[ *[0-9.]+\] command line: "-- /bin/hello "Hello, world""$' 'ready: ' \
    '^argv\[1\]=Hello, world$' '^GREETING=hello$' -- \
    manifests/hello.yaml -o "$IMG/hello" --kernel "$KERNEL" --accel "$ACCEL"
# A built directory boots as it is.
image_case image_dir 0 'ready: ' -- "$IMG/hello" --accel "$ACCEL"

# The app's exit status travels from the guest through tern run.
cat > "$IMG/exit7.yaml" <<EOF
name: exit7
memory: 48M
kernel_options: loglevel=4
cmdline: [/bin/hello, --exit, "7"]
files:
  /bin/hello: $PWD/out/apps/hello
EOF
image_case image_exit_status 7 '^argv\[2\]=7$' -- \
    "$IMG/exit7.yaml" -o "$IMG/exit7" --kernel "$KERNEL" --accel "$ACCEL"
# Without an app, the kernel's exit= option decides.
cat > "$IMG/noapp.yaml" <<'EOF'
name: noapp
memory: 48M
kernel_options: exit=5
EOF
image_case image_no_app_exit_option 5 -- "$IMG/noapp.yaml" -o "$IMG/noapp" --kernel "$KERNEL" --accel "$ACCEL"

# ROFS on virtio-blk, a NIC, two vCPUs: QEMU accepts what tern build wrote.
cat > "$IMG/devices.yaml" <<EOF
name: devices
memory: 256M
cpus: 2
cmdline: "/bin/server --port 8080"
disk: virtio-blk
network:
  mode: user
  ip: 10.0.2.15/24
  gateway: 10.0.2.2
files:
  /srv/readme: $PWD/README.md
  /bin/server: $PWD/out/apps/hello
EOF
image_case image_devices 0 'command line: "-- /bin/server --port 8080"' '^argv\[2\]=8080$' \
    'memory: 2[0-9]{5} KiB RAM' -- \
    "$IMG/devices.yaml" -o "$IMG/devices" --kernel "$KERNEL" --accel "$ACCEL"

# --- libvirt ---------------------------------------------------------------
# tern run --via virsh starts virtlogd and libvirtd itself when it is root;
# skip only when that cannot work here.
virsh_why=
if ! command -v virsh > /dev/null 2>&1; then
    virsh_why="virsh is not installed (libvirt-clients, deps/debian.txt)"
elif ! virsh -c qemu:///system version > /dev/null 2>&1; then
    if [ "$(id -u)" != 0 ]; then
        virsh_why="libvirtd is not running and only root can start it"
    elif ! command -v libvirtd > /dev/null 2>&1 && [ ! -x /usr/sbin/libvirtd ]; then
        virsh_why="libvirtd is not installed (libvirt-daemon-system, deps/debian.txt)"
    fi
fi

if [ -n "$virsh_why" ]; then
    for c in virsh_hello virsh_exit_status virsh_timeout_cleans_up virsh_interrupt_cleans_up \
            virsh_plain_create; do
        selected "guest:$c" && skip "guest:$c" "$virsh_why"
    done
else
    image_case virsh_hello 0 'command line: "-- /bin/hello "Hello, world""' 'ready: ' -- \
        manifests/hello.yaml -o "$IMG/virsh-hello" --kernel "$KERNEL" --via virsh --accel "$ACCEL"
    image_case virsh_exit_status 7 -- \
        "$IMG/exit7.yaml" -o "$IMG/virsh-exit7" --kernel "$KERNEL" --via virsh --accel "$ACCEL"

    # A guest that never ends is destroyed at the time-out (status 124), and
    # on Ctrl-C (130); either way no domain is left behind.
    cat > "$IMG/hang.yaml" <<'EOF'
name: hang
memory: 48M
kernel_options: ktest=hang
EOF
    if selected guest:virsh_timeout_cleans_up; then
        "$TERN" run "$IMG/hang.yaml" -o "$IMG/hang" --kernel "$KERNEL" --via virsh \
            --accel "$ACCEL" --quiet --timeout 5 > "$LOG_DIR/virsh_timeout.log" 2>&1
        rc=$?
        if [ "$rc" -ne 124 ]; then
            fail guest:virsh_timeout_cleans_up "exit status $rc, expected 124"
        elif virsh -c qemu:///system list --name | grep -q '^hang-tern'; then
            fail guest:virsh_timeout_cleans_up "a hang-tern* domain is still defined"
        else
            pass guest:virsh_timeout_cleans_up
        fi
    fi
    if selected guest:virsh_interrupt_cleans_up; then
        # The last run's log must not be mistaken for this one's.
        rm -f "$IMG/hang/console.log"
        "$TERN" run "$IMG/hang" --via virsh --accel "$ACCEL" --quiet --timeout 60 \
            > "$LOG_DIR/virsh_interrupt.log" 2>&1 &
        pid=$!
        # Interrupt once the guest is up (its console reached "ready").
        i=0
        while ! grep -q 'ready: ' "$IMG/hang/console.log" 2>/dev/null && [ "$i" -lt 300 ]; do
            sleep 0.1
            i=$((i + 1))
        done
        kill -INT "$pid"
        wait "$pid"
        rc=$?
        if [ "$rc" -ne 130 ]; then
            fail guest:virsh_interrupt_cleans_up "exit status $rc, expected 130"
        elif virsh -c qemu:///system list --name | grep -q '^hang-tern'; then
            fail guest:virsh_interrupt_cleans_up "a hang-tern* domain is still defined"
        else
            pass guest:virsh_interrupt_cleans_up
        fi
    fi

    # Plain `virsh create DIR/domain.xml`, as the README shows: the domain
    # boots, powers off (and so disappears), and its console log ends with
    # the exit line.
    if selected guest:virsh_plain_create; then
        pname=plain$$
        sed "s/^name: .*/name: $pname/" manifests/hello.yaml > "$IMG/plain.yaml"
        sed -i "s|\\.\\./|$PWD/|" "$IMG/plain.yaml"
        why=
        if ! "$TERN" build "$IMG/plain.yaml" -o "$IMG/plain" --kernel "$KERNEL" \
                --accel "$ACCEL" > "$LOG_DIR/virsh_plain.build.log" 2>&1; then
            why="tern build failed"
        elif ! virsh -c qemu:///system create "$IMG/plain/domain.xml" \
                > "$LOG_DIR/virsh_plain.create.log" 2>&1; then
            why="virsh create failed: $(grep error "$LOG_DIR/virsh_plain.create.log" | tail -1)"
        else
            # Poll (not sleep blindly): the domain disappears when it powers off.
            i=0
            while virsh -c qemu:///system domid "$pname" > /dev/null 2>&1; do
                i=$((i + 1))
                if [ "$i" -gt 600 ]; then
                    virsh -c qemu:///system destroy "$pname" > /dev/null 2>&1
                    why="the domain was still running after 120 s"
                    break
                fi
                sleep 0.2
            done
            if [ -z "$why" ] && [ "$(tail -n 1 "$IMG/plain/console.log" | tr -d '\r')" != "tern-exit: status=0" ]; then
                why="console.log does not end with 'tern-exit: status=0'"
            fi
        fi
        if [ -n "$why" ]; then
            fail guest:virsh_plain_create "$why"
            tr -d '\r' < "$IMG/plain/console.log" 2>/dev/null | sed 's/^/    | /' | tail -5
        else
            pass guest:virsh_plain_create
        fi
    fi
fi
