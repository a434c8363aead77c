"""Pictures of memory traces: the PNG, the self-contained HTML and the terminal summary."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import numpy as np
import pytest

from mcusim.traces.liveness import live_bytes
from mcusim.traces.mtrace import Trace, TraceWriter
from mcusim.traces.view import _bin_max, render_html, render_png, summary_text

PIL = pytest.importorskip("PIL.Image")

SRAM = 0x2000_0000
REGIONS = [{"name": "flash", "base": 0x0800_0000, "size": 512 << 10, "kind": "flash"},
           {"name": "sram1", "base": SRAM, "size": 112 << 10, "kind": "sram"},
           {"name": "sram2", "base": SRAM + (112 << 10), "size": 16 << 10, "kind": "sram"}]


def _program(regions: list[dict] = REGIONS, clock_hz: int | None = 16_000_000) -> Trace:
    """Fill an input tensor, run a 'conv' reading it and writing an output (with a stack frame
    at the top of sram1), then a 'dense' layer reading the output into sram2."""
    cols: list[list[np.ndarray]] = [[], [], [], [], []]
    t = 0

    def add(address: np.ndarray, kind: np.ndarray | int, pc: int) -> None:
        nonlocal t
        n = len(address)
        for col, value in zip(cols, (t + 3 * np.arange(n), address, np.full(n, pc),
                                     np.full(n, 4), np.broadcast_to(kind, (n,))), strict=True):
            col.append(np.asarray(value))
        t += 3 * n

    inp, out, res = SRAM + 0x1800, SRAM + 0x5800, SRAM + 0x1C000
    add(inp + 4 * np.arange(4096), 1, 0x0800_0400)
    conv = t
    i = np.arange(6144)
    add(np.where(i % 3 == 0, inp + 4 * ((2 * i) % 4096),
                 np.where(i % 3 == 1, out + 4 * (i // 3), SRAM + 0x1C000 - 4 - 4 * (i % 8))),
        np.where(i % 3 == 0, 0, np.where(i % 3 == 1, 1, i % 2)), 0x0800_0500)
    dense = t
    add(out + 4 * np.arange(2048), 0, 0x0800_0600)
    add(res + 4 * np.arange(256), 1, 0x0800_0700)
    add(res + 4 * np.arange(256), 0, 0x0800_0704)
    meta = {"board": "nucleo-f446re", "elf": "conv3x3.elf", "clock_hz": clock_hz,
            "regions": regions,
            "markers": [{"name": "conv", "begin": True, "cycle": conv},
                        {"name": "conv", "begin": False, "cycle": dense},
                        {"name": "dense", "begin": True, "cycle": dense},
                        {"name": "dense", "begin": False, "cycle": t}],
            "curves": {"stack": [[0, 96], [conv, 352], [dense, 160]],
                       "heap": [[0, 0], [dense, 1024], [t - 50, 0]]},
            "static_ram_bytes": 30 << 10}
    return Trace.from_arrays(*(np.concatenate(c) for c in cols), meta=meta)


def _pixels(path: Path) -> np.ndarray:
    with PIL.open(path) as im:
        return np.asarray(im.convert("RGB")).astype(np.int32)


def _near(px: np.ndarray, rgb: tuple[int, int, int], tol: int = 30) -> np.ndarray:
    return np.all(np.abs(px - np.array(rgb)) <= tol, axis=-1)


def test_png_shows_curves_markers_and_both_heatmaps(tmp_path: Path):
    trace = _program()
    live = live_bytes(trace)
    path = render_png(trace, tmp_path / "mem.png", live)
    assert path == tmp_path / "mem.png"
    px = _pixels(path)
    height, width, _ = px.shape
    assert width >= 1000 and height >= 900
    assert len(np.unique(px.reshape(-1, 3), axis=0)) > 200
    top, bottom = px[: height * 2 // 5], px[height // 2:]
    assert _near(top, (0xC0, 0x39, 0x2B)).sum() > 500  # the live-bytes curve (and its peak)
    assert _near(top, (0xB0, 0xB0, 0xB0), 4).sum() > 20_000  # static RAM, stacked
    assert _near(top, (0x8F, 0xC9, 0x8F), 12).sum() > 200  # heap, stacked on it
    assert _near(top, (0xF8, 0xEB, 0xBE), 12).sum() > 2000  # the 'conv' span (tinted yellow)
    r, g, b = bottom[..., 0], bottom[..., 1], bottom[..., 2]
    assert ((b - r > 80) & (b > 120)).sum() > 1000  # reads, in blues
    assert ((r - b > 100) & (g > 60) & (g < 200)).sum() > 1000  # writes, in oranges


def test_each_touched_ram_region_adds_a_heatmap_row(tmp_path: Path):
    two = _pixels(render_png(_program(), tmp_path / "two.png")).shape[0]
    # Without sram2 its accesses belong to no RAM region: one row of heatmaps fewer.
    one = _pixels(render_png(_program(REGIONS[:2]), tmp_path / "one.png")).shape[0]
    assert two - one > 200


def test_html_is_self_contained_with_the_picture_and_the_peak(tmp_path: Path):
    trace = _program()
    live = live_bytes(trace)
    path = render_html(trace, tmp_path / "mem.html", live)
    text = path.read_text(encoding="utf-8")
    match = re.search(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)
    assert match, "no inline PNG"
    png = base64.b64decode(match.group(1))
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 50_000
    assert not re.search(r"(src|href)=\"(https?:)?//", text)  # nothing to fetch
    assert f"{live.peak_bytes:,} bytes" in text
    assert f"{live.peak_bytes / 1024:,.1f} KB" in text
    assert "<table>" in text and "conv3x3.elf on nucleo-f446re at 16 MHz" in text
    assert f"0x{live.peak_pc:08x}" in text


def test_summary_text_gives_the_facts():
    trace = _program()
    live = live_bytes(trace)
    text = summary_text(trace, live)
    assert f"peak live          {live.peak_bytes / 1024:.1f} KB ({live.peak_bytes:,} bytes)" \
        in text
    assert f"pc 0x{live.peak_pc:08x}" in text
    assert "accesses           12,800 (5,376 reads, 7,424 writes)" in text
    assert "peak heap / stack  1.0 KB / 352 B" in text
    assert "static 30.0 KB" in text
    assert summary_text(trace) == text  # live is computed when not given


def test_summary_sparkline_is_exact():
    # 4 bytes live over cycles [0, 50) of a trace spanning [0, 100).
    meta = {"clock_hz": 1000, "recording": {"window": [0, 100]}}
    trace = Trace.from_arrays([0, 50], [SRAM, SRAM], [0x100, 0x104], [4, 4], [1, 0], meta)
    lines = summary_text(trace, width=4).splitlines()
    live_line = next(line for line in lines if line.startswith("live bytes"))
    assert live_line.split()[2] == "██▁▁"
    use_line = next(line for line in lines if line.startswith("RAM in use"))
    assert use_line.split()[3] == "▁▁▁▁"  # no static, heap or stack given
    assert "peak live          4 B (4 bytes) at 0 ms (cycle 0), pc 0x00000100" in lines


def test_bin_max_keeps_a_one_cycle_spike():
    cycles = np.arange(10_000, dtype=np.uint64) * 10
    live = np.full(10_000, 5, np.int64)
    live[7_777] = 900  # one 10-cycle spike among 10,000 steps
    edges, peak = _bin_max(cycles, live, 0, 100_000, 10)
    assert len(edges) == 11
    assert peak.tolist() == [5] * 7 + [900] + [5] * 2


def test_renders_without_clock_regions_or_accesses(tmp_path: Path):
    bare = Trace.from_arrays([0, 9], [SRAM, SRAM], None, [4, 4], [1, 0])
    render_png(bare, tmp_path / "bare.png")
    assert "cycle 0" in summary_text(bare)
    with TraceWriter(tmp_path / "empty.mtrace", {"regions": REGIONS}) as w:
        w.meta["curves"]["stack"] = [[0, 64], [100, 128]]
    empty = Trace.open(tmp_path / "empty.mtrace")
    path = render_html(empty, tmp_path / "empty.html")
    assert "0 B (no value written and read later)" in path.read_text(encoding="utf-8")
    assert _pixels(render_png(empty, tmp_path / "empty.png")).shape[0] > 300


def test_png_of_a_saved_trace_window(tmp_path: Path):
    trace = _program()
    with TraceWriter(tmp_path / "t.mtrace", trace.meta) as w:
        w.append(trace.cycle, trace.address, trace.pc, trace.size, trace.kind)
    saved = Trace.open(tmp_path / "t.mtrace")
    conv = saved.meta["markers"][0]["cycle"], saved.meta["markers"][1]["cycle"]
    window = saved.window(*conv)
    text = summary_text(window)
    assert f"{conv[1] - conv[0]:,} cycles" in text
    render_png(window, tmp_path / "conv.png")
    assert _pixels(tmp_path / "conv.png").shape[1] >= 1000


def test_summary_says_the_recording_was_windowed():
    """A trace recorded with `trace --window` holds only that window's accesses: its live bytes
    and heatmaps are those of the window, which the view did not say."""
    trace = _program()
    assert "recorded window" not in summary_text(trace)
    trace.meta = {**trace.meta, "recording": {**(trace.meta.get("recording") or {}),
                                              "window": [100, 2_000]}}
    assert "recorded window    cycles 100 to 2,000 (trace --window)" in summary_text(trace)
