"""A board as the simulator sees it: its core, clock, memory regions, peripheral ranges,
register reset values and console; read from board and SoC files by memory/board.py."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from mcusim.base.units import format_size
from mcusim.isa.core import CoreSpec

REGION_KINDS = ("flash", "sram", "ccm", "dtcm", "itcm", "code_ram")
PAGE = 0x1000  # Unicorn maps memory in 4 KiB pages
MULTIPLIERS = ("single-cycle", "32-cycle")


@dataclass(frozen=True)
class RegionSpec:
    """One memory of the board, visible at `base` and at each alias address."""

    name: str
    kind: str
    base: int
    size: int
    aliases: tuple[int, ...] = ()
    wait_state_steps_mhz: tuple[float, ...] = ()
    fixed_wait_states: int | None = None  # where the vendor gives no clock steps
    # Flash read path (memory/flash.py) as vendor start-up code configures it.
    line_bytes: int = 0
    prefetch: bool = False
    icache_lines: int = 0
    dcache_lines: int = 0
    icache_fills: str = "misses"  # "misses": a branch cache (STM32 ART); "all": an L1 cache

    @property
    def end(self) -> int:
        return self.base + self.size

    @property
    def writable(self) -> bool:
        return self.kind != "flash"

    @property
    def is_ram(self) -> bool:
        return self.kind != "flash"

    def windows(self) -> Iterator[tuple[int, int]]:
        """(start, end) of every address window the region answers at."""
        for base in (self.base, *self.aliases):
            yield base, base + self.size

    def contains(self, addr: int, size: int = 1) -> bool:
        return any(lo <= addr and addr + size <= hi for lo, hi in self.windows())

    def wait_states(self, clock_hz: int) -> int:
        """Flash wait states at this clock: the index of the first step >= the clock."""
        if self.fixed_wait_states is not None:
            return self.fixed_wait_states
        mhz = clock_hz / 1e6
        for ws, step in enumerate(self.wait_state_steps_mhz):
            if mhz <= step + 1e-9:
                return ws
        return len(self.wait_state_steps_mhz)


@dataclass(frozen=True)
class PeripheralRange:
    name: str
    base: int
    size: int

    @property
    def end(self) -> int:
        return self.base + self.size


@dataclass(frozen=True)
class ConsoleSpec:
    """A UART whose data register is the console: writes go to stdout, status reads `ready`."""

    name: str
    base: int
    data: int
    status: int
    status_value: int


@dataclass(frozen=True)
class InterruptTimerSpec:
    """A board-level periodic interrupt source (`[[interrupts.timer]]` in the board file):
    IRQ `irq` becomes pending at `first_cycle` and every `period_cycles` after."""

    irq: int
    period_cycles: int
    first_cycle: int


@dataclass(frozen=True)
class BoardSpec:
    name: str
    description: str
    soc: str
    core: CoreSpec
    fpu: str | None
    clock_hz: int
    max_clock_hz: int
    boot_address: int
    regions: tuple[RegionSpec, ...]
    peripherals: tuple[PeripheralRange, ...]
    reset_values: dict[int, int] = field(default_factory=dict)
    console: ConsoleSpec | None = None
    multiplier: str = "single-cycle"
    source: Path | None = None
    # The NVIC as the SoC implements it: priority bits (ARMv6-M: always 2) and IRQ lines.
    nvic_priority_bits: int = 4
    nvic_irqs: int = 32
    interrupt_timers: tuple[InterruptTimerSpec, ...] = ()

    def region_at(self, addr: int, size: int = 1) -> RegionSpec | None:
        for r in self.regions:
            if r.contains(addr, size):
                return r
        return None

    def peripheral_at(self, addr: int) -> PeripheralRange | None:
        for p in self.peripherals:
            if p.base <= addr < p.end:
                return p
        return None

    def with_clock(self, clock_hz: int) -> BoardSpec:
        return replace(self, clock_hz=clock_hz)

    def describe_regions(self) -> str:
        return "; ".join(
            f"{r.name} {r.base:#010x}-{r.end - 1:#010x} ({format_size(r.size)})"
            for r in self.regions
        )

    @property
    def flash_bytes(self) -> int:
        return sum(r.size for r in self.regions if r.kind == "flash")

    @property
    def ram_bytes(self) -> int:
        return sum(r.size for r in self.regions if r.is_ram)
