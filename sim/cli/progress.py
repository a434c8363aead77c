"""Progress of a long run on a terminal: after a couple of seconds of host time, one stderr
line with the cycles simulated so far, rewritten in place and erased when the run ends.

A thread reads the simulation's counters through `counts_so_far` (a read, nothing else: reading
`cycles` on the batched path would account the pending blocks, racing the run itself; the
run's figures and output are the same with it or without it) and writes only to stderr, and
only when stderr is a terminal, so pipes, files and CI logs never see it."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Protocol, TextIO

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
