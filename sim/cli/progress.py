"""Progress of a long run on a terminal: after a couple of seconds of host time, one stderr
line with the cycles simulated so far, rewritten in place and erased when the run ends.

A thread reads the simulation's counters through `counts_so_far` (a read, nothing else: reading
`cycles` on the batched path would account the pending blocks, racing the run itself; the
run's figures and output are the same with it or without it) and writes only to stderr, and
only when stderr is a terminal, so pipes, files and CI logs never see it."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Protocol, TextIO

if TYPE_CHECKING:
    from rich.console import Console

    from mcusim.sim.core.engine import Simulation
    from mcusim.sim.result import RunResult

SHOW_AFTER = 2.0  # seconds: short runs print nothing
EVERY = 0.5


class _Counting(Protocol):
    def counts_so_far(self) -> tuple[int, int]: ...


class RunProgress:
    def __init__(self, sim: _Counting, stream: TextIO, show_after: float,
                 every: float):
        self.sim = sim
        self.stream = stream
        self.show_after = show_after
        self.every = every
        self.shown = False
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._report, name="mcusim-progress",
                                        daemon=True)

    def _report(self) -> None:
        if self._done.wait(self.show_after):
            return
        while not self._done.is_set():
            cycles, instructions = self.sim.counts_so_far()
            line = (f"mcusim: {cycles:,} cycles, {instructions:,} instructions simulated "
                    "(Ctrl-C stops)")
            with contextlib.suppress(OSError, ValueError):
                self.stream.write(f"\r{line}\x1b[K")
                self.stream.flush()
                self.shown = True
            self._done.wait(self.every)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        self._thread.join()
        if self.shown:
            with contextlib.suppress(OSError, ValueError):
                self.stream.write("\r\x1b[K")  # the line goes: the summary follows
                self.stream.flush()


@contextlib.contextmanager
def run_progress(sim: _Counting, stream: TextIO, enabled: bool) -> Iterator[None]:
    """Progress lines on `stream` while the block runs, when `enabled` (a terminal)."""
    if not enabled:
        yield
        return
    progress = RunProgress(sim, stream, SHOW_AFTER, EVERY)
    progress.start()
    try:
        yield
    finally:
        progress.stop()


def run_and_report(sim: Simulation, report: Callable[[RunResult], int], err: Console) -> int:
    """Runs `sim` (with progress on a terminal) and `report`s its result: the exit status.

    A Ctrl-C or SIGTERM once the emulation has ended (while the result, its profile and memory
    analysis are built, printed and written: seconds on a long profiled run or a large trace)
    lets that finish, then gives 130/143, instead of losing the finished run's outputs; a
    second one stops at once. (During the emulation the engine's handlers stop the run.)"""
    import sys

    from mcusim.sim.core import interrupt
    from mcusim.sim.core.faults import FAULT_EXIT_CODES

    with interrupt.deferred_signals():
        with run_progress(sim, sys.stderr, enabled=sys.stderr.isatty()):
            result = sim.run()
        status = report(result)
        signum = interrupt.pending_signal()
    if signum is None:
        return status
    err.print("mcusim: interrupted after the run had ended: its report and outputs are "
              "complete", highlight=False, markup=False)
    return int(FAULT_EXIT_CODES[interrupt.STOP_KINDS[signum]])  # (what a run it stopped gives)
