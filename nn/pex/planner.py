"""The partial-buffer arena planner: slices, accumulators and whole tensors at static offsets.

Buffers come from `buffers.derive` with their size over time (an accumulator shrinks to its
int8 output after the requantisation). Placement is first fit, as the layer planner's, in a few
orders, keeping the smallest arena; a buffer conflicts with a placed one only where their
lifetimes overlap and, there, with the bytes each holds at that time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from mcusim.nn.graph import Graph
from mcusim.nn.pex.buffers import BufferSet, Segment, derive
from mcusim.nn.planner import ArenaPlan, BufferUse, align
from mcusim.nn.schedule import Schedule


@dataclass
class PexPlan(ArenaPlan):
    """An ArenaPlan whose buffers may shrink over time (`segments`), with the slice layout."""

    segments: dict[str, list[Segment]] = field(default_factory=dict)
    layout: BufferSet | None = None
    step_index: dict[str, int] = field(default_factory=dict)  # step (region) name -> index

    def tensor_offset(self, tensor: int) -> int:
        """Offset of a whole tensor; for a tensor held only as slices, its first slice's (so
        generic code that asks still gets an address; Pex steps use `slice_offset`)."""
        root = self.aliases.get(tensor, tensor)
        name = f"t{root}"
        if name not in self.offsets and self.layout and root in self.layout.slices:
            name = self.layout.slices[root][0][1]
        return self.offsets[name]

    def is_whole(self, tensor: int) -> bool:
        return f"t{self.aliases.get(tensor, tensor)}" in self.offsets

    def slice_buffer(self, step: int, tensor: int) -> str | None:
        assert self.layout is not None
        root = self.aliases.get(tensor, tensor)
        return self.layout.slice_of_step.get((step, root))

    def live_during(self, step: int) -> list[str]:
        return [n for n, segs in self.segments.items() if _size_at(segs, step)]

    def check(self) -> None:
        """Raise AssertionError if two buffers overlap in bytes at a step they are both alive
        at, or one leaves the arena."""
        items = list(self.segments.items())
        for n, (a, sa) in enumerate(items):
            oa = self.offsets[a]
            assert oa >= 0 and oa + max(s[2] for s in sa) <= self.arena_bytes, a
            assert oa % 4 == 0, a
            for b, sb in items[n + 1:]:
                ob = self.offsets[b]
                for fa, la, za in sa:
                    for fb, lb, zb in sb:
                        if fa <= lb and fb <= la and za and zb:
                            assert oa + za <= ob or ob + zb <= oa, (a, b)


def _size_at(segs: list[Segment], step: int) -> int:
    return next((z for f, last, z in segs if f <= step <= last), 0)


def _forbidden(placed: list[tuple[int, list[Segment]]], segs: list[Segment]
               ) -> list[tuple[int, int]]:
    """Open intervals of offsets where `segs` would overlap a placed buffer."""
    out = []
    for offset, other in placed:
        for f, last, z in segs:
            for fo, lo, zo in other:
                if f <= lo and fo <= last and z and zo:
                    out.append((offset - z, offset + zo))
    return out


def place(segments: dict[str, list[Segment]], order: Callable[[str], object]
          ) -> tuple[int, dict[str, int]]:
    placed: list[tuple[int, list[Segment]]] = []
    offsets: dict[str, int] = {}
    for name in sorted(segments, key=order):
        segs = segments[name]
        x = 0
        for lo, hi in sorted(_forbidden(placed, segs)):
            if x <= lo:
                break
            x = max(x, align(hi))
        offsets[name] = x
        placed.append((x, segs))
    size = max((offsets[n] + max(z for _, _, z in s) for n, s in segments.items()), default=0)
    return size, offsets


def plan_pex(graph: Graph, schedule: Schedule) -> PexPlan:
    layout = derive(graph, schedule)
    segs = layout.segments
    peak = {n: max(z for _, _, z in s) for n, s in segs.items()}
    first = {n: min(f for f, _, _ in s) for n, s in segs.items()}
    span = {n: sum((last - f + 1) * z for f, last, z in s) for n, s in segs.items()}
    orders: tuple[Callable[[str], object], ...] = (
        lambda n: (-peak[n], first[n], n),
        lambda n: (-span[n], first[n], n),
        lambda n: (first[n], -peak[n], n),
    )
    best = min((place(segs, o) for o in orders), key=lambda r: r[0])
    steps = len(schedule)
    live = [sum(_size_at(s, i) for s in segs.values()) for i in range(steps)]
    buffers = {n: BufferUse(n, peak[n], first[n], max(last for _, last, _ in s))
               for n, s in segs.items()}
    return PexPlan(best[0], best[1], buffers, live, dict(layout.aliases), segments=segs,
                   layout=layout, step_index={s.name: i for i, s in enumerate(schedule)})
