"""The system encodings of the table-driven Thumb classifier (isa/thumb_table.py says what it
is for and how it is checked): BKPT, SVC, CPS, the hints (NOP, YIELD, WFE, WFI, SEV) and the
barriers (DSB, DMB, ISB). Every firmware ends with `bkpt #0xab` (the semihosting call), so a
program otherwise made of table-known encodings needs no capstone at all with these.
Only the exact encodings (should-be-zero/one bits as the architecture has them); any other goes
to capstone (None). But MRS/MSR, never inside an IT block (isa/thumb_it.py rejects these
classes: capstone prints some of them oddly there). isa/native/thumb_system.c makes the same
decisions in C."""

from __future__ import annotations

from mcusim.isa.classify import InsnInfo
from mcusim.isa.thumb_fields import LR, NAME, PC, REG, imm, regs

# The classes given here (never inside an IT block: isa/thumb_it.py).
# (MRS and MSR, also here, print as any other instruction there.)
SYSTEM_CLASSES = frozenset({"bkpt", "svc", "cps", "nop", "wfi", "barrier", "isb"})

# The hints by their number (NOP-compatible hints beyond SEV print as "hint #n").
_HINTS = ("nop", "yield", "wfe", "wfi", "sev")
# The DSB/DMB options capstone names (the others print as a number).
_BARRIER_OPTIONS = {2: "oshst", 3: "osh", 6: "nshst", 7: "nsh", 10: "ishst", 11: "ish",
                    14: "st", 15: "sy"}


# The special registers MRS/MSR name, by SYSm (MSR writes the APSR's flags: "_nzcvq").
_SPECIAL = {0: "apsr", 1: "iapsr", 2: "eapsr", 3: "xpsr", 5: "ipsr", 6: "epsr", 7: "iepsr",
            8: "msp", 9: "psp", 16: "primask", 17: "basepri", 18: "basepri_max",
            19: "faultmask", 20: "control"}


def _hint_class(number: int) -> str:
    return "wfi" if number in (2, 3) else "nop"  # WFE and WFI wait; the others do nothing


def system_narrow(hw: int, address: int) -> InsnInfo | None:
    """BKPT #imm8, UDF #imm8, SVC #imm8, CPSIE/CPSID and the 16-bit hints (0xBFx0: a non-zero low
    nibble makes 0xBFxx an IT instruction)."""
    if hw & 0xFF00 == 0xBE00:
        return InsnInfo(address, 2, f"bkpt {imm(hw & 0xFF)}", "bkpt")
    if hw & 0xFF0F == 0xBF00:
        number = hw >> 4 & 0xF
        text = _HINTS[number] if number < len(_HINTS) else f"hint {imm(number)}"
        return InsnInfo(address, 2, text, _hint_class(number))
    if hw & 0xFF00 == 0xDE00:  # UDF #imm8 (capstone: an ALU instruction; never inside IT)
        if hw & 0xF0 == 0xF0:
            return None  # (capstone: 0xDEFE is "trap", 0xDEF9 undecoded; others kept too)
        return InsnInfo(address, 2, f"udf {imm(hw & 0xFF)}", "alu")
    if hw & 0xFF00 == 0xDF00:
        # (capstone: an exception entry reads the PC and writes LR)
        return InsnInfo(address, 2, f"svc {imm(hw & 0xFF)}", "svc", reads=regs(PC),
                        writes=regs(LR))
    if hw & 0xFFE8 == 0xB660:  # CPS: 1011 0110 011 im 0 A I F
        flags = "".join(f for f, bit in (("a", 4), ("i", 2), ("f", 1)) if hw & bit)
        return InsnInfo(address, 2, f"cps{'id' if hw & 0x10 else 'ie'} {flags or 'none'}",
                        "cps")
    return None


def system_wide(hw1: int, hw2: int, address: int) -> InsnInfo | None:
    """NOP.W/YIELD.W/WFE.W/WFI.W/SEV.W (F3AF 80xx), DSB/DMB/ISB (F3BF 8F4x-8F6x), MRS Rd,
    <special> (F3EF 8dxx) and MSR <special>, Rn (F38n 88xx)."""
    special = _SPECIAL.get(hw2 & 0xFF)
    if hw1 == 0xF3EF and hw2 & 0xF000 == 0x8000 and special is not None:
        rd = hw2 >> 8 & 0xF
        if rd in (13, 15):
            return None
        d = REG[rd]
        return InsnInfo(address, 4, f"mrs {NAME[rd]}, {special}", "mrs", writes=regs(d),
                        dest=d)
    if hw1 & 0xFFF0 == 0xF380 and hw2 & 0xFF00 == 0x8800 and special is not None:
        rn = hw1 & 0xF
        if rn in (13, 15):
            return None
        suffix = "_nzcvq" if hw2 & 0xFF < 4 else ""
        return InsnInfo(address, 4, f"msr {special}{suffix}, {NAME[rn]}", "msr",
                        reads=regs(REG[rn]))
    if hw1 == 0xF3AF and hw2 <= 0x8004 and hw2 >= 0x8000:
        number = hw2 & 0xF
        return InsnInfo(address, 4, f"{_HINTS[number]}.w", _hint_class(number))
    if hw1 != 0xF3BF or hw2 & 0xFFF0 not in (0x8F40, 0x8F50, 0x8F60):
        return None
    option = hw2 & 0xF
    if hw2 & 0xFFF0 == 0x8F60:
        return InsnInfo(address, 4, f"isb {'sy' if option == 15 else f'#{option:#x}'}", "isb")
    if hw2 & 0xFFF0 == 0x8F40 and option == 12:
        return None  # (capstone prints it as "dfb")
    name = "dsb" if hw2 & 0xFFF0 == 0x8F40 else "dmb"
    return InsnInfo(address, 4, f"{name} {_BARRIER_OPTIONS.get(option) or imm(option)}",
                    "barrier")
