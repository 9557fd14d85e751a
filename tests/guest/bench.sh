# The benchmark's short form (make bench-smoke, issue 7) as a test: one
# 1-second run of each sender (Tern: send, MSG_ZEROCOPY, zcopy_tx,
# sendfile; the Linux guest: send, MSG_ZEROCOPY; the device ceiling), three
# boots of hello on each guest, the image sizes and hello in 16 MiB.
#
#   guest:bench_smoke (x86_64 builds; about 40 s, 5 min on a loaded
#   machine) and guest:bench_smoke_aarch64 (aarch64 builds: the same
#   against Debian's arm64 kernel on QEMU virt under TCG, about 3 min;
#   `make ARCH=aarch64 check TESTS=bench_smoke`, and make check-full)
#       passes when bench/net.sh --smoke exits 0 and its latest.csv has a
#       row with numbers for every case, every run of runs.csv completed
#       with the sampled pattern check passing, and (with gnuplot) both
#       plots were drawn. Speed is not judged here: the targets are in
#       latest.md of `make bench`.
#
# Needs what bench/net.sh needs (root, ip, /dev/net/tun, and the Linux
# guest's packages from Debian's mirror, cached in ~/.cache/tern); without
# them the case is skipped with bench/net.sh's reason. Results and logs:
# $LOG_DIR/bench-smoke/. The guest programs are the Makefile's
# (BENCH_BULKSEND, BENCH_HELLO: built for ARCH).
if [ "${ARCH:-x86_64}" = x86_64 ]; then bs_case=guest:bench_smoke; else bs_case=guest:bench_smoke_$ARCH; fi
if selected "$bs_case"; then
    bs_out=$LOG_DIR/bench-smoke
    bs_log=$LOG_DIR/$(echo "$bs_case" | tr ':' '_').log
    ARCH=${ARCH:-x86_64} BENCH_OUT=$bs_out BENCH_BIN=out/bench APPS=out/apps KERNEL=$KERNEL TERN=$TERN \
        BULKSEND=${BENCH_BULKSEND:-out/bench/bulksend} HELLO=${BENCH_HELLO:-out/apps/hello} \
        sh bench/net.sh --smoke > "$bs_log" 2>&1
    bs_rc=$?
    bs_why=
    if [ $bs_rc -eq 3 ]; then
        skip "$bs_case" "$(sed -n 's/^bench: cannot run here: //p' "$bs_log" | head -n 1)"
    else
        if [ $bs_rc -ne 0 ]; then
            bs_why="bench/net.sh --smoke exited with $bs_rc"
        elif [ ! -s "$bs_out/latest.csv" ]; then
            bs_why="no latest.csv"
        else
            # CASE,GUEST,MODE,MSG: each must have a number in its median column.
            bs_missing=$(awk -F, 'NR == FNR { want[$0] = 1; order[++n] = $0; next }
                FNR > 1 && $6 ~ /^[0-9.]+$/ { have[$1 "," $2 "," $3 "," $4] = 1 }
                END { for (i = 1; i <= n; i++) if (!(order[i] in have)) { print order[i]; exit } }' \
                - "$bs_out/latest.csv" <<'EOT'
throughput,tern,send,65536
throughput,tern,msg_zerocopy,65536
throughput,tern,zcopy,65536
throughput,tern,sendfile,65536
throughput,linux,send,65536
throughput,linux,msg_zerocopy,65536
throughput,ceiling,tso,65226
boot_to_main_host,tern,hello,
boot_to_main_guest,tern,hello,
boot_to_exit_host,tern,hello,
boot_to_main_host,linux,hello,
boot_to_main_guest,linux,hello,
boot_to_exit_host,linux,hello,
image_size,tern,hello,
image_size,linux,hello,
hello_runs_in_16m,tern,hello,
EOT
            )
            [ -n "$bs_missing" ] && bs_why="latest.csv has no numbers for $bs_missing"
            # Every run completed, and the sampled runs' bytes checked out.
            if [ -z "$bs_why" ]; then
                bs_bad=$(awk -F, 'NR > 1 && ($12 != "ok" || ($1 != "ceiling" && $4 == 1 && $10 != "yes")) {
                    print $1 " " $2 " " $3 ": " $12 ", verified " $10 }' "$bs_out/runs.csv" | head -n 1)
                [ -n "$bs_bad" ] && bs_why="a run failed: $bs_bad"
            fi
            if [ -z "$bs_why" ] && command -v gnuplot > /dev/null 2>&1; then
                for bs_png in throughput.png cpu.png; do
                    [ -s "$bs_out/$bs_png" ] || bs_why="$bs_png was not drawn"
                done
            fi
        fi
        if [ -n "$bs_why" ]; then
            fail "$bs_case" "$bs_why"
            sed 's/^/    | /' "$bs_log" | tail -n 15
        else
            pass "$bs_case"
        fi
    fi
fi
