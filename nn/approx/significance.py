"""Significance of MAC positions, from calibration inputs (Armeniakos et al. 2024, sec. III).

For every output accumulator of a layer, the contribution of position k is
`|(x_k + input_offset) * W[oc, k]|`; its relative contribution is that over the sum of all
positions' magnitudes for the same accumulator (accumulators with no contribution at all are left
out). The significance of (oc, k) is the mean relative contribution over every output pixel of
every calibration input. On DSP cores one SMLAD multiplies a pair of positions (2j, 2j+1), so a
pair is the unit that can be skipped there: its significance is the sum of its two positions'.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mcusim.nn.approx.data import NPZ_ERRORS, open_npz
from mcusim.nn.approx.layers import MacLayer, mac_layers
from mcusim.nn.graph import Graph
from mcusim.nn.sim_api import InputError

PAIRINGS = ("natural", "by_mean")  # LayerSignificance.pairing


@dataclass
class LayerSignificance:
    op: int
    positions: np.ndarray  # float64 (OC, K): mean relative contribution of each position
    pairing: str = "natural"  # SMLAD pairs: "natural" or "by_mean" (see slots)

    def slots(self) -> np.ndarray:
        """The operand column order of the DSP kernels: slot s holds position slots()[s]
        (-1: a zero pad for odd K), and SMLAD pair j is slots (2j, 2j+1).

        "natural": the filter's own order, neighbours (2j, 2j+1) paired (as CMSIS-NN and
        Armeniakos et al.). "by_mean": positions sorted by their mean significance over the
        output channels, so a pair joins two positions of similar weight and skipping a weak
        pair rarely drops a strong position with it. `Study` picks one per layer from the
        calibration inputs."""
        k = self.positions.shape[1]
        if self.pairing == "by_mean":
            order = np.argsort(self.positions.mean(axis=0), kind="stable")
        else:
            order = np.arange(k)
        return np.append(order, -1) if k & 1 else order

    def _pairs(self, slots: np.ndarray) -> np.ndarray:
        padded = np.where(slots >= 0, self.positions[:, np.maximum(slots, 0)], 0.0)
        return padded.reshape(padded.shape[0], -1, 2).sum(axis=2)

    def units(self, granularity: int) -> np.ndarray:
        """(OC, units): significance of the skippable units (1: positions, 2: SMLAD pairs
        of slots, see `slots`)."""
        if granularity == 1:
            return self.positions
        return self._pairs(self.slots())


def layer_significance(layer: MacLayer, calib: np.ndarray, batch: int = 16) -> LayerSignificance:
    """Mean relative contribution of every (oc, k) over calibration inputs `calib` (the layer's
    int8 inputs, N first)."""
    total = np.zeros(layer.weights.shape)
    count = 0
    wabs = np.abs(layer.weights).astype(np.float64)  # (OC, K)
    for start in range(0, len(calib), batch):
        cols = np.abs(layer.patches(calib[start:start + batch])).astype(np.float64)
        cols = cols.reshape(-1, layer.positions)  # (R, K)
        sums = cols @ wabs.T  # (R, OC): sum of magnitudes per accumulator
        live = sums > 0
        inv = np.where(live, 1.0 / np.where(live, sums, 1.0), 0.0)
        # sum over accumulators r of cols[r, k] * wabs[oc, k] / sums[r, oc]
        total += (inv.T @ cols) * wabs
        count += cols.shape[0]
    return LayerSignificance(layer.op, total / max(count, 1))


def model_significance(graph: Graph, calib: np.ndarray, inputs_of) -> dict[int, LayerSignificance]:
    """Significance of every approximable layer. `inputs_of(op_index)` returns that operator's
    int8 inputs (N, ...) for the calibration set (from the exact host model)."""
    del calib
    return {i: layer_significance(layer, inputs_of(i)) for i, layer in mac_layers(graph).items()}


def save_significance(sig: dict[int, LayerSignificance], path: Path) -> None:
    """One .npz: an array `L<op>` of shape (OC, K) per layer."""
    np.savez_compressed(path, **{f"L{op:02d}": s.positions for op, s in sig.items()},
                        pairing=np.array([f"L{op:02d}:{s.pairing}" for op, s in sig.items()]))


def load_significance(path: Path, source: str | None = None) -> dict[int, LayerSignificance]:
    """The per-layer significance of an .npz `save_significance` wrote, every array checked
    (`source` names the file in messages)."""
    where = source or f"significance file {path}"
    expected = ("expected the .npz mcusim dse writes (significance.npz: one float array "
                "L<op> of shape (OC, K) per layer)")
    with open_npz(path, where, expected) as z:
        try:
            arrays = {k: z[k] for k in z.files}
        except NPZ_ERRORS:
            raise InputError(f"{where}: an array cannot be read (corrupt, or object "
                             f"data); {expected}") from None
    pairing: dict[str, str] = {}
    for v in arrays.pop("pairing", np.array([], str)).reshape(-1):
        name, _, kind = str(v).partition(":")
        if not re.fullmatch(r"L\d+", name) or kind not in PAIRINGS:
            raise InputError(f"{where}: 'pairing' entry {str(v)!r} is not L<op>:"
                             f"{'|'.join(PAIRINGS)}")
        pairing[name] = kind
    out = {}
    for k, a in arrays.items():
        if not re.fullmatch(r"L\d+", k):
            raise InputError(f"{where}: unknown array {k!r}; {expected}")
        if a.ndim != 2 or a.dtype.kind != "f" or not np.all(np.isfinite(a)) or np.any(a < 0):
            raise InputError(f"{where}: array {k!r} is {a.dtype} {a.shape}; expected finite "
                             "non-negative floats of shape (OC, K)")
        out[int(k[1:])] = LayerSignificance(int(k[1:]), a, pairing.get(k, "natural"))
    return out


def summary_json(sig: dict[int, LayerSignificance]) -> str:
    """A short per-layer summary (shape, how concentrated the significance is)."""
    out = {}
    for op, s in sig.items():
        flat = np.sort(s.positions.ravel())
        cum = np.cumsum(flat) / max(flat.sum(), 1e-300)
        out[f"L{op:02d}"] = {"shape": list(s.positions.shape),
                             "share_of_least_significant_half": float(cum[len(flat) // 2 - 1])}
    return json.dumps(out, indent=1)
