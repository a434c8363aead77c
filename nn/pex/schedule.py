"""Pex schedules as data: the steps of a segmentation, and `--schedule pex[:N]` parsing.

A chain run in slices becomes, for each channel range [c0, c1): one step per operator of the
chain with that range (the head computes output channels [c0, c1); the middle operators read
and write that slice; a slice-writing tail writes it into its whole output; an accumulating tail
adds input channels [c0, c1) into the int32 accumulator "acc<op>", `first` on the first slice),
then, for an accumulating tail, one step requantising the accumulator into the int8 output.
RESHAPEs inside a chain get no step (the slice buffer is shared).
"""

from __future__ import annotations

import re

from mcusim.nn.graph import Graph
from mcusim.nn.pex.buffers import REQUANTIZE  # noqa: F401  (re-exported)
from mcusim.nn.pex.chains import TAIL_ACCUMULATE
from mcusim.nn.pex.search import (
    Segment,
    bounded_segmentation,
    estimated_cycles,
    min_peak_segmentation,
    segments,
)
from mcusim.nn.schedule import Schedule, Step, step_name
from mcusim.nn.sim_api import UsageError

DEFAULT_LATENCY_BOUND = 0.05  # automatic slicing: at most ~5 % more cycles (estimated)


def accumulator_name(op: int) -> str:
    return f"acc{op}"


def segment_steps(graph: Graph, seg: Segment) -> list[Step]:
    if seg.chain is None:
        return [Step(seg.start, step_name(graph, seg.start))]
    chain = seg.chain
    steps: list[Step] = []
    ranges = [(c, min(c + seg.width, chain.channels))
              for c in range(0, chain.channels, seg.width)]
    for r in ranges:
        suffix = f"_c{r[0]}"
        for pos, k in enumerate(chain.ops):
            op = graph.operators[k]
            if op.type == "RESHAPE":
                continue
            name = step_name(graph, k, suffix)
            if pos == 0:
                steps.append(Step(k, name, out_channels=r))
            elif k == chain.last and chain.tail == TAIL_ACCUMULATE:
                steps.append(Step(k, name, in_channels=r, accumulator=accumulator_name(k),
                                  first=r == ranges[0]))
            else:
                steps.append(Step(k, name, out_channels=r, in_channels=r))
    if chain.tail == TAIL_ACCUMULATE:
        steps.append(Step(chain.last, step_name(graph, chain.last, "_req"),
                          accumulator=accumulator_name(chain.last), first=False,
                          params={REQUANTIZE: True}))
    return steps


def schedule_of(graph: Graph, chosen: list[Segment], kind: str) -> Schedule:
    steps = [s for seg in chosen for s in segment_steps(graph, seg)]
    return Schedule(kind, steps)


def pex_schedule(graph: Graph, slices: int | None = None,
                 latency_bound: float = DEFAULT_LATENCY_BOUND) -> tuple[Schedule, int]:
    """The Pex schedule with the smallest peak and that peak in bytes (planner bound): with N
    slices per chain, or (slices None) slice widths chosen per chain so that the estimated
    extra cycles stay within `latency_bound` (a fraction) of the estimated inference."""
    if slices is not None:
        peak, chosen = min_peak_segmentation(graph, segments(graph, slices=slices))
        return schedule_of(graph, chosen, f"pex:{slices}"), peak
    budget = latency_bound * estimated_cycles(graph)
    peak, chosen = bounded_segmentation(graph, segments(graph), budget)
    return schedule_of(graph, chosen, "pex"), peak


_SPEC = re.compile(r"^pex(?::(\d+))?$")


def parse_spec(spec: str) -> int | None:
    """"pex" -> None (automatic), "pex:N" -> N; anything else is a UsageError (exit 64)."""
    m = _SPEC.match(spec)
    if not m or (m.group(1) is not None and int(m.group(1)) < 1):
        raise UsageError(f"--schedule {spec!r}: expected 'layers', 'pex', 'pex:N' with N >= 1 "
                         "slices, or a schedule JSON file")
    return None if m.group(1) is None else int(m.group(1))


def make_schedule(graph: Graph, spec: str, board: str | None = None) -> Schedule:
    """`--schedule pex` / `pex:N` for a graph (board reserved for latency-aware choices)."""
    return pex_schedule(graph, parse_spec(spec))[0]
