"""Approximate configurations: a per-layer skip fraction or threshold, turned into keep masks.

A configuration file (JSON or TOML) maps layers to a level:

    {"layers": {"2": {"skip": 0.3}, "5": {"threshold": 0.002}}}

Keys are operator indices (or region names like "L02_CONV_2D"). `skip` drops that fraction of
the layer's skippable units (positions, or SMLAD pairs on DSP cores), least significant first;
`threshold` drops every unit whose significance is below it. Layers not named stay exact. The
mask is a pure function of (significance, level, granularity), so the host model and the
generated C always agree on what is skipped.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from mcusim.nn.approx.significance import LayerSignificance
from mcusim.nn.sim_api import InputError


@dataclass(frozen=True)
class LayerLevel:
    skip: float | None = None  # fraction of units to drop, in [0, 1]
    threshold: float | None = None  # drop units with significance below this

    def to_json(self) -> dict[str, float]:
        return {"skip": self.skip} if self.skip is not None else {"threshold": self.threshold}


@dataclass(frozen=True)
class ApproxConfig:
    layers: dict[int, LayerLevel]

    def to_json_dict(self) -> dict:
        return {"layers": {str(op): lv.to_json() for op, lv in sorted(self.layers.items())}}

    def key(self) -> str:
        """Canonical text (cache keys, CSV)."""
        return json.dumps(self.to_json_dict()["layers"], sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_skips(cls, skips: dict[int, float]) -> ApproxConfig:
        return cls({op: LayerLevel(skip=float(f)) for op, f in skips.items() if f > 0})

    @classmethod
    def from_json_dict(cls, d: dict) -> ApproxConfig:
        if "layers" not in d:
            raise InputError("approximate config: no 'layers' table (e.g. "
                             '{"layers": {"2": {"skip": 0.3}}})')
        raw = d["layers"]
        if not isinstance(raw, dict):
            raise InputError("approximate config: 'layers' must map operator indices to "
                             "levels")
        layers = {}
        for key, val in raw.items():
            op = _op_index(str(key))
            if isinstance(val, int | float):
                val = {"skip": val}
            if not isinstance(val, dict) or len(val) != 1 or \
                    next(iter(val)) not in ("skip", "threshold"):
                raise InputError(f"approximate config: layer {key!r} must give exactly one of "
                                 "'skip' (fraction 0..1) or 'threshold'")
            kind, v = next(iter(val.items()))
            v = float(v)
            if kind == "skip" and not 0.0 <= v <= 1.0:
                raise InputError(f"approximate config: layer {key!r}: skip {v} is not in [0, 1]")
            layers[op] = LayerLevel(**{kind: v})
        return cls(layers)

    @classmethod
    def load(cls, path: Path) -> ApproxConfig:
        try:
            text = path.read_text()
        except OSError as e:
            raise InputError(f"cannot read approximate config {path}: {e.strerror}") from e
        try:
            d = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
        except (ValueError, tomllib.TOMLDecodeError) as e:
            raise InputError(f"approximate config {path} is not valid "
                             f"{'TOML' if path.suffix == '.toml' else 'JSON'}: {e}") from e
        return cls.from_json_dict(d)


def _op_index(key: str) -> int:
    s = key[1:3] if key.startswith("L") else key
    try:
        return int(s)
    except ValueError:
        raise InputError(f"approximate config: {key!r} is not an operator index or a region "
                         "name like L02_CONV_2D") from None


def unit_keep(sig: LayerSignificance, level: LayerLevel, granularity: int) -> np.ndarray:
    """bool (OC, units): which units the approximate kernel keeps."""
    units = sig.units(granularity)
    if level.threshold is not None:
        return units >= level.threshold
    n_skip = int(np.floor(level.skip * units.size + 1e-9))
    keep = np.ones(units.size, bool)
    order = np.argsort(units.ravel(), kind="stable")  # ties: lower index skipped first
    keep[order[:n_skip]] = False
    return keep.reshape(units.shape)


def position_mask(sig: LayerSignificance, level: LayerLevel, granularity: int) -> np.ndarray:
    """bool (OC, K): positions kept."""
    units = unit_keep(sig, level, granularity)
    if granularity == 1:
        return units
    slots = sig.slots()
    keep = np.zeros(sig.positions.shape, bool)
    per_slot = np.repeat(units, 2, axis=1)
    real = slots >= 0
    keep[:, slots[real]] = per_slot[:, real]
    return keep


def masked_weights(weights: np.ndarray, sig: LayerSignificance, level: LayerLevel | None,
                   granularity: int) -> np.ndarray:
    """The weights the approximate kernel multiplies by: skipped positions are zero."""
    if level is None:
        return weights
    return np.where(position_mask(sig, level, granularity), weights, 0).astype(weights.dtype)
