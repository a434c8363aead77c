"""Spatial (patch-based) execution of the first layers, as MCUNetV2 does, combinable with Pex.

Channel splitting cannot shrink the first layers' full-resolution tensors: a 3x3 convolution
needs its whole input. Run the first operators of the network a band of output rows at a time
instead: for each band of the last operator's output rows, every earlier operator computes just
the rows the next one reads (its halo included, so overlapping rows are computed again: the
recomputation MCUNetV2 trades for memory). Only row bands of the inner tensors exist; the last
operator writes its band into its whole output.

A patch step is `Step(op, name, out_channels=(0, C), params={"rows": [r0, r1]})`: output rows
[r0, r1) of the operator, every channel; the input rows it reads follow from the operator's
geometry (`input_rows`).
"""

from __future__ import annotations

import math

from mcusim.nn import quant
from mcusim.nn.graph import Graph, Operator
from mcusim.nn.schedule import Range, Step, step_name

ROWS = "rows"  # Step.params key: output rows [begin, end) a spatial (patch) step computes
PATCH_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "MAX_POOL_2D")


def _window(graph: Graph, op: Operator) -> tuple[int, int, int, int]:
    """(kernel height, stride, dilation, top padding) along H."""
    o = op.options
    if op.type in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
        k, dil = o.filter_h, 1
    else:
        k, dil = graph.tensors[op.inputs[1]].shape[1], o.dilation_h
    height = graph.tensors[op.inputs[0]].shape[1]
    _, pad = quant.same_padding(height, k, o.stride_h, dil, o.padding)
    return k, o.stride_h, dil, pad


def input_rows(graph: Graph, op: Operator, rows: Range) -> Range:
    """Input rows [lo, hi) that output rows `rows` of `op` read (clipped to the tensor)."""
    k, stride, dil, pad = _window(graph, op)
    height = graph.tensors[op.inputs[0]].shape[1]
    lo = rows[0] * stride - pad
    hi = (rows[1] - 1) * stride - pad + (k - 1) * dil + 1
    return max(lo, 0), min(hi, height)


def band_geometry(graph: Graph, op: Operator, rows: Range) -> tuple[int, int, int]:
    """(first input row the band's buffer must hold, input rows, top padding) for the
    kernel call computing output rows `rows`."""
    _, stride, _, pad = _window(graph, op)
    lo, hi = input_rows(graph, op, rows)
    return lo, hi - lo, pad + lo - rows[0] * stride


def patch_prefixes(graph: Graph, max_ops: int = 8) -> list[int]:
    """Last operator index k of every prefix 0..k that can run in row bands: a straight line
    of convolutions, depthwise convolutions and pools, each output read only by the next."""
    found = []
    ops = graph.operators
    for k, op in enumerate(ops[:max_ops]):
        if op.type not in PATCH_OPS or len(graph.tensors[op.inputs[0]].shape) != 4:
            break
        if k > 0:
            prev = ops[k - 1].outputs[0]
            if graph.consumers(prev) != [op] or op.inputs[0] != prev:
                break
        elif op.inputs[0] not in graph.inputs:
            break
        if k > 0:
            found.append(k)
    return found


def patch_steps(graph: Graph, last: int, bands: int) -> list[Step]:
    """Steps running operators 0..last in `bands` bands of operator `last`'s output rows."""
    height = graph.output_tensor(graph.operators[last]).shape[1]
    size = math.ceil(height / bands)
    steps = []
    for band, b0 in enumerate(range(0, height, size)):
        need: list[Range] = [(0, 0)] * (last + 1)
        need[last] = (b0, min(b0 + size, height))
        for k in range(last, 0, -1):  # rows each earlier operator must produce
            need[k - 1] = input_rows(graph, graph.operators[k], need[k])
        for k in range(last + 1):
            c = graph.output_tensor(graph.operators[k]).shape[-1]
            steps.append(Step(k, step_name(graph, k, f"_b{band}"), out_channels=(0, c),
                              params={ROWS: list(need[k])}))
    return steps


def recomputed_rows(graph: Graph, steps: list[Step]) -> dict[int, int]:
    """Rows computed beyond each operator's output height (the recomputation)."""
    done: dict[int, int] = {}
    for s in steps:
        if ROWS in s.params:
            r0, r1 = s.params[ROWS]
            done[s.op] = done.get(s.op, 0) + r1 - r0
    return {op: n - graph.output_tensor(graph.operators[op]).shape[1] for op, n in done.items()}
