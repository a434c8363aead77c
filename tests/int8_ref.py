"""Bit-exact numpy reference for the int8 kernels in kernels_c/.

Semantics (see kernels_c/include/int8_kernels.h): batch 1, NHWC
activations, OHWI conv filters, 1HWC depthwise filters (multiplier 1),
[out][in] FC weights, int32 bias, input_offset added to every in-bounds
input (padding contributes 0), per-channel requantisation exactly as
CMSIS-NN arm_nn_requantize / TFLite MultiplyByQuantizedMultiplier, then
output_offset and the activation clamp.

For every kernel test program there is ``check_<prog>(read_symbol)``:
``read_symbol(name) -> bytes`` returns a global's bytes from target memory
after the run (length = the ELF symbol's size). It decodes the program's
exported ``<prog>_params``/``_input``/``_weights``/``_bias``/``_mult``/
``_shift``/``_output`` and returns ``(expected, actual)`` int8 arrays of
the same shape.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

ReadSymbol = Callable[[str], bytes]

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1


class ConvParams(NamedTuple):
    """Field order of int8_conv_params_t (16 x int32); keep in sync."""

    in_h: int
    in_w: int
    in_c: int
    out_h: int
    out_w: int
    out_c: int
    k_h: int
    k_w: int
    stride_h: int
    stride_w: int
    pad_h: int
    pad_w: int
    input_offset: int
    output_offset: int
    act_min: int
    act_max: int


class FcParams(NamedTuple):
    """Field order of int8_fc_params_t (6 x int32); keep in sync."""

    in_features: int
    out_features: int
    input_offset: int
    output_offset: int
    act_min: int
    act_max: int


# ---- requantisation -------------------------------------------------------


def requantize(acc, mult, shift) -> np.ndarray:
    """arm_nn_requantize: (acc << max(shift,0)) doubling-high-mul mult,
    then rounding divide by 2**max(-shift,0). Vectorised, int64 inside."""
    acc = np.asarray(acc, np.int64)
    mult = np.asarray(mult, np.int64)
    shift = np.asarray(shift, np.int64)
    if np.any((acc < INT32_MIN) | (acc > INT32_MAX)):
        raise ValueError("accumulator exceeds int32: the C code would overflow")
    left = np.maximum(shift, 0)
    right = np.maximum(-shift, 0)

    # The C shifts as uint32, i.e. wraps to int32.
    x = ((acc << left) + 2**31) % 2**32 - 2**31

    # SaturatingRoundingDoublingHighMul: C's '/' truncates towards zero.
    ab = x * mult
    s = ab + np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    q = np.where(s >= 0, s >> 31, -((-s) >> 31))
    q = np.where((x == INT32_MIN) & (mult == INT32_MIN), INT32_MAX, q)

    # RoundingDivideByPOT.
    mask = np.left_shift(np.int64(1), right) - 1
    remainder = q & mask
    threshold = (mask >> 1) + (q < 0)
    return (q >> right) + (remainder > threshold)


def _finish(acc, mult, shift, output_offset, act_min, act_max) -> np.ndarray:
    out = requantize(acc, mult, shift) + output_offset
    return np.clip(out, act_min, act_max).astype(np.int8)


# ---- kernels --------------------------------------------------------------


def _padded(x: np.ndarray, p: ConvParams, fill: int) -> np.ndarray:
    """x (H, W, C) embedded so that every window of the output fits."""
    need_h = (p.out_h - 1) * p.stride_h + p.k_h
    need_w = (p.out_w - 1) * p.stride_w + p.k_w
    rows = max(need_h, p.pad_h + p.in_h)
    cols = max(need_w, p.pad_w + p.in_w)
    xp = np.full((rows, cols, x.shape[2]), fill, np.int64)
    xp[p.pad_h : p.pad_h + p.in_h, p.pad_w : p.pad_w + p.in_w] = x
    return xp


def _windows(xp: np.ndarray, p: ConvParams):
    """Yields (ky, kx, slice of shape (out_h, out_w, C)) per filter tap."""
    for ky in range(p.k_h):
        for kx in range(p.k_w):
            yield ky, kx, xp[
                ky : ky + (p.out_h - 1) * p.stride_h + 1 : p.stride_h,
                kx : kx + (p.out_w - 1) * p.stride_w + 1 : p.stride_w,
            ]


def conv2d(p: ConvParams, x, w, bias, mult, shift) -> np.ndarray:
    """x (H,W,Ci), w (Co,Kh,Kw,Ci) -> (Ho,Wo,Co). Also covers conv 1x1."""
    x = np.asarray(x, np.int64).reshape(p.in_h, p.in_w, p.in_c)
    w = np.asarray(w, np.int64).reshape(p.out_c, p.k_h, p.k_w, p.in_c)
    xp = _padded(x + p.input_offset, p, 0)   # offset first: padding adds 0
    acc = np.zeros((p.out_h, p.out_w, p.out_c), np.int64)
    for ky, kx, win in _windows(xp, p):
        acc += np.einsum("hwc,oc->hwo", win, w[:, ky, kx, :])
    acc += np.asarray(bias, np.int64)
    return _finish(acc, mult, shift, p.output_offset, p.act_min, p.act_max)


def dwconv(p: ConvParams, x, w, bias, mult, shift) -> np.ndarray:
    """Depthwise, multiplier 1: x (H,W,C), w (Kh,Kw,C) -> (Ho,Wo,C)."""
    x = np.asarray(x, np.int64).reshape(p.in_h, p.in_w, p.in_c)
    w = np.asarray(w, np.int64).reshape(p.k_h, p.k_w, p.in_c)
    xp = _padded(x + p.input_offset, p, 0)
    acc = np.zeros((p.out_h, p.out_w, p.out_c), np.int64)
    for ky, kx, win in _windows(xp, p):
        acc += win * w[ky, kx]
    acc += np.asarray(bias, np.int64)
    return _finish(acc, mult, shift, p.output_offset, p.act_min, p.act_max)


def fully_connected(p: FcParams, x, w, bias, mult, shift) -> np.ndarray:
    """x (In,), w (Out,In) -> (Out,)."""
    x = np.asarray(x, np.int64).reshape(p.in_features)
    w = np.asarray(w, np.int64).reshape(p.out_features, p.in_features)
    acc = w @ (x + p.input_offset) + np.asarray(bias, np.int64)
    return _finish(acc, mult, shift, p.output_offset, p.act_min, p.act_max)


def avgpool(p: ConvParams, x) -> np.ndarray:
    """Mean of the in-bounds window, rounded half away from zero, clamped."""
    x = np.asarray(x, np.int64).reshape(p.in_h, p.in_w, p.in_c)
    xp = _padded(x, p, 0)
    ones = _padded(np.ones_like(x), p, 0)
    acc = np.zeros((p.out_h, p.out_w, p.in_c), np.int64)
    cnt = np.zeros_like(acc)
    for (_, _, win), (_, _, one) in zip(_windows(xp, p), _windows(ones, p), strict=True):
        acc += win
        cnt += one
    safe = np.maximum(cnt, 1)
    # C: acc > 0 ? (acc + cnt/2) / cnt : (acc - cnt/2) / cnt, '/' truncating.
    pos = (acc + safe // 2) // safe
    neg = -((safe // 2 - acc) // safe)
    avg = np.where(cnt == 0, 0, np.where(acc > 0, pos, neg))
    return np.clip(avg, p.act_min, p.act_max).astype(np.int8)


def maxpool(p: ConvParams, x) -> np.ndarray:
    """Max of the in-bounds window (-128 if empty), clamped."""
    x = np.asarray(x, np.int64).reshape(p.in_h, p.in_w, p.in_c)
    xp = _padded(x, p, -128)   # the C starts from INT8_MIN, so -128 is neutral
    out = np.full((p.out_h, p.out_w, p.in_c), -128, np.int64)
    for _, _, win in _windows(xp, p):
        out = np.maximum(out, win)
    return np.clip(out, p.act_min, p.act_max).astype(np.int8)


# ---- decoding target memory -------------------------------------------------


def _ints(read: ReadSymbol, name: str, dtype: str) -> np.ndarray:
    return np.frombuffer(read(name), dtype=np.dtype(dtype))


def _params(read: ReadSymbol, prog: str, cls):
    raw = _ints(read, f"{prog}_params", "<i4")
    if raw.size != len(cls._fields):
        raise ValueError(f"{prog}_params has {raw.size} int32 fields, expected {len(cls._fields)}")
    return cls(*(int(v) for v in raw))


def _requant_args(read: ReadSymbol, prog: str):
    return (
        _ints(read, f"{prog}_weights", "i1"),
        _ints(read, f"{prog}_bias", "<i4"),
        _ints(read, f"{prog}_mult", "<i4"),
        _ints(read, f"{prog}_shift", "<i4"),
    )


def _conv_check(prog: str, kernel, read: ReadSymbol):
    p = _params(read, prog, ConvParams)
    expected = kernel(p, _ints(read, f"{prog}_input", "i1"), *_requant_args(read, prog))
    actual = _ints(read, f"{prog}_output", "i1").reshape(expected.shape)
    return expected, actual


def _pool_check(prog: str, kernel, read: ReadSymbol):
    p = _params(read, prog, ConvParams)
    expected = kernel(p, _ints(read, f"{prog}_input", "i1"))
    actual = _ints(read, f"{prog}_output", "i1").reshape(expected.shape)
    return expected, actual


def check_conv3x3(read_symbol: ReadSymbol) -> tuple[np.ndarray, np.ndarray]:
    return _conv_check("conv3x3", conv2d, read_symbol)


def check_conv1x1(read_symbol: ReadSymbol) -> tuple[np.ndarray, np.ndarray]:
    return _conv_check("conv1x1", conv2d, read_symbol)


def check_dwconv3x3(read_symbol: ReadSymbol) -> tuple[np.ndarray, np.ndarray]:
    return _conv_check("dwconv3x3", dwconv, read_symbol)


def check_fc(read_symbol: ReadSymbol) -> tuple[np.ndarray, np.ndarray]:
    p = _params(read_symbol, "fc", FcParams)
    expected = fully_connected(p, _ints(read_symbol, "fc_input", "i1"),
                               *_requant_args(read_symbol, "fc"))
    actual = _ints(read_symbol, "fc_output", "i1").reshape(expected.shape)
    return expected, actual


def check_avgpool(read_symbol: ReadSymbol) -> tuple[np.ndarray, np.ndarray]:
    return _pool_check("avgpool", avgpool, read_symbol)


def check_maxpool(read_symbol: ReadSymbol) -> tuple[np.ndarray, np.ndarray]:
    return _pool_check("maxpool", maxpool, read_symbol)


# Program name -> checker, for parametrised tests.
CHECKS: dict[str, Callable[[ReadSymbol], tuple[np.ndarray, np.ndarray]]] = {
    "conv3x3": check_conv3x3,
    "conv1x1": check_conv1x1,
    "dwconv3x3": check_dwconv3x3,
    "fc": check_fc,
    "avgpool": check_avgpool,
    "maxpool": check_maxpool,
}
