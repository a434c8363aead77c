"""Pictures of a memory trace: RAM in use and live bytes over time, and where accesses land.

`render_png` draws two panels. Top: RAM in use over simulated time, stacked static / heap /
stack (from the trace's meta), with the live-bytes curve over it, its peak annotated and the
program's `MCUSIM_REGION` markers as shaded spans. Below: for each RAM region the program
touched, reads and writes as address-by-time heatmaps. `render_html` wraps the PNG (inline,
base64) with a summary table in one self-contained file; `summary_text` is the terminal view.

Matplotlib is used through `Figure` and the Agg canvas only, never pyplot: no GUI backend is
ever selected, and nothing global changes in the caller's process.
"""

from __future__ import annotations

import base64
import html
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mcusim.base.outputs import write_target
from mcusim.traces.liveness import LiveCurve, live_bytes
from mcusim.traces.mtrace import READ, WRITE, Trace

KB = 1024
SPARKS = "▁▂▃▄▅▆▇█"
_PLOT_POINTS = 4000  # curves with more steps are drawn as a per-pixel-column max envelope
_HEAT_BINS = (320, 120)  # time x address bins of a heatmap
_CHUNK = 1 << 22

STATIC_COLOUR = "#b0b0b0"
HEAP_COLOUR = "#8fc98f"
STACK_COLOUR = "#8db7e0"
LIVE_COLOUR = "#c0392b"
MARKER_COLOURS = ("#f1c40f", "#9b59b6", "#1abc9c", "#e67e22", "#34495e", "#e84393")


# ---- numbers every view shares ------------------------------------------------------------

def _step_at(points: list[list[int]] | np.ndarray, at: np.ndarray) -> np.ndarray:
    """Values of a step curve ([[cycle, value], ...], each value holding from its cycle on)."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if len(pts) == 0:
        return np.zeros(len(at))
    i = np.searchsorted(pts[:, 0], at, side="right") - 1
    return np.where(i >= 0, pts[np.maximum(i, 0), 1], 0.0)


def _bin_max(cycles: np.ndarray, values: np.ndarray, start: int, end: int,
             bins: int) -> tuple[np.ndarray, np.ndarray]:
    """(bin edges, max of a step curve over each bin): peaks survive any downsampling."""
    edges = np.linspace(start, max(end, start + 1), bins + 1)
    c = cycles.astype(np.float64)
    padded = np.concatenate([[0], values]).astype(np.float64)  # 0 before the first step
    out = padded[np.searchsorted(c, edges[:-1], side="right")]  # value as each bin opens
    inside = (c >= edges[0]) & (c < edges[-1])
    if inside.any():
        b = np.searchsorted(edges, c[inside], side="right") - 1
        np.maximum.at(out, b, values[inside].astype(np.float64))
    return edges, out


@dataclass(frozen=True)
class _InUse:
    """Static + heap + stack as step curves on one grid of cycles."""

    grid: np.ndarray
    static: np.ndarray
    heap: np.ndarray
    stack: np.ndarray

    @property
    def total(self) -> np.ndarray:
        return self.static + self.heap + self.stack


def _in_use(trace: Trace) -> _InUse:
    curves = trace.meta.get("curves") or {}
    heap, stack = curves.get("heap") or [], curves.get("stack") or []
    grid = np.unique(np.concatenate([[trace.start_cycle, trace.end_cycle],
                                     [p[0] for p in heap], [p[0] for p in stack]]))
    grid = grid[(grid >= trace.start_cycle) & (grid <= trace.end_cycle)].astype(np.float64)
    static = np.full(len(grid), float(trace.meta.get("static_ram_bytes") or 0))
    return _InUse(grid, static, _step_at(heap, grid), _step_at(stack, grid))


def _clock(trace: Trace) -> float | None:
    hz = trace.meta.get("clock_hz")
    return float(hz) if hz else None


def _when(trace: Trace, cycle: int) -> str:
    hz = _clock(trace)
    return f"{cycle / hz * 1e3:.4g} ms (cycle {cycle:,})" if hz else f"cycle {cycle:,}"


def _kb(n: float) -> str:
    return f"{n / KB:,.1f} KB" if abs(n) >= KB else f"{n:,.0f} B"


def _facts(trace: Trace, live: LiveCurve) -> list[tuple[str, str]]:
    """The summary as (label, value) rows: shared by the text and HTML views."""
    meta = trace.meta
    use = _in_use(trace)
    reads = int(np.count_nonzero(trace.kind == READ)) if len(trace) else 0
    span = trace.end_cycle - trace.start_cycle
    hz = _clock(trace)
    rows = [
        ("program", f"{meta.get('elf') or '?'} on {meta.get('board') or '?'}"
                    + (f" at {hz / 1e6:g} MHz" if hz else "")),
        ("accesses", f"{len(trace):,} ({reads:,} reads, {len(trace) - reads:,} writes)"),
        ("time span", f"{span / hz * 1e3:.4g} ms, {span:,} cycles" if hz else f"{span:,} cycles"),
    ]
    rec = meta.get("recording") or {}
    window = rec.get("window")
    if window:  # (the accesses and the live bytes are those of the window only)
        rows.append(("recorded window", f"cycles {int(window[0]):,} to {int(window[1]):,} "
                                        "(trace --window): accesses outside it were not "
                                        "recorded"))
    if live.peak_cycle is None:
        rows.append(("peak live", "0 B (no value written and read later)"))
    else:
        pc = f", pc 0x{live.peak_pc:08x}" if live.peak_pc is not None else ""
        rows.append(("peak live", f"{_kb(live.peak_bytes)} ({live.peak_bytes:,} bytes) "
                                  f"at {_when(trace, live.peak_cycle)}{pc}"))
    total = use.total
    i = int(np.argmax(total))
    rows.append(("peak in use", f"{_kb(total[i])} = static {_kb(use.static[i])} + heap "
                                f"{_kb(use.heap[i])} + stack {_kb(use.stack[i])} "
                                f"at {_when(trace, int(use.grid[i]))}"))
    rows.append(("peak heap / stack", f"{_kb(use.heap.max())} / {_kb(use.stack.max())}"))
    if rec.get("truncated") or rec.get("dropped"):
        rows.append(("recording", f"TRUNCATED: {rec.get('dropped', 0):,} accesses dropped "
                                  f"(max_accesses {rec.get('max_accesses')})"))
    return rows


def _sparkline(cycles: np.ndarray, values: np.ndarray, start: int, end: int, width: int,
               bottom: float, top: float) -> str:
    """Max per column, `bottom` as the lowest block and `top` as the full one."""
    _, peak = _bin_max(cycles, values, start, end, width)
    if top <= bottom:
        return SPARKS[0] * width
    scaled = np.ceil((peak - bottom) / (top - bottom) * len(SPARKS)) - 1
    return "".join(SPARKS[k] for k in np.clip(scaled, 0, len(SPARKS) - 1).astype(int))


def summary_text(trace: Trace, live: LiveCurve | None = None, width: int = 64) -> str:
    """A few lines for a terminal: the facts, and sparklines of live bytes and RAM in use."""
    live = live if live is not None else live_bytes(trace)
    rows = _facts(trace, live)
    use = _in_use(trace)
    lo, hi = trace.start_cycle, trace.end_cycle
    pad = max(len(label) for label, _ in rows)
    lines = [f"{label:<{pad}}  {value}" for label, value in rows]
    lines.append(f"{'live bytes':<{pad}}  "
                 + _sparkline(live.cycles, live.live, lo, hi, width, 0, live.peak_bytes)
                 + f"  0 … {_kb(live.peak_bytes)}")
    # Static RAM usually dwarfs the stack and heap: from the lowest total, so they show.
    low, high = float(use.total.min()), float(use.total.max())
    lines.append(f"{'RAM in use':<{pad}}  "
                 + _sparkline(use.grid, use.total, lo, hi, width, low, high)
                 + f"  {_kb(low)} … {_kb(high)}")
    lines.append(f"{'':<{pad}}  {_when(trace, lo)} … {_when(trace, hi)}")
    return "\n".join(lines)


# ---- the picture ----------------------------------------------------------------------------

def _markers(trace: Trace) -> list[tuple[str, int, int]]:
    """(name, begin, end) spans from begin/end markers; an unclosed begin runs to the end."""
    spans: list[tuple[str, int, int]] = []
    open_: dict[str, list[int]] = {}
    for m in sorted(trace.meta.get("markers") or [], key=lambda m: m["cycle"]):
        if m["begin"]:
            open_.setdefault(m["name"], []).append(int(m["cycle"]))
        elif open_.get(m["name"]):
            spans.append((m["name"], open_[m["name"]].pop(), int(m["cycle"])))
    spans += [(name, b, trace.end_cycle) for name, begins in open_.items() for b in begins]
    lo, hi = trace.start_cycle, trace.end_cycle
    return sorted((n, max(b, lo), min(e, hi)) for n, b, e in spans if e > lo and b < hi)


def _heat(trace: Trace, region: dict[str, Any], kind: int, t_edges: np.ndarray,
          a_edges: np.ndarray) -> np.ndarray:
    """Accesses of `kind` per (address bin, time bin), counted chunk by chunk."""
    nt, na = len(t_edges) - 1, len(a_edges) - 1
    counts = np.zeros(na * nt, np.int64)
    for lo in range(0, len(trace), _CHUNK):
        sel = trace.kind[lo:lo + _CHUNK] == kind
        c = trace.cycle[lo:lo + _CHUNK][sel].astype(np.float64)
        a = trace.address[lo:lo + _CHUNK][sel].astype(np.float64) - region["base"]
        ti = np.clip(np.searchsorted(t_edges, c, side="right") - 1, 0, nt - 1)
        ai = np.clip(np.searchsorted(a_edges, a, side="right") - 1, 0, na - 1)
        counts += np.bincount(ai * nt + ti, minlength=na * nt)
    return counts.reshape(na, nt)


def _address_span(sub: Trace, region: dict[str, Any]) -> tuple[float, float]:
    """Offsets (bytes) to show: the touched part, in whole KB; all of a mostly-touched region."""
    off = sub.address.astype(np.int64) - int(region["base"])
    lo, hi = int(off.min()), int((off + sub.size).max())
    size = int(region["size"])
    if hi - lo > size // 2:
        return 0.0, float(size)
    lo, hi = lo // KB * KB, -(-hi // KB) * KB
    return float(lo), float(max(hi, lo + KB))


def _figure(trace: Trace, live: LiveCurve) -> Any:
    from matplotlib.colors import LogNorm
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, NullFormatter

    hz = _clock(trace)
    scale = 1e3 / hz if hz else 1.0  # cycles -> x units (ms, or cycles without a clock)
    xlabel = "simulated time (ms)" if hz else "cycles"
    lo, hi = trace.start_cycle, max(trace.end_cycle, trace.start_cycle + 1)
    touched = [(r, trace.in_region(r["name"])) for r in trace.ram_regions]
    touched = [(r, sub) for r, sub in touched if len(sub)]

    fig = Figure(figsize=(13, 5.2 + 2.7 * len(touched)), dpi=100, layout="constrained")
    grid = fig.add_gridspec(1 + len(touched), 2, height_ratios=[2.2] + [1] * len(touched))
    ax = fig.add_subplot(grid[0, :])
    meta = trace.meta
    title = f"Memory of {meta.get('elf') or 'a program'} on {meta.get('board') or '?'}"
    if hz:
        title += f" at {hz / 1e6:g} MHz"
    title += f": peak live {_kb(live.peak_bytes)}"
    fig.suptitle(title, fontsize=14, fontweight="bold")

    # (a) RAM in use, stacked, with the live-bytes curve over it.
    use = _in_use(trace)
    x = use.grid * scale
    # KB unless the program is tiny (a y axis of 0.004 KB helps nobody).
    div, unit = (KB, "KB") if max(use.total.max(), live.peak_bytes) >= 2 * KB else (1, "bytes")
    base = np.zeros(len(x))
    for label, layer, colour in (("static (.data + .bss)", use.static, STATIC_COLOUR),
                                 ("heap", use.heap, HEAP_COLOUR),
                                 ("stack", use.stack, STACK_COLOUR)):
        ax.fill_between(x, base / div, (base + layer) / div, step="post", color=colour,
                        label=f"{label}, peak {_kb(layer.max())}", linewidth=0, zorder=1)
        base = base + layer
    ax.step(x, base / div, where="post", color="#555555", linewidth=0.8)
    if len(live.cycles) > _PLOT_POINTS:
        edges, env = _bin_max(live.cycles, live.live, lo, hi, _PLOT_POINTS // 2)
        lx, ly = edges * scale, np.append(env, env[-1])
    else:
        lx = np.concatenate([[lo], live.cycles.astype(np.float64), [hi]]) * scale
        ly = np.concatenate([[0], live.live, [0]]).astype(np.float64)
    ax.step(lx, ly / div, where="post", color=LIVE_COLOUR, linewidth=1.6,
            label="live bytes (values still to be read)")
    top = max(float(base.max()), float(live.peak_bytes), 1.0) / div
    ax.set_ylim(0, top * 1.3)
    ax.set_xlim(lo * scale, hi * scale)
    if live.peak_cycle is not None:
        px, py = live.peak_cycle * scale, live.peak_bytes / div
        pc = f"\npc 0x{live.peak_pc:08x}" if live.peak_pc is not None else ""
        ax.plot([px], [py], "o", color=LIVE_COLOUR, markersize=7, zorder=5)
        right = px < (lo + hi) / 2 * scale
        ax.annotate(f"peak live {_kb(live.peak_bytes)}\n{_when(trace, live.peak_cycle)}{pc}",
                    (px, py), xytext=(30 if right else -30, 12), textcoords="offset points",
                    ha="left" if right else "right", va="bottom", fontsize=9,
                    bbox={"boxstyle": "round", "fc": "white", "ec": LIVE_COLOUR},
                    arrowprops={"arrowstyle": "->", "color": LIVE_COLOUR})
    colours: dict[str, str] = {}
    labelled: set[str] = set()
    for name, b, e in _markers(trace):
        colour = colours.setdefault(name, MARKER_COLOURS[len(colours) % len(MARKER_COLOURS)])
        # Behind the stacked areas (zorder 0): the spans tint the free space above them.
        ax.axvspan(b * scale, e * scale, color=colour, alpha=0.25, linewidth=0, zorder=0,
                   label=None if name in labelled else f"marker region {name}")
        for edge in (b, e):
            ax.axvline(edge * scale, color=colour, linewidth=0.8, zorder=0.5)
        if name not in labelled:  # name the first span only: repeated regions stay readable
            ax.text(b * scale, top * 1.27, f" {name}", va="top", ha="left", fontsize=9,
                    fontweight="bold", clip_on=True)
            labelled.add(name)
    ax.set_ylabel(f"RAM ({unit})")
    ax.set_xlabel(xlabel)
    ax.set_title("RAM in use (stacked) and live bytes", loc="left", fontsize=11)
    ax.grid(True, alpha=0.3)
    # Under the panel, not inside (it would hide curves) nor beside it (it would squeeze the
    # heatmaps' colour bars away from their axes).
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncols=4, fontsize=9,
              frameon=False)
    if hz:
        sec = ax.secondary_xaxis("top", functions=(lambda ms: ms * hz / 1e3,
                                                   lambda cyc: cyc * 1e3 / hz))
        sec.set_xlabel("cycles", fontsize=9)
        sec.xaxis.set_major_formatter(FuncFormatter(_cycles_label))
        sec.tick_params(labelsize=8)

    # (b) where reads and writes land, per touched RAM region.
    t_edges = np.linspace(lo, hi, _HEAT_BINS[0] + 1)
    for row, (region, sub) in enumerate(touched, start=1):
        a_lo, a_hi = _address_span(sub, region)
        a_edges = np.linspace(a_lo, a_hi, _HEAT_BINS[1] + 1)
        for col, (kind, word, cmap) in enumerate(((READ, "reads", "Blues"),
                                                  (WRITE, "writes", "Oranges"))):
            hax = fig.add_subplot(grid[row, col], sharex=ax)
            counts = _heat(sub, region, kind, t_edges, a_edges)
            extent = (lo * scale, hi * scale, a_lo / KB, a_hi / KB)
            if counts.any():
                shown = np.ma.masked_equal(counts, 0)  # untouched bins stay white
                image = hax.imshow(shown, origin="lower", aspect="auto", extent=extent,
                                   cmap=cmap, interpolation="nearest",
                                   norm=LogNorm(vmin=1, vmax=max(int(counts.max()), 2)))
                bar = fig.colorbar(image, ax=hax, pad=0.01, fraction=0.04,
                                   label=f"{word} per bin")
                plain = FuncFormatter(lambda v, _pos: f"{v:g}")
                bar.ax.yaxis.set_major_formatter(plain)
                bar.ax.yaxis.set_minor_formatter(NullFormatter())
            else:
                hax.text(0.5, 0.5, f"no {word}", transform=hax.transAxes, ha="center",
                         va="center", color="grey")
            pad = (a_hi - a_lo) / KB * 0.02  # keep rows at the very edges (a stack top) visible
            hax.set_ylim(a_lo / KB - pad, a_hi / KB + pad)
            hax.set_title(f"{word} in {region['name']} (0x{int(region['base']):08x}, "
                          f"{_kb(int(region['size']))}): {int(counts.sum()):,}",
                          loc="left", fontsize=10)
            for _, b, e in _markers(trace):  # tie the heatmaps to the named spans above
                for edge in (b, e):
                    hax.axvline(edge * scale, color="grey", linewidth=0.6, linestyle=":")
            hax.set_ylabel(f"{region['name']} offset (KB)")
            hax.set_xlabel(xlabel)
            hax.grid(True, alpha=0.25)
    return fig


def _cycles_label(value: float, _pos: int) -> str:
    for div, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= div:
            return f"{value / div:g}{unit}"
    return f"{value:g}"


def _png_bytes(trace: Trace, live: LiveCurve, dpi: int) -> bytes:
    fig = _figure(trace, live)
    buf = io.BytesIO()
    # The Software text chunk marks the picture as mcusim's (base/outputs.py).
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": "mcusim view"})
    return buf.getvalue()


def _write_atomically(path: Path, data: bytes) -> None:
    path = write_target(path)  # (a symbolic link stays one: base/outputs.py)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def render_png(trace: Trace, path: str | os.PathLike[str], live: LiveCurve | None = None,
               *, dpi: int = 100) -> Path:
    """Draw the two-panel picture to a PNG file; `live` is computed when not given."""
    live = live if live is not None else live_bytes(trace)
    path = Path(path)
    _write_atomically(path, _png_bytes(trace, live, dpi))
    return path


def render_html(trace: Trace, path: str | os.PathLike[str], live: LiveCurve | None = None,
                *, dpi: int = 100) -> Path:
    """One self-contained HTML file: a summary table and the picture inline (no URLs)."""
    live = live if live is not None else live_bytes(trace)
    png = base64.b64encode(_png_bytes(trace, live, dpi)).decode("ascii")
    rows = "\n".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
                     for k, v in _facts(trace, live))
    title = html.escape(f"mcusim memory trace: {trace.meta.get('elf') or ''}")
    spark = html.escape(summary_text(trace, live).split("\n", len(_facts(trace, live)))[-1])
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="generator" content="mcusim view">
<title>{title}</title>
<style>
body {{ font-family: sans-serif; margin: 1.5em; color: #222; }}
table {{ border-collapse: collapse; margin-bottom: 1em; }}
th, td {{ text-align: left; padding: 0.25em 0.8em; border-bottom: 1px solid #ddd; }}
th {{ color: #555; font-weight: normal; }}
pre {{ font-size: 1.1em; }}
img {{ max-width: 100%; }}
</style></head><body>
<h1>{title}</h1>
<table>
{rows}
</table>
<pre>{spark}</pre>
<img alt="RAM in use, live bytes and access heatmaps over time" src="data:image/png;base64,{png}">
</body></html>
"""
    path = Path(path)
    _write_atomically(path, page.encode("utf-8"))
    return path
