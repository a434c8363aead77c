"""Simulation speed, measured in one process and one sitting so the ratios are fair on a
noisy machine.

    python bench/speed.py [ELF ...] [--board B] [--repeat N]

For each ELF (default: an int8 conv layer and a branchy integer program, each over 20 million
instructions) it runs bare Unicorn (no hooks but the semihosting interrupt hook), an empty
Python function as block hook (registered the usual way, `uc.hook_add`), and mcusim's
pure-Python path (accounting in batches, and block by block) and native path with the cycle
model, with and without profiling; and prints simulated MIPS and the ratios the issues set
targets for. Each configuration runs N times (default 3) and its fastest run counts; every
path must count the same cycles. Decoded blocks are cached per process, so one cold run of the
native path is shown apart and the others come after it."""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from unicorn import UC_HOOK_BLOCK

from mcusim.isa import decode
from mcusim.isa.timing import NaiveTiming, TimingModel
from mcusim.memory.board import load_board
from mcusim.sim import (
    Firmware,
    MemoryOptions,
    ProfileOptions,
    ProgramIO,
    RunOptions,
    Simulation,
    make_simulation,
)
from mcusim.sim.accounting import native_lib as native_path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ELFS = [ROOT / "kernels_c/build/nucleo-f446re/conv3x3_big.elf",
                ROOT / "kernels_c/build/nucleo-f446re/branchy.elf"]


def _simulation(elf: Path, board: str, timing: TimingModel | None = None,
                **options: object) -> Simulation:
    program = ProgramIO(fs_root=ROOT, stdout=io.BytesIO(), stderr=io.BytesIO())
    return make_simulation(Firmware.open(elf), load_board(board),
                           RunOptions(io=program, **options),  # type: ignore[arg-type]
                           timing=timing)


def _timed(make: Callable[[], Simulation], repeat: int = 1) -> tuple[float, int, int]:
    """The fastest of `repeat` runs (each on a new Simulation): the machine's noise only ever
    adds time."""
    best = None
    for _ in range(repeat):
        sim = make()
        start = time.perf_counter()
        result = sim.run()
        seconds = time.perf_counter() - start
        if result.stop != "exit":
            sys.exit(f"bench: {sim.firmware.path} did not exit cleanly: {result.fault}")
        if best is None or seconds < best[0]:
            best = (seconds, result.instructions, result.cycles)
    assert best is not None
    return best


def _bare(elf: Path, board: str) -> Simulation:
    # No timing model hooks either (no flash read path, no operand-timed hooks).
    sim = _simulation(elf, board, native=False, timing=NaiveTiming())
    sim.remove_block_hook()
    return sim


def _empty_hook(elf: Path, board: str) -> Simulation:
    sim = _simulation(elf, board, native=False, timing=NaiveTiming())
    sim.remove_block_hook()
    sim.uc.hook_add(UC_HOOK_BLOCK, lambda uc, address, size, data: None)
    return sim


def measure(elf: Path, board: str, repeat: int) -> dict[str, float]:
    seconds: dict[str, float] = {}
    # Decoded blocks are cached per process (as in a sweep that runs one ELF many times);
    # every timed run below comes after one untimed run, so all paths see the same cache.
    decode.forget_decoded()  # the per-process decode memos
    os.environ["MCUSIM_BLOCK_CACHE"] = "0"  # cold means cold: no persistent block cache either
    seconds["native path, cold decode"] = _timed(lambda: _simulation(elf, board))[0]
    configs: dict[str, Callable[[], Simulation]] = {
        "python path": lambda: _simulation(elf, board, native=False),
        "python path + profile": lambda: _simulation(elf, board, native=False,
                                                           profile=ProfileOptions()),
        "python path, per block": lambda: _simulation(elf, board, native=False, batched=False),
    }
    if native_path.load_library() is not None:
        configs |= {
            "native path": lambda: _simulation(elf, board, native=True),
            "native path + profile": lambda: _simulation(elf, board, native=True,
                                                           profile=ProfileOptions()),
            # As `mcusim trace`: every RAM access recorded (the live-bytes analysis is apart).
            "native path + trace": lambda: _simulation(
                elf, board, native=True,
                memory=MemoryOptions(record_accesses=True, live_analysis=False)),
        }
    configs |= {"bare unicorn": lambda: _bare(elf, board),
                "empty python block hook": lambda: _empty_hook(elf, board)}
    instructions = cycles = 0
    for name, make in configs.items():
        seconds[name], insns, counted = _timed(make, repeat)
        if name == "python path":
            instructions, cycles = insns, counted
        elif "path" in name and counted != cycles:
            sys.exit(f"bench: {name} counted {counted} cycles, the python path {cycles}")
    return {"instructions": instructions,
            **{name: instructions / s / 1e6 for name, s in seconds.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("elfs", nargs="*", type=Path, default=DEFAULT_ELFS)
    parser.add_argument("--board", default="nucleo-f446re")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of each configuration; the fastest counts (default 3)")
    args = parser.parse_args()
    if native_path.load_library() is None:
        print(f"native path unavailable: {native_path.load_error()}")
    for elf in args.elfs:
        m = measure(elf, args.board, args.repeat)
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
                  "(target >= 40% on the conv layer)")
            print(f"  native / python: {m['native path'] / m['python path']:.1f}x")
            print(f"  native profiling cost: "
                  f"{m['native path'] / m['native path + profile']:.2f}x (target <= 2x)")
            print(f"  native tracing every RAM access: {m['native path + trace']:.1f} MIPS "
                  "(target >= 10)")
        print(f"  python path: {m['python path']:.1f} MIPS (target >= 8)")


if __name__ == "__main__":
    main()
