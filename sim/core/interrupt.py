"""Ctrl-C (SIGINT) and SIGTERM stop a run at the next block, which then ends like any other:
summary, JSON and exports of what ran so far, marked "interrupted" ("terminated" for SIGTERM),
and exit status 130 (143), the shell's 128 + signal number.

On the pure-Python path a Python handler stops the emulation (Python hooks run at every
block). The native path runs without Python code, so a C handler
(sim/accounting/hotpath/interrupt.c) records the signal and its block hook stops there. A
second signal ends mcusim at once; the same signal again within 0.25 s is the first one's copy
(GNU timeout delivers its signal twice).
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable, Iterator
from types import FrameType

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGALRM)
# SIGALRM is the --timeout timer (host_timer): a limit, like --max-instructions.
STOP_KINDS = {signal.SIGINT: "interrupted", signal.SIGTERM: "terminated",
              signal.SIGALRM: "limit"}


@contextlib.contextmanager
def host_timer(seconds: float | None) -> Iterator[None]:
    """--timeout: SIGALRM after `seconds` of host time, which stops the run like a signal."""
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def stop_message(signum: int, timeout: float | None = None) -> str:
    if signum == signal.SIGALRM:
        return (f"stopped at the host-time limit --timeout {timeout:g} s; the figures are those "
                "of the run so far")
    name = signal.Signals(signum).name
    how = " (Ctrl-C)" if signum == signal.SIGINT else ""
    return f"the run was interrupted by {name}{how}; the figures are those of the run so far"


@contextlib.contextmanager
def python_handlers(on_signal: Callable[[int], None]) -> Iterator[None]:
    """While the block runs: the first SIGINT/SIGTERM calls `on_signal(signum)`, a second
    raises KeyboardInterrupt. Only the main thread can take signals; elsewhere nothing
    changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    seen: list[tuple[int, float]] = []

    def handler(signum: int, _frame: FrameType | None) -> None:
        if seen:
            if same_request(seen[0], signum):
                return
            raise KeyboardInterrupt
        seen.append((signum, time.monotonic()))
        on_signal(signum)

    saved = {s: signal.signal(s, handler) for s in SIGNALS}
    try:
        yield
    finally:
        for s, previous in saved.items():
            signal.signal(s, previous)


@contextlib.contextmanager
def native_handlers(catch: Callable[[], None], release: Callable[[], int],
                    on_signal: Callable[[int], None]) -> Iterator[None]:
    """The C handler (catch/release of the native library) around the block; a signal it saw
    is passed to `on_signal` after it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    catch()
    try:
        yield
    finally:
        signum = release()
        if signum:
            on_signal(signum)


# SIGINT/SIGTERM noted by deferred_signals() and not acted on yet, and when it came.
_deferred: list[tuple[int, float]] = []
# The same signal again within this many seconds is the first one's copy, not a second request:
# GNU timeout (`timeout -s INT 60 mcusim run ...`) sends its signal to the child and to its
# process group, two deliveries microseconds apart (hotpath/interrupt.c does the same).
SAME_REQUEST_SECONDS = 0.25


def same_request(first: tuple[int, float], signum: int) -> bool:
    """Whether `signum` now is the copy of `first` (signal, time.monotonic())."""
    return signum == first[0] and time.monotonic() - first[1] < SAME_REQUEST_SECONDS


@contextlib.contextmanager
def deferred_signals() -> Iterator[None]:
    """For a command that runs one simulation after another (`mcusim validate`): a SIGINT or
    SIGTERM between runs is noted and acted on where the command asks (`pending_signal`),
    instead of a KeyboardInterrupt raised wherever Python is, which inside a finalizer is
    swallowed and the command goes on. During a run the engine's handlers take over as always
    (and put this one back). A second signal raises KeyboardInterrupt at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: FrameType | None) -> None:
        if _deferred:
            if same_request(_deferred[0], signum):
                return
            raise KeyboardInterrupt
        _deferred.append((signum, time.monotonic()))

    saved = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, previous in saved.items():
            signal.signal(s, previous)
        _deferred.clear()


def pending_signal() -> int | None:
    """The signal deferred_signals() noted, if any."""
    return _deferred[0][0] if _deferred else None
