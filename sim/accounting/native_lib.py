"""The native hot path's library: sim/accounting/hotpath/*.c, compiled by the install
(setup.py, an optional extension) and loaded with ctypes; `MCUSIM_NATIVE=0` keeps it unloaded
so that runs take the pure-Python path."""

from __future__ import annotations

import ctypes
import importlib.util
from ctypes import CFUNCTYPE, POINTER, c_int, c_int32, c_int64, c_uint32, c_uint64, c_void_p

from mcusim.base.native import native_wanted

NEW_BLOCK = CFUNCTYPE(None, c_uint64, c_uint32)
EXC_POLL = CFUNCTYPE(c_int, c_uint64)  # hotpath.h exc_poll_fn
SET_NEXT_EVENT, SET_EXC_CHANGED = 8, 9
GET_INSTRUCTIONS, GET_CYCLES, GET_CURRENT, GET_HALTED = 0, 1, 2, 3
SET_SKIP, SET_INSN_LIMIT, SET_CYCLE_LIMIT, SET_MISPREDICT = 4, 5, 6, 7
BRANCH_END, CALL_END = 1, 2
HALTED_BY_SIGNAL = 2  # hotpath.c: the block hook saw a signal (interrupt.c)
HALTED_BY_STACK_BUDGET = 3  # hotpath.c: SP passed --max-stack (memory.c)

# hp_add_block's values (hotpath.c says which, in order).
BLOCK_FIELDS = 13
BlockFields = c_int64 * BLOCK_FIELDS

_library: ctypes.CDLL | None = None
_load_error: str | None = None


class FlashAlias(ctypes.Structure):
    """hp_flash_alias (hotpath.h): what the C reader of a flash region's data alias needs."""

    _fields_ = (("state", c_void_p), ("base", c_uint64), ("data", c_void_p), ("size", c_uint64))


def load_library() -> ctypes.CDLL | None:
    """The compiled hot path, or None (the reason is in `load_error()`)."""
    global _library, _load_error
    if _library is not None or _load_error is not None:
        return _library
    if not native_wanted():
        _load_error = "MCUSIM_NATIVE=0"
        return None
    spec = importlib.util.find_spec("mcusim.sim.accounting._hotpath")
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
    lib.hp_set_exc_poll.argtypes = [c_void_p, EXC_POLL]
    lib.hp_new_dynamic.restype = c_void_p
    lib.hp_new_dynamic.argtypes = [c_void_p, c_int32, c_int32, c_int32, c_int32, c_uint32,
                                   c_uint32]
    lib.hp_free_dynamic.argtypes = [c_void_p]
    lib.hp_free.argtypes = [c_void_p]
    lib.hp_add_block.restype = c_int32
    # (the BlockFields' address: converting a ctypes array to a pointer argument takes
    # several isinstance checks per call)
    lib.hp_add_block.argtypes = [c_void_p, c_void_p]
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
    lib.hp_blocks_stats.argtypes = [c_void_p, c_uint32, c_void_p]
    lib.hp_get.restype = c_uint64
    lib.hp_get.argtypes = [c_void_p, c_int]
    lib.hp_set.argtypes = [c_void_p, c_int, c_uint64]
    lib.hp_catch_signals.argtypes = []
    lib.hp_release_signals.restype = c_int
