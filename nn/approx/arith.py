"""TFLite int8 arithmetic, vectorised over numpy arrays (int64 inside, int32 semantics).

Used by the host model of an approximate network; the same formulas as TFLite Micro's
`QuantizeMultiplier` and `MultiplyByQuantizedMultiplier` (and nn_kernels.h's `nn_requantize`).
"""

from __future__ import annotations

import math

import numpy as np

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1


def quantize_multiplier(real: float) -> tuple[int, int]:
    """TFLite QuantizeMultiplier: real = mult * 2**(shift - 31), mult in [2**30, 2**31)."""
    if real == 0.0:
        return 0, 0
    frac, shift = math.frexp(real)
    q = round_half_away(frac * (1 << 31))
    if q == 1 << 31:
        q //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    return q, shift


def round_half_away(v: float) -> int:
    """TfLiteRound / std::round: ties away from zero (Python's round() ties to even)."""
    return int(math.copysign(math.floor(abs(v) + 0.5), v))


def _wrap32(x: np.ndarray) -> np.ndarray:
    return (x + 2**31) % 2**32 - 2**31


def requantize(acc: np.ndarray, mult: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """MultiplyByQuantizedMultiplier, elementwise (mult/shift broadcast over the last axis)."""
    acc = np.asarray(acc, np.int64)
    mult = np.asarray(mult, np.int64)
    shift = np.asarray(shift, np.int64)
    left = np.maximum(shift, 0)
    right = np.maximum(-shift, 0)
    x = _wrap32(acc << left)
    ab = x * mult
    nudge = np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    s = ab + nudge
    high = np.where(s >= 0, s >> 31, -((-s) >> 31))  # C division truncates towards zero
    high = np.where((x == INT32_MIN) & (mult == INT32_MIN), INT32_MAX, high)
    mask = (np.int64(1) << right) - 1
    rem = high & mask
    threshold = (mask >> 1) + (high < 0)
    return (high >> right) + (rem > threshold)


def finish(acc: np.ndarray, mult, shift, out_offset: int, act_min: int, act_max: int
           ) -> np.ndarray:
    v = requantize(acc, mult, shift) + out_offset
    return np.clip(v, act_min, act_max).astype(np.int8)


def activation_range(activation: str, scale: float, zero_point: int) -> tuple[int, int]:
    """TFLite CalculateActivationRangeQuantized for int8."""
    lo, hi = -128, 127

    def q(v: float) -> int:
        return zero_point + round_half_away(v / scale)

    if activation == "RELU":
        return max(lo, q(0.0)), hi
    if activation == "RELU6":
        return max(lo, q(0.0)), min(hi, q(6.0))
    if activation == "RELU_N1_TO_1":
        return max(lo, q(-1.0)), min(hi, q(1.0))
    return lo, hi
