"""The `.mtrace` format's constants, meta defaults and column checks, shared by its reader and
writer (traces/mtrace.py, which documents the format)."""

from __future__ import annotations

import copy
import json
from typing import Any

import numpy as np

FORMAT = "mcusim.mtrace"
VERSION = 1
READ = 0
WRITE = 1
SIZES = (1, 2, 4, 8)

# Name and dtype of each per-access member, in file order.
COLUMNS: tuple[tuple[str, np.dtype], ...] = (
    ("cycle", np.dtype(np.uint64)),
    ("address", np.dtype(np.uint32)),
    ("pc", np.dtype(np.uint32)),
    ("size", np.dtype(np.uint8)),
    ("kind", np.dtype(np.uint8)),
)

_CHECK_CHUNK = 1 << 23  # elements per validation step: bounds temporaries on huge traces


class TraceFormatError(ValueError):
    """The file is missing, is not an `.mtrace`, or has a version this reader does not know."""


def default_meta() -> dict[str, Any]:
    """Meta with every documented key, empty: what a writer fills in when the caller omits it."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "board": None,
        "elf": None,
        "clock_hz": None,
        "regions": [],
        "markers": [],
        "recording": {"window": None, "max_accesses": None, "truncated": False, "dropped": 0},
        "curves": {"stack": [], "heap": []},
        "static_ram_bytes": 0,
    }


def complete_meta(meta: dict[str, Any] | None) -> dict[str, Any]:
    """A deep copy of `meta` with missing documented keys defaulted and format/version set."""
    out = default_meta()
    for key, value in copy.deepcopy(meta or {}).items():
        if key in ("recording", "curves") and isinstance(value, dict):
            out[key].update(value)  # a partial sub-dict keeps the other defaults
        else:
            out[key] = value
    out["format"] = FORMAT
    out["version"] = VERSION
    return out


def _json_default(value: object) -> object:
    # The engine naturally hands over numpy scalars and arrays; JSON knows neither.
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"meta value {value!r} of type {type(value).__name__} is not JSON")


def meta_json(meta: dict[str, Any]) -> str:
    return json.dumps(meta, default=_json_default, sort_keys=True)


def column(values: object, dtype: np.dtype, name: str) -> np.ndarray:
    """`values` as a 1-D array of `dtype`, refusing values the dtype cannot hold (no wrapping)."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D sequence, got shape {arr.shape}")
    if arr.size == 0:
        return np.zeros(0, dtype)
    if arr.dtype.kind == "b":  # a boolean mask is a natural `kind` (True = write)
        return arr.astype(dtype)
    if arr.dtype.kind not in "ui":
        raise TypeError(f"{name}: expected integers, got {arr.dtype}")
    if arr.dtype.kind == "i" and int(arr.min()) < 0:
        raise ValueError(f"{name}: negative value {int(arr.min())}")
    if int(arr.max()) > np.iinfo(dtype).max:
        raise ValueError(f"{name}: value {int(arr.max())} does not fit in {dtype}")
    return arr.astype(dtype, copy=False)


def check_columns(cycle: np.ndarray, size: np.ndarray, kind: np.ndarray,
                   previous_cycle: int | None, error: type[Exception]) -> None:
    """Raise `error` unless cycles are non-decreasing and sizes and kinds are legal."""
    for lo in range(0, len(cycle), _CHECK_CHUNK):
        hi = min(lo + _CHECK_CHUNK, len(cycle))
        c = cycle[lo:hi]
        before = previous_cycle if lo == 0 else int(cycle[lo - 1])
        if (before is not None and c[0] < before) or bool(np.any(c[1:] < c[:-1])):
            raise error("cycle: accesses must be in time order (non-decreasing cycles)")
        s = size[lo:hi]
        if bool(np.any((s == 0) | (s > 8) | ((s & (s - 1)) != 0))):
            raise error("size: every access size must be 1, 2, 4 or 8 bytes")
        if bool(np.any(kind[lo:hi] > WRITE)):
            raise error("kind: every access kind must be 0 (read) or 1 (write)")
