#!/usr/bin/env python3
"""The largest input resolution of VWW and MobileNetV2 that fits a 128 KiB board, per schedule.

    .venv/bin/python bench/pex_resolution.py [--board stm32f4-discovery] [--run]

Planned arenas at square input sizes 96, 112, ... (same weights and quantisation: both networks
end in a global pooling), against the board's RAM less the 8 KiB stack reserve; with --run, the
largest size that fits with Pex is built, run on the board and checked against the reference.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODELS = [ROOT.parent / "shared" / "models" / "vww_96_int8.tflite",
          ROOT / "nn" / "models" / "mobilenetv2_035_96.tflite"]


def main() -> int:
    from mcusim.nn.build import memory_sizes
    from mcusim.nn.pex.resolution import at_resolution, resolution_study
    from mcusim.nn.pex.schedule import make_schedule
    from mcusim.nn.run import STACK_RESERVE, run_model
    from mcusim.nn.tflite_import import load_model

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--board", default="stm32f4-discovery")
    ap.add_argument("--run", action="store_true")
    args = ap.parse_args()
    budget = memory_sizes(args.board)["RAM"] - STACK_RESERVE
    print(f"{args.board}: arena budget {budget:,} B (RAM less {STACK_RESERVE:,} B for the stack)")
    for path in MODELS:
        if not path.exists():
            continue
        g = load_model(path)
        rows = resolution_study(g, list(range(96, 209, 16)), budget)
        print(f"\n{g.name}: input  layers arena  Pex arena  bound    fits (layers / Pex)")
        for r in rows:
            print(f"  {r.size:3}x{r.size:<3} {r.layers_arena:12,} {r.pex_arena:10,} "
                  f"{r.bound:8,}   {'yes' if r.layers_fit else 'no ':3} / "
                  f"{'yes' if r.pex_fit else 'no'}")
        best_l = max((r.size for r in rows if r.layers_fit), default=None)
        best_p = max((r.size for r in rows if r.pex_fit), default=None)
        print(f"  largest that fits: layer by layer {best_l or 'none'}, Pex {best_p or 'none'}")
        if args.run and best_p:
            big = at_resolution(g, best_p, best_p)
            res = run_model(big, args.board, schedule=make_schedule(big, "pex"),
                            live_bytes=False)
            print(f"  ran {big.name} with Pex on {args.board}: arena {res.arena_bytes:,} B, "
                  f"peak RAM {res.peak_ram_bytes:,} B, {res.seconds * 1e3:.1f} ms, "
                  f"{res.reference}")
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
