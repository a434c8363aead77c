"""Which operators of a graph can run a slice of channels at a time, and the chains they form.

Partial execution (Liberis & Lane) runs a chain of operators N channels at a time so that the
tensors inside the chain only ever exist as slices. A chain is a run of consecutive operators
(graph order) op_i .. op_j where each inner tensor has exactly one consumer, the next operator:

- the head op_i produces a slice of its output channels: a convolution or fully connected layer
  (from its whole input) or a channel-wise operator (reading the same slice of a whole input);
- the middle operators are channel-wise: output channel c depends on input channel c only
  (depthwise convolution with multiplier 1, pooling, MEAN over H and W, ADD with a whole second
  operand, RESHAPE that keeps the channel axis);
- the tail either is channel-wise and writes its slice into a whole int8 output, or consumes
  input-channel slices into an int32 accumulator (1x1 stride-1 convolution, fully connected),
  requantised once when every slice has been added.
"""

from __future__ import annotations

from dataclasses import dataclass

from mcusim.nn.graph import (
    DepthwiseConv2DOptions,
    Graph,
    Operator,
)

TAIL_SLICES = "slices"  # the tail writes its output channels slice by slice into a whole tensor
TAIL_ACCUMULATE = "accumulate"  # the tail adds input-channel slices into an int32 accumulator


@dataclass(frozen=True)
class Chain:
    ops: tuple[int, ...]  # consecutive operator indices, head first
    inner: tuple[int, ...]  # tensors that exist only as slices (outputs of ops[:-1])
    channels: int  # channel count of the inner tensors (what is split)
    tail: str  # TAIL_SLICES or TAIL_ACCUMULATE

    @property
    def head(self) -> int:
        return self.ops[0]

    @property
    def last(self) -> int:
        return self.ops[-1]


def channels(graph: Graph, tensor: int) -> int:
    return graph.tensors[tensor].shape[-1]


def _activation_inputs(graph: Graph, op: Operator) -> list[int]:
    return [t for t in op.inputs if t is not None and not graph.tensors[t].is_const]


def is_channelwise(graph: Graph, op: Operator) -> bool:
    """Output channel c is computed from input channel c alone (and has the same count)."""
    ins = _activation_inputs(graph, op)
    if not ins:
        return False
    out = graph.output_tensor(op)
    cin = channels(graph, ins[0])
    if out.shape[-1] != cin:
        return False
    if op.type == "DEPTHWISE_CONV_2D":
        assert isinstance(op.options, DepthwiseConv2DOptions)
        return op.options.depth_multiplier == 1
    if op.type in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
        return True
    if op.type == "ADD":
        return len(ins) == 2 and graph.tensors[ins[0]].shape == graph.tensors[ins[1]].shape
    if op.type == "MEAN":
        axes = graph.tensors[op.inputs[1]].data
        return axes is not None and sorted(int(a) for a in axes.ravel()) == [1, 2]
    if op.type == "RESHAPE":
        return is_channel_reshape(graph, op)
    return False


def is_channel_reshape(graph: Graph, op: Operator) -> bool:
    """A RESHAPE that only drops or adds unit spatial dimensions, e.g. (1,1,1,C) -> (1,C)."""
    if op.type != "RESHAPE":
        return False
    src = graph.tensors[op.inputs[0]].shape
    dst = graph.output_tensor(op).shape
    return src[-1] == dst[-1] and all(d == 1 for d in (*src[:-1], *dst[:-1]))


def can_head(graph: Graph, op: Operator) -> bool:
    """Can produce a slice of its output channels."""
    if op.type in ("CONV_2D", "FULLY_CONNECTED"):
        return graph.tensors[op.inputs[0]].dtype == "int8"
    return is_channelwise(graph, op) and op.type != "RESHAPE"


def can_accumulate(graph: Graph, op: Operator) -> bool:
    """Can consume its input channels a slice at a time into int32 partial sums (the kernel
    library's nn_pointwise_acc_s8: 1x1 stride-1 convolutions and fully connected layers)."""
    if op.type == "FULLY_CONNECTED":
        return len(graph.tensors[op.inputs[0]].shape) == 2
    if op.type == "CONV_2D":
        w = graph.tensors[op.inputs[1]]
        o = op.options
        return w.shape[1] == 1 and w.shape[2] == 1 and o.stride_h == 1 and o.stride_w == 1
    return False


def find_chains(graph: Graph) -> list[Chain]:
    """Every chain of two or more operators the kernels can run sliced, longest last for each
    head (all prefixes that end in a valid tail are listed: the schedule search picks)."""
    ops = graph.operators
    outputs = set(graph.outputs)
    found: list[Chain] = []
    for head in ops:
        if not can_head(graph, head):
            continue
        c = graph.output_tensor(head).shape[-1]
        inner: list[int] = []
        prev = head
        for nxt in ops[head.index + 1:]:
            t = prev.outputs[0]
            if t in outputs or graph.consumers(t) != [nxt] or channels(graph, t) != c:
                break
            if nxt.type == "ADD":
                other = [x for x in _activation_inputs(graph, nxt) if x != t]
                producer = graph.producer(other[0]) if len(other) == 1 else None
                if len(other) != 1 or (producer is not None and producer.index >= head.index):
                    break  # the second operand must be whole, made before the chain
            elif nxt.inputs[0] != t:
                break
            inner.append(t)
            if can_accumulate(graph, nxt):
                found.append(Chain((*range(head.index, nxt.index + 1),), tuple(inner), c,
                                   TAIL_ACCUMULATE))
                break
            if not is_channelwise(graph, nxt):
                break
            if nxt.type != "RESHAPE":
                found.append(Chain((*range(head.index, nxt.index + 1),), tuple(inner), c,
                                   TAIL_SLICES))
            prev = nxt
    return found
