"""Points of a design-space exploration, their Pareto front, and the CSV / JSON / plot views."""

from __future__ import annotations

import csv
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Point:
    config: dict[str, float]  # operator index (str) -> skip fraction; {} = exact
    latency_cycles: int
    accuracy: float  # top-1 (labels) or top-1 agreement with the exact model, in [0, 1]
    layer_cycles: dict[str, int] = field(default_factory=dict)  # region name -> cycles
    macs_kept: int = 0
    pareto: bool = False
    source: str = ""  # how the search found it: "exact", "layer", "greedy", "grid"

    def key(self) -> str:
        return json.dumps(self.config, sort_keys=True, separators=(",", ":"))


def dominates(a: Point, b: Point) -> bool:
    """a is at least as fast and as accurate as b, and strictly better in one."""
    return (a.latency_cycles <= b.latency_cycles and a.accuracy >= b.accuracy
            and (a.latency_cycles < b.latency_cycles or a.accuracy > b.accuracy))


def mark_pareto(points: list[Point]) -> list[Point]:
    """Set `pareto` on the non-dominated points (lower latency, higher accuracy); returns the
    front sorted by latency. Points with identical (latency, accuracy) are all kept."""
    front = []
    for p in points:
        p.pareto = not any(dominates(q, p) for q in points)
        if p.pareto:
            front.append(p)
    return sorted(front, key=lambda p: (p.latency_cycles, -p.accuracy))


def reduction(p: Point, exact: Point) -> float:
    return 1.0 - p.latency_cycles / exact.latency_cycles


def loss_pp(p: Point, exact: Point) -> float:
    return 100.0 * (exact.accuracy - p.accuracy)


def best_within(points: list[Point], exact: Point, max_loss_pp: float) -> Point | None:
    """The fastest point losing at most `max_loss_pp` percentage points."""
    ok = [p for p in points if loss_pp(p, exact) <= max_loss_pp + 1e-9]
    return min(ok, key=lambda p: (p.latency_cycles, -p.accuracy), default=None)


def write_csv(points: list[Point], exact: Point, path: Path) -> None:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["config", "latency_cycles", "latency_reduction", "accuracy",
                    "accuracy_loss_pp", "macs_kept", "pareto", "source"])
        for p in points:
            w.writerow([p.key(), p.latency_cycles, f"{reduction(p, exact):.4f}",
                        f"{p.accuracy:.4f}", f"{loss_pp(p, exact):.2f}", p.macs_kept,
                        int(p.pareto), p.source])


def study_json(board: str, model: str, metric: str, exact: Point, points: list[Point],
               extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "schema": "mcusim.dse/1",
        "model": model,
        "board": board,
        "metric": metric,
        "exact": {"latency_cycles": exact.latency_cycles, "accuracy": exact.accuracy,
                  "layer_cycles": exact.layer_cycles},
        "points": [asdict(p) for p in points],
        **(extra or {}),
    }


def plot_front(points: list[Point], exact: Point, path: Path, title: str) -> None:
    """Latency reduction (%) vs accuracy loss (pp): every point, the front as a line, the exact
    model at the origin."""
    plot_fronts([(title, exact, points)], path)


def plot_fronts(studies: list[tuple[str, Point, list[Point]]], path: Path) -> None:
    """One panel per study (e.g. per board), side by side."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(studies), figsize=(5.6 * len(studies), 4.2), dpi=110,
                             squeeze=False)
    for ax, (title, exact, points) in zip(axes[0], studies, strict=True):
        _panel(ax, title, exact, points)
    fig.tight_layout()
    # The Software text chunk marks the picture as mcusim's (a later run may replace it).
    fig.savefig(path, metadata={"Software": "mcusim dse"})
    plt.close(fig)


def _panel(ax, title: str, exact: Point, points: list[Point]) -> None:
    xs = [100 * reduction(p, exact) for p in points]
    ys = [loss_pp(p, exact) for p in points]
    ax.scatter(xs, ys, s=14, c="#9aa5b1", label="candidates", zorder=2)
    front = sorted((p for p in points if p.pareto), key=lambda p: p.latency_cycles,
                   reverse=True)
    ax.plot([100 * reduction(p, exact) for p in front], [loss_pp(p, exact) for p in front],
            "o-", color="#d1495b", ms=4, label="Pareto front", zorder=3)
    ax.scatter([0], [0], marker="*", s=160, color="#2e4057", label="exact int8", zorder=4)
    ax.axhline(0.5, ls="--", lw=0.8, color="#66a182")
    ax.axvline(20, ls="--", lw=0.8, color="#66a182")
    ax.set_xlabel("latency reduction vs exact int8 (%)")
    ax.set_ylabel("top-1 loss vs exact int8 (pp)")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    unrolled = [p for p in points if p.source == "unrolled"]
    if unrolled:
        ax.scatter([100 * reduction(unrolled[0], exact)], [loss_pp(unrolled[0], exact)],
                   marker="D", s=50, color="#edae49", label="generated, nothing skipped",
                   zorder=4)
    # The interesting part is the first few points of loss; far-off points are drawn on the
    # top edge and counted.
    top = 5.0
    far = [p for p in points if loss_pp(p, exact) > top]
    if far:
        ax.scatter([100 * reduction(p, exact) for p in far], [top] * len(far), marker="^",
                   s=14, c="#9aa5b1", zorder=2)
        ax.text(0.99, 0.97, f"{len(far)} points above {top:g} pp (drawn at the edge)",
                transform=ax.transAxes, ha="right", va="top", fontsize=7, color="#555")
    ax.set_ylim(min(-0.3, min(loss_pp(p, exact) for p in points) - 0.2), top + 0.3)
    ax.legend(fontsize=8, loc="upper left")
