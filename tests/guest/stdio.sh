# Guest tests of the app's standard I/O apart from the kernel log: tern run
# of an image gives the app tern's stdin, stdout and stderr through the
# virtio-serial ports tern.stdin/.stdout/.stderr (image/stdio_relay.c,
# drivers/virtio/virtio_console.c), byte for byte, and the kernel log goes
# to the image's console.log. About 20 s in all under TCG.
STDIO_DIR=$LOG_DIR/stdio
rm -rf "$STDIO_DIR"
mkdir -p "$STDIO_DIR"

# stdio_image NAME PROGRAM ARG...: an image running PROGRAM (out/apps/stdio
# at /bin/stdio) with ARG...
stdio_image() {
    sname=$1 prog=$2
    shift 2
    args=
    for a in "$@"; do args="$args, \"$a\""; done
    cat > "$STDIO_DIR/$sname.yaml" <<EOF
name: $sname
memory: 64M
cmdline: [$prog$args]
files:
  /bin/stdio: $PWD/out/apps/stdio
EOF
    "$TERN" build "$STDIO_DIR/$sname.yaml" -o "$STDIO_DIR/$sname" --kernel "$KERNEL" \
        > "$STDIO_DIR/$sname.build" 2>&1
}

# stdio_verdict NAME WHY: passes when WHY is empty.
stdio_verdict() {
    if [ -n "$2" ]; then
        fail "guest:$1" "$2"
        sed 's/^/    | /' "$STDIO_DIR/$1.err" 2>/dev/null | tail -10
    else
        pass "guest:$1"
    fi
}

# Every byte value, 1 MiB in pieces of 1 byte to 64 KiB: stdout is exactly
# what the same program writes natively (no kernel line, no \r added), the
# app's stderr line is on stderr, and the kernel log is in console.log.
if selected guest:stdio_binary; then
    why=
    d=$STDIO_DIR
    stdio_image bin /bin/stdio bytes 1048576 || why="tern build failed"
    out/apps/stdio bytes 1048576 > "$d/bin.want" 2> /dev/null
    if [ -z "$why" ]; then
        "$TERN" run "$d/bin" --accel "$ACCEL" --timeout 120 > "$d/stdio_binary.out" \
            2> "$d/stdio_binary.err" < /dev/null
        rc=$?
        if [ "$rc" -ne 0 ]; then
            why="exit status $rc"
        elif ! cmp -s "$d/bin.want" "$d/stdio_binary.out"; then
            why="stdout differs from the native run: $(cmp "$d/bin.want" "$d/stdio_binary.out" 2>&1 | head -1)"
        elif ! grep -q '^stdio: wrote 1048576$' "$d/stdio_binary.err"; then
            why="stderr lacks the app's 'stdio: wrote 1048576'"
        elif grep -q '\] ready: ' "$d/stdio_binary.err"; then
            why="the kernel log reached stderr without -v"
        elif ! grep -q '\] ready: ' "$d/bin/console.log" ||
             ! grep -q 'virtio-console .*tern.stdin tern.stdout tern.stderr' "$d/bin/console.log"; then
            why="console.log lacks the kernel's ready line or the virtio-console ports"
        elif grep -q 'stdio: wrote' "$d/bin/console.log"; then
            why="the app's stderr reached the kernel log"
        fi
    fi
    stdio_verdict stdio_binary "$why"
fi

# Piped stdin: every byte, then end of file; an empty stdin is an end of
# file at once.
if selected guest:stdio_stdin; then
    why=
    d=$STDIO_DIR
    stdio_image cat /bin/stdio cat || why="tern build failed"
    head -c 300000 /dev/urandom > "$d/cat.in"
    if [ -z "$why" ]; then
        "$TERN" run "$d/cat" --accel "$ACCEL" --timeout 120 < "$d/cat.in" \
            > "$d/stdio_stdin.out" 2> "$d/stdio_stdin.err"
        rc=$?
        if [ "$rc" -ne 0 ]; then
            why="exit status $rc"
        elif ! cmp -s "$d/cat.in" "$d/stdio_stdin.out"; then
            why="the app's copy of stdin differs: $(cmp "$d/cat.in" "$d/stdio_stdin.out" 2>&1 | head -1)"
        elif ! grep -q '^stdio: cat: 300000 bytes, end of file$' "$d/stdio_stdin.err"; then
            why="stderr lacks 'stdio: cat: 300000 bytes, end of file'"
        else
            out=$(printf 'one\ntwo' | "$TERN" run "$d/cat" --accel "$ACCEL" --timeout 120 2>&1)
            case $out in
            *"one
two"*"stdio: cat: 7 bytes, end of file"*) ;;
            *) why="a pipe's 'one\\ntwo' did not come back whole: $out" ;;
            esac
            out=$("$TERN" run "$d/cat" --accel "$ACCEL" --timeout 120 2>&1 < /dev/null)
            case $out in
            *"stdio: cat: 0 bytes, end of file"*) ;;
            *) why="an empty stdin was not an end of file at once: $out" ;;
            esac
        fi
    fi
    stdio_verdict stdio_stdin "$why"
fi

# -v streams the kernel log to stderr; a failure shows its end unasked.
if selected guest:stdio_kernel_log; then
    why=
    d=$STDIO_DIR
    [ -d "$d/bin" ] || stdio_image bin /bin/stdio bytes 1048576
    "$TERN" run "$d/bin" --accel "$ACCEL" --timeout 120 -v > /dev/null \
        2> "$d/stdio_kernel_log.err" < /dev/null
    if ! grep -q '\] ready: ' "$d/stdio_kernel_log.err"; then
        why="-v did not put the kernel log on stderr"
    elif ! stdio_image crash /bin/stdio crash; then
        why="tern build failed"
    else
        "$TERN" run "$d/crash" --accel "$ACCEL" --timeout 120 > "$d/stdio_kernel_log.out" \
            2> "$d/stdio_kernel_log.err" < /dev/null
        rc=$?
        if [ "$rc" -ne 139 ]; then
            why="a crashing app: exit status $rc, expected 139"
        elif ! grep -q '  | .*app: killed by SIGSEGV' "$d/stdio_kernel_log.err"; then
            why="a failed run did not show the kernel log's end on stderr"
        fi
    fi
    stdio_verdict stdio_kernel_log "$why"
fi

# On a terminal (a pty from script(1)): a typed line reaches the app, and
# Ctrl-D at the start of a line is its end of file.
if selected guest:stdio_terminal; then
    why=
    d=$STDIO_DIR
    if ! command -v script > /dev/null 2>&1; then
        skip guest:stdio_terminal "script(1) is not installed (bsdutils)"
    else
        [ -d "$d/cat" ] || stdio_image cat /bin/stdio cat
        printf 'hello\n\004' | script -qec "$TERN run $d/cat --accel $ACCEL --timeout 120" \
            /dev/null > "$d/stdio_terminal.err" 2>&1
        rc=$?
        if [ $rc -ne 0 ]; then
            why="exit status $rc"
        elif ! tr -d '\r' < "$d/stdio_terminal.err" | grep -q '^stdio: cat: 6 bytes, end of file$'; then
            why="the app did not read 'hello\\n' and then end of file from the terminal"
        fi
        stdio_verdict stdio_terminal "$why"
    fi
fi

# A reader that leaves early (`tern run IMAGE | head -c 10`): tern stops
# the guest and exits 141 (SIGPIPE's status) without calling it an
# interruption; the reader got its bytes.
if selected guest:stdio_reader_left; then
    why=
    d=$STDIO_DIR
    [ -d "$d/bin" ] || stdio_image bin /bin/stdio bytes 1048576 || why="tern build failed"
    if [ -z "$why" ]; then
        { "$TERN" run "$d/bin" --accel "$ACCEL" --timeout 120 2> "$d/stdio_reader_left.err" \
            < /dev/null; echo $? > "$d/stdio_reader_left.rc"; } | head -c 10 > "$d/stdio_reader_left.out"
        rc=$(cat "$d/stdio_reader_left.rc")
        if [ "$rc" != 141 ]; then
            why="exit status $rc, expected 141"
        elif [ "$(wc -c < "$d/stdio_reader_left.out")" != 10 ]; then
            why="the reader did not get its 10 bytes"
        elif grep -q 'interrupted' "$d/stdio_reader_left.err"; then
            why="tern called it an interruption: $(grep interrupted "$d/stdio_reader_left.err" | head -1)"
        fi
    fi
    stdio_verdict stdio_reader_left "$why"
fi
