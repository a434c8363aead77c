"""Call tracking at block level: calls, returns, tail calls and recursion, for inclusive costs,
call edges, collapsed stacks and a timeline of function activations.

Calls are blocks entered from a block that ended in BL/BLX; a return is entering the return
address of a frame on the shadow stack (BX LR, POP {..,PC}, LDR PC all look alike here);
entering another function any other way (B to another function, falling through into the
next symbol) is a tail call that replaces the current frame.

Exceptions (sim/observe/exc_calls.py) push a handler frame above the interrupted one and pop it
at the exception return; returns never pop below the innermost handler frame (`floor`), and
the block after an exception entry or return takes its call/no-call from `override`.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass

from mcusim.traces.profile import CallEdge, Slice


@dataclass(slots=True)
class _Frame:
    function: str
    return_address: int
    start_cycles: int
    start_instructions: int
    caller: str | None


class CallTracker:
    def __init__(self, root: str, max_slices: int = 200_000):
        self.frames: list[_Frame] = [_Frame(root, -1, 0, 0, None)]
        self.calls: dict[str, int] = {root: 1}
        self.inclusive: dict[str, list[int]] = {}  # function -> [cycles, instructions]
        self.edges: dict[tuple[str, str], list[int]] = {}  # -> [calls, cycles, instructions]
        self.active: dict[str, int] = {root: 1}  # activations on the stack, for recursion
        self.stack_key: tuple[str, ...] = (root,)
        self.stacks: dict[tuple[str, ...], int] = {}
        self.max_slices = max_slices
        self.slices: list[tuple[int, int, Slice]] = []  # min-heap by duration: the longest kept
        self.dropped_slices = 0
        self._slice_seq = 0
        # Index of the innermost exception handler's frame (0: none): a return inside a
        # handler never pops the frames of the context it interrupted.
        self.floor = 0
        # Set by an exception entry or return: what the next block's `prev_call_return` is
        # (the previous block seen is not the one execution came from).
        self.override_pending = False
        self.override_value: int | None = None

    # -- per block ------------------------------------------------------------------------------
    def enter(self, function: str, address: int, prev_call_return: int | None,
              cycles: int, instructions: int) -> None:
        """A block of `function` at `address` starts at the given totals. `prev_call_return` is
        the return address when the previous block ended in a call, else None."""
        if self.override_pending:
            prev_call_return, self.override_pending = self.override_value, False
        top = self.frames[-1]
        if prev_call_return is not None:
            self._push(function, prev_call_return, cycles, instructions, top.function)
            return
        if top.function == function:
            return
        for depth in range(len(self.frames) - 1, self.floor, -1):
            if self.frames[depth].return_address == address:
                while len(self.frames) > depth:
                    self._pop(cycles, instructions)
                if self.frames[-1].function != function:
                    self._tail(function, cycles, instructions)
                return
        self._tail(function, cycles, instructions)

    def charge(self, cycles: int) -> None:
        """Self cycles spent with the current stack (for collapsed stacks)."""
        self.stacks[self.stack_key] = self.stacks.get(self.stack_key, 0) + cycles

    # -- frames ---------------------------------------------------------------------------------
    def _push(self, function: str, return_address: int, cycles: int, instructions: int,
              caller: str) -> None:
        self.frames.append(_Frame(function, return_address, cycles, instructions, caller))
        self.calls[function] = self.calls.get(function, 0) + 1
        self.active[function] = self.active.get(function, 0) + 1
        edge = self.edges.setdefault((caller, function), [0, 0, 0])
        edge[0] += 1
        self.stack_key = self.stack_key + (function,)

    def _pop(self, cycles: int, instructions: int) -> None:
        frame = self.frames.pop()
        self._close(frame, cycles, instructions)
        self.stack_key = self.stack_key[:-1]

    def _tail(self, function: str, cycles: int, instructions: int) -> None:
        """Replace the current frame: a tail call (or fall-through) into another function."""
        if len(self.frames) == 1:
            # Left the root by a jump (e.g. reset handler into crt0): a new root.
            old = self.frames[0]
            self._close(old, cycles, instructions)
            self.frames[0] = _Frame(function, -1, cycles, instructions, None)
            self.calls[function] = self.calls.get(function, 0) + 1
            self.active[function] = self.active.get(function, 0) + 1
            self.stack_key = (function,)
            return
        frame = self.frames.pop()
        self._close(frame, cycles, instructions)
        self.stack_key = self.stack_key[:-1]
        self._push(function, frame.return_address, cycles, instructions,
                   self.frames[-1].function)

    def _close(self, frame: _Frame, cycles: int, instructions: int,
               depth: int | None = None) -> None:
        function, start = frame.function, frame.start_cycles
        left = self.active[function] - 1  # activations still on the stack
        self.active[function] = left
        duration = cycles - start
        # Recursion: only the outermost activation adds to inclusive totals, and the edge
        # counts once too (only when no other activation is still on the stack).
        if left == 0:
            insns = instructions - frame.start_instructions
            inc = self.inclusive.setdefault(function, [0, 0])
            inc[0] += duration
            inc[1] += insns
            if frame.caller is not None:
                edge = self.edges[(frame.caller, function)]
                edge[1] += duration
                edge[2] += insns
        # The timeline keeps the longest activations (a min-heap by duration).
        self._slice_seq += 1
        item = (duration, self._slice_seq, Slice(function, "function", start, cycles,
                                                 len(self.frames) if depth is None else depth))
        if len(self.slices) < self.max_slices:
            heapq.heappush(self.slices, item)
        else:
            self.dropped_slices += 1
            heapq.heappushpop(self.slices, item)

    # -- what exception tracking does to the shadow stack (sim/observe/exc_calls.py) ---------
    def depth(self) -> int:
        return len(self.frames)

    def push_frame(self, function: str, cycles: int, instructions: int) -> None:
        """A call of `function` from the top frame that no block return address ends."""
        self._push(function, -1, cycles, instructions, self.frames[-1].function)

    def push_root(self, function: str, cycles: int, instructions: int) -> None:
        """The first function of a new context (a task's first run): called by no one."""
        self.frames.append(_Frame(function, -1, cycles, instructions, None))
        self.calls[function] = self.calls.get(function, 0) + 1
        self.active[function] = self.active.get(function, 0) + 1
        self.stack_key = self.stack_key + (function,)

    def pop_frame(self, cycles: int, instructions: int) -> None:
        self._pop(cycles, instructions)

    def set_floor(self, depth: int) -> None:
        self.floor = depth

    def set_override(self, value: int | None) -> None:
        self.override_pending, self.override_value = True, value

    def detach(self, start: int) -> list[_Frame]:
        """Take frames[start:] off the stack without closing them (a suspended context)."""
        out = self.frames[start:]
        del self.frames[start:]
        self.stack_key = tuple(f.function for f in self.frames)
        return out

    def attach(self, frames: list[_Frame]) -> None:
        """Put a suspended context's frames back on top."""
        self.frames.extend(frames)
        self.stack_key = tuple(f.function for f in self.frames)

    def close_detached(self, frames: list[_Frame], cycles: int, instructions: int) -> None:
        """At the end: close a context that was still suspended, innermost first."""
        for depth in range(len(frames) - 1, -1, -1):
            self._close(frames[depth], cycles, instructions, depth)

    def finish(self, cycles: int, instructions: int) -> None:
        while self.frames:
            frame = self.frames.pop()
            self._close(frame, cycles, instructions)

    def edge_list(self) -> list[CallEdge]:
        return [CallEdge(a, b, c, cyc, ins) for (a, b), (c, cyc, ins) in
                sorted(self.edges.items())]

    def slice_maker(self) -> Callable[[], list[Slice]]:
        """What builds slice_list() later, holding only the kept slices."""
        kept = self.slices

        def ordered() -> list[Slice]:
            by_time = sorted(kept, key=lambda t: (t[2].start_cycle, t[2].depth, t[1]))
            return [s for _, _, s in by_time]

        return ordered

    def slice_list(self) -> list[Slice]:
        return self.slice_maker()()
