"""A numpy reference of TFLite Micro's int8 reference kernels, bit for bit.

`run_reference(graph, inputs)` evaluates every operator in graph order and returns the value of
every activation tensor, so `mcusim nn --check-layers` can compare each intermediate. Tested
against the tflite-micro host interpreter (tests/test_nn_reference.py). The arithmetic is
TFLite's: int32 accumulation, MultiplyByQuantizedMultiplier with double rounding, fused
activation clamps; SOFTMAX uses gemmlowp's fixed-point exp and reciprocal.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from mcusim.nn import quant
from mcusim.nn.graph import Graph, Operator, UnsupportedModelError
from mcusim.nn.softmax_ref import softmax_rows

I32 = np.int64  # int32 values are computed in int64 arrays, wrapped where TFLite wraps


def srdhm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """SaturatingRoundingDoublingHighMul on int32 values held in int64 arrays."""
    a, b = np.asarray(a, I32), np.asarray(b, I32)
    ab = a * b
    nudge = np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    s = ab + nudge
    q = np.where(s >= 0, s >> 31, -((-s) >> 31))  # C division truncates toward zero
    return np.where((a == -(1 << 31)) & (b == -(1 << 31)), (1 << 31) - 1, q)


def rounding_divide_by_pot(x: np.ndarray, exponent: np.ndarray | int) -> np.ndarray:
    x, e = np.asarray(x, I32), np.asarray(exponent, I32)
    mask = (np.left_shift(1, e) - 1).astype(I32)
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0)
    return (x >> e) + (remainder > threshold)


def wrap32(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, I32) & 0xFFFFFFFF
    return np.where(x >= 1 << 31, x - (1 << 32), x)


def requantize(acc: np.ndarray, mult: np.ndarray | int, shift: np.ndarray | int) -> np.ndarray:
    """MultiplyByQuantizedMultiplier (per element or broadcast per channel)."""
    shift = np.asarray(shift, I32)
    left = np.maximum(shift, 0)
    right = np.maximum(-shift, 0)
    x = wrap32(np.asarray(acc, I32) << left)
    return rounding_divide_by_pot(srdhm(x, mult), right)


def _clamp8(x: np.ndarray, lo: int, hi: int) -> np.ndarray:
    return np.clip(x, lo, hi).astype(np.int8)


def _padded(x: np.ndarray, pads: tuple[int, int, int, int], value: int) -> np.ndarray:
    top, bottom, left, right = pads
    return np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=value)


def _windows(x: np.ndarray, kh: int, kw: int, sh: int, sw: int, dh: int, dw: int,
             oh: int, ow: int) -> np.ndarray:
    """(N, OH, OW, KH, KW, C) patches of an already padded NHWC input."""
    n, _, _, c = x.shape
    s = x.strides
    view = np.lib.stride_tricks.as_strided(
        x, (n, oh, ow, kh, kw, c), (s[0], s[1] * sh, s[2] * sw, s[1] * dh, s[2] * dw, s[3]),
        writeable=False)
    return view


def _conv_geometry(x_shape, kh, kw, o):
    _, h, w, _ = x_shape
    oh, pt = quant.same_padding(h, kh, o.stride_h, o.dilation_h, o.padding)
    ow, pl = quant.same_padding(w, kw, o.stride_w, o.dilation_w, o.padding)
    pb = max((oh - 1) * o.stride_h + (kh - 1) * o.dilation_h + 1 - h - pt, 0)
    pr = max((ow - 1) * o.stride_w + (kw - 1) * o.dilation_w + 1 - w - pl, 0)
    return oh, ow, (pt, pb, pl, pr)


def conv2d(g: Graph, op: Operator, x: np.ndarray) -> np.ndarray:
    xt, w, b = g.input_tensors(op)[:3] + [None] * (3 - len(op.inputs))
    o = op.options
    cout, kh, kw, cin = w.shape
    oh, ow, pads = _conv_geometry(x.shape, kh, kw, o)
    # Padding with the input zero point makes (x + input_offset) zero there, as TFLite skips it.
    xp = _padded(x.astype(I32) - xt.zero_point, pads, 0)
    patches = _windows(xp, kh, kw, o.stride_h, o.stride_w, o.dilation_h, o.dilation_w, oh, ow)
    acc = patches.reshape(-1, kh * kw * cin) @ w.data.reshape(cout, -1).astype(I32).T
    return _finish(g, op, acc.reshape(x.shape[0], oh, ow, cout), b)


def depthwise(g: Graph, op: Operator, x: np.ndarray) -> np.ndarray:
    xt, w, b = g.input_tensors(op)[:3] + [None] * (3 - len(op.inputs))
    o = op.options
    _, kh, kw, cout = w.shape
    m = o.depth_multiplier
    oh, ow, pads = _conv_geometry(x.shape, kh, kw, o)
    xp = _padded(x.astype(I32) - xt.zero_point, pads, 0)
    patches = _windows(xp, kh, kw, o.stride_h, o.stride_w, o.dilation_h, o.dilation_w, oh, ow)
    patches = np.repeat(patches, m, axis=-1) if m > 1 else patches  # oc = ic * m + k
    acc = np.einsum("nyxhwc,hwc->nyxc", patches, w.data[0].astype(I32))
    return _finish(g, op, acc, b)


def fully_connected(g: Graph, op: Operator, x: np.ndarray) -> np.ndarray:
    xt, w, b = g.input_tensors(op)[:3] + [None] * (3 - len(op.inputs))
    rows = x.reshape(-1, w.shape[1]).astype(I32) - xt.zero_point
    acc = rows @ w.data.astype(I32).T
    out = g.output_tensor(op)
    return _finish(g, op, acc, b).reshape(x.shape[0], *out.shape[1:])


def _finish(g: Graph, op: Operator, acc: np.ndarray, bias) -> np.ndarray:
    if bias is not None:
        acc = acc + bias.data.astype(I32)
    mult, shift = quant.channel_multipliers(g, op)
    out = g.output_tensor(op)
    lo, hi = quant.activation_range(op.options.activation, out)
    return _clamp8(requantize(acc, mult, shift) + out.zero_point, lo, hi)


def pool(g: Graph, op: Operator, x: np.ndarray) -> np.ndarray:
    o = op.options
    oh, ow, (pt, pb, pl, pr) = _conv_geometry(
        x.shape, o.filter_h, o.filter_w,
        type("P", (), {"stride_h": o.stride_h, "stride_w": o.stride_w, "dilation_h": 1,
                       "dilation_w": 1, "padding": o.padding})())
    out = g.output_tensor(op)
    lo, hi = quant.activation_range(o.activation, out)
    valid = _padded(np.ones((1, *x.shape[1:3], 1), I32), (pt, pb, pl, pr), 0)
    counts = _windows(valid, o.filter_h, o.filter_w, o.stride_h, o.stride_w, 1, 1, oh, ow)
    counts = counts.sum(axis=(3, 4))  # (1, OH, OW, 1) in-bounds elements per window
    if op.type == "MAX_POOL_2D":
        xp = _padded(x.astype(I32), (pt, pb, pl, pr), -(1 << 20))
        win = _windows(xp, o.filter_h, o.filter_w, o.stride_h, o.stride_w, 1, 1, oh, ow)
        return _clamp8(win.max(axis=(3, 4)), lo, hi)
    xp = _padded(x.astype(I32), (pt, pb, pl, pr), 0)
    s = _windows(xp, o.filter_h, o.filter_w, o.stride_h, o.stride_w, 1, 1, oh, ow).sum(
        axis=(3, 4))
    half = counts // 2
    avg = np.where(s > 0, (s + half) // counts, -((-(s - half)) // counts))
    return _clamp8(avg, lo, hi)


def add(g: Graph, op: Operator, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    p = quant.add_params(g, op)
    a1 = wrap32((a.astype(I32) + p.in1_offset) << p.left_shift)
    b1 = wrap32((b.astype(I32) + p.in2_offset) << p.left_shift)
    s = requantize(a1, p.in1_mult, p.in1_shift) + requantize(b1, p.in2_mult, p.in2_shift)
    return _clamp8(requantize(s, p.out_mult, p.out_shift) + p.out_offset, p.act_min,
                   p.act_max)


def softmax(g: Graph, op: Operator, x: np.ndarray) -> np.ndarray:
    p = quant.softmax_params(g, op)
    rows = x.reshape(-1, x.shape[-1]).astype(int)
    return softmax_rows(rows, p.mult, p.left_shift, p.diff_min).reshape(x.shape)


def pad(g: Graph, op: Operator, x: np.ndarray) -> np.ndarray:
    pads = g.tensors[op.inputs[1]].data.reshape(-1, 2)
    value = g.output_tensor(op).zero_point
    if len(op.inputs) > 2 and op.inputs[2] is not None:
        value = int(g.tensors[op.inputs[2]].data.reshape(-1)[0])
    return np.pad(x, [tuple(int(v) for v in p) for p in pads], constant_values=value)


def mean(g: Graph, op: Operator, x: np.ndarray) -> np.ndarray:
    """MEAN over H and W of an NHWC tensor (TFLite Micro's int8 path)."""
    axes = tuple(int(a) % x.ndim for a in g.tensors[op.inputs[1]].data.reshape(-1))
    if axes not in ((1, 2), (2, 1)):
        raise UnsupportedModelError(f"{g.name}: operator #{op.index} MEAN over axes {axes}: "
                                    "only the spatial axes (1, 2) are supported")
    xt, out = g.tensors[op.inputs[0]], g.output_tensor(op)
    n = x.shape[1] * x.shape[2]
    s = x.astype(I32).sum(axis=(1, 2))
    # TFLite Micro's int8 MEAN: sum minus zero points, the multiplier in/out adapted by 1/n
    # (also when input and output quantisation are equal).
    mult, shift = mean_multiplier(xt.scale, out.scale, n)
    r = requantize(s - xt.zero_point * n, mult, shift) + out.zero_point
    return _clamp8(r, -128, 127).reshape(x.shape[0], *out.shape[1:])


def mean_multiplier(in_scale: float, out_scale: float, n: int) -> tuple[int, int]:
    """QuantizeMultiplier(in/out), then 1/n folded in as TFLite's QuantizedMeanOrSum does:
    shift by floor(log2 n) (at most 32 and 31 + shift), truncating division."""
    mult, shift = quant.scalar_multiplier(in_scale, out_scale)
    s = min(n.bit_length() - 1, 32, 31 + shift)
    return int((mult << s) // n), shift - s


def quantize(g: Graph, op: Operator, x: np.ndarray) -> np.ndarray:
    xt, out = g.tensors[op.inputs[0]], g.output_tensor(op)
    if xt.dtype == "float32":
        q = np.float32(x) / np.float32(out.scale)
        r = np.sign(q) * np.floor(np.abs(q) + np.float32(0.5))
        return _clamp8(r.astype(I32) + out.zero_point, -128, 127)
    mult, shift = quant.scalar_multiplier(xt.scale, out.scale)
    return _clamp8(requantize(x.astype(I32) - xt.zero_point, mult, shift) + out.zero_point,
                   -128, 127)


def dequantize(g: Graph, op: Operator, x: np.ndarray) -> np.ndarray:
    xt = g.tensors[op.inputs[0]]
    return (np.float32(xt.scale) * (x.astype(np.float32) - np.float32(xt.zero_point))
            ).astype(np.float32)


_UNARY: dict[str, Callable[[Graph, Operator, np.ndarray], np.ndarray]] = {
    "CONV_2D": conv2d, "DEPTHWISE_CONV_2D": depthwise, "FULLY_CONNECTED": fully_connected,
    "AVERAGE_POOL_2D": pool, "MAX_POOL_2D": pool, "SOFTMAX": softmax, "PAD": pad,
    "MEAN": mean, "QUANTIZE": quantize, "DEQUANTIZE": dequantize,
}


def run_op(g: Graph, op: Operator, values: dict[int, np.ndarray]) -> np.ndarray:
    x = values[op.inputs[0]]
    if op.type == "RESHAPE":
        return x.reshape(x.shape[0], *g.output_tensor(op).shape[1:])
    if op.type == "ADD":
        return add(g, op, x, values[op.inputs[1]])
    return _UNARY[op.type](g, op, x)


def run_reference(g: Graph, inputs: Sequence[np.ndarray]) -> dict[int, np.ndarray]:
    """Every activation tensor's value (tensor index -> array) for the given model inputs.

    An input may hold a batch: shape (N, *shape[1:]) gives every value a leading N."""
    values: dict[int, np.ndarray] = {}
    for t, x in zip(g.inputs, inputs, strict=True):
        values[t] = np.asarray(x).reshape(-1, *g.tensors[t].shape[1:])
    for op in g:
        values[op.outputs[0]] = run_op(g, op, values)
    return values


def default_inputs(g: Graph, seed: int = 0) -> list[np.ndarray]:
    """Deterministic pseudo-random inputs over each input's quantised range."""
    rng = np.random.default_rng(seed)
    out = []
    for t in g.inputs:
        tensor = g.tensors[t]
        if tensor.dtype == "float32":
            q = tensor.quant
            lo = (-128 - q.zero_point[0]) * q.scale[0] if q else -1.0
            hi = (127 - q.zero_point[0]) * q.scale[0] if q else 1.0
            out.append(rng.uniform(lo, hi, tensor.shape).astype(np.float32))
        else:
            out.append(rng.integers(-128, 128, tensor.shape, dtype=np.int8))
    return out
