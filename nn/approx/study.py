"""The approximate-kernel study of one model on one board: significance, host accuracy of any
configuration, schedules for the simulator, and the measured-candidate cache.

`Study` holds what every candidate shares (graph, significance, host model on the evaluation
data); `Study.schedule(config)` is what the simulator runs; `Study.accuracy(config)` is what the
host says. Latency is measured by `measure_latency` (a module-level function, so a process pool
or a Dask worker can run it), which builds the firmware through the model path's build cache.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mcusim.nn.approx.codegen import KERNEL
from mcusim.nn.approx.config import ApproxConfig, LayerLevel, position_mask
from mcusim.nn.approx.hostmodel import HostModel, top1
from mcusim.nn.approx.layers import MacLayer, mac_layers
from mcusim.nn.approx.params import approx_params
from mcusim.nn.approx.significance import LayerSignificance, layer_significance
from mcusim.nn.graph import Graph
from mcusim.nn.schedule import Schedule, layer_schedule
from mcusim.nn.sim_api import InputError, load_board
from mcusim.nn.tflite_import import load_model

DSP_ARCHS = ("armv7e-m", "armv8-m.main")


def granularity_for(board: str) -> int:
    """2 (SMLAD pairs) on cores with the DSP extension, else 1 (single positions)."""
    return 2 if load_board(board).core.arch in DSP_ARCHS else 1


@dataclass
class EvalData:
    x: np.ndarray  # int8 (N, *input shape[1:])
    y: np.ndarray | None  # labels, or None: agreement with the exact model

    @classmethod
    def load(cls, path: Path, graph: Graph, what: str = "--data") -> EvalData:
        from mcusim.nn.approx.data import load_eval_arrays

        return cls(*load_eval_arrays(path, graph, what))


class Study:
    def __init__(self, model: Path, board: str, data: EvalData, calib: np.ndarray | None = None,
                 granularity: int | None = None, layers: list[int] | None = None):
        self.model = Path(model)
        self.board = board
        self.graph = load_model(str(model))
        self.granularity = granularity or granularity_for(board)
        self.layers: dict[int, MacLayer] = mac_layers(self.graph)
        if layers is not None:
            unknown = sorted(set(layers) - set(self.layers))
            if unknown:
                raise InputError(f"operators {unknown} are not CONV_2D / FULLY_CONNECTED "
                                 f"layers of {self.model.name} (those are {sorted(self.layers)})")
            self.layers = {i: self.layers[i] for i in layers}
        calib = data.x[:64] if calib is None else calib
        cal = HostModel(self.graph, calib, {}, self.granularity)
        self.significance: dict[int, LayerSignificance] = {
            i: layer_significance(layer, cal.inputs_of(i)) for i, layer in self.layers.items()}
        if self.granularity == 2:
            self._choose_pairings(HostModel(self.graph, calib, self.significance, 2))
        self.data = data
        self._accuracy: dict[str, float] = {}
        self.host = HostModel(self.graph, data.x, self.significance, self.granularity)
        self.exact_top1 = top1(self.host.outputs(ApproxConfig({})))
        self.metric = "top1" if data.y is not None else "agreement"

    def _choose_pairings(self, cal: HostModel) -> None:
        """Per layer, the SMLAD pairing whose skipping keeps the calibration outputs closest
        to the exact model's (top-1 agreement summed over 20 .. 60 % skipped; ties: natural)."""
        exact = top1(cal.outputs(ApproxConfig({})))
        for op, sig in self.significance.items():
            score = {}
            for pairing in ("natural", "by_mean"):
                sig.pairing = pairing
                score[pairing] = sum(
                    float(np.mean(top1(cal.outputs(ApproxConfig({op: LayerLevel(skip=f)})))
                                  == exact)) for f in (0.2, 0.3, 0.4, 0.5, 0.6))
            sig.pairing = "by_mean" if score["by_mean"] > score["natural"] else "natural"

    # ---- host side -----------------------------------------------------------------------

    def accuracy(self, config: ApproxConfig) -> float:
        key = config.key()
        if key not in self._accuracy:  # the search asks again for the points it walks
            pred = top1(self.host.outputs(config))
            ref = self.data.y if self.data.y is not None else self.exact_top1
            self._accuracy[key] = float(np.mean(pred == ref))
        return self._accuracy[key]

    def macs_kept(self, config: ApproxConfig) -> int:
        total = 0
        for i, layer in mac_layers(self.graph).items():
            w = layer.weights != 0
            lv = config.layers.get(i)
            if lv is not None:
                w &= position_mask(self.significance[i], lv, self.granularity)
            total += int(w.sum()) * layer.pixels
        return total

    # ---- simulator side --------------------------------------------------------------------

    def schedule(self, config: ApproxConfig) -> Schedule:
        """Layer-by-layer schedule; approximated layers run generated kernels."""
        sched = layer_schedule(self.graph)
        for step in sched:
            level = config.layers.get(step.op)
            if level is None:
                continue
            keep = position_mask(self.significance[step.op], level, self.granularity)
            step.kernel = KERNEL
            slots = self.significance[step.op].slots() if self.granularity == 2 else None
            step.params = approx_params(keep, self.granularity, level.to_json(), slots)
        sched.kind = "approx"
        return sched

    def identity(self) -> str:
        """What a measured latency depends on besides the config (cache validity): model,
        significance, board, unit, the kernel library's and the model path's sources."""
        from mcusim.nn.build import kernels_dir

        h = hashlib.sha256(self.model.read_bytes())
        kdir = kernels_dir()  # the exact kernels' code decides the exact latencies
        nn_py = Path(__file__).resolve().parent.parent  # and the model path's own code
        for f in sorted([*(kdir / "nn").rglob("*.[ch]"), kdir / "boards.mk",
                         *(kdir / "ld").glob("*.ld"), *nn_py.rglob("*.py")]):
            if "tests" not in f.parts:
                h.update(f.read_bytes())
        for i, s in sorted(self.significance.items()):
            h.update(f"{i}:".encode() + s.positions.tobytes())
        h.update(f"{self.board}:{self.granularity}".encode())
        return h.hexdigest()[:16]


def config_of(skips: Mapping[int, float | None]) -> ApproxConfig:
    """Layers with a skip fraction (0.0 included) run generated kernels; None: exact kernel."""
    return ApproxConfig({op: LayerLevel(skip=float(f)) for op, f in skips.items()
                         if f is not None})


# ---- latency on the simulator (runs in executor workers) -----------------------------------


def measure_latency(model: str, board: str, schedule: dict[str, Any],
                    inputs: list[np.ndarray] | None = None) -> dict[str, Any]:
    """Build (through the build cache) and simulate one schedule; cycles in total and per step.
    The latency is that of one inference on `inputs` (the first evaluation input)."""
    from mcusim.nn.run import DoesNotFitError, run_model

    try:
        result = run_model(model, board, schedule=Schedule.from_json_dict(schedule),
                           inputs=inputs, live_bytes=False)
    except DoesNotFitError as e:  # e.g. unrolled code larger than a small board's flash
        return {"error": str(e)}
    return {"latency_cycles": int(result.cycles),
            "layer_cycles": {s.name: int(s.cycles) for s in result.layers}}


class MeasureCache:
    """Measured candidates, one JSON object per line, so an interrupted study resumes."""

    def __init__(self, path: Path, identity: str):
        self.path = path
        self.identity = identity
        self.entries: dict[str, dict[str, Any]] = {}
        if path.is_file():
            for line in path.read_text().splitlines():
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue  # a line cut short by an interruption
                if rec.get("identity") == identity:
                    self.entries[rec["key"]] = rec["value"]

    def get(self, key: str) -> dict[str, Any] | None:
        return self.entries.get(key)

    def put(self, key: str, value: dict[str, Any]) -> None:
        self.entries[key] = value
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a") as f:
            f.write(json.dumps({"identity": self.identity, "key": key, "value": value}) + "\n")
