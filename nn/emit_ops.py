"""C for one schedule step: the kernel library call and the constants it needs.

Each emitter gets the graph, the step and its `StepIO` (C expressions of the buffers the step
reads and writes) and returns an `EmittedStep`: definitions at file scope (weights, biases,
multipliers, parameter structs; all `const`, so the linker puts them in flash) and one call.
The parameters are the kernel API's (kernels_c/nn/include/nn_kernels.h) and are computed by
`nn.quant` exactly as TFLite Micro's Prepare computes them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from mcusim.nn import quant
from mcusim.nn.graph import Graph, Operator, UnsupportedModelError
from mcusim.nn.reference import mean_multiplier
from mcusim.nn.schedule import Step


@dataclass
class StepIO:
    """What a step's code works on, as C expressions (also handed to variant generators)."""

    input: str  # int8_t * (or float * for a float QUANTIZE input) of the first input
    inputs: list[str]  # every activation input
    output: str  # int8_t * (float * for DEQUANTIZE)
    scratch: str  # int16_t * or "NULL"
    scratch_bytes: int
    prefix: str  # unique C identifier prefix for this step's definitions, e.g. "s03"
    arena: str = "nn_arena"  # the arena base, int8_t *
    weights: str = ""  # C prefix of the operator's weights/bias/mult/shift, e.g. "l03"
    defined: set[str] = field(default_factory=set)  # names already defined (shared by steps)
    bias: str | None = None  # set by the emitter: names of the constants it defined
    mult: str | None = None
    shift: str | None = None
    params: str | None = None


@dataclass
class EmittedStep:
    definitions: str
    call: str


def c_array(ctype: str, name: str, values: Iterable[int] | np.ndarray, align: int = 4) -> str:
    vals = np.asarray(values).reshape(-1).tolist()
    lines = []
    for i in range(0, len(vals), 24):
        lines.append("    " + ",".join(str(v) for v in vals[i:i + 24]) + ",")
    body = "\n".join(lines) if lines else "    0"
    return (f"static const {ctype} {name}[{max(len(vals), 1)}] "
            f"__attribute__((aligned({align}))) = {{\n{body}\n}};\n")


def c_struct(ctype: str, name: str, fields: Iterable[int]) -> str:
    return f"static const {ctype} {name} = {{{', '.join(str(int(v)) for v in fields)}}};\n"


def _range(step: Step, n: int) -> tuple[int, int]:
    return step.out_channels or (0, n)


def _weights(g: Graph, op: Operator, io: StepIO) -> str:
    """Weights, bias, multipliers and shifts of a conv/depthwise/fc operator."""
    w = g.tensors[op.inputs[1]]
    bias = g.tensor(op.inputs[2]) if len(op.inputs) > 2 else None
    p = io.weights
    io.bias = f"{p}_b" if bias is not None else "NULL"
    io.mult, io.shift = f"{p}_m", f"{p}_s"
    if f"{p}_w" in io.defined:  # another step of the same operator (a split) defined them
        return ""
    io.defined.add(f"{p}_w")
    mult, shift = quant.channel_multipliers(g, op)
    out = c_array("int8_t", f"{p}_w", w.data)
    if bias is not None:
        out += c_array("int32_t", f"{p}_b", bias.data)
    return out + c_array("int32_t", f"{p}_m", mult) + c_array("int32_t", f"{p}_s", shift)


def _geometry(g: Graph, op: Operator, kh: int, kw: int, o) -> tuple[int, int, int, int]:
    _, h, w, _ = g.tensors[op.inputs[0]].shape
    oh, pt = quant.same_padding(h, kh, o.stride_h, getattr(o, "dilation_h", 1), o.padding)
    ow, pl = quant.same_padding(w, kw, o.stride_w, getattr(o, "dilation_w", 1), o.padding)
    return oh, ow, pt, pl


def conv_params(g: Graph, op: Operator, step: Step) -> list[int]:
    """nn_conv_params_t fields, in order, for CONV_2D / DEPTHWISE_CONV_2D / pools."""
    x, out = g.tensors[op.inputs[0]], g.output_tensor(op)
    o = op.options
    if op.type in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
        kh, kw, dil, offsets, mult = o.filter_h, o.filter_w, (1, 1), (0, 0), 1
    else:
        w = g.tensors[op.inputs[1]]
        kh, kw = w.shape[1], w.shape[2]
        dil = (o.dilation_h, o.dilation_w)
        offsets = (-x.zero_point, out.zero_point)
        mult = getattr(o, "depth_multiplier", 1)
    oh, ow, pt, pl = _geometry(g, op, kh, kw, o)
    _, h, w_, c = x.shape
    oc = out.shape[-1]
    lo, hi = quant.activation_range(o.activation, out)
    cb, ce = _range(step, oc)
    ib, ie = step.in_channels or (0, 0)
    return [h, w_, c, c, oh, ow, oc, oc, kh, kw, o.stride_h, o.stride_w, *dil, pt, pl,
            *offsets, lo, hi, cb, ce, mult, ib, ie]


def emit_conv(g: Graph, op: Operator, step: Step, io: StepIO) -> EmittedStep:
    defs = _weights(g, op, io)
    io.params = f"{io.prefix}_p"
    defs += c_struct("nn_conv_params_t", io.params, conv_params(g, op, step))
    fn = "nn_conv2d_s8" if op.type == "CONV_2D" else "nn_depthwise_conv2d_s8"
    call = (f"{fn}(&{io.params}, {io.input}, {io.weights}_w, {io.bias}, {io.mult}, {io.shift}, "
            f"{io.output}, {io.scratch});")
    return EmittedStep(defs, call)


def emit_pool(g: Graph, op: Operator, step: Step, io: StepIO) -> EmittedStep:
    io.params = f"{io.prefix}_p"
    defs = c_struct("nn_conv_params_t", io.params, conv_params(g, op, step))
    fn = "nn_avg_pool_s8" if op.type == "AVERAGE_POOL_2D" else "nn_max_pool_s8"
    return EmittedStep(defs, f"{fn}(&{io.params}, {io.input}, {io.output});")


def emit_fc(g: Graph, op: Operator, step: Step, io: StepIO) -> EmittedStep:
    x, w, out = g.tensors[op.inputs[0]], g.tensors[op.inputs[1]], g.output_tensor(op)
    defs = _weights(g, op, io)
    n_out, n_in = w.shape
    lo, hi = quant.activation_range(op.options.activation, out)
    cb, ce = _range(step, n_out)
    io.params = f"{io.prefix}_p"
    defs += c_struct("nn_fc_params_t", io.params,
                     [x.size // n_in, n_in, n_out, n_out, -x.zero_point, out.zero_point, lo, hi,
                      cb, ce, 1])
    call = (f"nn_fully_connected_s8(&{io.params}, {io.input}, {io.weights}_w, {io.bias}, "
            f"{io.mult}, {io.shift}, {io.output});")
    return EmittedStep(defs, call)


def emit_add(g: Graph, op: Operator, step: Step, io: StepIO) -> EmittedStep:
    a, b, out = g.tensors[op.inputs[0]], g.tensors[op.inputs[1]], g.output_tensor(op)
    if a.shape != b.shape or a.shape != out.shape:
        raise UnsupportedModelError(f"{g.name}: operator #{op.index} ADD broadcasts "
                                    f"{a.shape} + {b.shape}; only equal shapes are supported")
    c = out.shape[-1]
    p = quant.add_params(g, op)
    cb, ce = _range(step, c)
    io.params = f"{io.prefix}_p"
    defs = c_struct("nn_add_params_t", io.params,
                    [out.size // c, cb, ce, c, c, c, p.left_shift, p.in1_offset, p.in1_mult,
                     p.in1_shift, p.in2_offset, p.in2_mult, p.in2_shift, p.out_offset,
                     p.out_mult, p.out_shift, p.act_min, p.act_max])
    return EmittedStep(defs, f"nn_add_s8(&{io.params}, {io.inputs[0]}, {io.inputs[1]}, "
                             f"{io.output});")


def emit_softmax(g: Graph, op: Operator, step: Step, io: StepIO) -> EmittedStep:
    x = g.tensors[op.inputs[0]]
    p = quant.softmax_params(g, op)
    row = x.shape[-1]
    io.params = f"{io.prefix}_p"
    defs = c_struct("nn_softmax_params_t", io.params,
                    [x.size // row, row, p.mult, p.left_shift, p.diff_min])
    return EmittedStep(defs, f"nn_softmax_s8(&{io.params}, {io.input}, {io.output});")


def emit_pad(g: Graph, op: Operator, step: Step, io: StepIO) -> EmittedStep:
    x, out = g.tensors[op.inputs[0]], g.output_tensor(op)
    pads = g.tensors[op.inputs[1]].data.reshape(-1, 2).tolist()
    if len(x.shape) != 4 or pads[0] != [0, 0]:
        raise UnsupportedModelError(f"{g.name}: operator #{op.index} PAD of a "
                                    f"{len(x.shape)}-d tensor or of the batch axis is not "
                                    "supported (NHWC, batch 1)")
    value = out.zero_point
    if len(op.inputs) > 2 and op.inputs[2] is not None:
        value = int(g.tensors[op.inputs[2]].data.reshape(-1)[0])
    _, h, w, c = x.shape
    io.params = f"{io.prefix}_p"
    defs = c_struct("nn_pad_params_t", io.params,
                    [h, w, c, *pads[1], *pads[2], *pads[3], value])
    return EmittedStep(defs, f"nn_pad_s8(&{io.params}, {io.input}, {io.output});")


def emit_mean(g: Graph, op: Operator, step: Step, io: StepIO) -> EmittedStep:
    x, out = g.tensors[op.inputs[0]], g.output_tensor(op)
    axes = sorted(int(a) % 4 for a in g.tensors[op.inputs[1]].data.reshape(-1))
    if len(x.shape) != 4 or axes != [1, 2]:
        raise UnsupportedModelError(f"{g.name}: operator #{op.index} MEAN over axes {axes}: "
                                    "only the spatial axes of an NHWC tensor are supported")
    _, h, w, c = x.shape
    # TFLite Micro takes the multiplier path also when input and output quantisation are equal
    # (tested against its interpreter), so the kernel's same_quant shortcut stays off; the
    # multiplier has 1/(h*w) folded in, as the kernel API asks.
    same = 0
    mult, shift = mean_multiplier(x.scale, out.scale, h * w)
    cb, ce = _range(step, c)
    io.params = f"{io.prefix}_p"
    defs = c_struct("nn_mean_params_t", io.params,
                    [h, w, c, cb, ce, x.zero_point, out.zero_point, mult, shift, same])
    return EmittedStep(defs, f"nn_mean_hw_s8(&{io.params}, {io.input}, {io.output});")


def emit_quantize(g: Graph, op: Operator, step: Step, io: StepIO) -> EmittedStep:
    x, out = g.tensors[op.inputs[0]], g.output_tensor(op)
    if op.type == "DEQUANTIZE":
        return EmittedStep("", f"nn_dequantize_s8_f32({io.input}, {x.size}, {x.scale!r}f, "
                               f"{x.zero_point}, (float *){io.output});")
    if x.dtype == "float32":
        return EmittedStep("", f"nn_quantize_f32_s8((const float *){io.input}, {x.size}, "
                               f"{out.scale!r}f, {out.zero_point}, {io.output});")
    mult, shift = quant.scalar_multiplier(x.scale, out.scale)
    return EmittedStep("", f"nn_requantize_s8_s8({io.input}, {x.size}, {x.zero_point}, {mult}, "
                           f"{shift}, {out.zero_point}, {io.output});")


def emit_reshape(g: Graph, op: Operator, step: Step, io: StepIO) -> EmittedStep:
    # The planner gives the output the input's storage: nothing to do at run time.
    return EmittedStep("", "/* RESHAPE: the output aliases the input */")


EMITTERS: dict[str, Callable[[Graph, Operator, Step, StepIO], EmittedStep]] = {
    "CONV_2D": emit_conv, "DEPTHWISE_CONV_2D": emit_conv, "FULLY_CONNECTED": emit_fc,
    "AVERAGE_POOL_2D": emit_pool, "MAX_POOL_2D": emit_pool, "ADD": emit_add,
    "SOFTMAX": emit_softmax, "PAD": emit_pad, "MEAN": emit_mean, "QUANTIZE": emit_quantize,
    "DEQUANTIZE": emit_quantize, "RESHAPE": emit_reshape,
}
