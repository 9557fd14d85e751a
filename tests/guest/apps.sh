# Guest tests for the apps (apps/, docs/apps.md): each program that `make
# apps` built into out/apps/ is packed into an image by a manifest written
# here, booted with `tern run`, and must print in the guest what it prints
# natively on the host, and end with the same exit status.
#
# app_case NAME APP STATUS REGEX...
#   Builds and boots $APPS_IMG/NAME.yaml (written just before); passes when
#   the exit status is STATUS, the console's last line is "tern-exit:
#   status=STATUS" and every REGEX (extended) matches a console line.
#   APP is the program the manifest takes from out/apps/, checked first so
#   that a missing build says so instead of failing in tern build.
#
# (This file sorts before build.sh, so build.sh's image_case does not exist
# yet when it runs; app_case is the same judgement, through judge_boot.)
# Manifests name host paths relative to their own directory, so the paths
# written into them are made absolute (abs_path, run-tests.sh).
APPS_DIR=$(abs_path "${APPS_DIR:-out/apps}")
APPS_IMG=$(abs_path "$LOG_DIR/apps")
rm -rf "$APPS_IMG"
mkdir -p "$APPS_IMG"

app_case() {
    name=guest:apps_$1 app=$2 want=$3
    manifest=$APPS_IMG/$1.yaml
    shift 3
    selected "$name" || return 0
    if [ ! -x "$APPS_DIR/$app" ]; then
        fail "$name" "$APPS_DIR/$app was not built (make apps)"
        return 0
    fi
    log=$LOG_DIR/$(echo "$name" | tr ':/' '__').log
    "$TERN" run "$manifest" -o "$APPS_IMG/$(basename "$manifest" .yaml)" --kernel "$KERNEL" \
        --accel "$ACCEL" --quiet --timeout 120 --log "$log" > "$log.tern" 2>&1
    judge_boot "$name" "$want" $? "$log" "$@"
}

# app_manifest NAME APP MEMORY CPUS CMDLINE [FILES...]
#   Writes $APPS_IMG/NAME.yaml: /bin/APP from out/apps/APP, GREETING=hello
#   in the environment, CMDLINE as a YAML flow list, and more `files:`
#   lines ("/guest: /host") as given.
app_manifest() {
    m=$APPS_IMG/$1.yaml
    {
        echo "name: apps-$1"
        echo "memory: $3"
        echo "cpus: $4"
        echo "cmdline: $5"
        echo "env:"
        echo "  GREETING: hello"
        echo "files:"
        echo "  /bin/$2: $APPS_DIR/$2"
        shift 5
        for line in "$@"; do
            echo "  $line"
        done
    } > "$m"
}

# --- hello: argv, environment, exit status -----------------------------------
# The same source built three ways: musl static-PIE, glibc static-PIE and
# glibc static (ET_EXEC, loaded at its link address).
for app in hello hello-glibc hello-glibc-static; do
    app_manifest "$app" "$app" 64M 1 "[/bin/$app, \"Hello, world\", --exit, \"3\"]"
    app_case "$app" "$app" 3 \
        "^argv\\[0\\]=/bin/$app\$" '^argv\[1\]=Hello, world$' '^argv\[2\]=--exit$' \
        '^argv\[3\]=3$' '^GREETING=hello$'
done

# manifests/hello.yaml itself (make run): status 0, its argument and greeting.
if selected guest:apps_hello_manifest; then
    if [ ! -x "$APPS_DIR/hello" ]; then
        fail guest:apps_hello_manifest "$APPS_DIR/hello was not built (make apps)"
    else
        log=$LOG_DIR/guest_apps_hello_manifest.log
        "$TERN" run manifests/hello.yaml -o "$APPS_IMG/hello-manifest" --kernel "$KERNEL" \
            --accel "$ACCEL" --quiet --timeout 120 --log "$log" > "$log.tern" 2>&1
        judge_boot guest:apps_hello_manifest 0 $? "$log" \
            '^argv\[0\]=/bin/hello$' '^argv\[1\]=Hello, world$' '^GREETING=hello$'
    fi
fi

# --- fileread, mmapfile: files of the ROFS, compared with the host's -------
# A small tree: empty, one byte, exactly a page, sizes off page boundaries,
# nested directories, an empty directory and a symbolic link (printed, not
# followed). The guest's "<sha256>  <path>" lines must be the host's
# sha256sum lines for the same files under /data.
apps_tree=$APPS_IMG/tree
make_apps_tree() {
    rm -rf "$apps_tree"
    mkdir -p "$apps_tree/sub/deeper" "$apps_tree/empty-dir" || return 1
    (
        cd "$apps_tree" || exit 1
        printf 'hello, tern\n' > hello.txt
        : > empty
        printf x > one
        head -c 4096 /dev/urandom > page
        head -c 100003 /dev/urandom > sub/random.bin
        head -c $((1024 * 1024 + 4097)) /dev/urandom > sub/deeper/big.bin
        printf 'deep\n' > sub/deeper/leaf
        ln -s hello.txt link
    )
}

apps_fileread() {
    selected guest:apps_fileread || return 0
    if ! make_apps_tree; then
        fail guest:apps_fileread "could not make the test tree"
        return 0
    fi
    # The expected lines, one regex each: "^<sha256>  /data/<path>$".
    (cd "$apps_tree" && find . -type f | LC_ALL=C sort | sed 's|^\./||' |
        while read -r f; do sha256sum "$f"; done) > "$APPS_IMG/tree.sha256"
    set --
    while read -r sum path; do
        set -- "$@" "^$sum  /data/$path\$"
    done < "$APPS_IMG/tree.sha256"
    app_manifest fileread fileread 128M 1 "[/bin/fileread, /data]" "/data: $apps_tree"
    app_case fileread fileread 0 "$@" '^symlink  /data/link -> hello\.txt$'
}
apps_fileread

apps_mmapfile() {
    selected guest:apps_mmapfile || return 0
    if [ ! -f "$apps_tree/sub/deeper/big.bin" ] && ! make_apps_tree; then
        fail guest:apps_mmapfile "could not make the test tree"
        return 0
    fi
    sum=$(sha256sum < "$apps_tree/sub/deeper/big.bin" | cut -d' ' -f1)
    app_manifest mmapfile mmapfile 128M 1 "[/bin/mmapfile, /data/sub/deeper/big.bin]" \
        "/data: $apps_tree"
    app_case mmapfile mmapfile 0 "^mmapfile: ok $sum\$"
}
apps_mmapfile

# --- threads, pollio ---------------------------------------------------------
app_manifest threads threads 128M 2 "[/bin/threads, \"8\"]"
app_case threads threads 0 '^threads: 8 workers, counter 160000, joined$' \
    '^threads: 10000 items handed over, sum 50005000$' '^threads: detached thread ran$' \
    '^threads: ok$'

# The same through glibc, whose pthread_create uses clone3.
app_manifest threads_glibc threads-glibc 128M 2 "[/bin/threads-glibc, \"8\"]"
app_case threads_glibc threads-glibc 0 '^threads: 8 workers, counter 160000, joined$' \
    '^threads: ok$'

app_manifest pollio pollio 64M 1 "[/bin/pollio]"
app_case pollio pollio 0 '^pollio: ok$'

# --- deaths by signal: 128 + the signal number ---------------------------------
# A NULL store: SIGSEGV, and the fault's address (0) is named.
app_manifest segv segv 64M 1 "[/bin/segv]"
app_case segv segv 139 '^segv: about to fault$' 'SIGSEGV' 'fault.*(0000000000000000|NULL)' \
    'killed by SIGSEGV \(signal 11\) in thread 1 at [0-9a-f]{16} main\+0x[0-9a-f]+ in /bin/segv$'
# Unbounded recursion runs into the stack's guard page.
app_manifest segv_stack segv 64M 1 "[/bin/segv, --stack]"
app_case segv_stack segv 139 '^segv: about to overflow the stack$' 'SIGSEGV' \
    ' recurse\+0x[0-9a-f]+ in /bin/segv$' 'just below the stack .*: stack overflow$'
# abort(): SIGABRT.
app_manifest abort abort 64M 1 "[/bin/abort]"
app_case abort abort 134 '^abort: calling abort\(\)$' 'SIGABRT'

# --- the `netstat` counters however the app ends (issue 18 item 6) ---------
# With the kernel's `netstat` option the counters are printed when the app
# ends: at an exit, and also at a death by a signal, above all the
# out-of-memory SIGKILL that a network flood causes, where they matter most.
# Exactly once (two threads could end the app at once).
# app_netstat_case NAME STATUS CMDLINE REGEX...: segv booted with netstat.
app_netstat_case() {
    app_manifest "$1" segv 64M 1 "$3"
    echo "kernel_options: netstat" >> "$APPS_IMG/$1.yaml"
    n=$1 st=$2
    shift 3
    app_case "$n" segv "$st" "$@" '^\[ *[0-9.]+\] netstat: Tcp: [0-9]' \
        '^\[ *[0-9.]+\] netstat: +lo: '
    selected "guest:apps_$n" || return 0
    c=$(tr -d '\r' < "$LOG_DIR/guest_apps_$n.log" | grep -c 'netstat: Tcp: RtoAlgorithm')
    if [ "$c" -eq 1 ]; then
        pass "guest:apps_${n}_once"
    else
        fail "guest:apps_${n}_once" "the netstat counters were printed $c times, expected once"
    fi
}
app_netstat_case segv_netstat 139 "[/bin/segv]" 'killed by SIGSEGV \(signal 11\)'
# Touching memory until none is left: the kernel kills the app with SIGKILL.
app_netstat_case oom_netstat 137 "[/bin/segv, --oom]" '^segv: about to run out of memory$' \
    'killed by SIGKILL \(signal 9\)' 'app: out of memory: no free page'

# --- the example manifest manifests/wordcount.yaml, as the README runs it ----
# Its output in the guest must equal the program's output on the host over
# the same files (counts do not depend on directory order).
if selected guest:apps_wordcount; then
    wc_native=$(cd manifests && WORDCOUNT_TOP=20 "$APPS_DIR/wordcount" \
        --config wordcount.conf ../docs ../README.md 2>&1)
    wc_summary=$(echo "$wc_native" | tail -n 1)
    wc_top=$(echo "$wc_native" | head -n 1)
    name=guest:apps_wordcount
    log=$LOG_DIR/guest_apps_wordcount.log
    "$TERN" run manifests/wordcount.yaml -o "$APPS_IMG/wordcount" --kernel "$KERNEL" \
        --accel "$ACCEL" --quiet --timeout 120 --log "$log" > "$log.tern" 2>&1
    judge_boot "$name" 0 $? "$log" "^$(echo "$wc_summary" | sed 's/[.[\*^$]/\\&/g')\$" \
        "^$(echo "$wc_top" | sed 's/[.[\*^$]/\\&/g')\$"
fi
