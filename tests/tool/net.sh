# The TCP/IP stack's input path under libFuzzer (tests/fuzz/fuzz_net.c),
# bounded in time: frames, with checksums fixed up to reach deeper, must
# neither crash the stack nor leak (ASan, UBSan, the target's own leak
# check) nor hand out bytes that came from no frame (its stale-byte check).
# The run starts from the committed seeds (tests/fuzz/seeds/net/, copied:
# the fuzzer writes into its work corpus only); the inputs in
# tests/fuzz/regress/net/ found bugs once and must pass now.
FUZZ_NET=$(cd "$(dirname "$TERN")" && pwd)/fuzz/fuzz_net
SEEDS=$(pwd)/tests/fuzz/seeds/net
REGRESS=$(pwd)/tests/fuzz/regress/net
if [ -x "$FUZZ_NET" ]; then
    net_fuzz() {
        d=$LOG_DIR/net-fuzz
        rm -rf "$d"
        mkdir -p "$d/corpus"
        d=$(cd "$d" && pwd)     # absolute: the fuzzer runs inside it
        cp "$SEEDS"/* "$d/corpus/"
        (cd "$d" && "$FUZZ_NET" -max_total_time="${NET_FUZZ_SECONDS:-20}" -timeout=10 \
            -rss_limit_mb=1024 -artifact_prefix="$d/" corpus)
    }
    tool_case net_fuzz 0 '^Done [0-9]+ runs in' -- net_fuzz
    # libFuzzer runs each file named once; a crash exits 77.
    tool_case net_fuzz_regress 0 'Executed .* in [0-9]+ ms' -- "$FUZZ_NET" "$REGRESS"/*
    # The checks themselves: a stand-in bug each must be caught (exit 77).
    tool_case net_fuzz_catches_stale 77 'STALE BYTES: UDP datagram to port 7' -- \
        env FUZZ_NET_SELFTEST=stale "$FUZZ_NET" "$SEEDS/udp"
    tool_case net_fuzz_catches_stale_by_compare 77 'STALE BYTES: record [0-9]+ \(UDP datagram' -- \
        env FUZZ_NET_SELFTEST=stale FUZZ_NET_STALE_CHECKS=compare "$FUZZ_NET" "$SEEDS/udp"
    tool_case net_fuzz_catches_leak 77 'LEAK: a block of 24 bytes' -- \
        env FUZZ_NET_SELFTEST=leak "$FUZZ_NET" "$SEEDS/udp"
elif selected tool:net_fuzz; then
    skip tool:net_fuzz "no fuzzer built: clang or libclang-rt-14-dev missing (deps/debian.txt)"
fi
