# Tool tests of tern run's options for images (port forwarding, -e, extra
# arguments, detached runs) and of the instance commands, where no guest
# boots: the errors. tests/guest/instances.sh boots them. Under a second.
RO=$LOG_DIR/run-opts
rm -rf "$RO"
mkdir -p "$RO"
printf 'name: ro\nmemory: 48M\nkernel_options: exit=0\nfiles: {}\n' > "$RO/noapp.yaml"
"$TERN" build "$RO/noapp.yaml" -o "$RO/noapp" --kernel "$KERNEL" > "$RO/build.log" 2>&1

tool_case run_publish_bad 2 "error: -p '80:99999' is not HOST:GUEST or PORT" -- \
    "$TERN" run "$RO/noapp" -p 80:99999
tool_case run_publish_no_network 2 "error: -p: image '.*/noapp' has no network \\(give its manifest network: user\\)" -- \
    "$TERN" run "$RO/noapp" -p 8080:80
tool_case run_publish_kernel 2 "error: -p: forwards to an image's network" -- \
    "$TERN" run --kernel "$KERNEL" -p 8080:80
tool_case run_env_bad 2 "error: -e 1X=2: expected NAME=value" -- \
    "$TERN" run "$RO/noapp" -e 1X=2
tool_case run_env_kernel 2 "error: -e: for an image \\(MANIFEST or DIR\\); with --kernel use --append" -- \
    "$TERN" run --kernel "$KERNEL" -e A=1
tool_case run_args_no_app 2 "error: -- x: image '.*/noapp' runs no app to give arguments to" -- \
    "$TERN" run "$RO/noapp" -- x
tool_case run_args_quote 2 "error: argument 'a\"b': an app argument cannot hold a double quote" -- \
    "$TERN" run "$RO/noapp" -- 'a"b'
tool_case run_name_without_d 2 "error: --name: only with -d" -- \
    "$TERN" run "$RO/noapp" --name x
tool_case run_detach_virsh 2 "error: -d: not with --via virsh" -- \
    "$TERN" run "$RO/noapp" -d --via virsh
tool_case run_timeout_bad 2 "error: --timeout -1: expected seconds in 0\\.\\.31536000 \\(0: no limit\\)" -- \
    "$TERN" run --kernel "$KERNEL" --timeout -1
tool_case stop_unknown 2 "error: stop: no instance named 'nosuch' \\(tern ps -a lists them\\)" -- \
    env TERN_STATE_DIR="$RO/state" "$TERN" stop nosuch
tool_case logs_unknown 2 "error: logs: no instance named 'nosuch'" -- \
    env TERN_STATE_DIR="$RO/state" "$TERN" logs nosuch
tool_case rm_unknown 2 "error: rm: no instance named 'nosuch'" -- \
    env TERN_STATE_DIR="$RO/state" "$TERN" rm nosuch
tool_case ps_empty 0 "^NAME +STATUS +PID +AGE +IMAGE$" -- \
    env TERN_STATE_DIR="$RO/state" "$TERN" ps -a
tool_case help_ps 0 "usage: tern ps" -- "$TERN" help ps
# Stale instance entries: one whose QEMU never started (no pid file) and one
# that ended two days ago are removed by tern ps; one that ended just now
# stays, listed by ps -a as exited with its status.
mkdir -p "$RO/state/ghost" "$RO/state/old" "$RO/state/recent"
for n in ghost old recent; do echo /nonexistent > "$RO/state/$n/image"; done
echo 1 > "$RO/state/old/pid"
echo 1 > "$RO/state/recent/pid"
printf 'tern-exit: status=3\n' > "$RO/state/old/console.log"
printf 'tern-exit: status=3\n' > "$RO/state/recent/console.log"
touch -d '2 days ago' "$RO/state/old/console.log"
tool_case ps_stale_cleaned 0 '^recent +exited 3 +- .*/nonexistent$' -- \
    sh -c 'TERN_STATE_DIR=$1 "$2" ps -a && [ ! -e "$1/ghost" ] && [ ! -e "$1/old" ] && [ -e "$1/recent" ]' \
    sh "$RO/state" "$TERN"
