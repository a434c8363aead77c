"""Simulation speed, measured in one run so the ratios are fair on a noisy machine.

    python bench/speed.py [ELF ...] [--board B]

For each ELF it runs, one after the other in this process: bare Unicorn (only the semihosting
interrupt hook, no block hook), Unicorn with an empty Python block hook, and mcusim with the
naive and the table timing models, and the table model with profiling; and prints simulated
MIPS and the ratios.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

from unicorn import UC_HOOK_BLOCK

from mcusim.isa.timing import make_timing
from mcusim.memory.board import load_board
from mcusim.sim.engine import Simulation
from mcusim.sim.firmware import Firmware

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ELFS = [ROOT / "kernels_c/build/nucleo-f446re/branchy.elf",
                ROOT / "kernels_c/build/nucleo-f446re/conv3x3.elf"]


def _simulation(elf: Path, board: str, timing: str, profile: bool = False) -> Simulation:
    b = load_board(board)
    return Simulation(Firmware.open(elf), b, timing=make_timing(timing, b.core.name),
                      stdout=io.BytesIO(), stderr=io.BytesIO(), fs_root=ROOT, profile=profile)


def _timed(sim: Simulation) -> tuple[float, int]:
    start = time.perf_counter()
    result = sim.run()
    if result.stop != "exit":
        sys.exit(f"bench: {sim.firmware.path} did not exit cleanly: {result.fault}")
    return time.perf_counter() - start, result.instructions


def measure(elf: Path, board: str) -> dict[str, float]:
    # The instruction count comes from a counted run; the uncounted runs execute the same code.
    counted_seconds, instructions = _timed(_simulation(elf, board, "naive"))
    table_seconds, _ = _timed(_simulation(elf, board, "table"))
    profiled_seconds, _ = _timed(_simulation(elf, board, "table", profile=True))

    bare = _simulation(elf, board, "naive")
    bare.uc.hook_del(bare.block_hook)
    bare_seconds, _ = _timed(bare)

    empty = _simulation(elf, board, "naive")
    empty.uc.hook_del(empty.block_hook)
    empty.uc.hook_add(UC_HOOK_BLOCK, lambda uc, address, size, data: None)
    empty_seconds, _ = _timed(empty)

    mips = {name: instructions / s / 1e6 for name, s in (
        ("bare unicorn", bare_seconds), ("empty python block hook", empty_seconds),
        ("mcusim naive", counted_seconds), ("mcusim table", table_seconds),
        ("mcusim table + profile", profiled_seconds))}
    return {"instructions": instructions, **mips}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("elfs", nargs="*", type=Path, default=DEFAULT_ELFS)
    parser.add_argument("--board", default="nucleo-f446re")
    args = parser.parse_args()
    for elf in args.elfs:
        m = measure(elf, args.board)
        print(f"{elf.name}: {m.pop('instructions'):,} instructions")
        for name, value in m.items():
            print(f"  {name:<26} {value:8.2f} simulated MIPS")
        print(f"  table model cost vs empty python block hook: "
              f"{m['empty python block hook'] / m['mcusim table']:.2f}x (target <= 3x)")
        print(f"  table model vs bare unicorn: {m['mcusim table'] / m['bare unicorn']:.1%}")
        print(f"  profiling cost: {m['mcusim table'] / m['mcusim table + profile']:.2f}x "
              "the profile-off run (target <= 2x)")


if __name__ == "__main__":
    main()
