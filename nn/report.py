"""Terminal view of an NNResult: the per-layer table and the totals."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from mcusim.nn.result import LayerResult, NNResult
from mcusim.nn.sim_api import format_frequency


def report_console(to_stderr: bool = False) -> Console:
    """The console `mcusim nn` prints its report on: stdout, or stderr when the JSON is stdout
    (`--json -`); files and pipes get the whole table (150 columns), a terminal its width."""
    out = Console(highlight=False, emoji=False, stderr=to_stderr)
    if not out.is_terminal:
        out = Console(highlight=False, emoji=False, width=150, stderr=to_stderr)
    return out


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3f}"


def _shape(shape: list[int]) -> str:
    return "x".join(str(d) for d in shape)


def layer_table(result: NNResult, rows: list[LayerResult] | None = None,
                title: str | None = None) -> Table:
    rows = result.steps if rows is None else rows
    live = any(r.live_bytes is not None for r in rows)  # measured live bytes (--live)
    t = Table(title=title, title_justify="left", header_style="bold", pad_edge=False)
    for name in ("#", "op", "output", "MACs", "cycles", "share", "cyc/MAC",
                 f"ms @{format_frequency(result.clock_hz)}", "arena live B",
                 *(["live B"] if live else [])):
        t.add_column(name, justify="left" if name in ("op", "output") else "right")
    for r in rows:
        op = r.op if r.kernel == "exact" else f"{r.op} [{r.kernel}]"
        if r.name != f"L{r.op_index:02d}_{r.op}":
            op = f"{op} {r.name}"
        t.add_row(str(r.index), op, _shape(r.output_shape), f"{r.macs:,}" if r.macs else "",
                  f"{r.cycles:,}", f"{r.share * 100:.1f}%",
                  f"{r.cycles_per_mac:.2f}" if r.cycles_per_mac else "", _ms(r.seconds),
                  f"{r.arena_live_bytes:,}",
                  *([f"{r.live_bytes:,}" if r.live_bytes is not None else "-"] if live else []))
    steps_total = sum(r.cycles for r in rows)
    t.add_section()
    t.add_row("", "total (steps)", "", f"{result.macs:,}", f"{steps_total:,}",
              f"{steps_total / result.cycles * 100:.1f}%" if result.cycles else "",
              f"{steps_total / result.macs:.2f}" if result.macs else "",
              _ms(steps_total / result.clock_hz), "", *([""] if live else []))
    return t


def totals_table(result: NNResult) -> Table:
    t = Table(show_header=False, box=None, pad_edge=False)
    t.add_column(style="bold")
    t.add_column()
    t.add_row("model", f"{result.model} on {result.board} ({result.core}, "
                       f"{format_frequency(result.clock_hz)}), schedule "
                       f"{result.schedule['kind']}")
    t.add_row("latency", f"{result.cycles:,} cycles = {_ms(result.seconds)} ms "
                         "(whole model_invoke, markers included)")
    t.add_row("arena (planned)", f"{result.arena_bytes:,} bytes (the schedule needs at least "
                                 f"{result.arena_bound_bytes:,} at once)")
    t.add_row("peak RAM", f"{result.peak_ram_bytes:,} bytes measured (static "
                          f"{result.static_ram_bytes:,} incl. the arena, + stack "
                          f"{result.stack_peak_bytes:,} + heap {result.heap_peak_bytes:,})")
    if result.live_peak_bytes is not None:
        gap = result.arena_bytes - result.live_peak_bytes
        t.add_row("live-bytes peak", f"{result.live_peak_bytes:,} bytes measured (planned arena "
                                     f"{'+' if gap >= 0 else '-'}{abs(gap):,} against it)")
    else:
        t.add_row("live-bytes peak", "not measured (--live measures it, per step too)")
    t.add_row("flash", f"{result.flash_bytes:,} bytes (weights {result.weight_bytes:,} + code "
                       f"and parameters {result.flash_bytes - result.weight_bytes:,}); kernel "
                       f"hot loops run from {result.kernel_code}")
    verdict = ("[green]outputs match the reference[/]" if result.matches
               else f"[red]mismatch:[/] {escape(result.reference)}")
    t.add_row("reference", verdict)
    t.add_row("build", "cached" if result.cached_build else "compiled", style=None)
    return t


def print_result(console: Console, result: NNResult, by_operator: bool = False) -> None:
    console.print(layer_table(result, result.layers if by_operator else None))
    console.print(totals_table(result))
