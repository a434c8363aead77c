"""The profiler's call tracker and the memory tracker with their per-block work in the native
hot path (sim/accounting/native.py): their state lives in C and is brought into the Python
trackers' form after the run, so that profiles and memory reports are built alike."""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from ctypes import byref, c_int, c_int32, c_int64, c_uint32, c_uint64, c_void_p
from typing import TYPE_CHECKING

from unicorn import UC_HOOK_MEM_READ, UC_HOOK_MEM_WRITE, Uc
from unicorn.arm_const import UC_ARM_REG_SP

from mcusim.sim.core.blocks import Block
from mcusim.sim.observe.memory_tracker import MemoryTracker
from mcusim.sim.observe.profiler import CallTracker
from mcusim.traces.profile import Slice

if TYPE_CHECKING:
    from mcusim.sim.accounting.native import NativeSimulation


class HpFrame(ctypes.Structure):
    """hp_frame (hotpath.h): a shadow-stack frame of the C profiler."""

    _fields_ = (("function", c_int32), ("caller", c_int32), ("node", c_int32),
                ("return_address", c_int64), ("start_cycles", c_uint64),
                ("start_instructions", c_uint64))


def declare_exception_entry_points(lib: ctypes.CDLL) -> None:
    """The C functions exception tracking calls (profile.c, memory.c)."""
    if getattr(lib, "_mcusim_exc_declared", False):
        return
    lib.hp_prof_depth.restype = c_uint32
    lib.hp_prof_depth.argtypes = [c_void_p]
    lib.hp_prof_push.argtypes = [c_void_p, c_int32, c_int32, c_uint64, c_uint64]
    lib.hp_prof_pop.argtypes = [c_void_p, c_uint64, c_uint64]
    lib.hp_prof_control.argtypes = [c_void_p, c_int, c_int64]
    lib.hp_prof_detach.argtypes = [c_void_p, c_uint32, c_void_p]
    lib.hp_prof_attach.argtypes = [c_void_p, c_void_p, c_uint32]
    lib.hp_prof_close_saved.argtypes = [c_void_p, c_void_p, c_uint32, c_uint64, c_uint64]
    lib.hp_memory_log_one.argtypes = [c_void_p, c_uint64, c_uint32, c_uint32, c_uint32,
                                      c_uint32]
    lib._mcusim_exc_declared = True


class NativeMemoryTracker(MemoryTracker):
    """The memory tracker whose per-block stack tracking and access log run in C; heap calls,
    markers and run-time SP writes still come through Python and update the C state."""

    @classmethod
    def adopt(cls, tracker: MemoryTracker, sim: NativeSimulation) -> NativeMemoryTracker:
        tracker.__class__ = cls
        assert isinstance(tracker, NativeMemoryTracker)
        tracker._sim_native = sim
        declare_exception_entry_points(sim._lib)
        window = tracker.window
        sim._lib.hp_memory_start(
            sim._state, UC_ARM_REG_SP, tracker.initial_sp, int(tracker.stack_limit is not None),
            tracker.stack_limit or 0, int(tracker.record), int(window is not None),
            window[0] if window else 0, window[1] if window else 0, tracker.max_accesses or 0)
        return tracker

    def attach(self, uc: Uc) -> None:
        record, self.record = self.record, False
        super().attach(uc)  # heap hooks; the access hooks are C ones
        self.record = record
        if record:
            sim = self._sim_native
            for region in self.recorded_regions():
                for lo, hi in region.windows():
                    for kind in (UC_HOOK_MEM_READ, UC_HOOK_MEM_WRITE):
                        sim._c_hook(kind, sim._lib.hp_access, lo, hi - 1)

    def on_block(self, uc: Uc, block: Block) -> None:  # pragma: no cover - C does this
        raise AssertionError("the native hot path tracks the stack itself")

    def _stack_at(self, sp: int, pc: int, resume: int | None = None) -> None:
        lib, state = self._sim_native._lib, self._sim_native._state
        lib.hp_stack_at(state, sp, pc)
        if lib.hp_memory_get(state, 12) == 1:  # a run-time SP write passed --max-stack
            lib.hp_memory_set(state, 13, 2)
            self._sim_native.stop_at_stack_budget(self.initial_sp - sp, pc, resume)

    def set_stack_budget(self, budget: int) -> None:
        super().set_stack_budget(budget)
        floor = max(self.initial_sp - budget, 0)
        self._sim_native._lib.hp_memory_set(self._sim_native._state, 12, floor)

    # -- exceptions (sim/observe/exc_memory.py): the C side holds the PSP figures -------------
    def set_psp_active(self, active: bool) -> None:
        super().set_psp_active(active)
        self._sim_native._lib.hp_memory_set(self._sim_native._state, 16, int(active))

    def take_psp_low(self) -> tuple[int, int]:
        lib, state = self._sim_native._lib, self._sim_native._state
        low, pc = lib.hp_memory_get(state, 14), lib.hp_memory_get(state, 15)
        lib.hp_memory_set(state, 14, 0xFFFFFFFF)
        return low, pc

    def log_access(self, cycle: int, address: int, pc: int, size: int, kind: int) -> None:
        self._sim_native._lib.hp_memory_log_one(self._sim_native._state, cycle, address, pc,
                                                size, kind)

    def _set_heap_extent(self, value: int) -> None:
        self._sim_native._lib.hp_memory_set(self._sim_native._state, 11, value)

    def _fold(self) -> None:
        lib, state = self._sim_native._lib, self._sim_native._state
        self._since[0] = lib.hp_memory_get(state, 3)
        self._since[2] = lib.hp_memory_get(state, 4)
        super()._fold()
        lib.hp_memory_set(state, 3, self._since[0])
        lib.hp_memory_set(state, 4, self._since[2])

    def collect(self) -> None:
        """After the run: the C side's figures into the Python tracker's fields."""
        import numpy as np  # here: a run that tracks no memory does not load numpy

        lib, state = self._sim_native._lib, self._sim_native._state
        self.stack_low = lib.hp_memory_get(state, 0)
        self.stack_low_pc = lib.hp_memory_get(state, 1)
        self.peak_total = lib.hp_memory_get(state, 2)
        if lib.hp_memory_get(state, 5) and self.overflow is None:
            self.overflow = self.overflow_message(lib.hp_memory_get(state, 6),
                                                  lib.hp_memory_get(state, 7))
        n = lib.hp_memory_get(state, 10)
        cycles, values = np.empty(n, np.uint64), np.empty(n, np.uint64)
        lib.hp_memory_curve(state, cycles.ctypes.data, values.ctypes.data)
        self.stack_curve.points = [[c, v] for c, v in zip(cycles.tolist(), values.tolist(),
                                                          strict=True)]
        n = lib.hp_memory_get(state, 8)
        log = self.log
        log.cycle, log.address = np.empty(n, np.uint64), np.empty(n, np.uint32)
        log.pc, log.size, log.kind = (np.empty(n, np.uint32), np.empty(n, np.uint8),
                                      np.empty(n, np.uint8))
        lib.hp_memory_log(state, *(a.ctypes.data for a in (log.cycle, log.address, log.pc,
                                                           log.size, log.kind)))
        log.dropped = lib.hp_memory_get(state, 9)


class NativeCallTracker(CallTracker):
    """The call tracker whose state lives in the C hot path; after `finish` its dictionaries
    hold what the C side counted, in the Python tracker's form, so profiles are built alike."""

    def __init__(self, sim: NativeSimulation, root: str):
        super().__init__(root)
        self._sim = sim
        declare_exception_entry_points(sim._lib)

    def enter(self, *args: object) -> None:  # pragma: no cover - the C hook does this
        raise AssertionError("the native hot path tracks calls itself")

    def charge(self, cycles: int) -> None:
        self._sim._lib.hp_charge(self._sim._state, cycles)

    # -- the shadow-stack operations of exception tracking (sim/observe/exc_calls.py) -------
    def depth(self) -> int:
        return self._sim._lib.hp_prof_depth(self._sim._state)

    def push_frame(self, function: str, cycles: int, instructions: int) -> None:
        self._sim._lib.hp_prof_push(self._sim._state, self._sim._function_id(function), 0,
                                    cycles, instructions)

    def push_root(self, function: str, cycles: int, instructions: int) -> None:
        self._sim._lib.hp_prof_push(self._sim._state, self._sim._function_id(function), 1,
                                    cycles, instructions)

    def pop_frame(self, cycles: int, instructions: int) -> None:
        self._sim._lib.hp_prof_pop(self._sim._state, cycles, instructions)

    def set_floor(self, depth: int) -> None:
        self._sim._lib.hp_prof_control(self._sim._state, 0, depth)

    def set_override(self, value: int | None) -> None:
        self._sim._lib.hp_prof_control(self._sim._state, 1, -1 if value is None else value)

    def detach(self, start: int) -> ctypes.Array[HpFrame]:
        frames = (HpFrame * (self.depth() - start))()
        self._sim._lib.hp_prof_detach(self._sim._state, start, frames)
        return frames

    def attach(self, frames: ctypes.Array[HpFrame]) -> None:
        self._sim._lib.hp_prof_attach(self._sim._state, frames, len(frames))

    def close_detached(self, frames: ctypes.Array[HpFrame], cycles: int,
                       instructions: int) -> None:
        self._sim._lib.hp_prof_close_saved(self._sim._state, frames, len(frames), cycles,
                                           instructions)

    def finish(self, cycles: int, instructions: int) -> None:
        import numpy as np  # here: a run without a profile does not load numpy

        lib, state = self._sim._lib, self._sim._state
        lib.hp_profile_finish(state)
        names = {i: n for n, i in self._sim._function_ids.items()}
        calls, cyc, ins = c_uint64(), c_uint64(), c_uint64()
        has, a, b = c_int32(), c_int32(), c_int32()
        self.calls, self.inclusive, self.frames = {}, {}, []
        for i, name in names.items():
            lib.hp_profile_function(state, i, byref(calls), byref(cyc), byref(ins), byref(has))
            if calls.value:
                self.calls[name] = calls.value
            if has.value:
                self.inclusive[name] = [cyc.value, ins.value]
        self.edges = {}
        for e in range(lib.hp_profile_count(state, 0)):
            lib.hp_profile_edge(state, e, byref(a), byref(b), byref(calls), byref(cyc),
                                byref(ins))
            self.edges[(names[a.value], names[b.value])] = [calls.value, cyc.value, ins.value]
        n = lib.hp_profile_count(state, 1)
        parent, function = np.empty(n, np.int32), np.empty(n, np.int32)
        node_cycles = np.empty(n, np.int64)
        lib.hp_profile_nodes(state, *(a.ctypes.data for a in (parent, function, node_cycles)))
        paths: list[tuple[str, ...]] = []
        self.stacks = {}
        for up, f, c in zip(parent.tolist(), function.tolist(), node_cycles.tolist(),
                            strict=True):
            path = (paths[up] if up >= 0 else ()) + (names[f],)
            paths.append(path)
            if c:
                self.stacks[path] = c
        k = lib.hp_profile_count(state, 2)
        func, depth = np.empty(k, np.int32), np.empty(k, np.int32)
        start, end, seqs = np.empty(k, np.uint64), np.empty(k, np.uint64), np.empty(k, np.uint64)
        lib.hp_profile_slices(state, *(a.ctypes.data for a in (func, start, end, depth, seqs)))
        # In slice_list's order (start, depth, then sequence), sorted here in one go.
        order = np.lexsort((seqs, depth, start))
        self._slice_columns = (names, *(a[order].tolist() for a in (func, start, end, depth)))
        self.slices = []
        self.dropped_slices = lib.hp_profile_count(state, 3)

    def slice_maker(self) -> Callable[[], list[Slice]]:
        names, func, start, end, depth = self._slice_columns
        return lambda: [Slice(names[f], "function", s0, e, d)
                        for f, s0, e, d in zip(func, start, end, depth, strict=True)]

    def slice_list(self) -> list[Slice]:
        return self.slice_maker()()
