"""Terminal views of a RunResult (rich), written to stderr so program output stays clean."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from mcusim.base.units import format_frequency, format_size
from mcusim.memory.board_spec import BoardSpec
from mcusim.sim.result import RunResult
from mcusim.traces.profile import Profile


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
    # Markup only in the head: the message and locations name the user's files and symbols.
    console.print(Text.assemble((f"mcusim: {fault.kind.replace('_', ' ')}:", "bold red"),
                                f" {fault.message}"), highlight=False, soft_wrap=True)
    console.print(f"  at {fault.location} (pc {fault.pc:#010x})", highlight=False, markup=False)
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
            console.print(f"    #{i} {frame}", highlight=False, markup=False)


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


def print_functions(console: Console, result: RunResult, top: int = 20,
                    sort: str = "self") -> None:
    functions = list(result.functions)
    if not functions:
        return
    tracked = functions[0].calls is not None
    if sort == "inclusive" and tracked:
        functions.sort(key=lambda f: (-(f.inclusive_cycles or 0), f.name))
    total = max(result.cycles, 1)
    t = Table(title=f"functions by {sort if tracked else 'self'} cycles", title_justify="left")
    t.add_column("function")
    if tracked:
        t.add_column("calls", justify="right")
    t.add_column("self cycles", justify="right")
    t.add_column("self %", justify="right")
    if tracked:
        t.add_column("inclusive", justify="right")
        t.add_column("incl. %", justify="right")
    t.add_column("instructions", justify="right")
    for f in functions[:top]:
        row: list[str | Text] = [Text(f.name)]  # not markup: "[exception entry]" is a name
        if tracked:
            row.append(f"{f.calls:,}")
        row += [f"{f.self_cycles:,}", f"{100 * f.self_cycles / total:.1f}%"]
        if tracked:
            inc = f.inclusive_cycles or 0
            row += [f"{inc:,}", f"{100 * inc / total:.1f}%"]
        row.append(f"{f.instructions:,}")
        t.add_row(*row)
    if len(functions) > top:
        t.caption = f"{len(functions) - top} more functions not shown"
    console.print(t)


def print_warnings(console: Console, warnings: Sequence[str]) -> None:
    for w in warnings:
        console.print(f"mcusim: warning: {w}", highlight=False, markup=False, soft_wrap=True)


def print_regions(console: Console, result: RunResult) -> None:
    print_warnings(console, result.warnings)
    if not result.regions:
        return
    t = Table(title="regions", title_justify="left")
    for col in ("region", "count", "cycles", "cycles/occurrence", "instructions", "share"):
        t.add_column(col, justify="left" if col == "region" else "right")
    total = max(result.cycles, 1)
    for r in result.regions:
        t.add_row(Text(r.name), f"{r.count:,}", f"{r.cycles:,}", f"{r.cycles / r.count:,.1f}",
                  f"{r.instructions:,}", f"{100 * r.cycles / total:.1f}%")
    console.print(t)


def print_hot_blocks(console: Console, profile: Profile, top: int = 5) -> None:
    if not profile.hot_blocks:
        return
    console.print("[bold]hottest basic blocks[/]")
    total = max(profile.total_cycles, 1)
    for b in profile.hot_blocks[:top]:
        console.print(f"  {b.function} @ {b.address:#010x}: {b.executions:,} executions, "
                      f"{b.cycles:,} cycles ({100 * b.cycles / total:.1f}%), "
                      f"{b.cycles_per_execution:.1f} cycles per execution", highlight=False,
                      markup=False)
        for line in b.disassembly:
            console.print(f"      {line}", highlight=False, markup=False)


def print_lines(console: Console, profile: Profile, top: int = 20) -> None:
    if not profile.lines:
        console.print("mcusim: no DWARF line table in this ELF (build it with -g) for "
                      "--profile=lines", highlight=False)
        return
    t = Table(title="hottest source lines", title_justify="left")
    for col in ("file:line", "function", "cycles", "share"):
        t.add_column(col, justify="right" if col in ("cycles", "share") else "left")
    total = max(profile.total_cycles, 1)
    for ln in profile.lines[:top]:
        t.add_row(Text(f"{ln.file}:{ln.line}"), Text(ln.function), f"{ln.cycles:,}",
                  f"{100 * ln.cycles / total:.1f}%")
    console.print(t)


def print_memory(console: Console, result: RunResult) -> None:
    m = result.memory
    if m is None:
        return
    t = Table(title="memory", title_justify="left", show_header=False)
    t.add_column(style="bold")
    t.add_column(justify="right")
    t.add_column()
    t.add_row("flash", format_size_exact(m.flash_bytes), "code, constants, .data initial values")
    t.add_row("static RAM", format_size_exact(m.static_ram_bytes), ".data + .bss")
    if m.psp_peak_bytes is None:
        t.add_row("stack peak", format_size_exact(m.stack_peak_bytes),
                  f"deepest at {m.stack_peak_pc}")
    else:  # thread mode used the process stack: each stack on its own
        t.add_row("stack peak (MSP)", format_size_exact(m.stack_peak_bytes),
                  f"main stack, deepest at {m.stack_peak_pc}")
        t.add_row("stack peak (PSP)", format_size_exact(m.psp_peak_bytes),
                  f"deepest of {len(m.process_stacks)} process-stack contexts")
    extent = format_size_exact(m.heap_reserved_peak_bytes)
    t.add_row("heap peak", format_size_exact(m.heap_peak_bytes),
              f"allocated at once; heap extent (sbrk) {extent}")
    t.add_row("peak RAM", format_size_exact(m.peak_ram_bytes), "static + stack + heap extent")
    if m.live_peak_bytes is not None:
        t.add_row("live peak", format_size_exact(m.live_peak_bytes),
                  f"bytes still to be read, at {m.live_peak_location or '-'}")
    console.print(t)
    for p in m.process_stacks:
        console.print(f"  process stack from {p.top:#010x}: {p.peak_bytes:,} B, deepest at "
                      f"{p.deepest_at}", highlight=False, markup=False)
    for fp in m.footprint:
        parts = ", ".join(f"{k} {v:,}" for k, v in fp["sections"].items())
        console.print(f"  {fp['region']}: {fp['used_bytes']:,} of {fp['capacity_bytes']:,} bytes "
                      f"({fp['percent']:.1f}%): {parts}", highlight=False, markup=False)
    if m.regions:
        r = Table(title="memory per region", title_justify="left")
        for col in ("region", "stack peak", "heap peak", "peak RAM", "live peak"):
            r.add_column(col, justify="left" if col == "region" else "right")
        for x in m.regions:
            r.add_row(Text(x.name), f"{x.stack_peak_bytes:,}", f"{x.heap_peak_bytes:,}",
                      f"{x.peak_ram_bytes:,}",
                      "-" if x.live_peak_bytes is None else f"{x.live_peak_bytes:,}")
        console.print(r)


def format_size_exact(n: int) -> str:
    return f"{n:,} B" if n < 10 * 1024 else f"{n:,} B ({n / 1024:.1f} KiB)"


def print_unknown_accesses(console: Console, result: RunResult) -> None:
    """Registers no model answers. NVIC, SCB, SysTick, DWT registers are modelled and never
    listed; other core-private (PPB) addresses keep what is written, peripherals drop it."""
    for addr, what in result.unknown_peripheral_accesses.items():
        ppb = 0xE0000000 <= int(addr, 16) < 0xE0100000
        behaviour = ("reads give its reset value, 0 or what was last written there" if ppb
                     else "reads give its reset value or 0, writes are ignored")
        console.print(f"mcusim: unmodelled peripheral register {addr} ({what}; {behaviour})",
                      highlight=False)


def boards_table(boards: list[BoardSpec]) -> Table:
    t = Table(title="boards", title_justify="left")
    t.add_column("name", no_wrap=True, min_width=max(len(b.name) for b in boards))
    for col in ("core", "FPU", "clock", "flash", "RAM", "flash WS"):
        t.add_column(col, no_wrap=True)
    t.add_column("SoC")
    for b in boards:
        ws = [str(r.wait_states(b.clock_hz)) for r in b.regions if r.kind == "flash"]
        # A board that runs code from RAM (QEMU's mps2 boards) has no flash: say what it has.
        code = [r.size for r in b.regions if r.kind == "code_ram"]
        in_flash_column = not b.flash_bytes and code
        flash = (f"- ({format_size(sum(code))} code RAM)" if in_flash_column
                 else format_size(b.flash_bytes))
        # (the code RAM said there is not counted again as RAM)
        ram = b.ram_bytes - (sum(code) if in_flash_column else 0)
        t.add_row(b.name, b.core.name, b.fpu or "-", format_frequency(b.clock_hz), flash,
                  format_size(ram), ",".join(ws) or "-", b.soc)
    return t
