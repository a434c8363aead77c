"""The `.mtrace` memory-trace format: every recorded data access of a run, in time order.

A `.mtrace` file is an uncompressed NumPy `.npz` archive (what `np.savez` writes, so
`np.load(path)` reads it) holding six members:

=========  =======  ==============================================================
member     dtype    meaning (one element per recorded access, in execution order)
=========  =======  ==============================================================
cycle      uint64   simulated cycle of the access; non-decreasing
address    uint32   first byte accessed
pc         uint32   address of the instruction that made the access
size       uint8    bytes accessed: 1, 2, 4 or 8
kind       uint8    0 read, 1 write (`READ`, `WRITE`)
meta       0-d str  JSON object, below
=========  =======  ==============================================================

Accesses at the same cycle keep their execution order (array order). `meta` holds::

    {"format": "mcusim.mtrace", "version": 1,
     "board": str, "elf": str, "clock_hz": number,
     "regions": [{"name": str, "base": int, "size": int, "kind": str}, ...],
     "markers": [{"name": str, "begin": bool, "cycle": int}, ...],
     "recording": {"window": [start, end] | null, "max_accesses": int | null,
                   "truncated": bool, "dropped": int},
     "curves": {"stack": [[cycle, bytes], ...], "heap": [[cycle, bytes], ...]},
     "static_ram_bytes": int}

Region kinds are the board's (`flash`, `sram`, `ccm`, `dtcm`, `itcm`, `code_ram`); every kind
but `flash` is RAM. `curves` are step functions: each point gives the bytes in use from that
cycle on. A reader refuses a file whose `format` differs or whose `version` it does not know;
readers ignore meta keys they do not know, so adding keys does not need a new version.

Members are stored uncompressed so a reader can memory-map them: opening a 100-million-access
trace costs no time and no memory until the arrays are read.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import struct
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np

from mcusim.base.outputs import write_target
from mcusim.traces.mtrace_format import (
    COLUMNS,
    FORMAT,
    READ,
    SIZES,
    VERSION,
    WRITE,
    TraceFormatError,
    check_columns,
    column,
    complete_meta,
    default_meta,
    meta_json,
)
from mcusim.traces.mtrace_meta import MetaError, check_meta

_SPOOL_BYTES = 16 << 20  # a writer keeps this much per column in memory before spilling to disk

__all__ = ["COLUMNS", "FORMAT", "READ", "SIZES", "VERSION", "WRITE", "Trace", "TraceFormatError",
           "TraceWriter", "complete_meta", "default_meta"]


class TraceWriter:
    """Streams accesses into a `.mtrace` file; nothing appears at `path` until `close()`.

    Chunks go to per-column spool files (in memory up to 16 MiB each, then on disk next to the
    destination), so recording a long run neither copies quadratically nor holds the whole trace
    in memory. `meta` may be changed until `close()` (the stack curve, say, is only known at the
    end). As a context manager it closes on success and discards everything on an exception.
    """

    def __init__(self, path: str | os.PathLike[str], meta: dict[str, Any] | None = None):
        self.path = write_target(Path(path))  # (a symbolic link stays one: base/outputs.py)
        self.meta = complete_meta(meta)
        meta_json(self.meta)  # refuse non-JSON meta now, not after a long run
        self._count = 0
        self._last_cycle: int | None = None
        self._closed = False
        self._spools: dict[str, IO[bytes]] = {
            # Closed by close()/abort(); a with-block cannot span the writer's life.
            name: tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES,  # noqa: SIM115
                                                dir=self.path.parent or None)
            for name, _ in COLUMNS
        }

    def __len__(self) -> int:
        return self._count

    def append(self, cycle: Sequence[int] | np.ndarray, address: Sequence[int] | np.ndarray,
               pc: Sequence[int] | np.ndarray, size: Sequence[int] | np.ndarray,
               kind: Sequence[int] | np.ndarray) -> None:
        """Append a chunk of accesses, in execution order after everything appended before."""
        if self._closed:
            raise ValueError("TraceWriter is closed")
        cols = [column(v, dt, name) for v, (name, dt) in
                zip((cycle, address, pc, size, kind), COLUMNS, strict=True)]
        n = len(cols[0])
        if any(len(c) != n for c in cols):
            lengths = ", ".join(f"{name}={len(c)}" for c, (name, _) in zip(cols, COLUMNS,
                                                                             strict=True))
            raise ValueError(f"append: columns differ in length ({lengths})")
        if n == 0:
            return
        check_columns(cols[0], cols[3], cols[4], self._last_cycle, ValueError)
        for c, (name, _) in zip(cols, COLUMNS, strict=True):
            self._spools[name].write(np.ascontiguousarray(c).data)
        self._count += n
        self._last_cycle = int(cols[0][-1])

    def close(self) -> None:
        """Write the file: to a temporary name in the same directory, then renamed into place."""
        if self._closed:
            return
        text = meta_json(self.meta)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp",
                                   dir=self.path.parent or None)
        os.close(fd)
        # mkstemp's file is private (0600); the trace gets the permissions any new file would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        try:
            with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
                for name, dtype in COLUMNS:
                    with zf.open(name + ".npy", "w", force_zip64=True) as out:
                        np.lib.format.write_array_header_1_0(out, {
                            "descr": np.lib.format.dtype_to_descr(dtype),
                            "fortran_order": False,
                            "shape": (self._count,),
                        })
                        spool = self._spools[name]
                        spool.seek(0)
                        shutil.copyfileobj(spool, out, 1 << 20)
                with zf.open("meta.npy", "w", force_zip64=True) as out:
                    np.lib.format.write_array(out, np.array(text), allow_pickle=False)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        finally:
            self._release()

    def abort(self) -> None:
        """Discard everything appended; no file is written."""
        self._release()

    def _release(self) -> None:
        self._closed = True
        for spool in self._spools.values():
            spool.close()

    def __enter__(self) -> TraceWriter:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def _open_member(path: Path, zf: zipfile.ZipFile, name: str, mmap: bool) -> np.ndarray:
    """One `.npy` member, memory-mapped when stored uncompressed (and `mmap`), else read."""
    try:
        info = zf.getinfo(name + ".npy")
    except KeyError:
        raise TraceFormatError(f"{path}: not an mcusim .mtrace file (no '{name}' array)") from None
    if mmap and info.compress_type == zipfile.ZIP_STORED:
        with open(path, "rb") as f:
            f.seek(info.header_offset)
            local = f.read(30)
            if len(local) < 30 or local[:4] != b"PK\x03\x04":
                raise TraceFormatError(f"{path}: corrupt archive member '{name}'")
            name_len, extra_len = struct.unpack("<HH", local[26:30])
            f.seek(info.header_offset + 30 + name_len + extra_len)
            version = np.lib.format.read_magic(f)
            reader = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                      else np.lib.format.read_array_header_2_0)
            shape, fortran, dtype = reader(f)
            offset = f.tell()
        if fortran or len(shape) != 1:
            raise TraceFormatError(f"{path}: '{name}' is not a 1-D array")
        if shape[0] == 0:
            return np.zeros(0, dtype)  # an empty file region cannot be mapped
        return np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape)
    with zf.open(info) as f:
        return np.lib.format.read_array(f, allow_pickle=False)


class Trace:
    """A recorded memory trace: per-access arrays (see the module docstring) and `meta`.

    `start_cycle` and `end_cycle` bound the simulated time the trace covers: the recording
    window when there is one (else cycle 0 to the last thing recorded); `window()` narrows them.
    Values read without an earlier write in the trace were written before `start_cycle`.
    """

    def __init__(self, cycle: np.ndarray, address: np.ndarray, pc: np.ndarray,
                 size: np.ndarray, kind: np.ndarray, meta: dict[str, Any],
                 path: Path | None = None, *, start_cycle: int | None = None,
                 end_cycle: int | None = None):
        self.cycle = cycle
        self.address = address
        self.pc = pc
        self.size = size
        self.kind = kind
        self.meta = meta
        self.path = path
        window = (meta.get("recording") or {}).get("window") or [None, None]
        if start_cycle is None:
            start_cycle = int(window[0]) if window[0] is not None else 0
        if end_cycle is None:
            ends = [start_cycle]
            if len(cycle):
                ends.append(int(cycle[-1]) + 1)
            if window[1] is not None:
                ends.append(int(window[1]))
            for curve in (meta.get("curves") or {}).values():
                ends.extend(int(c) for c, _ in curve[-1:])
            ends.extend(int(m["cycle"]) for m in meta.get("markers") or [])
            end_cycle = max(ends)
            # A recording window that reaches past the run's end (`trace --window` after the
            # program ended) covers the run only: nothing happened after it.
            total = meta.get("total_cycles")
            if isinstance(total, int) and window[1] is not None:
                start_cycle = min(start_cycle, total)
                end_cycle = max(start_cycle, min(end_cycle, total))
        self.start_cycle = start_cycle
        self.end_cycle = end_cycle

    @classmethod
    def from_arrays(cls, cycle: Sequence[int] | np.ndarray, address: Sequence[int] | np.ndarray,
                    pc: Sequence[int] | np.ndarray | None, size: Sequence[int] | np.ndarray,
                    kind: Sequence[int] | np.ndarray,
                    meta: dict[str, Any] | None = None) -> Trace:
        """An in-memory trace (checked as a writer would); `pc` None means all zeros."""
        if pc is None:
            pc = np.zeros(len(np.asarray(cycle)), np.uint32)
        cols = [column(v, dt, name) for v, (name, dt) in
                zip((cycle, address, pc, size, kind), COLUMNS, strict=True)]
        if len({len(c) for c in cols}) > 1:
            raise ValueError("from_arrays: columns differ in length")
        check_columns(cols[0], cols[3], cols[4], None, ValueError)
        return cls(*cols, complete_meta(meta))

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, mmap: bool = True) -> Trace:
        """Read a `.mtrace` file; its arrays are memory-mapped unless `mmap` is false."""
        path = Path(path)
        if not path.exists():
            raise TraceFormatError(f"{path}: no such trace file")
        try:
            zf = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as e:
            raise TraceFormatError(f"{path}: not an mcusim .mtrace file ({e})") from e
        with zf:
            try:
                with zf.open("meta.npy") as f:
                    text = np.lib.format.read_array(f, allow_pickle=False)
                meta = json.loads(str(text[()]))
            except KeyError:
                raise TraceFormatError(f"{path}: not an mcusim .mtrace file (no meta)") from None
            except (ValueError, OSError) as e:
                raise TraceFormatError(f"{path}: unreadable .mtrace meta ({e})") from e
            if not isinstance(meta, dict) or meta.get("format") != FORMAT:
                raise TraceFormatError(f"{path}: not an mcusim .mtrace file")
            if meta.get("version") != VERSION:
                raise TraceFormatError(f"{path}: .mtrace version {meta.get('version')!r} is not "
                                       f"supported (this mcusim reads version {VERSION})")
            try:
                check_meta(meta)
            except MetaError as e:
                raise TraceFormatError(f"{path}: {e}") from None
            cols = [_open_member(path, zf, name, mmap) for name, _ in COLUMNS]
        for col, (name, dtype) in zip(cols, COLUMNS, strict=True):
            if col.dtype != dtype or col.ndim != 1:
                raise TraceFormatError(f"{path}: '{name}' is {col.dtype}, expected {dtype}")
        if len({len(c) for c in cols}) > 1:
            raise TraceFormatError(f"{path}: the per-access arrays differ in length")
        check_columns(cols[0], cols[3], cols[4], None, TraceFormatError)
        return cls(*cols, meta, path)

    def __len__(self) -> int:
        return len(self.cycle)

    def __repr__(self) -> str:
        where = f" {self.path}" if self.path else ""
        return (f"<Trace{where}: {len(self)} accesses, "
                f"cycles {self.start_cycle}..{self.end_cycle}>")

    @property
    def regions(self) -> list[dict[str, Any]]:
        return list(self.meta.get("regions") or [])

    @property
    def ram_regions(self) -> list[dict[str, Any]]:
        """Regions that hold data the program writes: every kind but flash."""
        return [r for r in self.regions if r.get("kind") != "flash"]

    def region(self, name: str) -> dict[str, Any]:
        for r in self.regions:
            if r["name"] == name:
                return r
        known = ", ".join(r["name"] for r in self.regions) or "none"
        raise KeyError(f"no region named {name!r} in the trace (regions: {known})")

    def _subset(self, index: slice | np.ndarray, start: int, end: int) -> Trace:
        return Trace(self.cycle[index], self.address[index], self.pc[index], self.size[index],
                     self.kind[index], self.meta, self.path, start_cycle=start, end_cycle=end)

    def window(self, start_cycle: int, end_cycle: int) -> Trace:
        """The accesses with start_cycle <= cycle < end_cycle (views of the arrays, no copy).

        Curves are clipped to the window, so pictures of it show only the window; markers are
        kept whole (a region that began before the window still covers its start).
        """
        if end_cycle < start_cycle:
            raise ValueError(f"window: end {end_cycle} is before start {start_cycle}")
        lo, hi = np.searchsorted(self.cycle, np.array([start_cycle, end_cycle], np.uint64))
        sub = self._subset(slice(int(lo), int(hi)), start_cycle, end_cycle)
        sub.meta = _clip_meta(self.meta, start_cycle, end_cycle)
        return sub

    def in_region(self, name: str) -> Trace:
        """The accesses whose first byte lies in the named region (a copy of the arrays)."""
        r = self.region(name)
        base, size = int(r["base"]), int(r["size"])
        # Unsigned subtraction wraps addresses below the base to huge values: one comparison.
        offset = self.address - np.uint32(base & 0xFFFFFFFF)
        mask = offset < np.uint64(size)
        return self._subset(mask, self.start_cycle, self.end_cycle)


def _clip_curve(points: list[list[int]], start: int, end: int) -> list[list[int]]:
    """A step curve restricted to [start, end): its value at `start`, then its changes."""
    before = [p for p in points if p[0] <= start]
    out = [[start, before[-1][1]]] if before else []
    return out + [list(p) for p in points if start < p[0] < end]


def _clip_meta(meta: dict[str, Any], start: int, end: int) -> dict[str, Any]:
    out = copy.deepcopy(meta)
    curves = out.get("curves") or {}
    for key, points in curves.items():
        curves[key] = _clip_curve(points, start, end)
    return out
