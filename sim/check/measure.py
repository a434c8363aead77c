"""Running the manifest's entries (in a process pool) and keeping the figures a baseline holds."""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field

from mcusim.sim.check.manifest import Entry


@dataclass
class Measurement:
    """What one entry's run gave: its figures, how it ended, what it printed; or why it could
    not run (`error`)."""

    name: str
    metrics: dict[str, int] = field(default_factory=dict)
    exit_code: int | None = None
    stop: str = "exit"
    stop_message: str = ""
    stdout: str = ""
    error: str | None = None


def measure(entry: Entry) -> Measurement:
    """Run one entry with memory accounting. Never raises for a problem of the entry itself:
    the report shows it."""
    from mcusim.isa.timing import make_timing
    from mcusim.sim import Firmware, Simulation, load_board
    from mcusim.sim.errors import McusimError

    out = io.BytesIO()
    try:
        board = load_board(entry.board, clock=entry.clock)
        sim = Simulation(
            Firmware.open(entry.elf), board,
            timing=make_timing(entry.timing, board.core.name, board.multiplier == "32-cycle"),
            fs_root=entry.fs_root, argv=[entry.elf.name, *entry.args], stdout=out,
            stderr=io.BytesIO(), max_instructions=entry.max_instructions,
            max_cycles=entry.max_cycles, symbol_regions=list(entry.regions), memory=True)
        result = sim.run()
    except McusimError as e:
        return Measurement(entry.name, error=str(e))
    memory = result.memory
    assert memory is not None  # memory=True
    metrics = {"cycles": result.cycles, "instructions": result.instructions,
               "stack": memory.stack_peak_bytes, "peak_ram": memory.peak_ram_bytes,
               "flash": memory.flash_bytes}
    for region in result.regions:
        metrics[f"region.{region.name}"] = region.cycles
    return Measurement(
        entry.name, metrics=metrics, exit_code=result.exit_code, stop=result.stop,
        stop_message=result.fault.message if result.fault else "",
        stdout=out.getvalue().decode("utf-8", "replace"))


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
               else os.cpu_count() or 1)


def measure_all(entries: Sequence[Entry], jobs: int,
                done: Callable[[Measurement], None] | None = None) -> list[Measurement]:
    """Every entry's measurement, in manifest order whatever order they finish in."""
    if jobs <= 1 or len(entries) <= 1:
        results = []
        for e in entries:
            results.append(measure(e))
            if done:
                done(results[-1])
        return results
    results: list[Measurement | None] = [None] * len(entries)
    with ProcessPoolExecutor(max_workers=min(jobs, len(entries))) as pool:
        futures = {pool.submit(measure, e): i for i, e in enumerate(entries)}
        try:
            for future in as_completed(futures):
                results[futures[future]] = m = future.result()
                if done:
                    done(m)
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    return [m for m in results if m is not None]
