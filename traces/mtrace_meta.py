"""Checks of a .mtrace file's metadata record, so that a hand-edited or damaged file is refused
with the field that is wrong (exit 65) instead of failing somewhere in `mcusim view`. Every
field is optional; a field that is present must have its documented type (traces/mtrace.py)."""

from __future__ import annotations

from typing import Any


class MetaError(ValueError):
    """A metadata field has the wrong type; the message names it."""


def _int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _number(v: Any) -> bool:
    return (_int(v) or isinstance(v, float)) and v == v


def _require(ok: bool, field: str, expected: str) -> None:
    if not ok:
        raise MetaError(f"metadata field '{field}' should be {expected}")


def check_meta(meta: dict[str, Any]) -> None:
    for key in ("elf", "board"):
        _require(meta.get(key) is None or isinstance(meta[key], str), key, "text")
    hz = meta.get("clock_hz")
    _require(hz is None or (_number(hz) and hz > 0), "clock_hz", "a positive number")
    for key in ("static_ram_bytes", "total_cycles"):
        v = meta.get(key)
        _require(v is None or (_int(v) and v >= 0), key, "a whole number >= 0")
    regions = meta.get("regions")
    _require(regions is None or isinstance(regions, list), "regions", "a list")
    for i, r in enumerate(regions or []):
        where = f"regions[{i}]"
        _require(isinstance(r, dict), where, "a table")
        _require(isinstance(r.get("name"), str), f"{where}.name", "text")
        for key in ("base", "size"):
            _require(_int(r.get(key)) and r[key] >= 0, f"{where}.{key}", "a whole number >= 0")
    markers = meta.get("markers")
    _require(markers is None or isinstance(markers, list), "markers", "a list")
    for i, m in enumerate(markers or []):
        where = f"markers[{i}]"
        _require(isinstance(m, dict) and isinstance(m.get("name"), str), f"{where}.name", "text")
        _require(isinstance(m.get("begin"), bool), f"{where}.begin", "true or false")
        _require(_int(m.get("cycle")), f"{where}.cycle", "a whole number")
    curves = meta.get("curves")
    _require(curves is None or isinstance(curves, dict), "curves", "a table")
    for name, points in (curves or {}).items():
        _require(isinstance(points, list) and all(
            isinstance(p, list) and len(p) == 2 and all(_number(x) for x in p) for p in points),
            f"curves.{name}", "a list of [cycle, bytes] pairs")
    rec = meta.get("recording")
    _require(rec is None or isinstance(rec, dict), "recording", "a table")
    window = (rec or {}).get("window")
    _require(window is None or (isinstance(window, list) and len(window) == 2 and all(
        w is None or _int(w) for w in window)), "recording.window", "[start, end] in cycles")
