"""C for the steps of a Pex schedule that run part of an operator.

Called by nn/codegen.py for every step that is not whole. Each step is one kernel-library call
(kernels_c/nn/include/nn_kernels.h) with its own parameter struct: the kernel API's channel
conventions do the slicing (a buffer pointer is at the first channel it holds, `*_stride` is the
buffer's channel stride), so a slice buffer of channels [c0, c1) has stride c1 - c0 and a whole
tensor is addressed at channel c0 with its full channel count as stride.
"""

from __future__ import annotations

from dataclasses import dataclass

from mcusim.nn import quant
from mcusim.nn.emit_ops import (
    EmittedStep,
    StepIO,
    _weights,
    c_struct,
    conv_params,
    emit_add,
)
from mcusim.nn.graph import Graph, Operator
from mcusim.nn.pex.buffers import is_requantize
from mcusim.nn.pex.patches import ROWS
from mcusim.nn.pex.planner import PexPlan
from mcusim.nn.reference import mean_multiplier
from mcusim.nn.schedule import Range, Step

# nn_conv_params_t field positions patched per step
IN_H, IN_STRIDE, OUT_H, OUT_STRIDE, PAD_TOP = 0, 3, 4, 7, 14


@dataclass(frozen=True)
class Place:
    """Where a step finds channel `first` of a tensor: a C pointer expression and the
    channel stride of the buffer behind it."""

    ptr: str
    stride: int


def locate(graph: Graph, plan: PexPlan, io: StepIO, index: int, tensor: int,
           first: int) -> Place:
    channels = graph.tensors[tensor].shape[-1]
    name = plan.slice_buffer(index, tensor)
    if name is not None:  # a slice buffer: it holds exactly the step's channel range
        size = next(rng for rng, n in plan.layout.slices[plan.aliases.get(tensor, tensor)]
                    if n == name)
        return Place(f"({io.arena} + {plan.offsets[name]})", size[1] - size[0])
    offset = plan.tensor_offset(tensor) + first
    return Place(f"({io.arena} + {offset})", channels)


def _index(plan: PexPlan, step: Step, io: StepIO) -> int:
    return plan.step_index[step.name]


def emit_step(graph: Graph, step: Step, io: StepIO, plan: PexPlan) -> EmittedStep:
    if not isinstance(plan, PexPlan):
        raise TypeError("partial steps need the Pex planner's plan")
    i = _index(plan, step, io)
    op = graph.operators[step.op]
    if is_requantize(step):
        return _requantize(graph, op, step, io, plan)
    if step.accumulator is not None:
        return _accumulate(graph, op, step, io, plan, i)
    return _slice(graph, op, step, io, plan, i)


def _acc_ptr(plan: PexPlan, step: Step, io: StepIO) -> str:
    name = plan.layout.accumulators[step.accumulator]
    return f"((int32_t *)({io.arena} + {plan.offsets[name]}))"


def _requantize(graph: Graph, op: Operator, step: Step, io: StepIO,
                plan: PexPlan) -> EmittedStep:
    defs = _weights(graph, op, io)
    out = graph.output_tensor(op)
    c = out.shape[-1]
    params = _acc_params(graph, op, (0, graph.tensors[op.inputs[0]].shape[-1]), c)
    name = f"{io.prefix}_p"
    defs += c_struct("nn_conv_params_t", name, params)
    target = f"({io.arena} + {plan.tensor_offset(op.outputs[0])})"
    return EmittedStep(defs, f"nn_requantize_acc_s8(&{name}, {_acc_ptr(plan, step, io)}, {c}, "
                             f"{io.mult}, {io.shift}, {target});")


def _acc_params(graph: Graph, op: Operator, ins: Range, in_stride: int) -> list[int]:
    x, out = graph.tensors[op.inputs[0]], graph.output_tensor(op)
    oc = out.shape[-1]
    lo, hi = quant.activation_range(op.options.activation, out)
    if op.type == "FULLY_CONNECTED":
        n_in = graph.tensors[op.inputs[1]].shape[1]
        rows = x.size // n_in
        return [rows, 1, n_in, in_stride, rows, 1, oc, oc, 1, 1, 1, 1, 1, 1, 0, 0,
                -x.zero_point, out.zero_point, lo, hi, 0, oc, 1, ins[0], ins[1]]
    p = conv_params(graph, op, Step(op.index, "", in_channels=ins))
    p[IN_STRIDE] = in_stride
    return p


def _accumulate(graph: Graph, op: Operator, step: Step, io: StepIO, plan: PexPlan,
                i: int) -> EmittedStep:
    defs = _weights(graph, op, io)
    cin = graph.tensors[op.inputs[0]].shape[-1]
    ins = step.in_channels or (0, cin)
    src = locate(graph, plan, io, i, op.inputs[0], ins[0])
    name = f"{io.prefix}_p"
    defs += c_struct("nn_conv_params_t", name, _acc_params(graph, op, ins, src.stride))
    return EmittedStep(defs, f"nn_pointwise_acc_s8(&{name}, {src.ptr}, {io.weights}_w, "
                             f"{io.bias}, {_acc_ptr(plan, step, io)}, {int(step.first)}, "
                             f"{io.scratch});")


def _row_ptr(graph: Graph, plan: PexPlan, io: StepIO, index: int, tensor: int,
             row: int) -> str:
    """Pointer to row `row` (every channel) of a tensor: in its row-band buffer or whole."""
    _, _, w, c = graph.tensors[tensor].shape
    name = plan.slice_buffer(index, tensor)
    if name is not None:
        first = plan.layout.slice_rows[name][0]
        return f"({io.arena} + {plan.offsets[name] + (row - first) * w * c})"
    return f"({io.arena} + {plan.tensor_offset(tensor) + row * w * c})"


def _band(graph: Graph, op: Operator, step: Step, io: StepIO, plan: PexPlan,
          i: int) -> EmittedStep:
    """Output rows [r0, r1) of a convolution, depthwise convolution or pool (patch step)."""
    from mcusim.nn.pex.patches import band_geometry

    r0, r1 = step.params[ROWS]
    first, in_h, pad_top = band_geometry(graph, op, (r0, r1))
    p = conv_params(graph, op, Step(op.index, ""))
    p[IN_H], p[OUT_H], p[PAD_TOP] = in_h, r1 - r0, pad_top
    name = f"{io.prefix}_p"
    defs = c_struct("nn_conv_params_t", name, p)
    src = _row_ptr(graph, plan, io, i, op.inputs[0], first)
    dst = _row_ptr(graph, plan, io, i, op.outputs[0], r0)
    if op.type in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
        fn = "nn_avg_pool_s8" if op.type == "AVERAGE_POOL_2D" else "nn_max_pool_s8"
        return EmittedStep(defs, f"{fn}(&{name}, {src}, {dst});")
    defs = _weights(graph, op, io) + defs
    fn = "nn_conv2d_s8" if op.type == "CONV_2D" else "nn_depthwise_conv2d_s8"
    return EmittedStep(defs, f"{fn}(&{name}, {src}, {io.weights}_w, {io.bias}, {io.mult}, "
                             f"{io.shift}, {dst}, {io.scratch});")


def _slice(graph: Graph, op: Operator, step: Step, io: StepIO, plan: PexPlan,
           i: int) -> EmittedStep:
    if ROWS in step.params:
        return _band(graph, op, step, io, plan, i)
    out_t = op.outputs[0]
    rng = step.out_channels or (0, graph.tensors[out_t].shape[-1])
    dst = locate(graph, plan, io, i, out_t, rng[0])
    acts = [t for t in op.inputs if t is not None and not graph.tensors[t].is_const]
    name = f"{io.prefix}_p"
    if op.type in ("CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "MAX_POOL_2D"):
        first = 0 if op.type == "CONV_2D" else rng[0]
        src = locate(graph, plan, io, i, acts[0], first)
        p = conv_params(graph, op, step)
        p[IN_STRIDE], p[OUT_STRIDE] = src.stride, dst.stride
        defs = c_struct("nn_conv_params_t", name, p)
        if op.type in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
            fn = "nn_avg_pool_s8" if op.type == "AVERAGE_POOL_2D" else "nn_max_pool_s8"
            return EmittedStep(defs, f"{fn}(&{name}, {src.ptr}, {dst.ptr});")
        defs = _weights(graph, op, io) + defs
        fn = "nn_conv2d_s8" if op.type == "CONV_2D" else "nn_depthwise_conv2d_s8"
        return EmittedStep(defs, f"{fn}(&{name}, {src.ptr}, {io.weights}_w, {io.bias}, "
                                 f"{io.mult}, {io.shift}, {dst.ptr}, {io.scratch});")
    if op.type == "FULLY_CONNECTED":
        x, w, out = graph.tensors[acts[0]], graph.tensors[op.inputs[1]], graph.output_tensor(op)
        src = locate(graph, plan, io, i, acts[0], 0)
        defs = _weights(graph, op, io)
        n_out, n_in = w.shape
        lo, hi = quant.activation_range(op.options.activation, out)
        defs += c_struct("nn_fc_params_t", name,
                         [x.size // n_in, n_in, n_out, dst.stride, -x.zero_point,
                          out.zero_point, lo, hi, rng[0], rng[1], 1])
        return EmittedStep(defs, f"nn_fully_connected_s8(&{name}, {src.ptr}, {io.weights}_w, "
                                 f"{io.bias}, {io.mult}, {io.shift}, {dst.ptr});")
    if op.type == "ADD":
        a = locate(graph, plan, io, i, acts[0], rng[0])
        b = locate(graph, plan, io, i, acts[1], rng[0])
        whole = emit_add(graph, op, step, io)  # TFLite's parameters; strides patched below
        fields = whole.definitions.split("{", 1)[1].rsplit("}", 1)[0].split(",")
        fields[3:6] = [str(a.stride), str(b.stride), str(dst.stride)]
        defs = c_struct("nn_add_params_t", name, [int(v) for v in fields])
        return EmittedStep(defs, f"nn_add_s8(&{name}, {a.ptr}, {b.ptr}, {dst.ptr});")
    if op.type == "MEAN":
        x, out = graph.tensors[acts[0]], graph.output_tensor(op)
        src = locate(graph, plan, io, i, acts[0], rng[0])
        _, h, w, _ = x.shape
        same = int(x.zero_point == out.zero_point and x.scale == out.scale)
        mult, shift = mean_multiplier(x.scale, out.scale, h * w)
        defs = c_struct("nn_mean_params_t", name,
                        [h, w, src.stride, rng[0], rng[1], x.zero_point, out.zero_point, mult,
                         shift, same])
        return EmittedStep(defs, f"nn_mean_hw_s8(&{name}, {src.ptr}, {dst.ptr});")
    raise NotImplementedError(f"no sliced kernel for {op.type}")
