"""Region markers: begin/end events paired into occurrences, and their totals."""

from __future__ import annotations

from dataclasses import dataclass

from mcusim.sim.result import RegionCount


@dataclass
class RegionEvent:
    """A marker as the run passed it: the totals at its exact instruction."""

    name: str
    begin: bool
    instructions: int
    cycles: int


def pair_regions(events: list[RegionEvent]
                 ) -> tuple[list[tuple[RegionEvent, RegionEvent, int]], list[str]]:
    """Begin/end marker events paired per name, innermost first: (begin, end, depth of
    that name's nesting once closed); and warnings for markers that do not pair up."""
    open_at: dict[str, list[RegionEvent]] = {}
    pairs: list[tuple[RegionEvent, RegionEvent, int]] = []
    warnings: list[str] = []
    for ev in events:
        stack = open_at.setdefault(ev.name, [])
        if ev.begin:
            stack.append(ev)
        elif stack:
            pairs.append((stack.pop(), ev, len(stack)))
        else:
            warnings.append(f"region '{ev.name}' ended without a matching begin")
    for name, stack in open_at.items():
        if stack:
            warnings.append(f"region '{name}' began {len(stack)} time(s) without an end")
    return pairs, warnings


def region_counts(events: list[RegionEvent]) -> tuple[list[RegionCount], list[str]]:
    """Per-name region totals in order of first appearance, and warnings for markers that do
    not pair up. Nested and repeated regions each count once per begin/end pair."""
    totals = {ev.name: RegionCount(ev.name, 0, 0, 0) for ev in events if ev.begin}
    pairs, warnings = pair_regions(events)
    for start, end, _ in pairs:
        t = totals[start.name]
        t.count += 1
        t.cycles += end.cycles - start.cycles
        t.instructions += end.instructions - start.instructions
    return [t for t in totals.values() if t.count], warnings
