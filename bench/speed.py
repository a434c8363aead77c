"""Simulation speed, measured in one process and one sitting so the ratios are fair on a
noisy machine.

    python bench/speed.py [ELF ...] [--board B]

For each ELF (default: an int8 conv layer and a branchy integer program, each over 20 million
instructions) it runs bare Unicorn (only the semihosting interrupt hook, no block hook), an
empty Python function as block hook (registered the usual way, `uc.hook_add`), and mcusim's
pure-Python path (accounting in batches, and block by block) and native path with the cycle
model, with and without profiling; and prints simulated MIPS and the ratios the issues set
targets for. Every path must count the same cycles.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

from unicorn import UC_HOOK_BLOCK

from mcusim.isa import classify
from mcusim.memory.board import load_board
from mcusim.sim import native_path
from mcusim.sim.engine import Simulation
from mcusim.sim.firmware import Firmware

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ELFS = [ROOT / "kernels_c/build/nucleo-f446re/conv3x3_big.elf",
                ROOT / "kernels_c/build/nucleo-f446re/branchy.elf"]


def _simulation(elf: Path, board: str, **kw: object) -> Simulation:
    return Simulation(Firmware.open(elf), load_board(board), stdout=io.BytesIO(),
                      stderr=io.BytesIO(), fs_root=ROOT, **kw)  # type: ignore[arg-type]


def _timed(sim: Simulation) -> tuple[float, int, int]:
    start = time.perf_counter()
    result = sim.run()
    if result.stop != "exit":
        sys.exit(f"bench: {sim.firmware.path} did not exit cleanly: {result.fault}")
    return time.perf_counter() - start, result.instructions, result.cycles


def measure(elf: Path, board: str) -> dict[str, float]:
    seconds: dict[str, float] = {}
    # Decoded blocks are cached per process (as in a sweep that runs one ELF many times);
    # every timed run below comes after one untimed run, so all paths see the same cache.
    classified = classify._classified  # noqa: SLF001 - the decode cache
    classified.cache_clear()
    seconds["native path, cold decode"] = _timed(_simulation(elf, board))[0]
    python_s, instructions, cycles = _timed(_simulation(elf, board, native=False))
    seconds["python path"] = python_s
    seconds["python path + profile"] = _timed(
        _simulation(elf, board, native=False, profile=True))[0]
    per_block_s, _, per_block_cycles = _timed(_simulation(elf, board, native=False,
                                                          batched=False))
    if per_block_cycles != cycles:
        sys.exit(f"bench: per-block accounting counted {per_block_cycles} cycles, "
                 f"batched {cycles}")
    seconds["python path, per block"] = per_block_s
    if native_path.load_library() is not None:
        native_s, _, native_cycles = _timed(_simulation(elf, board, native=True))
        if native_cycles != cycles:
            sys.exit(f"bench: native path counted {native_cycles} cycles, python {cycles}")
        seconds["native path"] = native_s
        seconds["native path + profile"] = _timed(
            _simulation(elf, board, native=True, profile=True))[0]
        # As `mcusim trace`: every RAM access recorded (the live-bytes analysis is separate).
        seconds["native path + trace"] = _timed(_simulation(
            elf, board, native=True, memory=True, record_accesses=True, live_analysis=False))[0]
    # Bare: no timing model hooks either (no flash read path, no operand-timed hooks).
    from mcusim.isa.timing import NaiveTiming

    bare = _simulation(elf, board, native=False, timing=NaiveTiming())
    bare.remove_block_hook()
    seconds["bare unicorn"] = _timed(bare)[0]
    empty = _simulation(elf, board, native=False)
    empty.remove_block_hook()
    empty.uc.hook_add(UC_HOOK_BLOCK, lambda uc, address, size, data: None)
    seconds["empty python block hook"] = _timed(empty)[0]
    return {"instructions": instructions,
            **{name: instructions / s / 1e6 for name, s in seconds.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("elfs", nargs="*", type=Path, default=DEFAULT_ELFS)
    parser.add_argument("--board", default="nucleo-f446re")
    args = parser.parse_args()
    if native_path.load_library() is None:
        print(f"native path unavailable: {native_path.load_error()}")
    for elf in args.elfs:
        m = measure(elf, args.board)
        print(f"{elf.name}: {m.pop('instructions'):,} instructions")
        for name, value in m.items():
            print(f"  {name:<26} {value:8.2f} simulated MIPS")
        print(f"  python model vs empty python block hook: "
              f"{m['empty python block hook'] / m['python path, per block']:.2f}x slower "
              f"per block (target <= 3x), {m['empty python block hook'] / m['python path']:.2f}x "
              "in batches")
        print(f"  python profiling cost: {m['python path'] / m['python path + profile']:.2f}x "
              "(target <= 2x)")
        if "native path" in m:
            print(f"  native / bare unicorn: {m['native path'] / m['bare unicorn']:.1%} "
                  "(target >= 25%)")
            print(f"  native / python: {m['native path'] / m['python path']:.1f}x")
            print(f"  native profiling cost: "
                  f"{m['native path'] / m['native path + profile']:.2f}x (target <= 2x)")
            print(f"  native tracing every RAM access: {m['native path + trace']:.1f} MIPS "
                  "(target >= 10)")
        print(f"  python path: {m['python path']:.1f} MIPS (target >= 8)")


if __name__ == "__main__":
    main()
