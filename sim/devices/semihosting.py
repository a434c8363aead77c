"""ARM semihosting (BKPT 0xAB), as newlib's rdimon.specs uses it.

Host files are confined to one directory (`--fs-root`): a path that resolves outside it is
refused to the program with EACCES and never opened. Time is simulated time, so output is the
same on every run: SYS_CLOCK and SYS_ELAPSED count the model's cycles, SYS_TIME counts seconds
of simulated time from the Unix epoch.
"""

from __future__ import annotations

import errno
import io
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, ClassVar

from mcusim.base.errors import UsageError

SYS_OPEN = 0x01
SYS_CLOSE = 0x02
SYS_WRITEC = 0x03
SYS_WRITE0 = 0x04
SYS_WRITE = 0x05
SYS_READ = 0x06
SYS_READC = 0x07
SYS_ISERROR = 0x08
SYS_ISTTY = 0x09
SYS_SEEK = 0x0A
SYS_FLEN = 0x0C
SYS_TMPNAM = 0x0D
SYS_REMOVE = 0x0E
SYS_RENAME = 0x0F
SYS_CLOCK = 0x10
SYS_TIME = 0x11
SYS_SYSTEM = 0x12
SYS_ERRNO = 0x13
SYS_GET_CMDLINE = 0x15
SYS_HEAPINFO = 0x16
SYS_EXIT = 0x18
SYS_EXIT_EXTENDED = 0x20
SYS_ELAPSED = 0x30
SYS_TICKFREQ = 0x31

ADP_STOPPED_APPLICATION_EXIT = 0x20026
FEATURES_FILE = ":semihosting-features"
# "SHFB" magic, then feature byte 0: bit 0 SYS_EXIT_EXTENDED, bit 1 separate stdout/stderr.
FEATURES = b"SHFB\x03"

MODES = ("rb", "rb", "r+b", "r+b", "wb", "wb", "w+b", "w+b", "ab", "ab", "a+b", "a+b")


class Memory:
    """What semihosting needs of the simulated memory (a Unicorn instance satisfies this)."""

    def mem_read(self, address: int, size: int) -> bytes: ...  # pragma: no cover
    def mem_write(self, address: int, data: bytes) -> None: ...  # pragma: no cover


@dataclass
class ProgramExit:
    code: int
    reason: int


@dataclass
class _Handle:
    kind: str  # "stdin", "stdout", "stderr", "file", "features"
    file: BinaryIO | None = None
    name: str = ""
    pos: int = 0  # for the features pseudo-file


@dataclass
class Semihosting:
    fs_root: Path
    argv: list[str]
    stdout: BinaryIO
    stderr: BinaryIO
    stdin: BinaryIO | None
    now_cycles: Callable[[], int]
    clock_hz: int
    handles: dict[int, _Handle] = field(default_factory=dict)
    errno: int = 0
    exit: ProgramExit | None = None
    _next_handle: int = 1
    _tmp_counter: int = 0

    def __post_init__(self) -> None:
        self.fs_root = Path(os.path.realpath(self.fs_root))

    def close_all(self) -> None:
        for h in self.handles.values():
            if h.file is not None:
                h.file.close()
        self.handles.clear()

    # -- dispatch -------------------------------------------------------------------------
    def call(self, mem: Memory, op: int, arg: int) -> int:
        """Run one semihosting call; returns the value for r0."""
        handler = self._ops.get(op)
        if handler is None:
            self.errno = errno.ENOSYS
            return _u32(-1)
        try:
            return _u32(handler(self, mem, arg))
        except OSError as e:
            # A buffer outside the program's memory (EFAULT, sim/devices/guest_memory.py), a
            # handle used against its mode (io.UnsupportedOperation), a host error: the program
            # gets the errno, as from a debug probe.
            self.errno = _errno_of(e)
        except (ValueError, OverflowError):  # e.g. a file name with a NUL in it
            self.errno = errno.EINVAL
        return _u32(-1)

    # -- helpers ----------------------------------------------------------------------------
    @staticmethod
    def _words(mem: Memory, addr: int, n: int) -> list[int]:
        data = mem.mem_read(addr, 4 * n)
        return [int.from_bytes(data[4 * i:4 * i + 4], "little") for i in range(n)]


    def _confine(self, name: str) -> Path | None:
        """The host path for a program's path, or None if it escapes the root."""
        path = Path(os.path.realpath(self.fs_root / name))
        if path == self.fs_root or self.fs_root in path.parents:
            return path
        return None

    def _new_handle(self, h: _Handle) -> int:
        n = self._next_handle
        self._next_handle += 1
        self.handles[n] = h
        return n

    def _fail(self, code: int) -> int:
        self.errno = code
        return -1

    # -- operations -------------------------------------------------------------------------
    def _open(self, mem: Memory, arg: int) -> int:
        ptr, mode, length = self._words(mem, arg, 3)
        name = mem.mem_read(ptr, length).decode("utf-8", "replace")
        if mode >= len(MODES):
            return self._fail(errno.EINVAL)
        if name == ":tt":
            kind = "stdin" if mode < 4 else ("stdout" if mode < 8 else "stderr")
            return self._new_handle(_Handle(kind, name=name))
        if name == FEATURES_FILE:
            if mode >= 4:
                return self._fail(errno.EACCES)
            return self._new_handle(_Handle("features", name=name))
        path = self._confine(name)
        if path is None:
            return self._fail(errno.EACCES)
        try:
            f = open(path, MODES[mode])  # noqa: SIM115 - lives until SYS_CLOSE
        except OSError as e:
            return self._fail(e.errno or errno.EIO)
        return self._new_handle(_Handle("file", file=f, name=name))

    def _close(self, mem: Memory, arg: int) -> int:
        (handle,) = self._words(mem, arg, 1)
        h = self.handles.pop(handle, None)
        if h is None:
            return self._fail(errno.EBADF)
        if h.file is not None:
            h.file.close()
        return 0

    def _writec(self, mem: Memory, arg: int) -> int:
        self._emit(self.stdout, mem.mem_read(arg, 1))
        return 0

    def _write0(self, mem: Memory, arg: int) -> int:
        self._emit(self.stdout, read_cstring(mem, arg, limit=1 << 20))
        return 0

    @staticmethod
    def _emit(stream: BinaryIO, data: bytes) -> None:
        stream.write(data)
        stream.flush()

    def _write(self, mem: Memory, arg: int) -> int:
        handle, ptr, length = self._words(mem, arg, 3)
        h = self.handles.get(handle)
        if h is None or h.kind in ("stdin", "features"):
            self.errno = errno.EBADF
            return length
        data = mem.mem_read(ptr, length) if length else b""
        if h.kind == "stdout":
            self._emit(self.stdout, data)
        elif h.kind == "stderr":
            self._emit(self.stderr, data)
        else:
            assert h.file is not None
            try:
                h.file.write(data)
            except OSError as e:  # (a handle opened for reading: EBADF)
                self.errno = _errno_of(e)
                return length
        return 0  # bytes not written

    def _read(self, mem: Memory, arg: int) -> int:
        handle, ptr, length = self._words(mem, arg, 3)
        h = self.handles.get(handle)
        if h is None or h.kind in ("stdout", "stderr"):
            self.errno = errno.EBADF
            return length
        if h.kind == "features":
            data = FEATURES[h.pos:h.pos + length]
            h.pos += len(data)
        elif h.kind == "stdin":
            data = self.stdin.readline(length) if self.stdin is not None else b""
        else:
            assert h.file is not None
            data = h.file.read(length)
        if data:
            mem.mem_write(ptr, data)
        return length - len(data)

    def _readc(self, mem: Memory, arg: int) -> int:
        data = self.stdin.read(1) if self.stdin is not None else b""
        return data[0] if data else -1

    def _iserror(self, mem: Memory, arg: int) -> int:
        (status,) = self._words(mem, arg, 1)
        return 1 if status & 0x80000000 else 0

    def _istty(self, mem: Memory, arg: int) -> int:
        (handle,) = self._words(mem, arg, 1)
        h = self.handles.get(handle)
        if h is None:
            return self._fail(errno.EBADF)
        return 1 if h.kind in ("stdin", "stdout", "stderr") else 0

    def _seek(self, mem: Memory, arg: int) -> int:
        handle, pos = self._words(mem, arg, 2)
        h = self.handles.get(handle)
        if h is None:
            return self._fail(errno.EBADF)
        if h.kind == "features":
            h.pos = pos
            return 0
        if h.file is None:
            return self._fail(errno.ESPIPE)
        h.file.seek(pos)
        return 0

    def _flen(self, mem: Memory, arg: int) -> int:
        (handle,) = self._words(mem, arg, 1)
        h = self.handles.get(handle)
        if h is None:
            return self._fail(errno.EBADF)
        if h.kind == "features":
            return len(FEATURES)
        if h.file is None:
            return 0
        return os.fstat(h.file.fileno()).st_size

    def _tmpnam(self, mem: Memory, arg: int) -> int:
        ptr, ident, length = self._words(mem, arg, 3)
        self._tmp_counter += 1
        name = f"mcusim-tmp-{ident & 0xFF:03d}-{self._tmp_counter}".encode() + b"\0"
        if len(name) > length:
            return self._fail(errno.ENAMETOOLONG)
        mem.mem_write(ptr, name)
        return 0

    def _remove(self, mem: Memory, arg: int) -> int:
        ptr, length = self._words(mem, arg, 2)
        path = self._confine(mem.mem_read(ptr, length).decode("utf-8", "replace"))
        if path is None:
            return self._fail(errno.EACCES)
        try:
            path.unlink()
        except OSError as e:
            return self._fail(e.errno or errno.EIO)
        return 0

    def _rename(self, mem: Memory, arg: int) -> int:
        p1, l1, p2, l2 = self._words(mem, arg, 4)
        src = self._confine(mem.mem_read(p1, l1).decode("utf-8", "replace"))
        dst = self._confine(mem.mem_read(p2, l2).decode("utf-8", "replace"))
        if src is None or dst is None:
            return self._fail(errno.EACCES)
        try:
            src.rename(dst)
        except OSError as e:
            return self._fail(e.errno or errno.EIO)
        return 0

    def _clock(self, mem: Memory, arg: int) -> int:
        return self.now_cycles() * 100 // self.clock_hz

    def _time(self, mem: Memory, arg: int) -> int:
        return self.now_cycles() // self.clock_hz

    def _system(self, mem: Memory, arg: int) -> int:
        # Firmware never gets to run host commands.
        return self._fail(errno.EPERM)

    def _errno(self, mem: Memory, arg: int) -> int:
        return self.errno

    def _get_cmdline(self, mem: Memory, arg: int) -> int:
        ptr, length = self._words(mem, arg, 2)
        line = " ".join(self.argv).encode() + b"\0"
        if len(line) > length:
            raise UsageError(
                f"the program's command line ({len(line) - 1} bytes with its name) does not "
                f"fit the {length}-byte buffer its start-up code gives SYS_GET_CMDLINE; "
                "pass fewer or shorter arguments after --")
        mem.mem_write(ptr, line)
        mem.mem_write(arg + 4, (len(line) - 1).to_bytes(4, "little"))
        return 0

    def _heapinfo(self, mem: Memory, arg: int) -> int:
        # Zeros mean "unknown": crt0 keeps the SP from the vector table and the linker's heap,
        # as on a board under a debugger (OpenOCD answers the same).
        (block,) = self._words(mem, arg, 1)
        mem.mem_write(block, bytes(16))
        return 0

    def _exit(self, mem: Memory, arg: int) -> int:
        # On 32-bit targets r1 holds the reason itself; only ApplicationExit means success.
        self.exit = ProgramExit(0 if arg == ADP_STOPPED_APPLICATION_EXIT else 1, arg)
        return 0

    def _exit_extended(self, mem: Memory, arg: int) -> int:
        reason, subcode = self._words(mem, arg, 2)
        code = _s32(subcode) if reason == ADP_STOPPED_APPLICATION_EXIT else 1
        self.exit = ProgramExit(code, reason)
        return 0

    def _elapsed(self, mem: Memory, arg: int) -> int:
        mem.mem_write(arg, self.now_cycles().to_bytes(8, "little"))
        return 0

    def _tickfreq(self, mem: Memory, arg: int) -> int:
        return self.clock_hz

    _ops: ClassVar[dict[int, Callable[[Semihosting, Memory, int], int]]] = {
        SYS_OPEN: _open, SYS_CLOSE: _close, SYS_WRITEC: _writec, SYS_WRITE0: _write0,
        SYS_WRITE: _write, SYS_READ: _read, SYS_READC: _readc, SYS_ISERROR: _iserror,
        SYS_ISTTY: _istty, SYS_SEEK: _seek, SYS_FLEN: _flen, SYS_TMPNAM: _tmpnam,
        SYS_REMOVE: _remove, SYS_RENAME: _rename, SYS_CLOCK: _clock, SYS_TIME: _time,
        SYS_SYSTEM: _system, SYS_ERRNO: _errno, SYS_GET_CMDLINE: _get_cmdline,
        SYS_HEAPINFO: _heapinfo, SYS_EXIT: _exit, SYS_EXIT_EXTENDED: _exit_extended,
        SYS_ELAPSED: _elapsed, SYS_TICKFREQ: _tickfreq,
    }


def read_cstring(mem: Memory, addr: int, limit: int = 4096) -> bytes:
    """A NUL-terminated string from simulated memory (at most `limit` bytes)."""
    out = bytearray()
    while len(out) < limit:
        chunk = mem.mem_read(addr + len(out), 1)
        if chunk == b"\0":
            return bytes(out)
        out += chunk
    return bytes(out)


def _errno_of(e: OSError) -> int:
    """The errno a host error gives the program: its own; EBADF for a handle used against its
    mode (io.UnsupportedOperation has none); else EIO."""
    return e.errno or (errno.EBADF if isinstance(e, io.UnsupportedOperation) else errno.EIO)


def _u32(v: int) -> int:
    return v & 0xFFFFFFFF


def _s32(v: int) -> int:
    return v - (1 << 32) if v & 0x80000000 else v
