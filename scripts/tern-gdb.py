# gdb helper for Tern kernels (docs/debugging.md).
#
#   gdb -x scripts/tern-gdb.py out/x86_64-kvm-O2/kernel.elf -ex 'target remote :1234'
#
# Commands:
#   tern threads          every kernel thread: id, name, state, CPU, saved pc/sp
#   tern thread N         show thread N's stack: gdb's registers become its
#                         saved context, so bt, frame, info locals work
#   tern thread N switch  the switch frame even of a preempted thread
#   tern thread           back to the live registers
#
# Everything comes from the kernel's own DWARF (struct thread, struct cpu,
# struct trap_frame, the all_threads list and cpus[]), so a layout change in
# C needs no change here. What DWARF cannot describe is the switch frame
# that arch_switch pushes in assembly (kernel/arch/*/switch.S); its layout
# is written down below and must follow that file.
#
# gdb's remote protocol has no "view another stack" mode, so showing a
# thread that is not on a CPU writes its saved registers into the stopped
# vCPU; the live values are kept and written back by `tern thread` (no
# argument) and, automatically, before continue/step/next/finish/detach.
import gdb

THREAD_TRAP_STACK_SIZE = 16 * 1024   # kern/thread.h


def _u64(v):
    return int(v.cast(gdb.lookup_type("unsigned long long"))) & (2 ** 64 - 1)


def _read_u64(addr):
    mem = gdb.selected_inferior().read_memory(addr, 8)
    return int.from_bytes(bytes(mem), "little")


def _arch():
    name = gdb.newest_frame().architecture().name()
    if "x86-64" in name:
        return "x86_64"
    if "aarch64" in name:
        return "aarch64"
    raise gdb.GdbError("tern: architecture %s is not x86_64 or aarch64" % name)


def _offsetof(typename, field):
    for f in gdb.lookup_type(typename).fields():
        if f.name == field:
            return f.bitpos // 8
    raise gdb.GdbError("tern: %s has no field %s (kernel without debug info?)" %
                       (typename, field))


def _lookup(name):
    sym = gdb.lookup_global_symbol(name)
    if sym is None:
        sym = gdb.lookup_static_symbol(name)
    if sym is None:
        raise gdb.GdbError("tern: no symbol %s: load the kernel's ELF (gdb kernel.elf)" % name)
    return sym.value()


def _threads():
    """The kernel's thread list (kernel/sched/thread.c all_threads), in order."""
    head = _lookup("all_threads")
    head_addr = _u64(head.address)
    off = _offsetof("struct thread", "all_link")
    tptr = gdb.lookup_type("struct thread").pointer()
    out = []
    node = _u64(head["next"])
    while node != head_addr:
        if node == 0 or len(out) > 100000:
            raise gdb.GdbError("tern: the thread list is broken at 0x%x" % node)
        t = gdb.Value(node - off).cast(tptr).dereference()
        out.append(t)
        node = _u64(t["all_link"]["next"])
    return out


def _running():
    """thread address -> CPU id, for each online CPU's current thread."""
    cpus = _lookup("cpus")
    n = int(_lookup("nr_cpus"))
    run = {}
    for i in range(n):
        c = cpus[i]
        cur = _u64(c["current"])
        if cur:
            run[cur] = int(c["id"])
    return run


def _trap_frame_addr(t):
    # trap_entry.S moves an interrupted thread's frame to the top of its
    # own trap stack, 16-byte aligned: the outermost frame is always there.
    hi = _u64(t["trap_stack"]) + THREAD_TRAP_STACK_SIZE
    return (hi & ~15) - gdb.lookup_type("struct trap_frame").sizeof


def _preempted(t):
    """Switched away while on its trap stack: it was interrupted (a timer
    interrupt's sched_preempt, or a fault handler that blocked)."""
    lo = _u64(t["trap_stack"])
    sp = _u64(t["ctx"][_sp_field()])
    return lo != 0 and lo <= sp < lo + THREAD_TRAP_STACK_SIZE


def _sp_field():
    return "rsp" if _arch() == "x86_64" else "sp"


# --- the two saved contexts, per architecture ------------------------------

def _switch_regs(t):
    """Registers at arch_switch's return, from the frame switch.S pushed."""
    sp = _u64(t["ctx"][_sp_field()])
    if _arch() == "x86_64":
        # pushq rbp, rbx, r12, r13, r14, r15; then the return address
        names = ["r15", "r14", "r13", "r12", "rbx", "rbp"]
        regs = {n: _read_u64(sp + 8 * i) for i, n in enumerate(names)}
        regs["rip"] = _read_u64(sp + 48)
        regs["rsp"] = sp + 56
        return regs
    # sub sp, #96; x19..x28 at [sp, #0..72], x29 and x30 at [sp, #80]; ret
    regs = {"x%d" % (19 + i): _read_u64(sp + 8 * i) for i in range(10)}
    regs["x29"] = _read_u64(sp + 80)
    regs["x30"] = _read_u64(sp + 88)
    regs["pc"] = regs["x30"]
    regs["sp"] = sp + 96
    return regs


def _trap_regs(t):
    """Registers where the interrupt stopped the thread (struct trap_frame)."""
    tf = gdb.Value(_trap_frame_addr(t)).cast(
        gdb.lookup_type("struct trap_frame").pointer()).dereference()
    if _arch() == "x86_64":
        names = ["rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "rip",
                 "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"]
        return {n: _u64(tf[n]) for n in names}
    regs = {"x%d" % i: _u64(tf["regs"][i]) for i in range(31)}
    regs["sp"] = _u64(tf["sp"])
    regs["pc"] = _u64(tf["pc"])
    return regs


def _pc_sp(regs):
    if "rip" in regs:
        return regs["rip"], regs["rsp"]
    return regs["pc"], regs["sp"]


def _where(pc):
    try:
        b = gdb.block_for_pc(pc)
        while b is not None and b.function is None:
            b = b.superblock
        if b is not None:
            return b.function.name
    except RuntimeError:
        pass
    # assembly has no DWARF block: the ELF symbol table still names it
    out = gdb.execute("info symbol 0x%x" % pc, to_string=True)
    return out.split()[0] if out and not out.startswith("No symbol") else "?"


def _gdb_thread_of_cpu(cpu):
    """QEMU's gdbstub shows vCPU i as thread id i + 1."""
    for th in gdb.selected_inferior().threads():
        if th.ptid[1] == cpu + 1:
            return th
    raise gdb.GdbError("tern: gdb has no thread for CPU %d" % cpu)


# --- switching gdb's registers ----------------------------------------------

_saved = None       # (gdb thread, {reg: live value}) while a context is shown


def _write_regs(regs):
    frame = gdb.newest_frame()
    frame.select()
    # pc and sp first: gdb unwinds after every write, and a frame pointer
    # from one stack with the pc and sp of another can send its aarch64
    # unwinder round in circles.
    # Between two writes the registers are half one context, half another,
    # and gdb, which looks for the selected frame again after each write,
    # can walk such a mixed stack forever: bound its walks meanwhile.
    limit = gdb.parameter("backtrace limit")
    gdb.execute("set backtrace limit 64", to_string=True)
    try:
        _write_in_order(regs)
    finally:
        gdb.execute("set backtrace limit %s" % (limit or "unlimited"), to_string=True)


def _write_in_order(regs):
    first = [n for n in ("rip", "rsp", "pc", "sp") if n in regs]
    for name in first + [n for n in regs if n not in first]:
        gdb.newest_frame().select()     # the write goes to the CPU itself
        gdb.execute("set $%s = %d" % (name, regs[name]), to_string=True)


def _restore(quiet=False):
    global _saved
    if _saved is None:
        return False
    th, live = _saved
    _saved = None
    if th.is_valid():
        th.switch()
        _write_regs(live)
    if not quiet:
        print("tern: live registers restored (thread %d)" % th.num)
    return True


def _show(regs):
    global _saved
    if _saved is None:
        frame = gdb.newest_frame()
        live = {n: _u64(frame.read_register(n)) for n in regs}
        _saved = (gdb.selected_thread(), live)
    else:
        th, live = _saved
        gdb.selected_thread() is th or th.switch()
        frame = gdb.newest_frame()
        for n in regs:
            if n not in live:
                live[n] = _u64(frame.read_register(n))
    _write_regs(regs)


# --- commands -----------------------------------------------------------------

class Tern(gdb.Command):
    """Tern kernel helpers: tern threads, tern thread [N [switch]]."""

    def __init__(self):
        super().__init__("tern", gdb.COMMAND_USER, prefix=True)


class TernThreads(gdb.Command):
    """List Tern's threads: id, name, state, CPU, saved pc/sp and function.
A preempted thread shows where the interrupt stopped it (its trap frame);
a running one, its CPU's live registers."""

    def __init__(self):
        super().__init__("tern threads", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        running = _running()
        live_pcs = {}
        if _saved is not None:
            th, live = _saved
            live_pcs[th.ptid[1] - 1] = _pc_sp(live)
        print("%4s  %-24s %-17s %3s  %-18s %-18s %s" %
              ("ID", "NAME", "STATE", "CPU", "PC", "SP", "FUNCTION"))
        cur = gdb.selected_thread()
        for t in _threads():
            addr = _u64(t.address)
            state = str(t["state"]).replace("THREAD_", "").lower()
            if addr in running:
                cpu = running[addr]
                state = "running" if cpu not in live_pcs else "running*"
                if cpu in live_pcs:
                    pc, sp = live_pcs[cpu]
                else:
                    _gdb_thread_of_cpu(cpu).switch()
                    f = gdb.newest_frame()
                    pc, sp = f.pc(), _u64(f.read_register("sp"))
            else:
                c = _u64(t["cpu"])
                cpu = int(t["cpu"]["id"]) if c else -1
                if _u64(t["ctx"][_sp_field()]) == 0:
                    pc = sp = 0
                elif _preempted(t):
                    state += "/preempted"
                    pc, sp = _pc_sp(_trap_regs(t))
                else:
                    pc, sp = _pc_sp(_switch_regs(t))
            name = t["name"].string()
            print("%4d  %-24s %-17s %3s  0x%016x 0x%016x %s" %
                  (int(t["id"]), name, state, cpu if cpu >= 0 else "-", pc, sp,
                   _where(pc) if pc else "-"))
        if cur.is_valid() and gdb.selected_thread() is not cur:
            cur.switch()


class TernThread(gdb.Command):
    """Show a Tern thread's stack: tern thread N [switch], then bt.
N is the id `tern threads` lists. A blocked or runnable thread shows its
switch frame (where it called schedule), a preempted one its trap frame
(where the interrupt stopped it; add `switch` for the switch frame), a
running one its vCPU's live registers. `tern thread` alone restores the
live registers; continue, step and friends do that by themselves."""

    def __init__(self):
        super().__init__("tern thread", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        args = arg.split()
        if not args:
            if not _restore():
                print("tern: already on the live registers")
            return
        try:
            want = int(args[0], 0)
        except ValueError:
            raise gdb.GdbError("tern thread %s: expected a thread id (tern threads)" % args[0])
        if len(args) > 2 or (len(args) == 2 and args[1] != "switch"):
            raise gdb.GdbError("usage: tern thread [N [switch]]")
        for t in _threads():
            if int(t["id"]) == want:
                break
        else:
            raise gdb.GdbError("tern thread %d: no such thread (tern threads)" % want)
        name = t["name"].string()
        running = _running()
        addr = _u64(t.address)
        if addr in running:
            _restore(quiet=True)
            th = _gdb_thread_of_cpu(running[addr])
            th.switch()
            gdb.newest_frame().select()
            print("tern: thread %d (%s) runs on CPU %d: gdb thread %d, live registers" %
                  (want, name, running[addr], th.num))
            return
        if str(t["state"]) == "THREAD_DEAD":
            raise gdb.GdbError("tern thread %d (%s): dead, its stack is gone" % (want, name))
        if _u64(t["ctx"][_sp_field()]) == 0:
            raise gdb.GdbError("tern thread %d (%s): no saved context yet" % (want, name))
        if _preempted(t) and len(args) == 1:
            regs, what = _trap_regs(t), "trap frame (preempted)"
        else:
            regs, what = _switch_regs(t), "switch frame"
        _show(regs)
        pc, sp = _pc_sp(regs)
        print("tern: thread %d (%s): %s, pc 0x%x in %s, sp 0x%x; `tern thread` to go back" %
              (want, name, what, pc, _where(pc), sp))


Tern()
TernThreads()
TernThread()

# Never let the guest run on a shown context: put the live registers back
# before anything that resumes it.
for _cmd in ("continue", "step", "stepi", "next", "nexti", "finish", "until",
             "advance", "jump", "detach", "kill"):
    gdb.execute("define hook-%s\npython _restore(quiet=True)\nend" % _cmd)
