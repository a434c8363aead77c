"""Classify Thumb instructions into the cost classes of the cycle tables (isa/cycles/*.toml).

What an instruction is to the cycle model (`InsnInfo`) and where it comes from: the table
classifiers (isa/thumb_table.py, in C: isa/native/) for the common encodings, capstone with
operand details for the rest (isa/capstone_classify.py, the reference, imported when first
needed: loading capstone is a good part of a short run's start-up). What a class costs is
data; which class an instruction belongs to, and the facts the pipeline rules need (registers
read and written, addressing mode, register-list length, branch kind), are decided there.
"""

from __future__ import annotations

from typing import NamedTuple

from mcusim.isa.arm_regs import PC

__all__ = ["ALWAYS", "COND", "PC", "InsnInfo"]

# Branch kinds: how control leaves a block.
COND = "cond"  # conditional: taken or not is known only when the next block starts
ALWAYS = "always"  # unconditional


class InsnInfo(NamedTuple):
    """An instruction as the cycle model sees it. (A named tuple: made by the hundred thousand
    for generated code, and read back from the block cache, both much cheaper than for a
    frozen dataclass.)"""

    address: int
    size: int
    text: str
    cls: str
    nregs: int = 0  # registers in the list, for LDM/STM/PUSH/POP/VLDM/VSTM
    reads: frozenset[int] = frozenset()
    writes: frozenset[int] = frozenset()
    load: bool = False  # single load (LDR*, LDREX, and STREX, which pipelines as a load)
    store: bool = False  # single store
    reg_offset: bool = False  # [Rn, Rm] addressing
    base: int = 0  # base register of a single load/store
    index: int = 0
    branch: str | None = None  # COND or ALWAYS when the instruction can change the PC
    target: int | None = None  # immediate branch target
    sources: tuple[int, ...] = ()  # source operand registers in order (for operand-timed ops)
    dest: int = 0  # first register operand of an instruction that writes it (its result)
    writeback: bool = False  # a load/store that updates its base register
    mem_base: int = 0  # base register of any memory access (0: none)
    mem_index: int = 0
    disp: int = 0  # immediate offset of the memory operand
    span: int = 0  # bytes the access may cover from its address
    sp_delta: int | None = 0  # change of SP, when a constant; None: SP set to a run-time value

    @property
    def wide(self) -> bool:
        return self.size == 4

    def __reduce__(self) -> tuple:
        # Rebuilt by tuple.__new__ in C when unpickled (isa/block_cache.py), not by the
        # generated Python __new__: several times faster for a cache of 100 000 of them.
        return tuple.__new__, (InsnInfo, tuple(self))


_SETS: dict[frozenset[int], frozenset[int]] = {}


def _shared(registers: frozenset[int]) -> frozenset[int]:
    """One object per distinct register set: pickled once per file, not once per use."""
    return _SETS.setdefault(registers, registers)
