"""The profile of a run: the data every profile view and exporter reads.

The engine fills a `Profile`; the terminal report, the JSON result and the exporters
(callgrind, collapsed stacks, Chrome/Perfetto trace) are views of it.
"""

from __future__ import annotations

from collections import UserList
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")


@dataclass
class FunctionProfile:
    name: str
    # Times entered by a call or tail call; None (and no inclusive figures) when the run did
    # not track calls (--profile off).
    calls: int | None
    self_cycles: int
    inclusive_cycles: int | None  # self plus callees, once per activation (recursion-safe)
    instructions: int  # self instructions
    inclusive_instructions: int | None = None
    address: int | None = None  # None for code without a symbol (an address range name)
    file: str | None = None  # source file of the function's first line, if known (DWARF)
    line: int | None = None


@dataclass
class CallEdge:
    caller: str
    callee: str
    calls: int
    inclusive_cycles: int  # cycles spent in the callee (and below) for calls from this caller
    inclusive_instructions: int


@dataclass
class LineProfile:
    file: str
    line: int
    function: str
    cycles: int
    instructions: int


@dataclass
class HotBlock:
    address: int
    function: str
    executions: int
    cycles: int  # total over all executions
    cycles_per_execution: float
    disassembly: list[str]  # one "address: text  (cycles)" line per instruction


class LazyList(UserList[T]):
    """A list computed on first use: a timeline of 200,000 activations costs a fraction of a
    second to turn into objects, which only the views that draw it need."""

    def __init__(self, make: Callable[[], list[T]]):  # no super().__init__: that would fill it
        self._make: Callable[[], list[T]] | None = make
        self._data: list[T] | None = None

    @property  # type: ignore[override]
    def data(self) -> list[T]:
        if self._data is None:
            assert self._make is not None
            self._data, self._make = self._make(), None
        return self._data

    @data.setter
    def data(self, value: list[T]) -> None:
        self._data, self._make = value, None


@dataclass(slots=True)
class Slice:
    """One interval on the simulated-time axis (a function activation or a region)."""

    name: str
    kind: str  # "function" or "region"
    start_cycle: int
    end_cycle: int
    depth: int


@dataclass
class CounterSample:
    """A value of a named counter (e.g. stack bytes) from `cycle` on."""

    name: str
    cycle: int
    value: int


@dataclass
class Profile:
    clock_hz: int
    total_cycles: int
    total_instructions: int
    functions: list[FunctionProfile] = field(default_factory=list)
    edges: list[CallEdge] = field(default_factory=list)
    lines: list[LineProfile] = field(default_factory=list)
    hot_blocks: list[HotBlock] = field(default_factory=list)
    # Collapsed stacks: call path (outermost first) -> self cycles spent with that stack.
    stacks: dict[tuple[str, ...], int] = field(default_factory=dict)
    slices: list[Slice] | LazyList[Slice] = field(default_factory=list)
    counters: list[CounterSample] = field(default_factory=list)
    # True when the timeline (slices/counters) was capped and only part of it is kept.
    sampled: bool = False
    sampling_note: str = ""
