"""Bit-exact numpy reference of TFLite Micro's int8 reference kernels, for the
nn kernel library in kernels_c/nn/ (see kernels_c/nn/include/nn_kernels.h).

Every function works on whole logical tensors (batch 1, NHWC, TFLite layouts);
the tests cut channel slices and strided buffers out of the results. The
requantisation is tests.int8_ref.requantize (TFLite MultiplyByQuantizedMultiplier).
The host-side parameter helpers (quantize_multiplier, add_params, softmax_params)
follow TFLite's Prepare code, so test parameters look like a converter's.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from tests.int8_ref import requantize

I64 = np.int64


def wrap32(x) -> np.ndarray:
    """int32 two's-complement wrap of int64 values (what the C code does on ARM)."""
    return (np.asarray(x, I64) + 2**31) % 2**32 - 2**31


def clamp8(x, lo: int = -128, hi: int = 127) -> np.ndarray:
    return np.clip(x, lo, hi).astype(np.int8)


# ---- host-side parameter helpers (TFLite quantization_util) ------------------------------


def quantize_multiplier(real: float) -> tuple[int, int]:
    """TFLite QuantizeMultiplier: (Q31 multiplier, exponent)."""
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    q_fixed = int(math.copysign(math.floor(abs(q) * (1 << 31) + 0.5), q))  # TfLiteRound
    if q_fixed == 1 << 31:
        q_fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    return q_fixed, shift


class AddQuant(NamedTuple):
    left_shift: int
    in1_mult: int
    in1_shift: int
    in2_mult: int
    in2_shift: int
    out_mult: int
    out_shift: int


def add_params(s1: float, s2: float, s_out: float) -> AddQuant:
    """TFLite PrepareGeneralSubOp / int8 ADD: left shift 20, twice the larger input scale."""
    left_shift = 20
    twice_max = 2 * max(s1, s2)
    m1, sh1 = quantize_multiplier(s1 / twice_max)
    m2, sh2 = quantize_multiplier(s2 / twice_max)
    mo, sho = quantize_multiplier(twice_max / ((1 << left_shift) * s_out))
    return AddQuant(left_shift, m1, sh1, m2, sh2, mo, sho)


def softmax_params(input_scale: float, beta: float = 1.0) -> tuple[int, int, int]:
    """TFLite int8 softmax Prepare: (input_multiplier, input_left_shift, diff_min)."""
    real = min(beta * input_scale * (1 << (31 - 5)), float(2**31 - 1))
    mult, left_shift = quantize_multiplier(real)
    radius = ((1 << 5) - 1) * (1 << (31 - 5)) / (1 << left_shift)
    return mult, left_shift, -int(math.floor(radius))


# ---- convolution-like ops ------------------------------------------------------------------


class Geometry(NamedTuple):
    """Window geometry shared by conv, depthwise and pools."""

    k_h: int
    k_w: int
    stride_h: int
    stride_w: int
    dilation_h: int
    dilation_w: int
    pad_top: int
    pad_left: int
    out_h: int
    out_w: int


def _taps(x: np.ndarray, g: Geometry, fill: int):
    """Yields (ky, kx, window (out_h, out_w, C), valid mask (out_h, out_w)) per tap."""
    h, w, c = x.shape
    span_h = (g.out_h - 1) * g.stride_h + (g.k_h - 1) * g.dilation_h + 1
    span_w = (g.out_w - 1) * g.stride_w + (g.k_w - 1) * g.dilation_w + 1
    rows = g.pad_top + max(h, span_h)
    cols = g.pad_left + max(w, span_w)
    xp = np.full((rows, cols, c), fill, I64)
    xp[g.pad_top : g.pad_top + h, g.pad_left : g.pad_left + w] = x
    valid = np.zeros((rows, cols), bool)
    valid[g.pad_top : g.pad_top + h, g.pad_left : g.pad_left + w] = True
    for ky in range(g.k_h):
        for kx in range(g.k_w):
            y0, x0 = ky * g.dilation_h, kx * g.dilation_w
            ys = slice(y0, y0 + (g.out_h - 1) * g.stride_h + 1, g.stride_h)
            xs = slice(x0, x0 + (g.out_w - 1) * g.stride_w + 1, g.stride_w)
            yield ky, kx, xp[ys, xs], valid[ys, xs]


def conv2d(x, w, bias, mult, shift, g: Geometry, in_off: int, out_off: int,
           act: tuple[int, int]) -> np.ndarray:
    """x (H,W,Ci) int8, w (Co,Kh,Kw,Ci) -> (Ho,Wo,Co) int8."""
    x = np.asarray(x, I64)
    w = np.asarray(w, I64)
    acc = np.zeros((g.out_h, g.out_w, w.shape[0]), I64)
    for ky, kx, win, _ in _taps(x + in_off, g, 0):
        acc += np.einsum("hwc,oc->hwo", win, w[:, ky, kx, :])
    acc += np.asarray(bias, I64)
    return clamp8(requantize(acc, mult, shift) + out_off, *act)


def depthwise(x, w, bias, mult, shift, g: Geometry, depth_mult: int, in_off: int,
              out_off: int, act: tuple[int, int]) -> np.ndarray:
    """x (H,W,Ci), w (Kh,Kw,Ci*dm) -> (Ho,Wo,Ci*dm); output channel oc reads oc // dm."""
    x = np.repeat(np.asarray(x, I64), depth_mult, axis=2)
    w = np.asarray(w, I64)
    acc = np.zeros((g.out_h, g.out_w, w.shape[2]), I64)
    for ky, kx, win, _ in _taps(x + in_off, g, 0):
        acc += win * w[ky, kx]
    acc += np.asarray(bias, I64)
    return clamp8(requantize(acc, mult, shift) + out_off, *act)


def avg_pool(x, g: Geometry, act: tuple[int, int]) -> np.ndarray:
    x = np.asarray(x, I64)
    total = np.zeros((g.out_h, g.out_w, x.shape[2]), I64)
    count = np.zeros((g.out_h, g.out_w, 1), I64)
    for _, _, win, valid in _taps(x, g, 0):
        total += win
        count += valid[..., None]
    half = count // 2
    q = np.where(total > 0, (total + half) // count, -((-total + half) // count))
    return clamp8(q, *act)


def max_pool(x, g: Geometry, act: tuple[int, int]) -> np.ndarray:
    x = np.asarray(x, I64)
    m = np.full((g.out_h, g.out_w, x.shape[2]), -128, I64)
    for _, _, win, valid in _taps(x, g, -1000):
        m = np.maximum(m, np.where(valid[..., None], win, -1000))
    return clamp8(m, *act)


def fully_connected(x, w, bias, mult, shift, in_off: int, out_off: int,
                    act: tuple[int, int]) -> np.ndarray:
    """x (B,N), w (O,N) -> (B,O); mult/shift per output (broadcast a scalar for per-tensor)."""
    acc = (np.asarray(x, I64) + in_off) @ np.asarray(w, I64).T + np.asarray(bias, I64)
    mult = np.broadcast_to(mult, acc.shape)
    shift = np.broadcast_to(shift, acc.shape)
    return clamp8(requantize(acc, mult, shift) + out_off, *act)


# ---- element-wise ops ------------------------------------------------------------------------


def add(x1, x2, q: AddQuant, off1: int, off2: int, out_off: int,
        act: tuple[int, int]) -> np.ndarray:
    s1 = requantize(wrap32((np.asarray(x1, I64) + off1) << q.left_shift), q.in1_mult, q.in1_shift)
    s2 = requantize(wrap32((np.asarray(x2, I64) + off2) << q.left_shift), q.in2_mult, q.in2_shift)
    return clamp8(requantize(wrap32(s1 + s2), q.out_mult, q.out_shift) + out_off, *act)


def pad(x, pads: tuple[int, int, int, int, int, int], value: int) -> np.ndarray:
    top, bottom, left, right, front, back = pads
    return np.pad(np.asarray(x, np.int8), ((top, bottom), (left, right), (front, back)),
                  constant_values=value)


def mean_multiplier(in_scale: float, out_scale: float, n: int) -> tuple[int, int]:
    """TFLite Micro's int8 MEAN Prepare: QuantizeMultiplier(in/out) adapted by 1/n."""
    mult, shift = quantize_multiplier(in_scale / out_scale)
    if n > 1:
        bits = math.ceil(math.log2(n))
        shift -= bits
        mult = int(math.floor(mult * (1 << bits) / n + 0.5))
    return mult, shift


def mean_hw(x, in_zp: int, out_zp: int, mult: int, shift: int, same_quant: bool) -> np.ndarray:
    """int8 MEAN over axes 1,2 (x (H,W,C) -> (C,)); mult/shift from mean_multiplier."""
    x = np.asarray(x, I64)
    n = x.shape[0] * x.shape[1]
    total = x.sum(axis=(0, 1))
    if same_quant:
        return (np.sign(total) * (np.abs(total) // n)).astype(np.int8)  # C division truncates
    return clamp8(requantize(total - in_zp * n, mult, shift) + out_zp)


def quantize(x, scale: float, zp: int) -> np.ndarray:
    q = np.asarray(x, np.float32) / np.float32(scale)
    r = np.where(q >= 0, np.floor(q + 0.5), np.ceil(q - 0.5))  # round half away from zero
    # floor(q + 0.5) in float64 is exact for float32 q, so this is roundf.
    return clamp8(np.clip(r, -2000, 2000).astype(I64) + zp)


def dequantize(q, scale: float, zp: int) -> np.ndarray:
    return (np.float32(scale) * (np.asarray(q, I64) - zp).astype(np.float32)).astype(np.float32)


def requantize_s8(q, in_zp: int, mult: int, shift: int, out_zp: int) -> np.ndarray:
    return clamp8(requantize(np.asarray(q, I64) - in_zp, mult, shift) + out_zp)


# ---- softmax (gemmlowp fixed point, as TFLite's int8 reference) ---------------------------


def _mul(a, b) -> np.ndarray:
    """SaturatingRoundingDoublingHighMul on int32 values held in int64."""
    a = np.asarray(a, I64)
    b = np.asarray(b, I64)
    ab = a * b
    s = ab + np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    q = np.where(s >= 0, s >> 31, -((-s) >> 31))
    return np.where((a == -(2**31)) & (b == -(2**31)), 2**31 - 1, q)


def _rdbpot(x, e) -> np.ndarray:
    x = np.asarray(x, I64)
    mask = (np.int64(1) << e) - 1
    return (x >> e) + ((x & mask) > ((mask >> 1) + (x < 0)))


def _mul_pow2(x, e: int) -> np.ndarray:
    hi = (1 << (31 - e)) - 1
    return np.where(x > hi, 2**31 - 1, np.where(x < -hi, -(2**31), wrap32(np.asarray(x, I64) << e)))


def _exp_on_negative_values(a) -> np.ndarray:
    a = np.asarray(a, I64)
    quarter = 1 << 24
    a_mod = (a & (quarter - 1)) - quarter
    remainder = a_mod - a
    x = wrap32((a_mod << 5) + (1 << 28))
    x2 = _mul(x, x)
    x3 = _mul(x2, x)
    x4_over_4 = _rdbpot(_mul(x2, x2), 2)
    poly = _rdbpot(wrap32(_mul(wrap32(x4_over_4 + x3), 715827883) + x2), 1)
    result = wrap32(1895147668 + _mul(1895147668, wrap32(x + poly)))
    factors = [1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242]
    for i, f in enumerate(factors):
        result = np.where(remainder & (1 << (24 + i)), _mul(result, f), result)
    return np.where(a == 0, 2**31 - 1, result)


def _one_over_one_plus_x(a: int) -> int:
    total = a + 2**31 - 1
    half_den = (total + 1) // 2  # total >= 0 here
    x = int(wrap32(1515870810 + _mul(half_den, -1010580540)))
    for _ in range(3):
        one_minus = int(wrap32((1 << 29) - _mul(half_den, x)))
        x = int(wrap32(x + _mul_pow2(_mul(x, one_minus), 2)))
    return int(_mul_pow2(np.int64(x), 1))


def softmax(x, mult: int, left_shift: int, diff_min: int) -> np.ndarray:
    """x (rows, n) int8 -> int8 (zero point -128, scale 1/256)."""
    x = np.atleast_2d(np.asarray(x, I64))
    out = np.empty(x.shape, np.int8)
    for r, row in enumerate(x):
        diff = row - row.max()
        ok = diff >= diff_min
        e = _exp_on_negative_values(_mul(diff * (1 << left_shift), mult))
        total = int(np.sum(np.where(ok, _rdbpot(e, 12), 0)))
        headroom = 32 - total.bit_length()
        shifted = _one_over_one_plus_x(int(wrap32((total << headroom) - 2**31)))
        v = _rdbpot(_mul(shifted, e), 12 - headroom + 23) - 128
        out[r] = np.where(ok, np.clip(v, -128, 127), -128)
    return out
