"""Choosing which chains run sliced and how wide the slices are: a segmentation of the graph.

The graph (in execution order) is cut into segments, each a single operator run whole or a chain
(`chains.find_chains`) run `width` channels at a time. Because a chain's inner tensors live only
inside it, the bytes live during a segment depend on that segment alone (`memory.py`), so the
peak of a segmentation is the largest segment figure, and the best one is found by dynamic
programming over operator positions: first the smallest reachable peak, then, under that peak,
the segmentation with the smallest estimated slicing cost (fewest extra kernel calls and
accumulator passes), so operators already under the peak stay whole.

`peak_bound_bytes` is the smallest peak of any segmentation with one-channel slices: no channel
split of these chains can need fewer bytes at its fullest step.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from mcusim.nn.graph import Graph
from mcusim.nn.pex.chains import TAIL_ACCUMULATE, Chain, find_chains
from mcusim.nn.pex.memory import LayerLifetimes, chain_bytes, layer_step_bytes
from mcusim.nn.planner import scratch_bytes
from mcusim.nn.schedule import Schedule, Step


@dataclass(frozen=True)
class Segment:
    start: int
    end: int  # inclusive operator positions
    chain: Chain | None  # None: the single operator `start` runs whole
    width: int  # channels per slice (0 for a whole operator)
    live_bytes: int
    cost: float  # estimated extra cycles of slicing (for ranking only)
    bands: int = 0  # > 0: operators start..end run in this many bands of rows (patches)

    @property
    def slices(self) -> int:
        return 0 if self.chain is None else math.ceil(self.chain.channels / self.width)


# Cycles one more slice adds, per output pixel, by what the step does. These are what the
# kernels_c/nn kernels cost on this simulator's Cortex-M4 (nucleo-l4r5zi, per-step cycles of
# MobileNetV2 0.35, VWW and ResNet-8 split 2 to 8 ways against layer by layer); they only rank
# candidate schedules: every latency mcusim reports is measured.
PER_TAP_IM2COL = 250.0  # a k x k convolution rebuilds its im2col columns for every slice
POINTWISE_FILL = (50.0, 6.5)  # a 1x1 convolution re-reads its input pixel: a + b * in_c
DEPTHWISE_PIXEL = 1800.0  # a depthwise slice pays the window set-up of every pixel again
ELEMENTWISE_PIXEL = 40.0  # ADD, pooling, MEAN
ACCUMULATE = (100.0, 36.0)  # an accumulating slice re-reads and re-writes the sums: a + b*out_c
CALL = 300.0  # a kernel call and its parameter set-up
CONV_CYCLES_PER_MAC = 6.0  # whole-model estimate the overhead is set against (same kernels)
DEPTHWISE_WHOLE = (1800.0, 170.0)  # per output pixel: a + b * channels


def _pixels(graph: Graph, op: int) -> int:
    shape = graph.output_tensor(graph.operators[op]).shape
    n = 1
    for d in shape[:-1]:
        n *= d
    return n


def slicing_cost(graph: Graph, chain: Chain, width: int) -> float:
    """Estimated extra cycles of running `chain` in slices of `width` channels."""
    n = math.ceil(chain.channels / width)
    extra = CALL * n * len(chain.ops)
    for pos, k in enumerate(chain.ops):
        op = graph.operators[k]
        px = _pixels(graph, k)
        if k == chain.last and chain.tail == TAIL_ACCUMULATE:
            cout = graph.output_tensor(op).shape[-1]
            extra += (n - 1) * px * (ACCUMULATE[0] + ACCUMULATE[1] * cout)
        elif pos == 0 and op.type == "CONV_2D":
            _, kh, kw, cin = graph.tensors[op.inputs[1]].shape
            if kh * kw > 1:
                extra += (n - 1) * px * kh * kw * PER_TAP_IM2COL
            else:
                extra += (n - 1) * px * (POINTWISE_FILL[0] + POINTWISE_FILL[1] * cin)
        elif op.type == "DEPTHWISE_CONV_2D":
            extra += (n - 1) * px * DEPTHWISE_PIXEL
        elif op.type != "RESHAPE":
            extra += (n - 1) * px * ELEMENTWISE_PIXEL
    return extra


def op_cycles(graph: Graph, k: int) -> float:
    """A rough estimate of one operator's cycles run whole."""
    op = graph.operators[k]
    px = _pixels(graph, k)
    c = graph.output_tensor(op).shape[-1]
    if op.type == "DEPTHWISE_CONV_2D":
        return px * (DEPTHWISE_WHOLE[0] + DEPTHWISE_WHOLE[1] * c)
    if op.type in ("CONV_2D", "FULLY_CONNECTED"):
        return CONV_CYCLES_PER_MAC * graph.macs(op)
    return ELEMENTWISE_PIXEL * px * c / 8


def estimated_cycles(graph: Graph) -> float:
    """A rough whole-inference estimate (what the latency bound is a fraction of)."""
    return sum(op_cycles(graph, op.index) for op in graph)


PATCH_BANDS = (4, 8, 12, 16, 24)


def patch_segments(graph: Graph, bands: int | None = None) -> list[Segment]:
    """Candidate patch segments: each runnable prefix of the graph in row bands; live bytes
    from the partial-buffer planner's derivation, cost = recomputed rows + calls."""
    from mcusim.nn.pex.buffers import derive
    from mcusim.nn.pex.patches import patch_prefixes, patch_steps, recomputed_rows

    found = []
    tail = [Step(k, f"whole{k}") for k in range(len(graph.operators))]
    for last in patch_prefixes(graph):
        height = graph.output_tensor(graph.operators[last]).shape[1]
        for b in sorted({min(n, height) for n in ((bands,) if bands else PATCH_BANDS)}):
            steps = patch_steps(graph, last, b)
            layout = derive(graph, Schedule("patch", steps + tail[last + 1:]))
            live = max(sum(next((z for f, e, z in segs if f <= i <= e), 0)
                           for segs in layout.segments.values()) for i in range(len(steps)))
            cost = CALL * len(steps)
            for k, extra in recomputed_rows(graph, steps).items():
                h = graph.output_tensor(graph.operators[k]).shape[1]
                cost += op_cycles(graph, k) * extra / h
            found.append(Segment(0, last, None, 0, live, cost, bands=b))
    return found


def candidate_widths(channels: int, slices: int | None) -> list[int]:
    """Slice widths tried for a chain: N slices if given, else every split into 2..C parts."""
    if slices is not None:
        return [max(1, math.ceil(channels / slices))]
    return sorted({math.ceil(channels / n) for n in range(2, channels + 1)})


def segments(graph: Graph, slices: int | None = None, min_width: int = 1) -> list[Segment]:
    """Every candidate segment: each operator whole, each chain at each candidate width."""
    life = LayerLifetimes.of(graph)
    found = []
    for op in graph:
        scratch = scratch_bytes(graph, Step(op.index, ""))
        found.append(Segment(op.index, op.index, None, 0,
                             layer_step_bytes(graph, op.index, life, scratch), 0.0))
    for chain in find_chains(graph):
        for width in candidate_widths(chain.channels, slices):
            if width < min_width and width < chain.channels:
                continue
            found.append(Segment(chain.head, chain.last, chain, width,
                                 chain_bytes(graph, chain, width, life),
                                 slicing_cost(graph, chain, width)))
    return found


def best_under(options: Iterable[Segment], n_ops: int, peak: int) -> list[Segment] | None:
    """The cheapest segmentation whose every segment stays within `peak` bytes, or None."""
    by_end: dict[int, list[Segment]] = {}
    for s in options:
        if s.live_bytes <= peak:
            by_end.setdefault(s.end, []).append(s)
    best: list[tuple[float, list[Segment]] | None] = [None] * (n_ops + 1)
    best[0] = (0.0, [])
    for end in range(n_ops):
        for s in by_end.get(end, []):
            before = best[s.start]
            if before is None:
                continue
            cost = before[0] + s.cost
            current = best[end + 1]
            if current is None or cost < current[0]:
                best[end + 1] = (cost, [*before[1], s])
    final = best[n_ops]
    return None if final is None else final[1]


def min_peak_segmentation(graph: Graph, options: list[Segment]) -> tuple[int, list[Segment]]:
    """The smallest reachable peak and the cheapest segmentation that reaches it."""
    n = len(graph.operators)
    peaks = sorted({s.live_bytes for s in options})
    lo, hi = 0, len(peaks) - 1
    while lo < hi:  # feasibility is monotone in the peak: binary search
        mid = (lo + hi) // 2
        if best_under(options, n, peaks[mid]) is None:
            lo = mid + 1
        else:
            hi = mid
    chosen = best_under(options, n, peaks[lo])
    assert chosen is not None  # the all-whole segmentation fits the largest peak
    return peaks[lo], chosen


def bounded_segmentation(graph: Graph, options: list[Segment], budget: float
                         ) -> tuple[int, list[Segment]]:
    """The smallest peak whose cheapest segmentation costs at most `budget` extra cycles."""
    n = len(graph.operators)
    peaks = sorted({s.live_bytes for s in options})
    for peak in peaks:  # ascending: the first within budget has the smallest peak
        chosen = best_under(options, n, peak)
        if chosen is not None and sum(s.cost for s in chosen) <= budget:
            return peak, chosen
    raise AssertionError("the all-whole segmentation costs nothing")


def peak_bound_bytes(graph: Graph) -> int:
    """The smallest peak any channel split of the graph's chains can reach (one-channel
    slices, where slicing can help at all)."""
    life = LayerLifetimes.of(graph)
    options = segments(graph, slices=None, min_width=1)
    extra = [Segment(c.head, c.last, c, 1, chain_bytes(graph, c, 1, life), 0.0)
             for c in find_chains(graph)]
    return min_peak_segmentation(graph, options + extra)[0]


def layer_peak_bytes(graph: Graph) -> int:
    """The largest live bytes of a layer-by-layer run with the same storage sharing."""
    return max(s.live_bytes for s in segments(graph, slices=1) if s.chain is None)
