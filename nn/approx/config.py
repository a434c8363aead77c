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
import math
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

CONFIG_KEYS = ("layers", "significance", "study")  # study: mcusim dse's figures


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
    def from_json_dict(cls, d: object, source: str = "approximate config") -> ApproxConfig:
        """The config of a decoded file; `source` names it in messages (e.g. "--approx F")."""
        if not isinstance(d, dict):
            raise InputError(f"{source}: expected an object with a 'layers' table (e.g. "
                             f'{{"layers": {{"2": {{"skip": 0.3}}}}}}), got {type(d).__name__}')
        if "layers" not in d:
            raise InputError(f"{source}: no 'layers' table (e.g. "
                             '{"layers": {"2": {"skip": 0.3}}})')
        unknown = sorted(set(d) - set(CONFIG_KEYS))
        if unknown:
            raise InputError(f"{source}: unknown field(s) {', '.join(map(repr, unknown))} (a "
                             f"config has {', '.join(map(repr, CONFIG_KEYS))})")
        raw = d["layers"]
        if not isinstance(raw, dict):
            raise InputError(f"{source}: 'layers' must map operator indices to levels, got "
                             f"{type(raw).__name__}")
        layers: dict[int, LayerLevel] = {}
        for key, val in raw.items():
            op = _op_index(str(key), source)
            if op in layers:
                raise InputError(f"{source}: operator {op} is given twice ({key!r})")
            if _is_number(val):
                val = {"skip": val}
            if not isinstance(val, dict) or len(val) != 1 or \
                    next(iter(val)) not in ("skip", "threshold"):
                raise InputError(f"{source}: layer {key!r} must give exactly one of "
                                 "'skip' (fraction 0..1) or 'threshold'")
            kind, v = next(iter(val.items()))
            if not _is_number(v) or not math.isfinite(v):
                raise InputError(f"{source}: layer {key!r}: {kind} must be a number, got {v!r}")
            v = float(v)
            if kind == "skip" and not 0.0 <= v <= 1.0:
                raise InputError(f"{source}: layer {key!r}: skip {v} is not in [0, 1]")
            if kind == "threshold" and v < 0:
                raise InputError(f"{source}: layer {key!r}: threshold {v} is negative "
                                 "(significances are >= 0)")
            layers[op] = LayerLevel(**{kind: v})
        sig = d.get("significance")
        if sig is not None and (not isinstance(sig, str) or not sig):
            raise InputError(f"{source}: 'significance' must be a file name (the .npz mcusim "
                             f"dse writes), got {sig!r}")
        if not isinstance(d.get("study", {}), dict):
            raise InputError(f"{source}: 'study' must be an object (mcusim dse's figures)")
        return cls(layers)

    @classmethod
    def load(cls, path: Path) -> ApproxConfig:
        return load_config_file(path)[0]


def load_config_file(path: Path, source: str | None = None) -> tuple[ApproxConfig, str | None]:
    """A config file (JSON or TOML) and the significance file it names, if any."""
    source = source or f"approximate config {path}"
    try:
        text = path.read_text()
    except OSError as e:
        raise InputError(f"{source}: cannot read: {e.strerror}") from e
    except UnicodeDecodeError:
        raise InputError(f"{source}: not a text file (expected JSON or TOML)") from None
    toml = path.suffix == ".toml"
    try:
        d = tomllib.loads(text) if toml else json.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as e:
        raise InputError(f"{source} is not valid {'TOML' if toml else 'JSON'}: {e}") from e
    config = ApproxConfig.from_json_dict(d, source)
    return config, d.get("significance")


def _is_number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _op_index(key: str, source: str) -> int:
    s = key[1:3] if key.startswith("L") else key
    try:
        return int(s)
    except ValueError:
        raise InputError(f"{source}: {key!r} is not an operator index or a region "
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
