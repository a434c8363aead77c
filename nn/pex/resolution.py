"""The recovered SRAM put to use: the largest input resolution that fits a board, per schedule.

A convolutional network with a global pooling before its classifier runs at any input size with
the same weights and quantisation: `at_resolution` re-derives every activation shape of a graph
for a new input height and width (a final average pool becomes global over whatever spatial
size reaches it), so the planner can size both schedules, and the firmware runs and is checked
against the reference at that size.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace

from mcusim.nn import quant
from mcusim.nn.graph import Graph, Pool2DOptions, ReshapeOptions
from mcusim.nn.pex.planner import plan_pex
from mcusim.nn.pex.schedule import pex_schedule
from mcusim.nn.pex.search import peak_bound_bytes
from mcusim.nn.planner import plan_layers
from mcusim.nn.schedule import layer_schedule


def at_resolution(graph: Graph, height: int, width: int) -> Graph:
    """A copy of `graph` whose (NHWC) input is height x width, every shape re-derived."""
    g = copy.deepcopy(graph)
    x = g.tensors[g.inputs[0]]
    x.shape = (x.shape[0], height, width, x.shape[3])
    g.name = f"{graph.name}@{height}x{width}"
    for op in g:
        ins = g.tensors[op.inputs[0]]
        out = g.output_tensor(op)
        o = op.options
        if op.type in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            w = g.tensors[op.inputs[1]]
            oh, _ = quant.same_padding(ins.shape[1], w.shape[1], o.stride_h, o.dilation_h,
                                       o.padding)
            ow, _ = quant.same_padding(ins.shape[2], w.shape[2], o.stride_w, o.dilation_w,
                                       o.padding)
            out.shape = (1, oh, ow, out.shape[3])
        elif op.type in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
            assert isinstance(o, Pool2DOptions)
            if out.shape[1] == 1 and out.shape[2] == 1:  # global: follow the input size
                op.options = replace(o, filter_h=ins.shape[1], filter_w=ins.shape[2],
                                     stride_h=ins.shape[1], stride_w=ins.shape[2])
            else:
                oh, _ = quant.same_padding(ins.shape[1], o.filter_h, o.stride_h, 1, o.padding)
                ow, _ = quant.same_padding(ins.shape[2], o.filter_w, o.stride_w, 1, o.padding)
                out.shape = (1, oh, ow, out.shape[3])
        elif op.type == "ADD":
            out.shape = ins.shape
        elif op.type == "RESHAPE":
            if not all(d == 1 for d in ins.shape[1:-1]):
                raise ValueError(f"{graph.name}: RESHAPE #{op.index} of a {ins.shape} tensor "
                                 "does not follow a global pool; cannot resize")
            if isinstance(o, ReshapeOptions):
                op.options = replace(o, new_shape=out.shape)
    return g


@dataclass(frozen=True)
class ResolutionFit:
    size: int
    layers_arena: int
    pex_arena: int
    bound: int
    budget: int
    patch_arena: int  # pex:4+patch:12 (Pex with the first layers in 12 row bands)

    @property
    def layers_fit(self) -> bool:
        return self.layers_arena <= self.budget

    @property
    def pex_fit(self) -> bool:
        return self.pex_arena <= self.budget

    @property
    def patch_fit(self) -> bool:
        return self.patch_arena <= self.budget


PATCH_SLICES, PATCH_BANDS = 4, 12


def resolution_study(graph: Graph, sizes: list[int], budget: int) -> list[ResolutionFit]:
    """Planned arenas (layer by layer, automatic Pex) and the bound at each square input size;
    `budget` is the RAM the arena may use (board RAM less the stack reserve and statics)."""
    rows = []
    for s in sizes:
        g = at_resolution(graph, s, s)
        layers = plan_layers(g, layer_schedule(g)).arena_bytes
        schedule, _ = pex_schedule(g)
        pex = plan_pex(g, schedule).arena_bytes if not all(x.whole for x in schedule) else \
            layers
        patched, _ = pex_schedule(g, PATCH_SLICES, patches=True, bands=PATCH_BANDS)
        rows.append(ResolutionFit(s, layers, pex, peak_bound_bytes(g), budget,
                                  plan_pex(g, patched).arena_bytes))
    return rows
