"""Terminal views of a RunResult (rich), written to stderr so program output stays clean."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from mcusim.memory.board import BoardSpec
from mcusim.memory.units import format_frequency, format_size
from mcusim.sim.result import RunResult


def _si_time(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.3f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3f} ms"
    return f"{seconds * 1e6:.3f} us"


def print_fault(console: Console, result: RunResult) -> None:
    fault = result.fault
    if fault is None:
        return
    console.print(f"[bold red]mcusim: {fault.kind.replace('_', ' ')}:[/] {fault.message}",
                  highlight=False, soft_wrap=True)
    console.print(f"  at {fault.location} (pc {fault.pc:#010x})", highlight=False)
    regs = fault.registers
    if regs:
        names = [f"r{i}" for i in range(13)] + ["sp", "lr", "pc", "xpsr"]
        cells = [f"{n:>4}={regs[n]:08x}" for n in names if n in regs]
        for i in range(0, len(cells), 4):
            console.print("  " + "  ".join(cells[i:i + 4]), highlight=False)
    if fault.call_stack:
        console.print("  call stack (innermost first; from LR and return addresses found on "
                      "the stack):", highlight=False)
        for i, frame in enumerate(fault.call_stack):
            console.print(f"    #{i} {frame}", highlight=False)


def print_summary(console: Console, result: RunResult) -> None:
    t = Table(show_header=False, box=None, pad_edge=False)
    t.add_column(style="bold")
    t.add_column()
    t.add_row("board", f"{result.board} ({result.core}, {format_frequency(result.clock_hz)})")
    t.add_row("exit code", "-" if result.exit_code is None else str(result.exit_code))
    t.add_row("instructions", f"{result.instructions:,}")
    t.add_row("cycles", f"{result.cycles:,}  (timing model: {result.timing_model})")
    t.add_row("simulated time", _si_time(result.seconds))
    mips = result.instructions / result.host_seconds / 1e6 if result.host_seconds else 0.0
    t.add_row("host time", f"{result.host_seconds:.3f} s ({mips:.1f} simulated MIPS)")
    console.print(t)


def print_functions(console: Console, result: RunResult, top: int = 20) -> None:
    if not result.functions:
        return
    total = max(result.cycles, 1)
    t = Table(title="cycles by function (self)", title_justify="left")
    t.add_column("function")
    t.add_column("instructions", justify="right")
    t.add_column("cycles", justify="right")
    t.add_column("share", justify="right")
    for f in result.functions[:top]:
        t.add_row(f.name, f"{f.instructions:,}", f"{f.cycles:,}", f"{100 * f.cycles / total:.1f}%")
    if len(result.functions) > top:
        t.caption = f"{len(result.functions) - top} more functions not shown"
    console.print(t)


def print_unknown_accesses(console: Console, result: RunResult) -> None:
    for addr, what in result.unknown_peripheral_accesses.items():
        console.print(f"mcusim: unmodelled peripheral register {addr} ({what}; reads give its "
                      "reset value or 0, writes are ignored)", highlight=False)


def boards_table(boards: list[BoardSpec]) -> Table:
    t = Table(title="boards", title_justify="left")
    t.add_column("name", no_wrap=True, min_width=max(len(b.name) for b in boards))
    for col in ("core", "clock", "flash", "RAM", "flash WS"):
        t.add_column(col, no_wrap=True)
    t.add_column("SoC")
    for b in boards:
        core = b.core.name.removeprefix("cortex-") + ("F" if b.fpu else "")
        ws = [str(r.wait_states(b.clock_hz)) for r in b.regions if r.kind == "flash"]
        t.add_row(b.name, core, format_frequency(b.clock_hz), format_size(b.flash_bytes),
                  format_size(b.ram_bytes), ",".join(ws) or "-", b.soc)
    return t
