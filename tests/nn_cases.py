"""Random test cases for the nn kernel library's test driver (kernels_c/nn/tests/
nn_kernel_test.c): each case is one kernel call with its parameter struct, its
buffers (slices, strides and sentinel-filled outputs included) and the bytes the
output buffer must hold afterwards, computed with tests/nn_ref.py."""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from tests import nn_ref as ref

# Op numbers of the driver's enum.
CONV, DW, AVGPOOL, MAXPOOL, PW_ACC, REQ_ACC, FC = 1, 2, 3, 4, 5, 6, 7
ADD, SOFTMAX, PAD, MEAN, QUANT, DEQUANT, REQUANT, PW_SPLIT = 8, 9, 10, 11, 12, 13, 14, 15
ARENA_BYTES = 6144  # the driver's arena


@dataclass
class Case:
    label: str
    op: int
    params: list[int]
    arrays: list[bytes]
    out_index: int
    expected: bytes

    def encode(self) -> bytes:
        words = [self.op, len(self.params), *self.params, len(self.arrays), self.out_index]
        out = struct.pack(f"<{len(words)}i", *words)
        for a in self.arrays:
            out += struct.pack("<I", len(a)) + a + b"\0" * (-len(a) % 4)
        return out

    def size(self) -> int:
        return sum(len(a) + 3 & ~3 for a in self.arrays)


def encode_file(cases: list[Case]) -> bytes:
    return b"".join(c.encode() for c in cases) + struct.pack("<I", 0)


def decode_outputs(data: bytes) -> list[bytes]:
    outs, pos = [], 0
    while pos < len(data):
        (n,) = struct.unpack_from("<I", data, pos)
        outs.append(data[pos + 4 : pos + 4 + n])
        pos += 4 + (n + 3 & ~3)
    return outs


def i8(a) -> bytes:
    return np.asarray(a, np.int8).tobytes()


def i32(a) -> bytes:
    return np.asarray(a, "<i4").tobytes()


def f32(x: float) -> int:
    return struct.unpack("<i", struct.pack("<f", x))[0]


def strided(rng, tensor, c0: int, c1: int, stride: int) -> np.ndarray:
    """Buffer of tensor's channels [c0, c1) per pixel at channel stride `stride`, the other
    slots random (a kernel reading or writing them shows up)."""
    t = np.asarray(tensor).reshape(-1, np.asarray(tensor).shape[-1])
    buf = rng.integers(-128, 128, (t.shape[0], stride)).astype(t.dtype)
    buf[:, : c1 - c0] = t[:, c0:c1]
    return buf


def requant_arrays(rng, n: int, lo: int = -10, hi: int = -6):
    mult = rng.integers(1 << 30, 1 << 31, n)
    shift = rng.integers(lo, hi + 1, n)
    return mult, shift


def act_range(rng) -> tuple[int, int]:
    if rng.random() < 0.6:
        return -128, 127
    return int(rng.integers(-128, -20)), int(rng.integers(20, 128))


def channel_range(rng, c: int) -> tuple[int, int]:
    if rng.random() < 0.5:
        return 0, c
    a, b = sorted(rng.integers(0, c + 1, 2))
    return (int(a), int(b) + 1) if a == b and b < c else (int(a), int(b)) if a < b else (0, c)


def geometry(rng, h: int, w: int, max_k: int = 3, dilation: bool = True) -> ref.Geometry:
    dims = []
    for n in (h, w):
        k = int(rng.integers(1, max_k + 1))
        s = int(rng.integers(1, 3))
        d = int(rng.integers(1, 3)) if dilation and rng.random() < 0.3 else 1
        eff = (k - 1) * d + 1
        top, bottom = (int(v) for v in rng.integers(0, eff, 2))
        if n + top + bottom < eff:
            bottom = eff - n - top
        if bottom >= eff:  # a window entirely in the padding
            k, d, eff, top, bottom = 1, 1, 1, 0, 0
        out = (n + top + bottom - eff) // s + 1
        dims.append((k, s, d, top, out))
    (kh, sh, dh, th, oh), (kw, sw, dw, tw, ow) = dims
    return ref.Geometry(kh, kw, sh, sw, dh, dw, th, tw, oh, ow)


def conv_params(g: ref.Geometry, in_hwc, out_c: int, in_stride: int, out_stride: int,
                in_off: int, out_off: int, act, c_range, depth_mult: int = 1,
                ic_range: tuple[int, int] = (0, 0)) -> list[int]:
    """nn_conv_params_t, field by field."""
    h, w, c = in_hwc
    return [h, w, c, in_stride, g.out_h, g.out_w, out_c, out_stride, g.k_h, g.k_w,
            g.stride_h, g.stride_w, g.dilation_h, g.dilation_w, g.pad_top, g.pad_left,
            in_off, out_off, act[0], act[1], c_range[0], c_range[1], depth_mult, *ic_range]


def scratch_bytes(k_elems: int) -> int:
    """nn_pointwise_acc_s8's scratch (the API file's formula)."""
    return 8 * ((k_elems + 1) // 2)


def conv_scratch_bytes(k_elems: int) -> int:
    """nn_conv2d_s8's scratch (the API file's formula)."""
    return 16 * k_elems


# ---- one generator per kernel -------------------------------------------------------------


def _offsets(rng) -> tuple[int, int]:
    return int(rng.integers(-127, 129)), int(rng.integers(-128, 128))


def conv_case(rng) -> Case:
    h, w = (int(v) for v in rng.integers(1, 7, 2))
    ci, co = int(rng.integers(1, 10)), int(rng.integers(1, 10))
    if rng.random() < 0.3:
        ci = int(rng.choice([4, 8, 12, 16]))  # the DSP fast column fill
    g = geometry(rng, h, w)
    x = rng.integers(-128, 128, (h, w, ci))
    wt = rng.integers(-128, 128, (co, g.k_h, g.k_w, ci))
    bias = rng.integers(-5000, 5001, co) if rng.random() < 0.9 else None
    mult, shift = requant_arrays(rng, co)
    if rng.random() < 0.2:  # accumulators beyond 2^30 and left shifts: the exact slow path
        bias = rng.integers(-(2**31) + 2**22, 2**31 - 2**22, co)
        mult, shift = requant_arrays(rng, co, -3, 3)
    in_off, out_off = _offsets(rng)
    act = act_range(rng)
    cb, ce = channel_range(rng, co)
    in_stride, out_stride = ci + int(rng.integers(0, 3)), ce - cb + int(rng.integers(0, 3))
    full = ref.conv2d(x, wt, 0 if bias is None else bias, mult, shift, g, in_off, out_off, act)
    out = strided(rng, np.zeros((g.out_h * g.out_w, 1), np.int8), 0, 0, out_stride)
    expected = out.copy()
    expected[:, : ce - cb] = full.reshape(-1, co)[:, cb:ce]
    params = conv_params(g, (h, w, ci), co, in_stride, out_stride, in_off, out_off, act, (cb, ce))
    arrays = [i8(strided(rng, x, 0, ci, in_stride)), i8(wt), b"" if bias is None else i32(bias),
              i32(mult), i32(shift), i8(out), bytes(conv_scratch_bytes(g.k_h * g.k_w * ci))]
    return Case(f"conv {h}x{w}x{ci}->{co} {g} c[{cb},{ce})", CONV, params, arrays, 5,
                i8(expected))


def depthwise_case(rng) -> Case:
    h, w = (int(v) for v in rng.integers(1, 8, 2))
    ci, dm = int(rng.integers(1, 13)), 1 if rng.random() < 0.7 else int(rng.integers(2, 4))
    co = ci * dm
    g = geometry(rng, h, w)
    if rng.random() < 0.4:  # the unrolled 3x3 path
        g = g._replace(k_h=3, k_w=3, dilation_h=1, dilation_w=1, stride_h=1, stride_w=1,
                       pad_top=1, pad_left=1, out_h=h, out_w=w)
    x = rng.integers(-128, 128, (h, w, ci))
    wt = rng.integers(-128, 128, (g.k_h, g.k_w, co))
    bias = rng.integers(-5000, 5001, co)
    mult, shift = requant_arrays(rng, co, -9, -5)
    in_off, out_off = _offsets(rng)
    act = act_range(rng)
    cb, ce = channel_range(rng, co)
    ic0, ic1 = cb // dm, (ce - 1) // dm + 1
    in_stride, out_stride = ic1 - ic0 + int(rng.integers(0, 3)), ce - cb + int(rng.integers(0, 3))
    full = ref.depthwise(x, wt, bias, mult, shift, g, dm, in_off, out_off, act)
    out = strided(rng, np.zeros((g.out_h * g.out_w, 1), np.int8), 0, 0, out_stride)
    expected = out.copy()
    expected[:, : ce - cb] = full.reshape(-1, co)[:, cb:ce]
    params = conv_params(g, (h, w, ci), co, in_stride, out_stride, in_off, out_off, act,
                         (cb, ce), dm)
    arrays = [i8(strided(rng, x, ic0, ic1, in_stride)), i8(wt), i32(bias), i32(mult),
              i32(shift), i8(out), b""]
    return Case(f"depthwise {h}x{w}x{ci} dm{dm} {g} c[{cb},{ce})", DW, params, arrays, 5,
                i8(expected))


def pool_case(rng, op: int) -> Case:
    h, w, c = (int(v) for v in rng.integers(1, 8, 3))
    g = geometry(rng, h, w, dilation=False)
    x = rng.integers(-128, 128, (h, w, c))
    act = act_range(rng)
    cb, ce = channel_range(rng, c)
    in_stride, out_stride = ce - cb + int(rng.integers(0, 3)), ce - cb + int(rng.integers(0, 3))
    full = (ref.avg_pool if op == AVGPOOL else ref.max_pool)(x, g, act)
    out = strided(rng, np.zeros((g.out_h * g.out_w, 1), np.int8), 0, 0, out_stride)
    expected = out.copy()
    expected[:, : ce - cb] = full.reshape(-1, c)[:, cb:ce]
    params = conv_params(g, (h, w, c), c, in_stride, out_stride, 0, 0, act, (cb, ce))
    arrays = [i8(strided(rng, x, cb, ce, in_stride)), i8(out)]
    name = "avgpool" if op == AVGPOOL else "maxpool"
    return Case(f"{name} {h}x{w}x{c} {g} c[{cb},{ce})", op, params, arrays, 1, i8(expected))


def _pointwise(rng):
    n_pix, ci, co = int(rng.integers(1, 12)), int(rng.integers(1, 24)), int(rng.integers(1, 10))
    x = rng.integers(-128, 128, (n_pix, ci))
    wt = rng.integers(-128, 128, (co, ci))
    bias = rng.integers(-5000, 5001, co)
    return n_pix, ci, co, x, wt, bias


def pw_acc_case(rng) -> Case:
    """One partial-sum call: input channels [i0, i1) onto a given int32 accumulator."""
    n_pix, ci, co, x, wt, bias = _pointwise(rng)
    i0, i1 = channel_range(rng, ci)
    cb, ce = channel_range(rng, co)
    first = int(rng.random() < 0.5)
    in_off = int(rng.integers(-127, 129))
    in_stride, out_stride = i1 - i0 + int(rng.integers(0, 3)), ce - cb + int(rng.integers(0, 3))
    acc0 = rng.integers(-100000, 100000, (n_pix, out_stride))
    partial = (x[:, i0:i1] + in_off) @ wt[cb:ce, i0:i1].T
    expected = acc0.copy()
    expected[:, : ce - cb] = partial + bias[cb:ce] if first else acc0[:, : ce - cb] + partial
    g = ref.Geometry(1, 1, 1, 1, 1, 1, 0, 0, n_pix, 1)
    params = conv_params(g, (n_pix, 1, ci), co, in_stride, out_stride, in_off, 0, (-128, 127),
                         (cb, ce), 1, (i0, i1)) + [first]
    arrays = [i8(strided(rng, x, i0, i1, in_stride)), i8(wt), i32(bias), i32(acc0),
              bytes(scratch_bytes(i1 - i0))]
    return Case(f"pointwise_acc {n_pix}px {ci}->{co} ic[{i0},{i1}) c[{cb},{ce}) first={first}",
                PW_ACC, params, arrays, 3, i32(expected))


def pw_split_case(rng) -> Case:
    """Partial execution end to end: slices accumulated, requantised once = the 1x1 conv
    (or the fully connected layer: pixels = batches)."""
    n_pix, ci, co, x, wt, bias = _pointwise(rng)
    cuts = sorted({0, ci, *(int(v) for v in rng.integers(1, ci + 1, int(rng.integers(0, 4))))})
    mult, shift = requant_arrays(rng, co, -12, -8)
    in_off, out_off = _offsets(rng)
    act = act_range(rng)
    g = ref.Geometry(1, 1, 1, 1, 1, 1, 0, 0, n_pix, 1)
    full = ref.conv2d(x.reshape(n_pix, 1, ci), wt.reshape(co, 1, 1, ci), bias, mult, shift, g,
                      in_off, out_off, act)
    params = conv_params(g, (n_pix, 1, ci), co, ci, co, in_off, out_off, act, (0, co)) + [
        len(cuts) - 1, *cuts]
    arrays = [i8(x), i8(wt), i32(bias), i32(mult), i32(shift), bytes(4 * n_pix * co),
              i8(np.zeros(n_pix * co)), bytes(scratch_bytes(ci))]
    return Case(f"pointwise split {n_pix}px {ci}->{co} at {cuts}", PW_SPLIT, params, arrays, 6,
                i8(full))


def req_acc_case(rng) -> Case:
    n_pix, co = int(rng.integers(1, 12)), int(rng.integers(1, 12))
    cb, ce = channel_range(rng, co)
    acc_stride, out_stride = ce - cb + int(rng.integers(0, 3)), ce - cb + int(rng.integers(0, 3))
    acc = rng.integers(-200000, 200000, (n_pix, acc_stride))
    mult, shift = requant_arrays(rng, co, -12, -8)
    out_off = int(rng.integers(-128, 128))
    act = act_range(rng)
    out = strided(rng, np.zeros((n_pix, 1), np.int8), 0, 0, out_stride)
    expected = out.copy()
    expected[:, : ce - cb] = ref.clamp8(
        ref.requantize(acc[:, : ce - cb], mult[cb:ce], shift[cb:ce]) + out_off, *act)
    g = ref.Geometry(1, 1, 1, 1, 1, 1, 0, 0, n_pix, 1)
    params = conv_params(g, (n_pix, 1, co), co, co, out_stride, 0, out_off, act,
                         (cb, ce)) + [acc_stride]
    arrays = [i32(acc), i32(mult), i32(shift), i8(out)]
    return Case(f"requantize_acc {n_pix}px c[{cb},{ce})", REQ_ACC, params, arrays, 3,
                i8(expected))


def fc_case(rng) -> Case:
    b, n, o = int(rng.integers(1, 3)), int(rng.integers(1, 50)), int(rng.integers(1, 13))
    x = rng.integers(-128, 128, (b, n))
    wt = rng.integers(-128, 128, (o, n))
    bias = rng.integers(-5000, 5001, o) if rng.random() < 0.9 else None
    per_channel = int(rng.random() < 0.5)
    mult, shift = requant_arrays(rng, o if per_channel else 1, -11, -7)
    in_off, out_off = _offsets(rng)
    act = act_range(rng)
    cb, ce = channel_range(rng, o)
    out_stride = ce - cb + int(rng.integers(0, 3))
    full = ref.fully_connected(x, wt, 0 if bias is None else bias, mult, shift, in_off,
                               out_off, act)
    out = strided(rng, np.zeros((b, 1), np.int8), 0, 0, out_stride)
    expected = out.copy()
    expected[:, : ce - cb] = full[:, cb:ce]
    params = [b, n, o, out_stride, in_off, out_off, act[0], act[1], cb, ce, per_channel]
    arrays = [i8(x), i8(wt), b"" if bias is None else i32(bias), i32(mult), i32(shift), i8(out)]
    return Case(f"fc b{b} {n}->{o} c[{cb},{ce}) per_channel={per_channel}", FC, params, arrays,
                5, i8(expected))


def add_case(rng) -> Case:
    n_pix, c = int(rng.integers(1, 20)), int(rng.integers(1, 10))
    if rng.random() < 0.3:  # >= 1024 elements: the DSP path's tabulated input rescaling
        n_pix, c = int(rng.integers(110, 130)), int(rng.choice([9, 10, 12]))
    s1, s2, so = (float(v) for v in rng.uniform(0.01, 0.2, 3))
    q = ref.add_params(s1, s2, so)
    zp1, zp2, zpo = (int(v) for v in rng.integers(-128, 128, 3))
    act = act_range(rng)
    x1 = rng.integers(-128, 128, (n_pix, c))
    x2 = rng.integers(-128, 128, (n_pix, c))
    cb, ce = channel_range(rng, c)
    st = [ce - cb + int(v) for v in rng.integers(0, 3, 3)]
    full = ref.add(x1, x2, q, -zp1, -zp2, zpo, act)
    out = strided(rng, np.zeros((n_pix, 1), np.int8), 0, 0, st[2])
    expected = out.copy()
    expected[:, : ce - cb] = full[:, cb:ce]
    params = [n_pix, cb, ce, *st, q.left_shift, -zp1, q.in1_mult, q.in1_shift, -zp2, q.in2_mult,
              q.in2_shift, zpo, q.out_mult, q.out_shift, act[0], act[1]]
    arrays = [i8(strided(rng, x1, cb, ce, st[0])), i8(strided(rng, x2, cb, ce, st[1])), i8(out)]
    return Case(f"add {n_pix}px c[{cb},{ce}) scales {s1:.3f} {s2:.3f} {so:.3f}", ADD, params,
                arrays, 2, i8(expected))


def softmax_case(rng) -> Case:
    rows, n = int(rng.integers(1, 4)), int(rng.integers(1, 40))
    scale = float(rng.uniform(0.005, 0.3))
    mult, left_shift, diff_min = ref.softmax_params(scale, float(rng.choice([1.0, 0.5, 2.0])))
    x = rng.integers(-128, 128, (rows, n))
    if rng.random() < 0.3:
        x = np.clip(x // 8 + 60, -128, 127)  # close logits: many non-trivial outputs
    expected = ref.softmax(x, mult, left_shift, diff_min)
    return Case(f"softmax {rows}x{n} scale {scale:.4f}", SOFTMAX,
                [rows, n, mult, left_shift, diff_min], [i8(x), i8(np.zeros(rows * n))], 1,
                i8(expected))


def pad_case(rng) -> Case:
    h, w, c = (int(v) for v in rng.integers(1, 6, 3))
    pads = tuple(int(v) for v in rng.integers(0, 3, 6))
    value = int(rng.integers(-128, 128))
    x = rng.integers(-128, 128, (h, w, c))
    expected = ref.pad(x, pads, value)  # type: ignore[arg-type]
    return Case(f"pad {h}x{w}x{c} {pads}", PAD, [h, w, c, *pads, value],
                [i8(x), i8(np.zeros(expected.size))], 1, i8(expected))


def mean_case(rng) -> Case:
    h, w, c = int(rng.integers(1, 9)), int(rng.integers(1, 9)), int(rng.integers(1, 10))
    same = bool(rng.random() < 0.3)
    ratio = 1.0 if same else float(rng.uniform(0.3, 3.0))
    mult, shift = ref.mean_multiplier(ratio, 1.0, h * w)
    if mult >= 2**31:  # TFLite's adapted multiplier overflows int32 here: not a valid model
        return mean_case(rng)
    in_zp, out_zp = (int(v) for v in rng.integers(-128, 128, 2))
    if same:
        out_zp = in_zp
    x = rng.integers(-128, 128, (h, w, c))
    cb, ce = channel_range(rng, c)
    in_stride = ce - cb + int(rng.integers(0, 3))
    expected = ref.mean_hw(x, in_zp, out_zp, mult, shift, same)[cb:ce]
    params = [h, w, in_stride, cb, ce, in_zp, out_zp, mult, shift, int(same)]
    arrays = [i8(strided(rng, x, cb, ce, in_stride)), i8(np.zeros(ce - cb))]
    return Case(f"mean {h}x{w}x{c} c[{cb},{ce}) same={same} ratio {ratio:.3f}", MEAN, params,
                arrays, 1, i8(expected))


def quantize_case(rng) -> Case:
    n = int(rng.integers(1, 64))
    scale = float(np.float32(rng.choice([0.25, 0.0625]) if rng.random() < 0.3
                             else rng.uniform(0.001, 0.5)))
    zp = int(rng.integers(-128, 128))
    x = (rng.standard_normal(n) * scale * 80).astype(np.float32)
    x[: n // 4] = (rng.integers(-200, 200, n // 4) + 0.5) * np.float32(scale)  # ties
    expected = ref.quantize(x, scale, zp)
    return Case(f"quantize n{n} scale {scale}", QUANT, [n, f32(scale), zp],
                [x.astype("<f4").tobytes(), i8(np.zeros(n))], 1, i8(expected))


def dequantize_case(rng) -> Case:
    n = int(rng.integers(1, 64))
    scale = float(np.float32(rng.uniform(0.001, 0.5)))
    zp = int(rng.integers(-128, 128))
    q = rng.integers(-128, 128, n)
    expected = ref.dequantize(q, scale, zp).astype("<f4").tobytes()
    return Case(f"dequantize n{n}", DEQUANT, [n, f32(scale), zp], [i8(q), bytes(4 * n)], 1,
                expected)


def requantize_case(rng) -> Case:
    n = int(rng.integers(1, 64))
    mult, shift = ref.quantize_multiplier(float(rng.uniform(0.2, 4.0)))
    in_zp, out_zp = (int(v) for v in rng.integers(-128, 128, 2))
    q = rng.integers(-128, 128, n)
    expected = ref.requantize_s8(q, in_zp, mult, shift, out_zp)
    return Case(f"requantize n{n}", REQUANT, [n, in_zp, mult, shift, out_zp],
                [i8(q), i8(np.zeros(n))], 1, i8(expected))


GENERATORS = {
    "conv": conv_case, "depthwise": depthwise_case,
    "avgpool": lambda rng: pool_case(rng, AVGPOOL), "maxpool": lambda rng: pool_case(rng, MAXPOOL),
    "pointwise_acc": pw_acc_case, "pointwise_split": pw_split_case,
    "requantize_acc": req_acc_case, "fc": fc_case, "add": add_case, "softmax": softmax_case,
    "pad": pad_case, "mean": mean_case, "quantize": quantize_case,
    "dequantize": dequantize_case, "requantize": requantize_case,
}


def make_cases(seed: int, per_kernel: int) -> list[Case]:
    """per_kernel cases of every kernel that fit the driver's arena."""
    rng = np.random.default_rng(seed)
    cases = []
    for gen in GENERATORS.values():
        made = 0
        while made < per_kernel:
            case = gen(rng)
            if case.size() <= ARENA_BYTES:
                cases.append(case)
                made += 1
    return cases
