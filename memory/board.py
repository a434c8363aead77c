"""Boards as data: a board file names its SoC file and adds the clock and the console.

A board file (`memory/boards/NAME.toml`)::

    [board]
    name = "nucleo-f446re"
    soc = "stm32f446re"        # a bundled SoC, or "path/to/soc.toml" relative to this file
    clock = "180MHz"
    [console]                  # optional: the UART whose data register is the console
    base = 0x40004400
    data = 0x04
    status = 0x00
    status_value = 0xC0
    [[interrupts.timer]]       # optional, repeatable: IRQ 3 pending every 10000 cycles
    irq = 3
    period_cycles = 10000      # first_cycle = ... (default: one period)

A SoC file (`memory/socs/NAME.toml`) gives the core, memory regions, peripheral ranges and
register reset values, and its NVIC (`[nvic] priority_bits`, `irqs`; defaults 4 and 32, 2 on
ARMv6-M); see the bundled ones for every field.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from mcusim.base.errors import BoardError, MissingInputError, UsageError
from mcusim.base.tomlfile import (
    Fields,
    as_bool,
    as_int,
    as_str,
    as_uint32,
    list_of,
    load_toml,
)
from mcusim.base.units import parse_frequency, parse_size
from mcusim.isa.core import available_cores, load_core
from mcusim.memory.board_spec import (
    MULTIPLIERS,
    PAGE,
    REGION_KINDS,
    BoardSpec,
    ConsoleSpec,
    InterruptTimerSpec,
    PeripheralRange,
    RegionSpec,
)

__all__ = ["BoardSpec", "ConsoleSpec", "PeripheralRange", "RegionSpec", "available_boards",
           "board_path", "load_board"]

BOARDS_DIR = Path(__file__).parent / "boards"
SOCS_DIR = Path(__file__).parent / "socs"

def available_boards() -> list[str]:
    return sorted(p.stem for p in BOARDS_DIR.glob("*.toml"))


def board_path(name_or_path: str) -> Path:
    """The file of a bundled board name, or the given path if it looks like one."""
    if name_or_path.endswith(".toml") or "/" in name_or_path or "\\" in name_or_path:
        path = Path(name_or_path)
        if path.is_dir():
            raise MissingInputError(f"board file {path} is a directory, not a board .toml file")
        if not path.is_file():
            raise MissingInputError(f"board file {path} does not exist")
        return path
    path = BOARDS_DIR / f"{name_or_path}.toml"
    if not path.is_file():
        raise UsageError(
            f"unknown board {name_or_path!r}. Known boards: {', '.join(available_boards())}; "
            "or give the path of a board file (ending in .toml)"
        )
    return path


def load_board(name_or_path: str, clock: str | int | None = None) -> BoardSpec:
    path = board_path(name_or_path)
    top = Fields(load_toml(path), path, "")
    top.unknown_keys({"board", "console", "region", "peripheral", "reset_values", "interrupts"})
    b = top.table("board")
    assert b is not None
    b.unknown_keys({"name", "description", "soc", "clock", "boot_address", "multiplier"})
    soc_ref = b.get("soc", as_str, "the name of a bundled SoC or a path to a SoC .toml file")
    soc_path = _soc_path(soc_ref, path, b)
    soc_top = Fields(load_toml(soc_path), soc_path, "")
    soc_top.unknown_keys({"soc", "region", "peripheral", "reset_values", "nvic"})
    soc = soc_top.table("soc")
    assert soc is not None
    soc.unknown_keys({"name", "vendor", "core", "fpu", "max_clock", "boot_address",
                      "reference", "multiplier"})

    core_name = soc.get("core", as_str, "a core: " + ", ".join(available_cores()))
    try:
        core = load_core(core_name)
    except ValueError as e:
        raise BoardError(f"{soc_path}: field 'soc.core': {e}") from None

    regions = [_region(r) for r in soc_top.tables("region") + top.tables("region")]
    peripherals = [_peripheral(p) for p in soc_top.tables("peripheral") + top.tables("peripheral")]
    reset_values = {**_reset_values(soc_top), **_reset_values(top)}

    board_clock = b.get("clock", parse_frequency, "a clock frequency such as \"180MHz\"")
    max_clock = soc.get("max_clock", parse_frequency, "a frequency such as \"180MHz\"",
                        default=board_clock)
    boot = b.get("boot_address", as_uint32, "an address", required=False)
    if boot is None:
        boot = soc.get("boot_address", as_uint32, "an address")
    multiplier = b.get("multiplier", _multiplier, " or ".join(MULTIPLIERS), required=False)
    if multiplier is None:
        multiplier = soc.get("multiplier", _multiplier, " or ".join(MULTIPLIERS),
                             default="single-cycle")

    console_fields = top.table("console", required=False)
    nvic = _nvic(soc_top, core.is_v6m)
    board = BoardSpec(
        name=b.get("name", as_str, "a board name"),
        description=b.get("description", as_str, "a description", default=""),
        soc=soc.get("name", as_str, "the SoC's name"),
        core=core,
        fpu=soc.get("fpu", as_str, "an FPU name such as \"fpv4-sp-d16\"", required=False),
        clock_hz=board_clock,
        max_clock_hz=max_clock,
        boot_address=boot,
        regions=tuple(regions),
        peripherals=tuple(peripherals),
        reset_values=reset_values,
        console=_console(console_fields) if console_fields else None,
        multiplier=multiplier,
        source=path,
        nvic_priority_bits=nvic[0],
        nvic_irqs=nvic[1],
        interrupt_timers=_interrupt_timers(top, nvic[1]),
    )
    _check_layout(board, path)
    if clock is not None:
        try:
            board = board.with_clock(parse_frequency(clock))
        except ValueError as e:
            raise UsageError(f"--clock: {e}") from None
    return board


def _soc_path(ref: str, board_file: Path, b: Fields) -> Path:
    if ref.endswith(".toml"):
        path = (board_file.parent / ref).resolve()
        if not path.is_file():
            raise b.fail("soc", "an existing SoC file", ref)
        return path
    path = SOCS_DIR / f"{ref}.toml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in SOCS_DIR.glob("*.toml")))
        raise b.fail("soc", f"a bundled SoC ({known}) or a path ending in .toml", ref)
    return path


def _multiplier(v: object) -> str:
    if v not in MULTIPLIERS:
        raise ValueError("")
    return str(v)


def _kind(v: object) -> str:
    if v not in REGION_KINDS:
        raise ValueError("")
    return str(v)


def _size(v: object) -> int:
    n = parse_size(v)  # type: ignore[arg-type]
    if n == 0:
        raise ValueError("a region cannot be empty")
    return n


def _region(f: Fields) -> RegionSpec:
    f.unknown_keys({"name", "kind", "base", "size", "aliases", "wait_state_steps_mhz",
                    "wait_states", "line_bytes", "prefetch", "icache_lines", "dcache_lines",
                    "icache_fills"})
    return RegionSpec(
        name=f.get("name", as_str, "a region name"),
        kind=f.get("kind", _kind, "one of " + ", ".join(REGION_KINDS)),
        base=f.get("base", as_uint32, "a base address"),
        size=f.get("size", _size, "a size such as \"128K\""),
        aliases=tuple(f.get("aliases", list_of(as_uint32), "a list of addresses", default=[])),
        wait_state_steps_mhz=tuple(f.get(
            "wait_state_steps_mhz", list_of(_positive_number),
            "a list of increasing clock limits in MHz, one per wait state", default=[])),
        fixed_wait_states=f.get("wait_states", _count, "a number of wait states",
                                required=False),
        line_bytes=f.get("line_bytes", _line_bytes, "a power of two from 4 to 64", default=0),
        prefetch=f.get("prefetch", as_bool, "true or false", default=False),
        icache_lines=f.get("icache_lines", _count, "a number of cache lines", default=0),
        dcache_lines=f.get("dcache_lines", _count, "a number of cache lines", default=0),
        icache_fills=f.get("icache_fills", _fills, '"misses" or "all"', default="misses"),
    )


def _line_bytes(v: object) -> int:
    n = as_int(v)
    if n not in (4, 8, 16, 32, 64):
        raise ValueError("")
    return n


def _count(v: object) -> int:
    n = as_int(v)
    if n < 0:
        raise ValueError("")
    return n


def _fills(v: object) -> str:
    if v not in ("misses", "all"):
        raise ValueError("")
    return str(v)


def _positive_number(v: object) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0:
        raise ValueError("")
    return float(v)


def _peripheral(f: Fields) -> PeripheralRange:
    f.unknown_keys({"name", "base", "size"})
    return PeripheralRange(
        name=f.get("name", as_str, "a peripheral range name"),
        base=f.get("base", as_uint32, "a base address"),
        size=f.get("size", _size, "a size"),
    )


def _reset_values(top: Fields) -> dict[int, int]:
    table = top.table("reset_values", required=False)
    if table is None:
        return {}
    out: dict[int, int] = {}
    for key in table.data:
        try:
            addr = int(key, 0)
        except ValueError:
            raise table.fail(key, "a register address as the key, such as 0x40023800", key) \
                from None
        out[addr] = table.get(key, as_uint32, "a 32-bit reset value")
    return out


def _nvic(soc_top: Fields, v6m: bool) -> tuple[int, int]:
    """(priority bits, IRQ lines) from the SoC's optional [nvic] table."""
    f = soc_top.table("nvic", required=False)
    if f is None:
        return (2 if v6m else 4), 32
    f.unknown_keys({"priority_bits", "irqs", "reference"})
    bits = f.get("priority_bits", _priority_bits(v6m),
                 "2 (ARMv6-M)" if v6m else "a number of priority bits from 3 to 8",
                 default=2 if v6m else 4)
    irqs = f.get("irqs", _irq_count(v6m), f"a number of IRQ lines up to {32 if v6m else 496}",
                 default=32)
    return bits, irqs


def _priority_bits(v6m: bool) -> Callable[[object], int]:
    def convert(v: object) -> int:
        n = as_int(v)
        implementable = n == 2 if v6m else 3 <= n <= 8  # ARMv6-M: 2; ARMv7-M: 3 to 8
        if not implementable:
            raise ValueError("")
        return n
    return convert


def _irq_count(v6m: bool) -> Callable[[object], int]:
    def convert(v: object) -> int:
        n = as_int(v)
        if not 1 <= n <= (32 if v6m else 496):
            raise ValueError("")
        return n
    return convert


def _interrupt_timers(top: Fields, irqs: int) -> tuple[InterruptTimerSpec, ...]:
    """`[[interrupts.timer]]`: a board-level source pending IRQ `irq` every `period_cycles`
    (from `first_cycle`, default one period), for tests of interrupt-driven firmware."""
    f = top.table("interrupts", required=False)
    if f is None:
        return ()
    f.unknown_keys({"timer"})
    timers = []
    for t in f.tables("timer"):
        t.unknown_keys({"irq", "period_cycles", "first_cycle"})
        irq = t.get("irq", _irq_number(irqs), f"an IRQ number from 0 to {irqs - 1}")
        period = t.get("period_cycles", _positive, "a positive number of cycles")
        first = t.get("first_cycle", _positive, "a positive cycle count", default=period)
        timers.append(InterruptTimerSpec(irq=irq, period_cycles=period, first_cycle=first))
    return tuple(timers)


def _irq_number(irqs: int) -> Callable[[object], int]:
    def convert(v: object) -> int:
        n = as_int(v)
        if not 0 <= n < irqs:
            raise ValueError(f"the SoC's NVIC has {irqs} IRQ lines")
        return n
    return convert


def _positive(v: object) -> int:
    n = as_int(v)
    if n <= 0:
        raise ValueError("")
    return n


def _console(f: Fields) -> ConsoleSpec:
    f.unknown_keys({"name", "base", "data", "status", "status_value"})
    return ConsoleSpec(
        name=f.get("name", as_str, "a UART name", default="console"),
        base=f.get("base", as_uint32, "the UART's base address"),
        data=f.get("data", as_int, "the data register's offset"),
        status=f.get("status", as_int, "the status register's offset"),
        status_value=f.get("status_value", as_uint32, "the status value meaning ready to send"),
    )


def _check_layout(board: BoardSpec, path: Path) -> None:
    if not board.regions:
        raise BoardError(f"{path}: the board has no memory regions ([[region]] in its SoC file)")
    windows: list[tuple[int, int, str]] = []
    for r in board.regions:
        for lo, hi in r.windows():
            if lo % PAGE or r.size % PAGE:
                raise BoardError(
                    f"{path}: region '{r.name}' at {lo:#x} of {r.size:#x} bytes is not aligned "
                    "to 4 KiB; expected a base and size that are multiples of 0x1000"
                )
            if hi > 1 << 32:
                raise BoardError(f"{path}: region '{r.name}' at {lo:#x} runs past 4 GiB")
            windows.append((lo, hi, r.name))
        steps = r.wait_state_steps_mhz
        if any(b <= a for a, b in zip(steps, steps[1:], strict=False)):
            raise BoardError(
                f"{path}: region '{r.name}': field 'wait_state_steps_mhz': expected increasing "
                f"clock limits, got {list(steps)}"
            )
    for p in board.peripherals:
        windows.append((p.base, p.end, p.name))
    windows.sort()
    for (lo1, hi1, n1), (lo2, _hi2, n2) in zip(windows, windows[1:], strict=False):
        if lo2 < hi1:
            raise BoardError(
                f"{path}: '{n1}' ({lo1:#010x}-{hi1 - 1:#010x}) overlaps '{n2}' at {lo2:#010x}"
            )
    if board.region_at(board.boot_address, 8) is None:
        raise BoardError(
            f"{path}: boot address {board.boot_address:#010x} is in none of the regions: "
            + board.describe_regions()
        )
    for addr in board.reset_values:
        if board.peripheral_at(addr) is None and not 0xE0000000 <= addr < 0xE0100000:
            raise BoardError(
                f"{path}: reset value for {addr:#010x}, which is in no [[peripheral]] range"
            )
    if board.console and board.peripheral_at(board.console.base) is None:
        raise BoardError(
            f"{path}: console UART at {board.console.base:#010x} is in no [[peripheral]] range"
        )
