# Tool tests for the small things a daily user meets (issue 16, points 8
# and 9): files that are not manifests, -h everywhere, SIGTERM's status, a
# killed build's leftovers, -o naming a file, mkrofs and tern cat guarding
# data, a manifest on stdin, make install, tern(1) and the completion
# covering every command and option. No guest boots; about 10 s (the docs
# checker about 6 s of it on a loaded 2-core machine).
# shellcheck disable=SC2016
# Its set-up (builds, make install) runs only when one of its cases is
# selected (TESTS): tool_file_wanted (tests/run-tests.sh) reads their names.
if tool_file_wanted tests/tool/daily.sh; then
# Absolute: manifests written here name host files by path.
mkdir -p "$LOG_DIR"
DY=$(cd "$LOG_DIR" && pwd)/daily
rm -rf "$DY"
mkdir -p "$DY"

# Not a manifest: said for what it is, not as a YAML error.
"$TERN" build manifests/hello.yaml --kernel "$KERNEL" -o "$DY/img" -q > /dev/null 2>&1
tool_case build_given_image_dir 2 "error: '.*/daily/img' is a directory, not a manifest \\(an image directory: boot it with tern run DIR\\)" -- \
    "$TERN" build "$DY/img" --kernel "$KERNEL"
tool_case build_given_elf 2 "error: '.*kernel\\.elf' is not a manifest: it is an ELF file" -- \
    "$TERN" build "$DY/img/kernel.elf" --kernel "$KERNEL"
tool_case build_given_rofs 2 "error: '.*rofs\\.img' is not a manifest: it is a ROFS image" -- \
    "$TERN" build "$DY/img/rofs.img" --kernel "$KERNEL"
tool_case run_given_elf 2 "error: '.*kernel\\.elf' is not a manifest: it is an ELF file .*run --kernel|is not a manifest: it is an ELF file" -- \
    "$TERN" run "$DY/img/kernel.elf"

# -h like every other command; version in the help.
tool_case run_dash_h 0 '^usage: tern run MANIFEST\|DIR' -- "$TERN" run -h
tool_case probe_dash_h 0 '^usage: tern run MANIFEST\|DIR' -- "$TERN" probe -h
tool_case help_names_version 0 '^  version  print the version' -- "$TERN" --help

# SIGTERM: the guest (here a stand-in QEMU that sleeps) is stopped and tern
# exits 143 like a shell's 128 + 15; Ctrl-C's SIGINT stays 130.
printf '#!/bin/sh\nexec sleep 60\n' > "$DY/slow-qemu"
chmod 755 "$DY/slow-qemu"
tern_signal() {
    "$TERN" run --kernel "$KERNEL" --accel tcg --qemu "$DY/slow-qemu" > "$DY/sig.log" 2>&1 &
    pid=$!
    sleep 1
    kill "-$1" "$pid"
    wait "$pid"
    echo "status $?"
}
tool_case run_sigterm_143 0 '^status 143$' -- tern_signal TERM
tool_case run_sigint_130 0 '^status 130$' -- tern_signal INT

# A build killed with SIGKILL leaves its temporary directory; the next build
# of the same target removes it (its process is gone) and says so.
stale_pid=999999
while kill -0 "$stale_pid" 2>/dev/null; do stale_pid=$((stale_pid - 1)); done
mkdir -p "$DY/.img.tmp-$stale_pid-AbCdEf"
cp "$KERNEL" "$DY/.img.tmp-$stale_pid-AbCdEf/kernel.elf"
tool_case build_removes_stale_tmp 0 "removed .*/\\.img\\.tmp-$stale_pid-AbCdEf, left by an earlier build that was killed" -- \
    "$TERN" build manifests/hello.yaml --kernel "$KERNEL" -o "$DY/img"
tool_case build_stale_tmp_gone 0 '^gone$' -- \
    sh -c 'ls -A "$1" | grep -q "tmp-" || echo gone' sh "$DY"

# -o naming a regular file.
echo notes > "$DY/notes.txt"
tool_case build_out_is_file 2 "error: -o .*/notes\\.txt: a file is there, not a directory; -o names the image directory" -- \
    "$TERN" build manifests/hello.yaml --kernel "$KERNEL" -o "$DY/notes.txt"

# mkrofs never overwrites a file that is not a ROFS image...
mkdir -p "$DY/tree"
echo 'UNIQUE-MARKER-0123456789' > "$DY/tree/data.txt"
echo precious > "$DY/precious.txt"
tool_case mkrofs_refuses_non_image 2 "mkrofs: .*/precious\\.txt exists and is not a ROFS image; not overwriting it" -- \
    "$TERN" mkrofs "$DY/precious.txt" "$DY/tree"
tool_case mkrofs_non_image_kept 0 '^precious$' -- cat "$DY/precious.txt"
# ...but replaces an image.
"$TERN" mkrofs "$DY/r.img" "$DY/tree" > /dev/null 2>&1
tool_case mkrofs_replaces_image 0 'r\.img: 2 entries' -- "$TERN" mkrofs "$DY/r.img" "$DY/tree"

# tern cat checks each file against its SHA-256 before writing it.
flip_marker() {
    off=$(grep -obUa 'UNIQUE-MARKER' "$1" | head -n 1 | cut -d: -f1)
    printf 'X' | dd of="$1" bs=1 seek="$off" conv=notrunc status=none
}
cp "$DY/r.img" "$DY/bad.img"
flip_marker "$DY/bad.img"
tool_case cat_verifies_digest 1 "bad\\.img: /data\\.txt: corrupt image: the file's contents do not match its SHA-256 digest" -- \
    "$TERN" cat "$DY/bad.img" /data.txt
tool_case cat_good_file 0 '^UNIQUE-MARKER-0123456789$' -- "$TERN" cat "$DY/r.img" /data.txt

# tern build - : the manifest on stdin, host paths from the current directory.
tool_case build_from_stdin 0 '^tern: built .*/daily/stdin: kernel\.elf' -- \
    sh -c 'sed "s|\\.\\./|$PWD/|" manifests/hello.yaml | "$1" build - --kernel "$2" -o "$3/stdin"' \
    sh "$TERN" "$KERNEL" "$DY"
tool_case build_from_stdin_errors 2 '^<stdin>:2:7: error: cpus: .x. is not a number' -- \
    sh -c 'printf "name: s\ncpus: x\n" | "$1" build - --kernel "$2" -o "$3/stdin-bad"' \
    sh "$TERN" "$KERNEL" "$DY"

# make install into a staging directory: the files, and an installed tern
# that finds its kernel and headers and documents itself.
if true; then  # cheap: copies five files
    make -s install DESTDIR="$DY/stage" PREFIX=/usr > "$DY/install.log" 2>&1
fi
I=$DY/stage/usr
tool_case install_files 0 '^bin/tern include/tern/zcopy\.h lib/tern/x86_64-kvm/kernel\.elf share/bash-completion/completions/tern share/man/man1/tern\.1 $' -- \
    sh -c 'cd "$1" && find . -type f | sed "s|^\./||" | sort | tr "\n" " "; echo' sh "$I"
tool_case install_tern_finds_kernel 0 "^tern: built .*: kernel\\.elf \\(from .*/stage/usr/lib/tern/x86_64-kvm/kernel\\.elf\\)" -- \
    env -u TERN_KERNEL "$I/bin/tern" build manifests/hello.yaml -o "$DY/inst-img"
# Rendered by man or groff when there is one, else its NAME section as written.
tool_case install_man_page 0 'tern \\?- build and run Tern unikernel images' -- \
    sh -c 'MANWIDTH=80 man -l "$1" 2>/dev/null || groff -man -Tascii "$1" 2>/dev/null ||
           sed -n "/^\.SH NAME/{n;p;}" "$1"' sh "$I/share/man/man1/tern.1"
tool_case install_bash_completion 0 '^build / qemu virsh$' -- bash -c '
    . "$1"; COMP_WORDS=(tern bu); COMP_CWORD=1; _tern; a="${COMPREPLY[*]}"
    COMP_WORDS=(tern run --via ""); COMP_CWORD=3; _tern; echo "$a / ${COMPREPLY[*]}"' \
    bash "$I/share/bash-completion/completions/tern"
tool_case install_cc_headers 0 'zcopy' -- sh -c '
    printf "#include <tern/zcopy.h>\n" > "$2/z.c" && env -u TERN_INCLUDE "$1" cc -E "$2/z.c" -o - | grep -m1 zcopy' \
    sh "$I/bin/tern" "$DY"
# The installed man page and completion know every command tern.c
# dispatches and every option each command's --help lists (issue 16's
# ps, logs, console, stop, rm and run -d/-p/-e/--name came without them);
# the checker itself must catch a command dropped from both.
tool_case docs_cover_commands 0 '^docs cover [0-9]+ commands and [0-9]+ options$' -- \
    scripts/check-tern-docs.sh "$I/bin/tern" image/tern.c "$I/share/man/man1/tern.1" \
    "$I/share/bash-completion/completions/tern"
grep -v '^\.B tern ps$' docs/tern.1 > "$DY/no-ps.1"
sed 's/ ps logs / logs /' scripts/tern.bash-completion > "$DY/no-ps.bash"
tool_case docs_cover_catches_gaps 1 'missing: command ps in .*/no-ps\.1 \(\.B tern ps in SYNOPSIS\).*missing: command ps in .*/no-ps\.bash \(tern <TAB>\)' -- \
    sh -c 'out=$("$@"); rc=$?; echo "$out" | tr "\n" " "; exit $rc' sh \
    scripts/check-tern-docs.sh "$TERN" image/tern.c "$DY/no-ps.1" "$DY/no-ps.bash"
tool_case completion_instances_and_app_args 0 '^ed-one / -v / no-ps\.1 no-ps\.bash$' -- bash -c '
    . scripts/tern.bash-completion
    tern() { [ "$1" = ps ] && printf "NAME STATUS\ned-one running\nzz exited\n"; }
    COMP_WORDS=(tern stop e); COMP_CWORD=2; _tern; a="${COMPREPLY[*]}"
    COMP_WORDS=(tern run -v); COMP_CWORD=2; _tern; b="${COMPREPLY[*]}"
    cd "$1"; COMP_WORDS=(tern run x.yaml -- no-); COMP_CWORD=4; _tern
    echo "$a / $b / ${COMPREPLY[*]}"' bash "$DY"
make -s uninstall DESTDIR="$DY/stage" PREFIX=/usr > /dev/null 2>&1
tool_case uninstall_removes 0 '^empty$' -- \
    sh -c 'find "$1" -type f | grep . || echo empty' sh "$I"

# Sparse files stay sparse: a 64 MiB file with 5 bytes of data makes a
# 64 MiB rofs.img that takes almost no disk space, with the same contents.
truncate -s 64M "$DY/sparse"
printf 'hello' | dd of="$DY/sparse" bs=1 seek=30000000 conv=notrunc status=none
printf 'name: sparse\nmemory: 128M\ncmdline: [/bin/hello]\nfiles:\n  /bin/hello: %s\n  /sparse: %s\n' \
    "$PWD/out/apps/hello" "$DY/sparse" > "$DY/sparse.yaml"
"$TERN" build "$DY/sparse.yaml" --kernel "$KERNEL" -o "$DY/sparse-img" -q > /dev/null 2>&1
tool_case rofs_sparse_stored_sparsely 0 '^sparse$' -- sh -c '
    size=$(stat -c %s "$1"); kib=$(du -k "$1" | cut -f1)
    [ "$size" -gt 67108864 ] && [ "$kib" -lt 4096 ] && echo sparse || echo "dense: $kib KiB for $size bytes"' \
    sh "$DY/sparse-img/rofs.img"
tool_case rofs_sparse_same_contents 0 '^same$' -- sh -c '
    "$1" cat "$2" /sparse | cmp -s - "$3" && echo same' sh "$TERN" "$DY/sparse-img/rofs.img" "$DY/sparse"
rm -f "$DY/sparse"
fi
