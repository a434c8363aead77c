"""IT blocks for the table-driven Thumb classifier (isa/thumb_table.py): an IT instruction and
the instructions it makes conditional, as capstone decodes them together (isa/classify.py
capstone_run), when every one of them is an encoding the table handles (a branch only as the
last: it becomes conditional, B a B<cond>; no system instruction, CBZ or B<cond>).

Inside an IT block capstone prints the condition after the mnemonic (before ".w"); the 16-bit
data-processing encodings that set the flags outside an IT block do not inside it (their "s"
goes, and the flags leave their writes); nothing else of the InsnInfo changes (capstone lists
no flags read for the condition). tests/test_thumb_table.py checks every field against capstone
over random IT blocks of every handled encoding and the IT blocks of the kernels' ELFs and the
generated nn code; for any block outside that, None: capstone decides. isa/native/thumb_it.c
makes the same decisions in C.
"""

from __future__ import annotations

from mcusim.isa.classify import COND as COND_BRANCH
from mcusim.isa.classify import InsnInfo
from mcusim.isa.thumb_fields import COND, CPSR, regs
from mcusim.isa.thumb_system import SYSTEM_CLASSES
from mcusim.isa.thumb_table import classify_at

ITSTATE = 9  # capstone's register id of the IT state the IT instruction writes
_IT_WRITES = regs(ITSTATE)
# Classes left to capstone inside an IT block: system instructions (some print oddly there)
# and the branches never allowed there (CBZ, B<cond>).
_NEVER_INSIDE = SYSTEM_CLASSES | {"cbz", "branch_cond"}


def _flag_setting_narrow(hw: int) -> bool:
    """16-bit encodings that set the flags outside an IT block and not inside it: shifts,
    ADD/SUB (register, immediate), MOV (immediate), and the register data processing ops
    except TST/CMP/CMN."""
    top = hw >> 11
    if top <= 3 or top in (4, 6, 7):
        return True
    if hw & 0xFC00 == 0x4000:
        return (hw >> 6 & 0xF) not in (0b1000, 0b1010, 0b1011)
    return False


def it_conditions(hw: int) -> list[int] | None:
    """The conditions of the instructions an IT instruction `hw` makes conditional (None: not
    an IT instruction with a condition the classifier handles)."""
    firstcond, mask = hw >> 4 & 0xF, hw & 0xF
    if hw & 0xFF00 != 0xBF00 or not mask or firstcond >= 14:
        return None
    count = 4 - (mask & -mask).bit_length() + 1
    conditions = [firstcond]
    for k in range(1, count):
        then = (mask >> (4 - k) & 1) == (firstcond & 1)
        conditions.append(firstcond if then else firstcond ^ 1)
    return conditions


def _it_text(hw: int, conditions: list[int]) -> str:
    pattern = "".join("t" if c == conditions[0] else "e" for c in conditions[1:])
    return f"it{pattern} {COND[conditions[0]]}"


def conditional(info: InsnInfo, hw: int, cond: int) -> InsnInfo:
    """The unconditional table classification `info` of the encoding starting with halfword
    `hw` as capstone gives it inside an IT block, under condition `cond`."""
    mnemonic, _, operands = info.text.partition(" ")
    writes = info.writes
    if info.size == 2 and _flag_setting_narrow(hw):
        mnemonic = mnemonic[:-1]  # (they all end in "s")
        writes = regs(*(r for r in sorted(writes) if r != CPSR))
    base, dot, suffix = mnemonic.partition(".")
    text = f"{base}{COND[cond]}{dot}{suffix} {operands}"
    if info.branch is not None:  # taken or not by the condition: B becomes a B<cond>
        return info._replace(text=text, writes=writes, branch=COND_BRANCH,
                             cls="branch_cond" if info.cls == "branch" else info.cls)
    return info._replace(text=text, writes=writes)


def classify_it_block(code: bytes, pos: int, address: int) -> list[InsnInfo] | None:
    """The IT instruction at code[pos:] (at `address`) and the instructions it makes
    conditional, if it and every one of them is handled here, else None."""
    if pos + 1 >= len(code):
        return None
    hw = code[pos] | code[pos + 1] << 8
    conditions = it_conditions(hw)
    if conditions is None:
        return None
    out = [InsnInfo(address, 2, _it_text(hw, conditions), "it", writes=_IT_WRITES)]
    offset = pos + 2
    for cond in conditions:
        if offset + 1 >= len(code):
            return None
        first = code[offset] | code[offset + 1] << 8
        if first & 0xFF00 in (0xBF00, 0xDE00) or first & 0xFFC0 == 0:
            return None  # (an IT or a hint inside the block; UDF; MOVS Rd, Rm: UNPREDICTABLE)
        info = classify_at(code, offset, address + offset - pos)
        if info is None or info.cls in _NEVER_INSIDE or (
                info.branch is not None and len(out) < len(conditions)):
            return None  # (a branch must be the last of the block)
        out.append(conditional(info, first, cond))
        offset += info.size
    return out
