"""An approximate step's params (nn/schedule.py's Step.params): which MAC positions of the
layer are kept, as a bitmap in hex text, so that the schedule alone fixes the generated code
(nn/approx/codegen.py) and the build cache key."""

from __future__ import annotations

from typing import Any

import numpy as np


def encode_keep(keep: np.ndarray) -> str:
    """bool (OC, K) -> hex text (row-major bits, numpy packbits order)."""
    return np.packbits(keep.astype(bool).ravel()).tobytes().hex()


def decode_keep(text: str, shape: tuple[int, int]) -> np.ndarray:
    bits = np.unpackbits(np.frombuffer(bytes.fromhex(text), np.uint8))
    return bits[:shape[0] * shape[1]].reshape(shape).astype(bool)


def approx_params(keep: np.ndarray, granularity: int, level: dict[str, float],
                  slots: np.ndarray | None = None) -> dict[str, Any]:
    """A step's params: the kept positions, the unit, the level, and (DSP) the slot order."""
    d = {"keep": encode_keep(keep), "granularity": granularity, "level": level}
    if slots is not None:
        d["slots"] = [int(v) for v in slots]
    return d
