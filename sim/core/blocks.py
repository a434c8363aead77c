"""Translated blocks: decoded and timed once, then only counted each time they run."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import accumulate
from operator import add, attrgetter

from mcusim.isa.block_cache import BlockCache
from mcusim.isa.cached_insns import CachedInsns, class_set, of_classes
from mcusim.isa.classify import ALWAYS, COND, InsnInfo
from mcusim.isa.decode import DecodedSpan, classify_block
from mcusim.isa.timing import TimingModel
from mcusim.memory.flash import FlashInterface

SELF_BRANCH = b"\xfe\xe7"  # "b ." : a Thumb branch to itself
_address = attrgetter("address")


class Block:
    """A block as Unicorn translated it: [address, address + size)."""

    __slots__ = ("address", "size", "insns", "count", "cycles", "executions",
                 "lost_count", "lost_cycles", "extra_cycles", "_insn_cycles", "_before_count",
                 "_before_cycles", "function", "branch_end", "fallthrough", "taken_extra",
                 "entry_extra", "dynamic", "self_loop", "predicted", "flash_lines",
                 "fetch_stall", "flash", "call_end", "table_index", "_classes", "_stalls")

    def __init__(self, address: int, size: int, insns: Sequence[InsnInfo], cycles: list[int],
                 function: str | None, taken_extra: int = 0, entry_extra: int = 0,
                 dynamic: dict[int, str] | None = None, self_loop: bool = False,
                 stalls: list[int] | None = None):
        """`cycles`: each instruction's static cycles; `stalls`: each one's fetch stalls
        (memory/flash.py), added to them."""
        self.address = address
        self.size = size
        self.insns = insns
        self.count = len(insns)
        # Fetch stalls come with a block in flash (and only then: translate).
        self.fetch_stall = sum(stalls) if stalls is not None else 0
        self.cycles = sum(cycles) + self.fetch_stall
        self.executions = 0
        # Instructions and cycles of executions that stopped part-way through the block.
        self.lost_count = 0
        self.lost_cycles = 0
        # Cycles charged per execution: taken branches, branch targets, operand-timed ops.
        self.extra_cycles = 0
        self.function = function
        # Instructions and cycles before each instruction, made when first asked for (most
        # blocks of code that runs once never are); so is the sum of cycles and stalls.
        self._insn_cycles = cycles
        self._stalls = stalls
        self._before_count: dict[int, int] | None = None
        self._before_cycles: dict[int, int] | None = None
        last = insns.last() if isinstance(insns, CachedInsns) else (insns[-1] if insns else None)
        # Whether the block ends in an instruction that may move the PC elsewhere.
        self.branch_end = last is not None and last.branch in (COND, ALWAYS)
        self.call_end = last is not None and (last.cls == "bl" or last.text.startswith("blx"))
        self.fallthrough = address + size
        self.taken_extra = taken_extra
        self.entry_extra = entry_extra
        self.dynamic = dynamic or {}
        self.self_loop = self_loop
        # Branch prediction (cores that predict): the block that followed last time.
        self.predicted = self.fallthrough
        # Flash lines the block's code spans (empty when not in flash), set by the engine.
        self.flash_lines: tuple[int, ...] = ()
        self.flash: FlashInterface | None = None
        self.table_index = -1  # its row in the native or batched accounting table
        self._classes: frozenset[str] | None = None  # made on the first question by class

    @classmethod
    def for_hooks(cls, insns: Sequence[InsnInfo], dynamic: dict[int, str]) -> Block:
        """A run of the ELF's code looked at before the run to place its code hooks (never
        run or counted): made without the work a translated block's set-up does."""
        block = cls.__new__(cls)
        if isinstance(insns, CachedInsns):
            address, last = insns.address, insns.last()
        else:
            address, last = insns[0].address, insns[-1]
        assert last is not None
        block.address, block.insns, block.count = address, insns, len(insns)
        block.size = last.address + last.size - address
        block.cycles = block.executions = block.lost_count = block.lost_cycles = 0
        block.extra_cycles = block.taken_extra = block.entry_extra = block.fetch_stall = 0
        block._insn_cycles, block._stalls = [0] * len(insns), None
        block._before_count = block._before_cycles = None
        block.function, block.dynamic, block.self_loop = None, dynamic, False
        block.branch_end = last.branch in (COND, ALWAYS)
        block.call_end = last.cls == "bl" or last.text.startswith("blx")
        block.fallthrough = block.predicted = block.address + block.size
        block.flash_lines, block.flash, block.table_index = (), None, -1
        block._classes = None
        return block

    def of_classes(self, classes: tuple[str, ...]) -> list[InsnInfo]:
        """The instructions whose class is one of `classes`, in address order. Several rules
        ask when a block is translated, and most blocks hold none of the classes they ask
        for: the block's classes are gathered once (in C) and each question tested on them."""
        insns = self.insns
        if not isinstance(insns, CachedInsns):  # (a cached block knows its classes itself)
            if self._classes is None:
                self._classes = class_set(insns)
            if self._classes.isdisjoint(classes):
                return []
        return of_classes(insns, classes)

    @property
    def insn_cycles(self) -> list[int]:
        """Each instruction's static cycles, its fetch stalls included."""
        if self._stalls is not None:
            self._insn_cycles = list(map(add, self._insn_cycles, self._stalls))
            self._stalls = None
        return self._insn_cycles

    def _counts_before(self) -> dict[int, int]:
        if self._before_count is None:
            self._before_count = {i.address: n for n, i in enumerate(self.insns)}
        return self._before_count

    def _cycles_before(self) -> dict[int, int]:
        if self._before_cycles is None:
            self._before_cycles = dict(zip((i.address for i in self.insns),
                                           accumulate(self.insn_cycles, initial=0),
                                           strict=False))
        return self._before_cycles

    def count_before(self, pc: int) -> int:
        return self._counts_before().get(pc, self.count)

    def cycles_before(self, pc: int) -> int:
        return self._cycles_before().get(pc, self.cycles)

    def data_phase(self, pc: int) -> int:
        """Cycles into the block at which the instruction at `pc` accesses memory: its last
        execute cycle (a 2-cycle load samples in its second cycle, a pipelined one at once)."""
        cycles_before = self._cycles_before()
        before = cycles_before.get(pc, self.cycles)
        n = self._counts_before().get(pc)
        if n is None or n + 1 >= self.count:
            after = self.cycles
        else:
            after = cycles_before[self.insns[n + 1].address]
        return before + max(after - before - 1, 0)

    @property
    def total_instructions(self) -> int:
        return self.executions * self.count - self.lost_count

    @property
    def total_cycles(self) -> int:
        return self.executions * self.cycles - self.lost_cycles + self.extra_cycles


def translate(code: bytes, address: int, timing: TimingModel, function: str | None,
              flash: FlashInterface | None = None, cache: BlockCache | None = None,
              span_at: Callable[[int], DecodedSpan | None] | None = None) -> Block:
    """Decode and time a block; `flash` is the read path of the flash region it runs from;
    `cache` keeps decoded, timed blocks across runs (isa/block_cache.py); `span_at` gives the
    decoded ELF code the block may lie in (its instructions are then not decoded again)."""
    entry = cache.get(address, code) if cache is not None else None
    if entry is None:
        span = span_at(address) if span_at is not None else None
        cut = span.cut(address, code) if span is not None else None
        if cut is not None:
            insns, addresses = cut
        else:
            insns = classify_block(code, address)
            addresses = list(map(_address, insns)) if flash is not None else []
        t = timing.block_timing(insns)
        stalls = (flash.sequential_stalls(addresses, t.cycles)
                  if flash is not None and insns else None)
        if cache is not None:
            cache.put(address, code, (insns, t, stalls))
    else:
        insns, t, stalls = entry
    block = Block(address, len(code), insns, t.cycles, function, t.taken_extra, t.entry_extra,
                  t.dynamic, self_loop=code == SELF_BRANCH and len(insns) == 1, stalls=stalls)
    if flash is not None and block.count:
        block.flash = flash
        block.flash_lines = flash.lines(address, len(code))
    return block
