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

from mcusim.isa.classify import InsnInfo


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

    @property
    def mispredict_penalty(self) -> int:
        """Cycles a mispredicted branch costs (0: the core does not predict)."""
        ...


class NaiveTiming:
    """One cycle per instruction: what functional emulators assume."""

    name = "naive"
    mispredict_penalty = 0
    cache_key = "naive"

    def block_timing(self, block: list[InsnInfo]) -> BlockTiming:
        return BlockTiming([1] * len(block))

    def dynamic_cycles(self, rule: str, operands: tuple[int, ...]) -> int:
        return 0


TIMING_MODELS = ("table", "naive")


def make_timing(name: str, core: str, small_multiplier: bool = False) -> TimingModel:
    """The timing model called `name` for a core ("table": its cycle table; "naive")."""
    if name == "naive":
        return NaiveTiming()
    if name == "table":
        from mcusim.isa.cycles import load_cycle_table
        from mcusim.isa.table_timing import TableTiming

        return TableTiming(load_cycle_table(core), small_multiplier)
    raise ValueError(f"unknown timing model {name!r}; expected one of {', '.join(TIMING_MODELS)}")
