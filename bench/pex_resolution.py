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
    from mcusim.nn.run import STACK_RESERVE, DoesNotFitError, run_model
    from mcusim.nn.tflite_import import load_model

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--board", default="stm32f4-discovery")
    ap.add_argument("--run", action="store_true")
    args = ap.parse_args()
    ram = memory_sizes(args.board)["RAM"]
    for path in MODELS:
        if not path.exists():
            continue
        g = load_model(path)
        # what the firmware keeps in RAM besides the arena (kernel code run from RAM, data)
        native = run_model(g, args.board, schedule=make_schedule(g, "pex"), live_bytes=False)
        other = native.static_ram_bytes - native.arena_bytes
        budget = ram - STACK_RESERVE - other
        print(f"\n{args.board}: arena budget {budget:,} B (RAM {ram:,} less {STACK_RESERVE:,} "
              f"for the stack and {other:,} of other static RAM)")
        rows = resolution_study(g, list(range(96, 209, 16)), budget)
        print(f"{g.name}: input  layers arena  Pex arena  bound  pex:4+patch:12   fits "
              "(layers / Pex / Pex+patch)")
        for r in rows:
            yes = ["yes" if f else "no" for f in (r.layers_fit, r.pex_fit, r.patch_fit)]
            print(f"  {r.size:3}x{r.size:<3} {r.layers_arena:12,} {r.pex_arena:10,} "
                  f"{r.bound:8,} {r.patch_arena:14,}   {' / '.join(yes)}")
        best_l = max((r.size for r in rows if r.layers_fit), default=None)
        best_p = max((r.size for r in rows if r.pex_fit), default=None)
        best_x = max((r.size for r in rows if r.patch_fit), default=None)
        print(f"  largest that fits: layer by layer {best_l or 'none'}, Pex {best_p or 'none'}, "
              f"Pex+patch {best_x or 'none'}")
        for spec, best in (("pex", best_p), ("pex:4+patch:12", best_x)):
            if not args.run or not best:
                continue
            big = at_resolution(g, best, best)
            try:
                res = run_model(big, args.board, schedule=make_schedule(big, spec),
                                live_bytes=False)
            except DoesNotFitError as e:
                print(f"  {spec}: {e}")
                continue
            print(f"  ran {big.name} with {spec} on {args.board}: arena {res.arena_bytes:,} B, "
                  f"peak RAM {res.peak_ram_bytes:,} B, {res.seconds * 1e3:.1f} ms, "
                  f"{res.reference}")
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
