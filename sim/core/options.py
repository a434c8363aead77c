"""What a run is given besides the firmware, the board and the timing model: the program's
I/O, its limits, what is observed and which accounting path may run it.

    RunOptions(io=ProgramIO(argv=["app.elf", "3"]), limits=Limits(max_cycles=10**7),
               profile=ProfileOptions(lines=True), memory=MemoryOptions(record_accesses=True))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from mcusim.base.errors import UsageError
from mcusim.base.units import MAX_COUNT  # (the largest limit or count option)


def check_count(name: str, value: int | None) -> None:
    """A count option is positive and fits the counters."""
    if value is not None and value <= 0:
        raise UsageError(f"{name} must be a positive number, not {value}")
    if value is not None and value > MAX_COUNT:
        raise UsageError(f"{name} {value} is too large (at most {MAX_COUNT:,})")


@dataclass(frozen=True)
class ProgramIO:
    """The program's view of the host: its argv (default: the ELF's name), the only directory
    its file calls may use, and its standard streams (in-memory buffers when not given)."""

    argv: Sequence[str] | None = None
    fs_root: str | Path = "."
    stdin: BinaryIO | None = None
    stdout: BinaryIO | None = None
    stderr: BinaryIO | None = None


@dataclass(frozen=True)
class Limits:
    """Where a run is stopped if the program has not exited (counted per block)."""

    max_instructions: int | None = None
    max_cycles: int | None = None
    timeout: float | None = None  # --timeout: seconds of host time


    def __post_init__(self) -> None:
        check_count("--max-instructions", self.max_instructions)
        check_count("--max-cycles", self.max_cycles)

    @property
    def any(self) -> bool:
        """Whether a count limit is set (they need a look at every block)."""
        return self.max_instructions is not None or self.max_cycles is not None


@dataclass(frozen=True)
class ProfileOptions:
    """Track calls (sim/observe/profiling.py); `lines` adds cycles per source line (DWARF)."""

    lines: bool = False


@dataclass(frozen=True)
class MemoryOptions:
    """Account stack, heap and peak RAM (sim/observe/memory.py); `record_accesses` also logs
    every RAM access (in a cycle window, up to a count, in some RAM regions only) for the
    live-bytes analysis, which `live_analysis=False` leaves to a later reader of the log."""

    record_accesses: bool = False
    window: tuple[int, int] | None = None
    max_accesses: int | None = None
    record_regions: Sequence[str] | None = None  # RAM region names (default: all)
    live_analysis: bool = True
    max_stack: int | None = None  # --max-stack: the run stops where the stack passes it
    max_ram: int | None = None  # --max-ram: judged on the peak at the end (MemoryReport)

    def __post_init__(self) -> None:
        check_count("--max-accesses", self.max_accesses)


@dataclass(frozen=True)
class IrqSchedule:
    """`--irq N@CYCLES[/PERIOD]`: IRQ `irq` becomes pending at cycle `cycle` (and every
    `period` cycles after, if given)."""

    irq: int
    cycle: int
    period: int | None = None

    def __post_init__(self) -> None:
        spec = f"{self.irq}@{self.cycle}" + ("" if self.period is None else f"/{self.period}")
        if not 0 <= self.irq < 496:
            raise UsageError(f"--irq {spec}: IRQ {self.irq} is not an IRQ number (0 to 495; "
                             "the board's SoC file says how many its NVIC has)")
        if self.cycle < 0:
            raise UsageError(f"--irq {spec}: the cycle must be 0 or more, not {self.cycle}")
        check_count(f"--irq {spec}: the cycle", self.cycle or None)
        check_count(f"--irq {spec}: the period", self.period)

    @classmethod
    def parse(cls, spec: str) -> IrqSchedule:
        """`N@CYCLES` or `N@CYCLES/PERIOD`, e.g. `3@10000/5000`."""
        irq, at, when = spec.partition("@")
        cycle, slash, period = when.partition("/")
        try:
            return cls(int(irq, 0), int(cycle, 0), int(period, 0) if slash else None)
        except ValueError:
            raise UsageError(f"--irq {spec!r}: expected N@CYCLES or N@CYCLES/PERIOD, an IRQ "
                             "number and a cycle count (and a period in cycles), e.g. "
                             "--irq 3@10000 or --irq 3@10000/5000") from None


@dataclass(frozen=True)
class RunOptions:
    """Everything optional about a run. `native` and `batched` choose the accounting path
    (sim/simulation.py): None takes the fastest one the run allows, False rules a path out,
    `native=True` requires the native hot path."""

    io: ProgramIO = field(default_factory=ProgramIO)
    limits: Limits = field(default_factory=Limits)
    symbol_regions: Sequence[tuple[str, str]] = ()  # (start symbol, end symbol) pairs
    profile: ProfileOptions | None = None
    memory: MemoryOptions | None = None
    native: bool | None = None
    batched: bool | None = None
    interrupts: Sequence[IrqSchedule] = ()  # --irq: board-level interrupt sources
    # --fault-handlers (FAULTS, issue 13): "enter" runs the fault handlers the vector table
    # names; "report" stops at every fault with the fault report, as before exceptions.
    fault_handlers: str = "enter"

    def __post_init__(self) -> None:
        if self.fault_handlers not in ("enter", "report"):
            raise UsageError(f"--fault-handlers {self.fault_handlers!r}: expected 'enter' or "
                             "'report'")
