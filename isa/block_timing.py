"""What a timing model gives the engine per translated block, and the timing model's interface
(implemented in isa/timing.py and isa/table_timing.py)."""

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
