"""Exceptions on the profiler's shadow call stack, the same on every accounting path.

An exception entry is a call of the handler from whatever was running: the interrupted frames
stay on the shadow stack, the handler's frame goes on top and becomes the `floor` that block
returns never pop below. Its EXC_RETURN is its return: the handler's frame (and anything it
left open) is closed and execution resumes in the interrupted function, possibly mid-body, so
no call is counted there; the block it resumes at takes its call/no-call from the state saved
at the entry (the interrupted block may be a callee's first block, reached by a BL). A
tail-chain returns from one handler and calls the next on the same floor. The latency cycles
of entry, exit and tail-chain are pseudo-functions "[exception entry]", "[exception exit]",
"[tail-chain]" called by the handler, so the handler's inclusive cost is all the interrupt
cost and the collapsed stacks still add up to the run's total.

Context switches (PendSV returning to another task's stack): the interrupted context is
known by the stack and SP it was interrupted at (where its frame sits, e.g. ("psp",
0x20001f60)). A return to the same stack and SP resumes it. A return anywhere else suspends
the interrupted context's frames (not closed: a suspended task is still inside its
functions), keyed by that stack and SP, and resumes the context suspended at the return's
stack and SP; if there is none (a task's first run) a new context starts with the function
at the return address as its root. So each task keeps its own shadow stack and a switch never
pops another task's frames. Contexts still suspended at the end are closed then.

The tracker (sim/observe/profiler.py's CallTracker, or the native one) supplies the stack
operations; this class decides which to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from mcusim.sim.core.result_build import LATENCY_ENTRIES


class ShadowStack(Protocol):
    """The stack operations of a call tracker that exception tracking uses."""

    def depth(self) -> int: ...
    def push_frame(self, function: str, cycles: int, instructions: int) -> None: ...
    def push_root(self, function: str, cycles: int, instructions: int) -> None: ...
    def pop_frame(self, cycles: int, instructions: int) -> None: ...
    def charge(self, cycles: int) -> None: ...
    def set_floor(self, depth: int) -> None: ...
    def set_override(self, value: int | None) -> None: ...
    def detach(self, start: int) -> Any: ...
    def attach(self, frames: Any) -> None: ...
    def close_detached(self, frames: Any, cycles: int, instructions: int) -> None: ...


@dataclass
class _Handler:
    depth: int  # index of the handler's frame on the shadow stack
    number: int
    stack: str  # the stack the interrupted context was on ("msp" or "psp")
    sp: int  # and its SP before the frame: where it resumes
    resume_call: int | None  # the resumed block's prev_call_return


class ExceptionCalls:
    """What exception events do to a call tracker's shadow stack (see the module docstring)."""

    def __init__(self, tracker: ShadowStack):
        self.tracker = tracker
        self.handlers: list[_Handler] = []
        self.suspended: dict[tuple[str, int], tuple[Any, int | None]] = {}

    def entry(self, number: int, handler: str, stack: str, sp_before: int,
              resume_call: int | None, cycles: int, instructions: int, latency: int) -> None:
        """Exception `number` taken: its frame went onto `stack` below `sp_before`; the
        latency ends at `cycles`."""
        t = self.tracker
        start = cycles - latency
        self.handlers.append(_Handler(t.depth(), number, stack, sp_before, resume_call))
        t.push_frame(handler, start, instructions)
        t.set_floor(self.handlers[-1].depth)
        self._latency("entry", start, cycles, instructions, latency)
        t.set_override(None)

    def tail_chain(self, number: int, handler: str, cycles: int, instructions: int,
                   latency: int) -> None:
        """The returning handler's exit became the entry of `handler` (no frame moved)."""
        if not self.handlers:
            return
        t, h = self.tracker, self.handlers[-1]
        start = cycles - latency
        while t.depth() > h.depth:
            t.pop_frame(start, instructions)
        h.number = number
        t.push_frame(handler, start, instructions)
        self._latency("tail_chain", start, cycles, instructions, latency)
        t.set_override(None)

    def exc_return(self, stack: str, sp_after: int, resume: str, cycles: int,
                   instructions: int, latency: int) -> None:
        """The innermost handler returned: its frame was popped from `stack`, leaving SP at
        `sp_after`; execution resumes in function `resume`."""
        t = self.tracker
        if not self.handlers:  # a return without an entry seen: nothing to unwind
            t.set_override(None)
            return
        h = self.handlers.pop()
        start = cycles - latency
        while t.depth() > h.depth + 1:
            t.pop_frame(start, instructions)
        self._latency("return", start, cycles, instructions, latency)
        t.pop_frame(cycles, instructions)
        t.set_floor(self.handlers[-1].depth if self.handlers else 0)
        if (stack, sp_after) == (h.stack, h.sp):
            t.set_override(h.resume_call)
            return
        # A context switch: park the interrupted context, resume the one parked here.
        base = self.handlers[-1].depth + 1 if self.handlers else 0
        key = (h.stack, h.sp)
        if key in self.suspended:  # an older context parked at the same place is gone
            t.close_detached(self.suspended.pop(key)[0], cycles, instructions)
        self.suspended[key] = (t.detach(base), h.resume_call)
        back = self.suspended.pop((stack, sp_after), None)
        if back is not None:
            t.attach(back[0])
            t.set_override(back[1])
        else:
            t.push_root(resume, cycles, instructions)
            t.set_override(None)

    def finish(self, cycles: int, instructions: int) -> None:
        """At the end: close the contexts still suspended, in the order they were parked."""
        for frames, _ in self.suspended.values():
            self.tracker.close_detached(frames, cycles, instructions)
        self.suspended.clear()

    def _latency(self, kind: str, start: int, end: int, instructions: int,
                 latency: int) -> None:
        t = self.tracker
        t.push_frame(LATENCY_ENTRIES[kind], start, instructions)
        t.charge(latency)
        t.pop_frame(end, instructions)
