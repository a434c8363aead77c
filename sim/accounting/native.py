"""The native accounting path: a `Simulation` whose per-block accounting runs in C (the
library of sim/accounting/native_lib.py), registered as Unicorn's block hook.

Python sees new blocks, semihosting, peripherals, faults and operand-timed instructions, as
before. Its counters live in the C state, so `cycles`, `instructions` and the current block are
properties here; everything else is the Python engine's. Both paths give identical numbers
(tests run on both).
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from contextlib import AbstractContextManager
from ctypes import byref, c_int64, c_uint64, c_void_p
from typing import Any

from unicorn import UC_HOOK_BLOCK, UC_HOOK_CODE, UC_HOOK_TLB_FILL, Uc
from unicorn.unicorn_py3 import unicorn as _uc_module

from mcusim.isa.cached_insns import sp_deltas, sp_unchanged
from mcusim.sim.accounting.native_lib import (
    BRANCH_END,
    CALL_END,
    EXC_POLL,
    GET_CURRENT,
    GET_CYCLES,
    GET_HALTED,
    GET_INSTRUCTIONS,
    HALTED_BY_SIGNAL,
    HALTED_BY_STACK_BUDGET,
    NEW_BLOCK,
    SET_CYCLE_LIMIT,
    SET_EXC_CHANGED,
    SET_INSN_LIMIT,
    SET_MISPREDICT,
    SET_NEXT_EVENT,
    SET_SKIP,
    BlockFields,
    FlashAlias,
    load_library,
)
from mcusim.sim.core import interrupt
from mcusim.sim.core.blocks import Block
from mcusim.sim.core.engine import Simulation
from mcusim.sim.core.observer import Observer
from mcusim.sim.core.uc_api import add_hook
from mcusim.sim.devices.flash_data import FlashDataPath
from mcusim.sim.devices.peripherals import PPB_BASE


class NativeSimulation(Simulation):
    """A Simulation whose block accounting runs in C."""

    native = True

    def __init__(self, *args: Any, **kwargs: Any):
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
        self._block_fields = BlockFields()  # a new block's values for hp_add_block, reused
        self._block_fields_at = ctypes.addressof(self._block_fields)
        if not self._state:
            raise MemoryError("native hot path: out of memory")
        self._exc_poll_cb = EXC_POLL(self._native_exc_poll)
        lib.hp_set_exc_poll(self._state, self._exc_poll_cb)
        super().__init__(*args, **kwargs)
        # As the Python path: the first block start looks if the set-up changed the exception
        # state (interrupt sources added).
        lib.hp_set(self._state, SET_EXC_CHANGED, int(self._exc_state.changed))

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
            alias = FlashAlias(self._state, r.base, ctypes.addressof(buffer), r.size)
            self._flash_aliases.append(alias)
            assert self.flash_data is not None
            self.flash_data.map_native(f, ctypes.cast(self._lib.hp_flash_mmio_read,
                                                      c_void_p).value,
                                       ctypes.addressof(alias))

    def _attach(self, observer: Observer) -> None:
        """The profiler's and the memory tracker's per-block work runs in C: their trackers are
        the native ones (sim/accounting/native_observers.py). (Imported here: a run with no
        observer needs none of the observers' modules, a tenth of a short run's own work.)"""
        from mcusim.sim.accounting.native_observers import NativeCallTracker, NativeMemoryTracker
        from mcusim.sim.observe.memory import MemoryObserver
        from mcusim.sim.observe.profiling import Profiler

        if isinstance(observer, Profiler):
            observer.make_tracker = lambda root: NativeCallTracker(self, root)
        elif isinstance(observer, MemoryObserver):
            observer.adapt_tracker = lambda tracker: NativeMemoryTracker.adopt(tracker, self)
        super()._attach(observer)
        if isinstance(observer, Profiler):
            tracker = observer.tracker
            assert tracker is not None
            root = tracker.frames[0].function
            if self._lib.hp_profile_start(self._state, self._function_id(root),
                                          tracker.max_slices, len(self._function_ids)) < 0:
                raise MemoryError("native hot path: out of memory")

    def _add_flash_hooks(self, uc: Uc) -> None:
        """Flash data reads are timed in C (see _add_hooks)."""
        self.flash_data = (FlashDataPath(uc, self.flash, self._tlb_fill) if self.flash
                           else None)
        self._flash_aliases: list[FlashAlias] = []

    def _tlb_fill(self, table: ctypes.Array[ctypes.c_uint64]) -> bool:
        """The flash data path's TLB filled in C over `table` (hotpath/tlb.c), if the library
        has it."""
        fill = getattr(self._lib, "hp_tlb_fill", None)
        if fill is None:
            return False
        add_hook(self.uc, UC_HOOK_TLB_FILL, ctypes.cast(fill, c_void_p).value,
                 ctypes.addressof(table), 1, 0)
        return True

    def _add_code_hook(self, address: int, callback: object, data: object) -> int:
        if callback == self._on_mask_write:  # CPS/MSR: the C hook marks the state changed
            return self._c_hook(UC_HOOK_CODE, self._lib.hp_mask_hook, address, address)
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

    # -- exceptions (sim/core/exceptions.py) ------------------------------------------------------
    def _native_exc_poll(self, address: int) -> int:
        """Called from C at a block start where an interrupt source is due or the exception
        state changed: 1 if the core was redirected (the block is not charged)."""
        try:
            return int(self.exc_model.poll(address))
        except BaseException as e:  # noqa: BLE001 - must not unwind through C
            self._callback_error = e
            self.uc.emu_stop()
            return 1

    def _exception_schedule(self, cycle: int) -> None:
        super()._exception_schedule(cycle)
        self._lib.hp_set(self._state, SET_NEXT_EVENT, cycle)
        self._lib.hp_set(self._state, SET_EXC_CHANGED, int(self._exc_state.changed))

    def _mmio(self, base: int, size: int, device: Any) -> None:
        """An access to the core's private peripherals may pend or unmask an exception or move
        the next interrupt-source event: the C block hook then asks Python at the next block
        start (the Python path reads ExceptionState.changed itself)."""
        if base == PPB_BASE:
            device = _NotifyingBus(device, self._exc_written)
        super()._mmio(base, size, device)

    def _exc_written(self) -> None:
        if self._exc_state.changed:
            self._lib.hp_set(self._state, SET_EXC_CHANGED, 1)

    # -- new blocks (called from C) -------------------------------------------------------------
    def _native_new_block(self, address: int, size: int) -> None:
        try:
            key = (address << 12) | size
            block = self._translate(address, size, key)
            if self._stop is not None or self._restart_at is not None:
                self._lib.hp_set(self._state, SET_SKIP, 1)
                return
            flash = block.flash
            name = self.function_of(block)
            flags = (BRANCH_END if block.branch_end else 0) | (CALL_END if block.call_end else 0)
            sp_off, sp_pc = _lowest_sp(block)
            fields = self._block_fields
            fields[:] = (address, size, block.count, block.cycles, block.taken_extra,
                         block.entry_extra, flags,
                         flash.native_index if flash is not None else -1,
                         block.flash_lines[0] if block.flash_lines else 0,
                         block.flash_lines[-1] if block.flash_lines else 0,
                         self._function_id(name), sp_off, sp_pc)
            block.table_index = self._lib.hp_add_block(self._state, self._block_fields_at)
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

    def _signal_recorded(self) -> int:
        """The signal the C handler recorded (interrupt.c) and the block hook has not acted on
        yet; 0 if none."""
        return ctypes.c_int.in_dll(self._lib, "hp_signal_pending").value

    def stop_pending(self) -> bool:
        return super().stop_pending() or self._signal_recorded() != 0

    def stop_now(self) -> None:
        signum = self._signal_recorded()
        if signum and self._stop is None:
            Simulation._on_stop_signal(self, signum)  # what the Python handler does
        super().stop_now()

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
        blocks = self._native_blocks
        rows = 1 + max((b.table_index for b in blocks), default=-1)
        stats = (c_int64 * (4 * rows))()  # (one call: a ctypes call per block cost ~1 us)
        lib.hp_blocks_stats(state, rows, stats)
        values = stats[:]
        for block in blocks:
            k = 4 * block.table_index
            block.executions = values[k]
            block.extra_cycles += values[k + 1]
            block.lost_count += values[k + 2]
            block.lost_cycles += values[k + 3]
        if self.memory_tracker is not None:
            from mcusim.sim.accounting.native_observers import NativeMemoryTracker

            if isinstance(self.memory_tracker, NativeMemoryTracker):
                self.memory_tracker.collect()
        fetch, data = c_uint64(), c_uint64()
        for f in self.flash:
            lib.hp_flash_stats(state, f.native_index, byref(fetch), byref(data))
            f.fetch_stall_cycles, f.data_stall_cycles = fetch.value, data.value


class _NotifyingBus:
    """A device whose accesses are followed by a callback."""

    def __init__(self, device: Any, written: Callable[[], None]):
        self.device = device
        self.written = written

    def read(self, addr: int, size: int) -> int:
        value = self.device.read(addr, size)
        self.written()  # (a read can reschedule too: SysTick's COUNTFLAG)
        return value

    def write(self, addr: int, size: int, value: int) -> None:
        self.device.write(addr, size, value)
        self.written()


def _lowest_sp(block: Block) -> tuple[int, int]:
    """The lowest SP offset the block reaches before any run-time SP write, and where: what
    MemoryTracker.on_block computes per execution."""
    if sp_unchanged(block.insns):
        return 0, block.address  # most blocks leave SP alone (one C loop)
    deltas = sp_deltas(block.insns)
    off = low = 0
    at = block.address
    for insn, delta in zip(block.insns, deltas, strict=True):
        if delta is None:
            break
        off += delta
        if off < low:
            low, at = off, insn.address
    return low, at
