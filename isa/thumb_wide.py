"""The 32-bit encodings of the table-driven Thumb classifier (isa/thumb_table.py says what it
is for and how it is checked)."""

from __future__ import annotations

from mcusim.isa.classify import ALWAYS, COND, InsnInfo
from mcusim.isa.thumb_dsp import divide, extend, parallel_and_misc, saturate
from mcusim.isa.thumb_fields import COND as CONDITIONS
from mcusim.isa.thumb_fields import (
    CPSR,
    EMPTY,
    NAME,
    PC,
    REG,
    SHIFT,
    alu,
    imm,
    mem,
    regs,
)
from mcusim.isa.thumb_fp import (
    arithmetic_fp,
    fpscr_move,
    load_store_fp,
    load_store_multiple_fp,
    move_fp,
    other_fp,
)
from mcusim.isa.thumb_memory import (
    load_store_dual_writeback,
    load_store_multiple,
    pop_push_wide,
    preload,
    table_branch,
)
from mcusim.isa.thumb_system import system_wide
from mcusim.isa.thumb_wide_more import (
    load_store_dual,
    load_store_writeback,
    plain_immediate,
    shift_immediate,
    shift_register,
)


def classify_wide(hw1: int, hw2: int, address: int) -> InsnInfo | None:
    if hw1 >> 11 == 0b11110:
        if hw2 & 0x8000:
            return _branch_wide(hw1, hw2, address)
        if hw1 & 0x0200 == 0:
            return _modified_immediate(hw1, hw2, address)
        if hw1 & 0xFB70 in (0xF240, 0xF2C0):
            return _movw_movt(hw1, hw2, address)
        if hw1 & 0xFF50 == 0xF300:  # SSAT, USAT (bit 7), and their 16-bit forms
            return saturate(hw1, hw2, address)
        return plain_immediate(hw1, hw2, address)
    if hw1 & 0xFE00 == 0xEA00:
        return _shifted_register(hw1, hw2, address)
    if hw1 & 0xFF80 == 0xFA00:
        if hw2 & 0x80:
            return extend(hw1, hw2, address)  # SXTH.W, UXTAB, ...
        return shift_register(hw1, hw2, address)
    if hw1 & 0xFF80 == 0xFA80:
        return parallel_and_misc(hw1, hw2, address)
    if hw1 & 0xFF80 == 0xFB00:
        return _multiply(hw1, hw2, address)
    if hw1 & 0xFFD0 == 0xFB90:
        return divide(hw1, hw2, address)
    if hw1 & 0xFF90 == 0xFB80 and hw2 & 0xF0 == 0:  # SMULL/UMULL/SMLAL/UMLAL
        return _long_multiply(hw1, hw2, address)
    if hw1 & 0xFF60 == 0xE940:  # LDRD/STRD (immediate, offset)
        return load_store_dual(hw1, hw2, address)
    if hw1 & 0xFE60 == 0xE860:  # LDRD/STRD (immediate, pre- or post-indexed)
        return load_store_dual_writeback(hw1, hw2, address)
    if hw1 in (0xE92D, 0xE8BD):
        return pop_push_wide(hw1, hw2, address)
    if hw1 & 0xFFF0 == 0xE8D0:
        return table_branch(hw1, hw2, address)
    if hw1 & 0xFFC0 in (0xE880, 0xE900):
        return load_store_multiple(hw1, hw2, address)
    if hw1 & 0xFE00 == 0xF800:
        return _load_store(hw1, hw2, address)
    if hw1 & 0xFF20 == 0xED00:
        return load_store_fp(hw1, hw2, address)
    if hw1 & 0xFFE0 == 0xEC40 or (hw1 & 0xFFE0 == 0xEE00 and hw2 & 0x10):
        return move_fp(hw1, hw2, address)
    if hw1 & 0xFF80 == 0xEC80 or hw1 & 0xFFA0 == 0xED20:
        return load_store_multiple_fp(hw1, hw2, address)
    if hw1 in (0xEEE1, 0xEEF1) and hw2 & 0x10:
        return fpscr_move(hw1, hw2, address)
    if hw1 & 0xFF00 == 0xEE00:  # (hw2 bit 4 clear: data processing)
        if hw1 & 0xB0 == 0xB0:
            return other_fp(hw1, hw2, address)
        return arithmetic_fp(hw1, hw2, address)
    return None


def _thumb_expand(imm12: int) -> int:
    if imm12 >> 10 == 0:
        b = imm12 & 0xFF
        return (b, b * 0x00010001, b * 0x01000100, b * 0x01010101)[(imm12 >> 8) & 3]
    unrotated, rotation = 0x80 | (imm12 & 0x7F), imm12 >> 7
    return ((unrotated >> rotation) | (unrotated << (32 - rotation))) & 0xFFFFFFFF


# Data-processing opcodes: mnemonic, its name when Rd is PC with S (compare), when Rn is PC
# (move); capstone (LLVM) prints ".w" where a narrow encoding of the mnemonic exists.
_DP = {0b0000: ("and", "tst", None), 0b0001: ("bic", None, None), 0b0010: ("orr", None, "mov"),
       0b0011: ("orn", None, "mvn"), 0b0100: ("eor", "teq", None), 0b1000: ("add", "cmn", None),
       0b1010: ("adc", None, None), 0b1011: ("sbc", None, None), 0b1101: ("sub", "cmp", None),
       0b1110: ("rsb", None, None)}
_WIDE_IMM = {"mov", "movs", "add", "adds", "sub", "subs", "cmp", "cmn", "tst", "teq", "rsb",
             "rsbs"}
_WIDE_REG = {"add", "adds", "sub", "subs", "and", "ands", "orr", "orrs", "eor", "eors", "bic",
             "bics", "adc", "adcs", "sbc", "sbcs", "mov", "movs", "mvn", "mvns", "cmp", "cmn",
             "tst", "teq"}
_CARRY_IN = {"adc", "sbc"}

def _data_processing(op: int, s: int, rn: int, rd: int, operand: str, sources: tuple[int, ...],
                     address: int, wide_names: set[str],
                     value: int | None = None) -> InsnInfo | None:
    """`value`: the immediate operand's (None: a register operand)."""
    entry = _DP.get(op)
    # SP only as ADD/SUB's first operand (ADD Rd, SP, ...), and as Rd only of SP, SP.
    sp_base = rn == 13 and op in (0b1000, 0b1101) and rd != 15
    if (entry is None or (rn == 13 and not sp_base) or (rd == 13 and (rn != 13 or s))
            or (rd == 15 and not s)):
        return None
    name, compare, move = entry
    if rd == 15:
        if compare is None:
            return None
        name, s = compare, 0
    elif rn == 15:
        if move is None:
            return None
        name = move
    mnemonic = name + ("s" if s else "")
    if mnemonic in wide_names:
        mnemonic += ".w"
    reads = [REG[r] for r in sources]
    if name in (compare,):
        text = f"{mnemonic} {NAME[rn]}, {operand}"
        return alu(address, 4, text, regs(REG[rn], *reads), regs(CPSR), 0)
    if name == move:
        text = f"{mnemonic} {NAME[rd]}, {operand}"
        return alu(address, 4, text, regs(*reads), regs(REG[rd]), REG[rd])
    text = f"{mnemonic} {NAME[rd]}, {NAME[rn]}, {operand}"
    d = REG[rd]
    if name in _CARRY_IN:
        return alu(address, 4, text, regs(REG[rn], *reads, CPSR), regs(d, CPSR), d)
    info = alu(address, 4, text, regs(REG[rn], *reads), regs(d), d)
    if rd == 13:  # SP, SP: SP moves by a constant (capstone: the immediate), else unknown
        return info._replace(sp_delta=None if value is None else value if op == 0b1000
                             else -value)
    return info


def _modified_immediate(hw1: int, hw2: int, address: int) -> InsnInfo | None:
    imm12 = (hw1 >> 10 & 1) << 11 | (hw2 >> 12 & 7) << 8 | (hw2 & 0xFF)
    value = _thumb_expand(imm12)
    op, rn = hw1 >> 5 & 0xF, hw1 & 0xF
    entry = _DP.get(op)
    if entry is None:
        return None
    # Capstone prints some operations' constants as an int32, the logical ones unsigned.
    rd = hw2 >> 8 & 0xF
    unsigned = (entry[0] == "orn" and rn == 15) or (
        entry[0] in ("and", "bic", "orr", "eor") and rn != 15 and rd != 15)
    if value & 0x80000000 and not unsigned:
        value -= 1 << 32
    return _data_processing(op, hw1 >> 4 & 1, rn, rd, imm(value), (), address, _WIDE_IMM,
                            value)


def _shifted_register(hw1: int, hw2: int, address: int) -> InsnInfo | None:
    if hw2 & 0x8000:
        return None
    rm = hw2 & 0xF
    if rm in (13, 15):
        return None
    kind, amount = hw2 >> 4 & 3, (hw2 >> 12 & 7) << 2 | (hw2 >> 6 & 3)
    op, s, rn, rd = hw1 >> 5 & 0xF, hw1 >> 4 & 1, hw1 & 0xF, hw2 >> 8 & 0xF
    if rn == 15 and op == 0b0010 and (amount or kind):
        return shift_immediate(hw1, hw2, address)  # LSL/LSR/ASR/ROR/RRX (immediate)
    if kind == 0 and amount == 0:
        operand = NAME[rm]
    elif kind == 3 and amount == 0:
        operand = f"{NAME[rm]}, rrx"
    else:
        operand = f"{NAME[rm]}, {SHIFT[kind]} #{amount or 32}"
    return _data_processing(op, s, rn, rd, operand, (rm,), address, _WIDE_REG)


def _movw_movt(hw1: int, hw2: int, address: int) -> InsnInfo | None:
    rd = hw2 >> 8 & 0xF
    if rd in (13, 15):
        return None
    value = (hw1 & 0xF) << 12 | (hw1 >> 10 & 1) << 11 | (hw2 >> 12 & 7) << 8 | (hw2 & 0xFF)
    d = REG[rd]
    if hw1 & 0x0080:
        return alu(address, 4, f"movt {NAME[rd]}, {imm(value)}", regs(d), regs(d), d)
    return alu(address, 4, f"movw {NAME[rd]}, {imm(value)}", EMPTY, regs(d), d)


_XY = ("bb", "bt", "tb", "tt")


def _multiply(hw1: int, hw2: int, address: int) -> InsnInfo | None:
    op1, rn = hw1 >> 4 & 7, hw1 & 0xF
    ra, rd, op2, rm = hw2 >> 12, hw2 >> 8 & 0xF, hw2 >> 4 & 0xF, hw2 & 0xF
    if 13 in (rn, rd, rm) or 15 in (rn, rd, rm) or ra == 13:
        return None
    if op1 == 0 and op2 == 0:
        name, cls = ("mul", "mul") if ra == 15 else ("mla", "mla")
    elif op1 == 0 and op2 == 1 and ra != 15:
        name, cls = "mls", "mla"
    elif op1 == 1 and op2 < 4:
        name, cls = ("smul" if ra == 15 else "smla") + _XY[op2], "dsp"
    elif op1 == 2 and op2 < 2:
        name, cls = ("smuad" if ra == 15 else "smlad") + ("x" if op2 else ""), "dsp"
    elif op1 == 3 and op2 < 2:
        name, cls = ("smulw" if ra == 15 else "smlaw") + "bt"[op2], "dsp"
    elif op1 == 4 and op2 < 2:
        name, cls = ("smusd" if ra == 15 else "smlsd") + ("x" if op2 else ""), "dsp"
    elif op1 in (5, 6) and op2 < 2 and (op1 == 5 or ra != 15):  # SMMUL, SMMLA, SMMLS{R}
        name = ("smmul" if ra == 15 else "smmla" if op1 == 5 else "smmls") + ("r" if op2 else "")
        cls = "dsp"
    else:
        return None
    d = REG[rd]
    if ra == 15:
        return alu(address, 4, f"{name} {NAME[rd]}, {NAME[rn]}, {NAME[rm]}",
                    regs(REG[rn], REG[rm]), regs(d), d, cls)
    return alu(address, 4, f"{name} {NAME[rd]}, {NAME[rn]}, {NAME[rm]}, {NAME[ra]}",
                regs(REG[rn], REG[rm], REG[ra]), regs(d), d, cls)


_LONG_MULTIPLY = {0xFB80: "smull", 0xFBA0: "umull", 0xFBC0: "smlal", 0xFBE0: "umlal"}


def _long_multiply(hw1: int, hw2: int, address: int) -> InsnInfo | None:
    rn, rm, lo, hi = hw1 & 0xF, hw2 & 0xF, hw2 >> 12, hw2 >> 8 & 0xF
    if {rn, rm, lo, hi} & {13, 15} or lo == hi:
        return None
    name = _LONG_MULTIPLY.get(hw1 & 0xFFF0)
    if name is None:
        return None
    n, m, dlo, dhi = REG[rn], REG[rm], REG[lo], REG[hi]
    text = f"{name} {NAME[lo]}, {NAME[hi]}, {NAME[rn]}, {NAME[rm]}"
    if name.endswith("ull"):
        return InsnInfo(address, 4, text, "mull", reads=regs(n, m), writes=regs(dlo, dhi),
                        sources=(n, m), dest=dlo)
    # (capstone lists only Rn and Rm among the reads, not the accumulator halves)
    return InsnInfo(address, 4, text, "mlal", reads=regs(n, m), writes=regs(dlo, dhi),
                    sources=(n, m), dest=dlo)


_LOAD_STORE = {0b0000: "strb", 0b0001: "ldrb", 0b0010: "strh", 0b0011: "ldrh",
               0b0100: "str", 0b0101: "ldr", 0b1001: "ldrsb", 0b1011: "ldrsh"}


def _load_store(hw1: int, hw2: int, address: int) -> InsnInfo | None:
    """LDR/STR{B,H,SB,SH}.W Rt, [Rn, #imm12], Rt, [Rn, #-imm8] and Rt, [Rn, Rm, LSL #n] (no
    writeback)."""
    name = _LOAD_STORE.get((hw1 >> 8 & 1) << 3 | (hw1 >> 4 & 7))
    rn, rt = hw1 & 0xF, hw2 >> 12
    if rt == 15 and name == "ldrb":
        return preload(hw1, hw2, address)  # (PLD: LDRB to the PC)
    if name is None or rt == 13 or (rt == 15 and name != "ldr"):
        return None  # (LDR to the PC: a branch, see thumb_fields.mem)
    if rn == 15:  # literal
        if not name.startswith("ldr"):
            return None
        up = bool(hw1 & 0x0080)
        disp = hw2 & 0xFFF if up else -(hw2 & 0xFFF)
        offset = imm(disp) if up else f"#-{-disp:#x}"  # (subtracted: always hex, even 0)
        text = f"{name}.w {NAME[rt]}, [pc, {offset}]"
    elif hw1 & 0x0080:
        disp = hw2 & 0xFFF
        offset = f", {imm(disp)}" if disp else ""
        text = f"{name}.w {NAME[rt]}, [{NAME[rn]}{offset}]"
    elif hw2 & 0x0F00 == 0x0C00:  # P=1, U=0, W=0: a negative offset
        disp = -(hw2 & 0xFF)
        text = f"{name} {NAME[rt]}, [{NAME[rn]}, #-{-disp:#x}]"  # (always hex, even -0)
    elif hw2 & 0x0800:  # [Rn, #+/-imm8]! and [Rn], #+/-imm8
        return load_store_writeback(name, hw1, hw2, address)
    elif hw2 & 0x0FC0 == 0:  # [Rn, Rm, LSL #imm2]
        rm, shift = hw2 & 0xF, hw2 >> 4 & 3
        if rm in (13, 15):
            return None
        scaled = f", lsl #{shift}" if shift else ""
        text = f"{name}.w {NAME[rt]}, [{NAME[rn]}, {NAME[rm]}{scaled}]"
        return mem(address, 4, text, name.startswith("ldr"), rt, rn, rm, 0)
    else:
        return None
    return mem(address, 4, text, name.startswith("ldr"), rt, rn, -1, disp)


def _branch_wide(hw1: int, hw2: int, address: int) -> InsnInfo | None:
    s = hw1 >> 10 & 1
    j1, j2 = hw2 >> 13 & 1, hw2 >> 11 & 1
    if hw2 & 0x1000:  # B.W (T4) or BL (T1)
        i1, i2 = 1 ^ j1 ^ s, 1 ^ j2 ^ s
        offset = (s << 24 | i1 << 23 | i2 << 22 | (hw1 & 0x3FF) << 12 | (hw2 & 0x7FF) << 1)
        target = (address + 4 + offset - (s << 25)) & 0xFFFFFFFF
        if hw2 & 0x4000:
            return InsnInfo(address, 4, f"bl {imm(target)}", "bl", reads=regs(PC),
                            writes=regs(10, PC), branch=ALWAYS, target=target)
        return InsnInfo(address, 4, f"b.w {imm(target)}", "branch", branch=ALWAYS,
                        target=target)
    if hw2 & 0x4000:
        return None
    cond = hw1 >> 6 & 0xF
    if cond >= 14:
        return system_wide(hw1, hw2, address)  # (hints, barriers; MSR, MRS)
    offset = s << 20 | j2 << 19 | j1 << 18 | (hw1 & 0x3F) << 12 | (hw2 & 0x7FF) << 1
    target = (address + 4 + offset - (s << 21)) & 0xFFFFFFFF
    return InsnInfo(address, 4, f"b{CONDITIONS[cond]}.w {imm(target)}", "branch_cond",
                    branch=COND, target=target)
