"""More 32-bit encodings of the table-driven Thumb classifier (isa/thumb_table.py says what it
is for and how it is checked): the shifts (immediate and register), the bit-field extracts,
ADDW/SUBW and LDRD/STRD with an immediate offset, as compilers emit them for unrolled kernels.
Only the plain forms: PC operands (but ADDW/SUBW Rd, PC, #imm: ADR), SP (but as ADDW/SUBW's Rn
and a writeback load's or store's base) and UNPREDICTABLE register choices go to capstone
(None). isa/native/thumb_wide_more.c makes the same decisions in C."""

from __future__ import annotations

from mcusim.isa.classify import ALWAYS, InsnInfo
from mcusim.isa.thumb_fields import CPSR, EMPTY, NAME, PC, REG, SHIFT, alu, imm, regs


def shift_immediate(hw1: int, hw2: int, address: int) -> InsnInfo | None:
    """LSL/LSR/ASR/ROR.W Rd, Rm, #n and RRX Rd, Rm (MOV with a shifted register, a nonzero
    shift: isa/thumb_wide.py decodes the plain MOV.W)."""
    rd, rm = hw2 >> 8 & 0xF, hw2 & 0xF
    if rd in (13, 15) or rm in (13, 15):
        return None
    kind, amount = hw2 >> 4 & 3, (hw2 >> 12 & 7) << 2 | (hw2 >> 6 & 3)
    s = "s" if hw1 & 0x10 else ""
    d, m = REG[rd], REG[rm]
    if kind == 3 and amount == 0:
        return alu(address, 4, f"rrx{s} {NAME[rd]}, {NAME[rm]}", regs(m, CPSR), regs(d), d)
    text = f"{SHIFT[kind]}{s}.w {NAME[rd]}, {NAME[rm]}, {imm(amount or 32)}"
    return alu(address, 4, text, regs(m), regs(d), d)


def shift_register(hw1: int, hw2: int, address: int) -> InsnInfo | None:
    """LSL/LSR/ASR/ROR{S}.W Rd, Rn, Rm: 11111010 0 type S Rn, 1111 Rd 0000 Rm."""
    if hw2 & 0xF0F0 != 0xF000:
        return None
    rn, rd, rm = hw1 & 0xF, hw2 >> 8 & 0xF, hw2 & 0xF
    if {rn, rd, rm} & {13, 15}:
        return None
    s = "s" if hw1 & 0x10 else ""
    d = REG[rd]
    text = f"{SHIFT[hw1 >> 5 & 3]}{s}.w {NAME[rd]}, {NAME[rn]}, {NAME[rm]}"
    return alu(address, 4, text, regs(REG[rn], REG[rm]), regs(d), d)


def plain_immediate(hw1: int, hw2: int, address: int) -> InsnInfo | None:
    """ADDW/SUBW Rd, Rn, #imm12 and UBFX/SBFX Rd, Rn, #lsb, #width (data processing with a
    plain binary immediate; MOVW/MOVT are in isa/thumb_wide.py)."""
    rn, rd = hw1 & 0xF, hw2 >> 8 & 0xF
    n, d = REG[rn], REG[rd]
    op = hw1 & 0xFBF0
    if op in (0xF200, 0xF2A0):
        # (Rn PC: ADR, printed so; SP only as Rn, and as Rd of SP, SP)
        if rd == 15 or (rd == 13 and rn != 13):
            return None
        value = (hw1 >> 10 & 1) << 11 | (hw2 >> 12 & 7) << 8 | (hw2 & 0xFF)
        name = "addw" if op == 0xF200 else "subw"
        info = alu(address, 4, f"{name} {NAME[rd]}, {NAME[rn]}, {imm(value)}", regs(n),
                   regs(d), d)
        if rd == 13:  # SP moves by a constant
            return info._replace(sp_delta=value if op == 0xF200 else -value)
        return info
    if rn in (13, 15) or rd in (13, 15):
        return None
    if (hw1 & 0xFFF0) in (0xF3C0, 0xF340) and not hw2 & 0x20:
        lsb, width = (hw2 >> 12 & 7) << 2 | (hw2 >> 6 & 3), (hw2 & 0x1F) + 1
        if lsb + width > 32:
            return None  # UNPREDICTABLE
        name = "ubfx" if hw1 & 0x0080 else "sbfx"
        text = f"{name} {NAME[rd]}, {NAME[rn]}, {imm(lsb)}, {imm(width)}"
        return alu(address, 4, text, regs(n), regs(d), d)
    return None


def load_store_dual(hw1: int, hw2: int, address: int) -> InsnInfo | None:
    """LDRD/STRD Rt, Rt2, [Rn, #+/-imm8*4] (offset addressing: P=1, W=0)."""
    rn, rt, rt2 = hw1 & 0xF, hw2 >> 12, hw2 >> 8 & 0xF
    load = bool(hw1 & 0x10)
    if rn == 15 or rt in (13, 15) or rt2 in (13, 15) or (load and rt == rt2):
        return None  # (literal; UNPREDICTABLE)
    disp = (hw2 & 0xFF) * 4
    if hw1 & 0x80:
        offset = f", {imm(disp)}" if disp else ""
    else:
        disp = -disp
        offset = f", #-{-disp:#x}"  # (subtracted: always hex, even 0)
    n, t, t2 = REG[rn], REG[rt], REG[rt2]
    text = f"{'ldrd' if load else 'strd'} {NAME[rt]}, {NAME[rt2]}, [{NAME[rn]}{offset}]"
    if load:
        return InsnInfo(address, 4, text, "ldrd", reads=regs(n), writes=regs(t, t2), dest=t,
                        mem_base=n, disp=disp, span=8)
    return InsnInfo(address, 4, text, "strd", reads=regs(n, t, t2), writes=EMPTY, mem_base=n,
                    disp=disp, span=8)


def load_store_writeback(name: str, hw1: int, hw2: int, address: int) -> InsnInfo | None:
    """LDR/STR{B,H,SB,SH} Rt, [Rn, #+/-imm8]! and Rt, [Rn], #+/-imm8 (the base register
    updated; `name` from isa/thumb_wide.py's decision on hw1)."""
    rn, rt = hw1 & 0xF, hw2 >> 12
    pre, up = hw2 & 0x400, hw2 & 0x200
    if not hw2 & 0x100 or rn == 15 or rt == 13 or rn == rt or (rt == 15 and name != "ldr"):
        return None  # (no writeback: unprivileged; PC; UNPREDICTABLE)
    value = hw2 & 0xFF
    n, t = REG[rn], REG[rt]
    if pre:
        disp = value if up else -value
        offset = imm(disp) if up else f"#-{value:#x}"  # (subtracted: always hex, even 0)
        text = f"{name} {NAME[rt]}, [{NAME[rn]}, {offset}]!"
    else:
        disp = 0  # (capstone: the memory operand is [Rn]; the change, an immediate operand)
        change = imm(value) if up else imm(-value) if value else "#-0"
        text = f"{name} {NAME[rt]}, [{NAME[rn]}], {change}"
    sp_delta = (value if up else -value) if rn == 13 else 0  # (LDR Rt, [SP], #4: a pop)
    if rt == 15:  # LDR PC, [SP], #4: a return (capstone: none of a single load's own fields)
        return InsnInfo(address, 4, text, "ldr_pc", reads=regs(n), writes=regs(PC, n),
                        branch=ALWAYS, dest=PC, writeback=True, mem_base=n, disp=disp, span=8,
                        sp_delta=sp_delta)
    if name.startswith("ldr"):
        return InsnInfo(address, 4, text, "ldr", reads=regs(n), writes=regs(n, t), load=True,
                        base=n, dest=t, writeback=True, mem_base=n, disp=disp, span=8,
                        sp_delta=sp_delta)
    return InsnInfo(address, 4, text, "str", reads=regs(n, t), writes=regs(n), store=True,
                    base=n, writeback=True, mem_base=n, disp=disp, span=8, sp_delta=sp_delta)
