# A kernel built for Xen (configure --platform=xen) that boots anywhere
# else (here QEMU TCG, whose CPUID names "TCGTCGTCGTCG") has no hypercalls,
# console or power-off: it must stop at once with a message naming what it
# found, and a tern-exit line tern run reads (EXIT_PANIC, 70), never hang.
# One QEMU boot, about 3 s.
# shellcheck disable=SC2016
xen_kernel=out/${ARCH:-x86_64}-xen${OPT:--O2}/kernel.elf
if [ "${ARCH:-x86_64}" != x86_64 ]; then
    selected tool:xen_kernel_elsewhere &&
        skip tool:xen_kernel_elsewhere "the Xen platform is ported to x86_64 only"
elif [ ! -f "$xen_kernel" ]; then
    selected tool:xen_kernel_elsewhere &&
        fail tool:xen_kernel_elsewhere "$xen_kernel was not built (make PLATFORM=xen kernel)"
else
    tool_case xen_kernel_elsewhere 70 \
        "^xen: this kernel is built for Xen .*CPUID names the hypervisor '[^']+', not 'XenVMMXenVMM'" -- \
        sh -c '"$1" run --kernel "$2" --accel tcg --quiet --timeout 30 --log "$3" --append ""
               rc=$?; cat "$3"; exit $rc' sh "$TERN" "$xen_kernel" "$LOG_DIR/xen_elsewhere.console"
fi
