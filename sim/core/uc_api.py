"""The few Unicorn C API calls mcusim makes without the Python binding's wrappers.

The binding wraps every hook in a Python function that catches exceptions, and calls
`uc_emu_start` through a ctypes `CDLL`, which releases the GIL for the whole emulation: each
Python hook then has to take the GIL back, and that costs more than our per-block accounting
(unicorn-notes.md; bench/speed.py). Here a Python block hook is registered with
`uc_hook_add` directly and `uc_emu_start` runs with the GIL held, as a `PyDLL` call would.
Both use the binding's private `uclib` and engine handle (`Uc._uch`); pyproject.toml pins the
unicorn versions this was checked with, and the test suite exercises every call.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable

from unicorn import UC_HOOK_BLOCK, Uc, UcError
from unicorn.unicorn_py3 import unicorn as _uc_module

# Unicorn passes (engine, address, size, user data) to a block hook. Our callbacks take only
# the leading arguments they use: on the C ABIs Unicorn runs on, the caller passes and clears the
# arguments, so a callee that declares fewer simply ignores the rest, and each argument left
# out saves ctypes a conversion to a Python object on every call.
BlockCallback = Callable[[object, int, int], None]

_BLOCK_HOOK = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint32)
# uc_err uc_emu_start(uc_engine *uc, uint64_t begin, uint64_t until, uint64_t timeout,
#                     size_t count), called without releasing the GIL.
_EMU_START = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint64,
                               ctypes.c_uint64, ctypes.c_size_t)(
    ctypes.cast(_uc_module.uclib.uc_emu_start, ctypes.c_void_p).value)


def add_hook(uc: Uc, kind: int, function: int | None, user_data: int | None, begin: int,
             end: int) -> int:
    """uc_hook_add with a C function pointer (a ctypes callback's or a library's); returns
    the hook handle."""
    handle = ctypes.c_size_t()
    err = _uc_module.uclib.uc_hook_add(uc._uch, ctypes.byref(handle), kind, function, user_data,
                                        ctypes.c_uint64(begin), ctypes.c_uint64(end))
    if err:
        raise UcError(err)
    return handle.value


class BlockHook:
    """`function(engine, address, size)` at the start of every translated block that runs.
    It must not raise: an exception cannot unwind through Unicorn's C frames (catch it, keep
    it, and stop the emulation)."""

    def __init__(self, uc: Uc, function: BlockCallback):
        self._uc = uc
        self._callback: ctypes._CFuncPtr | None = _BLOCK_HOOK(function)  # kept alive
        self.handle = add_hook(uc, UC_HOOK_BLOCK,
                               ctypes.cast(self._callback, ctypes.c_void_p).value, None, 1, 0)

    def delete(self) -> None:
        err = _uc_module.uclib.uc_hook_del(self._uc._uch, _uc_module.uc_hook_h(self.handle))
        if err:
            raise UcError(err)
        self._callback = None


class RegisterReader:
    """Reads a 32-bit core register without the binding's per-call dispatch on register
    classes (for hooks that read operands on every execution)."""

    def __init__(self, uc: Uc):
        self._handle = uc._uch
        self._value = ctypes.c_uint64()
        self._ref = ctypes.byref(self._value)

    def read(self, register: int) -> int:
        err = _uc_module.uclib.uc_reg_read(self._handle, register, self._ref)
        if err:
            raise UcError(err)
        return self._value.value & 0xFFFFFFFF


def emu_start(uc: Uc, begin: int, until: int) -> None:
    """`Uc.emu_start` with the GIL held throughout: Python hooks run without re-acquiring it.
    Exceptions raised in hooks added with `Uc.hook_add` are raised here, as the binding does."""
    uc._hook_exception = None
    status = _EMU_START(uc._uch, begin, until, 0, 0)
    if status:
        raise UcError(status)
    if uc._hook_exception is not None:
        raise uc._hook_exception


class MemoryReader:
    """Reads emulated memory into one reusable buffer. (`Uc.mem_read` makes a ctypes string
    buffer per call, a new array type for each size not seen before, then a bytearray copy:
    more than the translation of a block needs to read its bytes.)"""

    def __init__(self, uc: Uc, size: int = 4096):
        self._handle = uc._uch
        self._buffer = ctypes.create_string_buffer(size)
        self._size = size

    def read(self, address: int, size: int) -> bytes:
        if size > self._size:
            self._size = max(size, 2 * self._size)
            self._buffer = ctypes.create_string_buffer(self._size)
        err = _uc_module.uclib.uc_mem_read(self._handle, address, self._buffer, size)
        if err:
            raise UcError(err, address, size)
        return self._buffer[:size]  # (a slice of a char array is bytes, made in C)
