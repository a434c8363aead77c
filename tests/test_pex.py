"""Partial execution (issue 11): chains, the bound, the partial-buffer planner, and Pex schedules
run on the simulator bit-exact against layer by layer and the reference."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from mcusim.nn.pex.buffers import derive
from mcusim.nn.pex.chains import TAIL_ACCUMULATE, TAIL_SLICES, find_chains
from mcusim.nn.pex.planner import plan_pex
from mcusim.nn.pex.schedule import parse_spec, pex_schedule, schedule_of
from mcusim.nn.pex.search import Segment, peak_bound_bytes, segments
from mcusim.nn.planner import plan_layers
from mcusim.nn.schedule import Schedule, Step, layer_schedule
from mcusim.nn.sim_api import InputError, UsageError
from mcusim.nn.tflite_import import load_model, parse_model
from tests.nn_synth import ModelBuilder

MODELS = Path(__file__).resolve().parents[2] / "shared" / "models"
MBV2 = Path(__file__).resolve().parents[1] / "nn" / "models" / "mobilenetv2_035_96.tflite"
needs_models = pytest.mark.skipif(not MODELS.is_dir(), reason="../shared/models not present")
# Whole networks are tens of millions of simulated cycles: the native hot path runs them, the
# pure-Python pass (CI's first) the small synthetic models only.
native_only = pytest.mark.skipif(os.environ.get("MCUSIM_NATIVE") == "0",
                                 reason="whole networks: native hot path only")


def inverted_residual() -> bytes:
    """conv 3x3 -> [expand 1x1 x6 -> depthwise 3x3 -> project 1x1] + residual ADD -> expand
    1x1 -> global average pool -> FC -> softmax: every Pex chain kind in a small model."""
    b = ModelBuilder(7)
    x = b.input((1, 12, 12, 3))
    c0 = b.conv2d(x, 8, 3, activation="RELU6")
    e = b.conv2d(c0, 48, 1, activation="RELU6")
    d = b.depthwise(e, 3, activation="RELU6")
    p = b.conv2d(d, 8, 1)
    a = b.add(p, c0)
    e2 = b.conv2d(a, 32, 1, activation="RELU6")
    pool = b.pool(e2, "AVERAGE_POOL_2D", 12, 12)
    fc = b.fully_connected(b.reshape(pool, (1, 32)), 6)
    return b.build([x], [b.softmax(fc)])


@pytest.fixture(scope="module")
def synth():
    return parse_model(inverted_residual(), name="pex_synth")


def chain_schedule(graph, tail: str, width: int) -> Schedule:
    """Every chain with the given tail kind sliced (non-overlapping, first found), the rest
    whole."""
    life_segs = {(s.start, s.end, s.width): s for s in segments(graph, slices=None)}
    chosen: list[Segment] = []
    pos = 0
    chains = [c for c in find_chains(graph) if c.tail == tail]
    while pos < len(graph.operators):
        c = next((c for c in chains if c.head == pos), None)
        if c is not None:
            w = min(width, c.channels)
            seg = life_segs.get((c.head, c.last, w)) or Segment(c.head, c.last, c, w, 0, 0.0)
            chosen.append(seg)
            pos = c.last + 1
        else:
            chosen.append(Segment(pos, pos, None, 0, 0, 0.0))
            pos += 1
    return schedule_of(graph, chosen, f"test-{tail}")


def test_chains_of_an_inverted_residual_block(synth):
    chains = {(c.ops, c.tail) for c in find_chains(synth)}
    # expand -> depthwise -> project accumulates; expand -> pool -> reshape -> FC too
    assert ((1, 2, 3), TAIL_ACCUMULATE) in chains
    assert ((5, 6, 7, 8), TAIL_ACCUMULATE) in chains
    assert ((1, 2), TAIL_SLICES) in chains
    # the 3x3 conv's output feeds two operators: never a slice
    assert not any(c.ops[0] == 0 and len(c.ops) > 1 for c in find_chains(synth))


def test_planner_reaches_the_analysis_figure_and_never_overlaps(synth):
    graphs = [synth, load_model(MBV2)]
    if MODELS.is_dir():
        graphs += [load_model(MODELS / f) for f in
                   ("vww_96_int8.tflite", "pretrainedResnet_quant.tflite")]
    for g in graphs:
        for n in (2, 4, 16):
            schedule, peak = pex_schedule(g, n)
            plan = plan_pex(g, schedule)
            plan.check()
            assert plan.bound_bytes == peak, (g.name, n)
            assert plan.arena_bytes >= plan.bound_bytes
        assert peak_bound_bytes(g) <= pex_schedule(g, 16)[1]
        assert peak_bound_bytes(g) <= plan_layers(g, layer_schedule(g)).bound_bytes


def test_mobilenetv2_bound_and_fit():
    g = load_model(MBV2)
    layers = plan_layers(g, layer_schedule(g)).arena_bytes
    bound = peak_bound_bytes(g)
    schedule, peak = pex_schedule(g, 16)
    # the first 3x3 convolution's whole input and output make the bound: about 2x, not 4x
    assert layers == 138240 and bound < layers / 2
    assert peak <= 1.05 * bound
    assert plan_pex(g, schedule).arena_bytes + 8 * 1024 < 128 * 1024 < layers


def test_accumulator_holds_the_int8_output_in_place(synth):
    s = chain_schedule(synth, TAIL_ACCUMULATE, 16)
    layout = derive(synth, s)
    assert layout.accumulators
    for buf in layout.accumulators.values():
        segs = layout.segments[buf]
        assert segs[0][2] == 4 * segs[-1][2] or len(segs) == 1  # int32 sums, then int8
    req = [st for st in s if st.params.get("requantize")]
    assert len(req) == len(layout.accumulators)


def test_schedule_json_round_trip_gives_the_same_plan(synth):
    s = chain_schedule(synth, TAIL_ACCUMULATE, 8)
    again = Schedule.from_json_dict(s.to_json_dict())
    a, b = plan_pex(synth, s), plan_pex(synth, again)
    assert (a.arena_bytes, a.offsets) == (b.arena_bytes, b.offsets)


def test_bad_schedules_are_refused(synth):
    s = chain_schedule(synth, TAIL_ACCUMULATE, 16)
    steps = list(s.steps)
    acc = next(i for i, st in enumerate(steps) if st.accumulator and not st.first)
    with pytest.raises(InputError, match="requantises"):
        plan_pex(synth, Schedule("bad", steps[:acc] + steps[acc + 1:]))
    head = next(i for i, st in enumerate(steps) if st.out_channels and st.op == 1)
    swapped = steps[:head] + [steps[head + 1], steps[head]] + steps[head + 2:]
    with pytest.raises(InputError, match="before they are produced"):
        plan_pex(synth, Schedule("bad", swapped))
    with pytest.raises(InputError, match="used twice"):
        plan_pex(synth, Schedule("bad", [*steps, Step(steps[0].op, steps[0].name)]))
    with pytest.raises(UsageError):
        parse_spec("pex:0")
    assert parse_spec("pex")["slices"] is None and parse_spec("pex:8")["slices"] == 8
    assert parse_spec("pex+patch:8") == {"pex": True, "slices": None, "patches": True, "bands": 8}
    with pytest.raises(UsageError):
        parse_spec("patch+patch")


# ---- on the simulator ----------------------------------------------------------------------


def _run(graph, board, schedule, **kw):
    from mcusim.nn.run import run_model

    return run_model(graph, board, schedule=schedule, **kw)


@pytest.mark.parametrize("board", ["nucleo-g071rb", "nucleo-f446re"])  # M0+, M4
def test_accumulating_chains_bit_exact(synth, board):
    # uneven slices (width 5 of 48 and 32 channels) into int32 accumulators, both chain ends
    s = chain_schedule(synth, TAIL_ACCUMULATE, 5)
    assert sum(1 for st in s if st.params.get("requantize")) >= 2
    pex = _run(synth, board, s, check_layers=True, live_bytes=False)
    assert pex.reference == "match", pex.reference


@needs_models
@native_only
@pytest.mark.parametrize(("model", "board", "n"), [
    ("pretrainedResnet_quant.tflite", "nucleo-f446re", 4),  # M4
    ("vww_96_int8.tflite", "nucleo-f746zg", 2),  # M7
])
def test_mlperf_tiny_pex_bit_exact_and_measured_saving(model, board, n):
    g = load_model(MODELS / model)
    layers = _run(g, board, None, live_bytes=False)
    schedule, _ = pex_schedule(g, n)
    pex = _run(g, board, schedule, live_bytes=False)
    assert pex.reference == "match" and layers.reference == "match"
    for a, b in zip(pex.outputs, layers.outputs, strict=True):
        np.testing.assert_array_equal(a, b)
    planned = layers.arena_bytes - pex.arena_bytes
    assert planned > 0
    measured = layers.peak_ram_bytes - pex.peak_ram_bytes
    # the arena is static: the measured saving is the planned one, give or take the stack
    assert abs(measured - planned) <= abs(layers.stack_peak_bytes - pex.stack_peak_bytes) + 64


def test_resolution_copy_keeps_shapes_at_the_same_size_and_grows_arenas():
    from mcusim.nn.pex.resolution import at_resolution, resolution_study

    g = load_model(MBV2)
    same = at_resolution(g, 96, 96)
    assert [t.shape for t in same.tensors] == [t.shape for t in g.tensors]
    rows = resolution_study(g, [96, 112, 128], 120 * 1024)
    assert [r.size for r in rows] == [96, 112, 128]
    assert all(a.pex_arena < b.pex_arena and a.layers_arena < b.layers_arena
               for a, b in zip(rows, rows[1:], strict=False))
    assert rows[0].pex_fit and not rows[0].layers_fit and not rows[2].pex_fit
    assert at_resolution(g, 112, 112).output_tensor(g.operators[-1]).shape == (1, 10)


def test_cli_plot_json_and_schedule_file(synth, tmp_path):
    import json

    from mcusim.sim.cli import main

    model = tmp_path / "synth.tflite"
    model.write_bytes(inverted_residual())
    png, out = tmp_path / "live.png", tmp_path / "pex.json"
    code = main(["nn", str(model), "--board", "nucleo-f446re", "--schedule", "pex:4",
                 "--plot", str(png), "--json", str(out)])
    assert code == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    d = json.loads(out.read_text())
    assert d["schema"] == "mcusim.nn/1" and d["reference"] == "match"
    assert d["schedule"]["kind"] == "pex:4" and len(d["steps"]) == len(d["schedule"]["steps"])
    c = d["pex_comparison"]
    assert c["peak_bound_bytes"] == d["peak_bound_bytes"] <= c["pex"]["arena_bytes"]
    assert c["pex"]["arena_bytes"] < c["layers"]["arena_bytes"]
    # the saved schedule runs again as a schedule file, and a broken one is refused (65)
    assert main(["nn", str(model), "--board", "nucleo-f446re", "--schedule", str(out)]) == 0
    broken = dict(d["schedule"])
    broken["steps"] = [s for s in broken["steps"] if not s["name"].endswith("_req")]
    assert len(broken["steps"]) < len(d["schedule"]["steps"])  # an accumulator is left open
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(broken))
    assert main(["nn", str(model), "--board", "nucleo-f446re", "--schedule", str(bad)]) == 65
    assert main(["nn", str(model), "--schedule", "pex:0"]) == 64
    mine = tmp_path / "mine.png"
    mine.write_bytes(b"not a picture of ours")
    assert main(["nn", str(model), "--board", "nucleo-f446re", "--schedule", "pex:4",
                 "--plot", str(mine)]) == 73
    assert mine.read_bytes() == b"not a picture of ours"


def test_patches_rows_and_recomputation():
    from mcusim.nn.pex.patches import input_rows, patch_steps, recomputed_rows

    g = load_model(MBV2)
    conv0 = g.operators[0]  # 3x3 stride 2 SAME on 96 rows: pad top 0, bottom 1
    assert input_rows(g, conv0, (0, 1)) == (0, 3)
    assert input_rows(g, conv0, (47, 48)) == (94, 96)
    steps = patch_steps(g, 1, 8)  # conv0 and the 3x3 depthwise after it, 8 bands of 6 rows
    rows = [s.params["rows"] for s in steps if s.op == 1]
    assert rows[0] == [0, 6] and rows[-1] == [42, 48]
    assert recomputed_rows(g, steps) == {0: 14, 1: 0}  # a one-row halo per band boundary


def first_layers() -> bytes:
    """A full-resolution start (3x3 stride-2 conv, 3x3 depthwise, 1x1 conv, 3x3 max pool),
    then global pooling and a classifier: what patches are for."""
    b = ModelBuilder(3)
    x = b.input((1, 40, 40, 3))
    c0 = b.conv2d(x, 16, 3, stride=2, activation="RELU6")
    d = b.depthwise(c0, 3, activation="RELU6")
    p = b.conv2d(d, 16, 1)
    m = b.pool(p, "MAX_POOL_2D", 3, 2, padding="SAME")
    g = b.pool(m, "AVERAGE_POOL_2D", 10, 10)
    return b.build([x], [b.softmax(b.fully_connected(b.reshape(g, (1, 16)), 4))])


@pytest.mark.parametrize("board", ["nucleo-g071rb", "nucleo-f446re"])  # M0+, M4
def test_patch_schedule_bit_exact_and_smaller(board):
    g = parse_model(first_layers(), name="pex_patch")
    s, peak = pex_schedule(g, 4, patches=True, bands=5)
    assert any("rows" in st.params for st in s)
    assert peak < pex_schedule(g, 4)[1]
    r = _run(g, board, s, check_layers=True, live_bytes=False)
    assert r.reference == "match", r.reference


@needs_models
@native_only
@pytest.mark.parametrize("board", ["nucleo-g071rb", "nucleo-l4r5zi"])  # M0+, M4
def test_kws_pointwise_slices_into_pool_bit_exact(board):
    # a 1x1 convolution computing 16-channel output slices over 125 pixels (an odd count),
    # each slice average-pooled: the chain ops 8-9 of DS-CNN
    g = load_model(MODELS / "kws_ref_model.tflite")
    chain = next(c for c in find_chains(g) if c.ops == (8, 9))
    whole = [Segment(k, k, None, 0, 0, 0.0) for k in range(len(g.operators))]
    s = schedule_of(g, [*whole[:8], Segment(8, 9, chain, 16, 0, 0.0), *whole[10:]], "kws89")
    r = _run(g, board, s, check_layers=True, live_bytes=False)
    assert r.reference == "match", r.reference


@native_only
def test_mobilenetv2_runs_on_stm32f4_discovery_only_with_pex():
    from mcusim.nn.run import DoesNotFitError

    g = load_model(MBV2)
    with pytest.raises(DoesNotFitError, match="does not fit stm32f4-discovery"):
        _run(g, "stm32f4-discovery", None, live_bytes=False)
    schedule, _ = pex_schedule(g)
    r = _run(g, "stm32f4-discovery", schedule, live_bytes=False)
    assert r.reference == "match", r.reference
    assert r.peak_ram_bytes < 128 * 1024


def test_the_sweep_names_the_automatic_choice_on_the_row_it_chose(monkeypatch):
    """The automatic Pex schedule, when it is one of pex:N's, was dropped from the table without
    a word (MobileNetV2: no `pex` row though --help promises the automatic choice)."""
    import argparse
    import json
    from types import SimpleNamespace

    from rich.console import Console

    from mcusim.nn.pex import cli as pex_cli
    from mcusim.nn.pex.schedule import pex_schedule as real
    from mcusim.nn.tflite_import import load_model

    graph = load_model(str(Path(__file__).parents[1] / "nn" / "models" /
                           "digits_cnn_int8.tflite"))
    monkeypatch.setattr(pex_cli, "pex_schedule", lambda g, n: real(g, 4 if n is None else n))
    ran: list[int] = []

    def run_fn(schedule):
        ran.append(1)
        return SimpleNamespace(arena_bytes=1, peak_ram_bytes=2, live_peak_bytes=None,
                               cycles=100 + len(ran), seconds=1e-3, reference="match",
                               matches=True)

    written: list[str] = []
    args = argparse.Namespace(plot=None, json="x.json")
    with open(os.devnull, "w") as null:
        assert pex_cli._sweep(args, graph, "nucleo-f446re", run_fn, run_fn(None), 1,
                              Console(file=null), written.append) == 0
    labels = [row["schedule"] for row in json.loads(written[0])["sweep"]]
    assert "pex:4 = pex" in labels and "pex" not in labels
    assert len(ran) == len(labels)  # the automatic choice was not run twice
