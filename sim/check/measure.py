"""Running the manifest's entries (in a process pool) and keeping the figures a baseline holds."""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Sequence
from concurrent.futures import as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from mcusim.base.workers import process_pool, stop_pool
from mcusim.sim.check.manifest import Entry

if TYPE_CHECKING:
    from mcusim.sim.result import RunResult


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


def run_firmware(elf: Path, board_name: str, *, args: Sequence[str] = (),
                 clock: str | None = None, timing: str = "table", fs_root: Path = Path("."),
                 stdin: bytes = b"", max_instructions: int | None = None,
                 max_cycles: int | None = None, regions: Sequence[tuple[str, str]] = (),
                 memory: bool = True, profile: bool = False) -> RunResult:
    """One run through the simulator's public API, its output captured (`result.stdout`).
    The one place `mcusim check` and the pytest plugin build a Simulation."""
    from mcusim.isa.timing import make_timing
    from mcusim.sim import (
        Firmware,
        Limits,
        MemoryOptions,
        ProfileOptions,
        ProgramIO,
        RunOptions,
        load_board,
        make_simulation,
    )

    board = load_board(board_name, clock=clock)
    options = RunOptions(
        io=ProgramIO(argv=[elf.name, *args], fs_root=fs_root, stdin=io.BytesIO(stdin),
                     stdout=io.BytesIO(), stderr=io.BytesIO()),
        limits=Limits(max_instructions=max_instructions, max_cycles=max_cycles),
        symbol_regions=list(regions),
        profile=ProfileOptions() if profile else None,
        memory=MemoryOptions() if memory else None)
    sim = make_simulation(Firmware.open(elf), board, options, timing=make_timing(
        timing, board.core.name, board.multiplier == "32-cycle"))
    return sim.run()


def measure(entry: Entry) -> Measurement:
    """Run one entry with memory accounting. Never raises for a problem of the entry itself:
    the report shows it."""
    from mcusim.base.errors import McusimError

    try:
        result = run_firmware(entry.elf, entry.board, args=entry.args, clock=entry.clock,
                              timing=entry.timing, fs_root=entry.fs_root,
                              max_instructions=entry.max_instructions,
                              max_cycles=entry.max_cycles, regions=entry.regions)
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
        stdout=result.stdout)


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
    with process_pool(min(jobs, len(entries))) as pool:
        futures = {pool.submit(measure, e): i for i, e in enumerate(entries)}
        try:
            for future in as_completed(futures):
                results[futures[future]] = m = future.result()
                if done:
                    done(m)
        except BaseException:
            stop_pool(pool)  # Ctrl-C: end the workers instead of waiting for their entries
            raise
    return [m for m in results if m is not None]
