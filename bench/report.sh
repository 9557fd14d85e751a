#!/bin/sh
# bench/net.sh's report: from DIR/runs.csv, boot.csv, size.csv, memory.csv
# and env.txt, writes DIR/latest.csv (the summary), DIR/latest.md (tables
# and the targets, met or missed and by how much) and, with gnuplot,
# DIR/throughput.png and DIR/cpu.png. Re-runnable on kept results:
#
#   sh bench/report.sh DIR
#
# Medians, minima and maxima are over the runs that completed (status ok).
# QEMU CPU per GiB is the QEMU process's utime+stime over the transfer
# divided by the GiB moved; guest cycles per byte are the vCPU threads'
# CPU time over the transfer, at the host's clock rate (cpu MHz), per
# byte: what executing the guest cost (under TCG, in host cycles).
set -eu
D=${1:?usage: report.sh DIR}
env_get() { sed -n "s/^$1=//p" "$D/env.txt"; }
MHZ=$(env_get cpu_mhz)

# ---------------------------------------------------------- latest.csv ---
STATS=$(cat "$(dirname "$0")/stats.awk")
awk -F, -v mhz="$MHZ" "$STATS"'
FILENAME ~ /runs.csv$/ && FNR > 1 && $12 == "ok" {
    k = $1 SUBSEP $2 SUBSEP $3
    if (!(k in n)) { keys[++nk] = k; n[k] = 0; nc[k] = 0; nv[k] = 0 }
    n[k]++; g[k, n[k]] = $7
    if ($8 >= 0 && $5 > 0) { nc[k]++; c[k, nc[k]] = $8 / ($5 / 1073741824) }
    if ($9 >= 0 && $5 > 0) { nv[k]++; v[k, nv[k]] = $9 * mhz * 1e6 / $5 }
    if (!(k in lo) || $7 < lo[k]) lo[k] = $7
    if (!(k in hi) || $7 > hi[k]) hi[k] = $7
}
FILENAME ~ /runs.csv$/ && FNR > 1 && $12 != "ok" { bad[$1 SUBSEP $2 SUBSEP $3]++ }
FILENAME ~ /boot.csv$/ && FNR > 1 && $6 == "ok" {
    nb[$1]++; bm[$1, nb[$1]] = $3; bg[$1, nb[$1]] = $4; be[$1, nb[$1]] = $5
}
FILENAME ~ /size.csv$/ && FNR > 1 { size[$1] = $3 }
FILENAME ~ /memory.csv$/ && FNR > 1 { mem[$1, $2] = $3 SUBSEP $4 }
END {
    print "case,guest,mode,msg_bytes,n,median,min,max,unit,qemu_cpu_s_per_gib,guest_cycles_per_byte,vs_linux,vs_ceiling"
    ck = "ceiling" SUBSEP "tso" SUBSEP "65226"
    for (j = 1; j <= n[ck]; j++) t[j] = g[ck, j]
    ceil = median(t, n[ck])
    for (i = 1; i <= nk; i++) {
        k = keys[i]
        split(k, p, SUBSEP)
        for (j = 1; j <= n[k]; j++) t[j] = g[k, j]
        med[k] = median(t, n[k])
    }
    for (i = 1; i <= nk; i++) {
        k = keys[i]
        split(k, p, SUBSEP)
        for (j = 1; j <= nc[k]; j++) t[j] = c[k, j]
        cm = median(t, nc[k])
        for (j = 1; j <= nv[k]; j++) t[j] = v[k, j]
        vm = median(t, nv[k])
        lk = "linux" SUBSEP p[2] SUBSEP p[3]
        vsl = (p[1] == "tern" && (lk in med) && med[lk] > 0) ? sprintf("%.3f", med[k] / med[lk]) : ""
        vsc = (p[1] != "ceiling" && ceil > 0) ? sprintf("%.3f", med[k] / ceil) : ""
        printf "throughput,%s,%s,%s,%d,%.3f,%.3f,%.3f,Gbit/s,%s,%s,%s,%s\n", p[1], p[2], p[3], n[k],
            med[k], lo[k], hi[k], cm == "" ? "" : sprintf("%.3f", cm),
            vm == "" ? "" : sprintf("%.3f", vm), vsl, vsc
    }
    for (k in bad) {
        split(k, p, SUBSEP)
        printf "failed_runs,%s,%s,%s,%d,,,,runs,,,,\n", p[1], p[2], p[3], bad[k]
    }
    split("tern linux", gs, " ")
    for (x = 1; x <= 2; x++) {
        gg = gs[x]
        if (!nb[gg]) continue
        for (j = 1; j <= nb[gg]; j++) t[j] = bm[gg, j]
        a = median(t, nb[gg]); mn = t[1]; mx = t[nb[gg]]
        printf "boot_to_main_host,%s,hello,,%d,%.1f,%.1f,%.1f,ms,,,,\n", gg, nb[gg], a, mn, mx
        for (j = 1; j <= nb[gg]; j++) t[j] = bg[gg, j]
        a = median(t, nb[gg]); mn = t[1]; mx = t[nb[gg]]
        printf "boot_to_main_guest,%s,hello,,%d,%.1f,%.1f,%.1f,ms,,,,\n", gg, nb[gg], a, mn, mx
        for (j = 1; j <= nb[gg]; j++) t[j] = be[gg, j]
        a = median(t, nb[gg]); mn = t[1]; mx = t[nb[gg]]
        printf "boot_to_exit_host,%s,hello,,%d,%.1f,%.1f,%.1f,ms,,,,\n", gg, nb[gg], a, mn, mx
    }
    for (gg in size)
        printf "image_size,%s,hello,,1,%d,%d,%d,bytes,,,,\n", gg, size[gg], size[gg], size[gg]
    for (k in mem) {
        split(k, p, SUBSEP); split(mem[k], m, SUBSEP)
        if (p[2] == "runs hello")
            printf "hello_runs_in_%sm,%s,hello,,1,%d,,,yes=1,,,,\n", m[1], p[1], m[2] == "yes"
        else if (m[1] != "")
            printf "min_memory,%s,hello,,1,%d,,,MiB,,,,\n", p[1], m[1]
        else
            printf "min_memory,%s,hello,,0,,,,MiB,,,,\n", p[1]
    }
}' "$D/runs.csv" "$D/boot.csv" "$D/size.csv" "$D/memory.csv" > "$D/latest.csv"

# ------------------------------------------------------------ latest.md ---
get() {     # CASE GUEST MODE MSG COLUMN -> value
    awk -F, -v c="$1" -v g="$2" -v m="$3" -v s="$4" -v col="$5" '
        NR == 1 { for (i = 1; i <= NF; i++) idx[$i] = i; next }
        $1 == c && $2 == g && $3 == m && $4 == s { print $(idx[col]); exit }' "$D/latest.csv"
}
sizes=$(awk -F, '$1 == "throughput" && $2 != "ceiling" { print $4 }' "$D/latest.csv" | sort -n | uniq)
human() {
    case $1 in
    1048576) echo "1 MiB" ;; *) echo "$(($1 / 1024)) KiB" ;;
    esac
}
cols="tern:send tern:msg_zerocopy tern:zcopy tern:zcopy_txq tern:sendfile linux:send linux:msg_zerocopy"
table() {   # COLUMN FORMAT: one row per message size, one column per case
    printf '| message |'
    for c in $cols; do printf ' %s %s |' "${c%%:*}" "${c#*:}"; done
    printf '\n|---|'
    for c in $cols; do printf -- '---:|'; done
    printf '\n'
    for s in $sizes; do
        printf '| %s |' "$(human "$s")"
        for c in $cols; do
            val=$(get throughput "${c%%:*}" "${c#*:}" "$s" "$1")
            if [ "$1" = median ] && [ -n "$val" ]; then
                val="**$val** ($(get throughput "${c%%:*}" "${c#*:}" "$s" min)–$(get throughput "${c%%:*}" "${c#*:}" "$s" max))"
            fi
            printf ' %s |' "${val:-–}"
        done
        printf '\n'
    done
}
ceil=$(get throughput ceiling tso 65226 median)
ceil_cpu=$(get throughput ceiling tso 65226 qemu_cpu_s_per_gib)
ceil_cyc=$(get throughput ceiling tso 65226 guest_cycles_per_byte)
pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0 && a != "") printf "%.0f%%", 100 * a / b; else printf "–" }'; }
# verdict HOLDS TEXT-IF-MET TEXT-IF-MISSED
verdict() { if [ "$1" = 1 ]; then echo "met: $2"; else echo "**MISSED**: $3"; fi; }

{
    echo "# Zero-copy TCP benchmark ($(env_get arch | grep . || echo x86_64)): latest results"
    echo
    echo "$(env_get date). Machine: $(env_get machine), host Linux $(env_get host_kernel)."
    echo "$(env_get qemu); accelerator **$(env_get accel)**."
    echo "Both guests: \`$(env_get guest_config)\`."
    echo "Tern: $(env_get tern). Linux guest: $(env_get linux)."
    echo "$(env_get runs); the whole run took $(env_get elapsed_s) s."
    [ "$(env_get smoke)" = 1 ] && echo "**Smoke run** (\`make bench-smoke\`): one short run per case; not for comparison."
    [ "$(env_get short)" = 1 ] && echo "**Short run** ($(env_get boots) boots per guest; BENCH_RUNS, BENCH_SECONDS, BENCH_SIZES or BENCH_BOOTS below \`make bench\`'s): for checking the machinery, not for comparison."
    echo
    echo "Senders: \`bench/bulksend\` (one static musl binary, the same file in both guests)"
    echo "sending from a ring of pre-filled buffers for a fixed time to \`bench/sink\` in the"
    echo "host's network namespace; the first run of each case has every byte checked"
    echo "against the pattern stream. The device ceiling is \`ktest=net_ceiling\`: Tern's"
    echo "virtio-net driver pushing pre-built 64 KiB TSO frames (gso_size 1448) with no TCP,"
    echo "measured on the host as the tap's rx_bytes."
    echo
    echo "## Throughput, Gbit/s: median (min–max) of $(env_get runs | cut -d' ' -f1) runs"
    echo
    table median
    echo
    echo "Device ceiling: **${ceil:-–} Gbit/s** ($(get throughput ceiling tso 65226 min)–$(get throughput ceiling tso 65226 max))."
    echo
    echo "What the ceiling leaves out: its frames reach no socket on the host (the tap"
    echo "counts them, then the host drops them), so it pays for neither the host's TCP"
    echo "receive nor the sink's copy. Every sender run pays for both, on the same host"
    echo "CPUs as QEMU's vCPU and I/O threads; on a machine with few cores that is a large"
    echo "part of the gap to the ceiling."
    echo
    echo "## Host CPU: QEMU process utime+stime per GiB moved (s/GiB, median)"
    echo
    table qemu_cpu_s_per_gib
    echo
    echo "Device ceiling: ${ceil_cpu:-–} s/GiB."
    echo
    echo "## Guest cycles per byte (vCPU threads' CPU time at $(env_get cpu_mhz) MHz, median)"
    echo
    echo "Under TCG the guest's own cycle counter is the host's clock, so the guest's"
    echo "work is measured from outside: the CPU time of QEMU's vCPU threads (named with"
    echo "\`-name ...,debug-threads=on\`) over the transfer. The rest of QEMU's CPU time is"
    echo "its I/O thread (virtio-net and the tap)."
    echo
    table guest_cycles_per_byte
    echo
    echo "Device ceiling: ${ceil_cyc:-–} cycles/byte."
    echo
    if [ -s "$D/counters.csv" ]; then
        echo "## Tern's events per MiB sent (median over the runs)"
        echo
        echo "From /proc/net/netstat's TernCpu and TernZcopy lines, read by bulksend"
        echo "before and after its transfer: where the guest's cycles per byte go."
        echo
        echo "| mode | message | switches | wakeups | cross-CPU wakeups | IPIs | interrupts | syscalls | completions |"
        echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
        awk -F, "$STATS"'
        FNR > 1 && $1 == "tern" && $5 > 0 {
            k = $2 SUBSEP $3
            if (!(k in n)) { keys[++nk] = k; n[k] = 0 }
            n[k]++
            for (c = 6; c <= 13; c++) v[k, c, n[k]] = $c * 1048576 / $5
        }
        END {
            for (i = 1; i <= nk; i++) {
                k = keys[i]; split(k, p, SUBSEP)
                line = "| " p[1] " | " p[2]
                split("6 9 10 11 8 12 13", cols, " ")
                for (x = 1; x <= 7; x++) {
                    for (j = 1; j <= n[k]; j++) t[j] = v[k, cols[x], j]
                    line = line sprintf(" | %.1f", median(t, n[k]))
                }
                print line " |"
            }
        }' "$D/counters.csv" | sort -t'|' -k2,2 -k3,3n
        echo
    fi
    echo "## Ratios"
    echo
    echo "| message | Tern/Linux send | Tern/Linux MSG_ZEROCOPY | zcopy/ceiling | send/ceiling | MSG_ZEROCOPY/ceiling | sendfile/ceiling | zcopy/send (throughput) | zcopy/send (CPU per GiB) | zcopy_txq/send (throughput) | zcopy_txq/send (CPU per GiB) |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    for s in $sizes; do
        zs=$(awk -v a="$(get throughput tern zcopy "$s" median)" -v b="$(get throughput tern send "$s" median)" 'BEGIN { if (b > 0) printf "%.2f", a / b }')
        zc=$(awk -v a="$(get throughput tern zcopy "$s" qemu_cpu_s_per_gib)" -v b="$(get throughput tern send "$s" qemu_cpu_s_per_gib)" 'BEGIN { if (b > 0) printf "%.2f", a / b }')
        qs=$(awk -v a="$(get throughput tern zcopy_txq "$s" median)" -v b="$(get throughput tern send "$s" median)" 'BEGIN { if (b > 0 && a != "") printf "%.2f", a / b }')
        qc=$(awk -v a="$(get throughput tern zcopy_txq "$s" qemu_cpu_s_per_gib)" -v b="$(get throughput tern send "$s" qemu_cpu_s_per_gib)" 'BEGIN { if (b > 0 && a != "") printf "%.2f", a / b }')
        echo "| $(human "$s") | $(get throughput tern send "$s" vs_linux) | $(get throughput tern msg_zerocopy "$s" vs_linux) | $(get throughput tern zcopy "$s" vs_ceiling) | $(get throughput tern send "$s" vs_ceiling) | $(get throughput tern msg_zerocopy "$s" vs_ceiling) | $(get throughput tern sendfile "$s" vs_ceiling) | $zs | $zc | ${qs:-–} | ${qc:-–} |"
    done
    echo
    echo "## Boot, image size, memory (hello)"
    echo
    echo "| | Tern | Linux guest |"
    echo "|---|---:|---:|"
    for c in boot_to_main_host boot_to_main_guest boot_to_exit_host; do
        case $c in
        boot_to_main_host) label="QEMU exec → app main, host ms" ;;
        boot_to_main_guest) label="kernel start → app main, guest ms" ;;
        *) label="QEMU exec → QEMU exit, host ms" ;;
        esac
        t=$(get $c tern hello '' median) l=$(get $c linux hello '' median)
        echo "| $label, median of $(get $c tern hello '' n) (min–max) | $t ($(get $c tern hello '' min)–$(get $c tern hello '' max)) | $l ($(get $c linux hello '' min)–$(get $c linux hello '' max)) |"
    done
    echo "| image bytes | $(get image_size tern hello '' median) | $(get image_size linux hello '' median) |"
    echo "| smallest -m (MiB) that runs hello | $(get min_memory tern hello '' median) | $(get min_memory linux hello '' median) |"
    echo "| hello runs in 16 MiB | $( [ "$(get hello_runs_in_16m tern hello '' median)" = 1 ] && echo yes || echo no) | |"
    echo
    echo "Tern's image is the kernel + rofs.img of manifests/hello.yaml; the Linux guest's is"
    echo "Debian's vmlinuz + an initramfs with busybox, the virtio modules, hello and bulksend."
    echo "Linux guest time is /proc/uptime as init starts the app (10 ms resolution)."
    echo
    echo "## Targets"
    echo
    echo "| target | measured | verdict |"
    echo "|---|---|---|"
    # 1. zcopy_tx vs send() at 64 KiB.
    zt=$(get throughput tern zcopy 65536 median) st=$(get throughput tern send 65536 median)
    zc=$(get throughput tern zcopy 65536 qemu_cpu_s_per_gib) sc=$(get throughput tern send 65536 qemu_cpu_s_per_gib)
    r=$(awk -v a="$zt" -v b="$st" 'BEGIN { if (b > 0 && a != "") printf "%.2f", a / b; else print "" }')
    rc=$(awk -v a="$zc" -v b="$sc" 'BEGIN { if (b > 0 && a != "") printf "%.2f", a / b; else print "" }')
    ok=$(awk -v r="$r" -v c="$rc" 'BEGIN { print (r != "" && (r >= 1.3 || (r >= 0.95 && c != "" && c <= 0.7))) ? 1 : 0 }')
    echo "| zcopy_tx ≥ 1.3× send() throughput at 64 KiB, or the same throughput at ≤ 0.7× the CPU | ${r:-–}× throughput ($zt vs $st Gbit/s), ${rc:-–}× CPU per GiB ($zc vs $sc s/GiB) | $(verdict "$ok" "${r}× ≥ 1.3×" "${r:-?}× is $(awk -v r="$r" 'BEGIN { printf "%.0f%%", (1.3 - r) / 1.3 * 100 }') short of 1.3×; CPU ${rc:-?}× vs ≤ 0.7×") |"
    # 1b. Issue 17's targets for the native zero-copy modes: zcopy_tx with
    # a descriptor per send (zcopy) and through a completion queue
    # (zcopy_txq). At >= 64 KiB: 1.3x send() with min-max ranges apart,
    # and <= 0.7x send()'s QEMU CPU per GiB.
    for m in zcopy zcopy_txq; do
        worst= ok=1 all=
        for s in $sizes; do
            [ "$s" -ge 65536 ] || continue
            line=$(awk -v zm="$(get throughput tern $m "$s" median)" -v zl="$(get throughput tern $m "$s" min)" \
                -v sm="$(get throughput tern send "$s" median)" -v sh="$(get throughput tern send "$s" max)" \
                -v zc="$(get throughput tern $m "$s" qemu_cpu_s_per_gib)" -v sc="$(get throughput tern send "$s" qemu_cpu_s_per_gib)" \
                -v s="$s" 'BEGIN { if (zm == "" || sm <= 0 || sc <= 0) { print "0 -"; exit }
                    r = zm / sm; c = zc / sc; apart = (zl + 0 > sh + 0)
                    good = (r >= 1.3 && apart && c <= 0.7)
                    printf "%d %.2fx, ranges %s, CPU %.2fx at %s\n", good, r,
                        apart ? "apart" : "overlap", c, s }')
            [ "${line%% *}" = 1 ] || { ok=0; worst=${worst:-${line#* }}; }
            all="$all${all:+; }${line#* }"
        done
        [ -n "$all" ] || ok=0           # no size >= 64 KiB measured: not met
        echo "| $m ≥ 1.3× send() at every size ≥ 64 KiB, min–max ranges apart, ≤ 0.7× its QEMU CPU per GiB | ${all:-–} | $(verdict "$ok" "at every size ≥ 64 KiB" "${worst:-no size ≥ 64 KiB measured}") |"
    done
    # zcopy_tx >= MSG_ZEROCOPY at every size (within noise: 0.95x of its
    # median), and at 4 KiB every zero-copy mode >= 0.95x send().
    for m in zcopy zcopy_txq; do
        low=$(for s in $sizes; do
            awk -v a="$(get throughput tern $m "$s" median)" -v b="$(get throughput tern msg_zerocopy "$s" median)" -v s="$s" \
                'BEGIN { if (a != "" && b > 0) printf "%.2f %s\n", a / b, s }'
        done | sort -n | head -n 1)
        ok=$(awk -v r="${low%% *}" 'BEGIN { print (r != "" && r >= 0.95) ? 1 : 0 }')
        echo "| $m ≥ MSG_ZEROCOPY (≥ 0.95× its median) at every size | lowest: ${low%% *}× (at ${low#* } bytes) | $(verdict "$ok" "every size" "${low%% *}× at ${low#* } bytes") |"
    done
    low=$(for m in msg_zerocopy zcopy zcopy_txq; do
        awk -v a="$(get throughput tern $m 4096 median)" -v b="$(get throughput tern send 4096 median)" -v m="$m" \
            'BEGIN { if (a != "" && b > 0) printf "%.2f %s\n", a / b, m }'
    done | sort -n)
    w=$(echo "$low" | head -n 1)
    ok=$(awk -v r="${w%% *}" 'BEGIN { print (r != "" && r >= 0.95) ? 1 : 0 }')
    echo "| every zero-copy mode ≥ 0.95× send() at 4 KiB | $(echo "$low" | awk 'NF { printf "%s%s %s×", sep, $2, $1; sep = ", " }') | $(verdict "$ok" "lowest ${w%% *}×" "${w#* } at ${w%% *}×") |"
    for m in zcopy zcopy_txq; do
        r=$(awk -v a="$(get throughput tern $m 65536 guest_cycles_per_byte)" -v b="$ceil_cyc" \
            'BEGIN { if (a != "" && b > 0) printf "%.1f", a / b }')
        ok=$(awk -v r="$r" 'BEGIN { print (r != "" && r <= 2) ? 1 : 0 }')
        echo "| $m guest cycles per byte at 64 KiB ≤ 2× the device ceiling's | $(get throughput tern $m 65536 guest_cycles_per_byte) vs ${ceil_cyc:-–} (${r:-–}×) | $(verdict "$ok" "${r}× ≤ 2×" "${r:-?}×") |"
    done
    # 2. Tern ≥ Linux for every mode both support, every size.
    worst=$(awk -F, '$1 == "throughput" && $2 == "tern" && $12 != "" { print $12, $3, $4 }' "$D/latest.csv" | sort -n | head -n 1)
    wr=${worst%% *}
    ok=$(awk -v r="$wr" 'BEGIN { print (r != "" && r >= 1) ? 1 : 0 }')
    echo "| Tern ≥ Linux guest throughput, send() and MSG_ZEROCOPY, every size | lowest Tern/Linux: ${wr:-–}× (${worst#* }) | $(verdict "$ok" "every ratio ≥ 1" "Tern is $(awk -v r="$wr" 'BEGIN { printf "%.0f%%", (1 - r) * 100 }') below Linux at ${worst#* }") |"
    # 3. Within 90% of the ceiling at >= 64 KiB: each mode.
    for m in zcopy msg_zerocopy sendfile send; do
        lowest=$(awk -F, -v m=$m '$1 == "throughput" && $2 == "tern" && $3 == m && $4 >= 65536 && $13 != "" { print $13, $4 }' "$D/latest.csv" | sort -n | head -n 1)
        lr=${lowest%% *}
        ok=$(awk -v r="$lr" 'BEGIN { print (r != "" && r >= 0.9) ? 1 : 0 }')
        echo "| Tern $m within 90% of the device ceiling at ≥ 64 KiB | lowest: $(pct "$lr" 1) of ${ceil:-?} Gbit/s (at ${lowest#* } bytes) | $(verdict "$ok" "≥ 90%" "$(awk -v r="$lr" 'BEGIN { printf "%.0f", (0.9 - r) * 100 }') points below 90%") |"
    done
    # 4-6. Boot, image, memory.
    b=$(get boot_to_main_guest tern hello '' median)
    ok=$(awk -v b="$b" 'BEGIN { print (b != "" && b < 50) ? 1 : 0 }')
    echo "| Tern boot to app main < 50 ms of guest time | $b ms (median) | $(verdict "$ok" "$(awk -v b="$b" 'BEGIN { printf "%.1f ms to spare", 50 - b }')" "$(awk -v b="$b" 'BEGIN { printf "%.1f ms over", b - 50 }')") |"
    sz=$(get image_size tern hello '' median)
    ok=$(awk -v s="$sz" 'BEGIN { print (s != "" && s < 2097152) ? 1 : 0 }')
    echo "| hello image < 2 MiB | $sz bytes ($(awk -v s="$sz" 'BEGIN { printf "%.2f MiB", s / 1048576 }')) | $(verdict "$ok" "$(awk -v s="$sz" 'BEGIN { printf "%.0f KiB to spare", (2097152 - s) / 1024 }')" "$(awk -v s="$sz" 'BEGIN { printf "%.0f KiB over", (s - 2097152) / 1024 }')") |"
    m16=$(get hello_runs_in_16m tern hello '' median)
    mm=$(get min_memory tern hello '' median)
    echo "| hello runs in 16 MiB of guest memory | $( [ "$m16" = 1 ] && echo runs || echo fails)${mm:+; smallest: $mm MiB} | $(verdict "$( [ "$m16" = 1 ] && echo 1 || echo 0)" "runs" "does not run in 16 MiB") |"
    echo
    echo "Raw data: runs.csv (every run), counters.csv (Tern's events per run), boot.csv (every boot), size.csv, memory.csv, env.txt."
} > "$D/latest.md"

# ---------------------------------------------------------------- plots ---
if ! command -v gnuplot > /dev/null 2>&1; then
    echo "report: gnuplot is not installed (gnuplot-nox): no plots" >&2
    exit 0
fi
dat=$D/plot.dat
{
    for s in $sizes; do
        printf '%s' "$s"
        for c in $cols; do
            for f in median min max qemu_cpu_s_per_gib; do
                val=$(get throughput "${c%%:*}" "${c#*:}" "$s" $f)
                printf ' %s' "${val:-NaN}"
            done
        done
        printf '\n'
    done
} > "$dat"
title="$(env_get arch | grep . || echo x86_64), $(env_get accel | cut -d' ' -f1 | tr a-z A-Z), $(env_get guest_config | sed 's/.*-m \([0-9]*\) -smp \([0-9]*\).*/-m \1, \2 vCPUs/')"
gnuplot <<EOF
set terminal pngcairo size 1000,600 font ",11" noenhanced
set output "$D/throughput.png"
set title "TCP send throughput into the host ($title): median, min-max bars"
set xlabel "message size (bytes)"
set ylabel "Gbit/s"
set logscale x 2
set xtics ("4 KiB" 4096, "16 KiB" 16384, "64 KiB" 65536, "256 KiB" 262144, "1 MiB" 1048576)
set xrange [2048:2097152]
set yrange [0:*]
set key outside right
set grid
ceil = ${ceil:-0}
plot ceil with lines lw 2 dt 2 lc rgb "black" title "device ceiling (TSO, no TCP)", \
  "$dat" using 1:2:3:4 with yerrorlines lw 2 title "Tern send()", \
  "$dat" using 1:6:7:8 with yerrorlines lw 2 title "Tern MSG_ZEROCOPY", \
  "$dat" using 1:10:11:12 with yerrorlines lw 2 title "Tern zcopy_tx", \
  "$dat" using 1:14:15:16 with yerrorlines lw 2 title "Tern sendfile()", \
  "$dat" using 1:18:19:20 with yerrorlines lw 2 dt 3 title "Linux send()", \
  "$dat" using 1:22:23:24 with yerrorlines lw 2 dt 3 title "Linux MSG_ZEROCOPY"
set output "$D/cpu.png"
set title "Host CPU per GiB sent: the QEMU process's utime+stime ($title)"
set ylabel "CPU seconds per GiB"
set logscale y
set yrange [*:*]
set format y "%g"
ceilcpu = ${ceil_cpu:-0}
plot ceilcpu with lines lw 2 dt 2 lc rgb "black" title "device ceiling", \
  "$dat" using 1:5 with linespoints lw 2 title "Tern send()", \
  "$dat" using 1:9 with linespoints lw 2 title "Tern MSG_ZEROCOPY", \
  "$dat" using 1:13 with linespoints lw 2 title "Tern zcopy_tx", \
  "$dat" using 1:17 with linespoints lw 2 title "Tern sendfile()", \
  "$dat" using 1:21 with linespoints lw 2 dt 3 title "Linux send()", \
  "$dat" using 1:25 with linespoints lw 2 dt 3 title "Linux MSG_ZEROCOPY"
EOF
rm -f "$dat"
