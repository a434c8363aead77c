"""Progress of long model work on stderr (never stdout, never in results): building, compiling,
simulating, checking. On a terminal a transient spinner with the stage and the time elapsed
(rich's Progress, as `mcusim dse` and `mcusim check` show theirs); elsewhere (a pipe, a CI log)
one line per stage, as `mcusim validate` prints, so a long run is never silent.

A message "stage: detail" (e.g. "running m on b: step 3/65 L03_CONV_2D") is progress within
its stage: on a terminal it replaces the spinner's text, in lines it is printed only when the
stage has been silent for LINE_INTERVAL seconds, so a fast run prints one line per stage."""

from __future__ import annotations

import time
from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID


LINE_INTERVAL = 5.0  # seconds between two lines of one stage


class StageProgress:
    """`with StageProgress(err) as say: say("building ...")`; `live=False` always prints
    lines (for work that prints to stdout between stages)."""

    def __init__(self, err: Console, prefix: str = "mcusim nn", live: bool = True) -> None:
        self.err = err
        self.prefix = prefix
        self.live = live and err.is_terminal
        self._bar: Progress | None = None
        self._task: TaskID | None = None
        self._last = ""
        self._stage = ""
        self._printed = 0.0

    def __enter__(self) -> StageProgress:
        if self.live:
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            # No stdout redirection: results printed to stdout stay on stdout.
            self._bar = Progress(SpinnerColumn(), TextColumn("{task.description}", markup=False),
                                 TimeElapsedColumn(), console=self.err, transient=True,
                                 redirect_stdout=False, redirect_stderr=False)
            self._bar.start()
            self._task = self._bar.add_task(f"{self.prefix}: preparing", total=None)
        return self

    def __call__(self, message: str) -> None:
        if message == self._last:
            return
        self._last = message
        text = f"{self.prefix}: {message}"
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, description=text)  # markup=False: paths as they are
            return
        stage = message.split(": ")[0]
        now = time.monotonic()
        if stage != self._stage or now - self._printed >= LINE_INTERVAL:
            self._stage, self._printed = stage, now
            self.err.print(f"{text} ...", markup=False, emoji=False, highlight=False,
                           soft_wrap=True)

    def print(self, message: str) -> None:
        """A message of its own (above the spinner on a terminal)."""
        self.err.print(message, markup=False, emoji=False, highlight=False,
                       soft_wrap=True)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._bar is not None:
            self._bar.stop()
