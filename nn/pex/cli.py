"""`mcusim nn MODEL --schedule pex[:N] --plot OUT.png` and `--schedule pex --sweep`.

nn/cli.py registers these options (`add_arguments`, declared in nn/pex/options.py so that
`mcusim --help` stays light) and hands over to `run` when one is given:
both schedules of the same model run on the board, the comparison is printed (and written with
`--json`), and the picture drawn; a sweep runs the layer-by-layer schedule and pex:N for
N = 2, 4, 8, 16 and the automatic choice (schedules identical to an earlier one are skipped).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable

from rich.console import Console

from mcusim.nn.graph import Graph
from mcusim.nn.pex.options import add_arguments
from mcusim.nn.pex.report import Comparison, bottleneck, print_comparison
from mcusim.nn.pex.schedule import pex_schedule
from mcusim.nn.pex.search import peak_bound_bytes
from mcusim.nn.report import report_console
from mcusim.nn.result import NNResult
from mcusim.nn.schedule import Schedule

__all__ = ["SWEEP_SLICES", "add_arguments", "run"]

RunFn = Callable[[Schedule | None], NNResult]
SWEEP_SLICES = (2, 4, 8, 16)  # then the automatic choice


def _plan(graph: Graph, result: NNResult):
    from mcusim.nn.run import plan_for

    return plan_for(graph, Schedule.from_json_dict(result.schedule))


def run(args: argparse.Namespace, graph: Graph, board: str, run_fn: RunFn,
        write_json: Callable[[str], None], to_stderr: bool = False) -> int:
    """`write_json(text)` writes --json (nn/cli.py checked it and --plot before the runs);
    `to_stderr`: the JSON is stdout (`--json -`), so the report goes to stderr."""
    out = report_console(to_stderr)
    from mcusim.nn.run import DoesNotFitError

    bound = peak_bound_bytes(graph)
    try:
        layers: NNResult | None = run_fn(None)
    except DoesNotFitError as e:
        out.print(f"mcusim nn: layer by layer: {e}", markup=False)
        layers = None
    if args.sweep:
        return _sweep(args, graph, board, run_fn, layers, bound, out, write_json)
    from mcusim.nn.schedules import make_schedule

    schedule = make_schedule(args.schedule, graph, board)
    if schedule is None:  # --plot with the default schedule: compare with automatic Pex
        schedule = make_schedule("pex", graph, board)
    pex = run_fn(schedule)
    from mcusim.nn.report import print_result

    print_result(out, pex)
    neck = bottleneck(graph, _plan(graph, pex))
    c = Comparison(layers, pex, bound, neck) if layers is not None else None
    if c is not None:
        print_comparison(out, c)
    else:
        out.print(f"bound of any channel split (peak_bound_bytes): {bound:,} B; memory "
                  f"bottleneck: {'; '.join(neck)}", soft_wrap=True)
    if args.plot is not None:
        from mcusim.nn.pex.plot import plot_live

        runs = [(r, _plan(graph, r)) for r in (layers, pex) if r is not None]
        plot_live(args.plot, runs, graph)
        out.print(f"mcusim nn: wrote {args.plot}", markup=False)
    if args.json is not None:
        d = pex.to_json_dict()
        d["peak_bound_bytes"] = bound
        if c is not None:
            d["pex_comparison"] = c.to_json_dict()
        write_json(json.dumps(d, indent=1) + "\n")
    return 0 if pex.matches and (layers is None or layers.matches) else 1


def _sweep(args, graph: Graph, board: str, run_fn: RunFn, layers: NNResult | None,
           bound: int, out: Console, write_json: Callable[[str], None]) -> int:
    rows: list[tuple[str, NNResult]] = [("layers", layers)] if layers is not None else []
    seen: list[tuple[list, int]] = []  # (steps, row) of each schedule run
    for label, slices in [*[(f"pex:{n}", n) for n in SWEEP_SLICES], ("pex", None)]:
        schedule, _ = pex_schedule(graph, slices)
        steps = schedule.to_json_dict()["steps"]
        same = next((row for s, row in seen if s == steps), None)
        if same is not None:
            # The same schedule as a smaller slice count (nothing left to split), not run
            # again; the automatic choice is named on the row it chose.
            if slices is None:
                first, result = rows[same]
                rows[same] = (f"{first} = pex", result)
            continue
        seen.append((steps, len(rows)))
        rows.append((label, run_fn(schedule)))
    from rich.table import Table

    t = Table(title=f"{graph.name} on {board}: Pex slice-count sweep (bound "
                    f"{bound:,} B)", title_justify="left", header_style="bold")
    for col in ("schedule", "arena B", "peak RAM B", "live peak B", "cycles", "latency ms",
                "overhead", "reference"):
        t.add_column(col, justify="left" if col in ("schedule", "reference") else "right")
    for label, r in rows:
        over = ("-" if layers is None else
                f"{100.0 * (r.cycles - layers.cycles) / layers.cycles:+.2f} %")
        t.add_row(label, f"{r.arena_bytes:,}", f"{r.peak_ram_bytes:,}",
                  "-" if r.live_peak_bytes is None else f"{r.live_peak_bytes:,}",
                  f"{r.cycles:,}", f"{r.seconds * 1e3:.2f}", over, r.reference)
    out.print(t)
    if args.plot is not None:
        from mcusim.nn.pex.plot import plot_sweep

        plot_sweep(args.plot, graph.name, board,
                   [(label, r.arena_bytes, r.peak_ram_bytes, r.seconds * 1e3)
                    for label, r in rows], bound)
        out.print(f"mcusim nn: wrote {args.plot}", markup=False)
    if args.json is not None:
        write_json(json.dumps({"schema": "mcusim.nn/1", "model": graph.name, "board": board,
                           "peak_bound_bytes": bound,
                           "sweep": [{"schedule": label, "arena_bytes": r.arena_bytes,
                                      "peak_ram_bytes": r.peak_ram_bytes,
                                      "live_peak_bytes": r.live_peak_bytes,
                                      "cycles": r.cycles, "reference": r.reference}
                                     for label, r in rows]}, indent=1) + "\n")
    return 0 if all(r.matches for _, r in rows) else 1
