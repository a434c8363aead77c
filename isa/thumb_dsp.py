"""The 32-bit DSP-style encodings of the table-driven Thumb classifier (isa/thumb_table.py says
what it is for and how it is checked): saturation, the wide extends (and extend-and-add), CLZ,
REV/RBIT, the parallel additions and subtractions, the saturating QADD family, SEL, and SDIV/
UDIV, as the compiled kernels (requantisation, packing of int8 pairs) emit them.

Capstone's operand lists have quirks the cycle model sees, and so they are kept here: SSAT/USAT
list no register read, the extend-and-add forms only Rn. Only the plain forms: SP or PC
operands, should-be-zero bits set and UNPREDICTABLE register choices go to capstone (None).
isa/native/thumb_dsp.c makes the same decisions in C."""

from __future__ import annotations

from mcusim.isa.classify import InsnInfo
from mcusim.isa.thumb_fields import EMPTY, NAME, REG, alu, imm, regs


def _low(*numbers: int) -> bool:
    """Whether no register number is SP or PC."""
    return not any(r in (13, 15) for r in numbers)


def saturate(hw1: int, hw2: int, address: int) -> InsnInfo | None:
    """SSAT/USAT Rd, #n, Rn{, LSL/ASR #s} and SSAT16/USAT16 Rd, #n, Rn: 11110 0 11 U0 sh 0 Rn,
    0 imm3 Rd imm2 0 sat_imm."""
    rn, rd = hw1 & 0xF, hw2 >> 8 & 0xF
    if hw2 & 0x8020 or hw1 & 0x0400 or not _low(rn, rd):
        return None
    unsigned, shift_right = hw1 & 0x80, hw1 & 0x20
    amount = (hw2 >> 12 & 7) << 2 | (hw2 >> 6 & 3)
    if shift_right and not amount:  # the 16-bit halves form
        if hw2 & 0x10:
            return None
        width = hw2 & 0xF if unsigned else (hw2 & 0xF) + 1
        name, operand = ("usat16" if unsigned else "ssat16"), NAME[rn]
    else:
        width = hw2 & 0x1F if unsigned else (hw2 & 0x1F) + 1
        name, operand = ("usat" if unsigned else "ssat"), NAME[rn]
        if amount:
            operand += f", {'asr' if shift_right else 'lsl'} {imm(amount)}"
    d = REG[rd]
    return alu(address, 4, f"{name} {NAME[rd]}, {imm(width)}, {operand}", EMPTY, regs(d), d,
               "dsp")


# The extends by op (hw1 bits 6-4): their names, the extend-and-add ones (Rn not PC) after.
_EXTENDS = ("sxth", "uxth", "sxtb16", "uxtb16", "sxtb", "uxtb")
_EXTEND_ADDS = ("sxtah", "uxtah", "sxtab16", "uxtab16", "sxtab", "uxtab")


def extend(hw1: int, hw2: int, address: int) -> InsnInfo | None:
    """SXTH/UXTH/SXTB/UXTB.W, SXTB16/UXTB16 Rd, Rm{, ROR #r} and their extend-and-add forms
    (Rn not PC): 11111010 0 op Rn, 1111 Rd 1 0 rot Rm."""
    op, rn, rd, rm = hw1 >> 4 & 7, hw1 & 0xF, hw2 >> 8 & 0xF, hw2 & 0xF
    if op > 5 or hw2 & 0xF0C0 != 0xF080 or not _low(rd, rm) or rn == 13:
        return None
    rotation = hw2 >> 4 & 3
    operand = NAME[rm] + (f", ror #{8 * rotation}" if rotation else "")
    d = REG[rd]
    if rn == 15:
        name = _EXTENDS[op]
        wide = ".w" if op in (0, 1, 4, 5) else ""  # (a 16-bit encoding exists)
        return alu(address, 4, f"{name}{wide} {NAME[rd]}, {operand}", regs(REG[rm]), regs(d),
                   d, "alu" if wide else "dsp")
    # (capstone lists only Rn among the registers read)
    return alu(address, 4, f"{_EXTEND_ADDS[op]} {NAME[rd]}, {NAME[rn]}, {operand}",
               regs(REG[rn]), regs(d), d, "dsp")


# The parallel additions and subtractions: prefix by op2 (hw2 bits 6-4), operation by op1.
_PREFIXES = {0: "s", 1: "q", 2: "sh", 4: "u", 5: "uq", 6: "uh"}
_OPERATIONS = {0: "add8", 1: "add16", 2: "asx", 4: "sub8", 5: "sub16", 6: "sax"}
# The others of 11111010 1 op1 Rn, 1111 Rd 1 0 op2 Rm, by (op1, op2): name, class, whether
# Rn and Rm are one register written twice (Rm then names it), operands Rm before Rn.
_MISC = {(0, 0): ("qadd", "dsp", False), (0, 1): ("qdadd", "dsp", False),
         (0, 2): ("qsub", "dsp", False), (0, 3): ("qdsub", "dsp", False),
         (1, 0): ("rev.w", "alu", True), (1, 1): ("rev16.w", "alu", True),
         (1, 2): ("rbit", "alu", True), (1, 3): ("revsh.w", "alu", True),
         (2, 0): ("sel", "dsp", False), (3, 0): ("clz", "alu", True)}


def parallel_and_misc(hw1: int, hw2: int, address: int) -> InsnInfo | None:
    """11111010 1 op1 Rn, 1111 Rd op2 Rm: the parallel additions and subtractions (UADD8,
    SHSUB16, ...), QADD/QDADD/QSUB/QDSUB, REV/REV16/RBIT/REVSH.W, SEL and CLZ."""
    op1, rn, rd, rm = hw1 >> 4 & 7, hw1 & 0xF, hw2 >> 8 & 0xF, hw2 & 0xF
    if hw2 & 0xF000 != 0xF000 or not _low(rn, rd, rm):
        return None
    op2 = hw2 >> 4 & 0xF
    d = REG[rd]
    if op2 < 8:
        prefix, operation = _PREFIXES.get(op2), _OPERATIONS.get(op1)
        if prefix is None or operation is None:
            return None
        return alu(address, 4, f"{prefix}{operation} {NAME[rd]}, {NAME[rn]}, {NAME[rm]}",
                   regs(REG[rn], REG[rm]), regs(d), d, "dsp")
    entry = _MISC.get((op1, op2 - 8))
    if entry is None:
        return None
    name, cls, single = entry
    if single:
        if rn != rm:
            return None  # UNPREDICTABLE
        return alu(address, 4, f"{name} {NAME[rd]}, {NAME[rm]}", regs(REG[rm]), regs(d), d,
                   cls)
    if name == "sel":
        text = f"sel {NAME[rd]}, {NAME[rn]}, {NAME[rm]}"
    else:
        text = f"{name} {NAME[rd]}, {NAME[rm]}, {NAME[rn]}"
    return alu(address, 4, text, regs(REG[rn], REG[rm]), regs(d), d, cls)


def divide(hw1: int, hw2: int, address: int) -> InsnInfo | None:
    """SDIV/UDIV Rd, Rn, Rm: 11111011 1001/1011 Rn, 1111 Rd 1111 Rm."""
    rn, rd, rm = hw1 & 0xF, hw2 >> 8 & 0xF, hw2 & 0xF
    if hw2 & 0xF0F0 != 0xF0F0 or not _low(rn, rd, rm):
        return None
    n, m, d = REG[rn], REG[rm], REG[rd]
    name = "udiv" if hw1 & 0x20 else "sdiv"
    return InsnInfo(address, 4, f"{name} {NAME[rd]}, {NAME[rn]}, {NAME[rm]}", "div",
                    reads=regs(n, m), writes=regs(d), sources=(n, m), dest=d)
