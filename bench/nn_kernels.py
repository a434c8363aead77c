"""Cycles per MAC of the nn kernel library (kernels_c/nn/), measured by mcusim.

    .venv/bin/python bench/nn_kernels.py [--json OUT]

Builds kernels_c/build/<board>/nn_bench[_ram].elf (kernels_c/nn/tests/nn_bench.c; the _ram
build has -DNN_CODE_IN_RAM: the hot loops run from RAM) and runs each once:
- the layer types (3x3 conv 16x16x16 -> 16 pad 1, 3x3 depthwise 16x16x64, 1x1 conv
  16x16x64 -> 64, fully connected 256 -> 128) on mps2-an386 (Cortex-M4, zero wait states),
  nucleo-f446re and nucleo-l4r5zi (flash wait states and the ART; weights are const in flash);
- every convolution, ADD, the average pool and the FC of MLPerf Tiny ResNet-8 on
  nucleo-l4r5zi at its 120 MHz (kernel calls only: no softmax, no call glue of a model).
Numbers come from the region markers around every kernel call (the simulator is deterministic,
one run each). ADD and pooling rows count output elements instead of MACs.
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
from mcusim.sim import Firmware  # noqa: E402

KERNELS = ROOT / "kernels_c"
# (board, program): the flash boards also with the hot loops in RAM.
RUNS = [("mps2-an386", "nn_bench"), ("nucleo-f446re", "nn_bench"),
        ("nucleo-f446re", "nn_bench_ram"), ("nucleo-l4r5zi", "nn_bench"),
        ("nucleo-l4r5zi", "nn_bench_ram")]
TARGET_CONV3X3 = 2.8  # cycles/MAC on mps2-an386 (issue 10)
TARGET_RESNET8_MS = 250.0  # nucleo-l4r5zi at 120 MHz (issue 10), whole model
MACS_LINE = re.compile(rb"^(\S+) macs (\d+)$", re.MULTILINE)


def new_simulation(firmware: Firmware, board, stdout: io.BytesIO, argv: list[str]):
    """The one place this script builds a Simulation: make_simulation/RunOptions where the
    package has them (the struct layout), else the keyword constructor."""
    try:
        from mcusim import ProgramIO, RunOptions, make_simulation
    except ImportError:
        from mcusim.sim import Simulation

        return Simulation(firmware, board, stdout=stdout, argv=argv)
    io_opts = ProgramIO(argv=argv, fs_root=".", stdout=stdout, stderr=io.BytesIO(), stdin=None)
    return make_simulation(firmware, board, RunOptions(io=io_opts))


def run(board: str, prog: str, args: list[str]) -> list[dict]:
    elf = KERNELS / "build" / board / f"{prog}.elf"
    out = io.BytesIO()
    spec = load_board(board)
    result = new_simulation(Firmware.open(elf), spec, out, [elf.name, *args]).run()
    if result.exit_code != 0:
        raise SystemExit(f"{elf} on {board} failed: {result.stop} {result.fault}")
    macs = {m[1].decode(): int(m[2]) for m in MACS_LINE.finditer(out.getvalue())}
    code = "RAM" if prog.endswith("_ram") else "flash"
    return [{"board": board, "code": code, "layer": r.name, "macs": macs[r.name],
             "cycles": r.cycles, "cycles_per_mac": r.cycles / macs[r.name],
             "clock_hz": spec.clock_hz} for r in result.regions]


def print_rows(rows: list[dict]) -> None:
    print(f"{'board':15} {'code':5} {'layer':20} {'MACs/elems':>10} {'cycles':>10} {'per MAC':>8}")
    for r in rows:
        print(f"{r['board']:15} {r['code']:5} {r['layer']:20} {r['macs']:10d} {r['cycles']:10d} "
              f"{r['cycles_per_mac']:8.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the rows as JSON")
    opts = parser.parse_args()
    targets = sorted({f"build/{b}/{p}.elf" for b, p in RUNS})
    subprocess.run(["make", "-C", str(KERNELS), "-j2", "-s", "--no-print-directory", *targets],
                   check=True, stderr=subprocess.DEVNULL)
    rows = [r for b, p in RUNS for r in run(b, p, [])]
    print_rows(rows)
    conv = next(r for r in rows if r["board"] == "mps2-an386" and r["layer"].startswith("conv3x3"))
    verdict = "meets" if conv["cycles_per_mac"] <= TARGET_CONV3X3 else "MISSES"
    print(f"\n3x3 conv 16x16x16->16 pad 1 on mps2-an386: {conv['cycles_per_mac']:.2f} cycles/MAC "
          f"({verdict} the <= {TARGET_CONV3X3} target)\n")
    r8 = {code: run("nucleo-l4r5zi", prog, ["resnet8"])
          for code, prog in (("flash", "nn_bench"), ("RAM", "nn_bench_ram"))}
    print_rows(r8["flash"] + r8["RAM"])
    print()
    for code, layers in r8.items():
        macs = sum(r["macs"] for r in layers if not re.search("add|pool", r["layer"]))
        cycles = sum(r["cycles"] for r in layers)
        ms = cycles / layers[0]["clock_hz"] * 1e3
        print(f"ResNet-8 kernels on nucleo-l4r5zi, code in {code:5}: {cycles:9d} cycles = "
              f"{ms:6.1f} ms at 120 MHz ({macs} MACs, {cycles / macs:.2f} cycles/MAC overall; "
              f"target for the whole model: < {TARGET_RESNET8_MS:.0f} ms)")
    if opts.json:
        opts.json.write_text(json.dumps({"layers": rows, "resnet8": r8}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
