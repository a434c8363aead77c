"""The native hot path: sim/native/*.c, registered as Unicorn's block hook.

A `NativeSimulation` is a `Simulation` whose per-block accounting runs in C; Python sees new
blocks, semihosting, peripherals, faults and operand-timed instructions, as before. Its
counters live in the C state, so `cycles`, `instructions` and the current block are
properties here; everything else is the Python engine's. Both paths give identical numbers
(tests run on both). Profiling and memory tracking use the Python path for now.

The library is built by the install (setup.py, an optional extension); `MCUSIM_NATIVE=0`
forces the Python path.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
from collections.abc import Callable
from contextlib import AbstractContextManager
from ctypes import CFUNCTYPE, POINTER, byref, c_int, c_int32, c_int64, c_uint32, c_uint64, c_void_p

import numpy as np
from unicorn import UC_HOOK_BLOCK, UC_HOOK_CODE, UC_HOOK_MEM_READ, UC_HOOK_MEM_WRITE, Uc
from unicorn.arm_const import UC_ARM_REG_SP
from unicorn.unicorn_py3 import unicorn as _uc_module

from mcusim.sim import interrupt
from mcusim.sim.blocks import Block
from mcusim.sim.engine import Simulation
from mcusim.sim.flash_data import FlashDataPath
from mcusim.sim.memory_tracker import MemoryTracker
from mcusim.sim.profiler import CallTracker
from mcusim.sim.uc_api import add_hook
from mcusim.traces.profile import Slice

NEW_BLOCK = CFUNCTYPE(None, c_uint64, c_uint32)
GET_INSTRUCTIONS, GET_CYCLES, GET_CURRENT, GET_HALTED = 0, 1, 2, 3
SET_SKIP, SET_INSN_LIMIT, SET_CYCLE_LIMIT, SET_MISPREDICT = 4, 5, 6, 7
BRANCH_END, CALL_END = 1, 2
HALTED_BY_SIGNAL = 2  # hotpath.c: the block hook saw a signal (interrupt.c)
HALTED_BY_STACK_BUDGET = 3  # hotpath.c: SP passed --max-stack (memory.c)

_library: ctypes.CDLL | None = None
_load_error: str | None = None


class _FlashAlias(ctypes.Structure):
    """hp_flash_alias (hotpath.h): what the C reader of a flash region's data alias needs."""

    _fields_ = (("state", c_void_p), ("base", c_uint64), ("data", c_void_p), ("size", c_uint64))


def load_library() -> ctypes.CDLL | None:
    """The compiled hot path, or None (the reason is in `load_error()`)."""
    global _library, _load_error
    if _library is not None or _load_error is not None:
        return _library
    if os.environ.get("MCUSIM_NATIVE", "1") == "0":
        _load_error = "MCUSIM_NATIVE=0"
        return None
    spec = importlib.util.find_spec("mcusim.sim._hotpath")
    if spec is None or not spec.origin:
        _load_error = "the native hot path was not built (no C compiler at install time?)"
        return None
    try:
        lib = ctypes.CDLL(spec.origin)
    except OSError as e:
        _load_error = f"the native hot path could not be loaded: {e}"
        return None
    _declare(lib)
    _library = lib
    return lib


def load_error() -> str | None:
    load_library()
    return _load_error


def _declare(lib: ctypes.CDLL) -> None:
    lib.hp_new.restype = c_void_p
    lib.hp_new.argtypes = [c_void_p, c_void_p, NEW_BLOCK]
    lib.hp_new_dynamic.restype = c_void_p
    lib.hp_new_dynamic.argtypes = [c_void_p, c_int32, c_int32, c_int32, c_int32, c_uint32,
                                   c_uint32]
    lib.hp_free_dynamic.argtypes = [c_void_p]
    lib.hp_free.argtypes = [c_void_p]
    lib.hp_add_block.restype = c_int32
    lib.hp_add_block.argtypes = [c_void_p, c_uint64, c_uint32, c_uint32, c_uint32, c_uint32,
                                 c_uint32, c_uint32, c_int32, c_uint32, c_uint32, c_int32,
                                 c_int32, c_uint32]
    lib.hp_memory_start.argtypes = [c_void_p, c_int32, c_uint32, c_int32, c_uint32, c_int32,
                                    c_int32, c_uint64, c_uint64, c_uint64]
    lib.hp_memory_get.restype = c_uint64
    lib.hp_memory_get.argtypes = [c_void_p, c_int]
    lib.hp_memory_set.argtypes = [c_void_p, c_int, c_uint64]
    lib.hp_stack_at.argtypes = [c_void_p, c_uint32, c_uint32]
    lib.hp_memory_log.argtypes = [c_void_p] + [c_void_p] * 5
    lib.hp_memory_curve.argtypes = [c_void_p, c_void_p, c_void_p]
    lib.hp_profile_start.argtypes = [c_void_p, c_int32, c_uint32, c_uint32]
    lib.hp_charge.argtypes = [c_void_p, c_int64]
    lib.hp_profile_finish.argtypes = [c_void_p]
    lib.hp_profile_function.argtypes = [c_void_p, c_int32, POINTER(c_uint64), POINTER(c_uint64),
                                        POINTER(c_uint64), POINTER(c_int32)]
    lib.hp_profile_count.restype = c_uint32
    lib.hp_profile_count.argtypes = [c_void_p, c_int]
    lib.hp_profile_edge.argtypes = [c_void_p, c_uint32, POINTER(c_int32), POINTER(c_int32),
                                    POINTER(c_uint64), POINTER(c_uint64), POINTER(c_uint64)]
    lib.hp_profile_nodes.argtypes = [c_void_p, c_void_p, c_void_p, c_void_p]
    lib.hp_profile_slices.argtypes = [c_void_p] + [c_void_p] * 5
    lib.hp_add_flash.restype = c_int32
    lib.hp_add_flash.argtypes = [c_void_p] + [c_uint32] * 7
    lib.hp_add_window.argtypes = [c_void_p, c_int32, c_uint32, c_uint32]
    lib.hp_flash_stats.argtypes = [c_void_p, c_int32, POINTER(c_uint64), POINTER(c_uint64)]
    lib.hp_block_stats.argtypes = [c_void_p, c_int32, POINTER(c_uint64), POINTER(c_int64),
                                   POINTER(c_uint64), POINTER(c_uint64)]
    lib.hp_get.restype = c_uint64
    lib.hp_get.argtypes = [c_void_p, c_int]
    lib.hp_set.argtypes = [c_void_p, c_int, c_uint64]
    lib.hp_catch_signals.argtypes = []
    lib.hp_release_signals.restype = c_int


class NativeSimulation(Simulation):
    """A Simulation whose block accounting runs in C."""

    native = True

    def __init__(self, *args: object, **kwargs: object):
        lib = load_library()
        assert lib is not None
        self._lib = lib
        self._native_blocks: list[Block] = []
        # Keep the callback object alive as long as the C state may call it.
        self._new_block_cb = NEW_BLOCK(self._native_new_block)
        stop = ctypes.cast(_uc_module.uclib.uc_emu_stop, c_void_p)
        reg_read = ctypes.cast(_uc_module.uclib.uc_reg_read, c_void_p)
        self._state = lib.hp_new(stop, reg_read, self._new_block_cb)
        self._dynamic_specs: list[int] = []
        if not self._state:
            raise MemoryError("native hot path: out of memory")
        super().__init__(*args, **kwargs)
        if self._tracker is not None:
            root = self._tracker.frames[0].function
            self._tracker = NativeCallTracker(self, root)
            if lib.hp_profile_start(self._state, self._function_id(root),
                                    self._tracker.max_slices, len(self._function_ids)) < 0:
                raise MemoryError("native hot path: out of memory")

    def __del__(self) -> None:
        state = getattr(self, "_state", None)
        if state:
            for spec in self._dynamic_specs:
                self._lib.hp_free_dynamic(spec)
            self._lib.hp_free(state)
            self._state = None

    # -- counters in the C state -----------------------------------------------------------------
    @property
    def cycles(self) -> int:  # type: ignore[override]
        return self._lib.hp_get(self._state, GET_CYCLES)

    @cycles.setter
    def cycles(self, value: int) -> None:
        self._lib.hp_set(self._state, GET_CYCLES, value)

    @property
    def instructions(self) -> int:  # type: ignore[override]
        return self._lib.hp_get(self._state, GET_INSTRUCTIONS)

    @instructions.setter
    def instructions(self, value: int) -> None:
        self._lib.hp_set(self._state, GET_INSTRUCTIONS, value)

    @property
    def _current(self) -> Block | None:  # type: ignore[override]
        idx = ctypes.c_int64(self._lib.hp_get(self._state, GET_CURRENT)).value
        return self._native_blocks[idx] if idx >= 0 else None

    @_current.setter
    def _current(self, block: Block | None) -> None:
        index = block.table_index if block is not None else -1
        self._lib.hp_set(self._state, GET_CURRENT, index & 0xFFFFFFFFFFFFFFFF)

    # -- set-up ---------------------------------------------------------------------------------
    def _add_hooks(self) -> None:
        super()._add_hooks()
        self.remove_block_hook()
        for name, value in ((SET_INSN_LIMIT, self._insn_limit), (SET_CYCLE_LIMIT,
                                                                 self._cycle_limit),
                            (SET_MISPREDICT, self._mispredict_penalty)):
            self._lib.hp_set(self._state, name, value)
        self.block_hook = self._c_hook(UC_HOOK_BLOCK, self._lib.hp_block_hook, 1, 0)
        for f in self.flash:
            r = f.region
            f.native_index = self._lib.hp_add_flash(
                self._state, f.ws, f.line_bytes, int(f.prefetch), int(f.fills_all),
                r.icache_lines, r.dcache_lines, r.base)
            if f.native_index < 0:
                raise ValueError(f"native hot path: flash region {r.name} not supported")
            for lo, hi in r.windows():
                self._lib.hp_add_window(self._state, f.native_index, lo, hi)
            buffer = self._buffers[self.board.regions.index(r)]
            alias = _FlashAlias(self._state, r.base, ctypes.addressof(buffer), r.size)
            self._flash_aliases.append(alias)
            assert self.flash_data is not None
            self.flash_data.map_native(f, ctypes.cast(self._lib.hp_flash_mmio_read,
                                                      c_void_p).value,
                                       ctypes.addressof(alias))

    def _new_memory_tracker(self, tracker: MemoryTracker) -> MemoryTracker:
        return NativeMemoryTracker.adopt(tracker, self)

    def _add_flash_hooks(self, uc: Uc) -> None:
        """Flash data reads are timed in C (see _add_hooks)."""
        self.flash_data = FlashDataPath(uc, self.flash) if self.flash else None
        self._flash_aliases: list[_FlashAlias] = []

    def _add_code_hook(self, address: int, callback: object, data: object) -> int:
        if callback != self._on_dynamic:
            return super()._add_code_hook(address, callback, data)
        rule, regs, signed = data  # type: ignore[misc]
        lo, hi = self.timing.table.ranges[rule]  # type: ignore[attr-defined]
        spec = self._lib.hp_new_dynamic(self._state, 0 if rule == "div" else 1, regs[0],
                                        regs[1], int(signed), lo, hi)
        if not spec:
            raise MemoryError("native hot path: out of memory")
        self._dynamic_specs.append(spec)
        return self._c_hook(UC_HOOK_CODE, self._lib.hp_dynamic_hook, address, address, spec)

    def _c_hook(self, kind: int, function: object, begin: int, end: int,
                data: int | None = None) -> int:
        return add_hook(self.uc, kind, ctypes.cast(function, c_void_p).value,
                        data if data is not None else self._state, begin, end)

    # -- new blocks (called from C) -------------------------------------------------------------
    def _native_new_block(self, address: int, size: int) -> None:
        try:
            key = (address << 12) | size
            block = self._translate(address, size, key)
            if self._stop is not None or self._restart_at is not None:
                self._lib.hp_set(self._state, SET_SKIP, 1)
                return
            flash = block.flash
            name = self._function_of(block)
            flags = (BRANCH_END if block.branch_end else 0) | (CALL_END if block.call_end else 0)
            sp_off, sp_pc = _lowest_sp(block)
            block.table_index = self._lib.hp_add_block(
                self._state, address, size, block.count, block.cycles, block.taken_extra,
                block.entry_extra, flags, flash.native_index if flash is not None else -1,
                block.flash_lines[0] if block.flash_lines else 0,
                block.flash_lines[-1] if block.flash_lines else 0, self._function_id(name),
                sp_off, sp_pc)
            if block.table_index < 0:
                raise MemoryError("native hot path: out of memory for blocks")
            self._native_blocks.append(block)
        except BaseException as e:  # noqa: BLE001 - must not unwind through C
            self._callback_error = e
            self._lib.hp_set(self._state, SET_SKIP, 1)
            self.uc.emu_stop()

    # -- end of a run ---------------------------------------------------------------------------
    def _signal_guard(self) -> AbstractContextManager[None]:
        return interrupt.native_handlers(self._lib.hp_catch_signals,
                                         self._lib.hp_release_signals, self._on_stop_signal)

    def _on_stop_signal(self, signum: int) -> None:
        if self._lib.hp_get(self._state, GET_HALTED) == HALTED_BY_SIGNAL:
            super()._on_stop_signal(signum)

    def _after_emulation(self) -> None:
        super()._after_emulation()
        halted = self._lib.hp_get(self._state, GET_HALTED)
        if halted == HALTED_BY_STACK_BUDGET and self._stop is None:
            lib, state = self._lib, self._state  # the C hook took the block back already
            low, at = lib.hp_memory_get(state, 0), lib.hp_memory_get(state, 1)
            self.stop_at_stack_budget(self.initial_sp - low, at, None)
        if halted == 1 and self._stop is None:
            block = self._current  # the block that would have passed a limit; not counted
            count = block.count if block is not None else 0
            self._stop_at_limit(self.instructions + count > self._insn_limit,
                                block.address if block else 0)

    def _finish_counts(self) -> None:
        lib, state = self._lib, self._state
        executions, extra = c_uint64(), c_int64()
        lost_count, lost_cycles = c_uint64(), c_uint64()
        for block in self._native_blocks:
            lib.hp_block_stats(state, block.table_index, byref(executions), byref(extra),
                               byref(lost_count), byref(lost_cycles))
            block.executions = executions.value
            block.extra_cycles += extra.value
            block.lost_count += lost_count.value
            block.lost_cycles += lost_cycles.value
        if isinstance(self._memory, NativeMemoryTracker):
            self._memory.collect()
        fetch, data = c_uint64(), c_uint64()
        for f in self.flash:
            lib.hp_flash_stats(state, f.native_index, byref(fetch), byref(data))
            f.fetch_stall_cycles, f.data_stall_cycles = fetch.value, data.value


def _lowest_sp(block: Block) -> tuple[int, int]:
    """The lowest SP offset the block reaches before any run-time SP write, and where: what
    MemoryTracker.on_block computes per execution."""
    off = low = 0
    at = block.address
    for insn in block.insns:
        if insn.sp_delta is None:
            break
        off += insn.sp_delta
        if off < low:
            low, at = off, insn.address
    return low, at


class NativeMemoryTracker(MemoryTracker):
    """The memory tracker whose per-block stack tracking and access log run in C; heap calls,
    markers and run-time SP writes still come through Python and update the C state."""

    @classmethod
    def adopt(cls, tracker: MemoryTracker, sim: NativeSimulation) -> NativeMemoryTracker:
        tracker.__class__ = cls
        assert isinstance(tracker, NativeMemoryTracker)
        tracker._sim_native = sim
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

    def enter(self, *args: object) -> None:  # pragma: no cover - the C hook does this
        raise AssertionError("the native hot path tracks calls itself")

    def charge(self, cycles: int) -> None:
        self._sim._lib.hp_charge(self._sim._state, cycles)

    def finish(self, cycles: int, instructions: int) -> None:
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
