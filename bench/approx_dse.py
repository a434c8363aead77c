"""Approximate kernels: the `mcusim dse` study on the bundled digits CNN, per board, and the
per-layer latency vs skip-level curve of MLPerf Tiny ResNet-8.

    .venv/bin/python bench/approx_dse.py [--json OUT] [--boards B1,B2] [--no-resnet]

For each board (default nucleo-f446re (M4), nucleo-f746zg (M7), nucleo-g071rb (M0+, portable
kernels)) it runs the design-space exploration of nn/models/digits_cnn_int8.tflite on its test
split (719 labelled images; accuracy = top-1 on the host model, latency = cycles of one simulated
inference), prints the exact model, the generated kernels with nothing skipped, and the fastest
configuration within 0 / 0.5 / 1 percentage points of top-1 loss, and writes the Pareto plots.
Measured candidates are cached under --out, so a rerun only re-reads them.

ResNet-8 (../shared/models, if present), on nucleo-f446re: each CONV_2D / FULLY_CONNECTED layer
alone at skip levels 0 .. 0.75: that layer's region cycles, and the top-1 agreement with the
exact model on 200 inputs. There is no CIFAR-10 data offline: the inputs are the digits test
images resized to 32x32 and repeated over the three channels, so only agreement is meaningful.

The JSON has, for the first board, `board`, `exact` (latency_cycles, accuracy) and `points`
(config, latency_cycles, accuracy, pareto), every board under `studies`, and `resnet8`.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT.parent))  # noqa: E402 - run from a checkout

from mcusim.nn.approx.cli import fastest_exact, summary_lines  # noqa: E402
from mcusim.nn.approx.config import ApproxConfig, LayerLevel  # noqa: E402
from mcusim.nn.approx.dse import DseOptions, run_dse  # noqa: E402
from mcusim.nn.approx.pareto import best_within, loss_pp, plot_fronts, reduction  # noqa: E402
from mcusim.nn.approx.study import EvalData, MeasureCache, Study, measure_latency  # noqa: E402

MODELS = ROOT / "nn" / "models"
DIGITS = MODELS / "digits_cnn_int8.tflite"
RESNET = ROOT.parent / "shared" / "models" / "pretrainedResnet_quant.tflite"
BOARDS = ["nucleo-f446re", "nucleo-f746zg", "nucleo-g071rb"]
RESNET_LEVELS = [0.0, 0.25, 0.5, 0.75]


def digits_study(board: str, out: Path, jobs: int) -> dict:
    d = np.load(MODELS / "digits_test.npz")
    calib = np.load(MODELS / "digits_calib.npz")["x"]
    t0 = time.time()
    study = Study(DIGITS, board, EvalData(d["x"], d["y"]), calib)
    exact, points = run_dse(study, DseOptions(jobs=jobs), out / f"cache-{board}.jsonl")
    seconds = time.time() - t0
    unrolled = next((p for p in points if p.source == "unrolled"), None)  # None: did not fit
    ref = fastest_exact(points)
    print(f"\n== {board}: {len(points)} candidates in {seconds:.0f} s ==")
    print(f"exact int8 model: {exact.latency_cycles:,} cycles, top-1 "
          f"{100 * exact.accuracy:.2f} %")
    for line in summary_lines(exact, unrolled, points):
        print(line)
    best = {}
    for budget in (0.0, 0.5, 1.0):
        p = best_within(points, exact, budget)
        best[str(budget)] = {"config": p.config, "latency_cycles": p.latency_cycles,
                             "accuracy": p.accuracy,
                             "reduction_vs_exact": reduction(p, exact),
                             "reduction_vs_unrolled": None if unrolled is None else
                             reduction(p, unrolled),
                             "reduction_vs_fastest_exact": reduction(p, ref),
                             "loss_pp": loss_pp(p, exact)}
    return {"board": board, "granularity": study.granularity, "seconds": seconds,
            "exact": {"latency_cycles": exact.latency_cycles, "accuracy": exact.accuracy,
                      "layer_cycles": exact.layer_cycles},
            "unrolled": None if unrolled is None else {
                "latency_cycles": unrolled.latency_cycles, "layer_cycles": unrolled.layer_cycles},
            "fastest_exact": {"config": ref.config, "latency_cycles": ref.latency_cycles},
            "best_within_pp": best,
            "points": [asdict(p) for p in points], "_exact": exact, "_points": points}


def resnet_curve(out: Path, jobs: int, board: str = "nucleo-f446re") -> dict:
    # Digits test images (16x16, int8 with zero point -128) -> 32x32 (nearest) x 3 channels,
    # already ResNet-8's input quantisation (scale 1, zero point -128).
    d = np.load(MODELS / "digits_test.npz")["x"][:200, :, :, 0].astype(np.int32) + 128
    x = np.repeat(np.repeat(d, 2, axis=1), 2, axis=2)
    x = np.repeat(x[..., None], 3, axis=3).clip(0, 255) - 128
    study = Study(RESNET, board, EvalData(x.astype(np.int8), None), x[:32].astype(np.int8))
    cache = MeasureCache(out / f"cache-resnet8-{board}.jsonl", study.identity())
    configs = [ApproxConfig({})] + [ApproxConfig({op: LayerLevel(skip=f)})
                                    for op in sorted(study.layers) for f in RESNET_LEVELS]
    todo = [c for c in configs if cache.get(c.key()) is None]
    print(f"\n== ResNet-8 on {board}: {len(configs)} runs ({len(todo)} to measure) ==")
    with cf.ProcessPoolExecutor(max_workers=jobs) as ex:
        futs = {ex.submit(measure_latency, str(RESNET), board,
                          study.schedule(c).to_json_dict(), [x[:1].astype(np.int8)]): c
                for c in todo}
        for fut in cf.as_completed(futs):
            cache.put(futs[fut].key(), fut.result())
    exact = cache.get(ApproxConfig({}).key())
    names = {s.op: s.name for s in study.schedule(ApproxConfig({}))}
    layers = []
    print(f"{'layer':22} {'MACs':>9} {'exact':>10} " +
          " ".join(f"{'skip ' + str(f):>17}" for f in RESNET_LEVELS))
    for op in sorted(study.layers):
        name = names[op]
        row = {"op": op, "name": name, "macs": study.layers[op].macs,
               "exact_cycles": exact["layer_cycles"][name], "levels": []}
        cells = []
        for f in RESNET_LEVELS:
            c = ApproxConfig({op: LayerLevel(skip=f)})
            m = cache.get(c.key())
            agree = study.accuracy(c)
            row["levels"].append({"skip": f, "layer_cycles": m["layer_cycles"][name],
                                  "latency_cycles": m["latency_cycles"], "agreement": agree})
            cells.append(f"{m['layer_cycles'][name]:>9,} {100 * agree:5.1f}%")
        layers.append(row)
        print(f"{name:22} {row['macs']:>9,} {row['exact_cycles']:>10,} " + " ".join(cells))
    return {"board": board, "inputs": "200 digits test images resized to 32x32x3 (no CIFAR-10 "
            "offline): top-1 agreement with the exact model", "exact_cycles":
            exact["latency_cycles"], "levels": RESNET_LEVELS, "layers": layers}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", type=Path)
    ap.add_argument("--boards", default=",".join(BOARDS))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", type=Path, default=Path("bench-approx-out"))
    ap.add_argument("--no-resnet", action="store_true")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    studies = [digits_study(b, args.out, args.jobs) for b in args.boards.split(",") if b]
    plot_fronts([(s["board"], s["_exact"], s["_points"]) for s in studies],
                args.out / "approx_dse.png")
    print(f"\nplot: {args.out / 'approx_dse.png'}")
    print(f"\n{'board':16} {'exact cycles':>13} {'unskipped gen.':>15} {'fastest exact':>14} "
          f"{'best <=0.5pp':>13} {'vs exact':>9} {'vs fastest exact':>17} {'loss pp':>8}")
    for s in studies:
        b = s["best_within_pp"]["0.5"]
        un = s["unrolled"]
        print(f"{s['board']:16} {s['exact']['latency_cycles']:>13,} "
              f"{'does not fit' if un is None else format(un['latency_cycles'], ','):>15} "
              f"{s['fastest_exact']['latency_cycles']:>14,} "
              f"{b['latency_cycles']:>13,} {100 * b['reduction_vs_exact']:>8.1f}% "
              f"{100 * b['reduction_vs_fastest_exact']:>16.1f}% {b['loss_pp']:>8.2f}")
    resnet = None if args.no_resnet or not RESNET.is_file() else resnet_curve(args.out,
                                                                              args.jobs)
    for s in studies:
        s.pop("_exact")
        s.pop("_points")
    doc = {"board": studies[0]["board"], "exact": studies[0]["exact"],
           "points": studies[0]["points"], "studies": studies, "resnet8": resnet}
    if args.json:
        args.json.write_text(json.dumps(doc, indent=1) + "\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
