"""Translated blocks: decoded once, timed once, then only counted each time they run."""

from __future__ import annotations

from itertools import accumulate

from mcusim.isa.decode import Insn, decode
from mcusim.isa.timing import TimingModel

SELF_BRANCH = b"\xfe\xe7"  # "b ." : a Thumb branch to itself


class Block:
    """A block as Unicorn translated it: [address, address + size)."""

    __slots__ = ("address", "size", "insns", "count", "cycles", "executions",
                 "lost_count", "lost_cycles", "_before_count", "_before_cycles", "function")

    def __init__(self, address: int, size: int, insns: list[Insn], cycles: list[int],
                 function: str | None):
        self.address = address
        self.size = size
        self.insns = insns
        self.count = len(insns)
        self.cycles = sum(cycles)
        self.executions = 0
        # Instructions and cycles of executions that stopped part-way through the block.
        self.lost_count = 0
        self.lost_cycles = 0
        self.function = function
        # Instructions and cycles completed before each instruction starts.
        self._before_count = {i.address: n for n, i in enumerate(insns)}
        self._before_cycles = dict(zip((i.address for i in insns),
                                       accumulate(cycles, initial=0), strict=False))

    def count_before(self, pc: int) -> int:
        return self._before_count.get(pc, self.count)

    def cycles_before(self, pc: int) -> int:
        return self._before_cycles.get(pc, self.cycles)

    @property
    def is_self_loop(self) -> bool:
        return self.count == 1 and self.insns[0].raw == SELF_BRANCH


def translate(code: bytes, address: int, timing: TimingModel, function: str | None) -> Block:
    insns = decode(code, address)
    return Block(address, len(code), insns, timing.instruction_cycles(insns), function)
