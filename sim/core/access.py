"""Which instruction of a block made a memory access.

Unicorn reports the start of the translated block as the PC inside memory hooks (unicorn
issue #972), so counters that must be read "at the reading instruction" find it here: the first
memory instruction of the block, at or after the previous match in this execution, whose
address computed from the current registers covers the access.
"""

from __future__ import annotations

from collections.abc import Callable

from mcusim.isa.arm_regs import PC
from mcusim.isa.classify import InsnInfo


def candidate_addresses(insn: InsnInfo, reg: Callable[[int], int]) -> list[int]:
    """Start addresses the instruction may access, given register values as they are now."""
    if insn.mem_base == PC:
        return [((insn.address + 4) & ~3) + insn.disp]
    base = reg(insn.mem_base)
    if insn.mem_index:
        index = reg(insn.mem_index)
        return [(base + (index << shift)) & 0xFFFFFFFF for shift in range(4)]
    starts = [(base + insn.disp) & 0xFFFFFFFF]
    if insn.writeback:
        starts.append(base)  # post-indexed: the access uses the base before the update
    if insn.cls in ("stm", "vstm"):
        starts.append((base - insn.span) & 0xFFFFFFFF)
    return starts


def locate(insns: list[InsnInfo], start: int, address: int,
           reg: Callable[[int], int]) -> int | None:
    """Index of the instruction at or after `start` that accessed `address`, if any."""
    for idx in range(start, len(insns)):
        insn = insns[idx]
        if not insn.mem_base:
            continue
        for ea in candidate_addresses(insn, reg):
            if ea <= address < ea + max(insn.span, 4):
                return idx
    return None
