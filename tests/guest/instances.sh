# Guest tests of long-running images: the echo server reached from the host
# through forwarded ports (the manifest's ports: and tern run -p), detached
# runs (tern run -d, ps, logs, console, stop, rm), run-time -e and extra
# arguments, --timeout 0, and tern console of a plain `virsh create` domain.
# About 35 s in all under TCG.
#
# Instances live in their own state directory (TERN_STATE_DIR); host ports
# are picked from this shell's pid so that parallel runs do not collide.
INST_DIR=$LOG_DIR/instances
rm -rf "$INST_DIR"
mkdir -p "$INST_DIR"
INST_STATE=$INST_DIR/state
inst_tern() { TERN_STATE_DIR=$INST_STATE "$TERN" "$@"; }
INST_P1=$((20000 + $$ % 20000))
INST_P2=$((INST_P1 + 1))

inst_verdict() {
    if [ -n "$2" ]; then
        fail "guest:$1" "$2"
        for f in "$INST_DIR/$1".*; do
            [ -f "$f" ] && sed "s|^|    | $(basename "$f"): |" "$f" | tail -8
        done
    else
        pass "guest:$1"
    fi
}

# inst_echo PORT: send a line to the host's PORT, print what comes back.
inst_echo() {
    bash -c 'exec 3<>/dev/tcp/127.0.0.1/$1 || exit 1
             printf "ping %s\n" "$1" >&3
             head -n 1 <&3' inst_echo "$1" 2>&1
}

# inst_wait_for NAME REGEX: wait up to 60 s for REGEX in NAME's app output.
inst_wait_for() {
    i=0
    while [ $i -lt 300 ]; do
        inst_tern logs "$1" 2>/dev/null | grep -Eq -- "$2" && return 0
        sleep 0.2
        i=$((i + 1))
    done
    return 1
}

# The README's echo server: detached, reached through the manifest's port
# (made this run's own) and one added with -p, listed by ps, its output in
# logs, stopped cleanly (status 143 through tern.ctl), listed as exited,
# removed.
if selected guest:instance_echo_server; then
    why=
    d=$INST_DIR
    sed -e "s|^  - \"8007:7\"|  - \"$INST_P1:7\"|" -e "s|\\.\\./out/apps/|$PWD/out/apps/|" \
        -e "s|\\.\\./README.md|$PWD/README.md|" manifests/echo-server.yaml > "$d/echo.yaml"
    name=$(inst_tern run -d "$d/echo.yaml" -o "$d/echo" --kernel "$KERNEL" --accel "$ACCEL" \
        -p "$INST_P2:7" 2> "$d/instance_echo_server.run")
    if [ "$name" != echo ]; then
        why="tern run -d printed '$name', not the instance name 'echo'"
    elif ! inst_wait_for echo '^echo-server: listening on port 7$'; then
        why="the server did not say it listens (tern logs echo)"
    elif [ "$(inst_echo "$INST_P1")" != "ping $INST_P1" ]; then
        why="no echo through the manifest's forwarded port $INST_P1: $(inst_echo "$INST_P1")"
    elif [ "$(inst_echo "$INST_P2")" != "ping $INST_P2" ]; then
        why="no echo through -p $INST_P2:7: $(inst_echo "$INST_P2")"
    elif ! inst_tern ps > "$d/instance_echo_server.ps" ||
         ! grep -Eq '^echo +running +[0-9]+ ' "$d/instance_echo_server.ps"; then
        why="tern ps does not list echo as running"
    elif ! inst_wait_for echo '^echo-server: connection from 10\.0\.2\.2:'; then
        why="tern logs lacks the server's connection lines"
    elif ! inst_tern stop echo > "$d/instance_echo_server.stop" 2>&1 ||
         ! grep -q 'stopped echo (exit status 143)' "$d/instance_echo_server.stop"; then
        why="tern stop did not end it cleanly with status 143"
    elif ! inst_tern logs --kernel echo | grep -q 'the host asked it to stop'; then
        why="the kernel log lacks the stop request"
    elif ! inst_tern ps -a | grep -Eq '^echo +exited 143 '; then
        why="tern ps -a does not list echo as exited 143"
    elif inst_tern ps | grep -q '^echo '; then
        why="tern ps lists an ended instance without -a"
    elif ! inst_tern rm echo || [ -e "$INST_STATE/echo" ]; then
        why="tern rm did not remove the instance"
    fi
    inst_tern stop -t 0 echo > /dev/null 2>&1
    inst_verdict instance_echo_server "$why"
fi

# A detached app's console and followed logs: tern console shows the kernel
# log as it happens (the stop request), tern logs -f ends with the instance;
# a second -d of the same image gets the next name; a stop that the guest
# does not answer in time is forced.
if selected guest:instance_console; then
    why=
    d=$INST_DIR
    cat > "$d/tick.yaml" <<EOF
name: tick
memory: 64M
cmdline: [/bin/stdio, tick]
files:
  /bin/stdio: $PWD/out/apps/stdio
EOF
    n1=$(inst_tern run -d "$d/tick.yaml" -o "$d/tick" --kernel "$KERNEL" --accel "$ACCEL" 2>/dev/null)
    n2=$(inst_tern run -d "$d/tick" --accel "$ACCEL" 2>/dev/null)
    if [ "$n1 $n2" != "tick tick-2" ]; then
        why="two detached runs were named '$n1 $n2', not 'tick tick-2'"
    elif ! inst_wait_for tick '^tick 1$'; then
        why="no 'tick 1' in tern logs tick"
    else
        inst_tern console tick < /dev/null > "$d/instance_console.console" 2>&1 &
        cpid=$!
        inst_tern logs -f tick > "$d/instance_console.follow" 2>&1 &
        fpid=$!
        sleep 1
        inst_tern stop tick > "$d/instance_console.stop" 2>&1
        i=0
        while kill -0 $cpid 2>/dev/null || kill -0 $fpid 2>/dev/null; do
            i=$((i + 1))
            [ $i -gt 100 ] && break
            sleep 0.1
        done
        if kill -0 $cpid 2>/dev/null || kill -0 $fpid 2>/dev/null; then
            kill $cpid $fpid 2>/dev/null
            why="tern console or tern logs -f did not end with the instance"
        elif ! grep -q 'the host asked it to stop' "$d/instance_console.console"; then
            why="tern console did not show the kernel's stop message"
        elif ! grep -q '^tick 0$' "$d/instance_console.follow"; then
            why="tern logs -f lacks 'tick 0'"
        elif ! inst_tern stop -t 0 tick-2 > "$d/instance_console.force" 2>&1 ||
             ! grep -q 'still running after the grace period; stopping QEMU' "$d/instance_console.force"; then
            why="tern stop -t 0 did not force the instance"
        fi
    fi
    inst_tern stop -t 0 tick tick-2 > /dev/null 2>&1
    inst_verdict instance_console "$why"
fi

# tern run IMAGE -e NAME=value -- ARGS: variables added and overriding the
# manifest's, arguments after the manifest's (a blank inside one kept).
if selected guest:run_env_args; then
    why=
    d=$INST_DIR
    cat > "$d/args.yaml" <<EOF
name: args
memory: 64M
cmdline: [/bin/stdio, args, "first arg"]
env:
  TERN_A: manifest
files:
  /bin/stdio: $PWD/out/apps/stdio
EOF
    "$TERN" run "$d/args.yaml" -o "$d/args" --kernel "$KERNEL" --accel "$ACCEL" \
        -e TERN_A=run -e "TERN_B=two words" -- x "y z" > "$d/run_env_args.out" \
        2> "$d/run_env_args.err" < /dev/null
    rc=$?
    want='arg[0]=/bin/stdio
arg[1]=args
arg[2]=first arg
arg[3]=x
arg[4]=y z
env TERN_A=run
env TERN_B=two words'
    if [ $rc -ne 0 ]; then
        why="exit status $rc"
    elif [ "$(cat "$d/run_env_args.out")" != "$want" ]; then
        why="the app saw other arguments or variables: $(tr '\n' '|' < "$d/run_env_args.out")"
    fi
    inst_verdict run_env_args "$why"
fi

# --timeout 0: no limit (it used to be refused).
GUEST_TIMEOUT=0 guest_case run_timeout_zero 'exit=3' 3 'ready: '

# tern console of a domain started with plain `virsh create` (no tern
# instance): it attaches to the domain's pty console and shows the app's
# output there (no virtio-serial under libvirt: the console has it), and
# ends when the domain does. Needs libvirtd running (build.sh's virsh cases
# start it); about 10 s.
if selected guest:virsh_console; then
    why=
    d=$INST_DIR
    vname=vcon$$
    if ! virsh -c qemu:///system version > /dev/null 2>&1; then
        skip guest:virsh_console "libvirtd is not running (the virsh cases of build.sh start it)"
    else
        cat > "$d/vcon.yaml" <<EOF
name: $vname
memory: 64M
cmdline: [/bin/stdio, tick]
files:
  /bin/stdio: $PWD/out/apps/stdio
EOF
        if ! "$TERN" build "$d/vcon.yaml" -o "$d/vcon" --kernel "$KERNEL" --accel "$ACCEL" \
                > "$d/virsh_console.build" 2>&1; then
            why="tern build failed"
        elif ! virsh -c qemu:///system create "$d/vcon/domain.xml" > "$d/virsh_console.create" 2>&1; then
            why="virsh create failed: $(tail -1 "$d/virsh_console.create")"
        else
            inst_tern console "$vname" < /dev/null > "$d/virsh_console.console" 2>&1 &
            cpid=$!
            i=0
            while ! grep -q '^tick 1' "$d/virsh_console.console" && [ $i -lt 300 ]; do
                sleep 0.2
                i=$((i + 1))
            done
            virsh -c qemu:///system destroy "$vname" > /dev/null 2>&1
            i=0
            while kill -0 $cpid 2>/dev/null && [ $i -lt 50 ]; do
                sleep 0.1
                i=$((i + 1))
            done
            if kill -0 $cpid 2>/dev/null; then
                kill $cpid
                why="tern console did not end with the domain"
            elif ! grep -q '^tick 1' "$d/virsh_console.console"; then
                why="tern console did not show the app's 'tick 1'"
            fi
        fi
        virsh -c qemu:///system destroy "$vname" > /dev/null 2>&1
        inst_verdict virsh_console "$why"
    fi
fi
