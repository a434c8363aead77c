"""The program's memory as semihosting sees it: a buffer the program names must lie inside
one memory region of the board (and, to be written, a writable one), or the call fails with
EFAULT, as a debug probe answers a bad pointer. This keeps a bad pointer or length from
reaching Unicorn (whose error would end the run as if the program had faulted) and a
4 GiB length from being read at all; and flash stays read-only, as on the chip."""

from __future__ import annotations

import errno

from unicorn import Uc, UcError

from mcusim.memory.board import BoardSpec


class GuestMemoryError(OSError):
    """A semihosting buffer outside the program's memory: errno EFAULT for the program."""

    def __init__(self, address: int, size: int, what: str):
        super().__init__(errno.EFAULT, f"{what} of {size} bytes at {address:#010x}")


class GuestMemory:
    """`mem_read`/`mem_write` of semihosting (sim/devices/semihosting.py), bounds-checked."""

    def __init__(self, uc: Uc, board: BoardSpec):
        self._uc = uc
        self._readable = [w for r in board.regions for w in r.windows()]
        self._writable = [w for r in board.regions if r.writable for w in r.windows()]

    def mem_read(self, address: int, size: int) -> bytes:
        self._check(self._readable, address, size, "read")
        try:
            return bytes(self._uc.mem_read(address, size))
        except UcError:
            raise GuestMemoryError(address, size, "read") from None

    def mem_write(self, address: int, data: bytes) -> None:
        self._check(self._writable, address, len(data), "write")
        try:
            self._uc.mem_write(address, bytes(data))
        except UcError:
            raise GuestMemoryError(address, len(data), "write") from None

    @staticmethod
    def _check(windows: list[tuple[int, int]], address: int, size: int, what: str) -> None:
        if size and not any(lo <= address and address + size <= hi for lo, hi in windows):
            raise GuestMemoryError(address, size, what)
