"""The optional extension mcusim.isa._block_timing (isa/native/block_timing.c and
flash_stalls.c): TableTiming.block_timing's Cortex-M3/M4 path and
FlashInterface.sequential_stalls in C, the same numbers as the Python they repeat
(tests/test_block_timing_native.py). Python stays the definition and the fallback."""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType
from typing import Protocol

from mcusim.base.native import optional_extension

# The class flags TableTiming._class_cost gives the C timer (the same bits as its F_* enum).
PLAIN, LIST, PC_WRITING, NOP, FP, RANGED, FP_ARITH, FP_LONG, FP_MAC = (1 << k for k in range(9))


class NativeTimer(Protocol):
    """_block_timing.M3M4Timer: made by TableTiming._native_timer."""

    def timing(self, block: Sequence[tuple]) -> tuple[list[int], int, int, dict[int, str]]:
        """BlockTiming's fields for the block, as TableTiming.block_timing computes them."""
        ...


def _native_timing() -> ModuleType | None:
    """The extension; None when it was not built or `MCUSIM_NATIVE=0` asks for the pure-Python
    path (as for the native decoder, isa/decode.py)."""
    return optional_extension("mcusim.isa._block_timing")


NATIVE = _native_timing()
