"""Pictures: bytes live over simulated time for two schedules, and a slice-count sweep.

Bytes live over time are the plan's buffers laid over the measured step times (each step's
region cycles, one after the other), stacked by tensor (a tensor's slices and its accumulator
count as that tensor); the peak is marked, and the measured live-bytes peak when the run
analysed it.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from mcusim.nn.planner import ArenaPlan  # noqa: E402
from mcusim.nn.result import NNResult  # noqa: E402

PNG_SOFTWARE = "mcusim nn --plot"  # PNG metadata: lets a later run know it wrote the file
SHOWN_TENSORS = 9  # the largest tensors get their own colour; the rest are "other"


def _tensor_of(name: str) -> str:
    if name.startswith("scratch"):
        return "scratch"
    return "t" + name[1:].split(".")[0]


def _size_at(plan: ArenaPlan, name: str, step: int) -> int:
    segments = getattr(plan, "segments", None)
    if segments:
        return next((z for f, last, z in segments[name] if f <= step <= last), 0)
    b = plan.buffers[name]
    return b.size if b.first <= step <= b.last else 0


def live_by_tensor(result: NNResult, plan: ArenaPlan) -> tuple[list[float], dict[str, list[int]]]:
    """Step start times (ms, measured) and bytes per tensor at each step."""
    times, t = [], 0.0
    for s in result.steps:
        times.append(t)
        t += s.seconds * 1e3
    times.append(t)
    stacks: dict[str, list[int]] = {}
    for i in range(len(result.steps)):
        for name in plan.buffers:
            z = _size_at(plan, name, i)
            if z:
                stacks.setdefault(_tensor_of(name), [0] * len(result.steps))[i] += z
    return times, stacks


def _draw(ax, result: NNResult, plan: ArenaPlan, colours: dict[str, str],
          names: dict[str, str]) -> None:
    times, stacks = live_by_tensor(result, plan)
    order = sorted(stacks, key=lambda k: -sum(stacks[k]))
    shown = [k for k in order if k in colours]
    other = [0] * len(result.steps)
    for k in order:
        if k not in colours:
            other = [a + b for a, b in zip(other, stacks[k], strict=True)]
    base = [0] * len(result.steps)
    for k, values in [*[(k, stacks[k]) for k in shown], ("other", other)]:
        top = [a + b for a, b in zip(base, values, strict=True)]
        ax.stairs([v / 1024 for v in top], times, baseline=[v / 1024 for v in base],
                  fill=True, color=colours.get(k, "#cccccc"), label=names.get(k, k),
                  linewidth=0)
        base = top
    peak = max(base) if base else 0
    ax.axhline(peak / 1024, color="black", linestyle="--", linewidth=0.8)
    text = f"planned peak {peak / 1024:.1f} KiB"
    if result.live_peak_bytes:
        ax.axhline(result.live_peak_bytes / 1024, color="red", linestyle=":", linewidth=0.8)
        text += f", measured live peak {result.live_peak_bytes / 1024:.1f} KiB"
    ax.set_title(f"{result.schedule['kind']}: {text}, {result.seconds * 1e3:.1f} ms",
                 fontsize=9, loc="left")
    ax.set_ylabel("arena bytes live (KiB)")


def plot_live(path: Path, runs: list[tuple[NNResult, ArenaPlan]], graph=None) -> None:
    totals: dict[str, int] = {}
    for result, plan in runs:
        _, stacks = live_by_tensor(result, plan)
        for k, v in stacks.items():
            totals[k] = max(totals.get(k, 0), max(v))
    palette = plt.get_cmap("tab10").colors
    top = [k for k in sorted(totals, key=lambda k: -totals[k]) if k != "scratch"]
    colours = {k: matplotlib.colors.to_hex(palette[i]) for i, k in enumerate(top[:SHOWN_TENSORS])}
    names = {}
    if graph is not None:  # "t60 48x48x16" (slices and accumulators count as their tensor)
        for k in colours:
            shape = graph.tensors[int(k[1:])].shape
            names[k] = f"{k} {'x'.join(str(d) for d in shape[1:])}"
    fig, axes = plt.subplots(len(runs), 1, figsize=(10, 3.2 * len(runs)), sharey=True)
    axes = list(axes) if len(runs) > 1 else [axes]
    for ax, (result, plan) in zip(axes, runs, strict=True):
        _draw(ax, result, plan, colours, names)
    axes[-1].set_xlabel(f"simulated time (ms) on {runs[0][0].board}")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper right", fontsize=7, ncol=2, title="tensor")
    fig.suptitle(f"{runs[0][0].model}: bytes live over time, stacked by tensor", fontsize=10)
    fig.tight_layout(rect=(0, 0, 0.82, 0.96))
    fig.savefig(path, dpi=110, metadata={"Software": PNG_SOFTWARE})
    plt.close(fig)


def plot_sweep(path: Path, model: str, board: str,
               points: list[tuple[str, int, int, float]], bound: int | None = None) -> None:
    """points: (label, planned arena bytes, measured peak RAM bytes, latency ms)."""
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    ax.plot([p[3] for p in points], [p[1] / 1024 for p in points], "o-", label="planned arena")
    ax.plot([p[3] for p in points], [p[2] / 1024 for p in points], "s--",
            label="measured peak RAM")
    for label, arena, _, ms in points:
        ax.annotate(label, (ms, arena / 1024), textcoords="offset points", xytext=(4, 4),
                    fontsize=7)
    if bound is not None:
        ax.axhline(bound / 1024, color="grey", linestyle=":", linewidth=1,
                   label="bound of any channel split")
    ax.set_xlabel("latency (ms, simulated)")
    ax.set_ylabel("KiB")
    ax.set_title(f"{model} on {board}: peak SRAM against latency by slice count", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110, metadata={"Software": PNG_SOFTWARE})
    plt.close(fig)
