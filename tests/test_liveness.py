"""Live bytes: exact curves for small programs, a brute-force cross-check, and scale."""

from __future__ import annotations

import time

import numpy as np
import pytest

from mcusim.traces.liveness import live_bytes, live_bytes_arrays
from mcusim.traces.mtrace import Trace

BUF = 0x2000_0100
R, W = 0, 1


def _program(*accesses: tuple[int, int, int, int]) -> tuple[list[int], ...]:
    """(cycle, address, size, kind) tuples to columns."""
    return tuple(list(col) for col in zip(*accesses, strict=True))  # type: ignore[return-value]


def _buffer_program(read_second_half_after_overwrite: bool = False) -> tuple[list[int], ...]:
    acc = [(i, BUF + 4 * i, 4, W) for i in range(16)]  # fill 64 bytes, cycles 0..15
    acc += [(100 + i, BUF + 4 * i, 4, R) for i in range(8)]  # read the first half
    acc += [(200 + i, BUF + 4 * i, 4, W) for i in range(16)]  # overwrite the whole buffer
    if read_second_half_after_overwrite:
        acc += [(300 + i, BUF + 32 + 4 * i, 4, R) for i in range(8)]
    return _program(*acc)


def test_buffer_written_half_read_then_overwritten():
    cycle, address, size, kind = _buffer_program()
    pc = [0x0800_1000 + 2 * i for i in range(len(cycle))]
    curve = live_bytes_arrays(cycle, address, size, kind, pc=pc)
    # Words 0..7 are live from their write to their read; words 8..15 and the overwrite are
    # never read, so never live.
    assert curve.cycles.tolist() == [0, 1, 2, 3, 4, 5, 6, 7,
                                     100, 101, 102, 103, 104, 105, 106, 107]
    assert curve.live.tolist() == [4, 8, 12, 16, 20, 24, 28, 32,
                                   28, 24, 20, 16, 12, 8, 4, 0]
    assert curve.cycles.dtype == np.uint64 and curve.live.dtype == np.int64
    assert curve.peak_bytes == 32 and curve.peak_cycle == 7
    assert curve.peak_index == 7 and curve.peak_pc == 0x0800_1000 + 14
    assert curve.at([0, 6, 7, 50, 100, 107, 150, 10**6]).tolist() == [4, 28, 32, 32, 28, 0, 0, 0]


def test_overwritten_values_read_later_are_live_from_the_overwrite():
    curve = live_bytes_arrays(*_buffer_program(read_second_half_after_overwrite=True))
    # The first half as before; then words 8..15 of the overwrite (cycles 208..215) stay live
    # until their reads at 300..307.
    assert curve.cycles.tolist() == ([*range(0, 8)] + [*range(100, 108)] + [*range(208, 216)]
                                     + [*range(300, 308)])
    assert curve.live.tolist() == ([4 * i for i in range(1, 9)] + [28 - 4 * i for i in range(8)]
                                   + [4 * i for i in range(1, 9)] + [28 - 4 * i for i in range(8)])
    assert curve.peak_bytes == 32 and curve.peak_cycle == 7  # the first time the peak is reached


def test_unread_writes_are_never_live():
    cycle, address, size, kind = _program(*[(i, BUF + 4 * (i % 5), 4, W) for i in range(40)])
    curve = live_bytes_arrays(cycle, address, size, kind)
    assert curve.cycles.tolist() == [] and curve.live.tolist() == []
    assert curve.peak_bytes == 0 and curve.peak_cycle is None and curve.peak_pc is None
    # A read of other bytes does not make them live either.
    curve = live_bytes_arrays([0, 5], [BUF, BUF + 4], [4, 4], [W, R], start_cycle=0)
    assert curve.cycles.tolist() == [0, 5] and curve.live.tolist() == [4, 0]  # read-before-write


def test_overlapping_sizes_are_tracked_per_byte():
    cycle, address, size, kind = _program(
        (0, BUF, 8, W),      # bytes 0..7
        (1, BUF + 2, 2, W),  # bytes 2..3 overwritten before any read: their old value is dead
        (5, BUF, 4, R),      # reads 0..3: 0..1 from cycle 0, 2..3 from cycle 1
        (9, BUF + 7, 1, R),  # byte 7 from cycle 0; bytes 4..6 are never read
    )
    curve = live_bytes_arrays(cycle, address, size, kind, pc=[10, 11, 12, 13])
    assert curve.cycles.tolist() == [0, 1, 5, 9]
    assert curve.live.tolist() == [3, 5, 1, 0]
    assert (curve.peak_bytes, curve.peak_cycle, curve.peak_index, curve.peak_pc) == (5, 1, 1, 11)


def test_read_before_any_write_is_live_from_the_trace_start():
    cycle, address, size, kind = _program(
        (10, BUF, 4, R),   # initialised before recording: live from the start
        (12, BUF, 4, W),
        (20, BUF, 4, R),
        (25, BUF + 2, 2, R),  # the last read of the cycle-12 value ends it
    )
    curve = live_bytes_arrays(cycle, address, size, kind, start_cycle=0)
    assert curve.cycles.tolist() == [0, 10, 12, 20, 25]
    assert curve.live.tolist() == [4, 0, 4, 2, 0]
    assert curve.peak_cycle == 0 and curve.peak_index is None and curve.peak_pc is None
    # Without a start cycle the trace starts at its first access: a zero-length first value.
    curve = live_bytes_arrays(cycle, address, size, kind)
    assert curve.cycles.tolist() == [12, 20, 25] and curve.live.tolist() == [4, 2, 0]
    with pytest.raises(ValueError, match="after the first access"):
        live_bytes_arrays(cycle, address, size, kind, start_cycle=11)


def test_same_cycle_accesses_take_effect_in_array_order():
    cycle, address, size, kind = _program(
        (3, BUF, 4, W),
        (5, BUF, 4, R),  # reads the cycle-3 value: live 3..5
        (5, BUF, 4, W),
        (5, BUF, 4, R),  # reads the cycle-5 value at once: live for zero cycles
        (6, BUF + 4, 4, W),
        (6, BUF + 4, 4, R),
        (8, BUF + 4, 4, R),  # the cycle-6 value's last read
    )
    curve = live_bytes_arrays(cycle, address, size, kind)
    assert curve.cycles.tolist() == [3, 5, 6, 8]
    assert curve.live.tolist() == [4, 0, 4, 0]


def test_a_cycle_with_no_net_change_is_not_a_change_point():
    # At cycle 5 one word dies (its last read) and another is born: the curve stays flat.
    cycle, address, size, kind = _program(
        (0, BUF, 4, W), (5, BUF, 4, R), (5, BUF + 4, 4, W), (9, BUF + 4, 4, R))
    curve = live_bytes_arrays(cycle, address, size, kind)
    assert curve.cycles.tolist() == [0, 9] and curve.live.tolist() == [4, 0]


def _reference(cycle, address, size, kind, start):
    """Byte by byte, access by access: the definition, written as plainly as possible."""
    intervals = []
    values: dict[int, list] = {}  # byte -> [begin cycle, last read cycle or None]
    for c, a, s, k in zip(cycle, address, size, kind, strict=True):
        for b in range(a, a + s):
            if k == W:
                old = values.get(b)
                if old and old[1] is not None:
                    intervals.append(old)
                values[b] = [c, None]
            else:
                values.setdefault(b, [start, None])[1] = c
    intervals += [v for v in values.values() if v[1] is not None]
    points = sorted({p for iv in intervals for p in iv})
    cycles, live, previous = [], [], 0
    for p in points:
        n = sum(1 for b, e in intervals if b <= p < e)
        if n != previous:
            cycles.append(p)
            live.append(n)
            previous = n
    return cycles, live


@pytest.mark.parametrize("seed", range(6))
def test_matches_the_definition_on_random_traces_at_any_chunking(seed: int):
    rng = np.random.default_rng(seed)
    n = 600
    cycle = np.sort(rng.integers(3, 400, n)).astype(np.uint64)  # many same-cycle accesses
    size = rng.choice([1, 2, 4, 8], n).astype(np.uint8)
    # A small address range (crossing a 1 KiB page boundary) so accesses overlap a lot.
    address = (0x2000_03F0 + rng.integers(0, 48, n)).astype(np.uint32)
    kind = (rng.random(n) < 0.4).astype(np.uint8)
    expected = _reference(cycle.tolist(), address.tolist(), size.tolist(), kind.tolist(), 0)
    assert max(expected[1]) > 8  # the trace is not trivial
    for chunk in (1, 2, 7, 64, 1 << 21):
        curve = live_bytes_arrays(cycle, address, size, kind, start_cycle=0, chunk=chunk)
        assert (curve.cycles.tolist(), curve.live.tolist()) == expected, chunk
        assert curve.peak_bytes == max(expected[1])
        assert curve.peak_cycle == expected[0][expected[1].index(max(expected[1]))]


def test_trace_analysis_covers_ram_regions_only_and_starts_at_the_recording_window():
    meta = {"regions": [{"name": "flash", "base": 0x0800_0000, "size": 1 << 20, "kind": "flash"},
                        {"name": "sram", "base": 0x2000_0000, "size": 1 << 17, "kind": "sram"}],
            "recording": {"window": [50, None]}}
    trace = Trace.from_arrays(
        cycle=[60, 61, 70, 80, 90],
        address=[0x0800_0000, 0x2000_0000, 0x0800_0000, 0x2000_0000, 0x2000_0010],
        pc=[0x100, 0x104, 0x108, 0x10C, 0x110],
        size=[4, 4, 4, 4, 4],
        kind=[R, W, R, R, R],  # flash reads are not RAM; the last read is of pre-window data
        meta=meta)
    curve = live_bytes(trace)
    assert curve.start_cycle == 50
    assert curve.cycles.tolist() == [50, 61, 80, 90] and curve.live.tolist() == [4, 8, 4, 0]
    assert (curve.peak_bytes, curve.peak_cycle, curve.peak_pc) == (8, 61, 0x104)
    # With no regions every access counts: the flash word is read at 60 and 70, so it is live
    # from the trace start (now cycle 0) to 70.
    bare = live_bytes(Trace.from_arrays(trace.cycle, trace.address, trace.pc, trace.size,
                                        trace.kind))
    assert bare.cycles.tolist() == [0, 61, 70, 80, 90] and bare.live.tolist() == [8, 12, 8, 4, 0]


def test_windowed_trace_starts_its_values_at_the_window():
    cycle, address, size, kind = _buffer_program()
    trace = Trace.from_arrays(cycle, address, None, size, kind)
    curve = live_bytes(trace.window(50, 150))  # only the reads: all eight words pre-window
    assert curve.cycles.tolist() == [50] + list(range(100, 108))
    assert curve.live.tolist() == [32, 28, 24, 20, 16, 12, 8, 4, 0]


def test_five_million_accesses_in_seconds():
    rng = np.random.default_rng(7)
    n = 5_000_000
    # A program-like mix: a hot 256-byte stack frame and a 96 KiB array swept repeatedly.
    hot = rng.random(n) < 0.5
    k = np.cumsum(~hot) - 1  # the array accesses alternate a write sweep and a read sweep
    address = np.where(hot, 0x2001_FF00 + 4 * rng.integers(0, 64, n),
                       0x2000_0000 + 4 * (k % 24576)).astype(np.uint32)
    kind = np.where(hot, rng.random(n) < 0.5, (k // 24576) % 2 == 0)
    cycle = np.arange(n, dtype=np.uint64) * 2
    size = np.full(n, 4, np.uint8)
    t0 = time.perf_counter()
    curve = live_bytes_arrays(cycle, address, size, kind.astype(np.uint8))
    elapsed = time.perf_counter() - t0
    assert elapsed < 30, f"{elapsed:.1f} s"
    assert curve.live[-1] == 0 and np.all(curve.live >= 0)
    # Each written sweep of the array is read by the next sweep: the whole array is live then,
    # plus whatever part of the 256-byte frame is live; nothing else is touched.
    assert 96 * 1024 <= curve.peak_bytes <= 96 * 1024 + 256
