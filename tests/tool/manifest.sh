# Tool tests for manifests and `tern build` (no guest boots; see
# tests/guest/build.sh for those).
#
# bad_manifest NAME LINE:COL MESSAGE-REGEX
#   tern build of tests/manifests/bad/NAME.yaml fails with status 2 and the
#   message "tests/manifests/bad/NAME.yaml:LINE:COL: error: MESSAGE".
MB=$LOG_DIR/manifest-build
rm -rf "$MB"
mkdir -p "$MB"

bad_manifest() {
    tool_case "manifest_$1" 2 "^tests/manifests/bad/$1\\.yaml:$2: error: $3" -- \
        "$TERN" build "tests/manifests/bad/$1.yaml" --kernel "$KERNEL" -o "$MB/bad"
}

# YAML and document shape
bad_manifest yaml_syntax 3:6 "YAML syntax: did not find expected ',' or '\\]' \\(while parsing a flow sequence at line 2, column 10\\)"
bad_manifest empty 1:1 "the manifest is empty \\(it needs at least 'name'\\)"
bad_manifest not_mapping 1:1 "expected a mapping of keys .* at the top, got a list"
bad_manifest two_documents 3:1 "a second YAML document \\('---'\\): a manifest is one document"
# keys
bad_manifest unknown_key 2:1 "unknown key 'cpu' \\(did you mean 'cpus'\\?\\)"
bad_manifest unknown_key_list 2:1 "unknown key 'colour' \\(known keys: name, arch, platform, memory, cpus, cmdline, kernel_options, env, files, network, disk, ports, boot\\)"
bad_manifest duplicate_key 3:1 "duplicate key 'cpus' \\(first given at line 2\\)"
bad_manifest missing_name 1:1 "missing key 'name'"
bad_manifest wrong_type 2:7 "cpus: expected a number of vCPUs, got a list"
bad_manifest wrong_type_files 2:8 "files: expected a mapping of /guest/path: host/path, got a list"
# values
bad_manifest bad_name 1:7 "name: 'my image' is not a valid image name"
bad_manifest bad_arch 2:7 "arch: 'riscv64' is not one of: x86_64, aarch64"
# arch: aarch64 and platform: xen are valid names (tests/tool/machine.sh,
# tests/tool/xen_image.sh).
bad_manifest bad_memory 2:9 "memory: '12Q' is not a size"
bad_manifest memory_too_small 2:9 "memory: '4M' is too small \\(at least 16M\\)"
bad_manifest memory_not_mib 2:9 "memory: '1536K' is not a whole number of MiB"
bad_manifest bad_cpus 2:7 "cpus: '0' is not a number in 1\\.\\.255"
bad_manifest bad_disk 2:7 "disk: 'nvme' is not one of: initrd, virtio-blk"
# cmdline, kernel options, env
bad_manifest cmdline_empty 2:10 "cmdline: the list is empty; name the program to run"
bad_manifest cmdline_quote 2:22 "cmdline: argument 'say \"hi\"' contains a double quote, which the kernel command line cannot carry"
bad_manifest cmdline_unterminated 2:10 "cmdline: unterminated quote in '\"unterminated'"
bad_manifest kernel_options_dashdash 3:17 "kernel_options: must not contain '--'"
bad_manifest bad_env_name 3:3 "env: '1PATH' is not a valid variable name"
bad_manifest env_null 3:8 "env\\.HOME: expected a value, got nothing"
# files
bad_manifest missing_host_file 3:14 "files\\./etc/motd: host path 'no-such-file\\.txt' does not exist \\(looked for tests/manifests/bad/no-such-file\\.txt\\)"
bad_manifest duplicate_guest_path 4:3 "files: duplicate guest path '/etc/a' \\(also given at line 3\\)"
bad_manifest duplicate_from_dir 4:3 "files: duplicate guest path '/srv/a\\.txt': a file from '.*data/a\\.txt' \\(line 3\\) and a file from '.*data/b\\.txt' \\(line 4\\)"
bad_manifest relative_guest_path 3:3 "files: guest path 'etc/a' must be absolute"
bad_manifest escaping_guest_path 3:3 "files: guest path '/\\.\\./etc/a' escapes '/'"
bad_manifest reserved_guest_path 3:3 "files: guest path '/\\.tern/x' is reserved"
bad_manifest root_not_dir 3:6 "files\\./: host path '\\.\\./data/a\\.txt' must be a directory"
bad_manifest file_as_parent 4:3 "files: '/etc/a/b' \\(from '.*b\\.txt'\\) needs '/etc/a' to be a directory, but it is a file"
# network
bad_manifest bad_network_mode 3:9 "network\\.mode: 'wifi' is not one of: none, user, tap, bridge"
bad_manifest tap_without_device 3:9 "network: mode 'tap' needs 'tap: DEVICE'"
bad_manifest bad_mac 4:8 "network\\.mac: '52:54:00:12:34' is not a MAC address"
bad_manifest multicast_mac 4:8 "network\\.mac: '01:00:5e:00:00:01' is a multicast address"
bad_manifest bad_ip 4:7 "network\\.ip: '10\\.0\\.2\\.300/24' is not an IPv4 address"
bad_manifest bad_netmask 5:12 "network\\.netmask: '255\\.0\\.255\\.0' is not a netmask"
bad_manifest gateway_outside 5:12 "network\\.gateway: 10\\.0\\.3\\.2 is not in the image's subnet 10\\.0\\.2\\.15/24"

# Every problem is reported, not only the first, and nothing is written
# (six in the file, and no cmdline).
tool_case manifest_all_errors_reported 2 "^tern: error: tests/manifests/bad/many_errors\\.yaml: 7 errors; nothing was built" -- \
    "$TERN" build tests/manifests/bad/many_errors.yaml --kernel "$KERNEL" -o "$MB/bad"
tool_case manifest_bad_leaves_nothing 0 '^no output$' -- \
    sh -c 'ls -A "$1" | grep . || echo "no output"' sh "$MB"

tool_case build_help 0 'usage: tern build MANIFEST \[-o DIR\]' -- "$TERN" help build
tool_case build_no_manifest 2 'error: build: name a manifest' -- "$TERN" build
tool_case build_missing_manifest 2 "error: manifest '/nonexistent\\.yaml': No such file or directory" -- \
    "$TERN" build /nonexistent.yaml
tool_case build_bad_kernel 2 "error: kernel 'README\\.md' is not an x86_64 ELF file" -- \
    "$TERN" build manifests/hello.yaml --kernel README.md -o "$MB/bad"
tool_case build_bad_sde 2 "error: SOURCE_DATE_EPOCH='yesterday' is not a number" -- \
    env SOURCE_DATE_EPOCH=yesterday "$TERN" build manifests/hello.yaml --kernel "$KERNEL" -o "$MB/bad"

# --- good builds -----------------------------------------------------------
# Every example manifest builds.
for m in manifests/*.yaml; do
    n=$(basename "$m" .yaml)
    tool_case "build_example_$n" 0 "^tern: built $MB/ex-$n: kernel\\.elf" -- \
        "$TERN" build "$m" --kernel "$KERNEL" -o "$MB/ex-$n"
    tool_case "build_example_${n}_domain_valid" 0 'validates$' -- \
        virt-xml-validate "$MB/ex-$n/domain.xml" domain
done

H=$MB/hello
tool_case build_hello 0 "^tern: built .*/hello: kernel\\.elf" -- \
    "$TERN" build manifests/hello.yaml --kernel "$KERNEL" -o "$H"
# A program named by cmdline but missing from the image: a warning, and
# the image still builds (the program may come later in development).
printf 'name: nobin\ncmdline: [/bin/nothere]\n' > "$MB/nobin.yaml"
tool_case build_missing_program_warns 0 \
    "nobin\\.yaml:[0-9]+:[0-9]+: warning: cmdline: the program '/bin/nothere' is not in the image" -- \
    "$TERN" build "$MB/nobin.yaml" --kernel "$KERNEL" -o "$MB/nobin"
tool_case build_hello_files 0 '^domain\.xml kernel\.elf qemu\.args rofs\.img $' -- \
    sh -c 'for f in $(ls "$1"); do printf "%s " "$f"; done; echo' sh "$H"
tool_case build_hello_kernel_copied 0 '^same$' -- \
    sh -c 'cmp -s "$1" "$2/kernel.elf" && echo same' sh "$KERNEL" "$H"
tool_case build_hello_rofs_motd 0 '^same$' -- \
    sh -c '"$1" cat "$2/rofs.img" /etc/motd | cmp -s - README.md && echo same' sh "$TERN" "$H"
tool_case build_hello_settings 0 '^env GREETING=hello$' -- \
    "$TERN" cat "$H/rofs.img" /.tern/manifest
tool_case build_hello_qemu_args 0 '^-- /bin/hello "Hello, world"$' -- cat "$H/qemu.args"
tool_case build_hello_domain_cmdline 0 "<cmdline>-- /bin/hello &quot;Hello, world&quot;</cmdline>" -- \
    cat "$H/domain.xml"
tool_case build_hello_domain_abs_paths 0 "<initrd>/.*/manifest-build/hello/rofs\\.img</initrd>" -- \
    cat "$H/domain.xml"

# Default output directory: build/NAME under the current directory.
abs_path() { echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; }
tool_case build_default_dir 0 '^kernel\.elf$' -- \
    sh -c 'mkdir -p "$1/cwd" && cd "$1/cwd" && "$2" build "$3" --kernel "$4" -q 2>/dev/null && ls build/hello | grep kernel' \
    sh "$MB" "$(abs_path "$TERN")" "$PWD/manifests/hello.yaml" "$(abs_path "$KERNEL")"

# Reproducible: the same inputs give the same bytes, in the same place.
tool_case build_reproducible 0 '^identical$' -- sh -c '
    "$1" build manifests/hello.yaml --kernel "$2" -o "$3/r" -q 2>/dev/null &&
    mkdir -p "$3/r1" && cp "$3"/r/* "$3/r1/" &&
    "$1" build manifests/hello.yaml --kernel "$2" -o "$3/r" -q 2>/dev/null &&
    for f in kernel.elf rofs.img domain.xml qemu.args; do cmp "$3/r1/$f" "$3/r/$f" || exit 1; done &&
    echo identical' sh "$TERN" "$KERNEL" "$MB"

# A tree with modes, a symbolic link and nested directories, built in a
# scratch directory (git does not keep modes like 0600).
T=$MB/tree
mkdir -p "$T/site/css/deep" "$T/bin"
echo 'body {}' > "$T/site/css/style.css"
echo 'deep' > "$T/site/css/deep/x.txt"
printf '<h1>hi</h1>\n' > "$T/site/index.html"
echo secret > "$T/site/key.pem"
chmod 0600 "$T/site/key.pem"
printf '#!/bin/sh\n' > "$T/bin/tool"
chmod 0755 "$T/bin/tool"
ln -sf index.html "$T/site/home.html"
ln -sf /srv/www/css "$T/site/styles"
# /bin/tool is a script, which tern build refuses as a program
# (build_checks.sh): these builds use --force.
cat > "$T/tree.yaml" <<'EOF'
name: tree
cmdline: [/bin/tool, --root, /srv/www]
files:
  /srv/www: site
  /bin/tool: bin/tool
EOF
tool_case build_tree 0 '^tern: built ' -- "$TERN" build "$T/tree.yaml" --force --kernel "$KERNEL" -o "$T/out"
tool_case build_tree_symlink_kept 0 'home\.html -> index\.html' -- "$TERN" ls -l "$T/out/rofs.img" /srv/www
tool_case build_tree_abs_symlink_kept 0 'styles -> /srv/www/css' -- "$TERN" ls -l "$T/out/rofs.img" /srv/www
tool_case build_tree_mode_kept 0 '^-rw------- .*key\.pem' -- "$TERN" ls -l "$T/out/rofs.img" /srv/www
tool_case build_tree_exec_kept 0 '^-rwxr-xr-x .*tool' -- "$TERN" ls -l "$T/out/rofs.img" /bin
tool_case build_tree_nested 0 '^deep$' -- "$TERN" cat "$T/out/rofs.img" /srv/www/css/deep/x.txt
tool_case build_tree_owner_root 0 '^-rw------- +0 +0 ' -- "$TERN" ls -l "$T/out/rofs.img" /srv/www

# SOURCE_DATE_EPOCH clamps mtimes: touching the inputs changes nothing...
tool_case build_sde_reproducible 0 '^identical$' -- sh -c '
    SOURCE_DATE_EPOCH=1000000000 "$1" build "$3/tree.yaml" --force --kernel "$2" -o "$3/s" -q 2>/dev/null &&
    cp "$3/s/rofs.img" "$3/s1.img" && touch "$3/site/index.html" "$3/site" &&
    SOURCE_DATE_EPOCH=1000000000 "$1" build "$3/tree.yaml" --force --kernel "$2" -o "$3/s" -q 2>/dev/null &&
    cmp "$3/s1.img" "$3/s/rofs.img" && echo identical' sh "$TERN" "$KERNEL" "$T"
# ...while without it the image follows the files' own times.
tool_case build_mtime_followed 0 '^differ$' -- sh -c '
    "$1" build "$3/tree.yaml" --force --kernel "$2" -o "$3/m" -q 2>/dev/null &&
    cp "$3/m/rofs.img" "$3/m1.img" && touch -d "2001-02-03 04:05:06" "$3/site/index.html" &&
    "$1" build "$3/tree.yaml" --force --kernel "$2" -o "$3/m" -q 2>/dev/null &&
    { cmp -s "$3/m1.img" "$3/m/rofs.img" && echo same || echo differ; }' sh "$TERN" "$KERNEL" "$T"

# Special files are refused with the manifest entry's position.
mkfifo "$T/site/pipe" 2>/dev/null
tool_case build_fifo_refused 2 "tree\\.yaml:4:13: error: files\\./srv/www: '.*site/pipe' is a FIFO; only files, directories and symbolic links can be packed" -- \
    "$TERN" build "$T/tree.yaml" --force --kernel "$KERNEL" -o "$T/out"
# ...and the previous image is untouched by the failed build.
tool_case build_failure_keeps_old 0 '^untouched$' -- sh -c '
    cmp -s "$1/out/kernel.elf" "$2" && "$3" ls "$1/out/rofs.img" /srv/www | grep -q index.html &&
    ! ls -A "$1" | grep -q tmp- && echo untouched' sh "$T" "$KERNEL" "$TERN"
rm -f "$T/site/pipe"

# An existing directory that tern build did not make is never replaced.
mkdir -p "$MB/foreign"
echo mine > "$MB/foreign/notes.txt"
tool_case build_refuses_foreign_dir 2 "error: '$MB/foreign' exists and is not an image directory" -- \
    "$TERN" build manifests/hello.yaml --kernel "$KERNEL" -o "$MB/foreign"
tool_case build_foreign_dir_kept 0 '^mine$' -- cat "$MB/foreign/notes.txt"

# tern run: option errors
tool_case run_image_with_append 2 "error: --append: not with an image" -- \
    "$TERN" run manifests/hello.yaml --append exit=3
tool_case run_virsh_needs_image 2 "error: run: --via virsh boots an image" -- \
    "$TERN" run --kernel "$KERNEL" --via virsh
tool_case run_bad_via 2 "error: --via lxc: choose qemu or virsh" -- \
    "$TERN" run manifests/hello.yaml --via lxc
tool_case run_missing_image 2 "error: '/nonexistent': No such file or directory" -- \
    "$TERN" run /nonexistent
tool_case run_bad_manifest 2 "tests/manifests/bad/bad_cpus\\.yaml:2:7: error: cpus: '0'" -- \
    "$TERN" run tests/manifests/bad/bad_cpus.yaml -o "$MB/bad"

# Long steps show progress: a 20 MiB file makes rofs.img big enough.
mkdir -p "$MB/big"
truncate -s 20M "$MB/big/blob"
printf 'name: big\nkernel_options: exit=0\nfiles:\n  /blob: blob\n' > "$MB/big/big.yaml"
tool_case build_progress 0 '^tern: writing rofs\.img: 25%$' -- \
    "$TERN" build "$MB/big/big.yaml" --kernel "$KERNEL" -o "$MB/big/out"
rm -f "$MB/big/blob"
# ports: (port forwarding on the user network)
bad_manifest bad_ports 4:5 "ports: '8080:x' is not HOST:GUEST or PORT"
bad_manifest ports_no_network 2:1 "ports: forwarding is for user-mode networking \\(network: user\\); the image has no network"
bad_manifest ports_tap 3:1 "ports: forwarding is for user-mode networking \\(network: user\\); on a tap or bridge network the guest has its own address"
