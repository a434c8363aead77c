#!/usr/bin/env python3
"""Partial execution (issue 11) on every model: layer by layer against Pex, from one run each.

    .venv/bin/python bench/pex.py [--board nucleo-l4r5zi] [--schedules pex,pex:4]

For each model: the layer-by-layer planned arena, the Pex arena, the bound of any channel split
(`peak_bound_bytes`), the measured peak RAM of both firmwares, cycles and the overhead in
percent, and whether both match the reference. MobileNetV2 is also run with Pex on
stm32f4-discovery (128 KiB SRAM), where its layer-by-layer schedule does not fit.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT.parent / "shared" / "models"
ALL = [MODELS / "vww_96_int8.tflite", MODELS / "pretrainedResnet_quant.tflite",
       MODELS / "kws_ref_model.tflite", MODELS / "ad01_int8.tflite",
       ROOT / "nn" / "models" / "mobilenetv2_035_96.tflite"]


def main() -> int:
    from mcusim.nn.pex.report import Comparison
    from mcusim.nn.pex.schedule import make_schedule
    from mcusim.nn.pex.search import peak_bound_bytes
    from mcusim.nn.run import DoesNotFitError, run_model
    from mcusim.nn.tflite_import import load_model

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--board", default="nucleo-l4r5zi")
    ap.add_argument("--schedules", default="pex", help="comma-separated Pex specs")
    ap.add_argument("--small-board", default="stm32f4-discovery")
    args = ap.parse_args()
    print(f"board {args.board}; arena and peak RAM in bytes; overhead = Pex cycles / layer "
          "cycles - 1")
    print(f"{'model':26} {'schedule':9} {'layers arena':>12} {'Pex arena':>10} {'bound':>7} "
          f"{'ratio':>6} {'vs bound':>8} {'layers RAM':>10} {'Pex RAM':>8} {'layer cycles':>13} "
          f"{'Pex cycles':>12} {'overhead':>8} {'in split ops':>12}  reference")
    for path in ALL:
        if not path.exists():
            continue
        g = load_model(path)
        bound = peak_bound_bytes(g)
        layers = run_model(g, args.board, live_bytes=False)
        for spec in args.schedules.split(","):
            pex = run_model(g, args.board, schedule=make_schedule(g, spec), live_bytes=False)
            over = 100.0 * (pex.cycles - layers.cycles) / layers.cycles
            split = Comparison(layers, pex, bound, []).split_overhead_cycles
            same = all((a == b).all() for a, b in zip(pex.outputs, layers.outputs, strict=True))
            print(f"{g.name[:26]:26} {spec:9} {layers.arena_bytes:12,} {pex.arena_bytes:10,} "
                  f"{bound:7,} {layers.arena_bytes / pex.arena_bytes:5.2f}x "
                  f"{100.0 * (pex.arena_bytes / bound - 1):7.1f}% {layers.peak_ram_bytes:10,} "
                  f"{pex.peak_ram_bytes:8,} {layers.cycles:13,} {pex.cycles:12,} "
                  f"{over:+7.2f}% {100.0 * split / layers.cycles:+11.2f}%  {pex.reference}, "
                  f"{'=' if same else '!='} layers")
            sys.stdout.flush()
    mbv2 = load_model(ALL[-1])
    try:
        run_model(mbv2, args.small_board, live_bytes=False)
        print(f"{mbv2.name} layer by layer fits {args.small_board}")
    except DoesNotFitError as e:
        print(f"layer by layer: {e}")
    for spec in args.schedules.split(","):
        r = run_model(mbv2, args.small_board, schedule=make_schedule(mbv2, spec),
                      live_bytes=False)
        print(f"{mbv2.name} {spec} on {args.small_board}: arena {r.arena_bytes:,} B, peak RAM "
              f"{r.peak_ram_bytes:,} B, {r.cycles:,} cycles = {r.seconds * 1e3:.1f} ms, "
              f"{r.reference}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
