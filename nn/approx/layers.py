"""A convolution or fully connected operator seen as a matrix of MAC positions.

Every output accumulator of such a layer is `bias[oc] + sum_k (x_k + input_offset) * W[oc, k]`
over K positions: (kh, kw, ic) in the filter's OHWI order for CONV_2D, the input feature for
FULLY_CONNECTED. `patches` gathers the K operands of every output pixel (padding contributes 0,
as in TFLite), so the layer is one integer matrix product and a skipped position is a zero in
W. This is the unit significance, masks, the host model and the generated kernels share.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mcusim.nn import quant
from mcusim.nn.graph import Conv2DOptions, FullyConnectedOptions, Graph, Operator
from mcusim.nn.reference import requantize

APPROX_OPS = ("CONV_2D", "FULLY_CONNECTED")


@dataclass(frozen=True)
class ConvGeometry:
    in_h: int
    in_w: int
    in_c: int
    out_h: int
    out_w: int
    k_h: int
    k_w: int
    stride_h: int
    stride_w: int
    dilation_h: int
    dilation_w: int
    pad_top: int
    pad_left: int


@dataclass
class MacLayer:
    op: int  # operator index in the graph
    type: str  # "CONV_2D" or "FULLY_CONNECTED"
    weights: np.ndarray  # int32 (OC, K)
    bias: np.ndarray  # int32 (OC,)
    mult: np.ndarray  # int64 (OC,)
    shift: np.ndarray  # int64 (OC,)
    input_offset: int
    output_offset: int
    act_min: int
    act_max: int
    geometry: ConvGeometry | None  # None for FULLY_CONNECTED
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]

    @property
    def out_channels(self) -> int:
        return self.weights.shape[0]

    @property
    def positions(self) -> int:
        return self.weights.shape[1]

    @property
    def pixels(self) -> int:
        g = self.geometry
        return 1 if g is None else g.out_h * g.out_w

    @property
    def macs(self) -> int:
        return self.pixels * self.weights.size

    def patches(self, x: np.ndarray) -> np.ndarray:
        """int32 (N, pixels, K): the operands (x + input_offset) of every output pixel."""
        n = x.shape[0]
        xo = x.astype(np.int32) + self.input_offset
        g = self.geometry
        if g is None:
            return xo.reshape(n, 1, -1)
        pad_b = max(0, (g.out_h - 1) * g.stride_h + (g.k_h - 1) * g.dilation_h + 1
                    - g.in_h - g.pad_top)
        pad_r = max(0, (g.out_w - 1) * g.stride_w + (g.k_w - 1) * g.dilation_w + 1
                    - g.in_w - g.pad_left)
        xp = np.pad(xo.reshape(n, g.in_h, g.in_w, g.in_c),
                    ((0, 0), (g.pad_top, pad_b), (g.pad_left, pad_r), (0, 0)))
        cols = np.empty((n, g.out_h, g.out_w, g.k_h, g.k_w, g.in_c), np.int32)
        for kh in range(g.k_h):
            y0 = kh * g.dilation_h
            for kw in range(g.k_w):
                x0 = kw * g.dilation_w
                cols[:, :, :, kh, kw, :] = xp[:, y0:y0 + g.stride_h * g.out_h:g.stride_h,
                                              x0:x0 + g.stride_w * g.out_w:g.stride_w, :]
        return cols.reshape(n, g.out_h * g.out_w, -1)

    def accumulate(self, x: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """int64 (N, pixels, OC) accumulators, with `weights` (default: the layer's own)."""
        w = self.weights if weights is None else weights
        acc = self.patches(x).astype(np.int64) @ w.T.astype(np.int64)
        return acc + self.bias

    def run(self, x: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """int8 outputs (N, *out_shape[1:]) exactly as TFLite int8 arithmetic gives them."""
        v = requantize(self.accumulate(x, weights), self.mult, self.shift) + self.output_offset
        out = np.clip(v, self.act_min, self.act_max).astype(np.int8)
        return out.reshape((x.shape[0], *self.out_shape[1:]))


def mac_layer(graph: Graph, op: Operator) -> MacLayer:
    """The MAC view of a CONV_2D or FULLY_CONNECTED operator."""
    x, w, b = (graph.tensor(i) for i in (list(op.inputs) + [None])[:3])
    out = graph.output_tensor(op)
    opts = op.options
    oc = w.shape[0]
    wmat = w.data.astype(np.int32).reshape(oc, -1)
    bias = (b.data.astype(np.int32) if b is not None else np.zeros(oc, np.int32))
    mult, shift = quant.channel_multipliers(graph, op)
    act_min, act_max = quant.activation_range(opts.activation, out)
    geom = None
    if op.type == "CONV_2D":
        assert isinstance(opts, Conv2DOptions)
        _, ih, iw, ic = x.shape
        _, oh, ow, _ = out.shape
        kh, kw = w.shape[1], w.shape[2]
        _, pad_top = quant.same_padding(ih, kh, opts.stride_h, opts.dilation_h, opts.padding)
        _, pad_left = quant.same_padding(iw, kw, opts.stride_w, opts.dilation_w, opts.padding)
        geom = ConvGeometry(ih, iw, ic, oh, ow, kh, kw, opts.stride_h, opts.stride_w,
                            opts.dilation_h, opts.dilation_w, pad_top, pad_left)
    else:
        assert isinstance(opts, FullyConnectedOptions)
    return MacLayer(op.index, op.type, wmat, bias, mult, shift, -x.zero_point, out.zero_point,
                    act_min, act_max, geom, tuple(x.shape), tuple(out.shape))


def mac_layers(graph: Graph) -> dict[int, MacLayer]:
    """Every approximable operator of the graph, by operator index."""
    return {op.index: mac_layer(graph, op) for op in graph if op.type in APPROX_OPS}
