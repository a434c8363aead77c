"""`mcusim dse MODEL --board NAME --data DATA.npz`: the approximate-kernel design-space
exploration, from the command line (registered in sim/cli.py next to `mcusim nn`)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from mcusim.base.outputs import make_output_dir, replaceable
from mcusim.nn.approx.dse import DseOptions, run_dse
from mcusim.nn.approx.options import add_dse_parser
from mcusim.nn.approx.pareto import (
    Point,
    best_within,
    loss_pp,
    plot_front,
    reduction,
    study_json,
    write_csv,
)
from mcusim.nn.approx.significance import save_significance
from mcusim.nn.approx.study import EvalData, Study
from mcusim.nn.sim_api import MissingInputError, OutputError, UsageError
from mcusim.nn.tflite_import import load_model


def add_parser(sub) -> None:
    add_dse_parser(sub)


def _floats(text: str, what: str) -> list[float]:
    try:
        vals = sorted({float(v) for v in text.split(",") if v.strip()})
    except ValueError:
        raise UsageError(f"--{what} {text!r}: give comma-separated numbers") from None
    if not vals or any(not 0 <= v <= 1 for v in vals):
        raise UsageError(f"--{what} {text!r}: skip fractions must be in [0, 1] (0: generated "
                         "kernel, nothing skipped)")
    return vals


# What `mcusim dse` writes in --out (best-*.json too), as kinds of output whose marks
# base/outputs.py knows: a folder whose points.json is dse's is an earlier study's (every file
# there is replaced or resumed); otherwise each file there is checked (an interrupted first
# study leaves significance.npz and cache.jsonl only, and cache.jsonl is appended to).
_DSE_FILES = {"points.json": "dse", "points.csv": "dse_csv", "pareto.png": "dse_png",
              "significance.npz": "dse_npz", "cache.jsonl": "dse_cache"}


def _dse_file(path: Path) -> bool:
    """Whether `path` (a file dse writes) is missing, empty or recognisably dse's."""
    kind = "dse_best" if path.name.startswith("best-") else _DSE_FILES[path.name]
    return not path.exists() or replaceable(kind, path)


def _check_out(out: Path, force: bool) -> None:
    make_output_dir("--out", out)
    if force or (out / "points.json").is_file() and _dse_file(out / "points.json"):
        return
    foreign = [p.name for p in [*(out / name for name in _DSE_FILES),
                                *sorted(out.glob("best-*pp.json"))] if not _dse_file(p)]
    if foreign:
        raise OutputError(f"--out {out}: {', '.join(foreign)} there "
                          f"{'was' if len(foreign) == 1 else 'were'} not written by mcusim dse; "
                          "not overwriting (use --force to replace, or another --out)")


def front_table(exact: Point, points: list[Point], clock_hz: int) -> Table:
    t = Table(title="Pareto front (latency vs accuracy; exact int8 model first)")
    for col in ("config (op: skip)", "cycles", "ms", "reduction", "accuracy", "loss pp"):
        t.add_column(col, justify="left" if col.startswith("config") else "right")
    rows = [exact] + sorted((p for p in points if p.pareto and p is not exact),
                            key=lambda p: p.latency_cycles)
    for p in rows:
        cfg = ", ".join(f"{k}: {v:g}" for k, v in p.config.items()) or "exact"
        t.add_row(cfg, f"{p.latency_cycles:,}", f"{1e3 * p.latency_cycles / clock_hz:.3f}",
                  f"{100 * reduction(p, exact):.1f} %", f"{100 * p.accuracy:.2f} %",
                  f"{loss_pp(p, exact):+.2f}")
    return t


def fastest_exact(points: list[Point]) -> Point | None:
    """The fastest measured network that skips nothing (library or unskipped generated
    kernels per layer): the reference for what skipping itself buys."""
    same = [p for p in points if p.source in ("exact", "unrolled", "fastest-exact")
            or (p.config and all(v == 0.0 for v in p.config.values()))]
    return min(same, key=lambda p: p.latency_cycles, default=None)


def summary_lines(exact: Point, unrolled: Point | None, points: list[Point]) -> list[str]:
    """The fastest configuration within 0 / 0.5 / 1 pp, against the exact model (library
    kernels) and against the fastest network that skips nothing (what skipping buys)."""
    lines = []
    if unrolled is not None:
        lines.append(f"generated kernels, nothing skipped: {unrolled.latency_cycles:,} cycles "
                     f"({100 * reduction(unrolled, exact):.1f} % fewer than the exact kernels)")
    ref = fastest_exact(points)
    if ref is not None and ref is not exact:
        lines.append(f"fastest network skipping nothing: {ref.latency_cycles:,} cycles "
                     f"({ref.config or 'exact'})")
    for budget in (0.0, 0.5, 1.0):
        best = best_within(points, exact, budget)
        if best is None or best is exact:
            continue
        vs = "" if ref is None or ref is exact else \
            f", {100 * reduction(best, ref):.1f} % fewer than the fastest skipping nothing"
        lines.append(f"fastest within {budget:.1f} pp: {best.latency_cycles:,} cycles, "
                     f"{100 * reduction(best, exact):.1f} % fewer than exact{vs}; accuracy "
                     f"{100 * best.accuracy:.2f} % ({best.config})")
    return lines


def write_best_configs(out: Path, exact: Point, points: list[Point]) -> list[Path]:
    """best-<budget>pp.json: the fastest configuration within 0 / 0.5 / 1 pp, as files for
    `mcusim nn --approx` (with the study's significance)."""
    written = []
    for budget in (0.0, 0.5, 1.0):
        best = best_within(points, exact, budget)
        if best is None or best is exact:
            continue
        path = out / f"best-{budget:g}pp.json"
        doc = {"layers": {k: {"skip": v} for k, v in best.config.items()},
               "significance": "significance.npz",
               "study": {"latency_cycles": best.latency_cycles, "accuracy": best.accuracy,
                         "exact_latency_cycles": exact.latency_cycles,
                         "exact_accuracy": exact.accuracy}}
        path.write_text(json.dumps(doc, indent=1) + "\n")
        written.append(path)
    return written


def run(args: argparse.Namespace, console: Console | None = None,
        err: Console | None = None) -> int:
    """`mcusim dse`: results on `console` (stdout), the progress bars on `err` (stderr)."""
    out = console or Console(highlight=False, emoji=False)
    err = err or Console(stderr=True, highlight=False, emoji=False)
    if not args.model.is_file():
        raise MissingInputError(f"model {args.model} does not exist")
    if not args.data.is_file():
        raise MissingInputError(f"data set {args.data} does not exist")
    if args.jobs < 0:
        raise UsageError(f"--jobs {args.jobs}: expected 0 (all CPUs) or a positive number")
    if args.max_grid < 0:  # a negative bound silently meant "never the full grid"
        raise UsageError(f"--max-grid {args.max_grid}: expected a number of candidates (0 or "
                         "more; 0: never the full grid)")
    from mcusim.sim.check.measure import default_jobs

    cpus = default_jobs()
    if args.jobs == 0:  # as `mcusim check --jobs 0`
        args.jobs = cpus
    if args.scheduler is None and args.jobs > cpus:
        # The local pool forks all its workers at once (--jobs 100000 forked until memory ran
        # out); more simulations than CPUs cannot run at once anyway.
        err.print(f"mcusim dse: --jobs {args.jobs}: using {cpus} worker processes, one per CPU")
        args.jobs = cpus
    levels = _floats(args.levels, "levels")
    layers = None
    if args.layers:
        try:
            layers = [int(v) for v in args.layers.split(",") if v.strip()]
        except ValueError:
            raise UsageError(f"--layers {args.layers!r}: give operator indices") from None
    _check_out(args.out, args.force)
    graph = load_model(str(args.model))
    data = EvalData.load(args.data, graph)
    calib = EvalData.load(args.calib, graph, "--calib").x if args.calib else None
    from mcusim.nn.sim_api import load_board

    board = load_board(args.board)
    study = Study(args.model, board.name, data, calib, layers=layers)
    save_significance(study.significance, args.out / "significance.npz")
    opts = DseOptions(levels=levels, max_grid=args.max_grid, jobs=args.jobs,
                      scheduler=args.scheduler)
    unit = "SMLAD pairs" if study.granularity == 2 else "single positions"
    out.print(f"[bold]{escape(graph.name)}[/] on {escape(board.name)}: approximating operators "
              f"{sorted(study.layers)} ({unit}), {len(data.x)} evaluation inputs, metric "
              f"{study.metric}", soft_wrap=True)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err, transient=False) as bar:
        tasks: dict[str, int] = {}

        def progress(done: int, total: int, phase: str) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(f"measuring {phase}", total=total)
            bar.update(tasks[phase], completed=done, total=total)

        exact, points = run_dse(study, opts, args.out / "cache.jsonl", progress)
    write_csv(points, exact, args.out / "points.csv")
    doc = study_json(board.name, str(args.model), study.metric, exact, points,
                     {"granularity": study.granularity, "levels": levels})
    (args.out / "points.json").write_text(json.dumps(doc, indent=1) + "\n")
    plot_front(points, exact, args.out / "pareto.png",
               f"{graph.name} on {board.name}: {len(points)} candidates")
    out.print(front_table(exact, points, board.clock_hz))
    unrolled = next((p for p in points if p.source == "unrolled"), None)
    for line in summary_lines(exact, unrolled, points):
        out.print(line, soft_wrap=True)  # never cut at 80 columns in a pipe or a log
    written = write_best_configs(args.out, exact, points)
    out.print(f"wrote {args.out}/points.csv, points.json, pareto.png, significance.npz"
              + "".join(f", {w.name}" for w in written)
              + (f"\nrun one: mcusim nn {args.model} --board {board.name} --approx "
                 f"{written[-1]}" if written else ""), markup=False, soft_wrap=True)
    return 0
