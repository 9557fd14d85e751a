# The ELF loader turns away what it cannot run, saying why, with status
# 127 (no such program) or 126 (cannot run it), as a shell would; and a
# glibc program's unknown system call (rseq) is named once in the log.
ELF=$(cd "$LOG_DIR" && pwd)/elf
rm -rf "$ELF"
mkdir -p "$ELF"

# elf_case NAME STATUS REGEX PROGRAM-FILE
elf_case() {
    cat > "$ELF/$1.yaml" <<EOT
name: elf-$1
memory: 48M
cmdline: [/bin/prog, arg]
files:
  /bin/prog: $4
EOT
    # tern build refuses these programs (tests/tool/build_checks.sh); --force
    # builds them anyway, so the guest's own loader is tested too.
    "$TERN" build "$ELF/$1.yaml" -o "$ELF/img-$1" --kernel "$KERNEL" --accel "$ACCEL" \
        --force -q > "$ELF/build-$1.log" 2>&1
    image_case "elf_$1" "$2" "$3" -- "$ELF/img-$1" --accel "$ACCEL"
}

hello=$PWD/out/apps/hello
printf 'echo this is a shell script\n' > "$ELF/script"
chmod 755 "$ELF/script"
head -c 200 "$hello" > "$ELF/truncated"
chmod 755 "$ELF/truncated"
cp "$hello" "$ELF/aarch64"
printf '\267\000' | dd of="$ELF/aarch64" bs=1 seek=18 conv=notrunc status=none
cp "$hello" "$ELF/noexec"
chmod 644 "$ELF/noexec"
gcc -o "$ELF/dynamic" apps/hello.c
gcc -c -o "$ELF/object.o" apps/hello.c
chmod 755 "$ELF/object.o"
: > "$ELF/empty"
chmod 755 "$ELF/empty"

elf_case not_elf 126 'app /bin/prog: not an ELF file \(no \\x7fELF magic\) \(cannot run\)' "$ELF/script"
elf_case truncated 126 'app /bin/prog: program headers \(offset 64\) extend past the end of the file \(200 bytes\)' "$ELF/truncated"
elf_case wrong_machine 126 'app /bin/prog: built for machine 183, not x86_64 \(62\)' "$ELF/aarch64"
elf_case not_executable 126 'app /bin/prog: not executable \(mode 0644\)' "$ELF/noexec"
elf_case dynamic 126 'app /bin/prog: dynamically linked \(PT_INTERP /lib64/ld-linux-x86-64.so.2\): only static programs run yet' "$ELF/dynamic"
elf_case relocatable 126 'app /bin/prog: not an executable \(e_type 1: a relocatable object\)' "$ELF/object.o"
elf_case empty 126 'app /bin/prog: an empty file' "$ELF/empty"

# A program that is not in the image: 127.
cat > "$ELF/missing.yaml" <<EOT
name: elf-missing
memory: 48M
cmdline: [/bin/nothere]
EOT
image_case elf_missing 127 'app /bin/nothere: cannot open it \(not found\)' -- \
    "$ELF/missing.yaml" -o "$ELF/missing" --kernel "$KERNEL" --accel "$ACCEL"

# glibc's start-up asks for rseq, which Tern does not have: ENOSYS, logged
# by name, once (the count is checked below).
cat > "$ELF/glibc.yaml" <<EOT
name: elf-glibc
memory: 48M
cmdline: [/bin/hello, glibc]
files:
  /bin/hello: $PWD/out/apps/hello-glibc
EOT
image_case elf_enosys_named 0 '^\[ *[0-9.]+\] syscall rseq \(334\) is not implemented: ENOSYS$' \
    '^argv\[1\]=glibc$' -- "$ELF/glibc.yaml" -o "$ELF/glibc" --kernel "$KERNEL" --accel "$ACCEL"
