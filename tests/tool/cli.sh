# Tool tests: the tern CLI and configure reject bad input with clear errors.
# tool_case NAME STATUS REGEX -- COMMAND...

tool_case tern_version 0 '^tern [0-9]+\.[0-9]+\.[0-9]+$' -- "$TERN" --version
tool_case tern_help 0 'usage: tern COMMAND' -- "$TERN" --help
tool_case tern_run_help 0 'usage: tern run MANIFEST\|DIR' -- "$TERN" help run
tool_case tern_unknown_command 2 "tern: error: unknown command 'frobnicate'" -- "$TERN" frobnicate
tool_case tern_no_command 2 'usage: tern COMMAND' -- "$TERN"
tool_case tern_run_bad_smp 2 'error: --smp zero: expected a number of vCPUs' -- \
    "$TERN" run --kernel "$KERNEL" --smp zero
tool_case tern_run_bad_accel 2 'error: --accel hax: choose auto, kvm or tcg' -- \
    "$TERN" run --kernel "$KERNEL" --accel hax
tool_case tern_run_missing_kernel 2 "error: kernel '/nonexistent/k.elf': No such file" -- \
    "$TERN" run --kernel /nonexistent/k.elf
tool_case tern_run_unknown_option 2 "error: run: option '--frob' is unknown" -- \
    "$TERN" run --frob

# configure: each bad option fails before anything is written.
tool_case configure_bad_opt 1 'configure: error: --opt=-O7: unsupported optimization level' -- \
    ./configure --opt=-O7
tool_case configure_bad_arch 1 'configure: error: --arch=sparc: unknown architecture' -- \
    ./configure --arch=sparc
tool_case configure_bad_platform 1 'configure: error: --platform=hyperv: unknown platform' -- \
    ./configure --platform=hyperv
tool_case configure_unknown_option 1 "configure: error: unknown option '--with-magic'" -- \
    ./configure --with-magic
tool_case configure_help 0 'Usage: ./configure' -- ./configure --help
