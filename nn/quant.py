"""Quantisation parameters exactly as TFLite Micro computes them in its kernels' Prepare.

Shared by the numpy reference and the code generator, so the firmware and the host use the same
integers. Scales are float32 in the flatbuffer; TFLite widens them to double where noted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mcusim.nn.graph import Graph, Operator, Tensor

INT32_MAX = (1 << 31) - 1


def tflite_round(x: float) -> int:
    """std::round: half away from zero."""
    return int(math.floor(abs(x) + 0.5)) * (1 if x >= 0 else -1)


def quantize_multiplier(m: float) -> tuple[int, int]:
    """TFLite QuantizeMultiplier: m = q * 2^(shift - 31), q in [2^30, 2^31)."""
    if m == 0.0:
        return 0, 0
    q, shift = math.frexp(m)
    q_fixed = tflite_round(q * (1 << 31))
    if q_fixed == (1 << 31):
        q_fixed //= 2
        shift += 1
    if shift < -31:
        shift, q_fixed = 0, 0
    return int(q_fixed), int(shift)


def f32(x: float) -> float:
    return float(np.float32(x))


def quantize_f32(value: float, scale: float, zero_point: int) -> int:
    """TFLite's Quantize() of a float in single precision (used for activation ranges)."""
    return zero_point + tflite_round(f32(np.float32(value) / np.float32(scale)))


def activation_range(activation: str, out: Tensor) -> tuple[int, int]:
    """CalculateActivationRangeQuantized for int8."""
    lo, hi = -128, 127
    s, zp = out.scale, out.zero_point
    if activation == "RELU":
        lo = max(lo, quantize_f32(0.0, s, zp))
    elif activation == "RELU6":
        lo, hi = max(lo, quantize_f32(0.0, s, zp)), min(hi, quantize_f32(6.0, s, zp))
    elif activation == "RELU_N1_TO_1":
        lo, hi = max(lo, quantize_f32(-1.0, s, zp)), min(hi, quantize_f32(1.0, s, zp))
    return lo, hi


def same_padding(size: int, k: int, stride: int, dilation: int, padding: str) -> tuple[int, int]:
    """(output size, padding before) as TFLite's ComputePaddingHeightWidth."""
    eff = (k - 1) * dilation + 1
    out = (size + stride - 1) // stride if padding == "SAME" else (size - eff + stride) // stride
    total = max((out - 1) * stride + eff - size, 0)
    return out, total // 2


def channel_multipliers(graph: Graph, op: Operator) -> tuple[np.ndarray, np.ndarray]:
    """Per-output-channel (multiplier, shift) of CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED.

    Convolutions: PopulateConvolutionQuantizationParams, input_scale * filter_scale[c] /
    output_scale in double. Fully connected: GetQuantizedConvolutionMultipler, whose
    input * filter product is taken in float before widening."""
    x, w = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]]
    out = graph.output_tensor(op)
    n_out = out.shape[-1]
    scales = w.quant.scale
    if len(scales) == 1:
        scales = scales * n_out
    mults, shifts = [], []
    for c in range(n_out):
        if op.type == "FULLY_CONNECTED":
            real = float(np.float32(x.scale) * np.float32(scales[c])) / out.scale
        else:
            real = x.scale * scales[c] / out.scale
        m, s = quantize_multiplier(real)
        mults.append(m)
        shifts.append(s)
    return np.array(mults, np.int64), np.array(shifts, np.int64)


@dataclass(frozen=True)
class AddParams:
    left_shift: int
    in1_offset: int
    in1_mult: int
    in1_shift: int
    in2_offset: int
    in2_mult: int
    in2_shift: int
    out_offset: int
    out_mult: int
    out_shift: int
    act_min: int
    act_max: int


def add_params(graph: Graph, op: Operator) -> AddParams:
    """TFLite Micro ADD Prepare (CalculateOpDataAdd) for int8."""
    a, b = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]]
    out = graph.output_tensor(op)
    left_shift = 20
    twice_max = 2 * max(a.scale, b.scale)
    m1, s1 = quantize_multiplier(a.scale / twice_max)
    m2, s2 = quantize_multiplier(b.scale / twice_max)
    mo, so = quantize_multiplier(twice_max / ((1 << left_shift) * out.scale))
    lo, hi = activation_range(op.options.activation, out)
    return AddParams(left_shift, -a.zero_point, m1, s1, -b.zero_point, m2, s2,
                     out.zero_point, mo, so, lo, hi)


@dataclass(frozen=True)
class SoftmaxParams:
    mult: int
    left_shift: int
    diff_min: int


def softmax_params(graph: Graph, op: Operator) -> SoftmaxParams:
    """PreprocessSoftmaxScaling and CalculateInputRadius with 5 integer bits."""
    x = graph.tensors[op.inputs[0]]
    bits = 5
    real = min(op.options.beta * x.scale * (1 << (31 - bits)), float((1 << 31) - 1))
    mult, left_shift = quantize_multiplier(real)
    radius = ((1 << bits) - 1) * (1 << (31 - bits)) / (1 << left_shift)
    return SoftmaxParams(mult, left_shift, -int(math.floor(radius)))


def scalar_multiplier(in_scale: float, out_scale: float) -> tuple[int, int]:
    """QuantizeMultiplier(in_scale / out_scale) in double (MEAN, int8 requantise)."""
    return quantize_multiplier(in_scale / out_scale)
