"""Timing models: how many cycles each instruction of a translated block costs.

A timing model is chosen per run (`--timing`), not forked into the engine. The engine asks it
once per translated block for a `BlockTiming`: the static cycles of each instruction, what a
taken final branch adds, what entering the block by a taken branch adds, and which
instructions need a per-execution cost from their operand values. Everything else is
accumulated per executed block.
"""

from __future__ import annotations

from mcusim.isa.block_timing import BlockTiming, TimingModel
from mcusim.isa.classify import InsnInfo
from mcusim.isa.cycles import load_cycle_table
from mcusim.isa.table_timing import TableTiming

__all__ = ["TIMING_MODELS", "BlockTiming", "NaiveTiming", "TimingModel", "make_timing"]


class NaiveTiming:
    """One cycle per instruction: what functional emulators assume."""

    name = "naive"
    mispredict_penalty = 0
    cache_key = "naive"

    def block_timing(self, block: list[InsnInfo]) -> BlockTiming:
        return BlockTiming([1] * len(block))

    def dynamic_rule(self, insn: InsnInfo) -> str | None:
        return None

    def dynamic_cycles(self, rule: str, operands: tuple[int, ...]) -> int:
        return 0


TIMING_MODELS = ("table", "naive")


def make_timing(name: str, core: str, small_multiplier: bool = False) -> TimingModel:
    """The timing model called `name` for a core ("table": its cycle table; "naive")."""
    if name == "naive":
        return NaiveTiming()
    if name == "table":
        return TableTiming(load_cycle_table(core), small_multiplier)
    raise ValueError(f"unknown timing model {name!r}; expected one of {', '.join(TIMING_MODELS)}")
