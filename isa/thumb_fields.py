"""Shared pieces of the table-driven Thumb classifier (isa/thumb_table.py, isa/thumb_wide.py):
capstone's register ids and names, its immediate formatting, and the InsnInfo builders."""

from __future__ import annotations

from mcusim.isa.arm_regs import CPSR, LR, PC, R0, SP  # noqa: F401 - CPSR for the classifiers
from mcusim.isa.classify import ALWAYS, InsnInfo, _shared

REG = [R0 + n for n in range(13)] + [SP, LR, PC]  # by register number
NAME = ["r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "sb", "sl", "fp", "ip", "sp",
         "lr", "pc"]
SHIFT = ("lsl", "lsr", "asr", "ror")  # the shift types, by their 2-bit encoding
COND = ["eq", "ne", "hs", "lo", "mi", "pl", "vs", "vc", "hi", "ls", "ge", "lt", "gt", "le"]
EMPTY: frozenset[int] = frozenset()


def imm(v: int) -> str:
    if v < 0:
        return f"#-{-v:#x}" if v < -9 else f"#-{-v}"
    return f"#{v:#x}" if v > 9 else f"#{v}"


def regs(*regs: int) -> frozenset[int]:
    # Called several times per new encoding: a lookup by the argument tuple is cheaper than
    # making the frozenset and looking it up among the shared ones.
    shared = _BY_ARGS.get(regs)
    if shared is None:
        shared = _BY_ARGS[regs] = _shared(frozenset(regs))
    return shared


_BY_ARGS: dict[tuple[int, ...], frozenset[int]] = {}


def alu(address: int, size: int, text: str, reads: frozenset[int], writes: frozenset[int],
         dest: int, cls: str = "alu") -> InsnInfo:
    return InsnInfo(address, size, text, cls, reads=reads, writes=writes, dest=dest)


def mem(address: int, size: int, text: str, load: bool, rt: int, rn: int, rm: int,
         disp: int) -> InsnInfo:
    """A single load or store with [rn, #disp] or [rn, rm] addressing, no writeback (a load
    to the PC: a branch)."""
    t, n, m = REG[rt], REG[rn], REG[rm] if rm >= 0 else 0
    if load and t == PC:  # (capstone: none of a single load's own fields)
        return InsnInfo(address, size, text, "ldr_pc", reads=regs(n, m) if m else regs(n),
                        writes=regs(PC), branch=ALWAYS, dest=PC, mem_base=n, mem_index=m,
                        disp=disp, span=8)
    if load:
        return InsnInfo(address, size, text, "ldr", reads=regs(n, m) if m else regs(n),
                        writes=regs(t), load=True, reg_offset=m != 0, base=n, index=m,
                        dest=t, mem_base=n, mem_index=m, disp=disp, span=8)
    return InsnInfo(address, size, text, "str", reads=regs(t, n, m) if m else regs(t, n),
                    store=True, reg_offset=m != 0, base=n, index=m, mem_base=n, mem_index=m,
                    disp=disp, span=8)


def push_pop(pop: bool, low: int, extra: int, address: int, size: int,
              suffix: str) -> InsnInfo | None:
    """PUSH {low registers, LR if extra} / POP {low registers, PC if extra} (the 16-bit
    forms; isa/thumb_memory.py has the wide ones)."""
    listed = [r for r in range(13) if low >> r & 1]
    if not listed and not extra:
        return None
    names = [NAME[r] for r in listed] + ([("pc" if pop else "lr")] if extra else [])
    n = len(names)
    ids = [REG[r] for r in listed]
    text = f"{'pop' if pop else 'push'}{suffix} {{{', '.join(names)}}}"
    if not pop:
        return InsnInfo(address, size, text, "stm", nregs=n,
                        reads=regs(SP, *ids, *([10] if extra else [])), writes=regs(SP),
                        mem_base=SP, span=4 * n, sp_delta=-4 * n)
    writes = regs(SP, *ids, *([PC] if extra else []))
    dest = ids[0] if ids else (PC if extra else 0)
    if extra:
        return InsnInfo(address, size, text, "ldm_pc", nregs=n - 1, reads=regs(SP),
                        writes=writes, branch=ALWAYS, dest=dest, mem_base=SP, span=4 * n,
                        sp_delta=4 * n)
    return InsnInfo(address, size, text, "ldm", nregs=n, reads=regs(SP), writes=writes,
                    dest=dest, mem_base=SP, span=4 * n, sp_delta=4 * n)
