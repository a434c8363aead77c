"""Bytes live while a segment of the graph runs, whole or as a Pex chain, computed from the graph.

The schedule search (`search.py`) needs the live bytes of many candidate segments quickly, so it
does not plan them: a segment's live bytes are the whole tensors alive at some operator of the
segment (by the layer-by-layer lifetimes: a chain interleaves its operators, so any whole tensor
alive at one of them is alive through the chain), the chain's int32 accumulator in place of its
output, and the largest set of slices and kernel scratch one step of the chain holds. The
planner (`planner.py`), which derives buffers from the steps themselves, reaches the same figure
for the schedules the search makes (tested).

Two storage sharings apply in Pex schedules: a RESHAPE output is its input's buffer, and an ADD
writes into an operand that no later step reads (in place: same element, same index).
"""

from __future__ import annotations

from dataclasses import dataclass

from mcusim.nn.graph import Graph, Operator
from mcusim.nn.pex.chains import TAIL_ACCUMULATE, Chain
from mcusim.nn.planner import align, scratch_bytes
from mcusim.nn.schedule import Step

ACC_BYTES = 4  # int32 partial sums


def conv_scratch(graph: Graph, op: Operator) -> int:
    """nn_conv2d_s8's scratch for a whole or output-sliced CONV_2D (the layer planner's
    formula, which follows the kernel library)."""
    if op.type != "CONV_2D":
        return 0
    return align(scratch_bytes(graph, Step(op.index, "")))


def acc_scratch(graph: Graph, op: Operator, width: int) -> int:
    """nn_pointwise_acc_s8's scratch for a slice of `width` input channels."""
    return align(scratch_bytes(graph, Step(op.index, "", in_channels=(0, width))))


def slice_bytes(graph: Graph, tensor: int, width: int) -> int:
    shape = graph.tensors[tensor].shape
    pixels = 1
    for d in shape[:-1]:
        pixels *= d
    return align(pixels * width)


def storage_roots(graph: Graph) -> dict[int, int]:
    """Tensor -> the tensor whose buffer it uses (RESHAPE outputs share their input's)."""
    roots: dict[int, int] = {}
    for op in graph:
        if op.type == "RESHAPE":
            src = op.inputs[0]
            roots[op.outputs[0]] = roots.get(src, src)
    return roots


@dataclass
class LayerLifetimes:
    """Operator positions each storage root is alive over in a layer-by-layer order."""

    roots: dict[int, int]
    first: dict[int, int]
    last: dict[int, int]
    size: dict[int, int]

    @classmethod
    def of(cls, graph: Graph) -> LayerLifetimes:
        roots = storage_roots(graph)
        first: dict[int, int] = {}
        last: dict[int, int] = {}
        size: dict[int, int] = {}
        end = len(graph.operators) - 1
        for t in graph.inputs:
            first[roots.get(t, t)] = 0
        for op in graph:
            for t in (*op.inputs, *op.outputs):
                if t is None or graph.tensors[t].is_const:
                    continue
                r = roots.get(t, t)
                first.setdefault(r, op.index)
                last[r] = op.index
                size[r] = max(size.get(r, 0), align(graph.tensors[t].nbytes))
        for t in graph.outputs:
            last[roots.get(t, t)] = end
        for t in graph.inputs:
            size.setdefault(roots.get(t, t), align(graph.tensors[t].nbytes))
        return cls(roots, first, last, size)

    def root(self, t: int) -> int:
        return self.roots.get(t, t)

    def alive(self, start: int, end: int) -> set[int]:
        """Roots alive at some operator position in [start, end]."""
        return {r for r, f in self.first.items() if f <= end and self.last.get(r, f) >= start}


def inplace_add_operand(graph: Graph, op: Operator, sliced: set[int], segment_start: int,
                        lifetimes: LayerLifetimes) -> int | None:
    """The ADD operand whose buffer the output may take over: whole (not a slice), not a graph
    input or output, and read by no operator after the segment starts except this ADD."""
    if op.type != "ADD" or op.outputs[0] in graph.outputs:
        return None
    for t in op.inputs:
        r = lifetimes.root(t)
        if t in sliced or r in graph.inputs or t in graph.outputs:
            continue
        others = [c for c in graph.consumers(t) if c.index != op.index]
        if lifetimes.last.get(r) == op.index and all(c.index < segment_start for c in others):
            return t
    return None


def layer_step_bytes(graph: Graph, k: int, lifetimes: LayerLifetimes,
                     scratch: int) -> int:
    """Live bytes while operator k runs whole (with an in-place ADD)."""
    op = graph.operators[k]
    live = sum(lifetimes.size[r] for r in lifetimes.alive(k, k))
    if inplace_add_operand(graph, op, set(), k, lifetimes) is not None:
        live -= lifetimes.size[lifetimes.root(op.outputs[0])]
    return live + scratch


def chain_bytes(graph: Graph, chain: Chain, width: int, lifetimes: LayerLifetimes) -> int:
    """Live bytes at the fullest step of `chain` run `width` channels at a time."""
    start, end = chain.head, chain.last
    inner_roots = {lifetimes.root(t) for t in chain.inner}
    whole = lifetimes.alive(start, end) - inner_roots
    live = sum(lifetimes.size[r] for r in whole)
    tail = graph.operators[end]
    out_root = lifetimes.root(tail.outputs[0])
    if chain.tail == TAIL_ACCUMULATE:
        live += (ACC_BYTES - 1) * lifetimes.size[out_root]
    elif inplace_add_operand(graph, tail, set(chain.inner), start, lifetimes) is not None:
        live -= lifetimes.size[out_root]
    worst = 0
    for pos, k in enumerate(chain.ops):
        op = graph.operators[k]
        if op.type == "RESHAPE":
            continue
        step = 0
        if pos > 0:  # the slice it reads
            step += slice_bytes(graph, chain.inner[pos - 1], width)
        if pos < len(chain.ops) - 1:  # the slice it writes (a RESHAPE after it shares it)
            step += slice_bytes(graph, chain.inner[pos], width)
        if k == end and chain.tail == TAIL_ACCUMULATE:
            step += acc_scratch(graph, op, width)
        elif k == start:
            step += conv_scratch(graph, op)
        worst = max(worst, step)
    return live + worst
