"""Approximate kernels (issue 12): the host model equals the simulated firmware bit for bit,
zero skipping is the exact model, skipping lowers a layer's cycles, the DSE front is
non-dominated, and the study cache resumes."""

from __future__ import annotations

import concurrent.futures as cf
import json
import os
from pathlib import Path

import numpy as np
import pytest

from mcusim.nn.approx.config import ApproxConfig, LayerLevel, position_mask, unit_keep
from mcusim.nn.approx.hostmodel import HostModel
from mcusim.nn.approx.pareto import Point, dominates, mark_pareto
from mcusim.nn.approx.significance import LayerSignificance, layer_significance
from mcusim.nn.approx.study import EvalData, Study
from mcusim.nn.reference import run_reference
from mcusim.nn.tflite_import import parse_model
from tests.nn_synth import ModelBuilder


def tiny_cnn(tmp_path: Path) -> Path:
    """conv 3x3 stride 2 (odd K: 27) -> conv 3x3 (K 72) -> fc (odd output width) -> softmax."""
    b = ModelBuilder(7)
    x = b.input((1, 9, 9, 3))
    c1 = b.conv2d(x, 8, 3, stride=2, activation="RELU")
    c2 = b.conv2d(c1, 6, 3, activation="RELU")
    fc = b.fully_connected(b.reshape(c2, (1, -1)), 5)
    path = tmp_path / "tiny.tflite"
    path.write_bytes(b.build([x], [b.softmax(fc)]))
    return path


def tiny_study(tmp_path: Path, board: str) -> Study:
    model = tiny_cnn(tmp_path)
    g = parse_model(model.read_bytes(), "tiny")
    rng = np.random.default_rng(3)
    x = rng.integers(-128, 128, (24, *g.tensors[g.inputs[0]].shape[1:]), dtype=np.int8)
    return Study(model, board, EvalData(x, None))


def run_firmware(study: Study, config: ApproxConfig, x: np.ndarray):
    from mcusim.nn.run import run_model

    return run_model(study.model, study.board, schedule=study.schedule(config), inputs=[x],
                     live_bytes=False)


@pytest.mark.parametrize("board", ["nucleo-f446re", "nucleo-g071rb"])
def test_host_model_equals_firmware_bit_for_bit(tmp_path, board):
    study = tiny_study(tmp_path, board)
    assert study.granularity == (2 if board == "nucleo-f446re" else 1)
    layers = sorted(study.layers)
    if study.granularity == 2:  # both SMLAD pairings: operands gathered through a slot table
        for op, pairing in zip(layers, ("by_mean", "natural", "by_mean"), strict=True):
            study.significance[op].pairing = pairing
    config = ApproxConfig({layers[0]: LayerLevel(skip=0.35), layers[1]: LayerLevel(skip=0.6),
                           layers[2]: LayerLevel(threshold=0.01)})
    x = study.data.x[5:6]
    result = run_firmware(study, config, x)
    host = HostModel(study.graph, x, study.significance, study.granularity).run(config)
    # every approximated layer really skipped something, so the outputs differ from exact
    assert all(study.macs_kept(ApproxConfig({op: lv})) < study.macs_kept(ApproxConfig({}))
               for op, lv in config.layers.items())
    out = study.graph.outputs[0]
    assert np.array_equal(result.outputs[0].reshape(-1), host[out].reshape(-1))
    exact = run_reference(study.graph, [x])
    fc_in = study.graph.operators[layers[2]].outputs[0]
    assert not np.array_equal(host[fc_in], exact[fc_in])


def test_zero_skipping_is_the_exact_model(tmp_path):
    study = tiny_study(tmp_path, "nucleo-f446re")
    config = ApproxConfig({op: LayerLevel(skip=0.0) for op in study.layers})
    x = study.data.x[:1]
    result = run_firmware(study, config, x)
    assert [s.kernel for s in result.layers if s.op_index in study.layers] == ["approx"] * 3
    assert result.reference == "match"  # the firmware's outputs equal the exact reference
    host = HostModel(study.graph, study.data.x, study.significance, study.granularity)
    exact = run_reference(study.graph, [study.data.x])
    for t, v in host.run(config).items():
        assert np.array_equal(v, exact[t])


def test_skipping_lowers_cycles_monotonically_on_a_layer(tmp_path):
    study = tiny_study(tmp_path, "nucleo-f446re")
    op = sorted(study.layers)[1]
    name = next(s.name for s in study.schedule(ApproxConfig({})) if s.op == op)
    cycles = []
    for f in (0.0, 0.4, 0.8):  # 0.0: the same firmware as the zero-skipping test (cached)
        levels = {o: LayerLevel(skip=f if o == op else 0.0) for o in study.layers}
        r = run_firmware(study, ApproxConfig(levels), study.data.x[:1])
        cycles.append(next(s.cycles for s in r.layers if s.name == name))
    assert all(a > b for a, b in zip(cycles, cycles[1:], strict=False)), cycles


def test_masks_follow_significance():
    rng = np.random.default_rng(0)
    sig = LayerSignificance(0, rng.random((4, 9)))
    keep = position_mask(sig, LayerLevel(skip=0.5), 1)
    assert keep.sum() == 36 - 18
    assert sig.positions[~keep].max() <= sig.positions[keep].min()
    for pairing in ("natural", "by_mean"):
        sig.pairing = pairing
        slots = sig.slots()  # 10 slots, one of them the zero pad
        assert sorted(slots) == [-1, *range(9)]
        pairs = unit_keep(sig, LayerLevel(skip=0.4), 2)  # 5 pairs per channel
        assert pairs.shape == (4, 5) and pairs.sum() == 20 - 8
        pm = position_mask(sig, LayerLevel(skip=0.4), 2)
        for j in range(5):  # both positions of a pair are kept or skipped together
            for s in slots[2 * j:2 * j + 2]:
                if s >= 0:
                    assert np.array_equal(pm[:, s], pairs[:, j])
    sig.pairing = "natural"
    thr = position_mask(sig, LayerLevel(threshold=0.5), 1)
    assert np.array_equal(thr, sig.positions >= 0.5)


def test_significance_is_mean_relative_contribution(tmp_path):
    study = tiny_study(tmp_path, "nucleo-f446re")
    layer = study.layers[sorted(study.layers)[2]]  # the FC: one accumulator per output
    x = study.host.inputs_of(layer.op)
    s = layer_significance(layer, x).positions
    c = np.abs(layer.patches(x)[:, 0, :].astype(float))[:, None, :] * np.abs(layer.weights)
    want = (c / c.sum(axis=2, keepdims=True)).mean(axis=0)
    assert np.allclose(s, want)
    assert np.allclose(s.sum(axis=1), 1.0)


def test_pareto_front_is_non_dominated():
    rng = np.random.default_rng(1)
    pts = [Point({"0": float(i)}, int(c), float(a))
           for i, (c, a) in enumerate(zip(rng.integers(100, 200, 60), rng.random(60),
                                           strict=True))]
    pts.append(Point({"0": 99.0}, int(pts[0].latency_cycles), pts[0].accuracy))  # a twin
    front = mark_pareto(pts)
    assert front and all(p.pareto for p in front)
    for p in front:
        assert not any(dominates(q, p) for q in pts)
    for p in pts:
        if not p.pareto:
            assert any(dominates(q, p) for q in front)


class _NoExecutor(cf.Executor):
    def submit(self, *args, **kwargs):
        raise AssertionError("a cached candidate was measured again")


def test_dse_front_and_resume(tmp_path, monkeypatch):
    """A small study (grid: exact, one layer at two levels), then a rerun that finds every
    candidate in the cache and measures nothing."""
    from mcusim.nn.approx import dse

    base = tiny_study(tmp_path, "nucleo-f446re")
    labels = base.exact_top1.copy()
    labels[:4] = (labels[:4] + 1) % 5  # some labels the exact model gets wrong
    study = Study(base.model, "nucleo-f446re", EvalData(base.data.x, labels),
                  layers=[sorted(base.layers)[1]])
    opts = dse.DseOptions(levels=[0.4, 0.8], jobs=2)
    exact, points = dse.run_dse(study, opts, tmp_path / "cache.jsonl")
    # exact, the generated kernel unskipped ("unrolled"), 0.4, 0.8
    assert len(points) == 4 and exact.config == {} and study.metric == "top1"
    unrolled = next(p for p in points if p.source == "unrolled")
    assert unrolled.accuracy == exact.accuracy
    assert exact.accuracy == pytest.approx(20 / 24)
    for p in points:
        if p.pareto:
            assert not any(dominates(q, p) for q in points)
        else:
            assert any(dominates(q, p) for q in points if q.pareto)
    lines = (tmp_path / "cache.jsonl").read_text().splitlines()
    assert len(lines) == 4 and all(json.loads(ln)["value"]["latency_cycles"] for ln in lines)

    class Cached:
        def __enter__(self):
            return _NoExecutor()

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(dse, "make_executor", lambda opts: Cached())
    exact2, points2 = dse.run_dse(study, opts, tmp_path / "cache.jsonl")
    assert [p.latency_cycles for p in points2] == [p.latency_cycles for p in points]


def test_a_scheduler_without_dask_installed_is_a_usage_error(monkeypatch):
    import sys

    from mcusim.base.errors import UsageError
    from mcusim.nn.approx import dse

    monkeypatch.setitem(sys.modules, "distributed", None)  # import fails as if not installed
    with pytest.raises(UsageError, match=r"pip install 'mcusim\[dask\]'"), \
            dse.make_executor(dse.DseOptions(levels=[0.5], scheduler="tcp://127.0.0.1:1")):
        pass


@pytest.mark.skipif(not os.environ.get("MCUSIM_TEST_DASK"),
                    reason="starts a Dask cluster (~30-50 s here): set MCUSIM_TEST_DASK=1")
def test_dse_on_a_dask_cluster(tmp_path):
    """--scheduler: the same candidates measured by a Dask LocalCluster's workers (the
    optional `dask` extra)."""
    distributed = pytest.importorskip("distributed")
    from mcusim.nn.approx import dse

    study = tiny_study(tmp_path, "nucleo-f446re")
    study = Study(study.model, "nucleo-f446re", study.data, layers=[sorted(study.layers)[1]])
    local, _ = dse.run_dse(study, dse.DseOptions(levels=[0.5], jobs=1), tmp_path / "a.jsonl")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        opts = dse.DseOptions(levels=[0.5], scheduler=cluster.scheduler_address)
        exact, points = dse.run_dse(study, opts, tmp_path / "b.jsonl")
    assert exact.latency_cycles == local.latency_cycles  # deterministic, wherever it runs
    assert len(points) == 3 and len((tmp_path / "b.jsonl").read_text().splitlines()) == 3


def test_dse_command_lines_are_never_cut_in_a_pipe(tmp_path, monkeypatch, capsys):
    """Printed to a pipe or a log, the study's closing 'run one: mcusim nn MODEL --board B
    --approx CONFIG' was cut at 80 columns, so the command could not be copied as printed."""
    from mcusim.sim.cli import main

    monkeypatch.setenv("MCUSIM_CACHE", str(tmp_path / "nn-cache"))
    models = Path(__file__).resolve().parents[1] / "nn" / "models"
    out = tmp_path / "a-rather-long-folder-name-for-the-study-output"
    assert main(["dse", str(models / "digits_cnn_int8.tflite"), "--board", "nucleo-f446re",
                 "--data", str(models / "digits_test.npz"), "--levels", "0", "--layers", "0",
                 "--jobs", "1", "--out", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    run_one = [line for line in lines if line.startswith("run one: ")]
    assert run_one == [f"run one: mcusim nn {models / 'digits_cnn_int8.tflite'} --board "
                       f"nucleo-f446re --approx {out / 'best-1pp.json'}"]
    assert any(line.startswith("digits_cnn_int8 on nucleo-f446re: approximating operators [0]")
               and line.endswith("metric top1") for line in lines)
