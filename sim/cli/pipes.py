"""Standard streams whose reader may go away (`mcusim run ... 2>&1 | head -1`).

Python ignores SIGPIPE, so a write to a pipe nobody reads raises BrokenPipeError wherever it
happens: in the program's semihosting output, in the summary, at the interpreter's final
flush. A run must not depend on its reader: after EPIPE the stream's descriptor points at
/dev/null, so later writes (ours and the program's) succeed and are discarded, the run goes
on unchanged, its output files are written and its exit status is the run's, as with a
terminal. (Tools that stop at SIGPIPE lose the work after it; mcusim's result files and exit
status are what a script uses.)"""

from __future__ import annotations

import io
import os
from typing import TextIO


class _DiscardAfterEpipe(io.FileIO):
    """A write end whose lost reader turns it into /dev/null."""

    def write(self, data) -> int:  # noqa: ANN001 - bytes-like, as io.FileIO.write
        try:
            return super().write(data)
        except BrokenPipeError:
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, self.fileno())
            finally:
                os.close(devnull)
            return memoryview(data).nbytes


def discarding_after_epipe(stream: TextIO | None) -> TextIO | None:
    """`stream` (sys.stdout or sys.stderr of the process) writing through a descriptor that
    becomes /dev/null when its reader goes away; the stream itself when it has no descriptor
    (a caller's replacement, pytest's capture)."""
    if stream is None:
        return None
    try:
        fd = stream.fileno()
    except (OSError, ValueError, AttributeError):
        return stream
    raw = _DiscardAfterEpipe(fd, "w", closefd=False)
    return io.TextIOWrapper(io.BufferedWriter(raw), encoding=stream.encoding,
                            errors=stream.errors, line_buffering=stream.line_buffering,
                            write_through=getattr(stream, "write_through", False))
