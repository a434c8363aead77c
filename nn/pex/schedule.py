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
from mcusim.nn.pex.patches import patch_steps
from mcusim.nn.pex.search import (
    Segment,
    bounded_segmentation,
    estimated_cycles,
    min_peak_segmentation,
    patch_segments,
    segments,
)
from mcusim.nn.schedule import Schedule, Step, step_name
from mcusim.nn.sim_api import UsageError

DEFAULT_LATENCY_BOUND = 0.05  # automatic slicing: at most ~5 % more cycles (estimated)


def accumulator_name(op: int) -> str:
    return f"acc{op}"


def segment_steps(graph: Graph, seg: Segment) -> list[Step]:
    if seg.bands:
        return patch_steps(graph, seg.end, seg.bands)
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
                steps.append(Step(k, name, out_channels=r))  # channel-wise: reads r too
    if chain.tail == TAIL_ACCUMULATE:
        steps.append(Step(chain.last, step_name(graph, chain.last, "_req"),
                          accumulator=accumulator_name(chain.last), first=False,
                          params={REQUANTIZE: True}))
    return steps


def schedule_of(graph: Graph, chosen: list[Segment], kind: str) -> Schedule:
    steps = [s for seg in chosen for s in segment_steps(graph, seg)]
    return Schedule(kind, steps)


def pex_schedule(graph: Graph, slices: int | None = None,
                 latency_bound: float = DEFAULT_LATENCY_BOUND, *, pex: bool = True,
                 patches: bool = False, bands: int | None = None) -> tuple[Schedule, int]:
    """The schedule with the smallest peak and that peak in bytes (planner bound). Pex
    chains with N slices each, or (slices None) slice widths chosen per chain so that the
    estimated extra cycles stay within `latency_bound` (a fraction) of the estimated
    inference; with `patches`, the first operators may also run in row bands (`bands` of
    them, or chosen likewise)."""
    options = segments(graph, slices=slices) if pex else segments(graph, slices=1)[
        :len(graph.operators)]
    if patches:
        options += patch_segments(graph, bands)
    kind = "+".join(([f"pex:{slices}" if slices else "pex"] if pex else []) +
                    ([f"patch:{bands}" if bands else "patch"] if patches else []))
    if slices is not None and (bands is not None or not patches):
        peak, chosen = min_peak_segmentation(graph, options)
    else:
        budget = latency_bound * estimated_cycles(graph)
        peak, chosen = bounded_segmentation(graph, options, budget)
    return schedule_of(graph, chosen, kind), peak


_PART = re.compile(r"^(pex|patch)(?::(\d+))?$")


def parse_spec(spec: str) -> dict:
    """"pex", "pex:N", "patch", "patch:B" or two of them joined by "+" -> keyword arguments
    of `pex_schedule`; anything else is a UsageError (exit 64)."""
    kw: dict = {"pex": False, "patches": False}
    for part in spec.split("+"):
        m = _PART.match(part)
        n = int(m.group(2)) if m and m.group(2) is not None else None
        if not m or (n is not None and n < 1) or kw["pex" if m.group(1) == "pex" else
                                                       "patches"]:
            raise UsageError(f"--schedule {spec!r}: expected 'layers', 'pex', 'pex:N' with "
                             "N >= 1 slices, 'patch' or 'patch:B' (B row bands of the first "
                             "layers), 'pex+patch[:B]', or a schedule JSON file")
        if m.group(1) == "pex":
            kw["pex"], kw["slices"] = True, n
        else:
            kw["patches"], kw["bands"] = True, n
    return kw


def make_schedule(graph: Graph, spec: str, board: str | None = None) -> Schedule:
    """`--schedule pex` / `pex:N` / `pex+patch` ... for a graph (board reserved for
    latency-aware choices)."""
    return pex_schedule(graph, **parse_spec(spec))[0]
