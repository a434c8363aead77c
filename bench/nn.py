"""Benchmark of the model path: the four MLPerf Tiny models on four boards.

    .venv/bin/python bench/nn.py [--json OUT] [--models DIR] [--boards a,b]

Prints, per model and board, latency (simulated, at the board clock), planned arena, measured
peak RAM, flash and the reference verdict (or the "does not fit" message); cycles per MAC per
layer type; ResNet-8 on nucleo-l4r5zi at 120 MHz against the published figures; and the
start-to-finish time of `mcusim nn` on KWS with a cached build (host seconds, one run each).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mcusim.nn.run import DoesNotFitError, run_model  # noqa: E402
from mcusim.nn.tflite_import import load_model  # noqa: E402

MODELS = {"resnet8": "pretrainedResnet_quant.tflite", "ds-cnn": "kws_ref_model.tflite",
          "mobilenet-vww": "vww_96_int8.tflite", "autoencoder": "ad01_int8.tflite"}
BOARDS = ["nucleo-f446re", "nucleo-l4r5zi", "nucleo-f746zg", "nucleo-g071rb"]
# MLPerf Tiny results on NUCLEO-L4R5ZI (ms): TFLite Micro + optimised kernels (v0.5), vendor
# code generator (v1.1 and v1.3); ../shared/models/README.md.
PUBLISHED_MS = {"resnet8": (704, 214, 166), "ds-cnn": (182, 62.9, 43.4),
                "mobilenet-vww": (601, 119, 89.4), "autoencoder": (10.1, 6.86, 4.79)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", type=Path, default=ROOT.parent / "shared" / "models")
    ap.add_argument("--boards", default=",".join(BOARDS))
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    boards = [b for b in args.boards.split(",") if b]
    rows, per_type = [], defaultdict(lambda: defaultdict(lambda: [0, 0]))
    print(f"{'model':14} {'board':14} {'latency ms':>11} {'Mcycles':>9} {'cyc/MAC':>8} "
          f"{'arena B':>8} {'peak RAM':>9} {'flash B':>8}  reference")
    for name, file in MODELS.items():
        graph = load_model(args.models / file)
        for board in boards:
            t0 = time.perf_counter()
            try:
                r = run_model(graph, board, live_bytes=False)
            except DoesNotFitError as e:
                print(f"{name:14} {board:14} {str(e)}")
                rows.append({"model": name, "board": board, "fits": False, "message": str(e)})
                continue
            host = time.perf_counter() - t0
            print(f"{name:14} {board:14} {r.seconds * 1e3:11.2f} {r.cycles / 1e6:9.2f} "
                  f"{r.cycles / r.macs:8.2f} {r.arena_bytes:8,} {r.peak_ram_bytes:9,} "
                  f"{r.flash_bytes:8,}  {r.reference}")
            rows.append({"model": name, "board": board, "fits": True, "cycles": r.cycles,
                         "ms": r.seconds * 1e3, "macs": r.macs, "arena_bytes": r.arena_bytes,
                         "peak_ram_bytes": r.peak_ram_bytes, "flash_bytes": r.flash_bytes,
                         "reference": r.reference, "kernel_code": r.kernel_code,
                         "host_seconds": round(host, 2)})
            for s in r.steps:
                if s.macs:
                    acc = per_type[r.core][_kind(graph, s)]
                    acc[0] += s.cycles
                    acc[1] += s.macs
    print("\ncycles per MAC per layer type (all models, summed per core):")
    for core, kinds in per_type.items():
        cells = ", ".join(f"{k} {c / m:.2f}" for k, (c, m) in sorted(kinds.items()))
        print(f"  {core:10} {cells}")
    resnet = next((x for x in rows if x["model"] == "resnet8" and x["board"] == "nucleo-l4r5zi"
                   and x["fits"]), None)
    if resnet and "nucleo-l4r5zi" in boards:
        flash = run_model(load_model(args.models / MODELS["resnet8"]), "nucleo-l4r5zi",
                          live_bytes=False, code_in_ram=False)
        resnet["ms_kernels_in_flash"] = flash.seconds * 1e3
        print(f"\nResNet-8 on nucleo-l4r5zi with the kernels' loops left in flash: "
              f"{flash.seconds * 1e3:.1f} ms ({flash.cycles / 1e6:.2f} Mcycles; in RAM, the "
              f"default there: {resnet['ms']:.1f} ms)")
    if resnet:
        tflm, gen11, gen13 = PUBLISHED_MS["resnet8"]
        print(f"\nResNet-8 on nucleo-l4r5zi at 120 MHz: {resnet['ms']:.1f} ms simulated "
              f"(target < 250 ms; published: TFLite Micro + optimised kernels {tflm} ms, "
              f"vendor code generator {gen13}-{gen11} ms); ratio to TFLM "
              f"{resnet['ms'] / tflm:.2f}, to the v1.3 generator {resnet['ms'] / gen13:.2f}")
    kws, cpu = _kws_start_to_finish(args.models / MODELS["ds-cnn"])
    load = os.getloadavg()[0]
    print(f"KWS start to finish, `mcusim nn` with a cached build: {kws:.2f} s wall, {cpu:.2f} s "
          f"CPU (target < 5 s; load average {load:.1f} on {os.cpu_count()} cores)")
    if args.json:
        args.json.write_text(json.dumps({"runs": rows, "cycles_per_mac": {
            core: {k: c / m for k, (c, m) in kinds.items()} for core, kinds in per_type.items()},
            "kws_start_to_finish_s": kws, "kws_start_to_finish_cpu_s": cpu}, indent=1) + "\n")
    return 0


def _kind(graph, step) -> str:
    """Layer type for the cycles-per-MAC summary; convolutions split by kernel size."""
    if step.op != "CONV_2D":
        return step.op
    w = graph.tensors[graph.operators[step.op_index].inputs[1]]
    return "CONV_2D 1x1" if w.shape[1] == w.shape[2] == 1 else "CONV_2D KxK"


def _kws_start_to_finish(model: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of `mcusim nn` on KWS with the build already in the cache."""
    cmd = [str(ROOT / ".venv" / "bin" / "mcusim"), "nn", str(model), "--board", "nucleo-l4r5zi"]
    for _ in range(3):  # a kernel source edited meanwhile means a rebuild: try again
        subprocess.run(cmd, capture_output=True)  # make sure the build is cached
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        if proc.returncode != 0:
            print(proc.stderr)
        if "cached" in proc.stdout:
            break
    return wall, cpu


if __name__ == "__main__":
    sys.exit(main())
