"""The memory section of a run's result, from the footprint and the memory tracker."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mcusim.sim.core.regions import pair_regions
from mcusim.sim.observe.exc_memory import ExceptionStacks
from mcusim.sim.observe.memory_tracker import MemoryTracker, PeakSeries
from mcusim.sim.result import AccessTrace, MemoryReport, RegionMemory
from mcusim.traces.profile import CounterSample

if TYPE_CHECKING:  # numpy: recorded accesses only; a plain run does not load it
    from mcusim.sim.core.engine import Simulation
    from mcusim.traces.liveness import LiveCurve


def live_curve(tracker: MemoryTracker) -> LiveCurve | None:
    log = tracker.log
    if not tracker.record:
        return None
    import numpy as np

    from mcusim.traces.liveness import live_bytes_arrays

    return live_bytes_arrays(
        np.frombuffer(log.cycle, dtype=np.uint64), np.frombuffer(log.address, dtype=np.uint32),
        np.frombuffer(log.size, dtype=np.uint8), np.frombuffer(log.kind, dtype=np.uint8),
        pc=np.frombuffer(log.pc, dtype=np.uint32), start_cycle=0)


def memory_counters(tracker: MemoryTracker, curve: LiveCurve | None,
                    limit: int = 4096) -> list[CounterSample]:
    """Counter tracks for the timeline (Perfetto): stack and heap bytes, and live bytes
    (the maximum per time bucket, so peaks survive the thinning)."""
    out = [CounterSample("stack bytes", c, v) for c, v in tracker.stack_curve.points]
    out += [CounterSample("heap bytes", c, v) for c, v in tracker.heap_curve.points]
    if curve is not None and len(curve.cycles):
        series = PeakSeries(limit=limit)
        for c, v in zip(curve.cycles.tolist(), curve.live.tolist(), strict=True):
            series.add(c, v)
        out += [CounterSample("live bytes", c, v) for c, v in series.points]
    return out


def over_budget(m: MemoryReport, max_stack: int | None, max_ram: int | None) -> str | None:
    """What of the report passes the budgets (--max-stack, --max-ram), or None."""
    problems = []
    if max_stack is not None and m.stack_peak_bytes > max_stack:
        problems.append(f"the stack peak of {m.stack_peak_bytes:,} bytes (at "
                        f"{m.stack_peak_pc}) exceeds --max-stack {max_stack:,}")
    if max_ram is not None and m.peak_ram_bytes > max_ram:
        problems.append(f"peak RAM of {m.peak_ram_bytes:,} bytes (static "
                        f"{m.static_ram_bytes:,} + stack and heap at their worst) exceeds "
                        f"--max-ram {max_ram:,}")
    return "; ".join(problems) or None


def memory_report(sim: Simulation, tracker: MemoryTracker,
                  curve: LiveCurve | None = None,
                  exceptions: ExceptionStacks | None = None) -> MemoryReport:
    fp = sim.footprint
    process = exceptions.process_stacks() if exceptions is not None else []
    symbols = sim.firmware.symbols
    regions = []
    for name, peaks in tracker.region_peaks.items():
        live = _live_in_region(curve, sim, name) if curve is not None else None
        regions.append(RegionMemory(name, peaks.stack_peak_bytes, peaks.heap_peak_bytes,
                                    fp.static_ram_bytes + peaks.peak_ram_bytes, live))
    return MemoryReport(
        flash_bytes=fp.flash_bytes,
        static_ram_bytes=fp.static_ram_bytes,
        stack_peak_bytes=tracker.stack_peak,
        stack_peak_pc=symbols.describe(tracker.stack_low_pc) if tracker.stack_low_pc else "-",
        heap_peak_bytes=tracker.heap_peak,
        heap_reserved_peak_bytes=tracker.heap_extent_peak,
        peak_ram_bytes=fp.static_ram_bytes + tracker.peak_total,
        live_peak_bytes=curve.peak_bytes if curve is not None else None,
        live_peak_cycle=curve.peak_cycle if curve is not None else None,
        live_peak_location=(symbols.describe(curve.peak_pc)
                            if curve is not None and curve.peak_pc is not None else None),
        stack_overflow=tracker.overflow,
        footprint=[{"region": r.region, "kind": r.kind, "capacity_bytes": r.capacity,
                    "used_bytes": r.used, "percent": round(r.percent, 2),
                    "sections": r.sections} for r in fp.regions],
        regions=regions,
        psp_peak_bytes=max(p.peak_bytes for p in process) if process else None,
        process_stacks=process)


def access_trace(sim: Simulation, tracker: MemoryTracker) -> AccessTrace:
    """The recorded accesses with the .mtrace meta: regions, markers, recording, curves."""
    import numpy as np

    board, log = sim.board, tracker.log
    meta = {
        "board": board.name,
        "elf": str(sim.firmware.path),
        "clock_hz": board.clock_hz,
        "regions": [{"name": r.name, "base": r.base, "size": r.size, "kind": r.kind}
                    for r in tracker.recorded_regions()],
        "markers": [{"name": e.name, "begin": e.begin, "cycle": e.cycles}
                    for e in sim.region_events],
        "recording": {"window": list(tracker.window) if tracker.window else None,
                      "max_accesses": tracker.max_accesses,
                      "truncated": log.dropped > 0, "dropped": log.dropped},
        "curves": {"stack": tracker.stack_curve.points, "heap": tracker.heap_curve.points},
        "static_ram_bytes": sim.footprint.static_ram_bytes,
        "total_cycles": sim.cycles,
    }
    return AccessTrace(meta, np.frombuffer(log.cycle, np.uint64),
                       np.frombuffer(log.address, np.uint32), np.frombuffer(log.pc, np.uint32),
                       np.frombuffer(log.size, np.uint8), np.frombuffer(log.kind, np.uint8))


def _live_in_region(curve: LiveCurve, sim: Simulation, name: str) -> int:
    """The live-bytes peak over every occurrence of a marker region."""
    best = 0
    for begin, end, _ in pair_regions(sim.region_events)[0]:
        if begin.name != name:
            continue
        inside = (curve.cycles >= begin.cycles) & (curve.cycles <= end.cycles)
        values = list(curve.live[inside]) + list(curve.at(begin.cycles))
        best = max(best, int(max(values)))
    return best
