"""Timing models: how many cycles each instruction of a translated block costs.

A timing model is chosen per run (`--timing`), not forked into the engine. The engine asks it
once per translated block for a `BlockTiming`: the static cycles of each instruction, what a
taken final branch adds, what entering the block by a taken branch adds, and which
instructions need a per-execution cost from their operand values. Everything else is
accumulated per executed block.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from mcusim.isa.classify import ALWAYS, COND, InsnInfo
from mcusim.isa.cycles import CycleTable

PC_WRITING = ("branch", "bl", "bx", "tbb", "ldm_pc", "ldr_pc", "alu_pc", "branch_cond", "cbz")


@dataclass
class BlockTiming:
    cycles: list[int]  # static cycles per instruction
    taken_extra: int = 0  # added when the block's final conditional branch is taken
    entry_extra: int = 0  # added when the block is entered by a taken branch
    dynamic: dict[int, str] = field(default_factory=dict)  # address -> rule, per execution


class TimingModel(Protocol):
    name: str

    def block_timing(self, block: list[InsnInfo]) -> BlockTiming: ...

    def dynamic_cycles(self, rule: str, operands: tuple[int, ...]) -> int:
        """Cycles of one execution of an operand-timed instruction, beyond its static cost."""
        ...


class NaiveTiming:
    """One cycle per instruction: what functional emulators assume."""

    name = "naive"

    def block_timing(self, block: list[InsnInfo]) -> BlockTiming:
        return BlockTiming([1] * len(block))

    def dynamic_cycles(self, rule: str, operands: tuple[int, ...]) -> int:
        return 0


def _significant_bits(value: int) -> int:
    return (value & 0xFFFFFFFF).bit_length()


class TableTiming:
    """The per-core cycle tables with the pipeline rules of the core's TRM."""

    name = "table"

    def __init__(self, table: CycleTable, small_multiplier: bool = False):
        self.table = table
        self.small_multiplier = small_multiplier
        self.refill = table.branch_refill

    # -- static costs ---------------------------------------------------------------------------
    def block_timing(self, block: list[InsnInfo]) -> BlockTiming:
        t = self.table
        cycles: list[int] = []
        dynamic: dict[int, str] = {}
        prev: InsnInfo | None = None
        for insn in block:
            c = t.cost(insn.cls) + t.per_register.get(insn.cls, 0) * insn.nregs
            if insn.cls == "mul" and self.small_multiplier:
                c = t.mul_small_cycles
            if insn.branch == ALWAYS and insn.cls in PC_WRITING:
                c += self.refill
            if t.load_store_pipelining and (insn.load or insn.store):
                c = self._pipelined(insn, prev, c)
            if insn.cls in t.ranges:
                dynamic[insn.address] = insn.cls
            cycles.append(c)
            prev = insn
        if t.issue_width > 1:
            cycles = self._dual_issue(block, cycles)
        last = block[-1] if block else None
        taken_extra = self.refill if last is not None and last.branch == COND else 0
        first = block[0] if block else None
        entry_extra = (t.unaligned_target_extra
                       if first is not None and first.wide and first.address % 4 == 2 else 0)
        return BlockTiming(cycles, taken_extra, entry_extra, dynamic)

    def _pipelined(self, insn: InsnInfo, prev: InsnInfo | None, cost: int) -> int:
        """Cortex-M3/M4 TRM "Load/store timings": neighbouring single loads and stores
        pipeline their address and data phases; a store with an immediate offset completes in
        one cycle through the write buffer; nothing pipelines after a store; a load whose
        address registers the previous instruction wrote waits for them."""
        if insn.store and not insn.reg_offset:
            return 1
        if prev is None or not prev.load:
            return cost
        depends = insn.base in prev.writes or (insn.index and insn.index in prev.writes)
        return cost if depends else max(cost - 1, 1)

    def _dual_issue(self, block: list[InsnInfo], cycles: list[int]) -> list[int]:
        """Cortex-M7 approximation: two neighbouring single-cycle instructions issue together
        when the second does not read what the first writes and they do not both need the
        load/store unit, the multiplier or the branch unit."""
        out = list(cycles)
        i = 0
        while i + 1 < len(block):
            a, b = block[i], block[i + 1]
            if (out[i] == 1 and out[i + 1] == 1 and not (a.writes & b.reads)
                    and not (_unit(a) is not None and _unit(a) == _unit(b))
                    and a.branch is None):
                out[i + 1] = 0
                i += 2
            else:
                i += 1
        return out

    # -- per-execution costs ------------------------------------------------------------------
    def dynamic_cycles(self, rule: str, operands: tuple[int, ...]) -> int:
        lo, hi = self.table.ranges[rule]
        if rule == "div":
            dividend, divisor = operands
            # Early termination: the divider retires about 4 quotient bits per cycle after a
            # 2-cycle set-up, so the cost follows the quotient's significant bits.
            if divisor == 0:
                return 0
            bits = max(_significant_bits(dividend) - _significant_bits(divisor) + 1, 0)
            return min(lo + (bits + 3) // 4, hi) - lo
        # Long multiplies (Cortex-M3): early termination when the operands are small.
        a, b = operands
        small = _significant_bits(a) <= 16 and _significant_bits(b) <= 16
        return 0 if small else hi - lo


def _unit(insn: InsnInfo) -> str | None:
    if insn.load or insn.store or insn.cls in ("ldm", "stm", "ldrd", "strd", "vldr", "vstr"):
        return "mem"
    if insn.cls in ("mul", "mla", "mull", "mlal", "dsp", "dsp_long", "div"):
        return "mac"
    if insn.branch is not None:
        return "branch"
    return None


TIMING_MODELS = ("table", "naive")


def make_timing(name: str, core: str, small_multiplier: bool = False) -> TimingModel:
    """The timing model called `name` for a core ("table": its cycle table; "naive")."""
    if name == "naive":
        return NaiveTiming()
    if name == "table":
        from mcusim.isa.cycles import load_cycle_table

        return TableTiming(load_cycle_table(core), small_multiplier)
    raise ValueError(f"unknown timing model {name!r}; expected one of {', '.join(TIMING_MODELS)}")
