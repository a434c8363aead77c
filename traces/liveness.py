"""Live bytes: how much RAM a run truly needs at each moment, whatever its allocator did.

A byte is live at cycle t when its current value will still be read: each write to a byte starts
a value, live from the write's cycle up to (not including) the cycle of its LAST read before
the next write to that byte. A value never read is never live. A byte read before any write in
the trace holds a value written before the recording began, live from the trace's start cycle.
Within one cycle accesses take effect in array order, so a read sees the write before it in
the array even at the same cycle (such a value is live for zero cycles).

How it scales: a byte's history is independent of every other byte's, but one hot stack word
can see a large share of all accesses, so partitioning by address cannot bound the work of a
partition. The analysis therefore walks the trace in time chunks (a few million accesses),
expands each chunk to byte events, sorts them by (byte, time) and resolves each byte's values
with array operations, carrying two integers per touched byte (where its current value began,
and its last read so far) from chunk to chunk. Touched bytes are few (an MCU has kilobytes to
megabytes of RAM), so that state is small; the curve is accumulated as a difference array over
access positions (int32, 4 bytes per access). 100 million accesses need about 1.5 GB besides the
memory-mapped trace.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mcusim.traces.mtrace import WRITE, Trace

PAGE_BITS = 10  # touched bytes are tracked in 1 KiB pages: a dense state array per page
PAGE = 1 << PAGE_BITS
_INDEX_BITS = 27  # sort keys are (byte slot << 27) | access index within the chunk
DEFAULT_CHUNK = 1 << 21  # accesses per time chunk: ~0.5 GB of temporaries at 4 bytes per access


@dataclass(frozen=True)
class LiveCurve:
    """Live bytes as a step function of simulated time.

    `live[i]` bytes are live from `cycles[i]` until `cycles[i + 1]`; before `cycles[0]` none are,
    and the last step is back to 0. Only changes are listed. The peak is the first time the
    maximum is reached; `peak_pc` and `peak_index` name the write that raised the curve to it
    (None when the values live at the peak were all written before the trace began).
    """

    cycles: np.ndarray  # uint64, strictly increasing
    live: np.ndarray  # int64
    peak_bytes: int
    peak_cycle: int | None
    peak_pc: int | None
    peak_index: int | None
    start_cycle: int

    def at(self, cycle: int | Sequence[int] | np.ndarray) -> np.ndarray:
        """Live bytes at the given cycles (after all accesses of that cycle)."""
        c = np.atleast_1d(np.asarray(cycle, dtype=np.uint64))
        i = np.searchsorted(self.cycles, c, side="right")
        padded = np.concatenate([np.zeros(1, np.int64), self.live])
        return padded[i]


def live_bytes(trace: Trace, *, chunk: int = DEFAULT_CHUNK) -> LiveCurve:
    """The live-bytes curve of the trace's RAM accesses (all accesses if it names no regions)."""
    ram = [(int(r["base"]), int(r["base"]) + int(r["size"])) for r in trace.ram_regions]
    return live_bytes_arrays(trace.cycle, trace.address, trace.size, trace.kind, pc=trace.pc,
                             start_cycle=trace.start_cycle,
                             ranges=ram if trace.regions else None, chunk=chunk)


def live_bytes_arrays(cycle: Sequence[int] | np.ndarray, address: Sequence[int] | np.ndarray,
                      size: Sequence[int] | np.ndarray, kind: Sequence[int] | np.ndarray, *,
                      pc: Sequence[int] | np.ndarray | None = None,
                      start_cycle: int | None = None,
                      ranges: Sequence[tuple[int, int]] | None = None,
                      chunk: int = DEFAULT_CHUNK) -> LiveCurve:
    """The live-bytes curve of accesses given as arrays (time-ordered, as in a trace).

    `start_cycle` is when the trace began (default: the first access's cycle); `ranges`, a list
    of [start, end) address ranges, restricts the analysis to accesses starting in them.
    """
    cycle = np.asarray(cycle, dtype=np.uint64)
    address, size, kind = np.asarray(address), np.asarray(size), np.asarray(kind)
    n = len(cycle)
    if not len(address) == len(size) == len(kind) == n:
        raise ValueError("live_bytes: cycle, address, size and kind differ in length")
    if not 0 < chunk < 1 << _INDEX_BITS:
        raise ValueError(f"live_bytes: chunk must be in 1..{(1 << _INDEX_BITS) - 1}")
    if start_cycle is None:
        start_cycle = int(cycle[0]) if n else 0
    if n and start_cycle > int(cycle[0]):
        raise ValueError(f"live_bytes: start cycle {start_cycle} is after the first access")
    # Difference array over "positions": 0 is the trace start, p + 1 is access p.
    diff = np.zeros(n + 1, np.int32)
    pages = _touched_pages(address, size, ranges, chunk)
    begin = np.zeros(len(pages) * PAGE, np.int64)  # position where each byte's value began
    last_read = np.full(len(pages) * PAGE, -1, np.int64)  # its last read so far; -1: unread
    for lo in range(0, n, chunk):
        hi = min(n, lo + chunk)
        _resolve_chunk(lo, address[lo:hi], size[lo:hi], kind[lo:hi], ranges, pages,
                       begin, last_read, diff)
    read = last_read >= 0  # values still current at the end: live up to their last read
    diff += np.bincount(begin[read], minlength=n + 1).astype(np.int32)
    diff -= np.bincount(last_read[read], minlength=n + 1).astype(np.int32)
    del begin, last_read
    cycles, live = _curve(diff, cycle, start_cycle, chunk)
    return _with_peak(cycles, live, diff, cycle, pc, start_cycle)


def _in_ranges(address: np.ndarray, ranges: Sequence[tuple[int, int]] | None) -> np.ndarray:
    if ranges is None:
        return np.ones(len(address), bool)
    mask = np.zeros(len(address), bool)
    for start, end in ranges:
        mask |= (address >= start) & (address < end)
    return mask


def _touched_pages(address: np.ndarray, size: np.ndarray,
                   ranges: Sequence[tuple[int, int]] | None, chunk: int) -> np.ndarray:
    """Sorted page numbers holding any byte an access (in `ranges`) touches."""
    pages = np.zeros(0, np.int64)
    for lo in range(0, len(address), chunk):
        a = address[lo:lo + chunk].astype(np.int64)
        keep = _in_ranges(a, ranges)
        a = a[keep]
        last = a + size[lo:lo + chunk][keep] - 1  # an access may straddle a page boundary
        pages = np.union1d(pages, np.union1d(a >> PAGE_BITS, last >> PAGE_BITS))
    return pages


def _resolve_chunk(lo: int, address: np.ndarray, size: np.ndarray, kind: np.ndarray,
                   ranges: Sequence[tuple[int, int]] | None, pages: np.ndarray,
                   begin: np.ndarray, last_read: np.ndarray, diff: np.ndarray) -> None:
    """Close every value this chunk overwrites into `diff`; carry the still-open ones."""
    address = address.astype(np.int64)
    keep = np.flatnonzero(_in_ranges(address, ranges))
    if len(keep) == 0:
        return
    # One event per byte: (byte slot, access index) packed in one key, so a plain (fast,
    # unstable) sort orders events by byte and, per byte, by time.
    reps = size[keep].astype(np.int64)
    acc = np.repeat(keep, reps)
    offset = np.arange(len(acc), dtype=np.int64) - np.repeat(np.cumsum(reps) - reps, reps)
    byte = address[acc] + offset
    slot = np.searchsorted(pages, byte >> PAGE_BITS) * PAGE + (byte & (PAGE - 1))
    key = (slot << _INDEX_BITS) | acc
    del acc, offset, byte, slot
    key.sort()
    slot = key >> _INDEX_BITS
    acc = key & ((1 << _INDEX_BITS) - 1)
    del key
    pos = acc + (lo + 1)
    write = kind[acc] == WRITE
    m = len(slot)

    group_first = np.empty(m, bool)  # first event of its byte in this chunk
    group_first[0] = True
    np.not_equal(slot[1:], slot[:-1], out=group_first[1:])
    # A byte whose first event here is a write closes the value carried from earlier chunks.
    closing = slot[group_first & write]
    _emit(diff, begin[closing], last_read[closing], lo)

    # Segments: the runs of events seeing one value (from a write, or carried in).
    seg_first = np.flatnonzero(write | group_first)
    seg_slot = slot[seg_first]
    seg_begin = np.where(write[seg_first], pos[seg_first], begin[seg_slot])
    seg = np.cumsum(write | group_first) - 1
    reads = np.flatnonzero(~write)
    seg_last_read = np.full(len(seg_first), -1, np.int64)
    if len(reads):
        rseg = seg[reads]
        final = np.empty(len(reads), bool)  # events are time-ordered within a segment
        final[-1] = True
        np.not_equal(rseg[1:], rseg[:-1], out=final[:-1])
        seg_last_read[rseg[final]] = pos[reads[final]]
    # A segment is closed by the next write to its byte unless it is the byte's last here.
    seg_last_event = np.append(seg_first[1:] - 1, m - 1)
    open_ = np.append(group_first[1:], True)[seg_last_event]
    _emit(diff, seg_begin[~open_], seg_last_read[~open_], lo)
    begin[seg_slot[open_]] = seg_begin[open_]
    last_read[seg_slot[open_]] = seg_last_read[open_]


def _emit(diff: np.ndarray, starts: np.ndarray, ends: np.ndarray, lo: int) -> None:
    """Add the values live over [start, end) positions, skipping unread ones (end -1)."""
    read = ends >= 0
    _add(diff, starts[read], 1, lo + 1)
    _add(diff, ends[read], -1, lo + 1)


def _add(diff: np.ndarray, positions: np.ndarray, sign: int, lo: int) -> None:
    """diff[p] += sign for each p (repeats count). Most p are in this chunk, >= lo: bincount
    over the chunk is cheap there; earlier ones (values carried in) are few."""
    if len(positions) == 0:
        return
    recent = positions >= lo
    here = positions[recent] - lo
    if len(here):
        counts = np.bincount(here)
        diff[lo:lo + len(counts)] += (sign * counts).astype(np.int32)
    earlier, counts = np.unique(positions[~recent], return_counts=True)
    diff[earlier] += (sign * counts).astype(np.int32)


def _curve(diff: np.ndarray, cycle: np.ndarray, start_cycle: int,
           chunk: int) -> tuple[np.ndarray, np.ndarray]:
    """Change points of the running sum of `diff`, taken after the last position of each cycle."""
    n = len(cycle)
    out_c: list[np.ndarray] = []
    out_v: list[np.ndarray] = []
    total = 0  # running sum before this chunk
    previous = 0  # live value at the end of the last cycle seen
    for lo in range(0, n + 1, chunk):
        hi = min(n + 1, lo + chunk)
        values = total + np.cumsum(diff[lo:hi], dtype=np.int64)
        total = int(values[-1])
        # Cycle of each position: the trace start for position 0, else its access's cycle.
        cyc = cycle[max(lo - 1, 0):hi - 1]
        if lo == 0:
            cyc = np.concatenate([np.array([start_cycle], np.uint64), cyc])
        following = cycle[lo:hi]  # cycle of the next position; none after the last
        cycle_end = np.ones(hi - lo, bool)
        cycle_end[:len(following)] = cyc[:len(following)] != following
        c, v = cyc[cycle_end], values[cycle_end]
        changed = np.empty(len(v), bool)
        if len(v):
            changed[0] = v[0] != previous
            np.not_equal(v[1:], v[:-1], out=changed[1:])
            previous = int(v[-1])
        out_c.append(c[changed])
        out_v.append(v[changed])
    # Already uint64 / int64: no astype, which would copy the (possibly huge) result again.
    return np.concatenate(out_c), np.concatenate(out_v)


def _with_peak(cycles: np.ndarray, live: np.ndarray, diff: np.ndarray, cycle: np.ndarray,
               pc: Sequence[int] | np.ndarray | None, start_cycle: int) -> LiveCurve:
    if len(live) == 0 or int(live.max()) <= 0:
        return LiveCurve(cycles, live, 0, None, None, None, start_cycle)
    i = int(np.argmax(live))
    peak_cycle = int(cycles[i])
    # Positions at the peak's cycle; the last one that started live values raised the curve.
    lo = int(np.searchsorted(cycle, np.uint64(peak_cycle), side="left"))
    hi = int(np.searchsorted(cycle, np.uint64(peak_cycle), side="right"))
    rising = np.flatnonzero(diff[lo + 1:hi + 1] > 0)
    index = lo + int(rising[-1]) if len(rising) else None
    peak_pc = int(np.asarray(pc[index])) if index is not None and pc is not None else None
    return LiveCurve(cycles, live, int(live[i]), peak_cycle, peak_pc, index, start_cycle)
