"""The flash data path's TLB fill (sim/devices/flash_data.py): the C fill of the native hot
path's library (sim/accounting/hotpath/tlb.c) gives every entry the Python fill gives."""

from __future__ import annotations

import ctypes
import random

import pytest
from unicorn import UC_MEM_FETCH, UC_MEM_READ, UC_MEM_WRITE
from unicorn.unicorn_py3.unicorn import uc_tlb_entry

from mcusim.sim.devices.flash_data import FlashDataPath, tlb_table


def test_the_c_tlb_fill_gives_the_python_fill_s_entries():
    from mcusim.sim.accounting import native_lib

    lib = native_lib.load_library()
    if lib is None or not hasattr(lib, "hp_tlb_fill"):
        pytest.skip("the native hot path is not available")
    fill = ctypes.CFUNCTYPE(ctypes.c_bool, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_int,
                            ctypes.POINTER(uc_tlb_entry), ctypes.c_void_p)(
        ctypes.cast(lib.hp_tlb_fill, ctypes.c_void_p).value)
    # Two flash regions, one with an alias window (as on STM32 boards: flash at 0 and 0x0800...).
    windows = [(0x0000_0000, 0x0008_0000, 0x1_0800_0000), (0x0800_0000, 0x0808_0000, 0x1_0800_0000),
               (0x1FFF_0000, 0x1FFF_7800, 0x1_1FFF_0000)]
    table = tlb_table(windows)
    path = FlashDataPath.__new__(FlashDataPath)  # (only its windows: no engine)
    path._windows = windows
    rnd = random.Random(5)
    edges = [lo + d for lo, hi, _ in windows for d in (-1, 0, 1)] + [
        hi + d for _, hi, _ in windows for d in (-1, 0)]
    addresses = edges + [rnd.randrange(1 << 32) for _ in range(2000)] + [
        rnd.randrange(lo, hi) for lo, hi, _ in windows for _ in range(300)]
    for vaddr in addresses:
        for access in (UC_MEM_READ, UC_MEM_FETCH, UC_MEM_WRITE):
            got, want = uc_tlb_entry(), uc_tlb_entry()
            assert fill(None, vaddr, access, ctypes.byref(got), ctypes.addressof(table))
            assert path._fill(None, vaddr, access, want, None)
            assert (got.paddr, got.perms) == (want.paddr, want.perms), (hex(vaddr), access)
