# Debugging with gdb (docs/debugging.md): `tern run --gdb` starts the guest
# halted on QEMU's gdbstub, and scripts/tern-gdb.py, driven by gdb in batch
# mode, lists the kernel's threads and shows their stacks.
#
# The guest runs the torture test (workers that block, sleep and get
# preempted) under TCG until a worker has reached op_sleep a few times
# and some thread is preempted; gdb
# then checks:
#   - tern threads lists the thread at the breakpoint as running in op_sleep,
#     a blocked thread and a preempted one (the torture workers spin until
#     preempted, and the idle thread is preempted in its halt);
#   - tern thread N + bt on the blocked thread walks from schedule through a
#     wait function (its switch frame), on the preempted one starts at the
#     function its trap frame names (not in schedule);
#   - `tern thread` brings back the live op_sleep frame.
# About 6 s under TCG (x86_64 and aarch64 alike; aarch64 needs
# gdb-multiarch, deps/debian.txt).

gdb_case() {
    name=guest:gdb${1:+-$1}
    selected "$name" || return 0
    gdb_prog=gdb
    [ "${ARCH:-x86_64}" = x86_64 ] || gdb_prog=gdb-multiarch
    if ! command -v "$gdb_prog" > /dev/null 2>&1; then
        skip "$name" "$gdb_prog is not installed (deps/debian.txt)"
        return 0
    fi
    elf=${KERNEL_ELF:-$KERNEL}
    case $elf in *.img) elf=${elf%.img}.elf ;; esac
    log=$LOG_DIR/$(echo "$name" | tr ':/' '__').log
    # A port of our own: several test runs may share the machine.
    port=$((20000 + $$ % 20000))
    "$TERN" run --kernel "$KERNEL" --accel tcg --quiet --timeout 120 --gdb=$port \
        --append "ktest=torture torture_switches=1000000000 torture_preemptions=1000000000" \
        > "$log.tern" 2>&1 &
    tern_pid=$!
    cat > "$log.py" <<EOF
import gdb, re, time
for i in range(300):           # QEMU opens the port a moment after tern starts (30 s on a busy host)
    try:
        gdb.execute("target remote :$port", to_string=True)
        break
    except gdb.error:
        time.sleep(0.1)
else:
    raise gdb.GdbError("could not attach to :$port")
gdb.execute("break op_sleep")
gdb.execute("continue")
# Stop at op_sleep until some thread is preempted too (a worker spinning
# until the timer takes the CPU, or the idle thread in its halt): most stops
# have one.
for stop in range(40):
    gdb.execute("ignore 1 3")
    gdb.execute("continue")
    out = gdb.execute("tern threads", to_string=True)
    if "/preempted" in out:
        break
gdb.execute("delete")
print(out)
blocked = preempted = None
for line in out.splitlines()[1:]:
    f = line.split()
    if blocked is None and f[2] == "blocked" and f[-1] == "schedule":
        blocked = f[0]
    if preempted is None and f[2].endswith("/preempted"):
        preempted = (f[0], f[-1])
print("BLOCKED", blocked, "PREEMPTED", preempted)
gdb.execute("tern thread %s" % blocked)
print("BT-BLOCKED")
gdb.execute("bt 12")
gdb.execute("tern thread %s" % preempted[0])
print("BT-PREEMPTED want", preempted[1])
gdb.execute("bt 3")
gdb.execute("tern thread")
print("BT-LIVE")
gdb.execute("bt 1")
gdb.execute("kill")
EOF
    timeout 60 "$gdb_prog" -q -batch -nx -x scripts/tern-gdb.py "$elf" -x "$log.py" \
        > "$log" 2>&1
    gdb_rc=$?
    kill "$tern_pid" 2> /dev/null
    wait "$tern_pid" 2> /dev/null
    why=
    # What the helper said, section by section.
    blocked_bt=$(sed -n '/^BT-BLOCKED/,/^tern: thread/p' "$log")
    pre_want=$(sed -n 's/^BT-PREEMPTED want //p' "$log")
    pre_bt=$(sed -n '/^BT-PREEMPTED/,/^tern: live/p' "$log")
    live_bt=$(sed -n '/^BT-LIVE/,$p' "$log")
    if [ "$gdb_rc" -ne 0 ]; then
        why="gdb exited with status $gdb_rc"
    elif ! grep -Eq '^ +[0-9]+ +torture[0-9]+ +running +0 +0x[0-9a-f]+ 0x[0-9a-f]+ op_sleep$' "$log"; then
        why="tern threads does not show the worker at the breakpoint running in op_sleep"
    elif ! grep -q '^BLOCKED [0-9]' "$log" || ! grep -q "PREEMPTED ('[0-9]" "$log"; then
        why="tern threads shows no blocked or no preempted thread"
    elif ! echo "$blocked_bt" | grep -Eq '^#0 +(0x[0-9a-f]+ in )?schedule \(\)' ||
         ! echo "$blocked_bt" | grep -Eq '^#[1-9] .* in (waitq_sleep_locked|thread_sleep_ns|thread_join|sem_down|mutex_lock|cond_timedwait) '; then
        why="the blocked thread's bt does not go from schedule through a wait function"
    elif ! echo "$pre_bt" | grep -Eq "^#0 .*(in )?$pre_want( |\$)" ||
         echo "$pre_bt" | grep -Eq '^#0 +(0x[0-9a-f]+ in )?schedule \(\)'; then
        why="the preempted thread's bt does not start where its trap frame says ($pre_want)"
    elif ! echo "$live_bt" | grep -q '^#0 .*op_sleep'; then
        why="tern thread did not bring back the live registers (op_sleep)"
    fi
    if [ -n "$why" ]; then
        fail "$name" "$why"
        sed 's/^/    | /' "$log" | tail -40
        sed 's/^/    | /' "$log.tern" | tail -5
    else
        pass "$name"
    fi
}
gdb_case

# --gdb takes a TCP port; a bad one is named.
tool_case gdb-bad-port 2 "--gdb=0: expected a TCP port in 1..65535" -- \
    "$TERN" run --kernel "$KERNEL" --gdb=0
