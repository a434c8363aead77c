"""`mcusim trace` and `mcusim view`: record SRAM accesses to a .mtrace file, and draw one."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from mcusim.sim.engine import Simulation
from mcusim.sim.errors import InputError, MissingInputError, UsageError
from mcusim.sim.memory_tracker import MemoryTracker
from mcusim.sim.outputs import OutputPlan
from mcusim.traces.mtrace import Trace, TraceFormatError, TraceWriter


def trace_meta(sim: Simulation, tracker: MemoryTracker) -> dict:
    board = sim.board
    return {
        "board": board.name,
        "elf": str(sim.firmware.path),
        "clock_hz": board.clock_hz,
        "regions": [{"name": r.name, "base": r.base, "size": r.size, "kind": r.kind}
                    for r in tracker.recorded_regions()],
        "markers": [{"name": e.name, "begin": e.begin, "cycle": e.cycles}
                    for e in sim.region_events],
        "recording": {"window": list(tracker.window) if tracker.window else None,
                      "max_accesses": tracker.max_accesses,
                      "truncated": tracker.log.dropped > 0, "dropped": tracker.log.dropped},
        "curves": {"stack": tracker.stack_curve.points, "heap": tracker.heap_curve.points},
        "static_ram_bytes": sim.footprint.static_ram_bytes,
        "total_cycles": sim.cycles,
    }


def write_trace(sim: Simulation, path: Path) -> int:
    tracker = sim.memory_tracker
    assert tracker is not None and tracker.record
    log = tracker.log
    with TraceWriter(path, trace_meta(sim, tracker)) as w:
        w.append(np.frombuffer(log.cycle, np.uint64), np.frombuffer(log.address, np.uint32),
                 np.frombuffer(log.pc, np.uint32), np.frombuffer(log.size, np.uint8),
                 np.frombuffer(log.kind, np.uint8))
    return len(log.kind)


def open_trace(path: Path) -> Trace:
    if not path.exists():
        raise MissingInputError(f"trace file {path} does not exist")
    try:
        return Trace.open(path)
    except TraceFormatError as e:
        raise InputError(f"{path}: {e}") from None


def view(args: argparse.Namespace) -> int:
    from mcusim.traces.liveness import live_bytes
    from mcusim.traces.view import render_html, render_png, summary_text

    png = args.output or args.trace.with_suffix(".png")
    html = args.html or args.trace.with_suffix(".html")
    if png.suffix.lower() != ".png":
        raise UsageError(f"-o {png}: the picture is written as PNG; give a name ending in .png")
    plan = OutputPlan([args.trace], args.force)
    plan.add("-o", png, "png", stdout_ok=False)
    plan.add("--html", html, "html", stdout_ok=False)
    trace = open_trace(args.trace)
    for key in ("elf", "board"):  # a name that is not UTF-8 is drawn with U+FFFD in its place
        if isinstance(trace.meta.get(key), str):
            trace.meta[key] = trace.meta[key].encode("utf-8", "surrogateescape").decode(
                "utf-8", "replace")
    live = live_bytes(trace)
    render_png(trace, png, live=live)
    render_html(trace, html, live=live)
    sys.stdout.write(summary_text(trace, live) + "\n")
    sys.stdout.write(f"wrote {png} and {html}\n")
    return 0
