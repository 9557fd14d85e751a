# The TCP/IP stack's input path under libFuzzer (tests/fuzz/fuzz_net.c),
# bounded in time: random frames, with checksums fixed up to reach deeper,
# must neither crash the stack nor leak (ASan, LSan, UBSan).
FUZZ_NET=$(cd "$(dirname "$TERN")" && pwd)/fuzz/fuzz_net
if [ -x "$FUZZ_NET" ]; then
    net_fuzz() {
        d=$LOG_DIR/net-fuzz
        rm -rf "$d"
        mkdir -p "$d/corpus"
        (cd "$d" && "$FUZZ_NET" -max_total_time="${NET_FUZZ_SECONDS:-20}" -timeout=10 \
            -rss_limit_mb=1024 corpus)
    }
    tool_case net_fuzz 0 '^Done [0-9]+ runs in' -- net_fuzz
elif selected tool:net_fuzz; then
    skip tool:net_fuzz "no fuzzer built: clang or libclang-rt-14-dev missing (deps/debian.txt)"
fi
