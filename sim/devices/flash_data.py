"""Data reads from flash, timed without a memory hook.

As soon as any memory hook exists, Unicorn sends every load and store down its slow path: an
int8 conv ran about 3x slower with one read hook on flash, which cost more than the whole cycle
model (bench/speed.py, ../shared/unicorn-notes.md). So the flash data path is built from the
core's address translation instead. Unicorn's virtual TLB mode lets us fill the TLB: code
fetches and writes see flash where it is, but a data read of a flash page is mapped to an MMIO
alias of the region placed above the 32-bit bus, whose read callback times the read (wait states,
the data line buffer and cache, memory/flash.py) and returns the bytes. Every other page keeps
the identity mapping and Unicorn's fast path, and the TLB is only asked again on a miss.

An unaligned read reaches the callback as the aligned accesses the bus makes for it.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable, Sequence

from unicorn import (
    UC_HOOK_TLB_FILL,
    UC_MEM_FETCH,
    UC_MEM_READ,
    UC_PROT_ALL,
    UC_PROT_EXEC,
    UC_PROT_READ,
    UC_PROT_WRITE,
    UC_TLB_VIRTUAL,
    Uc,
    UcError,
)
from unicorn.unicorn_py3 import unicorn as _uc_module

from mcusim.memory.flash import FlashInterface

# Physical addresses past the Cortex-M's 32-bit address space: nothing of the board is there.
ALIAS_BASE = 1 << 32

# uint64_t read(uc_engine *uc, uint64_t offset, unsigned size, void *user_data); the user data
# argument is left out of the Python callback's declaration (see sim/uc_api.py).
_PY_READ = ctypes.CFUNCTYPE(ctypes.c_uint64, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint32)
PythonReader = Callable[[object, int, int], int]


def alias_of(flash: FlashInterface) -> int:
    return ALIAS_BASE + flash.region.base


class FlashDataPath:
    """Routes data reads of the given flash regions to one MMIO reader per region. The TLB is
    filled by `_fill`, or by C where `native_fill(table)` places a C hook over `tlb_table`'s
    table and says so (the native hot path: sim/accounting/hotpath/tlb.c, the same entries;
    Unicorn asks on every TLB miss, a few thousand times in a run of generated code, each a
    Python call of several microseconds)."""

    def __init__(self, uc: Uc, flashes: Sequence[FlashInterface],
                 native_fill: Callable[[ctypes.Array[ctypes.c_uint64]], bool] | None = None):
        self._uc = uc
        self._windows = [(lo, hi, alias_of(f)) for f in flashes for lo, hi in f.region.windows()]
        self._keep: list[object] = []  # callbacks Unicorn may call, and the C fill's table
        uc.ctl_set_tlb_mode(UC_TLB_VIRTUAL)
        # (The C fill's table is made only for it: the Python fill reads the windows.)
        if native_fill is not None and native_fill(table := tlb_table(self._windows)):
            self._keep.append(table)
        else:
            uc.hook_add(UC_HOOK_TLB_FILL, self._fill)

    def map_python(self, flash: FlashInterface, reader: PythonReader) -> None:
        """`reader(engine, offset, size)` answers data reads at `offset` into the region."""
        callback = _PY_READ(reader)
        self._keep.append(callback)
        self.map_native(flash, ctypes.cast(callback, ctypes.c_void_p).value, None)

    def map_native(self, flash: FlashInterface, reader: int | None,
                   user_data: int | None) -> None:
        """A C function (its address) answers the region's data reads, given `user_data`."""
        err = _uc_module.uclib.uc_mmio_map(self._uc._uch, alias_of(flash), flash.region.size,
                                            reader, user_data, None, None)
        if err:
            raise UcError(err)

    def _fill(self, uc: Uc, vaddr: int, access: int, entry: ctypes.Structure,
              _data: object) -> bool:
        for lo, hi, alias in self._windows:
            if lo <= vaddr < hi:
                # Each kind of access gets only its own permission, so that a page fetched
                # from is looked up again (and routed to the alias) when it is read as data.
                if access == UC_MEM_READ:
                    entry.paddr, entry.perms = alias + vaddr - lo, UC_PROT_READ
                else:
                    entry.paddr = vaddr
                    entry.perms = UC_PROT_EXEC if access == UC_MEM_FETCH else UC_PROT_WRITE
                return True
        entry.paddr, entry.perms = vaddr, UC_PROT_ALL  # the regions' own permissions apply
        return True


def tlb_table(windows: Sequence[tuple[int, int, int]]) -> ctypes.Array[ctypes.c_uint64]:
    """What the C fill reads (tlb.c): the access types of a data read and a fetch, the
    permissions read, exec, write and all, the number of windows, then (lo, hi, alias) each."""
    values = [UC_MEM_READ, UC_MEM_FETCH, UC_PROT_READ, UC_PROT_EXEC, UC_PROT_WRITE, UC_PROT_ALL,
              len(windows), *(v for window in windows for v in window)]
    return (ctypes.c_uint64 * len(values))(*values)


def flash_bytes(buffer: ctypes.Array[ctypes.c_char]) -> Callable[[int, int], int]:
    """A reader of little-endian values from a region's host buffer."""
    view = memoryview(buffer).cast("B")

    def value(offset: int, size: int) -> int:
        return int.from_bytes(view[offset:offset + size], "little")

    return value
