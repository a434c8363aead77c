"""A Pex schedule against the layer-by-layer schedule of the same model: one comparison.

Peak RAM three ways (planned arena, measured static + stack + heap, measured live-bytes peak),
latency and the overhead in percent, the bound of any channel split (`peak_bound_bytes`), and
the buffers that make the planned peak (the "memory bottleneck"), from two `NNResult`s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.table import Table

from mcusim.nn.graph import Graph
from mcusim.nn.planner import ArenaPlan
from mcusim.nn.result import NNResult


@dataclass
class Comparison:
    layers: NNResult
    pex: NNResult
    peak_bound_bytes: int
    bottleneck: list[str]  # buffers live at the Pex plan's fullest step

    @property
    def overhead_percent(self) -> float:
        return 100.0 * (self.pex.cycles - self.layers.cycles) / self.layers.cycles

    @property
    def split_ops(self) -> list[int]:
        """Operators the Pex schedule runs in parts."""
        return sorted({s.op_index for s in self.pex.steps if s.name != f"L{s.op_index:02d}_{s.op}"})

    @property
    def split_overhead_cycles(self) -> int:
        """Extra cycles of the split operators alone (the rest of the difference is the same
        kernels on the same data at other code and data addresses: flash cache and prefetch
        alignment, which moves whole layers by a few percent either way)."""
        ops = set(self.split_ops)
        pex = sum(s.cycles for s in self.pex.steps if s.op_index in ops)
        layers = sum(s.cycles for s in self.layers.steps if s.op_index in ops)
        return pex - layers

    @property
    def ram_ratio(self) -> float:
        return self.layers.arena_bytes / max(self.pex.arena_bytes, 1)

    def to_json_dict(self) -> dict[str, Any]:
        def totals(r: NNResult) -> dict[str, Any]:
            return {"schedule": r.schedule["kind"], "arena_bytes": r.arena_bytes,
                    "peak_ram_bytes": r.peak_ram_bytes, "live_peak_bytes": r.live_peak_bytes,
                    "cycles": r.cycles, "seconds": r.seconds, "reference": r.reference}
        return {"peak_bound_bytes": self.peak_bound_bytes, "layers": totals(self.layers),
                "pex": totals(self.pex), "overhead_percent": round(self.overhead_percent, 3),
                "split_operators": self.split_ops,
                "split_overhead_cycles": self.split_overhead_cycles,
                "arena_ratio": round(self.ram_ratio, 3), "bottleneck": self.bottleneck}


def describe_buffer(graph: Graph, name: str) -> str:
    """'t12' -> 't12 (1x48x48x48 int8, expanded_conv...)', slices and scratch likewise."""
    if name.startswith("scratch"):
        return f"{name} (kernel scratch)"
    tensor = int(name[1:].split(".")[0])
    t = graph.tensors[tensor]
    kind = "slice of " if name.startswith("s") else ""
    shape = "x".join(str(d) for d in t.shape)
    return f"{name} ({kind}{shape} {t.name[:40]})"


def bottleneck(graph: Graph, plan: ArenaPlan) -> list[str]:
    """The buffers live at the step where the plan needs the most bytes, largest first."""
    if not plan.live_bytes:
        return []
    step = max(range(len(plan.live_bytes)), key=lambda i: plan.live_bytes[i])
    names = plan.live_during(step)
    return [describe_buffer(graph, n) for n in
            sorted(names, key=lambda n: -plan.buffers[n].size)]


def _b(n: int | None) -> str:
    return "-" if n is None else f"{n:,}"


def comparison_table(c: Comparison) -> Table:
    t = Table(title=f"{c.pex.model} on {c.pex.board}: partial execution against layer by layer",
              title_justify="left", header_style="bold", pad_edge=False)
    for col in ("schedule", "steps", "arena (planned) B", "peak RAM (measured) B",
                "live peak B", "cycles", "latency ms", "overhead", "reference"):
        t.add_column(col, justify="left" if col in ("schedule", "reference") else "right")
    for r in (c.layers, c.pex):
        over = "" if r is c.layers else f"{c.overhead_percent:+.2f} %"
        t.add_row(r.schedule["kind"], str(len(r.steps)), _b(r.arena_bytes),
                  _b(r.peak_ram_bytes), _b(r.live_peak_bytes), f"{r.cycles:,}",
                  f"{r.seconds * 1e3:.2f}", over, r.reference)
    return t


def print_comparison(out: Console, c: Comparison) -> None:
    out.print(comparison_table(c))
    out.print(f"bound of any channel split (peak_bound_bytes): {c.peak_bound_bytes:,} B; "
              f"Pex arena {c.pex.arena_bytes:,} B = {c.ram_ratio:.2f}x below layer by layer, "
              f"{100.0 * (c.pex.arena_bytes / max(c.peak_bound_bytes, 1) - 1):.1f} % above "
              "the bound")
    split = c.split_overhead_cycles
    out.print(f"operators run in slices: {c.split_ops or 'none'}; their extra cycles: {split:+,} "
              f"({100.0 * split / c.layers.cycles:+.2f} % of the layer-by-layer inference; the "
              "rest of the difference is code and constants at other flash addresses)")
    out.print("memory bottleneck (buffers live at the Pex plan's fullest step): " +
              "; ".join(c.bottleneck), soft_wrap=True)
