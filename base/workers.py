"""Local worker pools (`mcusim dse`, `mcusim check`) under Ctrl-C.

A terminal's Ctrl-C reaches the whole process group: the workers as well as mcusim. An idle
worker then dies in the pool's queue with a KeyboardInterrupt traceback on the user's terminal,
and a busy one goes on with its task while the pool's shutdown waits for it. So the workers
ignore SIGINT (`ignore_sigint`, the pool's initializer; a simulation they run still installs
its own handler for the run), and the command, which alone acts on Ctrl-C, ends them itself
(`stop_pool`) instead of waiting for their tasks.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import signal
import threading


def ignore_sigint() -> None:
    """A pool worker's initializer: Ctrl-C is for the command that owns the pool."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def process_pool(max_workers: int) -> cf.ProcessPoolExecutor:
    return cf.ProcessPoolExecutor(max_workers=max_workers, initializer=ignore_sigint)


def stop_pool(pool: cf.ProcessPoolExecutor) -> None:
    """Drops the queued tasks and ends the workers now (Ctrl-C, an error): what they were
    doing is abandoned, and the interpreter's exit has nothing left to wait for. A second
    Ctrl-C meanwhile (a few milliseconds) is ignored, so that it cannot leave workers behind."""
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
    try:
        _stop(pool)
    finally:
        if main:
            signal.signal(signal.SIGINT, previous)


def _stop(pool: cf.ProcessPoolExecutor) -> None:
    # (taken first: shutdown() forgets them)
    processes = list((getattr(pool, "_processes", None) or {}).values())
    manager = getattr(pool, "_executor_manager_thread", None)
    pool.shutdown(wait=False, cancel_futures=True)
    for p in processes:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            p.kill()  # SIGKILL: a worker inside a simulation takes SIGTERM as "stop the run"
    for p in processes:
        with contextlib.suppress(OSError, ValueError, AttributeError, AssertionError):
            p.join(5)
    # The pool's manager thread closes its wake-up pipe as it ends. Were it still ending when
    # the interpreter exits, concurrent.futures' exit hook could write to that pipe as it is
    # closed (CPython 3.11 takes no lock there) and print "Exception ignored ... OSError: Bad
    # file descriptor" after "mcusim: interrupted" (seen in tests/test_command_interrupts.py).
    if isinstance(manager, threading.Thread) and manager is not threading.current_thread():
        with contextlib.suppress(RuntimeError):
            manager.join(5)
