"""The arena planner: every intermediate tensor and kernel scratch buffer at a static offset in
one arena, such that buffers alive during the same step never overlap.

Planning is over `BufferUse`s (a name, a size, the first and last step that touch it), so any
schedule can be planned: `layer_buffers` derives them for whole-operator steps; a partial
execution schedule adds its slices and accumulators the same way. Placement is TFLite Micro's
greedy-by-size first fit, tried in a few orders, keeping the smallest arena.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from mcusim.nn.graph import Graph, Operator
from mcusim.nn.paths import kernels_dir
from mcusim.nn.schedule import Schedule, Step

ALIGN = 4  # every buffer starts word aligned: the kernels read int8 data as 32-bit words
DEFAULT_CONV_SCRATCH_PER_TAP = 16  # four int16 im2col column pairs (kernels_c/nn/src/nn_conv.c)


def align(n: int, to: int = ALIGN) -> int:
    return (n + to - 1) // to * to


@dataclass(frozen=True)
class BufferUse:
    name: str  # "t<tensor index>" for tensors, "scratch<step>" for scratch, or any unique name
    size: int  # bytes
    first: int  # first step index that writes or reads it
    last: int  # last step index that reads it (inclusive)

    def overlaps(self, other: BufferUse) -> bool:
        return self.first <= other.last and other.first <= self.last


@dataclass
class ArenaPlan:
    arena_bytes: int  # planned arena size
    offsets: dict[str, int]  # buffer name -> byte offset in the arena
    buffers: dict[str, BufferUse]
    live_bytes: list[int]  # planned bytes live during each step (buffers touching it)
    aliases: dict[int, int] = field(default_factory=dict)  # tensor -> tensor it shares storage

    @property
    def bound_bytes(self) -> int:
        """The strict lower bound of any placement of this schedule's buffers: the most bytes
        live during one step."""
        return max(self.live_bytes, default=0)

    def tensor_offset(self, tensor: int) -> int:
        return self.offsets[f"t{self.aliases.get(tensor, tensor)}"]

    def live_during(self, step: int) -> list[str]:
        return [b.name for b in self.buffers.values() if b.first <= step <= b.last]

    def check(self) -> None:
        """Raise AssertionError if two buffers alive at once overlap or one leaves the arena."""
        items = list(self.buffers.values())
        for i, a in enumerate(items):
            oa = self.offsets[a.name]
            assert oa >= 0 and oa + a.size <= self.arena_bytes, a.name
            for b in items[i + 1:]:
                ob = self.offsets[b.name]
                if a.overlaps(b) and a.size and b.size:
                    assert oa + a.size <= ob or ob + b.size <= oa, (a.name, b.name)


def scratch_bytes(graph: Graph, step: Step) -> int:
    """Kernel scratch of a step, by the kernel library's *_scratch_bytes formulas
    (kernels_c/nn/src): CONV_2D int16 im2col column pairs (conv_scratch_per_tap() * K bytes),
    the pointwise accumulation two int16 columns of the slice, rounded up to even."""
    op = graph.operators[step.op]
    if step.kernel != "exact":
        # Kernel variants (approximate kernels, issue 12) say what scratch they need.
        from mcusim.nn.approx.codegen import scratch_bytes as variant_scratch

        return variant_scratch(graph, step)
    if step.accumulator is not None or step.in_channels is not None:
        lo, hi = step.in_channels or (0, graph.tensors[op.inputs[0]].shape[-1])
        return 8 * ((hi - lo + 1) // 2)
    if op.type == "CONV_2D":
        _, kh, kw, cin = graph.tensors[op.inputs[1]].shape
        return conv_scratch_per_tap() * kh * kw * cin
    return 0


@lru_cache(maxsize=1)
def conv_scratch_per_tap() -> int:
    """Bytes of CONV_2D scratch per filter tap (k_h * k_w * in_c), as the kernel library's
    header defines it (NN_CONV2D_SCRATCH_BYTES_PER_TAP); the firmware checks it too."""
    header = kernels_dir() / "nn" / "include" / "nn_kernels.h"
    try:
        m = re.search(r"#define\s+NN_CONV2D_SCRATCH_BYTES_PER_TAP\s+\(?(\d+)",
                      header.read_text())
    except OSError:
        m = None
    return int(m.group(1)) if m else DEFAULT_CONV_SCRATCH_PER_TAP


def tensor_aliases(graph: Graph) -> dict[int, int]:
    """Tensors that share their input's storage (RESHAPE only changes the shape)."""
    aliases: dict[int, int] = {}
    for op in graph:
        if op.type == "RESHAPE":
            src = op.inputs[0]
            aliases[op.outputs[0]] = aliases.get(src, src)
    return aliases


def layer_buffers(graph: Graph, schedule: Schedule,
                  scratch: Callable[[Graph, Step], int] = scratch_bytes
                  ) -> tuple[list[BufferUse], dict[int, int]]:
    """The buffers of a schedule whose steps each run whole operators: every activation
    tensor from its producing step to its last reader (graph inputs from step 0, outputs to
    the end, so the host can read them), and each step's scratch for that step alone."""
    aliases = tensor_aliases(graph)
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    end = len(schedule) - 1
    for t in graph.inputs:
        first[t] = 0
    for i, step in enumerate(schedule):
        op: Operator = graph.operators[step.op]
        for t in (*op.inputs, *op.outputs):
            if t is None or graph.tensors[t].is_const:
                continue
            root = aliases.get(t, t)
            first.setdefault(root, i)
            last[root] = i
    for t in graph.outputs:
        last[aliases.get(t, t)] = end
    uses = [BufferUse(f"t{t}", align(graph.tensors[t].nbytes), first[t], last.get(t, first[t]))
            for t in sorted(first)]
    for i, step in enumerate(schedule):
        size = scratch(graph, step)
        if size:
            uses.append(BufferUse(f"scratch{i}", align(size), i, i))
    return uses, aliases


def place(buffers: Iterable[BufferUse], order: Callable[[BufferUse], object]
          ) -> tuple[int, dict[str, int]]:
    """First fit in the given order: each buffer at the lowest offset where it overlaps no
    already placed buffer alive at the same time."""
    placed: list[tuple[int, BufferUse]] = []
    offsets: dict[str, int] = {}
    for b in sorted(buffers, key=order):
        conflicts = sorted(((o, p) for o, p in placed if p.overlaps(b) and p.size),
                           key=lambda c: c[0])
        offset = 0
        for o, p in conflicts:
            if offset + b.size <= o:
                break
            offset = max(offset, align(o + p.size))
        offsets[b.name] = offset
        placed.append((offset, b))
    size = max((o + b.size for o, b in placed), default=0)
    return size, offsets


_ORDERS: tuple[Callable[[BufferUse], object], ...] = (
    lambda b: (-b.size, b.first, b.name),  # TFLite Micro's greedy by size
    lambda b: (-(b.size * (b.last - b.first + 1)), b.first, b.name),
    lambda b: (b.first, -b.size, b.name),
)


def plan_arena(buffers: list[BufferUse], aliases: dict[int, int] | None = None,
               steps: int | None = None) -> ArenaPlan:
    steps = steps if steps is not None else max((b.last for b in buffers), default=-1) + 1
    best: tuple[int, dict[str, int]] | None = None
    for order in _ORDERS:
        size, offsets = place(buffers, order)
        if best is None or size < best[0]:
            best = (size, offsets)
    assert best is not None
    live = [sum(b.size for b in buffers if b.first <= s <= b.last) for s in range(steps)]
    plan = ArenaPlan(best[0], best[1], {b.name: b for b in buffers}, live, dict(aliases or {}))
    return plan


def plan_layers(graph: Graph, schedule: Schedule) -> ArenaPlan:
    buffers, aliases = layer_buffers(graph, schedule)
    return plan_arena(buffers, aliases, len(schedule))
