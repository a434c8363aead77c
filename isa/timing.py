"""Timing models: how many cycles each instruction of a translated block costs.

A timing model is chosen per run (`--timing`), not forked into the engine: the engine asks it
once per translated block for the cycles of each instruction and accumulates the block's total
each time the block executes.
"""

from __future__ import annotations

from typing import Protocol

from mcusim.isa.decode import Insn


class TimingModel(Protocol):
    name: str

    def instruction_cycles(self, block: list[Insn]) -> list[int]:
        """Cycles of each instruction of a block, in order."""
        ...


class NaiveTiming:
    """One cycle per instruction: what functional emulators assume."""

    name = "naive"

    def instruction_cycles(self, block: list[Insn]) -> list[int]:
        return [1] * len(block)


TIMING_MODELS: dict[str, type[TimingModel]] = {"naive": NaiveTiming}
