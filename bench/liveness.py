"""Live-bytes analysis at scale: time and peak memory on a large synthetic memory trace.

    python bench/liveness.py [--accesses 100000000] [--trace PATH] [--chunk N]

Writes a program-like trace (a hot stack frame, a large array swept by alternating write and
read passes, scattered byte and doubleword accesses) through `TraceWriter` in chunks, opens it
memory-mapped and runs `live_bytes`, printing wall time and memory: peak RSS (which counts the
mapped trace pages it touched) and the peak of NumPy allocations (tracemalloc: what the analysis
itself allocates).
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

from mcusim.traces.liveness import DEFAULT_CHUNK, live_bytes
from mcusim.traces.mtrace import Trace, TraceWriter

SRAM = 0x2000_0000
SRAM_SIZE = 128 << 10
ARRAY_WORDS = 24 << 10  # a 96 KiB tensor


def write_trace(path: Path, n: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    meta = {"board": "synthetic", "elf": "bench", "clock_hz": 168_000_000,
            "regions": [{"name": "sram", "base": SRAM, "size": SRAM_SIZE, "kind": "sram"}]}
    step = 1 << 22
    swept = 0  # array accesses so far: they sweep the array in write/read passes
    with TraceWriter(path, meta) as w:
        for lo in range(0, n, step):
            m = min(step, n - lo)
            which = rng.random(m)
            hot, sweep = which < 0.45, which >= 0.55
            k = swept + np.cumsum(sweep) - 1
            swept += int(sweep.sum())
            address = np.where(hot, SRAM + SRAM_SIZE - 512 + 4 * rng.integers(0, 128, m),
                               np.where(sweep, SRAM + 4 * (k % ARRAY_WORDS),
                                        SRAM + (96 << 10) + rng.integers(0, 16 << 10, m) // 8 * 8))
            size = np.where(hot | sweep, 4, rng.choice([1, 8], m))
            kind = np.where(sweep, (k // ARRAY_WORDS) % 2 == 0, rng.random(m) < 0.5)
            cycle = np.arange(lo, lo + m, dtype=np.uint64) * 3 // 2
            w.append(cycle, address, 0x0800_0000 + 2 * rng.integers(0, 4096, m), size, kind)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accesses", type=int, default=100_000_000)
    ap.add_argument("--trace", type=Path, help="keep the trace here (default: a temp file)")
    ap.add_argument("--chunk", type=int, default=DEFAULT_CHUNK)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.trace or Path(tmp) / "bench.mtrace"
        t0 = time.perf_counter()
        write_trace(path, args.accesses)
        print(f"wrote {args.accesses:,} accesses ({path.stat().st_size / 2**30:.2f} GiB) "
              f"in {time.perf_counter() - t0:.1f} s")
        trace = Trace.open(path)
        tracemalloc.start()
        t0 = time.perf_counter()
        curve = live_bytes(trace, chunk=args.chunk)
        elapsed = time.perf_counter() - t0
        _, peak_alloc = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux
    print(f"live_bytes: {elapsed:.1f} s ({args.accesses / elapsed / 1e6:.2f} M accesses/s), "
          f"{len(curve.cycles):,} change points")
    print(f"peak live {curve.peak_bytes:,} bytes at cycle {curve.peak_cycle}")
    print(f"memory: peak NumPy allocations {peak_alloc / 2**30:.2f} GiB, "
          f"peak RSS {rss:.2f} GiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
