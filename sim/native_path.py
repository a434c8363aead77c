"""The native hot path: sim/native/hotpath.c registered as Unicorn's block hook.

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
from ctypes import CFUNCTYPE, POINTER, byref, c_int, c_int32, c_int64, c_uint32, c_uint64, c_void_p

from unicorn import UC_HOOK_BLOCK, UC_HOOK_CODE, UC_HOOK_MEM_READ, Uc
from unicorn.unicorn_py3 import unicorn as _uc_module

from mcusim.sim.blocks import Block
from mcusim.sim.engine import Simulation

NEW_BLOCK = CFUNCTYPE(None, c_uint64, c_uint32)
GET_INSTRUCTIONS, GET_CYCLES, GET_CURRENT, GET_HALTED = 0, 1, 2, 3
SET_SKIP, SET_INSN_LIMIT, SET_CYCLE_LIMIT, SET_MISPREDICT = 4, 5, 6, 7
BRANCH_END = 1

_library: ctypes.CDLL | None = None
_load_error: str | None = None


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
                                 c_uint32, c_uint32, c_int32, c_uint32, c_uint32]
    lib.hp_add_flash.restype = c_int32
    lib.hp_add_flash.argtypes = [c_void_p] + [c_uint32] * 7
    lib.hp_add_window.argtypes = [c_void_p, c_int32, c_uint32, c_uint32]
    lib.hp_flash_stats.argtypes = [c_void_p, c_int32, POINTER(c_uint64), POINTER(c_uint64)]
    lib.hp_block_stats.argtypes = [c_void_p, c_int32, POINTER(c_uint64), POINTER(c_int64),
                                   POINTER(c_uint64), POINTER(c_uint64)]
    lib.hp_get.restype = c_uint64
    lib.hp_get.argtypes = [c_void_p, c_int]
    lib.hp_set.argtypes = [c_void_p, c_int, c_uint64]


class NativeSimulation(Simulation):
    """A Simulation whose block accounting runs in C."""

    native = True

    def __init__(self, *args: object, **kwargs: object):
        lib = load_library()
        assert lib is not None
        self._lib = lib
        self._native_blocks: list[Block] = []
        self._callback_error: BaseException | None = None
        # Keep the callback object alive as long as the C state may call it.
        self._new_block_cb = NEW_BLOCK(self._native_new_block)
        stop = ctypes.cast(_uc_module.uclib.uc_emu_stop, c_void_p)
        reg_read = ctypes.cast(_uc_module.uclib.uc_reg_read, c_void_p)
        self._state = lib.hp_new(stop, reg_read, self._new_block_cb)
        self._dynamic_specs: list[int] = []
        if not self._state:
            raise MemoryError("native hot path: out of memory")
        super().__init__(*args, **kwargs)

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
        index = block.native_index if block is not None else -1
        self._lib.hp_set(self._state, GET_CURRENT, index & 0xFFFFFFFFFFFFFFFF)

    # -- set-up ---------------------------------------------------------------------------------
    def _add_hooks(self) -> None:
        super()._add_hooks()
        uc = self.uc
        uc.hook_del(self.block_hook)
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
                self._c_hook(UC_HOOK_MEM_READ, self._lib.hp_flash_read, lo, hi - 1)

    def _add_flash_hooks(self, uc: Uc) -> None:
        """Flash data reads are counted in C (see _add_hooks)."""

    def _add_code_hook(self, address: int, callback: object, data: object) -> int:
        if callback != self._on_dynamic:
            return super()._add_code_hook(address, callback, data)
        rule, regs = data  # type: ignore[misc]
        lo, hi = self.timing.table.ranges[rule]  # type: ignore[attr-defined]
        signed = rule == "div" and self._signed_div(address)
        spec = self._lib.hp_new_dynamic(self._state, 0 if rule == "div" else 1, regs[0],
                                        regs[1], int(signed), lo, hi)
        if not spec:
            raise MemoryError("native hot path: out of memory")
        self._dynamic_specs.append(spec)
        return self._c_hook(UC_HOOK_CODE, self._lib.hp_dynamic_hook, address, address, spec)

    def _c_hook(self, kind: int, function: object, begin: int, end: int,
                data: int | None = None) -> int:
        handle = ctypes.c_size_t()
        err = _uc_module.uclib.uc_hook_add(
            self.uc._uch, byref(handle), kind, ctypes.cast(function, c_void_p),
            data if data is not None else self._state, begin, end)
        if err:
            raise RuntimeError(f"native hot path: uc_hook_add failed ({err})")
        return handle.value

    # -- new blocks (called from C) -------------------------------------------------------------
    def _native_new_block(self, address: int, size: int) -> None:
        try:
            key = (address << 12) | size
            block = self._translate(address, size, key)
            if self._stop is not None or self._restart_at is not None:
                self._lib.hp_set(self._state, SET_SKIP, 1)
                return
            flash = block.flash
            block.native_index = self._lib.hp_add_block(
                self._state, address, size, block.count, block.cycles, block.taken_extra,
                block.entry_extra, BRANCH_END if block.branch_end else 0,
                flash.native_index if flash is not None else -1,
                block.flash_lines[0] if block.flash_lines else 0,
                block.flash_lines[-1] if block.flash_lines else 0)
            if block.native_index < 0:
                raise MemoryError("native hot path: out of memory for blocks")
            self._native_blocks.append(block)
        except BaseException as e:  # noqa: BLE001 - must not unwind through C
            self._callback_error = e
            self._lib.hp_set(self._state, SET_SKIP, 1)
            self.uc.emu_stop()

    # -- end of a run ---------------------------------------------------------------------------
    def _after_emulation(self) -> None:
        if self._callback_error is not None:
            raise self._callback_error
        if self._lib.hp_get(self._state, GET_HALTED) and self._stop is None:
            block = self._current
            what = ("--max-instructions " + str(self.max_instructions)
                    if self.instructions >= self._insn_limit
                    else "--max-cycles " + str(self.max_cycles))
            self._stop_at_limit(what, block.address if block else 0)

    def _finish_counts(self) -> None:
        lib, state = self._lib, self._state
        executions, extra = c_uint64(), c_int64()
        lost_count, lost_cycles = c_uint64(), c_uint64()
        for block in self._native_blocks:
            lib.hp_block_stats(state, block.native_index, byref(executions), byref(extra),
                               byref(lost_count), byref(lost_cycles))
            block.executions = executions.value
            block.extra_cycles += extra.value
            block.lost_count += lost_count.value
            block.lost_cycles += lost_cycles.value
        fetch, data = c_uint64(), c_uint64()
        for f in self.flash:
            lib.hp_flash_stats(state, f.native_index, byref(fetch), byref(data))
            f.fetch_stall_cycles, f.data_stall_cycles = fetch.value, data.value
