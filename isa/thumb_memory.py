"""More 32-bit loads and stores of the table-driven Thumb classifier (isa/thumb_table.py says
what it is for and how it is checked): LDM/STM (IA and DB, any base but SP and PC), LDRD/STRD
with writeback and PLD, as compiled kernels emit them (struct copies, saved register pairs,
prefetches).

Capstone's quirks the cycle model sees are kept: an LDM/STM's span counts its base register
too; STMDB with writeback lists no register written (STM IA lists its base). Only the plain
forms: fewer than two registers, a base in the list with writeback and other UNPREDICTABLE
choices go to capstone (None). isa/native/thumb_memory.c makes the same decisions in C."""

from __future__ import annotations

from mcusim.isa.classify import ALWAYS, InsnInfo
from mcusim.isa.thumb_fields import EMPTY, NAME, PC, REG, SP, imm, regs


def register_list(mask: int) -> tuple[list[int], str]:
    """The register numbers of a 16-bit register list, and its text ({r0, r1, lr})."""
    listed = [r for r in range(16) if mask >> r & 1]
    return listed, "{" + ", ".join(NAME[r] for r in listed) + "}"


def load_store_multiple(hw1: int, hw2: int, address: int) -> InsnInfo | None:
    """LDM/STM Rn{!}, {list} (increment after) and LDMDB/STMDB: 1110100 op 0 W L Rn, a
    register list (PUSH.W/POP.W, SP-based, are isa/thumb_wide.py's)."""
    rn, load, writeback = hw1 & 0xF, hw1 & 0x10, bool(hw1 & 0x20)
    before = hw1 & 0x0100  # (op 10: decrement before; 01: increment after)
    if rn in (13, 15) or (hw2 & 0xDFFF).bit_count() < 2 or hw2 & 0x2000:
        return None
    if (writeback and hw2 >> rn & 1) or (load and hw2 & 0xC000 == 0xC000) or (
            not load and hw2 & 0x8000):
        return None  # UNPREDICTABLE
    listed, names = register_list(hw2)
    n = REG[rn]
    suffix = "db" if before else ".w"
    text = f"{'ldm' if load else 'stm'}{suffix} {NAME[rn]}{'!' if writeback else ''}, {names}"
    ids = [REG[r] for r in listed]
    span = 4 * (len(listed) + 1)  # (capstone counts the base register among the operands)
    if load:
        writes = regs(*ids, *((n,) if writeback else ()))
        dest = n if n in writes else 0
        if hw2 & 0x8000:
            return InsnInfo(address, 4, text, "ldm_pc", nregs=len(listed) - 1, reads=regs(n),
                            writes=writes, branch=ALWAYS, dest=dest, writeback=writeback,
                            mem_base=n, span=span)
        return InsnInfo(address, 4, text, "ldm", nregs=len(listed), reads=regs(n),
                        writes=writes, dest=dest, writeback=writeback, mem_base=n, span=span)
    # (capstone: STMDB Rn! lists no register written, STM Rn! lists Rn)
    writes = regs(n) if writeback and not before else EMPTY
    return InsnInfo(address, 4, text, "stm", nregs=len(listed), reads=regs(*ids, n),
                    writes=writes, dest=n if writes else 0, writeback=writeback, mem_base=n,
                    span=span)


def load_store_multiple_narrow(hw: int, address: int) -> InsnInfo | None:
    """LDM Rn!, {list} (Rn not in the list), LDM Rn, {list} (Rn in it) and STM Rn!, {list}
    (Rn not in it): 1100 L Rn list, any number of low registers."""
    rn, load, mask = hw >> 8 & 7, hw & 0x800, hw & 0xFF
    if not mask or (not load and mask >> rn & 1):
        return None  # (UNPREDICTABLE)
    writeback = not (load and mask >> rn & 1)
    listed, names = register_list(mask)
    n, ids = REG[rn], [REG[r] for r in listed]
    text = f"{'ldm' if load else 'stm'} {NAME[rn]}{'!' if writeback else ''}, {names}"
    span = 4 * (len(listed) + 1)  # (capstone counts the base register among the operands)
    if load:
        return InsnInfo(address, 2, text, "ldm", nregs=len(listed), reads=regs(n),
                        writes=regs(*ids, n) if writeback else regs(*ids), dest=n,
                        writeback=writeback, mem_base=n, span=span)
    return InsnInfo(address, 2, text, "stm", nregs=len(listed), reads=regs(*ids, n),
                    writes=regs(n), dest=n, writeback=True, mem_base=n, span=span)


def table_branch(hw1: int, hw2: int, address: int) -> InsnInfo | None:
    """TBB [Rn, Rm] and TBH [Rn, Rm, LSL #1]: 111010001101 Rn, 1111 0000 000H Rm (capstone:
    no register written)."""
    rn, rm = hw1 & 0xF, hw2 & 0xF
    if hw2 & 0xFFE0 != 0xF000 or rn == 13 or rm in (13, 15):
        return None
    n, m = REG[rn], REG[rm]
    text = (f"tbh [{NAME[rn]}, {NAME[rm]}, lsl #1]" if hw2 & 0x10
            else f"tbb [{NAME[rn]}, {NAME[rm]}]")
    return InsnInfo(address, 4, text, "tbb", reads=regs(n, m), branch=ALWAYS, mem_base=n,
                    mem_index=m, span=8)


def load_store_dual_writeback(hw1: int, hw2: int, address: int) -> InsnInfo | None:
    """LDRD/STRD Rt, Rt2, [Rn, #+/-imm8*4]! and [Rn], #+/-imm8*4: 1110100 P U 1 W L Rn with
    W=1 (isa/thumb_wide_more.py has the offset form)."""
    rn, rt, rt2 = hw1 & 0xF, hw2 >> 12, hw2 >> 8 & 0xF
    load, pre, up = hw1 & 0x10, hw1 & 0x0100, hw1 & 0x80
    if rn == 15 or {rt, rt2} & {13, 15} or rn in (rt, rt2) or (load and rt == rt2):
        return None  # (UNPREDICTABLE)
    value = (hw2 & 0xFF) * 4
    change = value if up else -value
    if pre:
        disp = change
        offset = imm(change) if up else f"#-{value:#x}"  # (subtracted: always hex, even 0)
        place = f"[{NAME[rn]}, {offset}]!"
    else:
        disp = 0  # (capstone: the memory operand is [Rn]; the change, an immediate operand)
        place = f"[{NAME[rn]}], {imm(change) if up or value else '#-0'}"
    n, t, t2 = REG[rn], REG[rt], REG[rt2]
    text = f"{'ldrd' if load else 'strd'} {NAME[rt]}, {NAME[rt2]}, {place}"
    sp_delta = change if rn == 13 else 0
    if load:
        return InsnInfo(address, 4, text, "ldrd", reads=regs(n), writes=regs(n, t, t2),
                        dest=t, writeback=True, mem_base=n, disp=disp, span=8,
                        sp_delta=sp_delta)
    return InsnInfo(address, 4, text, "strd", reads=regs(n, t, t2), writes=regs(n),
                    writeback=True, mem_base=n, disp=disp, span=8, sp_delta=sp_delta)


def preload(hw1: int, hw2: int, address: int) -> InsnInfo | None:
    """PLD [Rn, #imm12], [Rn, #-imm8], [Rn, Rm{, LSL #n}] and [PC, #+/-imm12] (LDRB with Rt
    PC: hw1 F890/F810 with Rn, F89F/F81F)."""
    rn = hw1 & 0xF
    if rn == 13:
        return None
    n = REG[rn]
    if rn == 15 or hw1 & 0x80:
        disp = hw2 & 0xFFF
        if rn == 15 and not hw1 & 0x80:
            disp = -disp
            offset = f", #-{-disp:#x}"  # (subtracted: always hex)
        else:
            offset = f", {imm(disp)}" if disp or rn == 15 else ""
        return InsnInfo(address, 4, f"pld [{NAME[rn]}{offset}]", "alu", reads=regs(n),
                        mem_base=n, disp=disp, span=8)
    if hw2 & 0x0F00 == 0x0C00:
        disp = -(hw2 & 0xFF)
        return InsnInfo(address, 4, f"pld [{NAME[rn]}, #-{-disp:#x}]", "alu", reads=regs(n),
                        mem_base=n, disp=disp, span=8)
    rm, shift = hw2 & 0xF, hw2 >> 4 & 3
    if hw2 & 0x0FC0 or rm in (13, 15):
        return None
    scaled = f", lsl #{shift}" if shift else ""
    m = REG[rm]
    return InsnInfo(address, 4, f"pld [{NAME[rn]}, {NAME[rm]}{scaled}]", "alu",
                    reads=regs(n, m), mem_base=n, mem_index=m, span=8)


def pop_push_wide(hw1: int, hw2: int, address: int) -> InsnInfo | None:
    """POP.W {list} (LDMIA SP!) and PUSH.W {list} (STMDB SP!), two registers or more (with
    one capstone prints LDM/STMDB)."""
    pop = hw1 == 0xE8BD
    if (hw2 & 0xDFFF).bit_count() < 2 or hw2 & 0x2000 or (
            hw2 & 0xC000 == 0xC000 if pop else hw2 & 0x8000):
        return None  # (UNPREDICTABLE: SP; LR and PC; PC pushed)
    listed, names = register_list(hw2)
    n = len(listed)
    ids = [REG[r] for r in listed]
    text = f"{'pop' if pop else 'push'}.w {names}"
    if not pop:
        return InsnInfo(address, 4, text, "stm", nregs=n, reads=regs(SP, *ids),
                        writes=regs(SP), mem_base=SP, span=4 * n, sp_delta=-4 * n)
    writes = regs(SP, *ids)
    if PC in ids:
        return InsnInfo(address, 4, text, "ldm_pc", nregs=n - 1, reads=regs(SP),
                        writes=writes, branch=ALWAYS, dest=ids[0], mem_base=SP, span=4 * n,
                        sp_delta=4 * n)
    return InsnInfo(address, 4, text, "ldm", nregs=n, reads=regs(SP), writes=writes,
                    dest=ids[0], mem_base=SP, span=4 * n, sp_delta=4 * n)
