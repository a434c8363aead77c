"""Cycles per MAC of the nn kernel library (kernels_c/nn/), measured by mcusim.

    .venv/bin/python bench/nn_kernels.py [--json OUT]

Builds kernels_c/build/<board>/nn_bench.elf (kernels_c/nn/tests/nn_bench.c) and runs it once
per board: the layer types (3x3 conv 16x16x16 -> 16 pad 1, 3x3 depthwise, 1x1 conv, fully
connected) on mps2-an386 (Cortex-M4, zero wait states), nucleo-f446re and nucleo-l4r5zi
(flash wait states, ART cache; weights are const in flash), and the convolutions and FC of
MLPerf Tiny ResNet-8 on nucleo-l4r5zi at its clock. Numbers come from the region markers
around every kernel call, one run each (the simulator is deterministic).
"""

from __future__ import annotations

import argparse
import io
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT.parent))  # noqa: E402 - run from a checkout

from mcusim.memory.board import load_board  # noqa: E402
from mcusim.sim import Firmware, Simulation  # noqa: E402

KERNELS = ROOT / "kernels_c"
BOARDS = ["mps2-an386", "nucleo-f446re", "nucleo-l4r5zi"]
TARGET_CONV3X3 = 2.8  # cycles/MAC on mps2-an386 (issue 10)
MACS_LINE = re.compile(rb"^(\S+) macs (\d+)$", re.MULTILINE)


def run(board: str, args: list[str]) -> list[dict]:
    elf = KERNELS / "build" / board / "nn_bench.elf"
    out = io.BytesIO()
    spec = load_board(board)
    sim = Simulation(Firmware.open(elf), spec, stdout=out, argv=[elf.name, *args])
    result = sim.run()
    if result.exit_code != 0:
        raise SystemExit(f"{elf} on {board} failed: {result.stop} {result.fault}")
    macs = {m[1].decode(): int(m[2]) for m in MACS_LINE.finditer(out.getvalue())}
    rows = []
    for region in result.regions:
        rows.append({"board": board, "layer": region.name, "macs": macs[region.name],
                     "cycles": region.cycles, "cycles_per_mac": region.cycles / macs[region.name],
                     "clock_hz": spec.clock_hz})
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the rows as JSON")
    opts = parser.parse_args()
    subprocess.run(["make", "-C", str(KERNELS), "-j2", "-s", "--no-print-directory",
                    *(f"build/{b}/nn_bench.elf" for b in BOARDS)], check=True)
    rows = [r for b in BOARDS for r in run(b, [])]
    r8 = run("nucleo-l4r5zi", ["resnet8"])
    print(f"{'board':15} {'layer':22} {'MACs':>9} {'cycles':>10} {'cycles/MAC':>10}")
    for r in rows + r8:
        print(f"{r['board']:15} {r['layer']:22} {r['macs']:9d} {r['cycles']:10d} "
              f"{r['cycles_per_mac']:10.2f}")
    conv = next(r for r in rows if r["board"] == "mps2-an386" and r["layer"].startswith("conv3x3"))
    verdict = "meets" if conv["cycles_per_mac"] <= TARGET_CONV3X3 else "MISSES"
    print(f"\n3x3 conv 16x16x16->16 on mps2-an386: {conv['cycles_per_mac']:.2f} cycles/MAC "
          f"({verdict} the {TARGET_CONV3X3} target)")
    macs = sum(r["macs"] for r in r8)
    cycles = sum(r["cycles"] for r in r8)
    clock = r8[0]["clock_hz"]
    print(f"ResNet-8 convolutions + FC on nucleo-l4r5zi: {macs} MACs, {cycles} cycles, "
          f"{cycles / macs:.2f} cycles/MAC, {cycles / clock * 1e3:.1f} ms at {clock / 1e6:.0f} MHz "
          f"(kernels only: no ADD, pooling, softmax or call overhead)")
    if opts.json:
        opts.json.write_text(json.dumps({"layers": rows, "resnet8": r8}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
